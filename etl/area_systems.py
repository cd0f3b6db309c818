"""`trialmon load areas FILE`: load an area system into the database, and list them.

Interface:

* ``load_area_system(url, path) -> AreaLoadReport``: validate the file (etl/area_file.py)
  and replace that area type's areas and memberships in one transaction; nothing is
  written when the file is rejected or equals what is stored. ``report.affected_months``
  and ``report.affected_statfin_months``: the loaded register and Statistics Finland
  months whose membership changed (to recompute).
* ``membership_table(url) -> pl.DataFrame``: every membership of the listed area
  systems (trial areas, employment areas, loaded systems) in the file format, plus the
  municipality's name, confidence and completeness (``trialmon areas``).

Decisions:

* A loaded system is recorded in ``area_system`` (load time, file, hash); the start-up
  sync of the shipped reference then leaves that area type alone, so a loaded official
  list of employment areas replaces the shipped partial one and stays.
* Affected months: loaded months whose last day (the register's calculation date)
  falls in a membership interval that was added or removed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from etl.area_file import FAR_FUTURE, RESERVED_TYPES, AreaSystem, read_area_file
from etl.reference import AREA_SCHEMA, MEMBER_SCHEMA, municipality_validity
from trialmon.db import get_engine, lock_for_writing
from trialmon.schema import area, area_member, area_system, statfin_value, vintage

MEMBER_KEY = ["area_code", "municipality_code", "valid_from", "valid_to"]
LISTED_TYPES_FIRST = ("trial_area", "employment_area")


@dataclass
class AreaLoadReport:
    area_type: str
    areas: int
    memberships: int
    changed: bool
    affected_months: list[str] = field(default_factory=list)
    affected_statfin_months: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.changed:
            return (f"area system {self.area_type!r}: unchanged ({self.areas} areas, "
                    f"{self.memberships} memberships); nothing written")
        return (f"area system {self.area_type!r}: {self.areas} areas, {self.memberships} "
                f"memberships loaded; {len(self.affected_months)} register months and "
                f"{len(self.affected_statfin_months)} Statistics Finland months affected")


def _taken_codes(conn: sa.Connection) -> dict[str, str]:
    rows = conn.execute(sa.select(area.c.area_code, area.c.area_type).distinct()).all()
    return {code: kind for code, kind in rows}


def _stored_system(conn: sa.Connection, area_type: str) -> AreaSystem:
    areas = pl.DataFrame(conn.execute(sa.select(area).where(area.c.area_type == area_type)).all(),
                         schema=AREA_SCHEMA, orient="row")
    members = pl.DataFrame(conn.execute(sa.select(area_member).where(
        area_member.c.area_type == area_type)).all(), schema=MEMBER_SCHEMA, orient="row")
    return AreaSystem(area_type=area_type, areas=areas, members=members)


def _canonical(system: AreaSystem) -> tuple[pl.DataFrame, pl.DataFrame]:
    areas = system.areas.cast(AREA_SCHEMA).select(list(AREA_SCHEMA)).sort("area_code")
    members = system.members.cast(MEMBER_SCHEMA).select(list(MEMBER_SCHEMA)).sort(
        "area_code", "municipality_code", "valid_from")
    return areas, members


def content_hash(system: AreaSystem) -> str:
    areas, members = _canonical(system)
    digest = hashlib.sha256()
    for frame in (areas, members):
        digest.update(frame.write_csv().encode("utf-8"))
    return digest.hexdigest()


def _loaded_months(conn: sa.Connection) -> list[str]:
    query = sa.select(vintage.c.month).where(vintage.c.is_current == sa.true()).distinct()
    return sorted(conn.execute(query).scalars())


def _statfin_months(conn: sa.Connection) -> list[str]:
    return sorted(conn.execute(sa.select(statfin_value.c.month).distinct()).scalars())


def month_end(month: str) -> dt.date:
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def affected_months(old: pl.DataFrame, new: pl.DataFrame, months: list[str]) -> list[str]:
    """Months whose last day lies in a membership interval present in only one of the two."""
    key = [pl.col(c) for c in MEMBER_KEY]
    old_rows = old.select(key).cast({"valid_from": pl.Date, "valid_to": pl.Date})
    new_rows = new.select(key).cast({"valid_from": pl.Date, "valid_to": pl.Date})
    changed = pl.concat([old_rows.join(new_rows, on=MEMBER_KEY, how="anti", nulls_equal=True),
                         new_rows.join(old_rows, on=MEMBER_KEY, how="anti", nulls_equal=True)])
    if changed.is_empty() or not months:
        return []
    ends = pl.DataFrame({"month": months, "end": [month_end(m) for m in months]})
    hit = ends.join(changed, how="cross").filter(
        (pl.col("valid_from") <= pl.col("end"))
        & (pl.col("valid_to").fill_null(FAR_FUTURE) >= pl.col("end")))
    return sorted(set(hit["month"]))


def load_area_system(url: str, path: Path | str) -> AreaLoadReport:
    engine = get_engine(url)
    with engine.connect() as conn:
        taken = _taken_codes(conn)
    system = read_area_file(path, municipality_validity(url), taken_codes=taken)
    digest = content_hash(system)
    with engine.begin() as conn:
        lock_for_writing(conn, area)
        old = _stored_system(conn, system.area_type)
        report = AreaLoadReport(system.area_type, system.areas.height, system.members.height,
                                changed=content_hash(old) != digest)
        stored = conn.execute(sa.select(area_system.c.content_hash).where(
            area_system.c.area_type == system.area_type)).scalar()
        if not report.changed and stored == digest:
            return report
        report.affected_months = affected_months(old.members, system.members,
                                                 _loaded_months(conn))
        report.affected_statfin_months = affected_months(old.members, system.members,
                                                         _statfin_months(conn))
        conn.execute(sa.delete(area_member).where(area_member.c.area_type == system.area_type))
        conn.execute(sa.delete(area).where(area.c.area_type == system.area_type))
        areas, members = _canonical(system)
        conn.execute(sa.insert(area), areas.to_dicts())
        conn.execute(sa.insert(area_member), members.to_dicts())
        conn.execute(sa.delete(area_system).where(area_system.c.area_type == system.area_type))
        conn.execute(sa.insert(area_system), [{
            "area_type": system.area_type, "loaded_at": dt.datetime.now(dt.UTC),
            "source_file": Path(path).name, "content_hash": digest,
            "areas": areas.height, "memberships": members.height}])
        report.changed = True
    return report


def membership_table(url: str) -> pl.DataFrame:
    """Every membership of the listed area systems, in the load file's format + names."""
    with get_engine(url).connect() as conn:
        areas = pl.DataFrame(conn.execute(sa.select(area)).all(), schema=AREA_SCHEMA,
                             orient="row")
        members = pl.DataFrame(conn.execute(sa.select(area_member)).all(), schema=MEMBER_SCHEMA,
                               orient="row")
    skip = [*RESERVED_TYPES.keys() - {"trial_area"}, "region"]
    names = areas.filter(pl.col("area_type") == "municipality").select(
        pl.col("area_code").alias("municipality_code"),
        pl.col("name_fi").alias("municipality_name_fi"))
    order = {t: i for i, t in enumerate(LISTED_TYPES_FIRST)}
    return (
        members.filter(~pl.col("area_type").is_in(skip))
        .join(areas.select("area_type", "area_code", "name_fi", "name_sv", "name_en",
                           pl.col("source").alias("area_source"), pl.col("confidence")
                           .alias("area_confidence"), "completeness", "note"),
              on=["area_type", "area_code"], how="left")
        .join(names, on="municipality_code", how="left")
        .with_columns(pl.col("source").fill_null(pl.col("area_source")),
                      pl.col("confidence").fill_null(pl.col("area_confidence")),
                      pl.col("area_type").replace_strict(order, default=len(order),
                                                         return_dtype=pl.Int32).alias("_o"))
        .sort("_o", "area_type", "area_code", "municipality_code", "valid_from")
        .select("area_type", "area_code", "name_fi", "name_sv", "name_en", "municipality_code",
                "municipality_name_fi", "valid_from", "valid_to", "source", "confidence",
                "completeness", "note")
    )

