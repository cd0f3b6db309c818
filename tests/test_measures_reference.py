"""Cross-check of municipal_measures against a deliberately naive reference.

The reference below is written independently of the Polars code: plain Python,
one row at a time, straight from the wording of shared/spec/indicators.md (a
working-day count by stepping through the calendar, long-term cutoffs from
``calendar.monthrange``). Random small extracts over four months exercise every
measure, population and group, including people who come, go and move.
"""

from __future__ import annotations

import calendar
import random
from collections import Counter
from datetime import date, timedelta

import holidays
import polars as pl
import pytest

from indicators.measures import municipal_measures
from tests.test_measures import SCHEMA

MONTHS = ["2022-04", "2022-05", "2022-06", "2022-07"]
STATUSES = ["unemployed", "laid_off", "short_week", "service", "employed_open", "other"]
SERVICE_TYPES = ["pay_subsidy", "labour_training", "coaching"]
MUNICIPALITIES = ["091", "049", "092"]
FI_HOLIDAYS = holidays.country_holidays("FI", years=range(2021, 2024))


def month_bounds(month: str) -> tuple[date, date]:
    y, m = int(month[:4]), int(month[5:])
    return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])


def shift(month: str, k: int) -> str:
    y, m = int(month[:4]), int(month[5:]) - 1 + k
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def random_extract(seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for person in range(60):
        for month in MONTHS:
            if rng.random() < 0.25:  # absent this month
                continue
            first, last = month_bounds(month)
            status = rng.choice(STATUSES)
            registered = random_day(rng, first - timedelta(days=70), last)
            unemployed = status in ("unemployed", "laid_off")

            def maybe_day(lo: date, hi: date = last, p: float = 0.7) -> date | None:
                return random_day(rng, lo, hi) if rng.random() < p else None

            rows.append({
                "month": month,
                "person_id": f"p{person}",
                "municipality_code": rng.choice(MUNICIPALITIES),
                "age": rng.choice([18, 29, 30, 45]),
                "sex": "F",
                "foreign_language": rng.random() < 0.3,
                "earnings_related": rng.random() < 0.5,
                "status": status,
                "service_type": rng.choice(SERVICE_TYPES) if status == "service" else None,
                "responsibility": rng.choice(["trial", "te_office"]),
                "registered_on": registered,
                "unemployment_start": maybe_day(first - timedelta(days=500), last, 1.0)
                if unemployed else None,
                "initial_interview_on": maybe_day(registered, min(last, registered
                                                                  + timedelta(days=12))),
                "plan_updated_on": maybe_day(first - timedelta(days=120)),
                "last_review_on": maybe_day(first - timedelta(days=120)),
            })
    return rows


# --------------------------------------------------------------------------- the reference


def is_unemployed(r: dict | None) -> bool:
    return r is not None and r["status"] in ("unemployed", "laid_off")


def memberships(r: dict) -> tuple[list[str], list[str]]:
    target = r["age"] < 30 or (
        r["status"] in ("unemployed", "laid_off", "service")
        and (r["foreign_language"] or not r["earnings_related"])
    )
    populations = ["all"] + (["target_group"] if target else []) + (
        ["trial_customers"] if r["responsibility"] == "trial" else [])
    groups = ["all"] + (["under_30"] if r["age"] < 30 else []) + (
        ["foreign_language"] if r["foreign_language"] else []) + (
        ["no_earnings_related"] if not r["earnings_related"] else [])
    return populations, groups


def fifth_working_day_after(day: date) -> date:
    found = 0
    while found < 5:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in FI_HOLIDAYS:
            found += 1
    return day


def reference(rows: list[dict], month: str) -> Counter:
    """{(municipality, population, group, measure): count} for month t, counted row by row."""
    by_month = {m: {r["person_id"]: r for r in rows if r["month"] == m} for m in MONTHS}
    now, before, after = by_month[month], by_month.get(shift(month, -1)), by_month.get(
        shift(month, 1))
    first, last = month_bounds(month)
    y, m = int(month[:4]), int(month[5:])
    cutoff = date(y - 1, m, calendar.monthrange(y - 1, m)[1])
    window_start = month_bounds(shift(month, -2))[0]
    counts: Counter = Counter()

    def add(r: dict, measure: str) -> None:
        populations, groups = memberships(r)
        for p in populations:
            for g in groups:
                counts[(r["municipality_code"], p, g, measure)] += 1

    def recent(d: date | None) -> bool:
        return d is not None and window_start <= d <= last

    for pid, r in now.items():
        add(r, "jobseekers")
        if is_unemployed(r):
            add(r, "unemployed")
            add(r, "unemployed_or_in_services")
            if r["unemployment_start"] <= cutoff:
                add(r, "long_term_unemployed")
            if recent(r["plan_updated_on"]):
                add(r, "plan_up_to_date")
            if recent(r["last_review_on"]):
                add(r, "review_3m")
            if before is not None and not is_unemployed(before.get(pid)):
                add(r, "inflow_unemployed")
        if r["status"] == "laid_off":
            add(r, "laid_off")
        if r["status"] == "service":
            add(r, "in_services")
            add(r, "unemployed_or_in_services")
        if r["service_type"] == "labour_training":
            add(r, "in_labour_training")
        if r["service_type"] == "pay_subsidy":
            add(r, "in_pay_subsidy")
        if r["status"] == "employed_open":
            add(r, "employed_open")
    for pid, r in (before or {}).items():
        if is_unemployed(r):
            add(r, "unemployed_previous_month")
            status_now = now[pid]["status"] if pid in now else None
            if status_now == "employed_open":
                add(r, "exit_open_market")
            if status_now == "service":
                add(r, "exit_services")
    for r in (after or {}).values():
        registered = r["registered_on"]
        if first <= registered <= last and registered >= date(2022, 5, 2):
            add(r, "interview_cohort")
            interview = r["initial_interview_on"]
            if interview is not None and interview <= fifth_working_day_after(registered):
                add(r, "interview_5wd")
    return counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_measures_agree_with_a_row_by_row_reference(seed):
    rows = random_extract(seed)
    frame = pl.DataFrame(rows, schema=SCHEMA)
    loaded = set(MONTHS)
    computed = municipal_measures(frame.lazy(), MONTHS[1:3], loaded)  # 2022-05, 2022-06
    for month in MONTHS[1:3]:
        expected = reference(rows, month)
        got = computed.filter(pl.col("month") == month)
        assert got["value"].null_count() == 0  # neighbours loaded, from 2022-05 on
        nonzero = {
            (mun, p, g, meas): v
            for mun, p, g, meas, v in got.select(
                "municipality_code", "population", "group", "measure", "value").iter_rows()
            if v
        }
        assert nonzero == dict(expected), month
        assert sum(expected.values()) > 0
