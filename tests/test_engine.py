"""The indicator engine on both backends: roll-up, ratios, suppression, incremental runs.

Small extracts are built by hand and loaded through the register loader; expected
values are worked out in the comments from those rows. Municipalities used (real
reference): Mikkeli 491, Mäntyharju 507 and Pertunmaa 588 form the Mikkeli trial
area TA12 (region MK10 Etelä-Savo, which has further members with no rows here);
Pertunmaa merged into Mäntyharju on 2026-01-01. Helsinki 091 is used for small
(suppressed) counts.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from etl.contract import COLUMNS
from etl.register import load_register_frames
from indicators.engine import compute
from trialmon.db import get_engine
from trialmon.months import shift_month

REG = dt.date(2024, 1, 15)


def person(month: str, pid: str, muni: str, status: str = "unemployed", **kw) -> dict:
    row = {
        "month": month, "person_id": pid, "municipality_code": muni, "age": 40, "sex": "F",
        "foreign_language": False, "earnings_related": True, "status": status,
        "service_type": "coaching" if status == "service" else None,
        "responsibility": "te_office", "registered_on": REG,
        "unemployment_start": REG if status in ("unemployed", "laid_off") else None,
        "initial_interview_on": None, "plan_updated_on": None, "last_review_on": None,
    }
    row.update(kw)
    return row


def people(month: str, muni: str, n: int, status: str = "unemployed", tag: str = "") -> list:
    return [person(month, f"{muni}{status}{tag}{i}", muni, status) for i in range(n)]


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS)


def load(url: str, months: dict[str, list[dict]]) -> set[str]:
    report = load_register_frames(url, [(f"hand-{m}", frame(r)) for m, r in months.items()],
                                  synthetic=False, progress=False)
    return set(report.changed_months)


def cells(url: str, **where) -> pl.DataFrame:
    """Published cells, as the driver returns them, filtered in SQL (a whole-table read
    per lookup made this file's slowest test spend minutes building Python dicts)."""
    sql = "SELECT * FROM indicator_value"
    if where:
        sql += " WHERE " + " AND ".join(f'"{column}" = :{column}' for column in where)
    with get_engine(url).connect() as conn:
        result = conn.execute(sa.text(sql), where)
        names, rows = list(result.keys()), result.all()
    return pl.DataFrame([tuple(r) for r in rows], schema=names, orient="row",
                        infer_schema_length=None)


def one(url: str, indicator: str, area_code: str, month: str, population="all",
        group="all") -> dict:
    found = cells(url, indicator=indicator, area_code=area_code, month=month,
                  population=population, group=group)
    assert found.height == 1, (indicator, area_code, month, found)
    return found.row(0, named=True)


def december(month: str = "2025-12", small: bool = False) -> list[dict]:
    # Mikkeli 491: 10 unemployed + 10 employed_open   -> jobseekers 20, unemployed 10
    # Mäntyharju 507: 6 unemployed + 24 in services    -> jobseekers 30, unemployed 6
    # Pertunmaa 588: 5 unemployed                      -> jobseekers 5, unemployed 5
    # (no count from 1 to 4 anywhere, so nothing is suppressed), and with small=True
    # Helsinki 091: 3 laid_off + 6 employed_open       -> laid_off 3 (suppressed)
    rows = (people(month, "491", 10) + people(month, "491", 10, "employed_open")
            + people(month, "507", 6) + people(month, "507", 24, "service")
            + people(month, "588", 5))
    if small:
        rows += people(month, "091", 3, "laid_off") + people(month, "091", 6, "employed_open")
    return rows


def test_roll_up_ratio_from_sums_and_zero_denominators(db):
    load(db, {"2025-12": december()})
    compute(db, ["2025-12"], progress=False)
    # TA12 = 491 + 507 + 588: jobseekers 20 + 30 + 5 = 55, unemployed 10 + 6 + 5 = 21
    assert one(db, "jobseekers", "TA12", "2025-12")["value"] == 55
    assert one(db, "unemployed", "TA12", "2025-12")["value"] == 21
    # MK10 has more members, all with no rows: the same sums
    assert one(db, "jobseekers", "MK10", "2025-12")["value"] == 55
    # ratio from sums: 100 * 21 / 55 = 38.1818..., while the average of the members'
    # rates (50 + 20 + 100) / 3 = 56.67 would be wrong
    share = one(db, "unemployed_share", "TA12", "2025-12")
    assert share["value"] == pytest.approx(100 * 21 / 55)
    assert (share["numerator"], share["denominator"]) == (21, 55)
    assert share["value"] != pytest.approx((50 + 20 + 100) / 3)
    # activation rate of 507: 24 / (6 + 24) = 80 %
    assert one(db, "activation_rate", "507", "2025-12")["value"] == pytest.approx(80.0)
    # 491 has nobody in services and 10 unemployed: 0 %, not null
    assert one(db, "activation_rate", "491", "2025-12")["value"] == 0
    # a municipality of MK10 with no rows (Juva 178): 0 jobseekers, shares 0/0 -> null
    assert one(db, "jobseekers", "178", "2025-12")["value"] == 0
    empty = one(db, "unemployed_share", "178", "2025-12")
    assert empty["value"] is None and empty["flag"] in (None, "")
    assert (empty["numerator"], empty["denominator"]) == (0, 0)
    # country = all rows: 20 + 30 + 5 = 55; nothing suppressed anywhere
    assert one(db, "jobseekers", "SSS", "2025-12")["value"] == 55
    assert cells(db, flag="suppressed").height == 0


def test_suppressed_cells_are_null_with_flag_never_zero(db):
    load(db, {"2025-12": december(small=True)})
    compute(db, ["2025-12"], progress=False)
    laid_off = one(db, "laid_off", "091", "2025-12")  # 3 persons: 1..4 is suppressed
    assert laid_off["flag"] == "suppressed"
    assert laid_off["value"] is None and laid_off["numerator"] is None
    # the ratio using a suppressed count (unemployed 3 of jobseekers 9) is suppressed too
    share = one(db, "unemployed_share", "091", "2025-12")
    assert share["flag"] == "suppressed"
    assert share["value"] is None and share["denominator"] is None
    # 9 jobseekers is published
    assert one(db, "jobseekers", "091", "2025-12")["value"] == 9
    suppressed = cells(db, flag="suppressed")
    assert suppressed.height > 0 and suppressed["value"].null_count() == suppressed.height


def test_merger_changes_the_trial_area_from_the_month_it_takes_effect(db):
    jan = (people("2026-01", "491", 10) + people("2026-01", "491", 10, "employed_open")
           # Pertunmaa's 5 persons now live in Mäntyharju
           + people("2026-01", "507", 11) + people("2026-01", "507", 24, "service"))
    load(db, {"2025-12": december(), "2026-01": jan})
    compute(db, None, progress=False)
    # 2025-12: 588 is a member; 2026-01: TA12 = 491 + 507 only: 20 + 35 = 55
    assert cells(db, area_code="588", month="2025-12", indicator="jobseekers").height == 12
    assert cells(db, area_code="588", month="2026-01").height == 0
    assert one(db, "jobseekers", "TA12", "2026-01")["value"] == 55
    assert one(db, "unemployed", "TA12", "2026-01")["value"] == 21
    # inflow in 2026-01 by person id: the 11 unemployed of 507 include 5 former 588
    # persons with new ids here (5 unemployed in 2025-12 under other ids) -> 5 inflows
    # into 507; the other 6 were unemployed in 507 in 2025-12
    assert one(db, "inflow_unemployed", "507", "2026-01")["value"] == 5


def status(url: str) -> dict[str, dict]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT * FROM month_status WHERE source = 'register'")).mappings().all()
    return {r["month"]: dict(r) for r in rows}


def vintage_of(url: str, indicator: str, month: str):
    return one(url, indicator, "SSS", month)["vintage"]


def test_incremental_recomputes_only_the_dependent_months(db):
    months = ["2025-08", "2025-09", "2025-10", "2025-11", "2025-12"]
    loaded = load(db, {m: december(m) for m in months})
    assert loaded == set(months)
    first = compute(db, sorted(loaded), progress=False)
    assert first.months == months
    before = status(db)
    before_cells = cells(db)

    revised = december("2025-10") + people("2025-10", "091", 16, "service", tag="new")
    changed = load(db, {"2025-10": revised})
    assert changed == {"2025-10"}
    report = compute(db, sorted(changed), progress=False)
    # 2025-10 itself, 2025-11 (its flows read 2025-10), 2025-09 (its interview cohort)
    assert report.months == ["2025-09", "2025-10", "2025-11"]

    after = status(db)
    for month in ("2025-08", "2025-12"):
        assert after[month]["computed_at"] == before[month]["computed_at"]
    for month in ("2025-09", "2025-10", "2025-11"):
        assert after[month]["computed_at"] > before[month]["computed_at"]
    assert after["2025-10"]["revision"] == 1
    assert after["2025-10"]["vintage"] > before["2025-10"]["vintage"]

    new_vintage = after["2025-10"]["vintage"]
    assert vintage_of(db, "jobseekers", "2025-10") == new_vintage
    assert vintage_of(db, "jobseekers", "2025-10") != vintage_of(db, "jobseekers", "2025-11")
    assert vintage_of(db, "inflow_unemployed", "2025-11") == new_vintage  # flows read t-1
    assert vintage_of(db, "jobseekers", "2025-11") == before["2025-11"]["vintage"]
    assert vintage_of(db, "initial_interview_5wd_share", "2025-09") == new_vintage  # t+1
    assert vintage_of(db, "jobseekers", "2025-09") == before["2025-09"]["vintage"]
    # the revision is visible: 16 new jobseekers in Helsinki in 2025-10
    assert one(db, "jobseekers", "091", "2025-10")["value"] == 16
    # months not recomputed are untouched, row for row
    keys = ["indicator", "population", "group", "area_type", "area_code", "month"]
    untouched = cells(db).filter(pl.col("month").is_in(["2025-08", "2025-12"])).sort(keys)
    assert untouched.equals(before_cells.filter(
        pl.col("month").is_in(["2025-08", "2025-12"])).sort(keys))


def test_a_new_month_reads_only_itself_and_the_month_before(db):
    """A new month M recomputes M-1 too (its interview cohort reads M), but M-1's stocks
    and flows are as stored: M-2's rows are not read, and the table equals a full
    recompute's."""
    months = ["2025-08", "2025-09", "2025-10", "2025-11"]
    # a few new jobseekers every month (inflows) and leavers (exits) in Mikkeli
    def month_rows(m: str) -> list[dict]:
        return december(m) + people(m, "491", 7, tag=m)

    load(db, {m: month_rows(m) for m in months})
    compute(db, months, progress=False)
    new = month_rows("2025-12")
    assert load(db, {"2025-12": new}) == {"2025-12"}
    report = compute(db, ["2025-12"], progress=False)
    assert report.months == ["2025-11", "2025-12"]
    assert report.rows_read == len(month_rows("2025-11")) + len(new)  # not 2025-10's
    keys = ["indicator", "population", "group", "area_type", "area_code", "month"]
    incremental = cells(db).sort(keys)
    assert one(db, "inflow_unemployed", "491", "2025-11")["value"] == 7
    loads = status(db)  # 2025-11's interview cohort is new (it reads 2025-12), its flows not
    assert vintage_of(db, "initial_interview_5wd_share", "2025-11") == loads["2025-12"]["vintage"]
    assert vintage_of(db, "inflow_unemployed", "2025-11") == loads["2025-11"]["vintage"]
    compute(db, None, progress=False)
    assert cells(db).sort(keys).equals(incremental)


def test_cli_compute_recomputes_everything_with_the_same_result(db):
    from shell.cli import main

    months = ["2025-11", "2025-12"]
    load(db, {m: december(m) for m in months})
    compute(db, months, progress=False)
    keys = ["indicator", "population", "group", "area_type", "area_code", "month"]
    before = cells(db).sort(keys)
    result = CliRunner().invoke(main, ["compute", "--db", db, "-q"])
    assert result.exit_code == 0, result.output
    assert "computed 2 month(s)" in result.output
    assert cells(db).sort(keys).equals(before)
    assert before.height > 0


def test_statfin_rows_are_left_alone(db):
    engine = get_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO indicator_value (indicator, population, \"group\", area_type, "
            "area_code, month, value, vintage) VALUES ('stat_unemployed', 'all', 'all', "
            "'country', 'SSS', '2025-12', 1234, '2026-01-20 08:00:00')"))
    load(db, {"2025-12": december()})
    compute(db, None, progress=False)
    assert one(db, "stat_unemployed", "SSS", "2025-12")["value"] == 1234


def test_month_arithmetic():
    assert shift_month("2025-01", -1) == "2024-12"
    assert shift_month("2024-12", 1) == "2025-01"


def test_newest_months_first_publish_what_one_computation_publishes(tmp_path):
    """Months computed newest first (a backfill of history; the demo's first start) publish
    exactly the cells one computation of all months publishes: the first computed month's
    exit family keeps the pattern of the loaded month before it, which is derived since
    it is not yet published. Otherwise that month would be published twice with two
    patterns, and as-of reads keep both."""
    from etl.demo import build_demo
    from shell.pipeline import prepare_database

    keys = ["indicator", "population", "group", "area_type", "area_code", "month"]
    figures = [*keys, "value", "numerator", "denominator", "flag"]
    urls = {}
    for name in ("one", "staged"):
        urls[name] = f"sqlite:///{(tmp_path / f'{name}.sqlite').as_posix()}"
        prepare_database(urls[name])
        build_demo(urls[name], scale=0.004, start="2023-08", end="2024-01", seed=3,
                   progress=False)
    compute(urls["one"], None, progress=False)
    reference = cells(urls["one"]).select(figures).sort(keys)

    newest = compute(urls["staged"], ["2023-12", "2024-01"], progress=False, pending=False)
    assert newest.months == ["2023-11", "2023-12", "2024-01"]  # 2023-11: interview cohort
    first = cells(urls["staged"]).select(figures).sort(keys)
    assert first.equals(reference.filter(pl.col("month") >= "2023-11"))
    older = compute(urls["staged"], [], progress=False)  # what is loaded and not published
    assert older.months == ["2023-08", "2023-09", "2023-10", "2023-11"]
    assert cells(urls["staged"]).select(figures).sort(keys).equals(reference)
    with get_engine(urls["staged"]).connect() as conn:  # nothing published was replaced
        assert conn.exec_driver_sql("select count(*) from indicator_value_history").scalar() == 0
