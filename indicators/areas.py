"""Areas: which municipalities make up each area in a month, and the roll-up of
municipal measures to every area type.

Membership is versioned (``area_member.valid_from``/``valid_to``, inclusive): an
area's members in a month are the rows valid on that month's last day, the
calculation date of the register extract. A merger therefore changes an area from
the month it takes effect (Pertunmaa, merged into Mäntyharju on 2026-01-01, is a
member of the Mikkeli trial area up to 2025-12 and not from 2026-01).

Interface: ``members_by_month(area_member, months)``, ``roll_up(municipal, members)``,
``without_municipalities(members)`` (pure, frame in / frame out) and
``area_members(url, months)`` (the stored membership read, then ``members_by_month``).

Roll-up decisions (where the spec is silent):

* Every area valid in a month gets a cell for every (population, group, measure)
  the municipal frame has in that month, including areas and municipalities with
  no register rows: a count with no persons is 0, not missing.
* A null municipal value means "not computable in this month" (a needed
  neighbouring month is not loaded, or the month precedes the measure's first
  month). That depends only on the month, never on the municipality, so a measure
  with any null value in a month is null in every area of that month; it is never
  summed as if the null were 0 (that would publish a wrong count).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from trialmon.db import get_engine
from trialmon.months import month_end, valid_on
from trialmon.schema import area_member

MEMBER_COLUMNS = ["month", "area_type", "area_code", "municipality_code"]
CELL_KEYS = ["month", "area_type", "area_code", "population", "group", "measure"]



def members_by_month(area_member: pl.DataFrame, months: list[str]) -> pl.DataFrame:
    """[month, area_type, area_code, municipality_code] valid on each month's last day.

    ``area_member`` has the columns of the ``area_member`` table. Municipality areas
    list themselves (the reference says so); they are added here if a reference
    lacks them, so that the roll-up always includes municipality cells.
    """
    calendar_frame = pl.DataFrame(
        {"month": months, "month_end": [month_end(m) for m in months]},
        schema={"month": pl.String, "month_end": pl.Date},
    )
    valid = (
        calendar_frame.lazy()
        .join(area_member.lazy().with_columns(pl.col("valid_from", "valid_to").cast(pl.Date)),
              how="cross")
        .filter(valid_on(pl.col("month_end")))
        .select(MEMBER_COLUMNS)
        .collect()
    )
    municipalities = (
        valid.select("month", "municipality_code").unique()
        .with_columns(pl.lit("municipality").alias("area_type"),
                      pl.col("municipality_code").alias("area_code"))
        .select(MEMBER_COLUMNS)
    )
    return pl.concat([valid, municipalities]).unique().sort(MEMBER_COLUMNS)


def without_municipalities(members: pl.DataFrame) -> pl.DataFrame:
    """Membership of the areas larger than a municipality (what disclosure needs)."""
    return members.filter(pl.col("area_type") != "municipality")


def roll_up(municipal: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Sum additive municipal measures to every area type (municipality cells included).

    ``municipal``: [month, municipality_code, population, group, measure, value];
    ``members``: [month, area_type, area_code, municipality_code].
    Returns [month, area_type, area_code, population, group, measure, value (Int64)].

    The sums run on a wide frame (one column per measure), so the join with the
    membership and the group-by touch one row per (municipality, population, group)
    rather than one per measure as well.
    """
    if municipal.is_empty():
        return pl.DataFrame(schema={**{k: pl.String for k in CELL_KEYS}, "value": pl.Int64})
    measures = municipal["measure"].unique().sort().to_list()
    wide = municipal.pivot(on="measure", index=["month", "municipality_code", "population",
                                                "group"], values="value")
    area_keys = ["month", "area_type", "area_code", "population", "group"]
    sums = (
        wide.lazy()
        .join(members.lazy(), on=["month", "municipality_code"], how="inner")
        .group_by(area_keys)
        .agg(pl.col(measures).sum())
    )
    grid = (
        members.lazy().select("month", "area_type", "area_code").unique()
        .join(wide.lazy().select("month", "population", "group").unique(), on="month")
    )
    not_computable = municipal.lazy().group_by("month", "measure").agg(
        pl.col("value").is_null().any().alias("not_computable"))
    return (
        grid.join(sums, on=area_keys, how="left")
        .with_columns(pl.col(measures).fill_null(0).cast(pl.Int64))
        .unpivot(on=measures, index=area_keys, variable_name="measure", value_name="value")
        .join(not_computable, on=["month", "measure"], how="left")
        .select(*CELL_KEYS, pl.when(pl.col("not_computable")).then(None)
                .otherwise(pl.col("value")).alias("value"))
        .collect()
    )


def area_members(url: str, months: list[str]) -> pl.DataFrame:
    """Membership of every area type on each month's last day."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(
            area_member.c.area_type, area_member.c.area_code, area_member.c.municipality_code,
            area_member.c.valid_from, area_member.c.valid_to)).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows], orient="row",
        schema={"area_type": pl.String, "area_code": pl.String, "municipality_code": pl.String,
                "valid_from": pl.Date, "valid_to": pl.Date},
    )
    return members_by_month(frame, months)
