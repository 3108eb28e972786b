"""Live updates between two app windows on one database: a status change made in one window shows
in the other within a second, and so does a change by psql; the other window keeps its place
(the focused row) and a form open on the changed machine says it changed."""

import time

from selenium.webdriver.common.keys import Keys

from conftest import App, psql, rows, wait
from test_operator_window import choose_status, focus_row, on_row, press

SCRIPT_STATUS = (
    "const row = [...document.querySelectorAll('#machine-rows tr')]"
    ".find(r => r.querySelector('td.name').textContent.startsWith(arguments[0]));"
    "return row ? row.querySelector(\"select[data-role='status']\").value : null;"
)


def shown_status(driver, name):
    return driver.execute_script(SCRIPT_STATUS, name)


def listening(app):
    """True once the app logged that it listens for changes (its log is in its own home)."""
    import glob

    for log in glob.glob(f"{app.home}/**/*.log*", recursive=True):
        with open(log, errors="replace") as text:
            if "listening for changes by other PCs" in text.read():
                return True
    return False


def test_a_change_in_one_window_shows_in_the_other_within_a_second(app):
    first = app.driver
    second_app = App("live-second")
    try:
        second = second_app.start()
        wait(second, 30).until(lambda d: len(rows(d)) == 4)
        wait(second, 30).until(lambda d: listening(second_app))
        focus_row(second, "CNC-004")

        # A status change in the first window.
        on_row(first, "ROB-002", lambda row: choose_status(row, "Down"))
        wait(first).until(lambda d: psql("SELECT operational_status FROM machines WHERE machine_name = 'ROB-002'") == "Down")
        committed = time.monotonic()
        wait(second, 5).until(lambda d: shown_status(d, "ROB-002") == "Down")
        took = time.monotonic() - committed
        assert took < 1.0, f"shown in the other window after {took:.2f} s"
        wait(second).until(
            lambda d: d.execute_script("return document.querySelector(\".chip[data-status='Down']\").textContent") == "■ 2 Down"
        )
        # The other window kept its place.
        assert second.switch_to.active_element.get_attribute("data-uid") == psql(
            "SELECT uid FROM machines WHERE machine_name = 'CNC-004'"
        )

        # A change by psql shows in both.
        psql("UPDATE machines SET operational_status = 'Maintenance' WHERE machine_name = 'CNC-001'")
        changed = time.monotonic()
        wait(second, 5).until(lambda d: shown_status(d, "CNC-001") == "Maintenance")
        assert time.monotonic() - changed < 1.0
        wait(first, 5).until(lambda d: shown_status(d, "CNC-001") == "Maintenance")

        # A form open on a machine that changes says so.
        focus_row(second, "ASM-003")
        press(second, Keys.ENTER)
        wait(second).until(lambda d: d.find_element("id", "machine-dialog").is_displayed())
        psql("UPDATE machines SET efficiency = 12 WHERE machine_name = 'ASM-003'")
        wait(second, 5).until(lambda d: "changed elsewhere" in d.find_element("id", "live-note").text)
    finally:
        second_app.close()


def test_a_row_status_being_chosen_is_not_redrawn_under_the_operator(app):
    window = app.driver
    wait(window, 30).until(lambda d: listening(app))
    focus_row(window, "ROB-002")
    press(window, "s")
    status = window.switch_to.active_element
    assert status.tag_name == "select"
    # Another change arrives while the operator is choosing: the open select stays.
    psql("UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'CNC-004'")
    time.sleep(1.5)
    assert window.switch_to.active_element == status
    assert status.is_displayed()  # raises if the row was re-drawn under it
    # Once they leave it, the change shows.
    press(window, Keys.TAB)
    wait(window, 5).until(lambda d: shown_status(d, "CNC-004") == "Down")
