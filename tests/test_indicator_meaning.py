"""Tests that fail when an indicator's meaning changes.

One hand-built municipality (Helsinki, 091) over three months: t-1 = 2023-05,
t = 2023-06, t+1 = 2023-07. Every indicator is computed the way the engine computes it
(`municipal_measures` -> `ratios.indicator_cells`, numerator and denominator read from
indicators/indicators.meta.yml) and compared with its value counted by hand below.
The persons are chosen so that each plausible wrong definition gives another value:
each numerator or denominator swapped for a neighbour, and each boundary moved by one
(12 months for long-term, t-2 for plans and reviews, the 5th working day and Midsummer
Eve, the cell from t-1 for exits, absent persons in the exits' denominator). The table
at the end lists, per indicator, the value each such wrong definition would give.

Month t (2023-06), 091 -- 18 rows:
  u1 unemployed, spell from 2022-06-30 (exactly the long-term cut-off), plan 2023-04-01
     (first day of t-2), review 2023-03-31 (last day of t-3)
  u2 unemployed, from 2022-07-01 (one day short),  plan 2023-03-31, review 2023-04-01
  u3 unemployed, from 2022-05-31 (13 months),      plan 2023-06-30 (last day of t)
  u4 unemployed, from 2023-01-15,                  review 2023-06-10
  u5 unemployed, from 2020-01-01
  u6 unemployed, from 2023-06-05, absent in t-1 (an inflow)
  l1 laid off,   from 2021-03-03,                  plan 2023-05-02
  l2 laid off,   from 2023-06-01, status other in t-1 (an inflow)
  s1 service labour_training, plan 2023-06-01 (a recent plan, but not unemployed)
  s2 service pay_subsidy, review 2023-06-01 (a recent review, but not unemployed)
  s3 service pay_subsidy
  s4 service coaching
  e1, e2, e3 employed_open; m1 employed_open (was unemployed in 049 in t-1)
  o1 other; w1 short_week
Month t-1 (2023-05): u1..u5 and l1 unemployed/laid off as in t; l2 other; e1, s1, s3, x1
  unemployed in 091; e2, s2 service; m1 unemployed in 049. (x1 is absent from t.)
Month t+1 (2023-07), the interview cohort of t, 091: c1 registered Mon 2023-06-19,
  interviewed 06-27; c2 registered 06-19, interviewed 06-28; c3 registered 06-05,
  interviewed 06-07; c4 registered 06-19, not interviewed; c5 registered 2023-05-31
  (cohort of t-1), interviewed 06-01. Working days after Mon 19 June 2023: Tue 20 (1),
  Wed 21 (2), Thu 22 (3), [Fri 23 Midsummer Eve, a holiday], Mon 26 (4), Tue 27 (5).
"""

from __future__ import annotations

import datetime as dt
from datetime import date

import polars as pl
import pytest

from etl.contract import COLUMNS as CONTRACT_COLUMNS
from indicators import ratios
from indicators.measures import municipal_measures

T_PREV, T, T_NEXT = "2023-05", "2023-06", "2023-07"
LOADED = {T_PREV, T, T_NEXT}


def person(month: str, pid: str, status: str, **kw) -> dict:
    unemployed = status in ("unemployed", "laid_off")
    return {
        "month": month, "person_id": pid, "municipality_code": "091", "age": 40, "sex": "F",
        "foreign_language": False, "earnings_related": True, "status": status,
        "service_type": kw.pop("service_type", "coaching" if status == "service" else None),
        "responsibility": "te_office", "registered_on": date(2020, 1, 1),
        "unemployment_start": date(2020, 1, 1) if unemployed else None,
        "initial_interview_on": None, "plan_updated_on": None, "last_review_on": None, **kw}


def rows() -> pl.LazyFrame:
    t = [
        person(T, "u1", "unemployed", unemployment_start=date(2022, 6, 30),
               plan_updated_on=date(2023, 4, 1), last_review_on=date(2023, 3, 31)),
        person(T, "u2", "unemployed", unemployment_start=date(2022, 7, 1),
               plan_updated_on=date(2023, 3, 31), last_review_on=date(2023, 4, 1)),
        person(T, "u3", "unemployed", unemployment_start=date(2022, 5, 31),
               plan_updated_on=date(2023, 6, 30)),
        person(T, "u4", "unemployed", unemployment_start=date(2023, 1, 15),
               last_review_on=date(2023, 6, 10)),
        person(T, "u5", "unemployed", unemployment_start=date(2020, 1, 1)),
        person(T, "u6", "unemployed", unemployment_start=date(2023, 6, 5)),
        person(T, "l1", "laid_off", unemployment_start=date(2021, 3, 3),
               plan_updated_on=date(2023, 5, 2)),
        person(T, "l2", "laid_off", unemployment_start=date(2023, 6, 1)),
        person(T, "s1", "service", service_type="labour_training",
               plan_updated_on=date(2023, 6, 1)),
        person(T, "s2", "service", service_type="pay_subsidy", last_review_on=date(2023, 6, 1)),
        person(T, "s3", "service", service_type="pay_subsidy"),
        person(T, "s4", "service", service_type="coaching"),
        person(T, "e1", "employed_open"), person(T, "e2", "employed_open"),
        person(T, "e3", "employed_open"), person(T, "m1", "employed_open"),
        person(T, "o1", "other"), person(T, "w1", "short_week"),
    ]
    previous = [
        person(T_PREV, "u1", "unemployed", unemployment_start=date(2022, 6, 30)),
        person(T_PREV, "u2", "unemployed", unemployment_start=date(2022, 7, 1)),
        person(T_PREV, "u3", "unemployed", unemployment_start=date(2022, 5, 31)),
        person(T_PREV, "u4", "unemployed", unemployment_start=date(2023, 1, 15)),
        person(T_PREV, "u5", "unemployed"),
        person(T_PREV, "l1", "laid_off", unemployment_start=date(2021, 3, 3)),
        person(T_PREV, "l2", "other"),
        person(T_PREV, "e1", "unemployed"), person(T_PREV, "s1", "unemployed"),
        person(T_PREV, "s3", "unemployed"), person(T_PREV, "x1", "unemployed"),
        person(T_PREV, "e2", "service"), person(T_PREV, "s2", "service"),
        person(T_PREV, "m1", "unemployed", municipality_code="049"),
    ]
    cohort = [
        person(T_NEXT, "c1", "unemployed", registered_on=date(2023, 6, 19),
               unemployment_start=date(2023, 6, 19), initial_interview_on=date(2023, 6, 27)),
        person(T_NEXT, "c2", "unemployed", registered_on=date(2023, 6, 19),
               unemployment_start=date(2023, 6, 19), initial_interview_on=date(2023, 6, 28)),
        person(T_NEXT, "c3", "unemployed", registered_on=date(2023, 6, 5),
               unemployment_start=date(2023, 6, 5), initial_interview_on=date(2023, 6, 7)),
        person(T_NEXT, "c4", "unemployed", registered_on=date(2023, 6, 19),
               unemployment_start=date(2023, 6, 19)),
        person(T_NEXT, "c5", "unemployed", registered_on=date(2023, 5, 31),
               unemployment_start=date(2023, 5, 31), initial_interview_on=date(2023, 6, 1)),
    ]
    return pl.DataFrame(previous + t + cohort, schema=dict(CONTRACT_COLUMNS)).lazy()


@pytest.fixture(scope="module")
def computed() -> dict[str, float]:
    """{indicator: value} of 091, month t, population and group 'all', as the engine
    computes them (no disclosure control: the counts are below the threshold)."""
    measures = municipal_measures(rows(), [T], LOADED)
    cells = measures.filter(pl.col("population") == "all", pl.col("group") == "all").select(
        "month", pl.lit("municipality").alias("area_type"),
        pl.col("municipality_code").alias("area_code"), "population", "group", "measure",
        "value", pl.lit(False).alias("suppressed"))
    vintages = measures.select("month", "measure").unique().with_columns(
        vintage=pl.lit(dt.datetime(2023, 8, 1, tzinfo=dt.UTC)))
    out = ratios.indicator_cells(cells, vintages).filter(pl.col("area_code") == "091")
    return dict(zip(out["indicator"], out["value"], strict=True))


# indicator -> (right value worked out by hand, {wrong definition: the value it would give})
HAND = {
    # jobseekers: every row of t = 8 unemployed + 4 in services + 4 employed + o1 + w1
    "jobseekers": (18, {"unemployed only": 8}),
    "unemployed": (8, {"without the laid off": 6, "with the short-week": 9}),
    "laid_off": (2, {}),
    # spell start <= 2022-06-30: u1 (on the day), u3, u5, l1
    "long_term_unemployed": (4, {"11 months (<= 2022-07-31, adds u2)": 5,
                                 "13 months (<= 2022-05-31, drops u1)": 3,
                                 "strictly before the cut-off (drops u1)": 3,
                                 "without the laid off (drops l1)": 3}),
    "in_services": (4, {}),
    "in_labour_training": (1, {"pay subsidy instead": 2}),
    "in_pay_subsidy": (2, {"labour training instead": 1}),
    "employed_open": (4, {"without m1, who moved in": 3}),
    # 100 x 8 / 18
    "unemployed_share": (100 * 8 / 18, {"/ unemployed + in services": 100 * 8 / 12,
                                        "without the laid off": 100 * 6 / 18}),
    # 100 x 4 / 8
    "long_term_share": (100 * 4 / 8, {"/ jobseekers": 100 * 4 / 18,
                                      "11 months": 100 * 5 / 8, "13 months": 100 * 3 / 8}),
    # 100 x 4 / (8 + 4)
    "activation_rate": (100 * 4 / 12, {"/ jobseekers": 100 * 4 / 18,
                                       "/ unemployed": 100 * 4 / 8,
                                       "pay subsidy only": 100 * 2 / 12}),
    # unemployed in t, not unemployed in t-1: u6 (absent), l2 (other)
    "inflow_unemployed": (2, {"all unemployed of t": 8, "absent in t-1 only": 1}),
    # unemployed in t-1 in 091: u1..u5, l1, e1, s1, s3, x1 = 10; employed_open in t: e1
    "exit_open_market_rate": (100 * 1 / 10, {
        "cell from the row in t (adds m1)": 100 * 2 / 10,
        "without x1, absent in t": 100 * 1 / 9,
        "/ unemployed in t": 100 * 1 / 8,
        "every employed_open of t": 100 * 4 / 10}),
    # in service in t: s1, s3
    "exit_services_rate": (100 * 2 / 10, {"without x1": 100 * 2 / 9,
                                          "every service row of t": 100 * 4 / 10}),
    # unemployed with a plan in 2023-04-01 .. 2023-06-30: u1, u3, l1 (u2's is in t-3)
    "plan_up_to_date_share": (100 * 3 / 8, {"t-3 included (adds u2)": 100 * 4 / 8,
                                           "t-1 only (drops u1)": 100 * 2 / 8,
                                           "any status (adds s1)": 100 * 4 / 18,
                                           "reviews instead": 100 * 2 / 8}),
    # unemployed with a review in 2023-04-01 .. 2023-06-30: u2, u4 (u1's is in t-3)
    "review_3m_share": (100 * 2 / 8, {"t-3 included (adds u1)": 100 * 3 / 8,
                                     "t-1 only (drops u2)": 100 * 1 / 8,
                                     "any status (adds s2)": 100 * 3 / 18,
                                     "plans instead": 100 * 3 / 8}),
    # cohort registered in June, seen in July: c1..c4; interviewed by the 5th working
    # day: c1 (06-27, the 5th), c3
    "initial_interview_5wd_share": (100 * 2 / 4, {
        "4 working days (drops c1)": 100 * 1 / 4, "6 working days (adds c2)": 100 * 3 / 4,
        "Midsummer Eve a working day (drops c1)": 100 * 1 / 4,
        "5 calendar days (drops c1)": 100 * 1 / 4,
        "c5 of May counted (adds c5)": 100 * 3 / 5}),
}


def test_every_register_indicator_has_a_hand_built_case(computed):
    from indicators.registry import REGISTER_INDICATORS

    assert {i.id for i in REGISTER_INDICATORS} == set(HAND) == set(computed)


@pytest.mark.parametrize("indicator", list(HAND))
def test_indicator_means_what_it_says(computed, indicator):
    right, wrong = HAND[indicator]
    # the case separates the right definition from each wrong one ...
    assert all(abs(value - right) > 1e-9 for value in wrong.values()), wrong
    # ... and the computation gives the right one
    assert computed[indicator] == pytest.approx(right, abs=1e-9)
