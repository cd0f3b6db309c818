"""Indicator cells from (protected) measure cells.

A count indicator is its measure; a percentage is 100 x numerator / denominator of
the summed measures of its cell -- never an average of the rates of smaller cells.

Decisions (where the spec is silent), also in docs/indicators.md:

* The stored ``value`` keeps full precision (float64); the indicator's ``decimals``
  are applied only when a value is displayed. Numerator and denominator are stored
  beside every ratio, so a published rate can always be checked.
* A count indicator has numerator = value and no denominator.
* A ratio whose denominator is 0 has a null value and an empty flag (numerator and
  denominator 0 are published): "no value", not "suppressed".
* A cell is suppressed (value, numerator and denominator null, flag 'suppressed')
  when any measure it uses is suppressed.
* Cells that are not computable (a needed neighbouring month is not loaded, or the
  month precedes the indicator's first month) are not published at all: a missing
  row means "not available for this month", which the month's status explains.
"""

from __future__ import annotations

import polars as pl

from indicators.registry import REGISTER_INDICATORS

CELL_KEYS = ["month", "area_type", "area_code", "population", "group"]
INDICATOR_COLUMNS = [
    "indicator", "population", "group", "area_type", "area_code", "month",
    "value", "numerator", "denominator", "flag", "vintage",
]


def definitions() -> pl.DataFrame:
    """[indicator, numerator, denominator, first_month] of the register indicators."""
    return pl.DataFrame(
        {
            "indicator": [i.id for i in REGISTER_INDICATORS],
            "numerator": [i.numerator for i in REGISTER_INDICATORS],
            "denominator": [i.denominator for i in REGISTER_INDICATORS],
            "first_month": [i.first_month for i in REGISTER_INDICATORS],
        },
        schema={"indicator": pl.String, "numerator": pl.String, "denominator": pl.String,
                "first_month": pl.String},
    )


def _side(cells: pl.LazyFrame, role: str) -> pl.LazyFrame:
    """The measure cells renamed for one side (numerator or denominator) of a join."""
    return cells.select(
        *CELL_KEYS,
        pl.col("measure").alias(role),
        pl.col("value").alias(f"{role}_value"),
        pl.col("suppressed").alias(f"{role}_suppressed"),
        pl.col("vintage").alias(f"{role}_vintage"),
    )


def indicator_cells(cells: pl.DataFrame, vintages: pl.DataFrame) -> pl.DataFrame:
    """Register-indicator cells in the ``indicator_value`` layout.

    ``cells``: [month, area_type, area_code, population, group, measure, value,
    suppressed] (from ``disclosure.protect``; pass suppressed=False for unprotected
    tables). ``vintages``: [month, measure, vintage] -- the newest load time of the
    months each measure of each month depends on.
    """
    measures = (
        cells.lazy()
        .select(*CELL_KEYS, "measure", "value", pl.col("suppressed").fill_null(False))
        .join(vintages.lazy(), on=["month", "measure"], how="left")
    )
    defs = definitions().lazy()
    months = measures.select("month").unique()
    ratio = pl.col("denominator").is_not_null()
    suppressed = pl.col("numerator_suppressed") | pl.col("denominator_suppressed").fill_null(False)
    joined = (
        defs.join(months, how="cross")
        .filter(pl.col("first_month").is_null() | (pl.col("month") >= pl.col("first_month")))
        .join(_side(measures, "numerator"), on=["month", "numerator"], how="inner")
        .join(_side(measures, "denominator"), on=[*CELL_KEYS, "denominator"], how="left")
        .filter(pl.col("numerator_value").is_not_null()
                & (~ratio | pl.col("denominator_value").is_not_null()))
    )
    numerator = pl.col("numerator_value").cast(pl.Float64)
    denominator = pl.col("denominator_value").cast(pl.Float64)
    value = (
        pl.when(~ratio).then(numerator)
        .when(denominator == 0).then(None)
        .otherwise(100.0 * numerator / denominator)
    )
    return (
        joined.select(
            "indicator", "population", "group", "area_type", "area_code", "month",
            pl.when(suppressed).then(None).otherwise(value).alias("value"),
            pl.when(suppressed).then(None).otherwise(numerator).alias("numerator"),
            pl.when(suppressed | ~ratio).then(None).otherwise(denominator).alias("denominator"),
            pl.when(suppressed).then(pl.lit("suppressed")).otherwise(None).alias("flag"),
            pl.max_horizontal("numerator_vintage", "denominator_vintage").alias("vintage"),
        )
        .sort("indicator", "population", "group", "area_type", "area_code", "month")
        .collect()
    )


def unprotected(cells: pl.DataFrame) -> pl.DataFrame:
    """Measure cells marked as not suppressed (command-line unprotected exports)."""
    return cells.with_columns(pl.lit(False).alias("suppressed"))
