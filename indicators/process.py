"""Process measures of the Nordic service model (from 2022-05-02).

* Recency (cell from the row in t): of the unemployed in t, those whose
  ``plan_updated_on`` / ``last_review_on`` falls in month t, t-1 or t-2, i.e. on or
  after the first day of t-2 and on or before t's last day (the loader already
  rejects dates after the month's last day; the upper bound is kept so the
  measure means the same on unvalidated data).
* Initial interview within five working days (cell from the row in t+1, reported
  under t): the cohort is the rows of t+1 whose ``registered_on`` is in month t and
  on or after 2022-05-02; the numerator those whose ``initial_interview_on`` is set
  and not later than the fifth working day after ``registered_on``. Working days
  are Monday-Friday except Finnish public holidays (the ``holidays`` package,
  which includes Midsummer Eve and Christmas Eve).

The fifth working day after a date is found with a working-day calendar frame:
``workday_number`` counts working days up to and including each date, so the
deadline of a registration on date d is the working day numbered
``workday_number(d) + 5`` (this holds whether or not d itself is a working day).
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import polars as pl

from indicators.stocks import IS_UNEMPLOYED
from trialmon.domain import NORDIC_MODEL_FIRST_DAY

RECENCY_MEASURES = ("plan_up_to_date", "review_3m")
INTERVIEW_MEASURES = ("interview_cohort", "interview_5wd")
INTERVIEW_WORKING_DAYS = 5


# Per-month constants, evaluated once per month on the month calendar.
MONTH_COLUMNS = {
    # first day of month t-2: the recency window is t-2 .. t
    "recency_window_start": pl.col("month_start").dt.offset_by("-2mo"),
    # cohort bounds, evaluated on the row's own month t+1: registered in the month
    # before (t), and not before the Nordic model started
    "cohort_first_day": pl.max_horizontal(
        pl.col("month_start").dt.offset_by("-1mo"), pl.lit(NORDIC_MODEL_FIRST_DAY)
    ),
    "cohort_last_day": pl.col("month_start") - pl.duration(days=1),
}


def _within_three_months(column: str) -> pl.Expr:
    """The date falls in month t, t-1 or t-2 (null dates never do)."""
    day = pl.col(column)
    return ((day >= pl.col("recency_window_start")) & (day <= pl.col("month_end"))).fill_null(False)


def recency_rows(current: pl.LazyFrame) -> pl.LazyFrame:
    """[month_idx, cell, plan_up_to_date, review_3m] for the prepared rows of t."""
    return current.select(
        "month_idx",
        "cell",
        plan_up_to_date=IS_UNEMPLOYED & _within_three_months("plan_updated_on"),
        review_3m=IS_UNEMPLOYED & _within_three_months("last_review_on"),
    )


def working_day_calendar(first: date, last: date) -> pl.DataFrame:
    """[date, is_working_day, workday_number] for every day from ``first`` to ``last``."""
    finnish = holidays.country_holidays("FI", years=range(first.year, last.year + 1))
    holiday_dates = pl.Series("date", sorted(finnish.keys()), dtype=pl.Date)
    days = pl.DataFrame({"date": pl.date_range(first, last, "1d", eager=True)})
    return days.with_columns(
        is_working_day=(pl.col("date").dt.weekday() <= 5)
        & ~pl.col("date").is_in(holiday_dates.implode())
    ).with_columns(workday_number=pl.col("is_working_day").cast(pl.Int32).cum_sum())


def fifth_working_day_after(calendar: pl.DataFrame) -> pl.DataFrame:
    """[registered_on, interview_deadline]: the fifth working day after each calendar date.

    Dates whose deadline falls beyond the calendar get no row (the calendar is built
    with a margin wide enough for every cohort date).
    """
    working_days = calendar.filter("is_working_day").select(
        "workday_number", interview_deadline="date"
    )
    return (
        calendar.select(
            registered_on="date",
            workday_number=pl.col("workday_number") + INTERVIEW_WORKING_DAYS,
        )
        .join(working_days, on="workday_number", how="inner")
        .select("registered_on", "interview_deadline")
    )


def deadlines_for(reported_month_starts: list[date]) -> pl.DataFrame:
    """Interview deadlines for every registration date in the given reported months."""
    first = min(reported_month_starts)
    # A month has at most 31 days and five working days never span more than ~3 weeks
    # even around Christmas and Easter; 62 days of margin is ample.
    last = max(reported_month_starts) + timedelta(days=31 + 62)
    return fifth_working_day_after(working_day_calendar(first, last))


def interview_rows(following: pl.LazyFrame, deadlines: pl.DataFrame) -> pl.LazyFrame:
    """[month_idx (= t), cell, interview_cohort, interview_5wd] for every row of t+1.

    ``following`` holds the prepared rows of the months t+1 whose t is computed;
    the cohort month t is the month before the row's own month.
    """
    registered = pl.col("registered_on")
    in_cohort = (registered >= pl.col("cohort_first_day")) & (
        registered <= pl.col("cohort_last_day")
    )
    return following.join(deadlines.lazy(), on="registered_on", how="left").select(
        pl.col("month_idx") - 1,
        "cell",
        interview_cohort=in_cohort,
        interview_5wd=in_cohort
        & (pl.col("initial_interview_on") <= pl.col("interview_deadline")).fill_null(False),
    )
