"""Area systems outside the disclosure network: the employment areas and loaded systems.

Interface:

* ``NETWORK_AREA_TYPES``: the area types ``disclosure.protect`` handles (two nested
  families: regions; trial areas inside all_trials, comparison, country).
* ``is_network(expr)``: a Polars predicate on ``area_type``.
* ``protect_overlay(cells, members, municipal_flags, threshold) -> cells + suppressed``.
* ``with_system_vintages(cells, systems) -> cells``: a loaded area system's load time
  as the vintage of its cells where it is newer than the data's.

Decisions:

* An overlay area (an area system that nests in neither family, e.g. the employment
  areas, where Mänttä-Vilppula of Pirkanmaa joins Jämsä's area) is published only
  where it adds nothing to what the network already publishes: a cell is suppressed
  when any member municipality's cell of the same slice is suppressed, and, like
  every count, when 1 <= value < threshold. A published overlay cell is then the sum
  of published municipality cells, so no new relation reaches a suppressed value,
  however the overlay systems overlap each other or the network. The cost: an
  overlay area with a small, suppressed member shows a gap in that slice. This keeps
  ``disclosure.protect`` (two families, being rewritten in issue 12) untouched; once
  it protects linked area systems itself, these types can move into it.
"""

from __future__ import annotations

import polars as pl

NETWORK_AREA_TYPES = ("municipality", "region", "trial_area", "all_trials", "comparison",
                      "country")
SLICE = ["month", "population", "group", "measure"]


def is_network(column: str = "area_type") -> pl.Expr:
    return pl.col(column).is_in(list(NETWORK_AREA_TYPES))


def protect_overlay(cells: pl.DataFrame, members: pl.DataFrame, municipal_flags: pl.DataFrame,
                    threshold: int) -> pl.DataFrame:
    """``cells`` of overlay areas with ``suppressed`` (see the module's Decisions).

    ``members``: [month, area_type, area_code, municipality_code] of the overlay areas;
    ``municipal_flags``: protected municipality cells [month, area_code, population,
    group, measure, suppressed] (area_code = municipality code).
    """
    if cells.is_empty():
        return cells.with_columns(pl.lit(False).alias("suppressed"))
    hidden_member = (
        members.lazy()
        .join(municipal_flags.lazy().rename({"area_code": "municipality_code"}),
              on=["month", "municipality_code"], how="inner")
        .group_by("month", "area_type", "area_code", "population", "group", "measure")
        .agg(pl.col("suppressed").any().alias("_member_hidden"))
    )
    primary = pl.col("value").is_between(1, threshold - 1, closed="both").fill_null(False)
    return (
        cells.lazy()
        .join(hidden_member, on=["month", "area_type", "area_code", "population", "group",
                                 "measure"], how="left", maintain_order="left")
        .with_columns((primary | pl.col("_member_hidden").fill_null(False)).alias("suppressed"))
        .drop("_member_hidden")
        .collect()
    )


def with_system_vintages(cells: pl.DataFrame, systems: pl.DataFrame) -> pl.DataFrame:
    """``systems``: [area_type, loaded_at] of loaded area systems."""
    if systems.is_empty() or cells.is_empty():
        return cells
    return (
        cells.join(systems.rename({"loaded_at": "_system_at"}), on="area_type", how="left",
                   maintain_order="left")
        .with_columns(pl.max_horizontal("vintage", "_system_at").alias("vintage"))
        .drop("_system_at")
    )
