"""Alerts in the real window, on a desktop session with a notification server: a machine set
Down by another tool (psql) shows in the header count, in the alert list (with who did it) and as
a desktop notification; 50 machines going Down at once make one summary notification, not 50;
the settings refuse a bad target and can turn desktop notifications off while the list goes on."""

import glob
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from conftest import App, psql, reset_database, rows, session_bus, wait

HERE = Path(__file__).parent


def notifications(path):
    if not os.path.exists(path):
        return []
    with open(path) as shown:
        return [json.loads(line) for line in shown if line.strip()]


def watch_started(home):
    """True once the app's alert watch has taken its starting position (changes before it are
    history, not alerts)."""
    for cache in glob.glob(f"{home}/**/*-cache.sqlite3", recursive=True):
        try:
            with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1) as db:
                if db.execute("SELECT 1 FROM cache WHERE key = 'alert_watch'").fetchone():
                    return True
        except sqlite3.Error:
            pass
    return False


def alert_rows(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#alert-list tbody tr')]"
        ".map(r => [...r.children].map(c => c.textContent))"
    )


def test_alerts_from_another_tool_reach_the_list_and_the_desktop():
    reset_database()
    bus, address = session_bus()
    shown_path = tempfile.mktemp(prefix="mes-e2e-notifications-")
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fake_notifications.py"), address, shown_path],
        stdout=subprocess.PIPE, text=True,
    )
    assert server.stdout.readline().strip() == "ready"
    app = App("alerts", {"DBUS_SESSION_BUS_ADDRESS": address})
    try:
        window = app.start()
        wait(window, 30).until(lambda d: len(rows(d)) == 4)
        wait(window, 30).until(lambda d: watch_started(app.home))
        button = window.find_element(By.ID, "alerts-toggle")
        assert button.text == "Alerts"

        # Another tool sets a machine Down.
        psql("UPDATE machines SET operational_status = 'Down' WHERE machine_name = 'ASM-003'")
        wait(window, 15).until(lambda d: button.text == "Alerts (1)")
        wait(window, 10).until(lambda d: len(notifications(shown_path)) == 1)
        assert notifications(shown_path)[0] == {"summary": "Machine down", "body": "ASM-003 went Down"}

        # 50 machines go Down at once: one summary notification (after a quiet moment), 50 alerts.
        psql(
            "INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance) "
            "SELECT 'LINE-' || lpad(g::text, 2, '0'), 'Press', 'Running', 90, now() FROM generate_series(1, 50) g"
        )
        psql("UPDATE machines SET operational_status = 'Down' WHERE machine_name LIKE 'LINE-%'")
        wait(window, 15).until(lambda d: button.text == "Alerts (51)")
        wait(window, 20).until(lambda d: len(notifications(shown_path)) == 2)
        summary = notifications(shown_path)[1]
        assert summary["summary"] == "50 new alerts", summary
        assert summary["body"].startswith("50 machines went Down"), summary
        time.sleep(3)
        assert len(notifications(shown_path)) == 2, "no notification per machine"

        # The list (A): newest first, who did it; opening it marks them read.
        window.find_element(By.TAG_NAME, "body").click()
        ActionChains(window).send_keys("a").perform()
        dialog = window.find_element(By.ID, "alerts-dialog")
        wait(window).until(lambda d: dialog.is_displayed() and len(alert_rows(d)) == 51)
        listed = alert_rows(window)
        oldest = listed[-1]
        assert oldest[1:3] == ["Down", "ASM-003 went Down"], oldest
        assert oldest[3].endswith("(psql)"), oldest
        wait(window).until(lambda d: button.text == "Alerts")

        # Settings: a bad target is refused; desktop notifications off, a higher target on.
        target = window.find_element(By.ID, "alert-target")
        target.clear()
        target.send_keys("150")
        window.find_element(By.CSS_SELECTOR, "#alert-settings button[type=submit]").click()
        message = window.find_element(By.CSS_SELECTOR, "#alert-settings .form-message")
        wait(window).until(lambda d: "percentage from 0 to 100" in message.text)
        target.clear()
        target.send_keys("90")
        window.find_element(By.ID, "alert-desktop").click()
        window.find_element(By.CSS_SELECTOR, "#alert-settings button[type=submit]").click()
        wait(window).until(lambda d: message.text.startswith("Saved"))

        # CNC-001 falls from 95 % to 50 %: listed (the dialog is open: it updates), no desktop.
        psql("UPDATE machines SET efficiency = 95 WHERE machine_name = 'CNC-001'")
        psql("UPDATE machines SET efficiency = 50 WHERE machine_name = 'CNC-001'")
        wait(window, 15).until(lambda d: len(alert_rows(d)) == 52)
        newest = alert_rows(window)[0]
        assert newest[1:3] == ["Below target", "CNC-001: efficiency fell to 50 % (target 90 %)"], newest
        time.sleep(11)
        assert len(notifications(shown_path)) == 2, "desktop notifications are off"
    finally:
        app.close()
        server.kill()
        bus.kill()
