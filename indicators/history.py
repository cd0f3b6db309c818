"""Figures as published: every published cell a computation replaces is kept.

Interface:

* ``diff_cells(old, new, publication_id) -> CellDiff``: Polars diff of the cells about to
  be published against the ones they replace (``old`` as stored, with ``published_in``);
  ``CellDiff.cells`` are the new cells stamped with the publication that published
  each value, ``CellDiff.history`` the replaced (changed or removed) old cells,
  ``CellDiff.by_month`` the counts per month, ``CellDiff.unchanged`` the keys of the
  cells already stored exactly so (same figures and vintage: a publisher may leave
  them in place).
* ``publication_reasons(...)``: why a publication happened (a list of codes).
* ``as_of_select(columns, where, publication_id)``: a SELECT of the cells exactly as they
  stood after publication ``publication_id`` (current cells published up to then, plus
  the kept old cells valid then); ``columns(table)`` and ``where(columns)`` build the
  column list and conditions for either table.
* ``parse_as_of(text)``, ``resolve_publication(conn, as_of, vintage)``: the publication in
  force at a moment ('YYYY-MM-DDTHH:MM' UTC) or named by its id (the "vintage id").
* ``publications(conn)``, ``publication_months(conn)``, ``revisions(conn, ...)``: the
  record of publications and the old -> new table per indicator and area.
* ``keep_with_connection(conn, cells, indicators, months, source)``: the same record for
  small publications written through SQLAlchemy (the public statistics); the register
  engine does it with ADBC in its publish step (``engine.keep_published_history``).

Decisions:

* A cell changes when its value, numerator, denominator or flag changes (nulls equal
  nulls, floats compared exactly: the engine computes them deterministically). A cell
  whose figures are unchanged keeps its ``published_in`` and costs no history row even
  when a new delivery of its month gave it a newer data ``vintage`` -- so a revision of
  one month stores only the cells whose figures changed, and an ``as_of`` table repeats
  every figure, numerator, denominator and flag exactly; its ``vintage`` column shows
  the newest delivery that confirmed a figure.
* Validity is an interval of publication ids: an old cell is valid for
  ``published_in <= P < replaced_in``, a current cell for ``published_in <= P``. So the
  table as of P is one UNION ALL of two range scans, no correlated subquery; a cell
  added by publication P is absent before P, a removed one absent from P on.
* ``published_in`` null (cells written before history was kept) counts as publication 0.
* A computation that changes no figure records no publication (a plain recompute that
  reproduces the same cells is not a revision).
* ``as_of`` with minute precision means "as it stood at the end of that minute", so a
  report that states "published 2026-12-03 10:15" is rebuilt by ``as_of=2026-12-03T10:15``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from trialmon.db import timestamp_for
from trialmon.errors import BadParameter
from trialmon.months import as_utc
from trialmon.schema import (
    indicator_value,
    indicator_value_history,
    publication,
    publication_month,
)

KEY = ["indicator", "population", "group", "area_type", "area_code", "month"]
NUMBERS = ["value", "numerator", "denominator"]
FIGURES = [*NUMBERS, "flag"]
REASONS = ("new_month", "corrected_delivery", "membership_change", "disclosure_threshold",
           "new_release", "recompute")
AS_OF = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?Z?$")


# --------------------------------------------------------------------------- the diff

@dataclass
class CellDiff:
    cells: pl.DataFrame  # the new cells + published_in
    history: pl.DataFrame  # replaced old cells + published_in, replaced_in
    by_month: pl.DataFrame  # month, cells_added, cells_changed, cells_removed
    unchanged: pl.DataFrame  # KEY of the new cells stored exactly so (figures and vintage)

    def counts(self) -> tuple[int, int, int]:
        sums = self.by_month.select(pl.col("cells_added", "cells_changed", "cells_removed")
                                    .sum()).row(0)
        return tuple(int(v or 0) for v in sums)

    @property
    def changes_anything(self) -> bool:
        return any(self.counts())


def _differs(name: str) -> pl.Expr:
    if name == "flag":
        return pl.col("flag").fill_null("") != pl.col("flag__old").fill_null("")
    return pl.col(name).ne_missing(pl.col(f"{name}__old"))


def diff_cells(old: pl.DataFrame, new: pl.DataFrame, publication_id: int) -> CellDiff:
    """Compare `new` cells with the `old` ones they replace (same months and indicators).

    `old` has KEY, FIGURES, vintage and published_in; `new` KEY, FIGURES and vintage, in
    the order it is to be written (kept)."""
    was = old.select(*KEY, *[pl.col(c).alias(f"{c}__old") for c in
                             (*FIGURES, "vintage", "published_in")],
                     pl.lit(True).alias("__was"))
    joined = new.join(was, on=KEY, how="left", maintain_order="left")
    existed = pl.col("__was").fill_null(False)
    changed = existed & pl.any_horizontal(*[_differs(c) for c in FIGURES])
    joined = joined.with_columns(changed.alias("__changed"), existed.alias("__existed"))
    pid = pl.lit(publication_id, dtype=pl.Int64)
    cells = joined.select(
        *new.columns,
        pl.when(pl.col("__existed") & ~pl.col("__changed"))
        .then(pl.col("published_in__old").cast(pl.Int64)).otherwise(pid).alias("published_in"))
    replaced = joined.filter(pl.col("__changed")).select(
        *KEY, *[pl.col(f"{c}__old").alias(c) for c in (*FIGURES, "vintage", "published_in")])
    removed = old.join(new.select(KEY), on=KEY, how="anti").select(
        *KEY, *FIGURES, "vintage", "published_in")
    history = pl.concat([replaced, removed], how="vertical_relaxed").with_columns(
        pl.when(pl.col("flag") == "").then(None).otherwise(pl.col("flag")).alias("flag"),
        pl.col("published_in").cast(pl.Int64), pid.alias("replaced_in"))
    counts = pl.concat([
        joined.group_by("month").agg(
            (~pl.col("__existed")).sum().alias("cells_added"),
            pl.col("__changed").sum().alias("cells_changed"),
            pl.lit(0, dtype=pl.UInt32).alias("cells_removed")),
        removed.group_by("month").agg(
            pl.lit(0, dtype=pl.UInt32).alias("cells_added"),
            pl.lit(0, dtype=pl.UInt32).alias("cells_changed"),
            pl.len().cast(pl.UInt32).alias("cells_removed")),
    ], how="vertical_relaxed")
    by_month = (counts.group_by("month").agg(pl.all().sum()).sort("month")
                .with_columns(pl.col("cells_added", "cells_changed", "cells_removed")
                              .cast(pl.Int64)))
    unchanged = joined.filter(pl.col("__existed") & ~pl.col("__changed")
                              & pl.col("vintage").eq_missing(pl.col("vintage__old"))
                              ).select(KEY)
    return CellDiff(cells=cells, history=history, by_month=by_month, unchanged=unchanged)


def membership_hash(members: pl.DataFrame) -> str:
    """A fingerprint of the area membership table (changes when any membership changes)."""
    text = members.select(pl.all().cast(pl.String)).sort(pl.all()).write_csv()
    return hashlib.sha256(text.encode()).hexdigest()


def publication_reasons(diff: CellDiff, old_months: set[str], status: pl.DataFrame | None,
                        last: dict | None, threshold: int | None,
                        members_hash: str | None) -> list[str]:
    """Why a publication happened: new months, a corrected delivery (a month's current
    delivery is a revision loaded after the last publication), a membership change, a new
    disclosure threshold; 'recompute' when none of these explains a change."""
    reasons = []
    new_months = set(diff.by_month.filter(pl.col("cells_added") > 0)["month"]) - old_months
    if new_months:
        reasons.append("new_month")
    if status is not None and status.height:
        corrected = status.filter(pl.col("revision") > 0)
        if last is not None and last.get("published_at") is not None:
            corrected = corrected.filter(pl.col("vintage") > last["published_at"])
        if corrected.height:
            reasons.append("corrected_delivery")
    if last is not None:
        if members_hash and last.get("membership_hash") not in (None, members_hash):
            reasons.append("membership_change")
        if threshold is not None and last.get("threshold") not in (None, threshold):
            reasons.append("disclosure_threshold")
    _, changed, removed = diff.counts()
    if not reasons or (reasons == ["new_month"] and (changed or removed)):
        reasons.append("recompute")
    return reasons


def publication_row(publication_id: int, published_at: dt.datetime, source: str,
                    reasons: list[str], diff: CellDiff, threshold: int | None,
                    members_hash: str | None) -> pl.DataFrame:
    added, changed, removed = diff.counts()
    return pl.DataFrame([{
        "publication_id": publication_id, "published_at": published_at, "source": source,
        "reason": ",".join(reasons), "cells_added": added, "cells_changed": changed,
        "cells_removed": removed, "threshold": threshold, "membership_hash": members_hash,
    }], schema={"publication_id": pl.Int64, "published_at": pl.Datetime("us", "UTC"),
                "source": pl.String, "reason": pl.String, "cells_added": pl.Int64,
                "cells_changed": pl.Int64, "cells_removed": pl.Int64, "threshold": pl.Int64,
                "membership_hash": pl.String})


def month_rows(publication_id: int, diff: CellDiff) -> pl.DataFrame:
    return diff.by_month.filter(pl.any_horizontal(
        pl.col("cells_added", "cells_changed", "cells_removed") > 0)).select(
        pl.lit(publication_id, dtype=pl.Int64).alias("publication_id"), "month",
        "cells_added", "cells_changed", "cells_removed")


def _aware_series(values: list) -> pl.Series:
    return pl.Series("vintage", [as_utc(v) for v in values], dtype=pl.Datetime("us", "UTC"))


OLD_SCHEMA = {**{k: pl.String for k in KEY}, "value": pl.Float64, "numerator": pl.Float64,
              "denominator": pl.Float64, "flag": pl.String, "vintage": pl.Datetime("us", "UTC"),
              "published_in": pl.Int64}


def keep_with_connection(conn, cells: pl.DataFrame, indicators: list[str], months: list[str],
                         source: str) -> pl.DataFrame:
    """Diff `cells` against the published cells of `indicators` x `months`, keep the
    replaced ones and record the publication on `conn` (SQLAlchemy, inside the caller's
    transaction); returns `cells` with ``published_in``. For small tables only."""
    iv = indicator_value.c
    rows = conn.execute(sa.select(
        iv.indicator, iv.population, iv.group, iv.area_type, iv.area_code, iv.month, iv.value,
        iv.numerator, iv.denominator, sa.func.coalesce(iv.flag, ""), iv.vintage,
        sa.func.coalesce(iv.published_in, 0)).where(
        iv.indicator.in_(indicators), iv.month.in_(months))).all()
    old = pl.DataFrame([tuple(r) for r in rows], orient="row",
                       schema={**OLD_SCHEMA, "vintage": pl.Object})
    old = old.with_columns(_aware_series([r[10] for r in rows])).cast(OLD_SCHEMA)
    next_id = conn.execute(sa.select(sa.func.coalesce(sa.func.max(
        publication.c.publication_id), 0) + 1)).scalar()
    diff = diff_cells(old, cells.with_columns(pl.col("vintage").cast(
        pl.Datetime("us", "UTC"))), int(next_id))
    if not diff.changes_anything:
        return diff.cells
    _, changed, removed = diff.counts()
    new_months = set(diff.by_month.filter(pl.col("cells_added") > 0)["month"]) - set(
        old["month"])
    reasons = (["new_month"] if new_months else []) + (["new_release"] if changed or removed
                                                       else [])
    if diff.history.height:
        conn.execute(sa.insert(indicator_value_history), diff.history.to_dicts())
    conn.execute(sa.insert(publication), publication_row(
        int(next_id), dt.datetime.now(dt.UTC), source, reasons or ["recompute"], diff, None,
        None).to_dicts())
    conn.execute(sa.insert(publication_month), month_rows(int(next_id), diff).to_dicts())
    return diff.cells


# --------------------------------------------------------------------------- reading

def as_of_select(columns: Callable[[sa.Table], list], where: Callable[[object], list],
                 publication_id: int):
    """The cells as they stood after publication `publication_id` (a UNION ALL)."""
    iv, old = indicator_value, indicator_value_history
    current = sa.select(*columns(iv)).where(
        sa.func.coalesce(iv.c.published_in, 0) <= publication_id, *where(iv.c))
    kept = sa.select(*columns(old)).where(
        old.c.published_in <= publication_id, old.c.replaced_in > publication_id,
        *where(old.c))
    return sa.union_all(current, kept)


def parse_as_of(text: str) -> dt.datetime:
    """'YYYY-MM-DDTHH:MM[:SS][Z]' (UTC) as the end of that minute (or second)."""
    match = AS_OF.match(text or "")
    if not match:
        raise BadParameter("as_of", f"bad as_of {text!r}: expected YYYY-MM-DDTHH:MM (UTC)")
    day, minute, seconds = match.groups()
    try:
        moment = dt.datetime.fromisoformat(f"{day}T{minute}{seconds or ''}").replace(
            tzinfo=dt.UTC)
    except ValueError as error:
        raise BadParameter("as_of", f"bad as_of {text!r}: {error}") from None
    step = dt.timedelta(seconds=1) if seconds else dt.timedelta(minutes=1)
    return moment + step - dt.timedelta(microseconds=1)


def resolve_publication(conn, as_of: str | None = None, vintage: str | int | None = None
                        ) -> int | None:
    """The publication id in force at `as_of`, or `vintage` checked to exist; None = now."""
    if vintage not in (None, ""):
        if as_of:
            raise BadParameter("as_of", "give as_of or vintage, not both")
        try:
            number = int(vintage)
        except (TypeError, ValueError):
            raise BadParameter("vintage", f"bad vintage {vintage!r}: expected a publication id") from None
        found = conn.execute(sa.select(publication.c.publication_id).where(
            publication.c.publication_id == number)).scalar()
        if found is None and number != 0:
            raise BadParameter("vintage", f"unknown vintage {number}: no publication has that id")
        return number
    if not as_of:
        return None
    moment = parse_as_of(as_of)
    stamp = timestamp_for(conn, moment)
    found = conn.execute(sa.select(sa.func.max(publication.c.publication_id)).where(
        publication.c.published_at <= stamp)).scalar()
    return int(found or 0)


PUBLICATION_SCHEMA = {"publication_id": pl.Int64, "published_at": pl.Datetime("us", "UTC"),
                      "source": pl.String, "reason": pl.String, "cells_added": pl.Int64,
                      "cells_changed": pl.Int64, "cells_removed": pl.Int64,
                      "threshold": pl.Int64}


def publications(conn) -> pl.DataFrame:
    """Every publication, newest first."""
    p = publication.c
    rows = conn.execute(sa.select(p.publication_id, p.published_at, p.source, p.reason,
                                  p.cells_added, p.cells_changed, p.cells_removed,
                                  p.threshold).order_by(p.publication_id.desc())).all()
    return pl.DataFrame([(r[0], as_utc(r[1]), *r[2:]) for r in rows], orient="row",
                        schema=PUBLICATION_SCHEMA)


def publication_months(conn) -> pl.DataFrame:
    m = publication_month.c
    rows = conn.execute(sa.select(m.publication_id, m.month, m.cells_added, m.cells_changed,
                                  m.cells_removed)).all()
    return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
        "publication_id": pl.Int64, "month": pl.String, "cells_added": pl.Int64,
        "cells_changed": pl.Int64, "cells_removed": pl.Int64})


def latest_publication(conn) -> dict | None:
    """The newest publication (id, published_at), or None before any."""
    frame = publications(conn)
    return frame.row(0, named=True) if frame.height else None


VERSION_SCHEMA = {"indicator": pl.String, "population": pl.String, "group": pl.String,
                  "area_type": pl.String, "area_code": pl.String, "month": pl.String,
                  "value": pl.Float64, "flag": pl.String, "published_in": pl.Int64,
                  "replaced_in": pl.Int64}


def _versions(conn, table: sa.Table, conditions: Callable[[object], list],
              current: bool) -> pl.DataFrame:
    c = table.c
    replaced = sa.null() if current else c.replaced_in
    stmt = sa.select(c.indicator, c.population, c.group, c.area_type, c.area_code, c.month,
                     c.value, c.flag, sa.func.coalesce(c.published_in, 0), replaced
                     ).where(*conditions(c))
    return pl.DataFrame([tuple(r) for r in conn.execute(stmt).all()], orient="row",
                        schema=VERSION_SCHEMA)


def revisions(conn, indicators=(), areas=(), populations=(), groups=(),
              start: str | None = None, end: str | None = None) -> pl.DataFrame:
    """Old -> new per revised cell: indicator, population, group, area_type, area_code,
    month, old_value, old_flag, old_vintage, old_published_at, new_value, new_flag,
    new_vintage (None: the cell was removed), new_published_at, reason. Newest first."""
    def conditions(c) -> list:
        out = []
        for name, values in (("indicator", indicators), ("area_code", areas),
                             ("population", populations), ("group", groups)):
            if values:
                out.append(c[name].in_(list(values)))
        if start:
            out.append(c.month >= start)
        if end:
            out.append(c.month <= end)
        return out

    old = _versions(conn, indicator_value_history, conditions, current=False)
    if old.is_empty():
        return pl.DataFrame(schema=REVISION_SCHEMA)
    # only keys that were revised: the current versions of those
    current = _versions(conn, indicator_value, lambda c: [
        *conditions(c), c.month.in_(old["month"].unique().to_list())], current=True)
    versions = pl.concat([old, current])
    nxt = versions.select(*KEY, pl.col("published_in").alias("replaced_in"),
                          pl.col("value").alias("new_value"), pl.col("flag").alias("new_flag"),
                          pl.lit(False).alias("removed"))
    pubs = publications(conn)
    when = pl.DataFrame({"publication_id": pubs["publication_id"],
                         "published_at": pubs["published_at"]})
    why = dict(zip(pubs["publication_id"], pubs["reason"], strict=True))
    table = old.join(nxt, on=[*KEY, "replaced_in"], how="left")
    return (
        table.join(when.rename({"publication_id": "published_in",
                                "published_at": "old_published_at"}),
                   on="published_in", how="left")
        .join(when.rename({"publication_id": "replaced_in",
                           "published_at": "new_published_at"}), on="replaced_in", how="left")
        .select(*KEY, pl.col("value").alias("old_value"), pl.col("flag").alias("old_flag"),
                pl.col("published_in").alias("old_vintage"), "old_published_at",
                "new_value", "new_flag", pl.col("replaced_in").alias("new_vintage"),
                "new_published_at",
                pl.col("replaced_in").replace_strict(why, default="", return_dtype=pl.String)
                .alias("reason"),
                pl.col("removed").fill_null(True))
        .sort(["new_vintage", "indicator", "area_code", "month"],
              descending=[True, False, False, False])
    )


REVISION_SCHEMA = {**{k: pl.String for k in KEY}, "old_value": pl.Float64,
                   "old_flag": pl.String, "old_vintage": pl.Int64,
                   "old_published_at": pl.Datetime("us", "UTC"), "new_value": pl.Float64,
                   "new_flag": pl.String, "new_vintage": pl.Int64,
                   "new_published_at": pl.Datetime("us", "UTC"), "reason": pl.String,
                   "removed": pl.Boolean}


def revised_cells(conn, indicators, population: str, group: str, codes,
                  publication_id: int | None) -> pl.DataFrame:
    """[indicator, area_code, month] of the cells shown at `publication_id` (None = now)
    that differ from another publication: now, cells revised at some time; at an older
    publication, cells revised later (their value then is not today's)."""
    h = indicator_value_history.c
    stmt = sa.select(h.indicator, h.area_code, h.month).where(
        h.indicator.in_(list(indicators)), h.population == population, h.group == group,
        h.area_code.in_(list(codes))).distinct()
    if publication_id is not None:
        stmt = stmt.where(h.published_in <= publication_id, h.replaced_in > publication_id)
    return pl.DataFrame([tuple(r) for r in conn.execute(stmt).all()], orient="row",
                        schema={"indicator": pl.String, "area_code": pl.String,
                                "month": pl.String})
