"""Flow measures: pairing a person's row of month t-1 with their row of month t.

Rows are paired by ``person_id`` (stable across months) on the prepared month
index. A person absent from one of the two months simply has no partner row:

* inflow (cell from the row in t): unemployed in t and *not* unemployed in t-1,
  whether absent from t-1 or in another status there;
* exits (cell from the row in t-1, reported under t): every person unemployed in
  t-1 is in the denominator ``unemployed_previous_month``, including those absent
  from t (they left the register; their destination is unknown, so they count as
  neither an exit to the open market nor to services).

"Unemployed" is ``status`` unemployed or laid_off throughout (``stocks.IS_UNEMPLOYED``),
so a move from laid_off to unemployed is neither an inflow nor an exit.
"""

from __future__ import annotations

import polars as pl

from indicators.stocks import IS_UNEMPLOYED

INFLOW_MEASURES = ("inflow_unemployed",)
EXIT_MEASURES = ("unemployed_previous_month", "exit_open_market", "exit_services")

_KEY = ["month_idx", "person_id"]


def inflow_rows(current: pl.LazyFrame, previous: pl.LazyFrame) -> pl.LazyFrame:
    """[month_idx, cell, inflow_unemployed] for rows of t (cell from the row in t).

    ``current`` holds the prepared rows of the months t whose t-1 is loaded,
    ``previous`` the rows of those months t-1.
    """
    unemployed_before = previous.filter(IS_UNEMPLOYED).select(
        pl.col("month_idx") + 1, "person_id", was_unemployed=pl.lit(True)
    )
    return current.join(unemployed_before, on=_KEY, how="left").select(
        "month_idx",
        "cell",
        inflow_unemployed=IS_UNEMPLOYED & pl.col("was_unemployed").is_null(),
    )


def exit_rows(previous: pl.LazyFrame, current: pl.LazyFrame) -> pl.LazyFrame:
    """[month_idx (= t), cell, <exit flags>] for every row of t-1 (cell from the row in t-1).

    Every row of t-1 is kept, not only the unemployed ones, so that a municipality
    with rows in t-1 but nobody unemployed gets explicit zeros.
    """
    status_in_t = current.select(pl.col("month_idx") - 1, "person_id", status_in_t=pl.col("status"))
    paired = previous.join(status_in_t, on=_KEY, how="left")
    return paired.select(
        pl.col("month_idx") + 1,
        "cell",
        unemployed_previous_month=IS_UNEMPLOYED,
        exit_open_market=IS_UNEMPLOYED
        & (pl.col("status_in_t") == "employed_open").fill_null(False),
        exit_services=IS_UNEMPLOYED & (pl.col("status_in_t") == "service").fill_null(False),
    )
