"""Export and import in the real window: the list as filtered exports every matching machine as
CSV and XLSX, a machine's history exports from its dialog, and a CSV import reports every bad
row (nothing changed), then imports all the machines at once."""

import os

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains

from conftest import psql, rows, wait


def toast_text(driver):
    return driver.find_element(By.ID, "toast").text


def exported(app, suffix):
    folder = os.path.join(app.home, "exports")
    return sorted(
        os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(suffix)
    ) if os.path.isdir(folder) else []


def set_text(driver, element_id, text):
    driver.execute_script(
        "const t = document.getElementById(arguments[0]); t.value = arguments[1];"
        "t.dispatchEvent(new Event('input'))",
        element_id,
        text,
    )


def test_export_the_filtered_list_and_a_history_then_import_machines(app):
    window = app.driver
    window.find_element(By.ID, "search").send_keys("cnc")
    wait(window).until(lambda d: len(rows(d)) == 2)

    window.find_element(By.CSS_SELECTOR, ".toolbar [data-role=export-csv]").click()
    wait(window).until(lambda d: "2 rows written to" in toast_text(d))
    [csv_file] = exported(app, ".csv")
    lines = open(csv_file, encoding="utf-8").read().splitlines()
    assert lines[0].startswith("machine_name,machine_type,operational_status,efficiency,last_maintenance")
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["CNC-001", "CNC-004"]
    window.find_element(By.CSS_SELECTOR, ".toolbar [data-role=export-xlsx]").click()
    wait(window).until(lambda d: exported(app, ".xlsx"))
    with open(exported(app, ".xlsx")[0], "rb") as workbook:
        assert workbook.read(2) == b"PK"

    # A machine's history, from its dialog (H on the selected row).
    window.find_element(By.ID, "search").clear()
    window.find_element(By.ID, "search").send_keys(Keys.ESCAPE)
    wait(window).until(lambda d: len(rows(d)) == 4)
    window.execute_script(
        "[...document.querySelectorAll('#machine-rows tr')]"
        ".find(r => r.querySelector('td.name').textContent.startsWith('ROB-002')).focus()"
    )
    ActionChains(window).send_keys("h").perform()
    history = window.find_element(By.ID, "history-dialog")
    wait(window).until(lambda d: history.is_displayed())
    history.find_element(By.CSS_SELECTOR, "[data-role=export-csv]").click()
    wait(window).until(lambda d: any("history-" in path for path in exported(app, ".csv")))
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: not history.is_displayed())

    # Import: every bad row is reported with its line, and nothing is created.
    window.find_element(By.ID, "import-machines").click()
    dialog = window.find_element(By.ID, "import-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    header = "machine_name,machine_type,operational_status,efficiency,last_maintenance\n"
    set_text(window, "import-text", header
             + "PRS-010,Press,Running,80,2024-02-01T06:00:00Z\n"
             + "cnc-001,Press,Idle,70,2024-02-01T06:00:00Z\n"
             + "PRS-011,Press,Exploded,70,2024-02-01T06:00:00Z\n")
    dialog.find_element(By.CSS_SELECTOR, "[data-role=check]").click()
    problems = wait(window).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#import-problems tbody tr"))
    found = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")][:2] for row in problems]
    assert found == [["3", "machine_name"], ["4", "operational_status"]], found
    assert dialog.find_element(By.CSS_SELECTOR, "[data-role=import]").get_attribute("disabled") is not None
    assert psql("SELECT count(*) FROM machines") == "4"

    # Corrected: checked clean, then imported all at once.
    set_text(window, "import-text", header
             + "PRS-010,Press,Running,80,2024-02-01T06:00:00Z\n"
             + "PRS-011,Press,Idle,70,2024-02-01T06:00:00Z\n")
    dialog.find_element(By.CSS_SELECTOR, "[data-role=check]").click()
    apply = dialog.find_element(By.CSS_SELECTOR, "[data-role=import]")
    wait(window).until(lambda d: apply.text == "Import 2 machines")
    apply.click()
    wait(window).until(lambda d: "Imported 2 machines" in d.execute_script(
        "return (document.getElementById('import-summary') || {}).textContent || ''"))
    assert psql("SELECT count(*) FROM machines WHERE machine_type = 'Press'") == "2"
    dialog.find_element(By.CSS_SELECTOR, "[data-role=close]").click()
    wait(window).until(lambda d: len(rows(d)) == 6)
