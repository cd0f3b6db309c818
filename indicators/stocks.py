"""Stock measures: persons in a state on month t's calculation date (the month's last day).

Every stock is a count of rows of month t, and its cell (municipality, population,
group) comes from that same row. ``indicators.measures`` prepares the rows (adds
``month_idx``, ``month_end``, the ``MONTH_COLUMNS`` of each family and the ``cell``
struct) and counts the flags this module returns.
"""

from __future__ import annotations

import polars as pl

from etl.contract import UNEMPLOYED_STATUSES  # the input contract defines the statuses

# The spec's "unemployed" always means fully unemployed or fully laid off: the
# flows and process families use the same predicate, so it lives here once.
IS_UNEMPLOYED = pl.col("status").is_in(UNEMPLOYED_STATUSES)
IS_IN_SERVICES = pl.col("status") == "service"

STOCK_MEASURES = (
    "jobseekers",
    "unemployed",
    "laid_off",
    "long_term_unemployed",
    "in_services",
    "in_labour_training",
    "in_pay_subsidy",
    "employed_open",
    "unemployed_or_in_services",
)


def long_term_cutoff(month_start: pl.Expr) -> pl.Expr:
    """The last day of the same month one year earlier (2024-02 -> 2023-02-28, 2025-02 -> 2024-02-29).

    Offsetting the *first* day of the month by a year and then taking the month's
    end avoids the leap-day trap of offsetting month_end (2024-02-29 - 1y).
    """
    return month_start.dt.offset_by("-1y").dt.month_end()


# Per-month constants, evaluated once per month on the month calendar (calendar
# arithmetic per row would cost more than all the counting).
MONTH_COLUMNS = {"long_term_cutoff": long_term_cutoff(pl.col("month_start"))}


def stock_flags() -> dict[str, pl.Expr]:
    """One boolean expression per stock measure, evaluated on a row of month t."""
    return {
        "jobseekers": pl.lit(True),
        "unemployed": IS_UNEMPLOYED,
        "laid_off": pl.col("status") == "laid_off",
        "long_term_unemployed": IS_UNEMPLOYED
        & (pl.col("unemployment_start") <= pl.col("long_term_cutoff")).fill_null(False),
        "in_services": IS_IN_SERVICES,
        "in_labour_training": (pl.col("service_type") == "labour_training").fill_null(False),
        "in_pay_subsidy": (pl.col("service_type") == "pay_subsidy").fill_null(False),
        "employed_open": pl.col("status") == "employed_open",
        "unemployed_or_in_services": IS_UNEMPLOYED | IS_IN_SERVICES,
    }


def stock_rows(current: pl.LazyFrame) -> pl.LazyFrame:
    """[month_idx, cell, <stock flags>] for the prepared rows of the computed months."""
    return current.select("month_idx", "cell", **stock_flags())
