"""Fetching 12r5 from a fake PxWeb (127.0.0.1 only) and the statfin commands."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from etl.statfin import fetch_pxweb, load_statfin_files, plan_queries
from shell.cli import main
from tests.conftest import SHARED_DATA
from tests.fake_pxweb import FakePxWeb, VirtualClock, table_from_file
from trialmon.db import get_engine
from trialmon.errors import TrialmonError

MONTHS = [f"2026M{m:02d}" for m in range(1, 7)]
REAL = SHARED_DATA / "statfin" / "unemployment_register_kunnat_12r5.json"


@pytest.fixture(params=["real", "synthetic"])
def table(request):
    """The fake serves the real 12r5 numbers (when shared data is here) or synthetic ones."""
    if request.param == "real" and not REAL.exists():
        pytest.skip(f"{REAL} not available")
    return table_from_file(REAL if request.param == "real" else None, MONTHS)


def test_queries_are_split_under_the_cell_limit(table, tmp_path):
    per_month = len(table.areas) * len(table.measures)  # 421 x 23 = 9683 (real file)
    limit = 2 * per_month + 5  # two months fit, three do not
    with FakePxWeb(table, max_cells=limit) as fake:
        files = fetch_pxweb("12r5", "2026-02", "2026-06", tmp_path, base_url=fake.base_url,
                            progress=False, max_cells=limit)
    posts = fake.posts(status=None)
    assert [r.status for r in posts] == [200, 200, 200]  # never refused: 2 + 2 + 1 months
    selected = [next(q["selection"]["values"] for q in r.body["query"]
                     if q["code"] == "timeperiod_m") for r in posts]
    assert selected == [["2026M02", "2026M03"], ["2026M04", "2026M05"], ["2026M06"]]
    for r in posts:
        assert r.body["response"] == {"format": "json"}
        assert all(q["selection"]["filter"] == "item" for q in r.body["query"])
    assert len(files) == 3 and all(f.exists() for f in files)
    assert (tmp_path / "12r5.meta.json").exists()


def test_one_month_too_big_is_split_by_its_largest_variable(table):
    metadata = table.metadata()
    per_month = len(table.areas) * len(table.measures)
    queries = plan_queries(metadata, "2026-06", "2026-06", max_cells=per_month // 3)
    areas = [next(q["selection"]["values"] for q in query["query"]
                  if q["code"] == "alue_23_20260101") for query in queries]
    assert len(queries) == 4  # e.g. 421 areas in chunks of 140
    assert sum(areas, []) == table.areas
    assert all(len(a) * len(table.measures) <= per_month // 3 for a in areas)


def test_requests_are_paced_under_the_rate_limit(table, tmp_path):
    """On one virtual clock shared by client and server: exact, no real waiting."""
    calls, window = 3, 1.0
    clock = VirtualClock()
    with FakePxWeb(table, max_calls=calls, window=window, clock=clock) as fake:
        fetch_pxweb("12r5", "2026-01", "2026-06", tmp_path, base_url=fake.base_url,
                    progress=False, max_cells=len(table.areas) * len(table.measures),
                    max_calls=calls, window_seconds=window, clock=clock, sleep=clock.sleep)
    times = [r.at for r in fake.requests]
    assert len(times) == 7  # metadata + 6 months, one month per query
    assert all(r.status == 200 for r in fake.requests)  # the server never had to refuse
    # any `calls` + 1 consecutive requests span more than the window
    assert all(times[i + calls] - times[i] >= window for i in range(len(times) - calls))
    assert times[-1] - times[0] >= 2 * window


def test_429_and_503_are_retried_with_backoff(table, tmp_path):
    with FakePxWeb(table, fail_posts=[429, 503]) as fake:
        files = fetch_pxweb("12r5", "2026-06", None, tmp_path, base_url=fake.base_url,
                            progress=False, backoff=0.2)
    posts = fake.posts(status=None)
    assert [r.status for r in posts] == [429, 503, 200]
    assert posts[1].at - posts[0].at >= 0.2 and posts[2].at - posts[1].at >= 0.4  # doubling
    assert len(files) == 1


def test_giving_up_after_the_retries_is_a_clear_error(table, tmp_path):
    with FakePxWeb(table, always_busy=True) as fake, \
            pytest.raises(TrialmonError, match="HTTP 429"):
        fetch_pxweb("12r5", "2026-06", None, tmp_path, base_url=fake.base_url,
                    progress=False, max_retries=2, backoff=0.05)
    assert len(fake.posts(status=429)) == 3  # the first try and two retries


def test_fetched_files_load_and_hold_the_served_values(table, tmp_path, sqlite_url):
    from shell.pipeline import prepare_database as upgrade

    upgrade(sqlite_url)
    with FakePxWeb(table) as fake:
        files = fetch_pxweb("12r5", "2026-05", "2026-06", tmp_path, base_url=fake.base_url,
                            progress=False)
    report = load_statfin_files(sqlite_url, files)
    assert report.new_months == ["2026-05", "2026-06"]
    with get_engine(sqlite_url).connect() as conn:
        rows = dict(conn.execute(sa.text(
            "select month, value from statfin_value where area_code = 'SSS' "
            "and measure = 'HAKIJALOPUSSA'")).all())
    base = float(table.base[("SSS", "HAKIJALOPUSSA")])  # a number in both tables
    assert rows == {"2026-05": base + 4, "2026-06": base + 5}  # the fake shifts by month index


# ----------------------------------------------------------------------------- CLI


def test_cli_fetch_then_load(table, tmp_path, db):
    runner = CliRunner()
    out = tmp_path / "downloads"
    with FakePxWeb(table) as fake:
        per_month = len(table.areas) * len(table.measures)
        result = runner.invoke(main, ["fetch", "statfin", "--from", "2026-05", "--to", "2026-06",
                                      "--out", str(out), "--base-url", fake.base_url, "-q",
                                      "--max-cells", str(per_month)])
    assert result.exit_code == 0, result.output
    assert "wrote 2 file(s)" in result.output  # one month per query under the limit
    files = sorted(p for p in out.glob("12r5_*.json"))
    result = runner.invoke(main, ["load", "statfin", *map(str, files), "--db", db])
    assert result.exit_code == 0, result.output
    assert "2 new month(s)" in result.output and "public statistics:" in result.output
    with get_engine(db).connect() as conn:
        count = conn.execute(sa.text(
            "select count(*) from indicator_value where indicator like 'stat_%'")).scalar()
    assert count > 0


def test_cli_load_rejects_a_bad_file_with_a_message(tmp_path, sqlite_url):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"columns": [], "data": []}))
    result = CliRunner().invoke(main, ["load", "statfin", str(bad), "--db", sqlite_url])
    assert result.exit_code == 1
    assert "bad.json" in result.output and "nothing was loaded" in result.output


def test_cli_fetch_reports_an_unreachable_server(tmp_path):
    with FakePxWeb(table_from_file(None, MONTHS)) as fake:
        url = fake.base_url
    result = CliRunner().invoke(main, ["fetch", "statfin", "--from", "2026-01", "--out",
                                       str(tmp_path), "--base-url", url, "-q"])
    assert result.exit_code == 1 and "error: PxWeb" in result.output
