"""Faults while the production server serves: a register load, the database going away,
a load killed half-way. The server is the real `trialmon serve` (gunicorn) subprocess."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import adbc_driver_postgresql.dbapi as adbc_pg
import adbc_driver_sqlite.dbapi as adbc_sqlite
import polars as pl
import psycopg
import pytest
from sqlalchemy.engine import make_url

from dashboard.data import VERSION_TTL_SECONDS
from etl.demo import write_parquet
from etl.register import load_register_files
from indicators.engine import compute
from shell.pipeline import prepare_database
from tests import pgserver
from tests.serving import ROOT, callback_payload, get, running_server
from tests.test_dashboard_fixture import publish_fixture
from trialmon.db import is_sqlite, sqlite_paths

pytestmark = pytest.mark.slow
KILLS = 10
PYTHON = [sys.executable]
ENV = {"PYTHONPATH": str(ROOT)}


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*PYTHON, "-m", "shell.cli", *args], cwd=ROOT, check=check,
                          env={**os.environ, **ENV}, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    """Tiny synthetic register extracts: a base period and one later month."""
    folder = tmp_path_factory.mktemp("extracts")
    files = {"base": folder / "base.parquet", "next": folder / "next.parquet"}
    write_parquet(files["base"], scale=0.001, start="2024-09", end="2024-11", seed=2021)
    write_parquet(files["next"], scale=0.001, start="2024-12", end="2024-12", seed=7)
    return files


def loaded(url: str, extracts) -> str:
    """`url` prepared, the base extract loaded and computed (as `trialmon load register`)."""
    prepare_database(url)
    report = load_register_files(url, [extracts["base"]], synthetic=True, progress=False)
    compute(url, months=sorted(report.changed_months), progress=False)
    return url


def published_months(base: str) -> list[str]:
    status, _, body = get(base + "/api/v1/indicators?indicator=unemployed&area=SSS"
                                 "&format=json")
    assert status == 200
    return sorted({row["month"] for row in json.loads(body)["data"]})


# ----------------------------------------------------------------- (a) a load while serving
def test_a_load_while_serving_shows_the_new_month_without_a_restart_or_an_error(
        sqlite_url, extracts):
    """On SQLite, where readers and the writer share one file (PostgreSQL: test (b))."""
    url = loaded(sqlite_url, extracts)
    with running_server(url, "--workers", "2", "--threads", "2") as served:
        assert published_months(served.base) == ["2024-09", "2024-10", "2024-11"]
        dependencies = json.loads(get(served.base + "/_dash-dependencies")[2])
        explorer = callback_payload(dependencies, "ex-indicator.value", {
            "ex-indicator.value": "unemployed", "ex-areas.value": ["SSS"],
            "ex-population.value": "all", "ex-group.value": "all", "ex-mode.value": "level",
            "ex-from.value": "all", "ex-to.value": "all", "ex-tab.value": "table",
            "url.pathname": "/en/explorer"})
        answers: list[int] = []
        stop = threading.Event()

        def visitor():
            while not stop.is_set():
                for path in ("/en/explorer", "/readyz", "/api/v1/areas?area_type=country"):
                    answers.append(get(served.base + path)[0])
                answers.append(get(served.base + "/_dash-update-component",
                                   {"Content-Type": "application/json"},
                                   json.dumps(explorer).encode(), "POST")[0])

        visitors = [threading.Thread(target=visitor) for _ in range(3)]
        for thread in visitors:
            thread.start()
        try:
            result = cli("load", "register", str(extracts["next"]), "--synthetic", "-q",
                         "--db", url)
        finally:
            time.sleep(3)  # the data version is rechecked every 2 s
            stop.set()
            for thread in visitors:
                thread.join()
        assert result.returncode == 0
        assert len(answers) > 20 and set(answers) == {200}
        assert published_months(served.base) == ["2024-09", "2024-10", "2024-11", "2024-12"]
        assert "2024-12" in get(served.base + "/_dash-update-component",
                                {"Content-Type": "application/json"},
                                json.dumps(explorer).encode(), "POST")[2].decode()
        pid = served.process.pid
    assert served.process.pid == pid and "Traceback" not in served.log()


# ----------------------------------------------------------------- (b) database down
def _pg_ctl(datadir: str, action: str, options: str = "") -> None:
    command = [str(pgserver._bindir() / "pg_ctl"), "-D", datadir, "-w", action]
    if action == "start":
        command += ["-o", options, "-l", str(Path(datadir).parent / "restart.log")]
    else:
        command += ["-m", "fast"]
    subprocess.run(pgserver._as_postgres(command), check=True, capture_output=True)


def _workers(pid: int) -> list[int]:
    """The gunicorn workers of the master `pid`: its children running `serve` (not, e.g.,
    multiprocessing's resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        if parent == pid and b"serve" in command:
            found.append(int(stat.parent.name))
    return sorted(found)


def test_postgresql_stopped_and_restarted_while_serving(tmp_path):
    if not pgserver.available():
        pytest.skip("PostgreSQL binaries not installed")
    with pgserver.postgres_server() as server_url:
        url = publish_fixture(pgserver.create_database(server_url, "faults_b"))
        with psycopg.connect(make_url(url).set(drivername="postgresql")
                             .render_as_string(False)) as conn:
            port = conn.execute("show port").fetchone()[0]
            sockets = conn.execute("show unix_socket_directories").fetchone()[0]
            datadir = conn.execute("show data_directory").fetchone()[0]
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=200")
        with running_server(url, "--workers", "2", "--threads", "2") as served:
            assert get(served.base + "/readyz")[0] == 200
            assert get(served.base + "/en/explorer")[0] == 200
            _pg_ctl(datadir, "stop")
            # each worker rechecks the database at most every VERSION_TTL_SECONDS (the
            # readiness of pages is that cached check); /readyz always asks afresh
            time.sleep(VERSION_TTL_SECONDS + 0.5)
            status, _, body = get(served.base + "/readyz")
            assert status == 503 and json.loads(body)["reason"].startswith("database unavailable")
            status, headers, page = get(served.base + "/en/explorer")
            assert status == 503 and "Data temporarily unavailable" in page.decode()
            assert headers["Retry-After"].isdigit() and str(port) not in page.decode()
            status, _, body = get(served.base + "/api/v1/indicators?indicator=unemployed"
                                                "&area=SSS&format=json")
            assert status == 503 and json.loads(body)["error"] == "data temporarily unavailable"
            # a worker that dies now is replaced by one that starts without the database
            # (its warm-up fails): the server must stay up and keep answering 503
            worker = _workers(served.process.pid)[0]
            os.kill(worker, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while worker in _workers(served.process.pid) or len(
                    _workers(served.process.pid)) < 2:
                assert time.monotonic() < deadline, "the killed worker was not replaced"
                time.sleep(0.2)
            time.sleep(1)
            assert served.process.poll() is None, served.log()[-2000:]
            assert get(served.base + "/readyz")[0] == 503
            _pg_ctl(datadir, "start", options)
            deadline = time.monotonic() + 30
            while get(served.base + "/readyz")[0] != 200:
                assert time.monotonic() < deadline, "no recovery within 30 s"
                time.sleep(0.5)
            for path in ("/en/explorer", "/api/v1/indicators?indicator=unemployed&area=SSS"):
                assert get(served.base + path)[0] == 200
            assert served.process.poll() is None  # the same server, never restarted
        assert "Traceback" not in served.log()


# ----------------------------------------------------------------- (c) a load killed
def snapshot(url: str) -> dict[str, tuple[int, int]]:
    """Every table of both schemas: (row count, order-free checksum of its full content).
    Read through ADBC into Polars (fast); the checksum is the wrapping sum of the rows'
    hashes, so it does not depend on the order the database returns them in."""
    out = {}
    if is_sqlite(url):
        for path in sqlite_paths(url):
            with adbc_sqlite.connect(str(path)) as conn:
                names = pl.read_database("select name from sqlite_master where type='table'",
                                         conn)["name"].to_list()
                out |= {f"{path.name}:{n}": _checksum(conn, f'"{n}"') for n in names}
        return out
    with adbc_pg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) \
            as conn:
        tables = pl.read_database(
            "select table_schema || '.' || table_name as name from information_schema.tables "
            "where table_schema in ('public', 'microdata')", conn)["name"].to_list()
        return {name: _checksum(conn, name) for name in tables}


def _checksum(conn, table: str) -> tuple[int, int]:
    with conn.cursor() as cursor:
        if isinstance(conn, adbc_sqlite.Connection):  # infer each column's type from all rows
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
        cursor.execute(f"select * from {table}")
        frame = pl.from_arrow(cursor.fetch_arrow_table())
    if frame.is_empty():
        return 0, 0
    return frame.height, int(frame.hash_rows(seed=1).cast(pl.Decimal(38, 0)).sum())


# A load in a process of its own: imports first, then waits for "go" on stdin, so the kill
# points fall inside the load itself and the next process can import meanwhile.
LOAD_ONLY = ("import sys; from etl.register import load_register_files; "
             "print('ready', flush=True); sys.stdin.readline(); "
             "load_register_files(sys.argv[1], [sys.argv[2]], synthetic=True, progress=False); "
             "print('committed', flush=True)")


def ready_load(url: str, extract: Path) -> subprocess.Popen:
    process = subprocess.Popen([*PYTHON, "-c", LOAD_ONLY, url, str(extract)], cwd=ROOT,
                               env={**os.environ, **ENV}, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return process


def go(process: subprocess.Popen) -> float:
    assert process.stdout.readline().strip() == "ready"
    process.stdin.write("go\n")
    process.stdin.flush()
    return time.monotonic()


def calibration_copy(url: str, extracts, tmp_path: Path, number: int) -> str:
    """A copy of the loaded database `url` for a calibration load."""
    if is_sqlite(url):
        copy = tmp_path / f"calibration{number}"
        copy.mkdir()
        for path in sqlite_paths(url):
            shutil.copy(path, copy / path.name)
        return f"sqlite:///{copy / sqlite_paths(url)[0].name}"
    return loaded(pgserver.create_database(
        make_url(url).set(database="postgres").render_as_string(False),
        f"{make_url(url).database}_calibration{number}"), extracts)


def timed_load(url: str, extract: Path) -> float:
    """Seconds from 'go' to the load's commit."""
    calibration = ready_load(url, extract)
    started = go(calibration)
    assert calibration.communicate(timeout=300)[0].strip() == "committed"
    return time.monotonic() - started


def test_a_load_killed_at_random_points_leaves_the_database_exactly_as_before(
        db_url, extracts, tmp_path):
    url = loaded(db_url, extracts)
    pristine = calibration_copy(url, extracts, tmp_path, 0)  # to start again from
    before = snapshot(url)
    assert any(key.endswith("register_row") and "2024" for key in before)
    # how long the load itself (validation, writing, commit) takes here: the faster of
    # two loads on copies (one cold calibration took 0.8 s where the warm loads below
    # committed within 0.45 s, so 60 % of it reached past their commit)
    whole = min(timed_load(calibration_copy(url, extracts, tmp_path, number), extracts["next"])
                for number in (1, 2))
    rng = random.Random(20261203)
    window, landed, late = 0.6, 0, 0
    upcoming = ready_load(url, extracts["next"])
    while landed < KILLS:
        load, upcoming = upcoming, ready_load(url, extracts["next"])
        started = go(load)
        # within the first `window` of the calibrated time: a warm load can be faster than
        # the (cold) calibration, and a kill after the commit tests nothing
        time.sleep(max(0.0, started + rng.uniform(0.0, window) * whole - time.monotonic()))
        load.kill()  # SIGKILL: no handler, no rollback, no cleanup
        if "committed" in load.communicate()[0]:
            # the load finished before the kill (a busy machine's timing): not a kill
            # point at all. Start again from a copy of the loaded database, narrower.
            late += 1
            assert late <= 5, "the kills keep coming after the commit: narrow the window"
            upcoming.kill()
            upcoming.communicate()
            url = calibration_copy(pristine, extracts, tmp_path, 2 + late)
            before, window = snapshot(url), window * 0.6
            upcoming = ready_load(url, extracts["next"])
            continue
        assert snapshot(url) == before
        landed += 1
    upcoming.kill()
    upcoming.communicate()
