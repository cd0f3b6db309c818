"""The synthetic register extracts: determinism, the input contract, and realism.

Every expectation is computed here directly from the generated rows with Polars
(never through the indicator code) and compared with figures from the brief: at
national scale 0.6-0.7 million jobseekers and 250,000-350,000 unemployed a month,
about 230,000 trial customers during the trial, 30-40 % long-term unemployed.
"""

from __future__ import annotations

from datetime import date

import holidays
import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from etl.demo import SERVICE_TYPES, build_demo, generate_months, write_parquet
from etl.reference import load_reference
from etl.register import load_register_frames
from trialmon.db import get_engine
from trialmon.schema import register_row, vintage

SCALE = 0.02
SEED = 11
UNEMPLOYED = ("unemployed", "laid_off")
DATE_COLUMNS = ("registered_on", "unemployment_start", "initial_interview_on",
                "plan_updated_on", "last_review_on")
MONTH_END = pl.col("month").str.to_date("%Y-%m").dt.month_end()


@pytest.fixture(scope="module")
def rows() -> pl.DataFrame:
    """Six years of synthetic months at scale 0.02 (about 13,000 rows a month)."""
    return pl.concat(generate_months(SCALE, "2020-01", "2025-12", SEED))


@pytest.fixture(scope="module")
def monthly(rows) -> pl.DataFrame:
    unemployed = pl.col("status").is_in(UNEMPLOYED)
    return rows.group_by("month").agg(
        jobseekers=pl.len(),
        unemployed=unemployed.sum(),
        laid_off=(pl.col("status") == "laid_off").sum(),
        trial=(pl.col("responsibility") == "trial").sum(),
        under_30=(pl.col("age") < 30).sum(),
    ).sort("month")


def _trial_municipalities() -> set[str]:
    members = load_reference().members
    return set(members.filter(pl.col("area_type") == "trial_area")["municipality_code"])


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames_and_another_seed_does_not():
    first = list(generate_months(0.005, "2021-01", "2021-03", 5))
    again = list(generate_months(0.005, "2021-01", "2021-03", 5))
    other = list(generate_months(0.005, "2021-01", "2021-03", 6))
    assert [f["month"][0] for f in first] == ["2021-01", "2021-02", "2021-03"]
    assert all(a.equals(b) for a, b in zip(first, again, strict=True))
    assert not any(a.equals(b) for a, b in zip(first, other, strict=True))


def test_a_window_is_a_slice_of_the_same_world():
    """Months do not depend on the range asked for, so regenerating a month and
    loading it again is not a revision."""
    longer = list(generate_months(0.005, "2021-01", "2021-03", 5))
    shorter = list(generate_months(0.005, "2021-03", "2021-03", 5))
    assert shorter[0].equals(longer[2])


# --------------------------------------------------------------------------- the contract


def test_generated_months_pass_the_loader(db):
    changed = build_demo(db, 0.005, "2020-12", "2021-01", 3, progress=False)
    assert changed == {"2020-12", "2021-01"}
    # Across the Pertunmaa merger (588 ends 2025-12) too, once 2026-01 is not in the
    # future (the loader rejects future months).
    late_end = "2026-01" if date.today() >= date(2026, 2, 1) else "2025-12"
    later = list(generate_months(0.005, "2025-12", late_end, 3))
    report = load_register_frames(db, [(f["month"][0], f) for f in later], synthetic=True,
                                  progress=False)
    assert set(report.changed_months) == {"2025-12", late_end}
    expected = {f["month"][0]: f.height for f in [*generate_months(
        0.005, "2020-12", "2021-01", 3), *later]}
    with get_engine(db).connect() as conn:
        stored = dict(conn.execute(sa.select(register_row.c.month, sa.func.count())
                                   .group_by(register_row.c.month)).all())
        synthetic = set(conn.execute(sa.select(vintage.c.synthetic)).scalars())
    assert stored == expected
    assert synthetic == {True}
    # Loading the same months again changes nothing.
    assert build_demo(db, 0.005, "2020-12", "2021-01", 3, progress=False) == set()


def test_columns_and_types_follow_the_contract(rows):
    assert rows.columns == ["month", "person_id", "municipality_code", "age", "sex",
                            "foreign_language", "earnings_related", "status", "service_type",
                            "responsibility", *DATE_COLUMNS]
    assert rows.schema["foreign_language"] == pl.Boolean
    assert rows.schema["earnings_related"] == pl.Boolean
    assert all(rows.schema[c] == pl.Date for c in DATE_COLUMNS)
    assert rows.schema["age"].is_integer()
    checks = rows.select(
        ids=pl.col("person_id").str.contains(r"^P\d+$").all(),
        codes=pl.col("municipality_code").str.contains(r"^\d{3}$").all(),
        sexes=pl.col("sex").is_in(["M", "F"]).all(),
        responsibility=pl.col("responsibility").is_in(["trial", "te_office"]).all(),
        statuses=pl.col("status").is_in(["unemployed", "laid_off", "short_week", "service",
                                          "employed_open", "other"]).all(),
        ages=pl.col("age").is_between(15, 99).all(),
        working_age=pl.col("age").is_between(17, 67).mean(),
        no_null=pl.col("registered_on").is_not_null().all(),
    )
    assert checks.select(pl.exclude("working_age")).row(0) == (True,) * 7
    assert checks["working_age"][0] > 0.97


def test_service_type_exactly_when_in_a_service_and_every_type_used(rows):
    service = pl.col("status") == "service"
    assert rows.filter(service != pl.col("service_type").is_not_null()).is_empty()
    shares = (rows.filter(service)["service_type"].value_counts(normalize=True)
              .sort("service_type"))
    assert set(shares["service_type"]) == set(SERVICE_TYPES)
    share = dict(zip(shares["service_type"], shares["proportion"], strict=True))
    # Pay subsidy and labour training are the big ones; every type at least 1 %.
    assert share["pay_subsidy"] > 0.15 and share["labour_training"] > 0.15
    assert min(share.values()) > 0.01


def test_unemployment_start_exactly_when_unemployed_and_never_before_registration(rows):
    unemployed = pl.col("status").is_in(UNEMPLOYED)
    assert rows.filter(unemployed != pl.col("unemployment_start").is_not_null()).is_empty()
    assert rows.filter(pl.col("unemployment_start") < pl.col("registered_on")).is_empty()


def test_no_date_after_the_months_last_day_nor_before_registration(rows):
    for column in DATE_COLUMNS:
        assert rows.filter(pl.col(column) > MONTH_END).is_empty(), column
        assert rows.filter(pl.col(column) < pl.col("registered_on")).is_empty(), column


def test_one_row_per_person_and_month(rows):
    assert rows.select("month", "person_id").is_unique().all()


def test_persons_are_followed_from_month_to_month(rows):
    """A person present in consecutive months is in the same job-seeking spell, and an
    unemployment spell that continues keeps its start date."""
    following = rows.select(
        "person_id", "registered_on", "unemployment_start",
        month=(pl.col("month").str.to_date("%Y-%m").dt.offset_by("-1mo").dt.strftime("%Y-%m")),
    )
    pairs = rows.join(following, on=["month", "person_id"], suffix="_next")
    assert pairs.height > 0.8 * rows.filter(pl.col("month") < "2025-12").height
    assert (pairs["registered_on"] == pairs["registered_on_next"]).all()
    continuing = pairs.filter(pl.col("unemployment_start_next").is_not_null()
                              & pl.col("unemployment_start").is_not_null())
    assert continuing.height > 0
    assert (continuing["unemployment_start"] == continuing["unemployment_start_next"]).all()


def test_municipalities_follow_the_mergers(rows):
    honkajoki = rows.filter(pl.col("municipality_code") == "099")
    pertunmaa = rows.filter(pl.col("municipality_code") == "588")
    assert honkajoki.height > 0 and honkajoki["month"].max() == "2020-12"
    assert pertunmaa.height > 0 and pertunmaa["month"].max() == "2025-12"
    stayed = rows.filter(pl.col("month") == "2021-01").join(
        honkajoki.filter(pl.col("month") == "2020-12"), on="person_id")
    assert stayed.height > 0
    assert set(stayed["municipality_code"]) == {"214"}  # Kankaanpää
    december, january = generate_months(0.05, "2025-12", "2026-01", SEED)
    pertunmaa = december.filter(pl.col("municipality_code") == "588")
    moved = january.join(pertunmaa, on="person_id")
    assert pertunmaa.height > 0 and moved.height > 0
    assert "588" not in set(january["municipality_code"])
    assert set(moved["municipality_code"]) == {"507"}  # Mäntyharju


# --------------------------------------------------------------------------- magnitudes


def test_national_magnitudes_scaled_up(monthly):
    jobseekers = monthly["jobseekers"] / SCALE
    unemployed = monthly["unemployed"] / SCALE
    assert jobseekers.min() > 560_000 and jobseekers.max() < 720_000
    assert unemployed.min() > 250_000 and unemployed.max() < 350_000


def test_trial_customers_only_in_trial_areas_during_the_trial(rows, monthly):
    during = pl.col("month").is_between(pl.lit("2021-03"), pl.lit("2024-12"))
    trial = rows.filter(pl.col("responsibility") == "trial")
    assert trial.filter(~during).is_empty()
    assert set(trial["municipality_code"]) <= _trial_municipalities()
    customers = monthly.filter(during)["trial"] / SCALE
    assert 200_000 < customers.mean() < 260_000
    assert customers.min() > 180_000 and customers.max() < 280_000


def test_trial_customers_are_exactly_the_target_group_in_trial_areas(rows):
    target = (pl.col("age") < 30) | (
        pl.col("status").is_in(["unemployed", "laid_off", "service"])
        & (pl.col("foreign_language") | ~pl.col("earnings_related")))
    served = (pl.col("municipality_code").is_in(list(_trial_municipalities()))
              & pl.col("month").is_between(pl.lit("2021-03"), pl.lit("2024-12")))
    mismatched = rows.filter((pl.col("responsibility") == "trial") != (target & served))
    assert mismatched.is_empty()


def test_attribute_shares(rows):
    unemployed = rows.filter(pl.col("status").is_in(UNEMPLOYED))
    assert 0.15 <= rows["foreign_language"].mean() <= 0.20
    assert 0.48 <= unemployed["earnings_related"].mean() <= 0.62
    foreign_by_place = rows.group_by(pl.col("municipality_code") == "091").agg(
        pl.col("foreign_language").mean())
    helsinki = foreign_by_place.filter(pl.col("municipality_code"))["foreign_language"][0]
    elsewhere = foreign_by_place.filter(~pl.col("municipality_code"))["foreign_language"][0]
    # Statistics Finland publishes Helsinki's foreign share of the unemployed at about
    # 1.35x the rest of the country's (12r5, 2026M06: 10 854 / 52 578 against
    # 42 958 / 299 423); the demo takes its municipal shares from that table.
    published = 10_854 / 52_578 / (42_958 / 299_423)
    assert 0.8 * published < helsinki / elsewhere < 1.25 * published


# --------------------------------------------------------------------------- dynamics


def test_young_jobseekers_peak_in_summer(monthly):
    young = dict(zip(monthly["month"], monthly["under_30"], strict=True))
    for year in range(2020, 2026):
        assert young[f"{year}-07"] > 1.05 * young[f"{year}-03"], year


def test_lay_offs_peak_in_winter(monthly):
    laid_off = dict(zip(monthly["month"], monthly["laid_off"], strict=True))
    for year in range(2021, 2026):
        assert laid_off[f"{year}-01"] > 1.5 * laid_off[f"{year}-09"], year
    assert laid_off["2020-04"] > 2 * laid_off["2020-02"]  # COVID


def test_business_cycle(monthly):
    mean = {year: monthly.filter(pl.col("month").str.starts_with(str(year)))["unemployed"].mean()
            for year in (2020, 2022, 2025)}
    unemployed = dict(zip(monthly["month"], monthly["unemployed"], strict=True))
    assert unemployed["2020-05"] > 1.08 * unemployed["2020-01"]  # COVID
    assert mean[2022] < mean[2020] and mean[2025] > mean[2022]


def test_long_term_unemployment(rows):
    """Unemployed since at least the same month a year earlier: 20-50 % every month,
    more common among the old than among the young."""
    a_year_ago = MONTH_END.dt.offset_by("-1y").dt.month_end()
    unemployed = rows.filter(pl.col("status").is_in(UNEMPLOYED)).with_columns(
        long_term=pl.col("unemployment_start") <= a_year_ago)
    by_month = unemployed.group_by("month").agg(pl.col("long_term").mean())
    assert by_month["long_term"].min() > 0.20 and by_month["long_term"].max() < 0.50
    later = unemployed.filter(pl.col("month") >= "2022-01")
    assert 0.28 < later["long_term"].mean() < 0.42
    old = later.filter(pl.col("age") >= 55)["long_term"].mean()
    young = later.filter(pl.col("age") < 30)["long_term"].mean()
    assert old > 1.5 * young


def test_exits_to_jobs_and_out_of_the_register(rows):
    unemployed = rows.filter(pl.col("status").is_in(UNEMPLOYED), pl.col("month") < "2025-12")
    following = rows.select("person_id", pl.col("status").alias("next_status"),
                            month=pl.col("month").str.to_date("%Y-%m").dt.offset_by("-1mo")
                            .dt.strftime("%Y-%m"))
    outcome = unemployed.join(following, on=["month", "person_id"], how="left")
    shares = outcome.select(
        open_market=(pl.col("next_status") == "employed_open").fill_null(False).mean(),
        service=(pl.col("next_status") == "service").fill_null(False).mean(),
        left=pl.col("next_status").is_null().mean(),
    ).row(0, named=True)
    assert 0.02 < shares["open_market"] < 0.10
    assert 0.02 < shares["service"] < 0.12
    assert 0.04 < shares["left"] < 0.20


# --------------------------------------------------------------------------- the Nordic model


def _working_days_after(start: pl.Series, end: pl.Series) -> np.ndarray:
    """Working days in (start, end]: Monday-Friday except Finnish public holidays."""
    days = np.array(sorted(holidays.Finland(years=range(2019, 2027))), dtype="datetime64[D]")
    return np.busday_count(start.to_numpy() + np.timedelta64(1, "D"),
                           end.to_numpy() + np.timedelta64(1, "D"), holidays=days)


def test_initial_interviews_only_from_the_nordic_model(rows):
    interviewed = rows.filter(pl.col("initial_interview_on").is_not_null())
    assert interviewed["month"].min() == "2022-05"
    assert interviewed["registered_on"].min() >= date(2022, 5, 2)
    assert interviewed.filter(pl.col("initial_interview_on") < pl.col("registered_on")).is_empty()


def test_most_initial_interviews_within_five_working_days(rows):
    """The spec's cohort: registered in month t (from 2022-05-02), seen in month t+1."""
    seen_next_month = rows.filter(
        pl.col("registered_on") >= date(2022, 5, 2),
        pl.col("registered_on").dt.strftime("%Y-%m")
        == pl.col("month").str.to_date("%Y-%m").dt.offset_by("-1mo").dt.strftime("%Y-%m"))
    interviewed = seen_next_month.filter(pl.col("initial_interview_on").is_not_null())
    on_time = _working_days_after(interviewed["registered_on"],
                                  interviewed["initial_interview_on"]) <= 5
    share = on_time.sum() / seen_next_month.height
    assert 0.6 < share < 0.92
    by_place = interviewed.with_columns(on_time=pl.Series(on_time)).group_by(
        "municipality_code").agg(pl.col("on_time").mean(), pl.len()).filter(pl.col("len") >= 200)
    assert by_place["on_time"].max() - by_place["on_time"].min() > 0.1  # varies by area


def test_plans_and_reviews_kept_up_to_date_from_2022_05(rows):
    three_months = MONTH_END.dt.offset_by("-2mo").dt.month_start()
    unemployed = rows.filter(pl.col("status").is_in(UNEMPLOYED),
                             ~pl.col("month").is_between(pl.lit("2022-05"), pl.lit("2022-07")))
    shares = unemployed.group_by(nordic=pl.col("month") >= "2022-08").agg(
        plan=(pl.col("plan_updated_on") >= three_months).fill_null(False).mean(),
        review=(pl.col("last_review_on") >= three_months).fill_null(False).mean(),
        has_plan=pl.col("plan_updated_on").is_not_null().mean(),
    ).sort("nordic")
    before, after = shares.row(0, named=True), shares.row(1, named=True)
    assert before["has_plan"] > 0.7 and before["review"] < 0.15
    assert after["plan"] > 0.7 and after["review"] > 0.7


# --------------------------------------------------------------------------- Parquet


def test_write_parquet_streams_the_same_rows(tmp_path):
    path = tmp_path / "demo.parquet"
    written = write_parquet(path, 0.005, "2021-01", "2021-03", 5)
    expected = pl.concat(generate_months(0.005, "2021-01", "2021-03", 5))
    assert written == expected.height
    assert pl.read_parquet(path).equals(expected)


def test_demo_command_writes_parquet_instead_of_loading(tmp_path):
    from click.testing import CliRunner

    from shell.cli import main

    out = tmp_path / "extract.parquet"
    db = tmp_path / "untouched.sqlite"
    result = CliRunner().invoke(main, ["demo", "--scale", "0.002", "--from", "2022-05",
                                       "--to", "2022-06", "--seed", "4", "--out", str(out),
                                       "--db", f"sqlite:///{db}", "-q"])
    assert result.exit_code == 0, result.output
    written = pl.read_parquet(out)
    assert sorted(set(written["month"])) == ["2022-05", "2022-06"]
    assert written.equals(pl.concat(generate_months(0.002, "2022-05", "2022-06", 4)))
    assert not db.exists()


@pytest.mark.parametrize("options", [["--from", "2021-13"], ["--from", "2022-01", "--to", "2021-12"],
                                     ["--scale", "0"]])
def test_demo_command_rejects_bad_options(tmp_path, options):
    from click.testing import CliRunner

    from shell.cli import main

    out = tmp_path / "extract.parquet"
    result = CliRunner().invoke(main, ["demo", *options, "--out", str(out), "-q"])
    assert result.exit_code == 1
    assert "error: demo:" in result.output
    assert not out.exists()


def test_people_of_an_ending_municipality_move_to_the_largest_of_its_region():
    """Without a known merger partner, Alajärvi (005, Etelä-Pohjanmaa) ending 2020-12
    sends its people to Seinäjoki (743), the region's largest town."""
    reference = load_reference()
    ends = pl.when(pl.col("area_code") == "005").then(pl.lit(date(2020, 12, 31)))
    areas = reference.areas.with_columns(valid_to=ends.otherwise(pl.col("valid_to")))
    members = reference.members.with_columns(
        valid_to=pl.when(pl.col("municipality_code") == "005").then(pl.lit(date(2020, 12, 31)))
        .otherwise(pl.col("valid_to")))
    changed = type(reference)(areas=areas, members=members)
    december, january = generate_months(0.05, "2020-12", "2021-01", 2, reference=changed)
    alajarvi = december.filter(pl.col("municipality_code") == "005")
    assert alajarvi.height > 0
    assert "005" not in set(january["municipality_code"])
    moved = january.join(alajarvi, on="person_id")
    assert moved.height > 0.6 * alajarvi.height
    assert set(moved["municipality_code"]) == {"743"}
