"""Who is working, end to end: the first-run connection screen, sign-in (a wrong password is
refused, the right one opens the registry with the user and role in the header), what a viewer's
window offers, sign-out, and a config file that never holds a password."""

import glob
import tempfile
import os
import stat
import subprocess
import time
import uuid
from urllib.parse import urlparse

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains

from conftest import DATABASE_URL, App, psql, reset_database, rows, wait

DB = urlparse(DATABASE_URL)


def grant_roles():
    subprocess.run(
        [os.environ["MES_E2E_ADMIN"], "roles"],
        check=True, capture_output=True, env=dict(os.environ, MES_DATABASE_URL=DATABASE_URL),
    )


def login_role(group: str) -> tuple[str, str]:
    """A new login role in `group` (roles are shared by the cluster: a fresh name each time)."""
    name = f"e2e_{group.removeprefix('mes_')}_{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex[:12]}"
    psql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE {group}")
    return name, password


def url_for(user: str, password: str) -> str:
    return f"postgres://{user}:{password}@{DB.hostname}:{DB.port}{DB.path}"


def fill(driver, element_id: str, value: str):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def config_file(app: App) -> str:
    found = glob.glob(f"{app.home}/config/*/config.toml")
    assert len(found) == 1, found
    return found[0]


def visible(driver, element_id: str) -> bool:
    found = driver.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def configure_and_sign_in(driver, user: str, password: str, remember: bool = False):
    """What an administrator's first start looks like: the connection screen, then sign-in."""
    wait(driver, 30).until(lambda d: visible(d, "connection-form"))
    fill(driver, "conn-host", DB.hostname)
    fill(driver, "conn-port", str(DB.port))
    fill(driver, "conn-database", DB.path.lstrip("/"))
    driver.find_element(By.ID, "save-connection").click()
    wait(driver, 30).until(lambda d: visible(d, "signin-form"))
    fill(driver, "signin-user", user)
    fill(driver, "signin-password", password)
    if remember:
        driver.find_element(By.ID, "signin-remember").click()
    driver.find_element(By.ID, "sign-in").click()
    wait(driver, 30).until(lambda d: len(rows(d)) == 4)


def start(name: str, extra_env: dict) -> App:
    reset_database()
    grant_roles()
    app = App(name, extra_env)
    app.start()
    return app


def test_first_run_asks_where_then_who_and_remembers_no_password():
    operator, password = login_role("mes_operator")
    app = start("first-run", {"MES_DATABASE_URL": None, "PGHOST": None, "PGDATABASE": None, "PGUSER": None})
    try:
        d = app.driver
        wait(d, 30).until(lambda d: visible(d, "connection-form"))
        assert "Where is the plant database?" in d.find_element(By.ID, "connection-title").text

        # A port where nothing listens: the test says so, in words.
        fill(d, "conn-host", DB.hostname)
        fill(d, "conn-port", "1")
        fill(d, "conn-database", DB.path.lstrip("/"))
        d.find_element(By.ID, "test-connection").click()
        result = d.find_element(By.ID, "connection-result")
        wait(d, 15).until(lambda d: "cannot reach" in result.text)

        # The right port: the server answers and asks for a user.
        fill(d, "conn-port", str(DB.port))
        d.find_element(By.ID, "test-connection").click()
        wait(d, 15).until(lambda d: "answered" in result.text)
        d.find_element(By.ID, "save-connection").click()

        # Saved (without a password); now: who is working?
        wait(d, 30).until(lambda d: visible(d, "signin-form"))
        fill(d, "signin-user", operator)
        fill(d, "signin-password", "not-the-password")
        d.find_element(By.ID, "sign-in").click()
        message = d.find_element(By.ID, "signin-message")
        wait(d, 15).until(lambda d: "refused" in message.text)

        fill(d, "signin-password", password)
        ActionChains(d).send_keys(Keys.ENTER).perform()
        wait(d, 30).until(lambda d: len(rows(d)) == 4)
        who = d.find_element(By.ID, "session-user").text
        assert operator in who and "operator" in who, who

        text = open(config_file(app)).read()
        assert password not in text and "not-the-password" not in text, text
        assert f"user = \"{operator}\"" in text, text
        assert stat.S_IMODE(os.stat(config_file(app)).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(config_file(app))).st_mode) == 0o700
        assert d.find_elements(By.CSS_SELECTOR, ".config-warning") == []
    finally:
        app.close()


def test_a_viewer_sees_everything_and_is_offered_no_change():
    viewer, password = login_role("mes_viewer")
    app = start("viewer", {"MES_DATABASE_URL": url_for(viewer, password)})
    try:
        d = app.driver
        wait(d, 30).until(lambda d: len(rows(d)) == 4)
        wait(d, 10).until(lambda d: "viewer" in d.find_element(By.ID, "session-user").text)
        assert not d.find_element(By.ID, "new-machine").is_enabled()
        row = rows(d)[0]
        assert not row.find_element(By.CSS_SELECTOR, "[data-role='edit']").is_displayed()
        assert not row.find_element(By.CSS_SELECTOR, "[data-role='delete']").is_displayed()
        assert row.find_element(By.CSS_SELECTOR, "[data-role='history']").is_displayed()
        # The keyboard cannot get round it either: N says why instead of opening the form.
        d.find_element(By.TAG_NAME, "body").click()
        ActionChains(d).send_keys("n").perform()
        toast = d.find_element(By.ID, "toast")
        wait(d).until(lambda d: "may not" in toast.text)
        assert not d.find_element(By.ID, "machine-dialog").is_displayed()
        assert psql("SELECT count(*) FROM machines") == "4"
    finally:
        app.close()


def test_sign_out_asks_again_and_a_restart_does_not_sign_back_in():
    operator, password = login_role("mes_operator")
    env = {"MES_DATABASE_URL": None, "PGHOST": None, "PGDATABASE": None, "PGUSER": None}
    app = start("sign-out", env)
    try:
        d = app.driver
        # Configured as an administrator would (the file holds no user and no password).
        configure_and_sign_in(d, operator, password)

        d.find_element(By.ID, "sign-out").click()
        wait(d, 30).until(lambda d: visible(d, "signin-form"))
        assert d.find_element(By.ID, "signin-user").get_attribute("value") == operator
        assert rows(d) == []
        assert operator not in open(config_file(app)).read()

        # A restart: still nobody signed in.
        app.kill()
        d = app.start()
        wait(d, 30).until(lambda d: visible(d, "signin-form"))
        assert d.find_element(By.ID, "signin-user").get_attribute("value") == ""
    finally:
        app.close()


def test_remember_me_keeps_the_password_in_the_keyring_until_sign_out():
    operator, password = login_role("mes_operator")
    # A desktop session as on an operator's PC: a session bus and an unlocked keyring.
    keyring_home = tempfile.mkdtemp(prefix="mes-e2e-keyring-")
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE, text=True,
    )
    address = bus.stdout.readline().strip()
    keyring_env = dict(
        os.environ, DBUS_SESSION_BUS_ADDRESS=address, HOME=keyring_home,
        XDG_DATA_HOME=f"{keyring_home}/data", XDG_RUNTIME_DIR=keyring_home,
    )
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--unlock", "--foreground", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=keyring_env, text=True,
    )
    daemon.stdin.write("keyring-password")
    daemon.stdin.close()
    owner = f"{operator}@{DB.hostname}:{DB.port}/{DB.path.lstrip('/')}"

    def stored() -> bool:
        found = subprocess.run(
            ["secret-tool", "lookup", "service", "mes-machine-manager", "username", owner],
            env=keyring_env, capture_output=True, text=True,
        )
        return found.returncode == 0 and found.stdout == password

    env = {"MES_DATABASE_URL": None, "PGHOST": None, "PGDATABASE": None, "PGUSER": None,
           "DBUS_SESSION_BUS_ADDRESS": address}
    app = start("remember-me", env)
    try:
        d = app.driver
        configure_and_sign_in(d, operator, password, remember=True)
        assert stored(), "the password is in the keyring"
        assert password not in open(config_file(app)).read()

        # Next start: signed in from the keyring, nothing asked.
        app.kill()
        d = app.start()
        wait(d, 30).until(lambda d: len(rows(d)) == 4)
        assert not visible(d, "signin-form")
        assert operator in d.find_element(By.ID, "session-user").text

        # Sign-out forgets it: the next start asks again.
        d.find_element(By.ID, "sign-out").click()
        wait(d, 30).until(lambda d: visible(d, "signin-form"))
        assert not stored(), "signed out: the keyring no longer holds the password"
        app.kill()
        d = app.start()
        wait(d, 30).until(lambda d: visible(d, "signin-form"))
    finally:
        app.close()
        daemon.kill()
        bus.kill()
        daemon.wait()
        bus.wait()
