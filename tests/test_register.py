"""Loading register extracts: the input contract, vintages and atomicity, on both backends.

The base data is the spec's example extract (copied here as a literal so these tests
need nothing from ../shared): 11 rows of 2024-01 and 13 rows of 2024-02. Bad inputs
are that file with one field changed; the expected row numbers, columns and values
below are read off the literal by hand (data row 1 is the line after the header).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from etl.register import content_hash, load_history, load_register_files, load_register_frames
from shell.cli import main
from trialmon.db import get_engine
from trialmon.errors import InputRejected
from trialmon.schema import register_row, vintage

HEADER = ("month,person_id,municipality_code,age,sex,foreign_language,earnings_related,status,"
          "service_type,responsibility,registered_on,unemployment_start,initial_interview_on,"
          "plan_updated_on,last_review_on")
ROWS = """\
2024-01,P000000,091,52,M,false,false,unemployed,,trial,2020-08-09,2021-09-07,,2023-11-21,2023-10-26
2024-01,P000001,091,60,M,false,true,other,,te_office,2021-11-28,,,2023-09-23,2023-12-18
2024-01,P000002,285,38,F,true,true,employed_open,,te_office,2020-12-07,,,2023-10-14,2023-06-19
2024-01,P000004,049,31,M,false,true,employed_open,,te_office,2023-01-05,,2023-01-16,2023-07-24,
2024-01,P000005,049,51,F,false,false,employed_open,,te_office,2023-09-05,,2023-09-08,,2023-11-28
2024-01,P000006,272,32,F,false,true,unemployed,,te_office,2022-12-20,2022-12-24,2022-12-27,,2023-10-07
2024-01,P000007,684,41,M,true,true,laid_off,,te_office,2022-08-07,2023-02-04,2022-08-10,2023-07-17,2023-12-18
2024-01,P000008,405,26,F,false,true,unemployed,,te_office,2021-08-20,2023-01-27,,,2023-09-03
2024-01,P000009,049,53,F,false,false,unemployed,,trial,2020-09-20,2023-08-10,,2023-12-06,2023-09-17
2024-01,P000010,837,39,M,false,true,other,,te_office,2019-11-27,,,2023-10-09,
2024-01,P000011,564,52,F,true,false,employed_open,,te_office,2021-08-07,,,,2023-11-21
2024-02,LTU0,091,40,F,false,false,unemployed,,trial,2022-12-01,2023-02-28,2022-12-05,,
2024-02,LTU1,091,40,F,false,false,unemployed,,trial,2022-12-01,2023-03-01,2022-12-05,,
2024-02,P000000,091,52,M,false,false,unemployed,,trial,2020-08-09,2021-09-07,,2023-11-21,2023-10-26
2024-02,P000001,091,60,M,false,true,other,,te_office,2021-11-28,,,2024-02-16,2024-02-08
2024-02,P000002,285,38,F,true,true,employed_open,,te_office,2020-12-07,,,2023-10-14,2023-06-19
2024-02,P000003,091,20,M,false,false,other,,trial,2024-02-10,,2024-02-15,2024-02-29,2024-02-15
2024-02,P000004,049,31,M,false,true,employed_open,,te_office,2023-01-05,,2023-01-16,2023-07-24,
2024-02,P000005,049,51,F,false,false,employed_open,,te_office,2023-09-05,,2023-09-08,2024-01-29,2023-11-28
2024-02,P000006,272,32,F,false,true,unemployed,,te_office,2022-12-20,2022-12-24,2022-12-27,,2023-12-23
2024-02,P000007,684,41,M,true,true,laid_off,,te_office,2022-08-07,2023-02-04,2022-08-10,2023-07-17,2023-12-18
2024-02,P000008,405,26,F,false,true,unemployed,,te_office,2021-08-20,2023-01-27,,,2023-09-03
2024-02,P000009,049,53,F,false,false,unemployed,,trial,2020-09-20,2023-08-10,,2023-12-08,2023-09-17
2024-02,P000010,837,39,M,false,true,other,,te_office,2019-11-27,,,2023-10-09,
"""
COLUMNS = HEADER.split(",")
REPO = Path(__file__).resolve().parents[1]


def example_lines() -> list[list[str]]:
    return [line.split(",") for line in ROWS.splitlines()]


def set_field(lines: list[list[str]], row: int, column: str, value: str) -> list[list[str]]:
    """Copy of the data lines with one field of data row `row` (1-based) replaced."""
    out = [list(fields) for fields in lines]
    out[row - 1][COLUMNS.index(column)] = value
    return out


def write_csv(path: Path, lines: list[list[str]], header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "".join(",".join(f) + "\n" for f in lines), encoding="utf-8")
    return path


def typed_example() -> pl.DataFrame:
    """The example in the stored Polars types, parsed independently of the loader."""
    frame = pl.read_csv(ROWS.encode(), has_header=False, new_columns=COLUMNS,
                        infer_schema=False)
    dates = ["registered_on", "unemployment_start", "initial_interview_on", "plan_updated_on",
             "last_review_on"]
    return frame.with_columns(
        pl.col("age").cast(pl.Int16),
        pl.col("foreign_language", "earnings_related") == "true",
        *(pl.col(c).str.to_date() for c in dates),
    )


def dump(url: str) -> tuple[list, list]:
    """Every stored register row and vintage, in a fixed order: the database's content."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(register_row).order_by(
            register_row.c.month, register_row.c.person_id)).all()
        vintages = conn.execute(sa.select(vintage).order_by(vintage.c.vintage_id)).all()
    return [tuple(r) for r in rows], [tuple(v) for v in vintages]


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def loaded(db, tmp_path) -> str:
    """The database with the example extract loaded once."""
    load_register_files(db, [write_csv(tmp_path / "example.csv", example_lines())],
                        progress=False)
    return db


# --------------------------------------------------------------------------- valid input


def test_example_extract_loads_with_counts_per_month(db, tmp_path):
    report = load_register_files(db, [write_csv(tmp_path / "example.csv", example_lines())],
                                 progress=False)
    assert report.changed_months == {"2024-01", "2024-02"}
    assert {m: (o.outcome, o.rows) for m, o in report.months.items()} == {
        "2024-01": ("new", 11), "2024-02": ("new", 13)}
    with get_engine(db).connect() as conn:
        per_month = dict(conn.execute(sa.select(register_row.c.month, sa.func.count())
                                      .group_by(register_row.c.month)).all())
        p7 = conn.execute(sa.select(register_row).where(
            register_row.c.month == "2024-01", register_row.c.person_id == "P000007")).one()
        vintages = conn.execute(sa.select(vintage.c.month, vintage.c.revision,
                                          vintage.c.row_count, vintage.c.is_current,
                                          vintage.c.synthetic)
                                .order_by(vintage.c.month)).all()
    assert per_month == {"2024-01": 11, "2024-02": 13}
    # 2024-01,P000007,684,41,M,true,true,laid_off,,te_office,2022-08-07,2023-02-04,2022-08-10,...
    assert (p7.municipality_code, p7.age, p7.sex, p7.foreign_language, p7.status,
            p7.service_type, p7.unemployment_start, p7.initial_interview_on) == (
        "684", 41, "M", True, "laid_off", None, dt.date(2023, 2, 4), dt.date(2022, 8, 10))
    assert [tuple(v) for v in vintages] == [("2024-01", 0, 11, True, False),
                                            ("2024-02", 0, 13, True, False)]


def test_rows_are_kept_by_their_key_without_a_month_index(loaded):
    """(month, person_id) is the primary key and a month's rows are read through its
    prefix; there is no other index. SQLite: the table is the key's b-tree (WITHOUT
    ROWID, no automatic index beside it) and its dates are day numbers."""
    from trialmon.db import is_sqlite

    inspector = sa.inspect(get_engine(loaded))
    assert inspector.get_pk_constraint("register_row", schema="microdata")[
        "constrained_columns"] == ["month", "person_id"]
    assert inspector.get_indexes("register_row", schema="microdata") == []
    if not is_sqlite(loaded):
        return
    with get_engine(loaded).connect() as conn:
        sql = conn.exec_driver_sql("SELECT sql FROM microdata.sqlite_master "
                                   "WHERE name = 'register_row'").scalar_one()
        indexes = conn.exec_driver_sql("PRAGMA microdata.index_list(register_row)").all()
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT * FROM microdata.register_row "
                                    "WHERE month = '2024-01'").all()
        stored = conn.exec_driver_sql(
            "SELECT typeof(registered_on), registered_on, unemployment_start "
            "FROM microdata.register_row WHERE month = '2024-01' AND person_id = 'P000000'"
        ).one()
        categories = conn.exec_driver_sql(
            "SELECT typeof(sex), sex, typeof(status), status, typeof(service_type), "
            "service_type, typeof(responsibility), responsibility FROM microdata.register_row "
            "WHERE month = '2024-01' AND person_id = 'P000000'").one()
    assert sql.rstrip().endswith("WITHOUT ROWID")
    assert [(i.name, i.origin) for i in indexes] == [("sqlite_autoindex_register_row_1", "pk")]
    assert "USING PRIMARY KEY (month=?)" in plan[0].detail
    # 2024-01,P000000,...,2020-08-09,2021-09-07: days since 1970-01-01
    assert tuple(stored) == ("integer", (dt.date(2020, 8, 9) - dt.date(1970, 1, 1)).days,
                             (dt.date(2021, 9, 7) - dt.date(1970, 1, 1)).days)
    # 2024-01,P000000,...,M,...,unemployed,,trial: positions in trialmon.domain's tuples
    assert tuple(categories) == ("integer", 0, "integer", 0, "null", None, "integer", 0)


def test_dates_come_back_exactly_from_the_earliest_to_the_months_last_day(db):
    """The contract takes any date of a 4-digit year up to the month's last day: the
    extremes, the day before 1970-01-01 (a negative day number on SQLite), the epoch
    and nulls come back as loaded, through every read of the stored rows."""
    from indicators.engine import read_register_rows

    dates = ["registered_on", "unemployment_start", "initial_interview_on", "plan_updated_on",
             "last_review_on"]
    month = typed_example().filter(pl.col("month") == "2024-01").sort("person_id")
    extremes = pl.DataFrame({
        "registered_on": [dt.date(1, 1, 1), dt.date(1969, 12, 31), dt.date(1970, 1, 1)],
        "unemployment_start": [dt.date(1900, 1, 1), None, None],  # P000001/2: not unemployed
        "initial_interview_on": [None, dt.date(1, 1, 2), dt.date(2024, 1, 31)],
        "plan_updated_on": [dt.date(2024, 1, 31), None, dt.date(1969, 1, 1)],
        "last_review_on": [None, None, None],
    }, schema=dict.fromkeys(dates, pl.Date))
    month = pl.concat([month.head(3).drop(dates).hstack(extremes).select(month.columns),
                       month.slice(3)])
    report = load_register_frames(db, [("extremes", month)], progress=False)
    assert report.months["2024-01"].outcome == "new"

    assert [r[:15] for r in dump(db)[0]] == month.rows()  # SQLAlchemy (DayNumber on SQLite)
    assert read_register_rows(db, ["2024-01"]).sort("person_id").select(dates).equals(
        month.select(dates))  # the computation's read
    # the loader's own read of the stored rows: a revision compares them with the new ones
    with get_engine(db).begin() as conn:
        conn.execute(sa.update(vintage).values(content_hash="pl0.0.0:0000000000000000"))
    again = load_register_frames(db, [("extremes", month)], progress=False)
    assert again.months["2024-01"].outcome == "unchanged"
    changed = month.with_columns(pl.when(pl.col("person_id") == "P000001")
                                 .then(dt.date(1, 1, 3)).otherwise("initial_interview_on")
                                 .alias("initial_interview_on"))
    revised = load_register_frames(db, [("changed", changed)], progress=False).months["2024-01"]
    assert (revised.outcome, revised.rows_changed, revised.rows_added) == ("revised", 1, 0)
    assert [r[:15] for r in dump(db)[0]] == changed.rows()


def _every_category(month: str) -> pl.DataFrame:
    """Valid rows of `month` with every value of every category column: each service
    type (status 'service'), each other status, both sexes and both responsibilities."""
    from trialmon.domain import SERVICE_TYPES, STATUS_CODES

    statuses = [("service", s) for s in SERVICE_TYPES]
    statuses += [(s, None) for s in STATUS_CODES if s != "service"]
    n = len(statuses)
    unemployed = [s in ("unemployed", "laid_off") for s, _ in statuses]
    return pl.DataFrame({
        "month": [month] * n, "person_id": [f"C{i:03d}" for i in range(n)],
        "municipality_code": ["091"] * n, "age": [30 + i for i in range(n)],
        "sex": [("M", "F")[i % 2] for i in range(n)],
        "foreign_language": [i % 3 == 0 for i in range(n)],
        "earnings_related": [i % 2 == 0 for i in range(n)],
        "status": [s for s, _ in statuses], "service_type": [t for _, t in statuses],
        "responsibility": [("te_office", "trial")[i % 2] for i in range(n)],
        "registered_on": [dt.date(2023, 1, 1 + i) for i in range(n)],
        "unemployment_start": [dt.date(2023, 2, 1) if u else None for u in unemployed],
        "initial_interview_on": [None] * n, "plan_updated_on": [None] * n,
        "last_review_on": [None] * n,
    }, schema={c: (pl.Int16 if c == "age" else pl.Date if c.endswith(("_on", "_start"))
                   else pl.Boolean if c in ("foreign_language", "earnings_related")
                   else pl.String) for c in COLUMNS})


def test_category_values_come_back_exactly_through_every_read_and_a_revision(db):
    """Every value of the category columns (SQLite: stored as codes, `schema.Coded`) and a
    null service type come back as loaded: through SQLAlchemy, the computation's read and
    the loader's own read, which a revision compares with the new rows."""
    from indicators.engine import read_register_rows
    from trialmon.db import is_sqlite

    month = _every_category("2024-01")
    categories = ["sex", "status", "service_type", "responsibility"]
    assert load_register_frames(db, [("categories", month)],
                                progress=False).months["2024-01"].outcome == "new"
    assert [r[:15] for r in dump(db)[0]] == month.rows()  # SQLAlchemy (Coded on SQLite)
    read = read_register_rows(db, ["2024-01"]).sort("person_id")  # the computation's
    assert read.equals(month.select(read.columns))  # (without sex): text again
    assert set(categories) - set(read.columns) == {"sex"}
    if is_sqlite(db):
        with get_engine(db).connect() as conn:
            stored = conn.exec_driver_sql(
                "SELECT DISTINCT typeof(sex), typeof(status), typeof(responsibility), "
                "typeof(service_type) FROM microdata.register_row").all()
            services = conn.exec_driver_sql(
                "SELECT service_type FROM microdata.register_row WHERE status = 3 "
                "ORDER BY person_id").scalars().all()
        assert {tuple(r) for r in stored} == {("integer",) * 4, ("integer",) * 3 + ("null",)}
        assert services == list(range(9))  # positions in SERVICE_TYPES, in its order

    # a revision: the loader reads the stored rows back to count what changed
    swaps = {"sex": {"M": "F", "F": "M"}, "responsibility": {"trial": "te_office",
                                                              "te_office": "trial"}}
    changed = month.with_columns(
        *(pl.when(pl.col("person_id") == "C000").then(pl.col(c).replace_strict(m))
          .otherwise(c).alias(c) for c, m in swaps.items()),
        pl.when(pl.col("person_id") == "C001").then(pl.lit("other_service"))
        .otherwise("service_type").alias("service_type"),  # labour_training -> other_service
        pl.when(pl.col("person_id") == "C011").then(pl.lit("employed_open"))
        .otherwise("status").alias("status"),  # short_week -> employed_open
    )
    revised = load_register_frames(db, [("changed", changed)], progress=False).months["2024-01"]
    assert (revised.outcome, revised.rows_changed, revised.rows_added,
            revised.rows_removed) == ("revised", 3, 0, 0)
    assert [r[:15] for r in dump(db)[0]] == changed.rows()
    read = read_register_rows(db, ["2024-01"]).sort("person_id")
    assert read.equals(changed.select(read.columns))
    # the same rows under another hash: compared through the loader's read, unchanged
    with get_engine(db).begin() as conn:
        conn.execute(sa.update(vintage).values(content_hash="pl0.0.0:0000000000000000"))
    assert load_register_frames(db, [("changed", changed)],
                                progress=False).months["2024-01"].outcome == "unchanged"


def test_a_category_value_outside_the_domain_is_never_stored(db):
    """The contract rejects it before anything is written; were a write ever handed one,
    the conversion to a code fails loudly instead of storing a null (SQLite: `Database.
    storable`'s strict cast; SQLAlchemy statements: `Coded`)."""
    import polars.exceptions

    from trialmon.db import database, is_sqlite

    month = _every_category("2024-01").with_columns(
        pl.when(pl.col("person_id") == "C000").then(pl.lit("teleported"))
        .otherwise("service_type").alias("service_type"))
    with pytest.raises(InputRejected, match="unknown service type code"):
        load_register_frames(db, [("bad", month)], progress=False)
    assert dump(db)[0] == []
    if not is_sqlite(db):
        return
    with pytest.raises(polars.exceptions.InvalidOperationError, match="teleported"):
        database(db).storable(month, register_row)
    row = month.row(0, named=True) | {"vintage_id": 1}
    with pytest.raises(sa.exc.StatementError, match="teleported"), \
            get_engine(db).begin() as conn:
        conn.execute(sa.insert(register_row), [row])
    assert dump(db)[0] == []


def test_loading_the_same_file_twice_changes_nothing(loaded, tmp_path):
    before = dump(loaded)
    report = load_register_files(loaded, [write_csv(tmp_path / "again.csv", example_lines())],
                                 progress=False)
    assert report.changed_months == set()
    assert {o.outcome for o in report.months.values()} == {"unchanged"}
    assert dump(loaded) == before


def test_same_rows_under_another_hash_are_compared_and_left_alone(loaded, tmp_path):
    # as after a Polars upgrade: the stored hash no longer matches, the rows still do
    with get_engine(loaded).begin() as conn:
        conn.execute(sa.update(vintage).values(content_hash="pl0.0.0:0000000000000000"))
    before = dump(loaded)
    report = load_register_files(loaded, [write_csv(tmp_path / "again.csv", example_lines())],
                                 progress=False)
    assert report.changed_months == set()
    assert dump(loaded) == before


def test_rows_in_another_order_and_as_parquet_are_the_same_content(loaded, tmp_path):
    shuffled = typed_example().sample(fraction=1.0, shuffle=True, seed=7)
    path = tmp_path / "example.parquet"
    shuffled.write_parquet(path)
    before = dump(loaded)
    assert load_register_files(loaded, [path], progress=False).changed_months == set()
    assert load_register_frames(loaded, [("memory", shuffled)],
                                progress=False).changed_months == set()
    assert dump(loaded) == before


def test_a_corrected_month_becomes_revision_1_with_counts(loaded, tmp_path):
    lines = [f for f in example_lines() if f[1] != "LTU1"]  # 2024-02 row 13 removed
    lines = set_field(lines, 16, "age", "21")  # P000003 (2024-02) 20 -> 21
    lines = set_field(lines, 18, "plan_updated_on", "2024-02-01")  # P000005 changed
    added = "2024-02,P000099,091,30,F,false,false,service,coaching,trial,2024-01-02,,,,"
    lines.append(added.split(","))
    report = load_register_files(loaded, [write_csv(tmp_path / "fix.csv", lines)],
                                 progress=False)
    feb = report.months["2024-02"]
    # by hand: +1 (P000099), -1 (LTU1), ~2 (P000003 age, P000005 plan date); still 13 rows
    assert (feb.outcome, feb.revision, feb.rows_added, feb.rows_removed, feb.rows_changed,
            feb.rows) == ("revised", 1, 1, 1, 2, 13)
    assert report.months["2024-01"].outcome == "unchanged"
    assert report.changed_months == {"2024-02"}
    history = load_history(loaded).frame
    feb_vintages = history.filter(pl.col("month") == "2024-02").sort("revision")
    assert feb_vintages.select("revision", "is_current", "rows_added", "rows_removed",
                               "rows_changed", "row_count").rows() == [
        (0, False, 13, 0, 0, 13), (1, True, 1, 1, 2, 13)]
    with get_engine(loaded).connect() as conn:
        stored = conn.execute(sa.select(register_row.c.person_id, register_row.c.age,
                                        register_row.c.vintage_id)
                              .where(register_row.c.month == "2024-02")).all()
    ids = {r.person_id: r for r in stored}
    assert len(stored) == 13 and "LTU1" not in ids and "P000099" in ids
    assert ids["P000003"].age == 21
    assert {r.vintage_id for r in stored} == {feb_vintages["vintage_id"][1]}


def test_extra_column_is_accepted_when_allowed(loaded, tmp_path):
    lines = [[*f, "x"] for f in example_lines()]
    path = write_csv(tmp_path / "extra.csv", lines, header=HEADER + ",batch")
    refused = run_cli("load", "register", "--db", loaded, "-q", str(path))
    assert refused.exit_code == 1 and "'batch'" in refused.output
    before = dump(loaded)
    allowed = run_cli("load", "register", "--db", loaded, "-q", "--allow-column", "batch",
                      str(path))
    assert allowed.exit_code == 0, allowed.output
    assert dump(loaded) == before  # same content as the example: nothing new


def test_municipality_must_exist_on_the_months_last_day(db, tmp_path):
    # Honkajoki (099) merged into Kankaanpää on 2021-01-01: valid in 2020-12 only.
    row = "{month},Q1,099,40,F,false,false,other,,trial,2020-01-02,,,,"
    ok = write_csv(tmp_path / "old.csv", [row.format(month="2020-12").split(",")])
    assert load_register_files(db, [ok], progress=False).changed_months == {"2020-12"}
    late = write_csv(tmp_path / "late.csv", [row.format(month="2021-01").split(",")])
    with pytest.raises(InputRejected) as rejected:
        load_register_files(db, [late], progress=False)
    assert "row 1, column 'municipality_code': value '099'" in str(rejected.value)


def test_status_lists_every_vintage(loaded):
    result = run_cli("status", "--db", loaded, "-q")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["month", "vintage", "revision"]
    assert [line.split()[0] for line in lines[1:]] == ["2024-01", "2024-02"]
    assert lines[1].split()[-4:] == ["11", "0", "no", "*"]


# --------------------------------------------------------------------------- bad input


def _future_month() -> str:
    today = dt.date.today()
    return f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"


# (name, data lines, expected fragments of the message)
BAD_FIELDS = [
    ("unknown_status", set_field(example_lines(), 3, "status", "retired"),
     ["row 3", "column 'status'", "'retired'", "unknown status code"]),
    ("municipality_two_digits", set_field(example_lines(), 2, "municipality_code", "91"),
     ["row 2", "column 'municipality_code'", "'91'", "exactly 3 digits"]),
    ("municipality_letters", set_field(example_lines(), 4, "municipality_code", "abc"),
     ["row 4", "column 'municipality_code'", "'abc'", "exactly 3 digits"]),
    ("municipality_not_in_reference", set_field(example_lines(), 5, "municipality_code", "999"),
     ["row 5", "column 'municipality_code'", "'999'", "not a municipality"]),
    ("duplicate_person_month", set_field(example_lines(), 2, "person_id", "P000000"),
     ["row 2", "column 'person_id'", "'P000000'", "duplicate"]),
    ("date_after_month_end", set_field(example_lines(), 1, "last_review_on", "2024-02-01"),
     ["row 1", "column 'last_review_on'", "'2024-02-01'", "after the last day"]),
    ("service_type_without_service", set_field(example_lines(), 2, "service_type", "coaching"),
     ["row 2", "column 'service_type'", "'coaching'", "must be empty unless"]),
    ("unemployed_without_start", set_field(example_lines(), 1, "unemployment_start", ""),
     ["row 1", "column 'unemployment_start'", "required when status"]),
    ("age_out_of_range", set_field(example_lines(), 6, "age", "101"),
     ["row 6", "column 'age'", "'101'", "between 15 and 99"]),
    ("boolean_yes", set_field(example_lines(), 7, "foreign_language", "yes"),
     ["row 7", "column 'foreign_language'", "'yes'", "true/false"]),
    ("impossible_date", set_field(example_lines(), 8, "registered_on", "2021-02-30"),
     ["row 8", "column 'registered_on'", "'2021-02-30'", "not a date"]),
    ("future_month", set_field(example_lines(), 11, "month", _future_month()),
     ["row 11", "column 'month'", f"'{_future_month()}'", "in the future"]),
]


def _assert_rejected(url: str, path: Path, fragments: list[str], *extra: str) -> None:
    """Through the CLI: exit 1, every fragment in the message, the database unchanged."""
    before = dump(url)
    result = run_cli("load", "register", "--db", url, "-q", *extra, str(path))
    assert result.exit_code == 1
    message = result.output
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "nothing was loaded" in message
    assert dump(url) == before


@pytest.mark.parametrize("name,lines,fragments", BAD_FIELDS, ids=[b[0] for b in BAD_FIELDS])
def test_bad_field_is_rejected_and_nothing_changes(loaded, tmp_path, name, lines, fragments):
    _assert_rejected(loaded, write_csv(tmp_path / f"{name}.csv", lines), fragments)


def test_missing_column(loaded, tmp_path):
    keep = [i for i, c in enumerate(COLUMNS) if c != "sex"]
    lines = [[f[i] for i in keep] for f in example_lines()]
    header = ",".join(COLUMNS[i] for i in keep)
    _assert_rejected(loaded, write_csv(tmp_path / "nosex.csv", lines, header=header),
                     ["column 'sex'", "required column is missing"])


def test_unknown_column(loaded, tmp_path):
    lines = [[*f, "1"] for f in example_lines()]
    path = write_csv(tmp_path / "extra.csv", lines, header=HEADER + ",shoe_size")
    _assert_rejected(loaded, path, ["column 'shoe_size'", "unknown column"])


def test_non_utf8_bytes_name_the_row(loaded, tmp_path):
    text = write_csv(tmp_path / "x.csv", example_lines()).read_bytes()
    path = tmp_path / "latin1.csv"
    path.write_bytes(text.replace(b"P000002", b"P\xe400002"))  # data row 3 (file line 4)
    _assert_rejected(loaded, path, ["row 3", "not UTF-8", "0xe4", "line 4"])


def test_utf8_check_reads_in_chunks_without_splitting_characters(db, tmp_path, monkeypatch):
    import etl.register

    monkeypatch.setattr(etl.register, "_CHUNK", 5)  # every 5 bytes: many splits of 'Ä'
    lines = [set_field([f], 1, "person_id", f"ÄÖ{f[1]}Å")[0] for f in example_lines()]
    path = write_csv(tmp_path / "umlauts.csv", lines)
    assert load_register_files(db, [path], progress=False).changed_months == {"2024-01",
                                                                              "2024-02"}
    bad = tmp_path / "bad.csv"
    bad.write_bytes(path.read_bytes().replace("ÄÖP000009Å".encode(), b"\xc3P000009"))
    with pytest.raises(InputRejected) as rejected:
        load_register_files(db, [bad], progress=False)
    assert "row 9" in str(rejected.value) and "line 10" in str(rejected.value)


def test_empty_file(loaded, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    _assert_rejected(loaded, path, ["empty file"])


def test_header_only(loaded, tmp_path):
    _assert_rejected(loaded, write_csv(tmp_path / "header.csv", []), ["no data rows"])


def test_truncated_parquet(loaded, tmp_path):
    whole = tmp_path / "whole.parquet"
    typed_example().write_parquet(whole)
    data = whole.read_bytes()
    path = tmp_path / "truncated.parquet"
    path.write_bytes(data[: len(data) // 2])
    _assert_rejected(loaded, path, ["not a readable Parquet file"])


def test_typed_parquet_is_checked_like_csv(loaded, tmp_path):
    frame = typed_example().with_columns(
        pl.when(pl.int_range(pl.len()) == 9).then(120).otherwise(pl.col("age"))
        .cast(pl.Int16).alias("age"))
    path = tmp_path / "typed.parquet"
    frame.write_parquet(path)
    _assert_rejected(loaded, path, ["row 10", "column 'age'", "'120'", "between 15 and 99"])


def test_problems_are_counted_beyond_those_listed(loaded, tmp_path):
    lines = [set_field([f], 1, "sex", "X")[0] for f in example_lines()]
    with pytest.raises(InputRejected) as rejected:
        load_register_files(loaded, [write_csv(tmp_path / "sex.csv", lines)], progress=False)
    assert rejected.value.total == 24
    assert "rejected: 24 problems" in str(rejected.value)
    assert "... and 14 more" in str(rejected.value)  # 10 shown


def test_one_bad_file_rejects_the_good_one_too(db, tmp_path):
    good = write_csv(tmp_path / "good.csv", example_lines()[:11])
    bad = write_csv(tmp_path / "bad.csv", set_field(example_lines()[11:], 1, "sex", "X"))
    before = dump(db)
    with pytest.raises(InputRejected) as rejected:
        load_register_files(db, [good, bad], progress=False)
    assert f"{bad}, row 1, column 'sex': value 'X'" in str(rejected.value)
    assert dump(db) == before == ([], [])


def test_sources_beyond_the_memory_budget_are_read_again_to_be_written(db, tmp_path,
                                                                         monkeypatch):
    import etl.register

    monkeypatch.setattr(etl.register, "KEEP_ROWS", 12)  # keeps 2024-01's 11 rows only
    january = write_csv(tmp_path / "jan.csv", example_lines()[:11])
    february = write_csv(tmp_path / "feb.csv", example_lines()[11:])
    report = load_register_files(db, [january, february], progress=False)
    assert {m: (o.outcome, o.rows) for m, o in report.months.items()} == {
        "2024-01": ("new", 11), "2024-02": ("new", 13)}
    rows, _ = dump(db)
    assert len(rows) == 24 and sum(r[0] == "2024-02" for r in rows) == 13


def _spy_on_spooling(monkeypatch, row_budget: int) -> list[str]:
    """Set the in-memory row budget; (name, spool file) of each source spooled."""
    import etl.register

    monkeypatch.setattr(etl.register, "KEEP_ROWS", row_budget)
    monkeypatch.setattr(etl.register, "SPOOL_ROW_GROUP", 4)  # many row groups per month
    spooled, original = [], etl.register._validate_spooled

    def spy(name, scan, context, spool):
        spooled.append((name, spool))
        return original(name, scan, context, spool)

    monkeypatch.setattr(etl.register, "_validate_spooled", spy)
    return spooled


def _without_ids(content: tuple[list, list]) -> tuple[list, list]:
    """Stored rows and vintages without the vintage ids and load times, which differ
    between two loads of the same content."""
    rows, vintages = content
    row_id = [c.name for c in register_row.columns].index("vintage_id")
    skip = {c.name for c in vintage.columns} & {"vintage_id", "loaded_at"}
    keep = [i for i, c in enumerate(vintage.columns) if c.name not in skip]
    return ([r[:row_id] + r[row_id + 1:] for r in rows],
            [tuple(v[i] for i in keep) for v in vintages])


def _empty_register(url: str) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(sa.delete(register_row))
        conn.execute(sa.delete(vintage))


def test_a_source_beyond_the_row_budget_is_spooled_and_loads_the_same(db, tmp_path,
                                                                        monkeypatch):
    lines = example_lines()
    shuffled = lines[::2] + lines[1::2]  # months interleaved: no row group holds one month
    path = write_csv(tmp_path / "example.csv", shuffled)
    in_memory = load_register_files(db, [path], progress=False)
    expected = dump(db)
    _empty_register(db)
    spooled = _spy_on_spooling(monkeypatch, row_budget=5)
    report = load_register_files(db, [path], progress=False)
    assert [name for name, _ in spooled] == [str(path)]
    assert _without_ids(dump(db)) == _without_ids(expected)
    assert len(expected[0]) == 24 and [v[4] for v in expected[1]] == [  # content hashes
        content_hash(typed_example().filter(pl.col("month") == m))
        for m in ("2024-01", "2024-02")]
    assert report.months == in_memory.months and report.rows_read == 24
    assert not spooled[0][1].parent.exists()  # the spool removed with its folder


def test_a_spooled_source_is_checked_like_any_other(db, tmp_path, monkeypatch):
    spooled = _spy_on_spooling(monkeypatch, row_budget=0)
    bad = write_csv(tmp_path / "bad.csv", set_field(example_lines(), 13, "sex", "X"))
    twice = write_csv(tmp_path / "twice.csv", example_lines() + example_lines()[20:21])
    for path, located in [(bad, f"{bad}, row 13, column 'sex': value 'X': must be M or F"),
                          (twice, f"{twice}, row 25, column 'person_id': value 'P000007': "
                                  "duplicate (month, person_id)")]:
        with pytest.raises(InputRejected) as rejected:
            load_register_files(db, [path], progress=False)
        assert located in str(rejected.value)
    assert [name for name, _ in spooled] == [str(bad), str(twice)]
    assert dump(db) == ([], [])


def test_a_spooled_file_changed_before_it_is_written_is_rejected(db, tmp_path, monkeypatch):
    import etl.register

    _spy_on_spooling(monkeypatch, row_budget=0)
    path = write_csv(tmp_path / "example.csv", example_lines())
    validate_all = etl.register._validate_all

    def validate_then_change(*args):
        validated = validate_all(*args)
        write_csv(path, set_field(example_lines(), 1, "age", "53"))
        os.utime(path, ns=(1, 1))  # a different time even on a coarse clock
        return validated

    monkeypatch.setattr(etl.register, "_validate_all", validate_then_change)
    with pytest.raises(InputRejected, match="the file changed while it was being loaded"):
        load_register_files(db, [path], progress=False)
    assert dump(db) == ([], [])


def test_a_month_split_over_two_files_is_rejected(db, tmp_path):
    first = write_csv(tmp_path / "a.csv", example_lines()[:5])
    second = write_csv(tmp_path / "b.csv", example_lines()[5:11])  # 2024-01 again
    with pytest.raises(InputRejected) as rejected:
        load_register_files(db, [first, second], progress=False)
    assert f"{second}, column 'month': value '2024-01': month also in {first}" in str(
        rejected.value)
    assert dump(db) == ([], [])


def test_frames_are_checked_like_files(db):
    frame = typed_example().with_columns(
        pl.when(pl.int_range(pl.len()) == 12).then(pl.lit("X")).otherwise(pl.col("sex"))
        .alias("sex"))
    with pytest.raises(InputRejected) as rejected:
        load_register_frames(db, [("demo:2024", frame)], progress=False)
    assert str(rejected.value).splitlines()[1].strip() == (
        "demo:2024, row 13, column 'sex': value 'X': must be M or F")
    assert dump(db) == ([], [])


# --------------------------------------------------------------------------- atomicity

KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    import etl.register as register

    original = register._Writer.write_month

    def write_then_stall(self, delivery):
        outcome = original(self, delivery)
        print("WROTE", delivery.month, flush=True)
        time.sleep(600)
        return outcome

    register._Writer.write_month = write_then_stall
    register.load_register_files(sys.argv[1], [sys.argv[2]], progress=False)
""")


def test_a_load_killed_half_way_leaves_the_database_as_before(loaded, tmp_path):
    lines = [f for f in example_lines() if f[1] != "P000011"]  # 2024-01 revised (row removed)
    lines = set_field(lines, 11, "age", "45")  # and 2024-02 revised too
    path = write_csv(tmp_path / "revision.csv", lines)
    before = dump(loaded)
    script = tmp_path / "kill_me.py"
    script.write_text(KILL_SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), loaded, str(path)], cwd=REPO,
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert process.stdout.readline().split() == ["WROTE", "2024-01"]
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)
    get_engine.cache_clear()
    assert dump(loaded) == before
    # and the database still takes the same load afterwards
    report = load_register_files(loaded, [path], progress=False)
    assert report.changed_months == {"2024-01", "2024-02"}


# --------------------------------------------------------------------------- streamed load


def _spy_on_validating_first(monkeypatch) -> list[str]:
    """Names of the sources of each load that took the validate-everything-first path."""
    import etl.register

    used, original = [], etl.register._load_validated_first

    def spy(url, sources, *args, **kwargs):
        used.extend(name for name, _ in sources)
        return original(url, sources, *args, **kwargs)

    monkeypatch.setattr(etl.register, "_load_validated_first", spy)
    return used


def test_a_single_source_is_written_while_it_is_validated_and_loads_the_same(
        db, tmp_path, monkeypatch):
    import etl.register

    path = write_csv(tmp_path / "example.csv", example_lines())
    validated_first = _spy_on_validating_first(monkeypatch)
    streamed = load_register_files(db, [path], progress=False)
    assert validated_first == []  # months in one run of rows each: streamed
    content = dump(db)
    _empty_register(db)
    monkeypatch.setattr(etl.register, "_load_streamed", lambda *args, **kwargs: None)
    first = load_register_files(db, [path], progress=False)
    assert validated_first == [str(path)]
    assert _without_ids(dump(db)) == _without_ids(content)
    assert streamed.months == first.months and streamed.rows_read == first.rows_read == 24
    assert [v[4] for v in content[1]] == [  # content hashes, from independently typed rows
        content_hash(typed_example().filter(pl.col("month") == m)) for m in ("2024-01", "2024-02")]


def test_interleaved_months_are_validated_first_and_load_the_same(db, tmp_path, monkeypatch):
    lines = example_lines()
    in_order = write_csv(tmp_path / "example.csv", lines)
    load_register_files(db, [in_order], progress=False)
    expected = dump(db)
    _empty_register(db)
    shuffled = write_csv(tmp_path / "example.csv", lines[::2] + lines[1::2])  # same name
    validated_first = _spy_on_validating_first(monkeypatch)
    report = load_register_files(db, [shuffled], progress=False)
    assert validated_first == [str(shuffled)]  # 2024-01 comes back after 2024-02
    assert _without_ids(dump(db)) == _without_ids(expected)
    assert {m: o.rows for m, o in report.months.items()} == {"2024-01": 11, "2024-02": 13}


def test_a_problem_in_a_later_month_rolls_back_the_month_written_before(db, tmp_path,
                                                                        monkeypatch):
    import etl.register

    written, write_month = [], etl.register._Writer.write_month

    def spy(self, delivery):
        written.append(delivery.month)
        return write_month(self, delivery)

    monkeypatch.setattr(etl.register._Writer, "write_month", spy)
    # data row 20 is 2024-02,P000006 (the 9th row of February)
    path = write_csv(tmp_path / "bad.csv", set_field(example_lines(), 20, "sex", "X"))
    with pytest.raises(InputRejected) as rejected:
        load_register_files(db, [path], progress=False)
    assert f"{path}, row 20, column 'sex': value 'X': must be M or F" in str(rejected.value)
    assert written == ["2024-01"]  # January was written before February was checked
    assert dump(db) == ([], [])


def test_the_microdata_file_is_back_in_wal_mode_after_a_load(db, tmp_path):
    import sqlite3

    from trialmon.db import is_sqlite, sqlite_paths

    if not is_sqlite(db):
        pytest.skip("SQLite journal modes")
    load_register_files(db, [write_csv(tmp_path / "example.csv", example_lines())],
                        progress=False)
    with sqlite3.connect(sqlite_paths(db)[1]) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
