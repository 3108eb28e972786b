"""Shift records in the real window: the form works A, P, Q and OEE out as the operator types
and explains each on hover, refuses bad input at the field with nothing kept, and keeps
working offline (the entry waits on the PC and syncs once). The machine's efficiency then
follows the shift's OEE, marked as coming from a shift, and the planner's view shows the
fleet's loss waterfall from the shift records."""

import os
import subprocess

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import psql, wait
from test_operator_window import on_row


def open_shift_form(window, machine):
    on_row(window, machine, lambda row: row.find_element(By.CSS_SELECTOR, "button[data-role='shift']").click())
    dialog = window.find_element(By.ID, "shift-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    return dialog


def figure(window, name):
    return window.find_element(By.ID, f"s-{name}").text


def type_into(dialog, element_id, text):
    field = dialog.find_element(By.ID, element_id)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(text)


def fill_shift(window, dialog):
    """An 8-hour shift that ended at the last full hour: 48 min of breakdown, 400 parts of 60 s,
    40 rejects. A = 90 %, P = 400 ÷ 432 = 92.6 %, Q = 90 %, OEE = 75 %."""
    type_into(dialog, "s-cycle", "60")
    type_into(dialog, "s-total", "400")
    type_into(dialog, "s-production", "40")
    dialog.find_element(By.ID, "s-add-downtime").click()
    row = dialog.find_element(By.ID, "s-downtime-0")
    row.find_element(By.CSS_SELECTOR, "[data-role=minutes]").send_keys("48")
    Select(row.find_element(By.CSS_SELECTOR, "[data-role=reason]")).select_by_index(1)


def test_the_shift_form_figures_live_refuses_bad_input_and_sets_the_efficiency(window):
    # A planner gave the type an ideal cycle time: the form starts from it.
    psql("INSERT INTO ideal_cycle_times (machine_type, ideal_cycle_s) VALUES ('Milling Machine', 55)")
    dialog = open_shift_form(window, "CNC-001")
    assert dialog.find_element(By.ID, "s-cycle").get_attribute("value") == "55"
    fill_shift(window, dialog)
    wait(window).until(lambda d: figure(d, "oee") == "75.0 %")
    assert figure(window, "availability") == "90.0 %"
    assert figure(window, "performance") == "92.6 %"
    assert figure(window, "quality") == "90.0 %"
    # Each figure explains itself on hover, with the shift's numbers.
    explanation = window.find_element(By.ID, "s-availability").find_element(By.XPATH, "..").get_attribute("title")
    assert "432 min ÷ 480 min" in explanation, explanation
    assert window.find_element(By.ID, "shift-waterfall")  # inside "Loss waterfall of this shift"
    if os.environ.get("MES_E2E_SHIFT_SCREENSHOT"):
        window.save_screenshot(os.environ["MES_E2E_SHIFT_SCREENSHOT"])

    # Rejects above the total: refused at the field, figures withdrawn, nothing kept.
    type_into(dialog, "s-production", "500")
    dialog.find_element(By.ID, "s-production").send_keys(Keys.TAB)
    wait(window).until(lambda d: "more than the total" in d.find_element(By.ID, "s-production-error").text)
    assert figure(window, "oee") == "—"
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    wait(window).until(lambda d: "correct" in d.find_element(By.CSS_SELECTOR, "#shift-dialog .form-message").text)
    assert psql("SELECT count(*) FROM shift_records") == "0"

    # Corrected, Enter saves.
    type_into(dialog, "s-production", "40")
    dialog.find_element(By.ID, "s-production").send_keys(Keys.ENTER)
    wait(window).until(lambda d: not dialog.is_displayed())
    assert psql("SELECT count(*), sum(total_count) FROM shift_records") == "1|400"
    assert psql("SELECT efficiency FROM machines WHERE machine_name = 'CNC-001'") == "75"
    cell = lambda d: d.execute_script(
        "return [...document.querySelectorAll('#machine-rows tr')]"
        ".find(r => r.querySelector('td.name').textContent === 'CNC-001')"
        ".children[3].dataset.source"
    )
    wait(window).until(lambda d: cell(d) == "shift")


def test_a_shift_entered_offline_syncs_once_and_shows_in_the_waterfall(window):
    pg = os.environ["MES_E2E_PG_SCRIPT"]
    pill = window.find_element(By.ID, "db-pill")
    # Online once: the reason list is kept on this PC for offline entry.
    dialog = open_shift_form(window, "ROB-002")
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: not dialog.is_displayed())

    subprocess.run([pg, "stop"], check=True)
    try:
        wait(window, 30).until(lambda d: "Offline" in pill.text)
        dialog = open_shift_form(window, "ROB-002")
        assert "Offline" in dialog.text
        fill_shift(window, dialog)
        wait(window).until(lambda d: figure(d, "oee") == "75.0 %")
        dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
        wait(window).until(lambda d: not dialog.is_displayed())
        wait(window).until(lambda d: "1 pending" in pill.text)
    finally:
        subprocess.run([pg, "start"], check=True)
    wait(window, 60).until(lambda d: "Online" in pill.text and "pending" not in pill.text)
    assert psql("SELECT count(*) FROM shift_records") == "1"
    assert psql("SELECT count(*) FROM shift_stops") == "1"
    assert psql("SELECT efficiency FROM machines WHERE machine_name = 'ROB-002'") == "75"

    # The planner's view: the fleet's waterfall from that shift.
    window.find_element(By.TAG_NAME, "body").click()
    ActionChains(window).send_keys("p").perform()
    summary = wait(window, 20).until(lambda d: d.find_element(By.ID, "oee-summary"))
    assert "Fleet OEE 75.0 %" in summary.text, summary.text
    waterfall = window.find_element(By.ID, "oee-waterfall")
    assert waterfall.is_displayed()
    steps = window.execute_script(
        "return [...document.querySelectorAll('#oee-waterfall tbody tr')].map(r => r.children[0].textContent + '=' + r.children[1].textContent)"
    )
    assert steps[0] == "Planned busy time=8 h", steps
    assert steps[-1] == "Fully productive time=6 h", steps
    # The trend (one day at 75 %) and the downtime Pareto (48 min under one reason).
    table_text = lambda d, table_id: d.execute_script(
        "return [...document.querySelectorAll('#' + arguments[0] + ' tbody tr')].map(r => [...r.children].map(c => c.textContent))",
        table_id,
    )
    wait(window, 10).until(lambda d: len(table_text(d, "oee-trend-table")) == 1)
    assert table_text(window, "oee-trend-table")[0][2] == "75.0 %"
    reasons = table_text(window, "pareto-by-reason")
    assert len(reasons) == 1 and reasons[0][3] == "0.8 h" and reasons[0][5] == "100.0 %", reasons
    assert table_text(window, "pareto-by-category")[0][0] in ("Breakdown", "Set-up and adjustment", "Small stops")
    # A planner adds a reason, then retires it (kept for records, no longer offered).
    name = window.find_element(By.ID, "reason-name")
    name.send_keys("Hydraulic leak", Keys.ENTER)
    wait(window).until(lambda d: psql("SELECT count(*) FROM loss_reasons WHERE name = 'Hydraulic leak' AND category = 'breakdown'") == "1")
    retire = lambda d: d.execute_script(
        "const row = document.querySelector('#reasons tr[data-reason=\"Hydraulic leak\"] [data-role=retire-reason]');"
        "if (row) { row.click(); return true; } return false;"
    )
    wait(window).until(retire)
    wait(window).until(lambda d: psql("SELECT retired_at IS NOT NULL FROM loss_reasons WHERE name = 'Hydraulic leak'") == "t")
    if os.environ.get("MES_E2E_WATERFALL_SCREENSHOT"):
        window.execute_script("document.getElementById('oee').scrollIntoView()")
        window.save_screenshot(os.environ["MES_E2E_WATERFALL_SCREENSHOT"])


def test_an_offline_entry_refused_on_sync_is_corrected_and_retried(window):
    pg = os.environ["MES_E2E_PG_SCRIPT"]
    pill = window.find_element(By.ID, "db-pill")
    dialog = open_shift_form(window, "ASM-003")
    ActionChains(window).send_keys(Keys.ESCAPE).perform()
    wait(window).until(lambda d: not dialog.is_displayed())

    subprocess.run([pg, "stop"], check=True)
    try:
        wait(window, 30).until(lambda d: "Offline" in pill.text)
        dialog = open_shift_form(window, "ASM-003")
        fill_shift(window, dialog)
        wait(window).until(lambda d: figure(d, "oee") == "75.0 %")
        dialog.find_element(By.ID, "s-production").send_keys(Keys.ENTER)
        wait(window).until(lambda d: not dialog.is_displayed())
        wait(window).until(lambda d: "1 pending" in pill.text)
    finally:
        subprocess.run([pg, "start"], check=True)
    # Meanwhile another tool recorded the same hours for this machine.
    psql(
        "INSERT INTO shift_records (uid, write_id, machine_uid, machine_name, machine_type, started_at,"
        " ended_at, planned_busy_s, breakdown_s, setup_s, small_stop_s, ideal_cycle_s, total_count,"
        " startup_rejects, production_rejects)"
        " SELECT gen_random_uuid(), gen_random_uuid(), uid, '', '', date_trunc('hour', now()) - interval '8 hours',"
        " date_trunc('hour', now()), 28800, 0, 0, 0, 60, 100, 0, 0 FROM machines WHERE machine_name = 'ASM-003'"
    )
    panel = window.find_element(By.ID, "attention")
    wait(window, 60).until(lambda d: panel.is_displayed() and "Shift record of ASM-003" in panel.text)
    assert psql("SELECT count(*) FROM shift_records") == "1"

    # Edit and retry: the form comes back filled in; moved to the eight hours before, it records.
    # Clicked in one script call: the panel is drawn again whenever the sync status changes.
    wait(window).until(
        lambda d: d.execute_script(
            "const b = document.querySelector('#attention button[data-role=retry]');"
            "if (b) { b.click(); return true; } return false;"
        )
    )
    dialog = window.find_element(By.ID, "shift-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    assert "Not recorded" in dialog.find_element(By.ID, "shift-notice").text
    assert dialog.find_element(By.ID, "s-total").get_attribute("value") == "400"
    assert dialog.find_element(By.CSS_SELECTOR, "#s-downtime-0 [data-role=minutes]").get_attribute("value") == "48"
    window.execute_script(
        """
        const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
        const start = document.getElementById('s-start'), end = document.getElementById('s-end');
        const was = new Date(start.value);
        end.value = local(was);
        start.value = local(new Date(was.getTime() - 8 * 3600000));
        start.dispatchEvent(new Event('input'));
        """
    )
    wait(window).until(lambda d: figure(d, "oee") == "75.0 %")
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    wait(window).until(lambda d: not dialog.is_displayed())
    wait(window, 60).until(lambda d: psql("SELECT count(*) FROM shift_records") == "2")
    wait(window, 30).until(lambda d: not panel.is_displayed())
    assert psql("SELECT count(*) FROM shift_stops") == "1"


def test_stops_by_time_of_day_count_on_the_shifts_days(window):
    dialog = open_shift_form(window, "CNC-004")
    type_into(dialog, "s-cycle", "60")
    type_into(dialog, "s-total", "420")
    dialog.find_element(By.ID, "s-add-planned").click()
    # A break four hours into the shift, typed as times of day (the shift's own days).
    window.execute_script(
        """
        const start = new Date(document.getElementById('s-start').value);
        const hhmm = (d) => d.toTimeString().slice(0, 5);
        const row = document.getElementById('s-planned-0');
        const from = row.querySelector('[data-role=from]'), to = row.querySelector('[data-role=to]');
        from.value = hhmm(new Date(start.getTime() + 4 * 3600000));
        to.value = hhmm(new Date(start.getTime() + 4.5 * 3600000));
        to.dispatchEvent(new Event('input'));
        """
    )
    # 7.5 h planned busy, no downtime: A 100 %, P = 420 min ÷ 450 min.
    wait(window).until(lambda d: figure(d, "performance") == "93.3 %")
    assert figure(window, "availability") == "100.0 %"
    assert figure(window, "oee") == "93.3 %"
    # A stop past the shift's end is refused at its row.
    window.execute_script(
        """
        const end = new Date(document.getElementById('s-end').value);
        const hhmm = (d) => d.toTimeString().slice(0, 5);
        const row = document.getElementById('s-planned-0');
        row.querySelector('[data-role=from]').value = hhmm(new Date(end.getTime() - 1800000));
        const to = row.querySelector('[data-role=to]');
        to.value = hhmm(new Date(end.getTime() + 1800000));
        to.dispatchEvent(new Event('input'));
        """
    )
    dialog.find_element(By.CSS_SELECTOR, "[data-role=save]").click()
    wait(window).until(lambda d: d.find_element(By.CSS_SELECTOR, "#s-planned-0 .field-error").text != "")
    assert psql("SELECT count(*) FROM shift_records") == "0"
