"""Fixtures for the end-to-end tests. Each test gets its own app process in its own home (config,
outbox, logs, WebKit storage), driven through its own tauri-driver, against a database reset to
the four sample machines: no test depends on another or on their order. A test that kills the
app kills the process it started, by its id."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchFrameException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).parent / "artifacts"
DATABASE_URL = os.environ["MES_E2E_DATABASE_URL"]
APP = os.path.realpath(os.environ["MES_E2E_APP"])
# tauri-plugin-single-instance's bus name: the identifier in tauri.conf.json + ".SingleInstance".
SINGLE_INSTANCE_NAME = "com.mes.machine-manager.SingleInstance"


def psql(sql: str) -> str:
    """Runs SQL on the e2e database and returns the unaligned output."""
    result = subprocess.run(
        ["psql", "-qtAX", DATABASE_URL, "-c", sql], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(root: int) -> list[int]:
    """The processes started (directly or not) by process `root`."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class App:
    """One app process in a home of its own, started through its own tauri-driver."""

    def __init__(self, name: str, extra_env: dict | None = None):
        self.name = name
        self.home = tempfile.mkdtemp(prefix="mes-e2e-home-")
        self.driver = None
        env = {
            **os.environ,
            "MES_DATABASE_URL": DATABASE_URL,
            "MES_DB_DEADLINE_SECS": "2",
            "XDG_CONFIG_HOME": f"{self.home}/config",
            "XDG_DATA_HOME": f"{self.home}/data",
            "XDG_CACHE_HOME": f"{self.home}/cache",
            "MES_EXPORT_DIR": f"{self.home}/exports",
            **(extra_env or {}),
        }
        # A value of None in extra_env removes that variable (e.g. to start unconfigured).
        env = {key: value for key, value in env.items() if value is not None}
        self.env = env
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / f"{name}-tauri-driver.log", "w")
        self._spawn_driver()

    def _spawn_driver(self):
        port, native_port = free_port(), free_port()
        self.tauri_driver = subprocess.Popen(
            ["tauri-driver", "--port", str(port), "--native-port", str(native_port)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/status", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or self.tauri_driver.poll() is not None:
                    raise RuntimeError(f"tauri-driver did not start; see {self.log.name}")
                time.sleep(0.2)

    def _stop_driver(self):
        pids = descendants(self.tauri_driver.pid)
        self.tauri_driver.kill()
        self.tauri_driver.wait()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def start(self):
        """Starts the app binary in a new window; `self.driver` is the WebDriver session on it.
        A session that does not open within a minute fails the test instead of hanging it. An app
        that could not open the X display (a rare hiccup of Xvfb right after a kill) is started
        once more, with a fresh tauri-driver, and said so; any other failure is the test's."""
        for attempt in (1, 2):
            self.log.flush()
            seen = os.path.getsize(self.log.name)
            options = ArgOptions()
            options.set_capability("browserName", "wry")
            options.set_capability("tauri:options", {"application": APP})
            try:
                self.driver = webdriver.Remote(
                    command_executor=self.url, options=options,
                    client_config=ClientConfig(remote_server_addr=self.url, timeout=60),
                )
                break
            except Exception:
                self.log.flush()
                with open(self.log.name, errors="replace") as log:
                    log.seek(seen)
                    said = log.read()
                if attempt == 1 and "Failed to initialize GTK" in said:
                    print(f"{self.name}: the app could not open the display; starting it again", flush=True)
                    self._stop_driver()
                    self._spawn_driver()
                    continue
                raise
        self.driver.implicitly_wait(0)
        return self.driver

    def pid(self) -> int:
        """The app process this fixture started."""
        for pid in descendants(self.tauri_driver.pid):
            try:
                if os.path.realpath(f"/proc/{pid}/exe") == APP:
                    return pid
            except OSError:
                continue
        raise RuntimeError("the app process is not running")

    def kill(self):
        """SIGKILL: no chance to flush or clean up."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid, 10)
        self.quit_session()
        self._wait_for_single_instance_release()

    def _wait_for_single_instance_release(self):
        """With a session bus, the app holds a D-Bus name that makes a second start hand over to
        it and exit. The bus frees the name of a killed app a moment after its death: a start in
        that moment would find the name taken and never open a window. Wait until it is free."""
        address = self.env.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            owned = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                 f"string:{SINGLE_INSTANCE_NAME}"],
                env=self.env, capture_output=True, text=True,
            )
            if owned.returncode != 0 or "boolean false" in owned.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError(f"the killed app's {SINGLE_INSTANCE_NAME} is still owned after 10 s")

    def quit_session(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # noqa: BLE001 - the app may be gone already (killed on purpose)
                pass
            self.driver = None

    def close(self):
        pids = [p for p in descendants(self.tauri_driver.pid)]
        self.quit_session()
        self.tauri_driver.terminate()
        try:
            self.tauri_driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.tauri_driver.kill()
        for pid in pids:  # whatever it left behind, ours alone
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.log.close()


def session_bus():
    """A private D-Bus session bus, as a desktop session has: (its process, its address)."""
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, text=True,
    )
    return bus, bus.stdout.readline().strip()


def wait_gone(pid: int, seconds: float) -> bool:
    """Waits until process `pid` has ended (only its exit status may be left for its parent).
    A process that left its parent (the WebDriver ending its session) is still followed."""
    deadline = time.monotonic() + seconds
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return not os.path.exists(f"/proc/{pid}")


def reset_database():
    psql("TRUNCATE machines, applied_writes, maintenance_plans, maintenance_type_intervals RESTART IDENTITY")
    psql("TRUNCATE shift_stops, shift_records, ideal_cycle_times")  # the records' trigger empties the daily sums
    psql("DELETE FROM loss_reasons WHERE NOT built_in")
    # The log is append-only (its trigger refuses even the owner); a replica session skips it.
    psql("SET session_replication_role = replica; DELETE FROM maintenance_log")
    subprocess.run(
        [os.environ["MES_E2E_ADMIN"], "seed"],
        check=True, capture_output=True, env=dict(os.environ, MES_DATABASE_URL=DATABASE_URL),
    )


@pytest.fixture
def app(request):
    """The app, started for this test alone, showing exactly the four sample machines."""
    reset_database()
    started = App(request.node.name)
    try:
        driver = started.start()
        wait(driver, 30).until(lambda d: len(rows(d)) == 4)
        yield started
    finally:
        started.close()


@pytest.fixture
def window(app):
    return app.driver


def wait(driver, seconds=10):
    # The window reloads its page on purpose (after signing in or out): a command that meets the
    # unload is asked again, as are elements of a table drawn again meanwhile.
    return WebDriverWait(
        driver,
        seconds,
        poll_frequency=0.1,
        ignored_exceptions=[NoSuchFrameException, StaleElementReferenceException],
    )


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#machine-rows tr")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        started = item.funcargs.get("app")
        session = started.driver if started is not None else None
        if session is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                session.save_screenshot(str(ARTIFACTS / f"{item.name}.png"))
            except Exception:  # noqa: BLE001 - the window may be gone (a test killed it)
                pass
