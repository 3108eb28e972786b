"""The planner's view, end to end: reached with the keyboard, the fleet's efficiency as a median
with the machines below target, and reliability from a status change another tool made."""

import os
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains

from conftest import psql, rows, wait


def cells(driver, table_id):
    return driver.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')]"
        ".map(r => [...r.children].map(c => c.textContent))",
        table_id,
    )


def test_the_planner_view_shows_the_median_the_laggards_and_reliability(window):
    # Another tool stops ROB-002 for a moment, then it runs again.
    psql("UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'ROB-002'")
    time.sleep(1.2)
    psql("UPDATE machines SET operational_status = 'Running' WHERE machine_name = 'ROB-002'")

    window.find_element(By.TAG_NAME, "body").click()
    ActionChains(window).send_keys("p").perform()
    wait(window).until(lambda d: d.find_element(By.ID, "planner").is_displayed())
    assert not window.find_element(By.ID, "registry").is_displayed()
    # The view is drawn once its figures are read (the OEE sums among them).
    median = wait(window, 20).until(lambda d: d.find_element(By.ID, "fleet-median"))
    wait(window).until(lambda d: "Median 81.9 %" in median.text)
    assert "not an average" in median.text
    # The distribution is drawn by uPlot, its table beside it holding the same counts.
    chart = window.find_element(By.CSS_SELECTOR, "#efficiency-histogram-chart")
    assert chart.find_elements(By.CSS_SELECTOR, ".uplot canvas"), "the histogram is drawn"
    assert "table holds the same" in chart.find_element(By.TAG_NAME, "figcaption").text
    below = cells(window, "below-target")
    assert [row[0] for row in below] == ["CNC-004", "ASM-003"], below

    reliability = wait(window).until(lambda d: cells(d, "reliability-by-machine"))
    robot = next(row for row in reliability if row[0] == "ROB-002")
    assert robot[7] == "1", robot  # one Down period, from the other tool's change
    assert robot[6] != "—"
    screenshot = os.environ.get("MES_E2E_PLANNER_SCREENSHOT")
    if screenshot:
        time.sleep(2)  # WebKit under Xvfb paints a moment after the DOM is ready
        window.save_screenshot(screenshot)

    # ROB-002's timeline: Running, Down (the other tool's change), Running again.
    window.execute_script(
        "[...document.querySelectorAll('#reliability-by-machine tbody tr')]"
        ".find(r => r.children[0].textContent === 'ROB-002')"
        ".querySelector('[data-role=timeline]').click()"
    )
    dialog = window.find_element(By.ID, "timeline-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    bands = wait(window).until(lambda d: cells(d, "timeline-bands"))
    assert [band[0] for band in bands][-3:] == ["Idle", "Down", "Running"], bands
    assert bands[-1][2] == "now"
    assert len(dialog.find_elements(By.CSS_SELECTOR, ".timeline-band")) == len(bands)
    assert dialog.find_elements(By.CSS_SELECTOR, "#efficiency-over-time-chart .uplot canvas"), "efficiency over time is drawn"
    assert cells(window, "timeline-efficiency"), "and listed"
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: not dialog.is_displayed())
    assert window.find_element(By.ID, "planner").is_displayed(), "Esc closed the dialog only"

    # A custom range of whole days: a reversed one is refused with its reason, today's is shown.
    from selenium.webdriver.support.ui import Select

    Select(window.find_element(By.ID, "planner-range")).select_by_value("custom")
    today = time.strftime("%Y-%m-%d")
    set_date = "document.getElementById(arguments[0]).value = arguments[1]"
    window.execute_script(set_date, "planner-first", today)
    window.execute_script(set_date, "planner-last", "2000-01-01")
    window.find_element(By.ID, "planner-apply").click()
    problem = window.find_element(By.ID, "planner-range-problem")
    wait(window).until(lambda d: "must not be before" in problem.text)
    window.execute_script(set_date, "planner-last", today)
    window.find_element(By.ID, "planner-apply").click()
    wait(window).until(lambda d: problem.text == "")
    wait(window).until(
        lambda d: next((r for r in cells(d, "reliability-by-machine") if r[0] == "ROB-002"), ["", ""] + [""] * 6)[7] == "1"
    )

    # The range is a control like any other; Esc (or P) returns to the registry.
    window.find_element(By.ID, "fleet-title").click()  # focus out of the date inputs
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: d.find_element(By.ID, "registry").is_displayed())
    wait(window).until(lambda d: len(rows(d)) == 4)
