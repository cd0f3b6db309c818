"""Exports: formats round-trip, metadata, filters, languages, protection, bad queries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
import yaml
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
from indicators.registry import INDICATORS
from shell.cli import main
from tests.test_engine import december, load
from trialmon.errors import TrialmonError

ROOT = Path(__file__).resolve().parents[1]


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
                           schema_overrides={"area_code": pl.String, "month": pl.String,
                                             "value": pl.Float64})
    assert from_csv.columns == COLUMNS
    assert from_csv.with_columns(pl.col("flag").fill_null("")).equals(table)

    from_parquet = pl.read_parquet(io.BytesIO(render(table, "parquet", query)))
    assert from_parquet.schema == table.schema and from_parquet.equals(table)

    from_xlsx = pl.read_excel(io.BytesIO(render(table, "xlsx", query)), sheet_name="data",
                              schema_overrides={"aluekoodi": pl.String})
    assert from_xlsx.height == table.height
    # XLSX stores numbers as text with 17 significant digits at most (xlsxwriter: %.16g)
    # and Excel computes with 15: equal to the last representable digit or two, not bit for bit
    assert from_xlsx["arvo"].fill_null(-1).to_list() == pytest.approx(
        table["value"].fill_null(-1).to_list(), rel=1e-15, abs=0)


BOM = b"\xef\xbb\xbf"
PERCENTS = [i.id for i in INDICATORS.values() if i.unit == "percent"]


def _excel_rows(data: bytes, separator: str) -> list[list[str]]:
    """Rows as Excel reads a CSV: UTF-8 only when the file starts with a BOM (else the
    ANSI code page, which garbles ä), split at the locale's list separator."""
    import csv

    text = data[3:].decode("utf-8") if data.startswith(BOM) else data.decode("cp1252")
    return list(csv.reader(io.StringIO(text), delimiter=separator))


@pytest.fixture
def full(db):
    """2025-12 hand extract with nothing suppressed (tests.test_engine.december)."""
    load(db, {"2025-12": december()})
    compute(db, None, progress=False)
    return db


def test_csv_files_open_right_in_excel(full):
    query = ExportQuery(areas=("091", "TA12"), populations=("all",), groups=("all",), lang="sv")
    table = query_table(full, query)
    for fmt, separator, decimal in (("csv", ",", "."), ("csv-excel", ";", ",")):
        data = render(table, fmt, query)
        assert data.startswith(BOM)
        rows = _excel_rows(data, separator)
        assert rows[0] == COLUMNS and len(rows) == table.height + 1
        by_key = {(r[2], r[6]): dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
        # Helsinki's jobseekers, a count: an integer, and the Swedish name with its letters
        jobseekers = by_key[("091", "jobseekers")]
        expected = table.filter((pl.col("area_code") == "091") &
                                (pl.col("indicator") == "jobseekers"))["value"][0]
        assert jobseekers["value"] == str(int(expected)) and jobseekers["area_name"] == \
            "Helsingfors"
        assert by_key[("TA12", "jobseekers")]["area_name"] == "S:t Michelsregionen"
        # a share keeps its full precision, with the decimal mark of the variant
        shares = table.filter(pl.col("indicator").is_in(PERCENTS) & pl.col("value").is_not_null()
                              & (pl.col("value") != pl.col("value").round(0))).row(0, named=True)
        share = by_key[(shares["area_code"], shares["indicator"])]["value"]
        assert shares["value"] == pytest.approx(100 * shares["numerator"] /
                                                shares["denominator"])
        assert decimal in share and float(share.replace(",", ".")) == shares["value"]
        if fmt == "csv-excel":
            assert "." not in share
        # numerators are integers too
        assert jobseekers["numerator"] == str(int(expected))
        empty = [r for r in rows[1:] if r[COLUMNS.index("flag")]]
        assert empty and all(r[COLUMNS.index("value")] == "" for r in empty)


def test_xlsx_opens_as_a_styled_table_with_metadata(full):
    import openpyxl

    query = ExportQuery(areas=("091", "TA12"), populations=("all",), groups=("all",), lang="fi")
    table = query_table(full, query)
    book = openpyxl.load_workbook(io.BytesIO(render(table, "xlsx", query, rule=published_rule(full))))
    assert book.sheetnames == ["data", "metadata", "definitions"]
    sheet = book["data"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["kuukausi", "aluetyyppi", "aluekoodi", "alue"]
    assert header[7] == "arvo" and header[10] == "merkintä"
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert list(sheet.tables) == ["trialmon_data"]
    assert sheet.tables["trialmon_data"].ref == f"A1:M{table.height + 1}"
    assert sheet.tables["trialmon_data"].autoFilter is not None
    assert sheet.column_dimensions["D"].width >= 20  # area names are readable
    rows = {(r[2].value, r[6].value): r for r in sheet.iter_rows(min_row=2)}
    shares = table.filter(pl.col("indicator").is_in(PERCENTS) & pl.col("value").is_not_null()
                          & (pl.col("value") != pl.col("value").round(0))).row(0, named=True)
    count, share = rows[("091", "jobseekers")][7], rows[(shares["area_code"],
                                                         shares["indicator"])][7]
    decimals = INDICATORS[shares["indicator"]].decimals
    assert count.number_format == "#,##0" and count.value == table.filter(
        (pl.col("area_code") == "091") & (pl.col("indicator") == "jobseekers"))["value"][0]
    assert share.number_format == "#,##0." + "0" * decimals and share.value == pytest.approx(
        100 * shares["numerator"] / shares["denominator"])
    assert rows[("091", "jobseekers")][2].data_type == "s"  # "091" stays text
    meta = {r[0].value: r[1].value for r in book["metadata"].iter_rows()}
    assert meta["Otsikko"].startswith("Työllisyyden kuntakokeilujen")
    assert "1–4" in meta["Tietosuojasääntö"] and meta["Aineisto"] == "Rekisteriaineisto."
    assert "CC BY 4.0" in meta["Lisenssi"] and meta["Rivejä"] == table.height
    assert "0/0" in meta["Merkinnät"]


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_definitions_carry_the_plain_language_explanation_of_the_meta_file(loaded, tmp_path,
                                                                          lang):
    """The XLSX definitions sheet, the JSON metadata and datapackage.json give each
    indicator's plain-language text in the file's language, as indicators.meta.yml has it."""
    import openpyxl

    meta_file = yaml.safe_load((ROOT / "indicators" / "indicators.meta.yml").read_text("utf-8"))
    plain = {i: meta_file["indicators"][i]["plain"][lang]
             for i in ("jobseekers", "unemployed_share")}
    query = ExportQuery(indicators=tuple(plain), areas=("091",), lang=lang)
    export_table(loaded, query, fmt="xlsx", out=tmp_path / "x.xlsx")
    book = openpyxl.load_workbook(tmp_path / "x.xlsx")
    sheet = book["definitions"]
    header = [c.value for c in sheet[1]]
    # the headers in the file's language (written out here, not taken from the module)
    words = {"fi": ["indikaattori", "nimi", "selitys", "määritelmä"],
             "sv": ["indikator", "namn", "förklaring", "definition"]}[lang]
    assert header[:4] == words
    rows = {r[0]: dict(zip(["indicator", "name", "explanation", "definition"], r[:4],
                           strict=True))
            for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert {i: rows[i]["explanation"] for i in plain} == plain
    assert rows["jobseekers"]["name"] == meta_file["indicators"]["jobseekers"]["name"][lang]

    sidecar = json.loads((tmp_path / "x.xlsx.metadata.json").read_text(encoding="utf-8"))
    assert {i["indicator"]: i["explanation"] for i in sidecar["indicators"]} == plain
    written = export_table(loaded, query, fmt="csv", out=tmp_path / "x.csv")
    package = json.loads(written[2].read_text(encoding="utf-8"))
    assert {i["indicator"]: i["explanation"] for i in package["trialmon"]["indicators"]} == plain


def test_xlsx_too_big_for_one_sheet_is_split_or_refused(loaded, monkeypatch):
    import openpyxl

    from indicators import export

    query = ExportQuery(areas=("091", "TA12"), populations=("all",), groups=("all",))
    table = query_table(loaded, query)
    monkeypatch.setattr(export, "XML_PIECE_ROWS", 3)  # rows are built 3 at a time
    book = openpyxl.load_workbook(io.BytesIO(render(table, "xlsx", query, sheet_rows=10)))
    sheets = [n for n in book.sheetnames if n.startswith("data")]
    assert len(sheets) == -(-table.height // 10)
    assert sum(book[n].max_row - 1 for n in sheets) == table.height
    back = [(r[2].value, r[6].value, r[7].value) for n in sheets
            for r in book[n].iter_rows(min_row=2)]
    assert back == list(table.select("area_code", "indicator", "value").iter_rows())
    assert list(book[sheets[1]].tables) == ["trialmon_data_2"]
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", table.height - 1)
    with pytest.raises(TrialmonError, match="CSV or Parquet"):
        render(table, "xlsx", query)


def test_zero_over_zero_has_its_own_flag(loaded):
    table = query_table(loaded, ExportQuery(populations=("all",)))
    no_value = table.filter(pl.col("flag") == "no_value")
    assert no_value.height and no_value["value"].is_null().all()
    assert (no_value["denominator"] == 0).all()
    assert table.filter((pl.col("flag") == "") & pl.col("value").is_null()).is_empty()


@pytest.mark.parametrize("fmt", ["csv", "csv-excel"])
def test_datapackage_validates_with_frictionless(loaded, tmp_path, fmt):
    frictionless = pytest.importorskip("frictionless")
    query = ExportQuery(areas=("091", "TA12"), populations=("all",), lang="fi")
    written = export_table(loaded, query, fmt=fmt, out=tmp_path / "x.csv")
    package = json.loads(written[2].read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert fields["area_code"]["type"] == "string" and fields["numerator"]["type"] == "integer"
    assert fields["value"]["unit"]["unemployed_share"] == "percent"
    assert {c["value"] for c in fields["flag"]["categories"]} == {"", "no_value", "suppressed",
                                                                 "incomplete"}
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and package["sources"]
    report = frictionless.validate(str(written[2]))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    # the validator really checks the file: a count that is not an integer fails
    lines = written[0].read_text(encoding="utf-8-sig").splitlines()
    sep = ";" if fmt == "csv-excel" else ","
    cells = lines[1].split(sep)
    cells[COLUMNS.index("numerator")] = "12.5"
    written[0].write_text("\ufeff" + "\n".join([lines[0], sep.join(cells), *lines[2:]]) + "\n",
                          encoding="utf-8")
    assert not frictionless.validate(str(written[2])).valid


def test_metadata(loaded, tmp_path):
    query = ExportQuery(indicators=("laid_off", "unemployed_share"), areas=("091",))
    written = export_table(loaded, query, fmt="parquet", out=tmp_path / "x.parquet")
    assert [p.name for p in written] == ["x.parquet", "x.parquet.metadata.json",
                                         "x.parquet.datapackage.json"]
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


def test_xlsx_rows_hold_exact_values_escaped_text_and_formats():
    """A hand-made table through the streamed XLSX rows: markup characters in text come
    back as typed, each value with its indicator's format, empty cells stay empty."""
    import openpyxl

    from indicators.export import SCHEMA

    rows = [
        ("2024-06", "municipality", "091", "A & B <Oy> \"x\"", "all", "all", "jobseekers",
         694.0, 694, None, "", "2026-05-04T10:11:12Z", True),
        ("2024-06", "municipality", "005", "Alajärvi", "all", "under_30", "unemployed_share",
         100 * 7 / 13, 7, 13, "", "2026-05-04T10:11:12Z", False),
        ("2024-07", "trial_area", "TA12", None, "all", "all", "long_term_share",
         None, None, None, "suppressed", "2026-05-04T10:11:12Z", False),
    ]
    table = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    book = openpyxl.load_workbook(io.BytesIO(render(table, "xlsx", ExportQuery(lang="sv"))))
    sheet = book["data"]
    assert sheet.tables["trialmon_data"].ref == "A1:M4"
    cells = list(sheet.iter_rows(min_row=2))
    assert [c.value for c in cells[0]] == [
        "2024-06", "municipality", "091", "A & B <Oy> \"x\"", "all", "all", "jobseekers",
        694, 694, None, None, "2026-05-04T10:11:12Z", True]
    assert cells[0][7].number_format == "#,##0" and cells[0][8].number_format == "#,##0"
    assert cells[1][3].value == "Alajärvi" and cells[1][2].data_type == "s"
    assert cells[1][7].value == 100 * 7 / 13 and cells[1][7].number_format == "#,##0.0"
    assert (cells[1][9].value, cells[1][12].value) == (13, False)
    assert [c.value for c in cells[2][7:11]] == [None, None, None, "suppressed"]
    assert cells[2][3].value is None
