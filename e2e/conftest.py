"""Fixtures for the end-to-end tests: tauri-driver, one app window per session, and a database
reset to the four sample machines before each test."""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).parent / "artifacts"
DATABASE_URL = os.environ["MES_E2E_DATABASE_URL"]


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


@pytest.fixture(scope="session")
def tauri_driver():
    # A private home for the app: its config file, logs and WebKit storage start empty.
    home = tempfile.mkdtemp(prefix="mes-e2e-home-")
    env = dict(
        os.environ,
        MES_DATABASE_URL=DATABASE_URL,
        XDG_CONFIG_HOME=f"{home}/config",
        XDG_DATA_HOME=f"{home}/data",
        XDG_CACHE_HOME=f"{home}/cache",
    )
    port, native_port = free_port(), free_port()
    log = open(ARTIFACTS / "tauri-driver.log", "w")
    process = subprocess.Popen(
        ["tauri-driver", "--port", str(port), "--native-port", str(native_port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/status", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("tauri-driver did not start; see e2e/artifacts/tauri-driver.log")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def new_session(tauri_driver_url):
    """Starts the app binary in a new window and returns the WebDriver session on it."""
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": os.environ["MES_E2E_APP"]})
    session = webdriver.Remote(command_executor=tauri_driver_url, options=options)
    session.implicitly_wait(0)
    return session


def quit_quietly(session):
    """Ends a session whose app may already be dead (a test killed it on purpose)."""
    try:
        session.quit()
    except Exception:  # noqa: BLE001 - the app is gone; nothing to clean up
        pass


@pytest.fixture(scope="session")
def driver(tauri_driver):
    session = new_session(tauri_driver)
    yield session
    quit_quietly(session)


def reset_database():
    psql("TRUNCATE machines, applied_writes RESTART IDENTITY")
    subprocess.run(
        [os.environ["MES_E2E_ADMIN"], "seed"],
        check=True, capture_output=True, env=dict(os.environ, MES_DATABASE_URL=DATABASE_URL),
    )


@pytest.fixture
def window(driver):
    """The app window showing exactly the four sample machines."""
    reset_database()
    driver.refresh()
    wait(driver, 20).until(lambda d: len(rows(d)) == 4)
    return driver


def wait(driver, seconds=10):
    return WebDriverWait(driver, seconds, poll_frequency=0.1)


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#machine-rows tr")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        session = item.funcargs.get("window") or item.funcargs.get("driver")
        if session is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                session.save_screenshot(str(ARTIFACTS / f"{item.name}.png"))
            except Exception:  # noqa: BLE001 - the window may be gone (a test killed it)
                pass
