"""Hand-worked tests of the municipal measures (indicators.measures and its families).

Every expected value below is counted by hand from the rows built in the test; the
comments show the arithmetic.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from etl.contract import COLUMNS as CONTRACT_COLUMNS
from indicators import registry
from indicators.measures import (
    GROUP_FILTERS,
    POPULATION_FILTERS,
    measure_first_months,
    months_read,
    municipal_measures,
)
from indicators.process import fifth_working_day_after, working_day_calendar
from tests.conftest import shared_file

SCHEMA = dict(CONTRACT_COLUMNS)  # the input contract's columns and Polars types


def row(month: str, person: str, status: str = "unemployed", **kw) -> dict:
    """One contract row with dull defaults: 40-year-old Finnish speaker with
    earnings-related allowance, served by the TE office, in Helsinki (091)."""
    unemployed = status in ("unemployed", "laid_off")
    base = {
        "month": month,
        "person_id": person,
        "municipality_code": "091",
        "age": 40,
        "sex": "F",
        "foreign_language": False,
        "earnings_related": True,
        "status": status,
        "service_type": "coaching" if status == "service" else None,
        "responsibility": "te_office",
        "registered_on": date(2020, 1, 1),
        "unemployment_start": date(2020, 1, 1) if unemployed else None,
        "initial_interview_on": None,
        "plan_updated_on": None,
        "last_review_on": None,
    }
    return {**base, **kw}


def frame(*rows: dict) -> pl.LazyFrame:
    return pl.DataFrame(list(rows), schema=SCHEMA).lazy()


def value(out: pl.DataFrame, month: str, municipality: str, measure: str,
          population: str = "all", group: str = "all"):
    """The single value of one cell; fails if the cell is missing or duplicated."""
    cell = out.filter(
        pl.col("month") == month,
        pl.col("municipality_code") == municipality,
        pl.col("measure") == measure,
        pl.col("population") == population,
        pl.col("group") == group,
    )
    assert cell.height == 1, f"{month} {municipality} {measure} {population}/{group}: {cell}"
    return cell["value"][0]


def cells(out: pl.DataFrame, month: str, municipality: str, measure: str) -> dict:
    """{(population, group): value} of one municipality's measure."""
    sub = out.filter(pl.col("month") == month, pl.col("municipality_code") == municipality,
                     pl.col("measure") == measure)
    return {(p, g): v for p, g, v in sub.select("population", "group", "value").iter_rows()}


# --------------------------------------------------------------------------- shape


def test_output_has_every_measure_population_group_and_municipality():
    rows = frame(row("2024-02", "a"), row("2024-02", "b", municipality_code="049"))
    out = municipal_measures(rows, ["2024-02"], {"2024-02"})
    assert out.schema == pl.Schema({"month": pl.Utf8, "municipality_code": pl.Utf8,
                                    "population": pl.Utf8, "group": pl.Utf8,
                                    "measure": pl.Utf8, "value": pl.Int64})
    # 2 municipalities x 3 populations x 4 groups x every measure, each once
    assert out.height == 2 * 3 * 4 * len(registry.MEASURES)
    assert set(out["measure"]) == set(registry.MEASURES)
    assert set(out["population"]) == set(registry.POPULATIONS) == set(POPULATION_FILTERS)
    assert set(out["group"]) == set(registry.GROUPS) == set(GROUP_FILTERS)
    assert out.select("municipality_code", "population", "group", "measure").is_unique().all()


def test_month_not_loaded_is_an_error():
    with pytest.raises(ValueError, match="2024-03"):
        municipal_measures(frame(row("2024-02", "a")), ["2024-03"], {"2024-02"})


def test_wrongly_typed_rows_are_an_error():
    rows = frame(row("2024-02", "a")).with_columns(pl.col("earnings_related").cast(pl.Int8))
    with pytest.raises(TypeError, match="earnings_related"):
        municipal_measures(rows, ["2024-02"], {"2024-02"})


def test_all_empty_optional_columns_may_come_untyped():
    # a database read of a month without any service row can give a Null-typed column
    rows = frame(row("2024-02", "a"), row("2024-02", "b", "other")).with_columns(
        service_type=pl.lit(None), last_review_on=pl.lit(None))
    out = municipal_measures(rows, ["2024-02"], {"2024-02"})
    assert value(out, "2024-02", "091", "in_labour_training") == 0
    assert value(out, "2024-02", "091", "unemployed") == 1


def test_first_months_follow_the_registry():
    firsts = measure_first_months()
    # the process numerators and the interview cohort start with the Nordic model ...
    for measure in ("plan_up_to_date", "review_3m", "interview_cohort", "interview_5wd"):
        assert firsts[measure] == "2022-05"
    # ... but `unemployed`, also the denominator of the process shares, is a count from the start
    assert firsts["unemployed"] is None
    assert firsts["unemployed_previous_month"] is None


# --------------------------------------------------------------------------- stocks


def test_stock_counts_and_zero_cells():
    rows = frame(
        row("2024-02", "u1"),                                    # unemployed
        row("2024-02", "u2", "laid_off"),                        # unemployed (laid off)
        row("2024-02", "s1", "service", service_type="labour_training"),
        row("2024-02", "s2", "service", service_type="pay_subsidy"),
        row("2024-02", "s3", "service", service_type="coaching"),
        row("2024-02", "e1", "employed_open"),
        row("2024-02", "o1", "other"),
        row("2024-02", "w1", "short_week"),
        row("2024-02", "x1", "other", municipality_code="049"),  # 049: one jobseeker only
    )
    out = municipal_measures(rows, ["2024-02"], {"2024-02"})
    expected_091 = {
        "jobseekers": 8,               # u1 u2 s1 s2 s3 e1 o1 w1
        "unemployed": 2,               # u1 + u2 (laid off counts as unemployed)
        "laid_off": 1,                 # u2
        "in_services": 3,              # s1 s2 s3
        "in_labour_training": 1,       # s1
        "in_pay_subsidy": 1,           # s2
        "employed_open": 1,            # e1
        "unemployed_or_in_services": 5,  # 2 + 3
    }
    for measure, expected in expected_091.items():
        assert value(out, "2024-02", "091", measure) == expected, measure
    # 049 has rows, so every stock is an explicit 0 there, except its one jobseeker
    assert value(out, "2024-02", "049", "jobseekers") == 1
    for measure in set(expected_091) - {"jobseekers"}:
        assert value(out, "2024-02", "049", measure) == 0, measure
    # no foreign-language row at all: the group's counts are 0, not missing
    assert value(out, "2024-02", "091", "jobseekers", "all", "foreign_language") == 0


@pytest.mark.parametrize(
    ("month", "on_cutoff", "after_cutoff"),
    [
        # 2024-02: the same month one year earlier is 2023-02, which ends on the 28th
        ("2024-02", date(2023, 2, 28), date(2023, 3, 1)),
        # 2025-02: one year earlier is the leap February 2024, which ends on the 29th
        ("2025-02", date(2024, 2, 29), date(2024, 3, 1)),
        # an ordinary month: 2024-07 -> 2023-07-31
        ("2024-07", date(2023, 7, 31), date(2023, 8, 1)),
    ],
)
def test_long_term_rule_uses_the_last_day_of_the_same_month_a_year_earlier(
    month, on_cutoff, after_cutoff
):
    rows = frame(
        row(month, "on", unemployment_start=on_cutoff),          # long-term
        row(month, "after", unemployment_start=after_cutoff),    # one day short
        row(month, "laid", "laid_off", unemployment_start=date(2019, 5, 5)),  # long-term
        row(month, "svc", "service", unemployment_start=None),   # not unemployed
    )
    out = municipal_measures(rows, [month], {month})
    assert value(out, month, "091", "unemployed") == 3           # on, after, laid
    assert value(out, month, "091", "long_term_unemployed") == 2  # on + laid


def test_leap_day_month_itself():
    # 2024-02 ends on the 29th; one year later 2025-02 ends on the 28th and the cutoff
    # for 2025-02 is 2024-02-29, so a spell starting on the leap day is long-term there
    rows = frame(row("2025-02", "leap", unemployment_start=date(2024, 2, 29)))
    out = municipal_measures(rows, ["2025-02"], {"2025-02"})
    assert value(out, "2025-02", "091", "long_term_unemployed") == 1


# --------------------------------------------------------------------------- populations


def test_populations_and_groups():
    m = "2023-06"
    rows = frame(
        # target group by age alone (status 'other' would not qualify otherwise)
        row(m, "young", "other", age=29),
        # not in the target group: 30, unemployed but Finnish-speaking with allowance
        row(m, "thirty", age=30),
        # target group: unemployed foreign-language speaker, with allowance
        row(m, "foreign", foreign_language=True),
        # target group: in services, no earnings-related allowance
        row(m, "svc_noer", "service", earnings_related=False),
        # not: employed on the open market, although foreign-language and without allowance
        row(m, "emp", "employed_open", foreign_language=True, earnings_related=False),
        # trial customer, not in the target group
        row(m, "trial", responsibility="trial"),
        # trial customer in the target group (under 30, unemployed, foreign, no allowance)
        row(m, "trial_young", responsibility="trial", age=22, foreign_language=True,
            earnings_related=False),
    )
    out = municipal_measures(rows, [m], {m})
    jobseekers = cells(out, m, "091", "jobseekers")
    # all: 7 rows; under_30: young, trial_young; foreign: foreign, emp, trial_young;
    # no allowance: svc_noer, emp, trial_young
    assert jobseekers[("all", "all")] == 7
    assert jobseekers[("all", "under_30")] == 2
    assert jobseekers[("all", "foreign_language")] == 3
    assert jobseekers[("all", "no_earnings_related")] == 3
    # target group: young, foreign, svc_noer, trial_young (in a te_office row too: the
    # target group exists outside trial responsibility)
    assert jobseekers[("target_group", "all")] == 4
    assert jobseekers[("target_group", "under_30")] == 2         # young, trial_young
    assert jobseekers[("target_group", "foreign_language")] == 2  # foreign, trial_young
    assert jobseekers[("target_group", "no_earnings_related")] == 2  # svc_noer, trial_young
    # trial customers: trial, trial_young
    assert jobseekers[("trial_customers", "all")] == 2
    assert jobseekers[("trial_customers", "under_30")] == 1
    assert jobseekers[("trial_customers", "foreign_language")] == 1
    assert jobseekers[("trial_customers", "no_earnings_related")] == 1
    # unemployed x target group: foreign, trial_young (young is 'other', svc_noer in services)
    assert cells(out, m, "091", "unemployed")[("target_group", "all")] == 2


# --------------------------------------------------------------------------- flows


def flow_rows() -> pl.LazyFrame:
    jan, feb = "2024-01", "2024-02"
    return frame(
        row(jan, "A"), row(feb, "A", "employed_open"),             # exit to the open market
        row(jan, "B"), row(feb, "B", "service"),                   # exit to services
        row(jan, "C"),                                             # disappears in Feb
        row(feb, "D"),                                             # appears in Feb: inflow
        row(jan, "E", "other"), row(feb, "E"),                     # other -> unemployed: inflow
        row(jan, "F", "laid_off"), row(feb, "F"),                  # laid off -> unemployed: neither
        # G: unemployed in 049 in Jan, employed in 091 in Feb: the exit belongs to 049
        row(jan, "G", municipality_code="049"), row(feb, "G", "employed_open"),
        # H: other in 049 in Jan, unemployed in 091 in Feb: the inflow belongs to 091
        row(jan, "H", "other", municipality_code="049"), row(feb, "H"),
        # I: 29 and unemployed in Jan, 30 and in services in Feb: under_30 from the Jan row
        row(jan, "I", age=29), row(feb, "I", "service", age=30),
        # J: only in 105 in Jan, unemployed, absent in Feb: 105 gets exit cells in Feb
        row(jan, "J", municipality_code="105"),
        # K: 050 has rows in both months but nobody unemployed in Jan
        row(jan, "K", "other", municipality_code="050"), row(feb, "K", "other", municipality_code="050"),
    )


def test_flows_pair_t_minus_1_with_t():
    out = municipal_measures(flow_rows(), ["2024-02"], {"2024-01", "2024-02"})
    feb = "2024-02"
    # inflow in 091 (cell from Feb row): D (absent in Jan), E (other in Jan), H (other in
    # 049 in Jan); not F (laid off -> unemployed), not the stayers = 3
    assert value(out, feb, "091", "inflow_unemployed") == 3
    # Jan unemployed in 091 (cell from Jan row): A B C F I = 5; C is absent in Feb and
    # stays in the denominator only
    assert value(out, feb, "091", "unemployed_previous_month") == 5
    assert value(out, feb, "091", "exit_open_market") == 1       # A
    assert value(out, feb, "091", "exit_services") == 2          # B, I
    assert value(out, feb, "091", "exit_services", "all", "under_30") == 1  # I (29 in Jan)
    # 049: G was unemployed there in Jan and is employed in Feb (now living in 091)
    assert value(out, feb, "049", "unemployed_previous_month") == 1
    assert value(out, feb, "049", "exit_open_market") == 1
    # 105 has no Feb row, but its Jan row makes the exit cells (J: denominator only)
    assert value(out, feb, "105", "unemployed_previous_month") == 1
    assert value(out, feb, "105", "exit_open_market") == 0
    assert out.filter(pl.col("municipality_code") == "105",
                      pl.col("measure") == "jobseekers").is_empty()
    # 050: rows in both months, nobody unemployed: explicit zeros
    assert value(out, feb, "050", "unemployed_previous_month") == 0
    assert value(out, feb, "050", "inflow_unemployed") == 0


def test_known_families_are_taken_as_given_and_their_neighbour_is_not_read():
    """Cells passed as ``known`` replace a whole family's counting in that month: the
    flows of February given, February needs no January rows (months_read), and the
    given values come back unchanged while the other families are counted."""
    loaded = {"2024-01", "2024-02"}
    full = municipal_measures(flow_rows(), ["2024-02"], loaded)
    flows = ("inflow_unemployed", "unemployed_previous_month", "exit_open_market",
             "exit_services")
    given = full.filter(pl.col("measure").is_in(flows)).with_columns(
        pl.when(pl.col("measure") == "inflow_unemployed").then(pl.col("value") + 100)
        .otherwise(pl.col("value")).alias("value"))
    assert months_read(["2024-02"], loaded) == ["2024-01", "2024-02"]
    assert months_read(["2024-02"], loaded, given) == ["2024-02"]
    feb_rows = flow_rows().filter(pl.col("month") == "2024-02")
    out = municipal_measures(feb_rows, ["2024-02"], loaded, given)
    assert value(out, "2024-02", "091", "inflow_unemployed") == 3 + 100  # as given
    assert out.filter(~pl.col("measure").is_in(flows)).equals(
        full.filter(~pl.col("measure").is_in(flows)))
    # only part of a family given: the family is counted (the given part is not used)
    part = given.filter(pl.col("measure") == "exit_services").with_columns(
        pl.col("value") + 100)
    assert municipal_measures(flow_rows(), ["2024-02"], loaded, part).equals(full)


def test_flows_are_null_where_the_previous_month_is_not_loaded():
    out = municipal_measures(flow_rows(), ["2024-01", "2024-02"], {"2024-01", "2024-02"})
    for measure in ("inflow_unemployed", "unemployed_previous_month", "exit_open_market",
                    "exit_services"):
        jan = cells(out, "2024-01", "091", measure)
        assert len(jan) == 12 and all(v is None for v in jan.values()), measure
        assert value(out, "2024-02", "091", measure) is not None
    # the stocks of the same month are there: January 091 unemployed = A B C F(laid off) I = 5
    assert value(out, "2024-01", "091", "unemployed") == 5


# --------------------------------------------------------------------------- process


def test_plan_and_review_recency():
    m = "2024-03"  # window: 2024-01-01 .. 2024-03-31
    rows = frame(
        row(m, "p1", plan_updated_on=date(2024, 1, 1), last_review_on=date(2023, 12, 31)),
        row(m, "p2", plan_updated_on=date(2024, 3, 31), last_review_on=date(2024, 2, 15)),
        row(m, "p3", plan_updated_on=date(2023, 12, 31)),          # too old, no review
        row(m, "p4", "laid_off", last_review_on=date(2024, 1, 31)),
        # not unemployed: in neither numerator nor the denominator `unemployed`
        row(m, "p5", "employed_open", plan_updated_on=date(2024, 3, 1),
            last_review_on=date(2024, 3, 1)),
    )
    out = municipal_measures(rows, [m], {m})
    assert value(out, m, "091", "unemployed") == 4        # p1 p2 p3 p4
    assert value(out, m, "091", "plan_up_to_date") == 2   # p1 (first day of t-2), p2
    assert value(out, m, "091", "review_3m") == 2         # p2, p4


def test_process_measures_are_null_before_2022_05():
    apr, may, jun = "2022-04", "2022-05", "2022-06"
    rows = frame(
        row(apr, "a", plan_updated_on=date(2022, 4, 1), last_review_on=date(2022, 4, 1)),
        row(may, "a", plan_updated_on=date(2022, 4, 1), last_review_on=date(2022, 4, 1)),
        row(jun, "b", "other", registered_on=date(2022, 5, 2)),   # first day of the model
        row(jun, "c", registered_on=date(2022, 5, 1),             # 1 May: before the model
            initial_interview_on=date(2022, 5, 2)),
    )
    out = municipal_measures(rows, [apr, may], {apr, may, jun})
    for measure in ("plan_up_to_date", "review_3m", "interview_cohort", "interview_5wd"):
        assert set(cells(out, apr, "091", measure).values()) == {None}, measure
    # the stocks and flows of April are reported as usual
    assert value(out, apr, "091", "unemployed") == 1
    assert value(out, may, "091", "plan_up_to_date") == 1  # 2022-04-01 is within Mar..May
    assert value(out, may, "091", "review_3m") == 1
    # May cohort seen in June: b (registered 2022-05-02, no interview); c registered
    # 2022-05-01, before the Nordic model started, is not in the cohort
    assert value(out, may, "091", "interview_cohort") == 1
    assert value(out, may, "091", "interview_5wd") == 0


# Five working days, worked out on the calendar (holidays from the Finnish calendar):
# * Fri 2024-05-31 -> Mon 3, Tue 4, Wed 5, Thu 6, Fri 7 June: deadline 2024-06-07.
# * Mon 2024-05-06 -> Tue 7, Wed 8, (Thu 9 Ascension Day), Fri 10, Mon 13, Tue 14: 2024-05-14.
# * Wed 2024-03-27 -> Thu 28, (Fri 29 Good Friday, Mon 1 Apr Easter Monday), Tue 2, Wed 3,
#   Thu 4, Fri 5: 2024-04-05.
# * Thu 2024-03-28 -> Tue 2, Wed 3, Thu 4, Fri 5, Mon 8 April: 2024-04-08.
# * Sat 2024-03-02 -> Mon 4, Tue 5, Wed 6, Thu 7, Fri 8: 2024-03-08.
# * Tue 2024-06-18 -> Wed 19, Thu 20, (Fri 21 Midsummer Eve), Mon 24, Tue 25, Wed 26: 2024-06-26.
# * Fri 2024-12-20 -> Mon 23, (Tue 24 Christmas Eve, Wed 25, Thu 26), Fri 27, Mon 30,
#   Tue 31, (Wed 1 Jan New Year's Day), Thu 2025-01-02: 2025-01-02.
DEADLINES = {
    date(2024, 5, 31): date(2024, 6, 7),
    date(2024, 5, 6): date(2024, 5, 14),
    date(2024, 3, 27): date(2024, 4, 5),
    date(2024, 3, 28): date(2024, 4, 8),
    date(2024, 3, 2): date(2024, 3, 8),
    date(2024, 6, 18): date(2024, 6, 26),
    date(2024, 12, 20): date(2025, 1, 2),
}


def test_fifth_working_day_after_around_holidays():
    table = fifth_working_day_after(working_day_calendar(date(2024, 1, 1), date(2025, 3, 1)))
    got = dict(table.filter(pl.col("registered_on").is_in(list(DEADLINES))).iter_rows())
    assert got == DEADLINES


def interview_case(person: str, registered: date, interview: date | None,
                   next_month: str, **kw) -> dict:
    """A row of month t+1 (``next_month``) for a person registered in month t."""
    return row(next_month, person, "other", registered_on=registered,
               initial_interview_on=interview, **kw)


def test_initial_interview_within_five_working_days():
    mar, apr, may, jun = "2024-03", "2024-04", "2024-05", "2024-06"
    rows = frame(
        row(mar, "base"), row(may, "base"),  # any rows of t
        # March cohort, seen in April (Easter 2024: 29 March - 1 April)
        interview_case("e1", date(2024, 3, 27), date(2024, 4, 5), apr),   # on the deadline
        interview_case("e2", date(2024, 3, 28), date(2024, 4, 8), apr),   # on the deadline
        interview_case("e3", date(2024, 3, 28), date(2024, 4, 9), apr),   # one day late
        interview_case("e4", date(2024, 3, 2), date(2024, 3, 9), apr),    # Saturday after Fri 8
        interview_case("e5", date(2024, 3, 2), None, apr),                # no interview yet
        # registered in 091 in March, living in 049 in April: the cell is 049's
        interview_case("e6", date(2024, 3, 15), date(2024, 3, 15), apr, municipality_code="049"),
        # registered in February: not in the March cohort
        interview_case("e7", date(2024, 2, 29), date(2024, 3, 1), apr),
        # May cohort, seen in June
        interview_case("m1", date(2024, 5, 31), date(2024, 6, 7), jun),   # on the deadline
        interview_case("m2", date(2024, 5, 6), date(2024, 5, 14), jun),   # Ascension Day
        interview_case("m3", date(2024, 5, 6), date(2024, 5, 15), jun),   # one day late
    )
    out = municipal_measures(rows, [mar, may, jun], {mar, apr, may, jun})
    # March 091: e1 e2 e3 e4 e5 in the cohort = 5; in time: e1, e2 = 2
    assert value(out, mar, "091", "interview_cohort") == 5
    assert value(out, mar, "091", "interview_5wd") == 2
    assert value(out, mar, "049", "interview_cohort") == 1    # e6
    assert value(out, mar, "049", "interview_5wd") == 1
    # May: m1 m2 m3 = 3; in time m1 m2 = 2
    assert value(out, may, "091", "interview_cohort") == 3
    assert value(out, may, "091", "interview_5wd") == 2
    # June is the newest loaded month: July is not loaded, so no value yet
    assert set(cells(out, jun, "091", "interview_cohort").values()) == {None}
    assert set(cells(out, jun, "091", "interview_5wd").values()) == {None}


def test_interview_over_christmas_and_new_year():
    dec, jan = "2024-12", "2025-01"
    rows = frame(
        row(dec, "base"),
        interview_case("x1", date(2024, 12, 20), date(2025, 1, 2), jan),  # on the deadline
        interview_case("x2", date(2024, 12, 20), date(2025, 1, 3), jan),  # late
        interview_case("x3", date(2024, 12, 20), date(2024, 12, 27), jan, age=25),
    )
    out = municipal_measures(rows, [dec], {dec, jan})
    assert value(out, dec, "091", "interview_cohort") == 3
    assert value(out, dec, "091", "interview_5wd") == 2                   # x1 x3
    assert value(out, dec, "091", "interview_5wd", "target_group", "under_30") == 1  # x3


# --------------------------------------------------------------------------- the spec's example


def test_example_extract_of_the_spec():
    path = shared_file("spec", "example-extract.csv")
    rows = pl.read_csv(path, schema_overrides={"municipality_code": pl.Utf8},
                       try_parse_dates=True).lazy()
    months = {"2024-01", "2024-02"}
    out = municipal_measures(rows, ["2024-02"], months)
    feb = "2024-02"
    # 091 in 2024-02: LTU0, LTU1, P000000 unemployed; P000001 and P000003 'other'
    assert value(out, feb, "091", "jobseekers") == 5
    assert value(out, feb, "091", "unemployed") == 3
    # LTU0 started 2023-02-28 (= cutoff), P000000 in 2021; LTU1 on 2023-03-01 is not
    assert value(out, feb, "091", "long_term_unemployed") == 2
    # inflow: LTU0 and LTU1 are absent from 2024-01; P000000 was already unemployed
    assert value(out, feb, "091", "inflow_unemployed") == 2
    # 091's January unemployed: P000000 only; still unemployed in February
    assert value(out, feb, "091", "unemployed_previous_month") == 1
    assert value(out, feb, "091", "exit_open_market") == 0
    # trial customers in 091: LTU0, LTU1, P000000, P000003 (P000001 is te_office)
    assert value(out, feb, "091", "jobseekers", "trial_customers") == 4
    # target group in 091: P000003 (age 20) + LTU0, LTU1, P000000 (unemployed without
    # earnings-related allowance) = 4; P000001 (60, 'other', with allowance) is not
    assert value(out, feb, "091", "jobseekers", "target_group") == 4
    # 049 in February: P000009 unemployed since 2023-08-10 (not long-term), P000004 and
    # P000005 employed on the open market
    assert value(out, feb, "049", "unemployed") == 1
    assert value(out, feb, "049", "long_term_unemployed") == 0
    assert value(out, feb, "049", "employed_open") == 2
    # whole country, February: unemployed LTU0 LTU1 P0 P6 P7(laid off) P8 P9 = 7
    feb_all = out.filter(pl.col("month") == feb, pl.col("population") == "all",
                         pl.col("group") == "all")
    totals = dict(feb_all.group_by("measure").agg(pl.col("value").sum()).iter_rows())
    assert totals["unemployed"] == 7
    # long-term: LTU0, P0 (2021), P6 (2022-12-24), P7 (2023-02-04), P8 (2023-01-27) = 5
    assert totals["long_term_unemployed"] == 5
    # January unemployed: P0 P6 P7 P8 P9 = 5, all still unemployed in Feb: no exits;
    # P000011 (employed in Jan, gone in Feb) is in no flow
    assert totals["unemployed_previous_month"] == 5
    assert totals["exit_open_market"] == totals["exit_services"] == 0
    # plan in Dec-Feb among Feb unemployed: P9 (2023-12-08) = 1; review: P6 (2023-12-23),
    # P7 (2023-12-18) = 2
    assert totals["plan_up_to_date"] == 1
    assert totals["review_3m"] == 2
    # 2024-03 is not loaded: the February interview cohort has no value yet
    assert feb_all.filter(pl.col("measure") == "interview_cohort")["value"].null_count() == \
        feb_all.filter(pl.col("measure") == "interview_cohort").height
