"""Shared fixtures: a database URL for each real backend.

`db_url` runs a test twice, once on an embedded SQLite file and once on a fresh
database in a throwaway PostgreSQL server started for the test session. Where
PostgreSQL is not installed the PostgreSQL half is skipped; in CI it must not be
(CI=true makes its absence an error).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from tests import pgserver

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"
SHARED_SPEC = SHARED / "spec"

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url():
    if not pgserver.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI (apt-get install -y postgresql)")
        pytest.skip("PostgreSQL binaries not installed")
    with pgserver.postgres_server() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{(tmp_path / 'trialmon.sqlite').as_posix()}"


@pytest.fixture
def pg_url(pg_server_url, tmp_path, monkeypatch) -> str:
    # bulk download files go beside a SQLite file; on PostgreSQL into a folder of the test
    monkeypatch.setenv("TRIALMON_DOWNLOADS_DIR", str(tmp_path / "downloads"))
    return pgserver.create_database(pg_server_url, f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """An empty database URL on each backend (schema not yet created)."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def db(db_url) -> str:
    """A database URL with the schema and reference areas in place."""
    from shell.pipeline import prepare_database as upgrade

    upgrade(db_url)
    return db_url


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or skip the test when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path
