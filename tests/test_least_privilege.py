"""Least privilege on SQLite, tested from outside: the serving process never opens the
person-level (microdata) file, and no connection of the serving engine can see it.
(PostgreSQL: the role test in tests/test_db.py.)"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from shell.pipeline import compute_indicators, prepare_database
from tests.test_engine import december, load
from trialmon.db import database, get_engine, sqlite_paths

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["/en/", "/en/explorer?areas=091", "/en/status", "/en/definitions",
         "/api/v1/indicators?indicator=unemployed&format=json",
         "/api/v1/indicators?area=091&format=csv", "/api/v1/areas",
         "/api/v1/indicators/meta", "/api/v1/bulk/trialmon-indicators-en.csv.gz"]


@pytest.fixture
def computed(sqlite_url) -> str:
    """A database with one hand-made month loaded and computed (microdata present)."""
    prepare_database(sqlite_url)
    load(sqlite_url, {"2025-12": december(small=True)})
    compute_indicators(sqlite_url, None, progress=False)
    with sqlite3.connect(sqlite_paths(sqlite_url)[1]) as conn:
        assert conn.execute("SELECT count(*) FROM register_row").fetchone()[0] > 0
    return sqlite_url


def test_no_connection_of_the_serving_engine_lists_the_microdata(computed):
    microdata = sqlite_paths(computed)[1].resolve()
    for _ in range(3):  # NullPool: each checkout is a new connection
        with database(computed).connect_published() as conn:
            files = [Path(r[2]).resolve() for r in conn.exec_driver_sql("PRAGMA database_list")
                     if r[2]]
            assert microdata not in files and [r[1] for r in conn.exec_driver_sql(
                "PRAGMA database_list")] == ["main"]
            with pytest.raises(sa.exc.OperationalError, match="no such table"):
                conn.exec_driver_sql("SELECT count(*) FROM microdata.register_row")
    with get_engine(computed).connect() as conn:  # the loader's engine does see it
        assert microdata in [Path(r[2]).resolve() for r in
                             conn.exec_driver_sql("PRAGMA database_list") if r[2]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process_tree(pid: int) -> set[int]:
    """`pid` and every process descending from it (gunicorn workers included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {pid}, True
    while grew:
        children = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def _open_files(pids: set[int]) -> set[Path]:
    files = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    files.add(Path(os.readlink(fd)))
        except OSError:
            pass
    return files


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return response.status


@pytest.mark.slow
def test_the_server_process_never_opens_the_microdata_file(computed, tmp_path):
    """`python app.py` on a computed database, browsed for a few seconds: its process
    tree never has a descriptor on the microdata file (sampled from /proc/<pid>/fd), and,
    where strace runs, no open() of it in the whole life of the server, start included."""
    published, microdata = (p.resolve() for p in sqlite_paths(computed))
    port = _free_port()
    env = {**os.environ, "TRIALMON_DB_URL": computed, "TRIALMON_PORT": str(port),
           "TRIALMON_HOST": "127.0.0.1"}
    trace = tmp_path / "opens.log"
    strace = shutil.which("strace")
    command = [sys.executable, "app.py"]
    if strace:
        command = [strace, "-f", "-qq", "-e", "trace=open,openat", "-o", str(trace), *command]
    log = tmp_path / "server.log"  # not a pipe: unread, it fills and blocks the server
    with log.open("wb") as sink:
        server = subprocess.Popen(command, cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                _get(base + "/api/v1/areas")
                break
            except OSError:
                assert time.monotonic() - started < 120, "server did not come up in 120 s"
                time.sleep(0.5)
        statuses, stop = [], threading.Event()

        def browse():
            while not stop.is_set():
                statuses.extend(_get(base + page) for page in PAGES)

        walker = threading.Thread(target=browse)
        walker.start()
        seen: set[Path] = set()
        try:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:  # sample the descriptors while it serves
                seen |= _open_files(_process_tree(server.pid))
                time.sleep(0.01)
        finally:
            stop.set()
            walker.join()
        assert statuses and set(statuses) == {200}
        microdata_files = {microdata, *(microdata.with_name(microdata.name + s)
                                        for s in ("-wal", "-shm", "-journal"))}
        assert not seen & microdata_files
    finally:
        for pid in sorted(_process_tree(server.pid) - {server.pid}, reverse=True):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        server.terminate()
        server.wait(timeout=30)
    if strace:
        opened = trace.read_text()
        assert str(published) in opened or published.name in opened  # the trace works
        assert microdata.name not in opened


def test_the_serving_engine_is_reached_only_through_the_database_object():
    """`get_published_engine` is `Database.published`'s implementation: no other module
    (code, bench or test) names it, so every read of the serving side goes through the
    one database object (docs/DEVELOPING.md, "The database object")."""
    import ast

    files = [ROOT / "app.py", *[path for folder in ("trialmon", "etl", "indicators",
                                                  "dashboard", "shell", "bench", "tests")
                                for path in sorted((ROOT / folder).rglob("*.py"))
                                if "vendor" not in path.parts]]
    assert len(files) > 50
    named = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.ImportFrom)
                     else [node.id] if isinstance(node, ast.Name)
                     else [node.attr] if isinstance(node, ast.Attribute) else [])
            if "get_published_engine" in names:
                named.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert named and all(n.startswith("trialmon/db.py:") for n in named), named
