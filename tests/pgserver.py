"""A throwaway PostgreSQL server on 127.0.0.1 for tests and benchmarks.

Uses the machine's own PostgreSQL binaries (`apt-get install postgresql`): initdb
into a temporary folder, pg_ctl start on a free port, trust authentication, and
everything removed at the end. As root, the server runs as the `postgres` user
(PostgreSQL refuses to run as root). Set TRIALMON_TEST_PG_URL to use an existing
server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def available() -> bool:
    return bool(os.environ.get("TRIALMON_TEST_PG_URL")) or _bindir() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the SQLAlchemy URL (database `postgres`) of a fresh, private server."""
    if url := os.environ.get("TRIALMON_TEST_PG_URL"):
        yield url
        return
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found: apt-get install -y postgresql")
    root = Path(tempfile.mkdtemp(prefix="trialmon-pg-"))
    datadir, sockdir = root / "data", root / "sock"
    sockdir.mkdir()
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for path in (root, sockdir):
            os.chown(path, pg.pw_uid, pg.pw_gid)
    port = _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
        **quiet,
    )
    options = (f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options,
                      "-l", str(root / "server.log"), "-w", "start"]),
        **quiet,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create an empty database on the server (or a copy of ``template``, a database
    nobody is connected to) and return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(False),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template
                                                     else ""))
    return url.set(database=name).render_as_string(hide_password=False)
