"""The first start on an empty database (`python app.py`, shell/pipeline.py).

A server waiting to start gets the Overview's first view first: only the months that
view reads are loaded, its months are published, and the server is told it may start;
the other months follow. The result must be exactly what building the whole demo at
once publishes (no cell published twice with two suppression patterns), and a start
that finds the demo unfinished (the server was stopped meanwhile) must finish it.

The demo's range is narrowed here (12 months, scale 0.002) so that the test is quick;
the real range is exercised by tests/test_end_to_end.py.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard.data import Data
from shell import pipeline
from trialmon import domain
from trialmon.db import database, get_engine, sqlite_paths
from trialmon.months import month_range

KEYS = ["indicator", "population", "group", "area_type", "area_code", "month"]
FIGURES = [*KEYS, "value", "numerator", "denominator", "flag"]
DEMO = list(month_range("2023-09", "2024-08"))


@pytest.fixture
def small_demo(monkeypatch):
    monkeypatch.setenv("TRIALMON_DEMO_SCALE", "0.002")
    monkeypatch.setattr(domain, "DEMO_MONTHS", (DEMO[0], DEMO[-1]))
    monkeypatch.setattr(pipeline, "DEMO_FIRST_VIEW", ("2024-01", "2024-03"))
    monkeypatch.setattr(pipeline, "DEMO_FIRST_LOAD", ("2023-10", "2024-05"))


def published(url: str) -> pl.DataFrame:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text(f"SELECT {', '.join(map(quoted, FIGURES))} "
                                    "FROM indicator_value")).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=FIGURES, orient="row",
                        infer_schema_length=None).sort(KEYS)


def quoted(name: str) -> str:
    return f'"{name}"'


def loaded_months(url: str) -> list[str]:
    with get_engine(url).connect() as conn:
        return sorted(conn.execute(sa.text(
            "SELECT DISTINCT month FROM microdata.vintage")).scalars())


@pytest.mark.slow
def test_the_first_view_comes_first_a_restart_finishes_and_the_whole_equals_one_build(
        tmp_path, small_demo):
    at_once = f"sqlite:///{tmp_path / 'at_once.sqlite'}"
    staged = f"sqlite:///{tmp_path / 'staged.sqlite'}"
    for url in (at_once, staged):
        pipeline.prepare_database(url)
    pipeline.ensure_demo_data(at_once, quiet=True)
    whole = published(at_once)
    assert sorted(whole["month"].unique()) == DEMO

    class Stopped(Exception):
        pass

    seen_when_serving = {}

    def serve_and_stop() -> None:  # the server starts, and is stopped at once
        seen_when_serving["published"] = published(staged)
        seen_when_serving["loaded"] = loaded_months(staged)
        seen_when_serving["notice"] = Data(database(staged)).demo_unfinished()
        raise Stopped

    with pytest.raises(Stopped):
        pipeline.ensure_demo_data(staged, quiet=True, serve_from_here=serve_and_stop)
    first = seen_when_serving["published"]
    # the first view (+ the month before for its interview cohort, after for its flows),
    # from the months it reads only, and already as the whole build publishes them
    view = list(month_range("2023-12", "2024-04"))
    assert sorted(first["month"].unique()) == view
    assert seen_when_serving["loaded"] == list(month_range("2023-10", "2024-05"))
    assert first.equals(whole.filter(pl.col("month").is_in(view)))
    assert pipeline.demo_history_unfinished(staged)
    assert seen_when_serving["notice"]  # the dashboard says the other months are coming

    starts = []  # the next start serves at once and finishes the demo
    pipeline.ensure_demo_data(staged, quiet=True, serve_from_here=lambda: starts.append(1))
    assert starts == [1]
    assert not pipeline.demo_history_unfinished(staged)
    assert not Data(database(staged)).demo_unfinished()
    assert not Data(database(at_once)).demo_unfinished()
    assert published(staged).equals(whole)
    assert loaded_months(staged) == DEMO
    with get_engine(staged).connect() as conn:  # no cell was published twice
        assert conn.exec_driver_sql("SELECT count(*) FROM indicator_value_history").scalar() == 0
    for path in sqlite_paths(staged):  # the finished demo's files are packed
        assert pages(path) <= packed_pages(path, tmp_path / f"packed-{path.name}") + 2


def pages(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA page_count").fetchone()[0]


def packed_pages(path: Path, copy: Path) -> int:
    """The pages of `path` rebuilt packed (SQLite's VACUUM INTO a new file)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM INTO ?", (str(copy),))
    return pages(copy)
