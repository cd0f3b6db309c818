"""Exports: formats round-trip, metadata, filters, languages, protection, bad queries."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from click.testing import CliRunner

from indicators.engine import compute
from indicators.export import (
    COLUMNS,
    ExportQuery,
    export_metadata,
    export_table,
    query_table,
    render,
)
from indicators.provenance import published_rule
from shell.cli import main
from tests.test_engine import december, load
from trialmon.errors import TrialmonError


@pytest.fixture
def loaded(db):
    """2025-12 hand extract (see tests.test_engine.december): Helsinki laid_off = 3."""
    load(db, {"2025-12": december(small=True)})
    compute(db, None, progress=False)
    return db


def test_table_has_the_export_columns_and_filters(db):
    load(db, {"2025-12": december()})  # nothing suppressed in this one
    compute(db, None, progress=False)
    loaded = db
    query = ExportQuery(indicators=("jobseekers", "unemployed_share"), area_types=("trial_area",),
                        areas=("TA12",), populations=("all",), groups=("all",),
                        start="2025-12", end="2025-12")
    table = query_table(loaded, query)
    assert table.columns == COLUMNS
    # one trial area x one population x one group x two indicators x one month
    assert table.height == 2
    row = table.filter(pl.col("indicator") == "jobseekers").row(0, named=True)
    assert row["value"] == 55 and row["area_name"] == "Mikkeli region"
    assert row["flag"] == "" and row["synthetic"] is False
    assert row["vintage"].endswith("Z") and row["vintage"][:2] == "20"
    assert table.filter(pl.col("indicator") == "unemployed_share")["value"][0] == pytest.approx(
        100 * 21 / 55)
    assert query_table(loaded, ExportQuery(start="2026-01")).height == 0


def test_area_names_follow_the_language(loaded):
    def name(lang):
        table = query_table(loaded, ExportQuery(areas=("TA12",), indicators=("jobseekers",),
                                                populations=("all",), groups=("all",), lang=lang))
        return table["area_name"][0]

    assert name("fi") == "Mikkelin seutu"
    assert name("sv") == "S:t Michelsregionen"
    assert name("en") == "Mikkeli region"


def test_protected_by_default_unprotected_on_request(loaded):
    query = dict(indicators=("laid_off",), areas=("091",), populations=("all",),
                 groups=("all",))
    protected = query_table(loaded, ExportQuery(**query)).row(0, named=True)
    assert protected["flag"] == "suppressed" and protected["value"] is None
    unprotected = query_table(loaded, ExportQuery(**query, unprotected=True)).row(0, named=True)
    assert unprotected["value"] == 3 and unprotected["flag"] == ""
    assert unprotected["vintage"] == protected["vintage"]


def test_csv_parquet_xlsx_round_trips(loaded):
    query = ExportQuery(areas=("091", "TA12"), populations=("all",), groups=("all", "under_30"),
                        lang="fi")
    table = query_table(loaded, query)
    # areas x groups x 13 register indicators: of the 17, the three flow indicators need
    # 2025-11 and the interview share needs 2026-01, neither loaded: not published
    assert table.height == 2 * 2 * 13

    from_csv = pl.read_csv(io.BytesIO(render(table, "csv", query)),
                           schema_overrides={"area_code": pl.String, "month": pl.String})
    assert from_csv.columns == COLUMNS
    assert from_csv.with_columns(pl.col("flag").fill_null("")).equals(table)

    from_parquet = pl.read_parquet(io.BytesIO(render(table, "parquet", query)))
    assert from_parquet.schema == table.schema and from_parquet.equals(table)

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(render(table, "xlsx", query)))
    assert book.sheetnames == ["data", "definitions"]
    data = list(book["data"].values)
    assert list(data[0]) == COLUMNS and len(data) == table.height + 1
    definitions = list(book["definitions"].values)
    header = list(definitions[0])
    names = {row[header.index("indicator")]: row[header.index("name")] for row in definitions[1:]}
    assert set(names) == set(table["indicator"])
    from indicators.registry import get

    assert names["jobseekers"] == get("jobseekers").name("fi")
    from_xlsx = pl.read_excel(io.BytesIO(render(table, "xlsx", query)), sheet_name="data",
                              schema_overrides={"area_code": pl.String})
    assert from_xlsx.height == table.height
    assert from_xlsx["value"].fill_null(-1).to_list() == table["value"].fill_null(-1).to_list()


def test_metadata(loaded, tmp_path):
    query = ExportQuery(indicators=("laid_off", "unemployed_share"), areas=("091",))
    written = export_table(loaded, query, fmt="parquet", out=tmp_path / "x.parquet")
    assert [p.name for p in written] == ["x.parquet", "x.parquet.metadata.json"]
    meta = json.loads(written[1].read_text(encoding="utf-8"))
    table = pl.read_parquet(written[0])
    assert meta["row_count"] == table.height == 2 * 3 * 4
    assert meta["disclosure_control"]["protected"] is True
    assert meta["disclosure_control"]["threshold"] == 5
    assert "1 to 4" in meta["disclosure_control"]["rule"]
    assert meta["synthetic"] is False
    assert meta["licence"]["outputs"].startswith("CC BY 4.0")
    assert [i["indicator"] for i in meta["indicators"]] == ["laid_off", "unemployed_share"]
    assert all(i["definition"] for i in meta["indicators"])
    assert meta["filters"]["areas"] == ["091"]
    assert meta["vintages"] == sorted(set(table["vintage"]))
    assert set(meta["columns"]) == set(COLUMNS)
    unprotected = export_metadata(table, ExportQuery(unprotected=True), published_rule(loaded))
    assert unprotected["disclosure_control"]["protected"] is False


def test_synthetic_data_is_marked(db):
    from etl.register import load_register_frames
    from tests.test_engine import frame

    load_register_frames(db, [("demo", frame(december()))], synthetic=True, progress=False)
    compute(db, None, progress=False)
    table = query_table(db, ExportQuery(areas=("TA12",)))
    assert table["synthetic"].all()
    meta = export_metadata(table, ExportQuery(), published_rule(db))
    assert meta["synthetic"] is True and "SYNTHETIC" in meta["title"]


@pytest.mark.parametrize("args, bad", [
    (["--indicator", "nonsense"], "nonsense"),
    (["--area-type", "county"], "county"),
    (["--population", "everyone"], "everyone"),
    (["--group", "over_90"], "over_90"),
    (["--from", "2025-13"], "2025-13"),
    (["--area", "XX99"], "XX99"),
])
def test_bad_filters_give_a_clear_error_and_non_zero_exit(db, args, bad):
    result = CliRunner().invoke(main, ["export", "--db", db, *args])
    assert result.exit_code != 0
    assert bad in result.output


def test_cli_csv_to_stdout_and_unprotected_flag(loaded, tmp_path):
    runner = CliRunner()
    base = ["export", "--db", loaded, "--indicator", "laid_off", "--area", "091",
            "--population", "all", "--group", "all"]
    result = runner.invoke(main, base)
    assert result.exit_code == 0, result.output
    table = pl.read_csv(io.StringIO(result.stdout), schema_overrides={"area_code": pl.String})
    assert table["flag"].to_list() == ["suppressed"]
    result = runner.invoke(main, [*base, "--unprotected", "--format", "xlsx",
                                  "--out", str(tmp_path / "u.xlsx")])
    assert result.exit_code == 0, result.output
    unprotected = pl.read_excel(tmp_path / "u.xlsx", sheet_name="data")
    assert unprotected["value"].to_list() == [3]
    assert (tmp_path / "u.xlsx.metadata.json").exists()


def test_parquet_needs_an_output_file(loaded):
    with pytest.raises(TrialmonError, match="--out"):
        export_table(loaded, ExportQuery(), fmt="parquet", out=None)
