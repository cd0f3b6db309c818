"""Public-statistics indicators (all residents): Statistics Finland's 12r5 summed to our areas.

Interface:

* ``compute_public_statistics(url, months=None) -> PublicStatisticsReport``: for every
  month of ``statfin_value`` (or the given ones) writes the ``stat_*`` cells of
  ``indicator_value`` (population ``all``, group ``all``, every area type) and the
  month's ``month_status`` row (source ``statfin``). Only the ``stat_*`` rows of those
  months are replaced; the register indicators' rows are never touched.
* ``public_statistics_cells(values, members, vintages) -> pl.DataFrame``: the pure
  computation, for tests and callers that hold frames.

Decisions (to be mirrored in docs/indicators.md):

* Municipal values (``KU...``) are summed through ``area_member`` rows valid on the
  month's last day (the statistics' reference date is the end of the month), for every
  area type, municipality cells included. Published area rows (SSS, MK..) are not
  copied: they are the check, not the source.
* A member without a value (``...`` at source, or no row) leaves the area's value as
  the sum of the known members, flagged ``incomplete``. A municipality's own missing
  value is null with flag ``suppressed`` (Statistics Finland suppressed it).
* The rate 100 x sum(TYOTTOMATLOPUSSA) / sum(TYOVOIMATK) is summed over the members
  whose numerator and denominator are both known (so an incomplete rate compares like
  with like), rounded half away from zero to one decimal; null when the denominator is 0.
* No further suppression: these figures are already published by Statistics Finland.
* Rows the source files hold under ``KU`` codes that are no municipality of the
  reference that month (``KU199`` municipality unknown, ``KUJOU`` vacancies without a
  fixed location) count towards the country only, so the country sums the same
  universe as the published SSS figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa

from indicators import history
from indicators.registry import STATFIN_INDICATORS
from trialmon.db import get_engine
from trialmon.months import as_utc, month_end_expr, valid_on
from trialmon.schema import area_member, indicator_value, month_status, statfin_value

POPULATION, GROUP = "all", "all"
MEMBER_SCHEMA = {"area_type": pl.String, "area_code": pl.String,
                 "municipality_code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}
CELL_COLUMNS = ["indicator", "population", "group", "area_type", "area_code", "month", "value",
                "numerator", "denominator", "flag", "vintage"]


@dataclass
class PublicStatisticsReport:
    months: list[str] = field(default_factory=list)
    cells: int = 0
    incomplete: int = 0
    suppressed: int = 0
    unallocated: list[str] = field(default_factory=list)

    def summary(self) -> str:
        extra = f"; country only: {', '.join(self.unallocated)}" if self.unallocated else ""
        return (f"public statistics: {self.cells} cells for {len(self.months)} month(s), "
                f"{self.incomplete} incomplete, {self.suppressed} suppressed at source{extra}")


def source_measures() -> list[str]:
    return sorted({m for i in STATFIN_INDICATORS for m in (i.numerator, i.denominator) if m})


def members_by_month(members: pl.DataFrame, months: list[str]) -> pl.DataFrame:
    """[month, area_type, area_code, municipality_code] valid on each month's last day."""
    return (pl.DataFrame({"month": months}, schema={"month": pl.String}).lazy()
            .join(members.lazy(), how="cross")
            .filter(valid_on(month_end_expr("month")))
            .select("month", "area_type", "area_code", "municipality_code").unique()
            .collect())


def municipal_values(values: pl.DataFrame) -> pl.DataFrame:
    """statfin_value rows of KU areas as [month, municipality_code, measure, value]."""
    return (values.filter(pl.col("area_code").str.starts_with("KU"))
            .select("month", pl.col("area_code").str.strip_prefix("KU").alias("municipality_code"),
                    "measure", "value"))


def _with_unallocated(members: pl.DataFrame, municipal: pl.DataFrame) -> pl.DataFrame:
    """Add the KU codes that are no municipality that month as members of the country."""
    known = members.filter(pl.col("area_type") == "municipality").select(
        "month", "municipality_code")
    unallocated = (municipal.select("month", "municipality_code").unique()
                   .join(known, on=["month", "municipality_code"], how="anti"))
    countries = members.filter(pl.col("area_type") == "country").select(
        "month", "area_type", "area_code").unique()
    return pl.concat([members, countries.join(unallocated, on="month")
                     .select(members.columns)]).unique()


def public_statistics_cells(values: pl.DataFrame, members: pl.DataFrame,
                            vintages: pl.DataFrame) -> pl.DataFrame:
    """Every stat_* cell of the months in `values` (see the module's decisions).

    values: statfin_value rows [month, area_code, measure, value]; members: area_member
    rows; vintages: [month, vintage].
    """
    months = values["month"].unique().sort().to_list()
    municipal = municipal_values(values)
    members = _with_unallocated(members_by_month(members, months), municipal)
    measures = pl.DataFrame({"measure": source_measures()})
    long = (members.join(measures, how="cross")
            .join(municipal, on=["month", "municipality_code", "measure"], how="left"))
    wide = long.pivot("measure", index=["month", "area_type", "area_code", "municipality_code"],
                      values="value")
    cells = pl.concat([_indicator_cells(wide, ind) for ind in STATFIN_INDICATORS])
    return (cells.join(vintages, on="month", how="left")
            .with_columns(population=pl.lit(POPULATION), group=pl.lit(GROUP))
            .select(CELL_COLUMNS)
            .sort("indicator", "area_type", "area_code", "month"))


def _indicator_cells(wide: pl.DataFrame, indicator) -> pl.DataFrame:
    keys = ["month", "area_type", "area_code"]
    num = pl.col(indicator.numerator)
    if indicator.is_ratio:
        den = pl.col(indicator.denominator)
        both = num.is_not_null() & den.is_not_null()
        agg = wide.group_by(keys).agg(
            num.filter(both).sum().alias("numerator"), den.filter(both).sum().alias("denominator"),
            (~both).sum().alias("missing"), pl.len().alias("members"))
        value = (pl.when(pl.col("denominator") > 0)
                 .then((100 * pl.col("numerator") / pl.col("denominator"))
                       .round(indicator.decimals, mode="half_away_from_zero")))
    else:
        agg = wide.group_by(keys).agg(num.sum().alias("numerator"),
                                      num.null_count().alias("missing"), pl.len().alias("members"))
        value = pl.col("numerator")
    own_missing = (pl.col("area_type") == "municipality") & (pl.col("missing") > 0)
    flag = (pl.when(own_missing).then(pl.lit("suppressed"))
            .when(pl.col("missing") > 0).then(pl.lit("incomplete")))
    return agg.select(
        pl.lit(indicator.id).alias("indicator"), *keys,
        pl.when(own_missing).then(None).otherwise(value).cast(pl.Float64).alias("value"),
        (pl.when(own_missing | pl.lit(not indicator.is_ratio)).then(None)
         .otherwise(pl.col("numerator")).cast(pl.Float64).alias("numerator")),
        (pl.when(own_missing | pl.lit(not indicator.is_ratio)).then(None)
         .otherwise(pl.col("denominator") if indicator.is_ratio else None)
         .cast(pl.Float64).alias("denominator")),
        flag.alias("flag"),
    )


# ---------------------------------------------------------------------------- database


def compute_public_statistics(url: str, months: list[str] | None = None
                              ) -> PublicStatisticsReport:
    """Recompute the stat_* cells of `months` (None: every loaded month) in one transaction."""
    engine = get_engine(url)
    with engine.begin() as conn:
        values = _read_values(conn, months)
        if values.is_empty():
            return PublicStatisticsReport()
        members = _read_members(conn)
        vintages = _read_vintages(conn, values["month"].unique().to_list())
        cells = public_statistics_cells(values, members, vintages)
        _replace_cells(conn, cells)
        _mark_computed(conn, vintages, values)
    return _report(cells, values, members)


def _read_values(conn, months: list[str] | None) -> pl.DataFrame:
    t = statfin_value

    query = sa.select(t.c.month, t.c.area_code, t.c.measure, t.c.value)
    if months is not None:
        query = query.where(t.c.month.in_(list(months)))
    return pl.DataFrame(conn.execute(query).all(), orient="row", schema={
        "month": pl.String, "area_code": pl.String, "measure": pl.String, "value": pl.Float64})


def _read_members(conn) -> pl.DataFrame:
    t = area_member

    rows = conn.execute(sa.select(t.c.area_type, t.c.area_code, t.c.municipality_code,
                                  t.c.valid_from, t.c.valid_to)).all()
    return pl.DataFrame(rows, orient="row", schema=MEMBER_SCHEMA)


def _read_vintages(conn, months: list[str]) -> pl.DataFrame:
    t = statfin_value

    rows = conn.execute(sa.select(t.c.month, sa.func.max(t.c.loaded_at))
                        .where(t.c.month.in_(months)).group_by(t.c.month)).all()
    return pl.DataFrame([(m, as_utc(v)) for m, v in rows], orient="row",
                        schema={"month": pl.String, "vintage": pl.Datetime("us", "UTC")})



def _replace_cells(conn, cells: pl.DataFrame) -> None:
    t = indicator_value

    ids = [i.id for i in STATFIN_INDICATORS]
    months = cells["month"].unique().to_list()
    cells = history.keep_with_connection(conn, cells, ids, months, "statfin")
    conn.execute(sa.delete(t).where(t.c.indicator.in_(ids), t.c.month.in_(months)))
    if cells.height:
        conn.execute(sa.insert(t), cells.to_dicts())


def _mark_computed(conn, vintages: pl.DataFrame, values: pl.DataFrame) -> None:
    """month_status (source statfin): insert where the loader wrote none, stamp computed_at."""
    t = month_status

    now = datetime.now(UTC)
    counts = dict(values.group_by("month").len().iter_rows())
    existing = set(conn.execute(sa.select(t.c.month).where(
        t.c.source == "statfin", t.c.month.in_(list(counts)))).scalars())
    missing = [{"month": m, "source": "statfin", "vintage": v, "revision": 0,
                "row_count": counts[m], "rows_changed": 0, "synthetic": False,
                "computed_at": now}
               for m, v in vintages.iter_rows() if m not in existing]
    if missing:
        conn.execute(sa.insert(t), missing)
    conn.execute(sa.update(t).where(t.c.source == "statfin", t.c.month.in_(list(existing)))
                 .values(computed_at=now))


def _report(cells: pl.DataFrame, values: pl.DataFrame, members: pl.DataFrame
            ) -> PublicStatisticsReport:
    municipalities = set(members.filter(pl.col("area_type") == "municipality")
                         ["municipality_code"].to_list())
    codes = municipal_values(values)["municipality_code"].unique().sort().to_list()
    flags = cells["flag"].value_counts()
    count = dict(flags.iter_rows())
    return PublicStatisticsReport(
        months=values["month"].unique().sort().to_list(), cells=cells.height,
        incomplete=count.get("incomplete", 0), suppressed=count.get("suppressed", 0),
        unallocated=[f"KU{c}" for c in codes if c not in municipalities])
