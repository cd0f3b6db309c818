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

from indicators.measures import sorted_by_codes
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


def _indicator_rows(wide: pl.LazyFrame, indicator) -> pl.LazyFrame:
    """One indicator's cells from the wide frame of measure values and suppression flags."""
    numerator = pl.col(f"v:{indicator.numerator}").cast(pl.Float64)
    suppressed = pl.col(f"s:{indicator.numerator}")
    computable = numerator.is_not_null()
    if indicator.denominator is None:
        value, denominator = numerator, pl.lit(None, dtype=pl.Float64)
    else:
        denominator = pl.col(f"v:{indicator.denominator}").cast(pl.Float64)
        suppressed = suppressed | pl.col(f"s:{indicator.denominator}")
        computable = computable & denominator.is_not_null()
        value = pl.when(denominator == 0).then(None).otherwise(100.0 * numerator / denominator)
    rows = wide.filter(computable)
    if indicator.first_month:
        rows = rows.filter(pl.col("month") >= indicator.first_month)
    hidden = suppressed.fill_null(False)
    return rows.select(
        pl.lit(indicator.id).alias("indicator"), "population", "group", "area_type",
        "area_code", "month",
        pl.when(hidden).then(None).otherwise(value).alias("value"),
        pl.when(hidden).then(None).otherwise(numerator).alias("numerator"),
        pl.when(hidden).then(None).otherwise(denominator).alias("denominator"),
        pl.when(hidden).then(pl.lit("suppressed")).otherwise(None).alias("flag"),
    )


def indicator_cells(cells: pl.DataFrame, vintages: pl.DataFrame) -> pl.DataFrame:
    """Register-indicator cells in the ``indicator_value`` layout.

    ``cells``: [month, area_type, area_code, population, group, measure, value,
    suppressed] (from ``disclosure.protect``; pass suppressed=False for unprotected
    tables). ``vintages``: [month, measure, vintage] -- the newest load time of the
    months each measure of each month depends on. Works on a wide frame (one value
    and one suppression column per measure, one row per cell). The rows come sorted
    by indicator_value's primary key (month, indicator, population, group, area_type,
    area_code), which makes its insert cheap.
    """
    schema = {c: pl.String for c in INDICATOR_COLUMNS} | {
        "value": pl.Float64, "numerator": pl.Float64, "denominator": pl.Float64,
        "vintage": pl.Datetime("us", "UTC")}
    if cells.is_empty():
        return pl.DataFrame(schema=schema)
    long = cells.select(*CELL_KEYS, "measure", pl.col("value").alias("v"),
                        pl.col("suppressed").fill_null(False).alias("s"))
    # The wide frame sorted by month, population, group, area type, area code and the
    # indicators stacked by id; a stable sort by month then gives the primary-key order.
    wide = sorted_by_codes(
        long.pivot(on="measure", index=CELL_KEYS, values=["v", "s"], separator=":"),
        ["month", "population", "group", "area_type", "area_code"]).lazy()
    present = set(cells["measure"].unique())
    usable = sorted((i for i in REGISTER_INDICATORS if i.numerator in present
                     and (i.denominator is None or i.denominator in present)),
                    key=lambda i: i.id)
    indicator_vintages = (
        definitions().lazy()
        .unpivot(on=["numerator", "denominator"], index="indicator", value_name="measure")
        .drop_nulls("measure")
        .join(vintages.lazy(), on="measure")
        .group_by("month", "indicator").agg(pl.col("vintage").max())
    )
    stacked = (
        pl.concat([_indicator_rows(wide, i) for i in usable])
        .join(indicator_vintages, on=["month", "indicator"], how="left", maintain_order="left")
        .select(INDICATOR_COLUMNS)
        .collect()
        .cast(schema)
    )
    return sorted_by_codes(stacked, ["month"])


def unprotected(cells: pl.DataFrame) -> pl.DataFrame:
    """Measure cells marked as not suppressed (command-line unprotected exports)."""
    return cells.with_columns(pl.lit(False).alias("suppressed"))
