"""The installed package, end to end: run only by scripts/deb-test.sh, after `dpkg -i`, with
MES_E2E_APP pointing at the installed binary. A new user's first start: where is the database,
who is working, then the registry."""

import os
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.by import By

from conftest import DATABASE_URL, App, reset_database, rows, wait
from test_session import grant_roles, login_role

pytestmark = pytest.mark.skipif(
    os.environ.get("MES_E2E_INSTALLED") != "1", reason="run by scripts/deb-test.sh on the installed package"
)


def test_the_installed_app_signs_in_and_lists_the_machines():
    assert os.environ["MES_E2E_APP"].startswith("/usr/"), "the installed binary"
    db = urlparse(DATABASE_URL)
    reset_database()
    grant_roles()
    user, password = login_role("mes_operator")
    app = App("installed", {"MES_DATABASE_URL": None, "PGHOST": None, "PGDATABASE": None, "PGUSER": None})
    try:
        d = app.start()
        wait(d, 30).until(lambda d: d.find_element(By.ID, "connection-form").is_displayed())
        for element_id, value in (("conn-host", db.hostname), ("conn-port", str(db.port)), ("conn-database", db.path.lstrip("/"))):
            field = d.find_element(By.ID, element_id)
            field.clear()
            field.send_keys(value)
        d.find_element(By.ID, "save-connection").click()
        wait(d, 30).until(lambda d: d.find_element(By.ID, "signin-form").is_displayed())
        d.find_element(By.ID, "signin-user").send_keys(user)
        d.find_element(By.ID, "signin-password").send_keys(password)
        d.find_element(By.ID, "sign-in").click()
        wait(d, 30).until(lambda d: len(rows(d)) == 4)
        assert user in d.find_element(By.ID, "session-user").text
    finally:
        app.close()
