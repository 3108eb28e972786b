"""The operator's window, end to end: the real app binary, a real WebKit window, a real database."""

import os
import subprocess
import time

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from urllib3.exceptions import ReadTimeoutError
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import DATABASE_URL, psql, rows, wait

SAMPLES = ["ASM-003", "CNC-001", "CNC-004", "ROB-002"]


def names(driver):
    # One script call reads all names at once: element handles go stale as the table re-renders.
    return driver.execute_script(
        "return [...document.querySelectorAll('#machine-rows td.name')].map(e => e.textContent)"
    )


def on_row(driver, name, action):
    """Does `action(row)` on the machine's row; again if the table re-rendered under it (a sync
    event or a reload can replace the rows at any moment)."""
    for attempt in range(50):
        try:
            row = next(
                r for r in rows(driver) if r.find_element(By.CSS_SELECTOR, "td.name").text.startswith(name)
            )
            return action(row)
        except (StaleElementReferenceException, StopIteration):
            if attempt == 49:
                raise
            time.sleep(0.1)


def choose_status(row, status):
    Select(row.find_element(By.CSS_SELECTOR, "select[data-role='status']")).select_by_value(status)


def focus_row(driver, name):
    """Focuses a machine's row as a click on it or Tab would (a click's centre may land on a control)."""
    uid = driver.execute_script(
        "const row = [...document.querySelectorAll('#machine-rows tr')]"
        ".find(r => r.querySelector('td.name').textContent.startsWith(arguments[0]));"
        "row.focus(); return row.dataset.uid;",
        name,
    )
    wait(driver).until(lambda d: d.switch_to.active_element.get_attribute("data-uid") == uid)


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def set_value(driver, element, value):
    """Sets an input's value as typing would (for date pickers, which take no keystrokes)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        element, value,
    )


def open_new_machine_form(driver):
    press(driver, "n")
    dialog = driver.find_element(By.ID, "machine-dialog")
    wait(driver).until(lambda d: dialog.is_displayed())
    return dialog


def fill_form(dialog, name, machine_type="Press", status="Idle", efficiency="64.5"):
    fields = {"f-name": name, "f-type": machine_type, "f-efficiency": efficiency}
    for field_id, value in fields.items():
        element = dialog.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)
    Select(dialog.find_element(By.ID, "f-status")).select_by_value(status)


def machine_count():
    return int(psql("SELECT count(*) FROM machines"))


def test_the_four_sample_machines_are_shown(window):
    assert names(window) == SAMPLES
    assert window.find_element(By.ID, "page-info").text == "1–4 of 4"
    chips = [c.text for c in window.find_elements(By.CSS_SELECTOR, "#status-filters .chip")]
    assert chips == ["▶ 1 Running", "‖ 1 Idle", "⚙ 1 Maintenance", "■ 1 Down"]
    first = rows(window)[1].text
    assert "Milling Machine" in first and "85.5 %" in first
    wait(window).until(lambda d: "Online" in d.find_element(By.ID, "db-pill").text)
    screenshot = os.environ.get("MES_E2E_SCREENSHOT")
    if screenshot:
        time.sleep(2)  # WebKit under Xvfb paints a moment after the DOM is ready
        window.save_screenshot(screenshot)


def test_create_a_machine_through_the_form_with_the_keyboard(window):
    dialog = open_new_machine_form(window)
    fill_form(dialog, "  PRS-010 ")
    dialog.find_element(By.ID, "f-efficiency").send_keys(Keys.ENTER)  # Enter saves
    wait(window).until(lambda d: not dialog.is_displayed())
    wait(window).until(lambda d: "PRS-010" in names(d))
    stored = psql("SELECT machine_name, machine_type, operational_status, efficiency FROM machines WHERE machine_name = 'PRS-010'")
    assert stored == "PRS-010|Press|Idle|64.5"


def test_sort_and_filter(window):
    header = window.find_element(By.CSS_SELECTOR, "button.sort[data-sort='machine_name']")
    header.click()  # already ascending by name: now descending
    wait(window).until(lambda d: names(d) == list(reversed(SAMPLES)))
    window.find_element(By.CSS_SELECTOR, "button.sort[data-sort='efficiency']").click()
    wait(window).until(lambda d: names(d) == ["CNC-004", "ASM-003", "CNC-001", "ROB-002"])

    window.find_element(By.CSS_SELECTOR, ".chip[data-status='Down']").click()
    wait(window).until(lambda d: names(d) == ["CNC-004"])
    window.find_element(By.CSS_SELECTOR, ".chip[data-status='Down']").click()
    wait(window).until(lambda d: len(names(d)) == 4)

    Select(window.find_element(By.ID, "type-filter")).select_by_value("Robot Arm")
    wait(window).until(lambda d: names(d) == ["ROB-002"])
    Select(window.find_element(By.ID, "type-filter")).select_by_value("")
    wait(window).until(lambda d: len(names(d)) == 4)

    press(window, "/")
    search = window.find_element(By.ID, "search")
    assert window.switch_to.active_element == search
    search.send_keys("cnc")
    wait(window).until(lambda d: sorted(names(d)) == ["CNC-001", "CNC-004"])


def test_change_status_from_the_row(window):
    on_row(window, "ROB-002", lambda row: choose_status(row, "Down"))
    wait(window).until(lambda d: psql("SELECT operational_status FROM machines WHERE machine_name = 'ROB-002'") == "Down")
    wait(window).until(
        lambda d: d.execute_script(
            "return document.querySelector(\".chip[data-status='Down']\").textContent"
        ) == "■ 2 Down"
    )
    shown = on_row(window, "ROB-002", lambda row: Select(row.find_element(By.CSS_SELECTOR, "select")).first_selected_option.get_attribute("value"))
    assert shown == "Down"


def test_bad_efficiency_shows_a_field_error_and_saves_nothing(window):
    before = machine_count()
    dialog = open_new_machine_form(window)
    fill_form(dialog, "BAD-001", efficiency="250")
    dialog.find_element(By.CSS_SELECTOR, "button[data-role='save']").click()
    error = dialog.find_element(By.ID, "f-efficiency-error")
    wait(window).until(lambda d: "0 to 100" in error.text)
    assert dialog.find_element(By.ID, "f-efficiency").get_attribute("aria-invalid") == "true"
    assert dialog.is_displayed()
    assert machine_count() == before
    press(window, Keys.ESCAPE)  # unsaved changes: asks first
    confirm = window.find_element(By.ID, "confirm-dialog")
    wait(window).until(lambda d: confirm.is_displayed())
    confirm.find_element(By.CSS_SELECTOR, "button[data-role='confirm']").click()
    wait(window).until(lambda d: not dialog.is_displayed())
    assert machine_count() == before


def test_duplicate_name_shows_its_error(window):
    before = machine_count()
    dialog = open_new_machine_form(window)
    fill_form(dialog, "cnc-001")
    dialog.find_element(By.CSS_SELECTOR, "button[data-role='save']").click()
    error = dialog.find_element(By.ID, "f-name-error")
    wait(window).until(lambda d: "already named" in error.text)
    assert "cnc-001" in error.text
    assert machine_count() == before


def test_stale_edit_offers_their_values_or_mine(window):
    on_row(window, "ASM-003", lambda row: row.find_element(By.CSS_SELECTOR, "button[data-role='edit']").click())
    dialog = window.find_element(By.ID, "machine-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    psql("UPDATE machines SET efficiency = 11 WHERE machine_name = 'ASM-003'")  # another tool
    efficiency = dialog.find_element(By.ID, "f-efficiency")
    efficiency.clear()
    efficiency.send_keys("55")
    dialog.find_element(By.CSS_SELECTOR, "button[data-role='save']").click()
    keep = wait(window).until(
        lambda d: next(iter(dialog.find_elements(By.CSS_SELECTOR, "button[data-role='keep-mine']")), None)
    )
    assert "changed this machine" in dialog.find_element(By.CSS_SELECTOR, ".form-message").text
    keep.click()
    wait(window).until(lambda d: not dialog.is_displayed())
    assert psql("SELECT efficiency, version FROM machines WHERE machine_name = 'ASM-003'") == "55|3"


def test_delete_a_machine_after_confirmation(window):
    on_row(window, "CNC-004", lambda row: row.find_element(By.CSS_SELECTOR, "button[data-role='delete']").click())
    confirm = window.find_element(By.ID, "confirm-dialog")
    wait(window).until(lambda d: confirm.is_displayed())
    assert "CNC-004" in confirm.text
    confirm.find_element(By.CSS_SELECTOR, "button[data-role='confirm']").click()
    wait(window).until(lambda d: names(d) == ["ASM-003", "CNC-001", "ROB-002"])
    assert psql("SELECT count(*) FROM machines WHERE machine_name = 'CNC-004'") == "0"


def test_database_stopped_then_back_the_window_says_so_and_recovers(window):
    pg = os.environ["MES_E2E_PG_SCRIPT"]
    pill = window.find_element(By.ID, "db-pill")
    subprocess.run([pg, "stop"], check=True)
    try:
        wait(window, 30).until(lambda d: "Offline" in pill.text)
        banner = window.find_element(By.ID, "banner")
        # The banner follows the pill once the database's status call has answered.
        wait(window).until(lambda d: banner.is_displayed() and "unreachable" in banner.text)
        assert names(window) == SAMPLES, "the last loaded list stays visible"
    finally:
        subprocess.run([pg, "start"], check=True)
    wait(window, 40).until(lambda d: "Online" in pill.text)
    wait(window).until(lambda d: not d.find_element(By.ID, "banner").is_displayed())
    on_row(window, "CNC-001", lambda row: choose_status(row, "Idle"))
    wait(window).until(lambda d: psql("SELECT operational_status FROM machines WHERE machine_name = 'CNC-001'") == "Idle")


def test_theme_follows_the_os_and_can_be_switched(window):
    html = window.find_element(By.TAG_NAME, "html")
    toggle = window.find_element(By.ID, "theme-toggle")
    assert toggle.text == "Theme: system"
    background = lambda: window.execute_script("return getComputedStyle(document.body).backgroundColor")
    seen = {}
    for expected in ["light", "dark"]:
        toggle.click()
        assert toggle.text == f"Theme: {expected}"
        assert html.get_attribute("data-theme") == expected
        seen[expected] = background()
    assert seen["light"] != seen["dark"]
    if os.environ.get("MES_E2E_DARK_SCREENSHOT"):
        window.save_screenshot(os.environ["MES_E2E_DARK_SCREENSHOT"])
    toggle.click()  # back to following the OS (light under Xvfb)
    assert toggle.text == "Theme: system"
    assert html.get_attribute("data-theme") == "light"



def test_an_offline_edit_that_conflicts_needs_attention_then_retries(window):
    pg = os.environ["MES_E2E_PG_SCRIPT"]
    pill = window.find_element(By.ID, "db-pill")
    # Another tool changes ASM-003 (version 2) while the window still shows version 1.
    psql("UPDATE machines SET efficiency = 11 WHERE machine_name = 'ASM-003'")
    subprocess.run([pg, "stop"], check=True)
    try:
        wait(window, 30).until(lambda d: "Offline" in pill.text)
        on_row(window, "ASM-003", lambda row: row.find_element(By.CSS_SELECTOR, "button[data-role='edit']").click())
        dialog = window.find_element(By.ID, "machine-dialog")
        wait(window).until(lambda d: dialog.is_displayed())
        efficiency = dialog.find_element(By.ID, "f-efficiency")
        efficiency.clear()
        efficiency.send_keys("66", Keys.ENTER)
        wait(window).until(lambda d: not dialog.is_displayed())
        wait(window).until(lambda d: "1 pending" in pill.text)
    finally:
        subprocess.run([pg, "start"], check=True)
    panel = window.find_element(By.ID, "attention")
    wait(window, 60).until(lambda d: panel.is_displayed() and "someone else changed it" in panel.text)
    assert "1 need attention" in pill.text
    assert psql("SELECT efficiency FROM machines WHERE machine_name = 'ASM-003'") == "11", "theirs kept"

    # Clicked in one script call: the panel is drawn again whenever the sync status changes.
    wait(window).until(
        lambda d: d.execute_script(
            "const b = document.querySelector('#attention button[data-role=retry]');"
            "if (b) { b.click(); return true; } return false;"
        )
    )
    dialog = window.find_element(By.ID, "machine-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    assert "Their values" in dialog.find_element(By.CSS_SELECTOR, ".form-message").text
    assert dialog.find_element(By.ID, "f-efficiency").get_attribute("value") == "66"
    dialog.find_element(By.CSS_SELECTOR, "button[data-role='save']").click()
    wait(window, 30).until(lambda d: psql("SELECT efficiency FROM machines WHERE machine_name = 'ASM-003'") == "66")
    wait(window, 30).until(lambda d: not panel.is_displayed())


def test_offline_entry_survives_a_kill_and_syncs_once(app):
    window = app.driver
    pg = os.environ["MES_E2E_PG_SCRIPT"]
    pill = window.find_element(By.ID, "db-pill")
    subprocess.run([pg, "stop"], check=True)
    session = None
    try:
        wait(window, 30).until(lambda d: "Offline" in pill.text)

        dialog = open_new_machine_form(window)
        fill_form(dialog, "OFF-001", efficiency="40")
        dialog.find_element(By.ID, "f-efficiency").send_keys(Keys.ENTER)
        wait(window).until(lambda d: not dialog.is_displayed())
        wait(window).until(lambda d: "pending sync" in d.find_element(By.ID, "toast").text)
        wait(window).until(lambda d: names(d)[0] == "OFF-001")
        assert rows(window)[0].get_attribute("data-mark") == "pending"

        # Edit the machine created offline: it stays one create.
        rows(window)[0].find_element(By.CSS_SELECTOR, "button[data-role='edit']").click()
        dialog = window.find_element(By.ID, "machine-dialog")
        wait(window).until(lambda d: dialog.is_displayed())
        efficiency = dialog.find_element(By.ID, "f-efficiency")
        efficiency.clear()
        efficiency.send_keys("45.5", Keys.ENTER)
        wait(window).until(lambda d: not dialog.is_displayed())

        on_row(window, "ROB-002", lambda row: choose_status(row, "Down"))
        wait(window).until(lambda d: "2 pending" in pill.text)

        # SIGKILL of the app process this test started: no chance to flush or clean up.
        app.kill()

        session = app.start()
        pill = wait(session, 20).until(lambda d: d.find_element(By.ID, "db-pill"))
        wait(session, 30).until(lambda d: "Offline" in pill.text and "2 pending" in pill.text)
        wait(session, 20).until(lambda d: "OFF-001" in names(d))
        assert "as it was at" in session.find_element(By.ID, "cached-note").text

        # Offline, the whole fleet can be searched, not only the page last seen; the machine
        # created offline shows only when it matches.
        search = session.find_element(By.ID, "search")
        search.send_keys("rob")
        wait(session).until(lambda d: names(d) == ["ROB-002"])
        assert rows(session)[0].get_attribute("data-mark") == "pending"
        search.send_keys(Keys.CONTROL, "a")
        search.send_keys(Keys.BACKSPACE)
        wait(session).until(lambda d: names(d)[0] == "OFF-001" and len(names(d)) == 5)
    finally:
        subprocess.run([pg, "start"], check=True)
    wait(session, 60).until(lambda d: "Online" in pill.text and "pending" not in pill.text)
    assert psql("SELECT count(*), min(efficiency) FROM machines WHERE machine_name = 'OFF-001'") == "1|45.5"
    assert psql("SELECT operational_status FROM machines WHERE machine_name = 'ROB-002'") == "Down"
    assert psql("SELECT count(*) FROM machines") == "5"
    assert "Last sync" in session.find_element(By.ID, "last-sync").text
    wait(session).until(lambda d: "OFF-001" in names(d))
    wait(session).until(
        lambda d: d.execute_script("return document.querySelectorAll('#machine-rows tr[data-mark]').length") == 0
    )



def test_rows_are_worked_with_the_keyboard(window):
    focus_row(window, "ASM-003")
    press(window, Keys.ARROW_DOWN)  # CNC-001
    assert window.switch_to.active_element.get_attribute("data-uid") == rows(window)[1].get_attribute("data-uid")
    press(window, Keys.ENTER)  # edit the active row
    dialog = window.find_element(By.ID, "machine-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    assert dialog.find_element(By.ID, "f-name").get_attribute("value") == "CNC-001"
    efficiency = dialog.find_element(By.ID, "f-efficiency")
    efficiency.clear()
    efficiency.send_keys("71", Keys.ENTER)
    wait(window).until(lambda d: not dialog.is_displayed())
    wait(window).until(lambda d: psql("SELECT efficiency FROM machines WHERE machine_name = 'CNC-001'") == "71")

    # S: the active row's status, changed with the arrow keys.
    wait(window).until(lambda d: d.switch_to.active_element.tag_name == "tr")
    press(window, "s")
    status = window.switch_to.active_element
    assert status.tag_name == "select"
    Select(status).select_by_value("Maintenance")
    wait(window).until(lambda d: psql("SELECT operational_status FROM machines WHERE machine_name = 'CNC-001'") == "Maintenance")

    # Delete: asks, names the machine, and deletes on confirmation.
    wait(window).until(lambda d: "CNC-001" in names(d))
    focus_row(window, "CNC-004")
    press(window, Keys.DELETE)
    confirm = window.find_element(By.ID, "confirm-dialog")
    wait(window).until(lambda d: confirm.is_displayed())
    assert "CNC-004" in confirm.text
    confirm.find_element(By.CSS_SELECTOR, "button[data-role='confirm']").click()
    wait(window).until(lambda d: "CNC-004" not in names(d))
    assert psql("SELECT count(*) FROM machines WHERE machine_name = 'CNC-004'") == "0"


def test_paging_through_more_than_a_page(window):
    psql(
        "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) "
        "SELECT format('PG-%s', lpad(i::text, 3, '0')), 'Press', 'Idle', 50, now() FROM generate_series(1, 250) i"
    )
    window.refresh()
    info = lambda d: d.find_element(By.ID, "page-info").text
    wait(window, 20).until(lambda d: info(d) == "1–100 of 254")
    # Next and Previous go by the rows shown (keyset): the same pages as by offset.
    window.find_element(By.ID, "next-page").click()
    wait(window).until(lambda d: info(d) == "101–200 of 254")
    assert names(window)[0] == "PG-098" and names(window)[-1] == "PG-197"
    window.find_element(By.ID, "next-page").click()
    wait(window).until(lambda d: info(d) == "201–254 of 254")
    assert len(rows(window)) == 54
    assert window.find_element(By.ID, "next-page").get_attribute("disabled") is not None
    # PageUp from a row goes back a page.
    focus_row(window, "PG-220")
    press(window, Keys.PAGE_UP)
    wait(window).until(lambda d: info(d) == "101–200 of 254")
    assert names(window)[0] == "PG-098" and names(window)[-1] == "PG-197"
    window.find_element(By.ID, "prev-page").click()
    wait(window).until(lambda d: info(d) == "1–100 of 254")
    assert names(window)[0] == "ASM-003"


def test_a_row_another_tool_stored_with_an_infinite_date_is_shown_marked(window):
    # Only possible where the rule is not in force (a database adopted with such rows).
    psql("ALTER TABLE machines DROP CONSTRAINT machines_last_maintenance_sane")
    try:
        psql(
            "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) "
            "VALUES ('ODD-001', 'Press', 'Idle', 50, 'infinity')"
        )
        window.refresh()
        wait(window, 20).until(lambda d: "ODD-001 ⚠" in names(d))
        problem, title, text = on_row(
            window, "ODD-001", lambda row: (row.get_attribute("data-problem"), row.get_attribute("title"), row.text)
        )
        assert problem == "true"
        assert "infinity" in title
        assert "not a date" in text
        assert len(rows(window)) == 5, "the other machines are shown as usual"
        assert "Online" in window.find_element(By.ID, "db-pill").text
    finally:
        psql("DELETE FROM machines WHERE machine_name = 'ODD-001'")
        psql(
            "ALTER TABLE machines ADD CONSTRAINT machines_last_maintenance_sane CHECK ("
            "last_maintenance >= '1900-01-01 00:00:00+00' AND last_maintenance < '2200-01-01 00:00:00+00')"
        )


def test_a_second_launch_focuses_the_first_window_and_ends():
    from conftest import App, reset_database, session_bus

    reset_database()
    # A desktop session's bus, which the single-instance handover goes through on Linux.
    bus, address = session_bus()
    first = App("single-instance", {"DBUS_SESSION_BUS_ADDRESS": address})
    try:
        window = first.start()
        wait(window, 30).until(lambda d: len(rows(d)) == 4)
        second = subprocess.Popen([os.environ["MES_E2E_APP"]], env=first.env)
        assert second.wait(timeout=20) == 0, "the second launch ends, handing over to the first"
        # The first window goes on working.
        dialog = open_new_machine_form(window)
        fill_form(dialog, "ONE-001")
        dialog.find_element(By.ID, "f-efficiency").send_keys(Keys.ENTER)
        wait(window).until(lambda d: "ONE-001" in names(d))
        assert first.pid() != second.pid
    finally:
        first.close()
        bus.kill()
        bus.wait()


def test_a_machines_history_shows_who_changed_what_including_other_tools(window):
    on_row(window, "ROB-002", lambda row: choose_status(row, "Down"))
    wait(window).until(lambda d: psql("SELECT operational_status FROM machines WHERE machine_name = 'ROB-002'") == "Down")
    subprocess.run(
        ["psql", "-qtAX", DATABASE_URL, "-c", "UPDATE machines SET efficiency = 33 WHERE machine_name = 'ROB-002'"],
        check=True, capture_output=True, env=dict(os.environ, PGAPPNAME="psql"),
    )
    focus_row(window, "ROB-002")
    press(window, "h")
    dialog = window.find_element(By.ID, "history-dialog")
    wait(window).until(lambda d: dialog.is_displayed())
    entries = [r.text for r in dialog.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert len(entries) == 3, entries
    assert "psql" in entries[0] and "Efficiency: 92 → 33" in entries[0]
    assert "(this app)" in entries[1] and "Status: Idle → Down" in entries[1]
    assert "Created" in entries[2]
    press(window, Keys.ESCAPE)
    wait(window).until(lambda d: not dialog.is_displayed())


def test_the_window_reopens_as_large_as_it_was_left():
    from conftest import App, reset_database, wait_gone

    reset_database()
    app = App("window-state")
    try:
        d = app.start()
        wait(d, 30).until(lambda d: len(rows(d)) == 4)
        try:
            d.set_window_rect(width=1000, height=640)
        except (TimeoutException, ReadTimeoutError):
            # WebKitWebDriver sometimes never answers a resize under Xvfb (CI met it once, the
            # window resized or not): the same window is asked again.
            d.set_window_rect(width=1000, height=640)
        wait(d).until(lambda d: d.get_window_rect()["width"] == 1000)
        # Saved once the resize settled: even an app that is then killed (not closed, which
        # saves too) reopens so.
        time.sleep(1)
        pid = app.pid()
        d.close()
        # Followed by its process id: once its session ends the app is no longer the driver's
        # child, and a start before it has ended would find its outbox still in use.
        assert wait_gone(pid, 20), "the app did not end when its window closed"
        app.quit_session()
        d = app.start()
        wait(d, 30).until(lambda d: len(rows(d)) == 4)
        rect = d.get_window_rect()
        assert (rect["width"], rect["height"]) == (1000, 640), rect
    finally:
        app.close()
