"""The disclosure rule is stored with the computation and stated from there (footer,
Definitions, export, API and bulk metadata), whatever the serving process's setting; a
failed computation leaves nothing recorded, so the next run computes the months."""

from __future__ import annotations

import gzip
import json
import logging

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from dashboard.app import create_app, footer
from dashboard.data import Data
from indicators import provenance
from indicators.bulk import bulk_files
from indicators.export import ExportQuery, export_table
from indicators.registry import INDICATORS
from shell.cli import main
from shell.pipeline import compute_indicators
from tests.test_engine import december, load
from trialmon.db import get_engine
from trialmon.schema import computation, month_status

TYPES = {"area_code": pl.String, "value": pl.Float64, "flag": pl.String}
COUNTS = [i for i, ind in INDICATORS.items() if ind.unit != "percent"]


def published_small_counts(table: pl.DataFrame, upto: int) -> pl.DataFrame:
    """Published count cells with a value from 1 to `upto` (what threshold upto+1 hides)."""
    return table.filter(pl.col("indicator").is_in(COUNTS) & (pl.col("flag").fill_null("") == "")
                        & pl.col("value").is_between(1, upto))


def test_the_stored_threshold_is_stated_whatever_the_serving_setting(db, tmp_path,
                                                                     monkeypatch, caplog):
    load(db, {"2025-12": december(small=True)})
    monkeypatch.setenv("TRIALMON_SUPPRESSION_THRESHOLD", "5")
    compute_indicators(db, None, progress=False)
    monkeypatch.setenv("TRIALMON_SUPPRESSION_THRESHOLD", "11")  # serving/exporting with 11

    written = export_table(db, ExportQuery(area_types=("municipality",)), fmt="csv",
                           out=tmp_path / "x.csv")
    table = pl.read_csv(written[0], schema_overrides=TYPES)
    meta = json.loads(written[1].read_text(encoding="utf-8"))["disclosure_control"]
    assert meta["threshold"] == 5 and "from 1 to 4" in meta["rule"]
    assert meta["method_version"] and meta["computation_id"]
    # the file is consistent with 5, not with 11: nothing from 1 to 4 is published, and
    # the hand-made counts 6 (Mäntyharju) and 10 (Mikkeli) unemployed are (Pertunmaa's 5
    # may be hidden as a complement of Helsinki's 3)
    assert published_small_counts(table, 4).is_empty()
    unemployed = dict(table.filter(pl.col("indicator") == "unemployed", pl.col("population")
                                   == "all", pl.col("group") == "all")
                      .select("area_code", "value").iter_rows())
    assert (unemployed["507"], unemployed["491"]) == (6, 10)
    laid_off = table.filter(pl.col("indicator") == "laid_off", pl.col("area_code") == "091",
                            pl.col("population") == "all", pl.col("group") == "all")
    assert laid_off["flag"].to_list() == ["suppressed"]  # 3 < 5

    caplog.set_level(logging.WARNING, logger="trialmon.provenance")
    # the warning comes once per process and pair of thresholds: forget earlier warnings
    monkeypatch.setattr(provenance, "_warned", set())
    data = Data(db)
    assert "1 to 4" in str(footer("en", data))
    data.disclosure_rule()
    warnings = [r for r in caplog.records if "TRIALMON_SUPPRESSION_THRESHOLD" in r.message]
    assert len(warnings) == 1 and "11" in warnings[0].message and "5" in warnings[0].message

    client = create_app(db).server.test_client()
    api_meta = client.get("/api/v1/indicators?area=091&format=json").get_json()["metadata"]
    assert api_meta["disclosure_control"]["threshold"] == 5
    assert client.get("/api/v1/indicators/meta").get_json()[
        "disclosure_control"]["threshold"] == 5
    bulk = json.loads(bulk_files(db, "en")[1].read_text(encoding="utf-8"))
    assert bulk["disclosure_control"]["threshold"] == 5

    # recomputing is the way to change it: every month is recomputed under 11
    compute_indicators(db, [], progress=False)
    written = export_table(db, ExportQuery(area_types=("municipality",)), fmt="csv",
                           out=tmp_path / "y.csv")
    table = pl.read_csv(written[0], schema_overrides=TYPES)
    assert json.loads(written[1].read_text())["disclosure_control"]["threshold"] == 11
    assert published_small_counts(table, 10).is_empty()
    with gzip.open(bulk_files(db, "en")[0]) as bulk_csv:
        everything = pl.read_csv(bulk_csv.read(), schema_overrides=TYPES)
    assert published_small_counts(everything, 10).is_empty()
    assert "1 to 10" in str(footer("en", Data(db)))


def test_a_failed_computation_is_computed_by_the_next_run(sqlite_url):
    args = ["demo", "--db", sqlite_url, "--scale", "0.002", "--from", "2024-01", "--to",
            "2024-03", "-q"]
    failed = CliRunner().invoke(main, args, env={"TRIALMON_SUPPRESSION_THRESHOLD": "0"})
    # the settings now refuse threshold 0 before anything is written (trialmon.settings):
    # nothing was published or recorded as computed
    assert failed.exit_code != 0 and "at least 2" in failed.output
    with get_engine(sqlite_url).connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        for table in (month_status, computation):
            assert table.name not in tables or conn.execute(
                sa.select(sa.func.count()).select_from(table)).scalar() == 0
    again = CliRunner().invoke(main, args, env={"TRIALMON_SUPPRESSION_THRESHOLD": "5"})
    assert again.exit_code == 0, again.output
    with get_engine(sqlite_url).connect() as conn:
        months = conn.execute(sa.select(month_status.c.month, month_status.c.computation_id)
                              .order_by(month_status.c.month)).all()
    assert [m for m, _ in months] == ["2024-01", "2024-02", "2024-03"]
    assert all(c for _, c in months)


@pytest.mark.parametrize("threshold", ["5"])
def test_an_unchanged_rerun_computes_nothing(sqlite_url, threshold):
    args = ["demo", "--db", sqlite_url, "--scale", "0.002", "--from", "2024-01", "--to",
            "2024-02"]
    env = {"TRIALMON_SUPPRESSION_THRESHOLD": threshold}
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
    with get_engine(sqlite_url).connect() as conn:
        before = conn.execute(sa.select(month_status.c.computation_id)).scalars().all()
    rerun = CliRunner().invoke(main, args, env=env)
    assert rerun.exit_code == 0 and "computed" not in rerun.output
    with get_engine(sqlite_url).connect() as conn:
        assert conn.execute(sa.select(month_status.c.computation_id)).scalars().all() == before
