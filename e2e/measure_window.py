"""Measures the real window: time from launch to the first painted table, and resident memory
after load, with 4 machines and with 100,000. Run by `make bench` (under Xvfb).

Launch is timed from the WebDriver "new session" request (which starts the app binary) to the
first animation frame after the table has rendered its rows. Memory is the resident set (RSS) of
the app process and of the WebKit processes it started, read from /proc once the table is shown.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions

RUNS = 5
ROOT = Path(__file__).resolve().parent.parent
PG = ROOT / "scripts" / "local-pg.sh"


def url(db):
    return subprocess.run([PG, "url", db], check=True, capture_output=True, text=True).stdout.strip()


def psql(db, sql):
    subprocess.run(["psql", "-qX", url(db), "-c", sql], check=True, capture_output=True)


def prepare(db, machines):
    psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    psql("postgres", f"CREATE DATABASE {db}")
    env = dict(os.environ, MES_DATABASE_URL=url(db))
    subprocess.run([os.environ["MES_E2E_ADMIN"], "seed" if machines == 4 else "migrate"], check=True, env=env, capture_output=True)
    if machines > 4:
        psql(db, f"""INSERT INTO machines (machine_name, machine_type, operational_status, efficiency, last_maintenance)
            SELECT 'M-' || lpad(g::text, 6, '0'), (ARRAY['Milling Machine','Robot Arm','Lathe','Press'])[1 + g % 4],
                   (ARRAY['Running','Idle','Maintenance','Down'])[1 + g % 4], (g % 1001) / 10.0,
                   timestamptz '2020-01-01' + (g % 2000) * interval '1 day'
            FROM generate_series(1, {machines}) AS g; ANALYZE machines;""")


def pss_kib(pid):
    """Proportional set size: shared library pages divided among the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    """(app RSS, app + descendants RSS, app + descendants PSS), in KiB."""
    total, app, pss = 0, 0, 0
    children = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        children.setdefault(int(fields["PPid"]), []).append((int(fields["Pid"]), fields.get("VmRSS", "0 kB")))
    rss = {p: int(r.split()[0]) for kids in children.values() for p, r in kids}
    stack = [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        pss += pss_kib(current)
        stack.extend(p for p, _ in children.get(current, []))
    app = rss.get(pid, 0)
    return app, total, pss


def find_app_pid():
    out = subprocess.run(["pgrep", "-n", "-f", os.environ["MES_E2E_APP"]], capture_output=True, text=True).stdout
    return int(out.split()[0]) if out.strip() else None


def measure(db, machines, driver_url):
    options = ArgOptions()
    options.set_capability("browserName", "wry")
    options.set_capability("tauri:options", {"application": os.environ["MES_E2E_APP"]})
    home = tempfile.mkdtemp(prefix="mes-measure-")
    os.environ.update(MES_DATABASE_URL=url(db), XDG_CONFIG_HOME=f"{home}/c", XDG_DATA_HOME=f"{home}/d")
    start = time.monotonic()
    session = webdriver.Remote(command_executor=driver_url, options=options)
    try:
        session.set_script_timeout(30)
        session.execute_async_script(
            """const done = arguments[0];
               (function poll() {
                 if (document.body.dataset.loaded === "true") requestAnimationFrame(() => done(true));
                 else setTimeout(poll, 5);
               })();"""
        )
        painted = time.monotonic() - start
        time.sleep(1.0)  # let the first health check and font loading settle
        pid = find_app_pid()
        app, total, pss = rss_kib(pid) if pid else (0, 0, 0)
        rows = session.execute_script("return document.querySelectorAll('#machine-rows tr').length")
        info = session.execute_script("return document.getElementById('page-info').textContent")
    finally:
        session.quit()
    return painted, app, total, pss, rows, info


def main():
    driver_url = "http://127.0.0.1:4444"
    # tauri-driver reads MES_DATABASE_URL etc. from its own environment when it starts the app,
    # so it is started per measurement with the right variables.
    results = []
    for machines, db in [(4, "mes_window_4"), (100_000, "mes_window_100k")]:
        prepare(db, machines)
        launches, apps, totals, psss = [], [], [], []
        for _ in range(RUNS):
            env = dict(os.environ, MES_DATABASE_URL=url(db))
            driver = subprocess.Popen(["tauri-driver"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                for _ in range(100):
                    try:
                        urllib.request.urlopen(f"{driver_url}/status", timeout=1)
                        break
                    except OSError:
                        time.sleep(0.1)
                painted, app, total, pss, rows, info = measure(db, machines, driver_url)
            finally:
                driver.terminate()
                driver.wait(timeout=10)
            launches.append(painted)
            apps.append(app)
            totals.append(total)
            psss.append(pss)
        results.append((machines, launches, apps, totals, psss, rows, info))
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    build = os.environ.get("MES_E2E_BUILD", "debug")
    print(f"\n### The real window ({build} build of the app, Xvfb; {RUNS} launches each)\n")
    print("| machines | launch → first painted table, median s | worst s | app process RSS MiB | app + WebKit processes: RSS MiB | PSS MiB | rows shown | pager |")
    print("|---|---|---|---|---|---|---|---|")
    for machines, launches, apps, totals, psss, rows, info in results:
        print(f"| {machines:,} | {statistics.median(launches):.2f} | {max(launches):.2f} | "
              f"{statistics.median(apps) / 1024:.0f} | {statistics.median(totals) / 1024:.0f} | "
              f"{statistics.median(psss) / 1024:.0f} | {rows} | {info} |")


if __name__ == "__main__":
    sys.exit(main())
