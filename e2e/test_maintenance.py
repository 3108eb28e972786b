"""The maintenance plan in the real window: a type's interval makes its machines overdue, a
maintenance recorded in the dialog takes one off the list and lands in its log with the user, a
planned day shows under Planned, an interval set by another tool (psql) is read, and bad input
is refused at the field with nothing changed."""

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains

from conftest import psql, wait


def cells(driver, table_id):
    return driver.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
        ".map(r => [...r.children].map(c => c.textContent))",
        table_id,
    )


def names(driver, table_id):
    return [row[0] for row in cells(driver, table_id) if len(row) > 1]


def click_in_row(driver, table_id, machine, role):
    driver.execute_script(
        "[...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
        ".find(r => r.children[0].textContent === arguments[1])"
        ".querySelector('[data-role=' + arguments[2] + ']').click()",
        table_id,
        machine,
        role,
    )


def open_planner(window):
    window.find_element(By.TAG_NAME, "body").click()
    ActionChains(window).send_keys("p").perform()
    wait(window).until(lambda d: d.find_element(By.ID, "maintenance-summary").is_displayed())


def test_plan_record_and_log_maintenance(window):
    open_planner(window)
    summary = window.find_element(By.ID, "maintenance-summary")
    assert summary.text.startswith("0 overdue"), summary.text
    assert "4 without an interval" in summary.text

    # The planner gives milling machines a 90-day interval: CNC-001 (serviced 2024) is overdue.
    interval = window.find_element(By.CSS_SELECTOR, "#maintenance-types tr[data-type='Milling Machine'] input")
    interval.send_keys("0")
    interval.send_keys(Keys.ENTER)
    problem = window.find_element(By.CSS_SELECTOR, "#maintenance-types tr[data-type='Milling Machine'] .field-error")
    wait(window).until(lambda d: "whole number of days" in problem.text)
    interval = window.find_element(By.CSS_SELECTOR, "#maintenance-types tr[data-type='Milling Machine'] input")
    interval.clear()
    interval.send_keys("90")
    interval.send_keys(Keys.ENTER)
    wait(window).until(lambda d: names(d, "maintenance-due") == ["CNC-001"])
    assert psql("SELECT interval_days FROM maintenance_type_intervals WHERE machine_type = 'Milling Machine'") == "90"

    # Another tool sets a robot interval: read with the next load of the view.
    psql("INSERT INTO maintenance_type_intervals (machine_type, interval_days) VALUES ('Robot Arm', 30)")
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: d.find_element(By.ID, "registry").is_displayed())
    open_planner(window)
    wait(window).until(lambda d: names(d, "maintenance-due") == ["ROB-002", "CNC-001"])

    # Record maintenance done on CNC-001: a future time is refused at the field, then now works.
    click_in_row(window, "maintenance-due", "CNC-001", "record-done")
    dialog = window.find_element(By.ID, "timeline-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    window.execute_script("document.getElementById('record-done-at').value = '2099-01-01T08:00'")
    window.find_element(By.ID, "record-note").send_keys("Spindle bearings replaced")
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    error = window.find_element(By.ID, "record-done-at-error")
    wait(window).until(lambda d: "not happened yet" in error.text)
    assert psql("SELECT count(*) FROM maintenance_log") == "0"
    now_local = window.execute_script(
        "const d = new Date(Date.now() - 60000); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
        "return d.toISOString().slice(0, 16)"
    )
    window.execute_script("document.getElementById('record-done-at').value = arguments[0]", now_local)
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    wait(window).until(lambda d: not dialog.is_displayed())
    wait(window).until(lambda d: names(d, "maintenance-due") == ["ROB-002"])
    toast = window.find_element(By.ID, "toast")
    assert "Maintenance of CNC-001 recorded" in toast.text, toast.text
    # Logged with the note and the database user the window signed in as.
    assert psql("SELECT note FROM maintenance_log") == "Spindle bearings replaced"
    assert psql("SELECT done_by FROM maintenance_log") == psql("SELECT session_user")
    assert psql("SELECT last_maintenance > now() - interval '10 minutes' FROM machines WHERE machine_name = 'CNC-001'") == "t"

    # Its log, from the full list.
    window.find_element(By.CSS_SELECTOR, "#maintenance-all summary").click()
    wait(window).until(lambda d: names(d, "maintenance-every"))  # built when first opened
    click_in_row(window, "maintenance-every", "CNC-001", "log")
    wait(window).until(lambda d: dialog.is_displayed())
    log = wait(window).until(lambda d: cells(d, "maintenance-log"))
    assert log[0][2] == "Spindle bearings replaced", log
    assert log[0][1] != ""
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: not dialog.is_displayed())

    # Plan ROB-002 for a day: it shows under Planned with that day.
    click_in_row(window, "maintenance-due", "ROB-002", "plan")
    wait(window).until(lambda d: dialog.is_displayed())
    window.find_element(By.ID, "plan-interval").send_keys("0.5")
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    interval_error = window.find_element(By.ID, "plan-interval-error")
    wait(window).until(lambda d: "whole number" in interval_error.text)
    window.find_element(By.ID, "plan-interval").clear()
    window.find_element(By.ID, "plan-interval").send_keys("14")
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() + 3 * 86400))
    window.execute_script("document.getElementById('plan-day').value = arguments[0]", day)
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    wait(window).until(lambda d: not dialog.is_displayed())
    wait(window).until(lambda d: names(d, "maintenance-planned") == ["ROB-002"])
    planned = cells(window, "maintenance-planned")[0]
    assert planned[4] == "14 d (own)" and planned[6] == day, planned
    assert psql("SELECT interval_days || ' ' || planned_for FROM maintenance_plans") == f"14 {day}"
