"""Reference areas: municipalities, regions, trial areas and their versioned membership.

Interface used by the rest of the project:

* ``load_reference() -> Reference``: the shipped CSVs (etl/reference_data/) as
  Polars frames, no database needed (the demo generator uses it). ``Reference``
  has ``areas`` and ``members``, frames with exactly the columns of the ``area``
  and ``area_member`` tables (trialmon/schema.py), every area type included
  (member rows for municipality areas list the municipality itself).
* ``sync_reference(engine)``: write them into the ``area`` and ``area_member``
  tables (idempotent; called by ``shell.pipeline.prepare_database``).
* ``area_reference_table(url) -> pl.DataFrame``: for ``trialmon areas``.
* ``municipality_validity(url) -> pl.DataFrame``: code, valid_from, valid_to.

Area codes: municipality = 3-digit code ("091"); region = "MK01".."MK21";
trial_area = "TA01"..; all_trials = "TRIALS"; comparison = "NONTRIAL";
country = "SSS".

The shipped data is three small CSV files (see docs/reference-data.md):

* ``municipalities.csv``: every municipality that existed on some day since
  2020-01-01, with its validity (inclusive dates, empty ``valid_to`` = still valid);
* ``areas.csv``: every listed area (regions, trial areas, and any later area
  system) with an ``area_type`` column;
* ``area_members.csv``: which municipalities make up each listed area. Empty dates
  mean "the municipality's own validity"; a member's validity is always the
  intersection of the membership's and the municipality's.

The aggregate areas (municipality, all_trials, comparison, country) are derived
here, so the CSVs stay hand-editable and cannot contradict one another.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from etl.area_file import parse_area_frame
from trialmon.db import get_engine, lock_for_writing
from trialmon.errors import InputRejected, Problem
from trialmon.schema import area, area_member, area_system

REFERENCE_DIR = Path(__file__).with_name("reference_data")
MUNICIPALITIES_FILE = "municipalities.csv"
AREAS_FILE = "areas.csv"
MEMBERS_FILE = "area_members.csv"
#: Shipped area systems in the format of `trialmon load areas` (docs/area-systems.md).
AREA_SYSTEM_FILES = ("employment_areas_2025.csv",)

AREA_COLUMNS = [column.name for column in area.columns]
MEMBER_COLUMNS = [column.name for column in area_member.columns]
AREA_SCHEMA = {
    "area_type": pl.String, "area_code": pl.String, "name_fi": pl.String,
    "name_sv": pl.String, "name_en": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
    "trial_from": pl.String, "trial_to": pl.String, "source": pl.String,
    "confidence": pl.String, "completeness": pl.String, "note": pl.String,
}
MEMBER_SCHEMA = {
    "area_type": pl.String, "area_code": pl.String, "municipality_code": pl.String,
    "valid_from": pl.Date, "valid_to": pl.Date, "source": pl.String, "confidence": pl.String,
}

#: Names of the derived aggregate areas: (area_type, area_code, fi, sv, en).
AGGREGATES = {
    "all_trials": ("TRIALS", "Kaikki kokeilualueet", "Alla försöksområden", "All trial areas"),
    "comparison": ("NONTRIAL", "Kokeilun ulkopuoliset alueet", "Områden utanför försöken",
                   "Non-trial areas (comparison)"),
    "country": ("SSS", "Koko maa", "Hela landet", "Whole country"),
}
DERIVED_SOURCE = "derived from etl/reference_data"
FAR_FUTURE = dt.date(9999, 12, 31)  # stands in for an open valid_to in interval arithmetic


@dataclass(frozen=True)
class Reference:
    """All areas and memberships, in the column layout of the ``area``/``area_member`` tables."""

    areas: pl.DataFrame
    members: pl.DataFrame

    def of_type(self, area_type: str) -> pl.DataFrame:
        """The member rows of one area type (e.g. 'trial_area')."""
        return self.members.filter(pl.col("area_type") == area_type)


# --------------------------------------------------------------------------- reading the CSVs


def _read_csv(directory: Path, name: str) -> pl.DataFrame:
    """A CSV as strings only, so codes keep their leading zeros; empty cells become null."""
    return pl.read_csv(directory / name, infer_schema=False)


def _parse_dates(frame: pl.DataFrame, file: str, columns: list[str]) -> pl.DataFrame:
    """ISO dates to pl.Date, rejecting (with file, row, column, value) any that do not parse."""
    problems = []
    parsed = frame.with_columns(pl.col(c).str.to_date("%Y-%m-%d", strict=False) for c in columns)
    for column in columns:
        bad = frame.with_row_index("row", offset=1).filter(
            pl.col(column).is_not_null() & parsed[column].is_null()
        )
        problems += [Problem(file, row, column, value, "not a date YYYY-MM-DD")
                     for row, value in bad.select("row", column).iter_rows()]
    if problems:
        raise InputRejected(problems)
    return parsed


def _check(frame: pl.DataFrame, file: str, failing: pl.Expr, column: str, message: str) -> None:
    """Reject the file when any row matches `failing`, naming the rows and values."""
    bad = frame.with_row_index("row", offset=1).filter(failing)
    if bad.height:
        raise InputRejected([Problem(file, row, column, value, message)
                             for row, value in bad.select("row", column).iter_rows()])


def _read_municipalities(directory: Path) -> pl.DataFrame:
    frame = _parse_dates(_read_csv(directory, MUNICIPALITIES_FILE), MUNICIPALITIES_FILE,
                         ["valid_from", "valid_to"])
    _check(frame, MUNICIPALITIES_FILE, ~pl.col("code").str.contains(r"^\d{3}$").fill_null(False),
           "code", "municipality code must be three digits")
    _check(frame, MUNICIPALITIES_FILE, pl.col("code").is_duplicated(), "code", "duplicate code")
    _check(frame, MUNICIPALITIES_FILE, pl.col("valid_from").is_null(), "valid_from", "required")
    _check(frame, MUNICIPALITIES_FILE, pl.col("valid_to") < pl.col("valid_from"), "valid_to",
           "ends before it starts")
    return frame


def _read_areas(directory: Path) -> pl.DataFrame:
    frame = _parse_dates(_read_csv(directory, AREAS_FILE), AREAS_FILE, ["valid_from", "valid_to"])
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in
                               ("confidence", "completeness", "note") if c not in frame.columns)
    key = pl.concat_str("area_type", "area_code", separator="/")
    _check(frame, AREAS_FILE, key.is_duplicated(), "area_code", "duplicate area")
    for column in ("area_type", "area_code", "name_fi", "name_sv", "name_en", "valid_from"):
        _check(frame, AREAS_FILE, pl.col(column).is_null(), column, "required")
    return frame


def _read_members(directory: Path, municipalities: pl.DataFrame,
                  areas: pl.DataFrame) -> pl.DataFrame:
    frame = _parse_dates(_read_csv(directory, MEMBERS_FILE), MEMBERS_FILE,
                         ["valid_from", "valid_to"])
    known_area = pl.concat_str("area_type", "area_code", separator="/").is_in(
        areas.select(pl.concat_str("area_type", "area_code", separator="/")).to_series().implode()
    )
    _check(frame, MEMBERS_FILE, ~known_area, "area_code", "area not listed in " + AREAS_FILE)
    _check(frame, MEMBERS_FILE,
           ~pl.col("municipality_code").is_in(municipalities["code"].implode()),
           "municipality_code", "municipality not listed in " + MUNICIPALITIES_FILE)
    return frame


# --------------------------------------------------------------------------- deriving the areas


def _municipality_areas(municipalities: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each municipality as an area of its own (English name = Finnish name), member = itself."""
    areas = municipalities.select(
        pl.lit("municipality").alias("area_type"), pl.col("code").alias("area_code"),
        "name_fi", "name_sv", pl.col("name_fi").alias("name_en"), "valid_from", "valid_to",
        pl.lit(None, pl.String).alias("trial_from"), pl.lit(None, pl.String).alias("trial_to"),
        "source", pl.lit("confirmed").alias("confidence"), pl.lit("complete").alias("completeness"),
        pl.lit(None, pl.String).alias("note"),
    )
    members = municipalities.select(
        pl.lit("municipality").alias("area_type"), pl.col("code").alias("area_code"),
        pl.col("code").alias("municipality_code"), "valid_from", "valid_to", "source",
        pl.lit("confirmed").alias("confidence"),
    )
    return areas, members


def _listed_members(members: pl.DataFrame, municipalities: pl.DataFrame) -> pl.DataFrame:
    """Memberships from the CSV, each limited to the life of its municipality."""
    life = municipalities.select(pl.col("code").alias("municipality_code"),
                                 pl.col("valid_from").alias("m_from"),
                                 pl.col("valid_to").alias("m_to"))
    joined = members.join(life, on="municipality_code", how="left").with_columns(
        valid_from=pl.max_horizontal(pl.col("valid_from").fill_null(pl.col("m_from")), "m_from"),
        valid_to=pl.min_horizontal(pl.col("valid_to").fill_null(FAR_FUTURE),
                                   pl.col("m_to").fill_null(FAR_FUTURE)),
    )
    _check(joined, MEMBERS_FILE, pl.col("valid_to") < pl.col("valid_from"), "municipality_code",
           "membership lies outside the municipality's validity")
    return joined.with_columns(_open_end("valid_to")).select(
        [c for c in MEMBER_COLUMNS if c != "confidence"])


def _open_end(column: str) -> pl.Expr:
    return pl.when(pl.col(column) == FAR_FUTURE).then(None).otherwise(pl.col(column)).alias(column)


def merge_intervals(members: pl.DataFrame) -> pl.DataFrame:
    """Union of [valid_from, valid_to] intervals per municipality (touching ones joined).

    Used for the all-trials area: a municipality that moves from one trial area to
    another stays a member of the union without a break.
    """
    ordered = members.with_columns(pl.col("valid_to").fill_null(FAR_FUTURE)).sort(
        "municipality_code", "valid_from"
    )
    reach = pl.col("valid_to").cum_max().over("municipality_code")
    starts_new = (pl.col("valid_from") > reach.shift(1).over("municipality_code")
                  .dt.offset_by("1d")).fill_null(True)
    return (
        ordered.with_columns(island=starts_new.cast(pl.Int32).cum_sum())
        .group_by("municipality_code", "island")
        .agg(pl.col("valid_from").min(), pl.col("valid_to").max())
        .with_columns(_open_end("valid_to"))
        .sort("municipality_code", "valid_from")
        .drop("island")
    )


def _aggregate(area_type: str, members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An aggregate area (TRIALS, NONTRIAL, SSS) over the given member intervals."""
    code, name_fi, name_sv, name_en = AGGREGATES[area_type]
    member_rows = members.select(
        pl.lit(area_type).alias("area_type"), pl.lit(code).alias("area_code"),
        "municipality_code", "valid_from", "valid_to", pl.lit(DERIVED_SOURCE).alias("source"),
        pl.lit("derived").alias("confidence"),
    )
    area_row = pl.DataFrame(
        {"area_type": [area_type], "area_code": [code], "name_fi": [name_fi],
         "name_sv": [name_sv], "name_en": [name_en], "valid_from": [members["valid_from"].min()],
         "valid_to": [None], "trial_from": [None], "trial_to": [None],
         "source": [DERIVED_SOURCE], "confidence": ["derived"], "completeness": ["complete"],
         "note": [None]},
        schema=AREA_SCHEMA,
    )
    return area_row, member_rows


def _derived_aggregates(municipalities: pl.DataFrame,
                        trial_members: pl.DataFrame) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    life = municipalities.select(pl.col("code").alias("municipality_code"),
                                 "valid_from", "valid_to")
    return [
        _aggregate("all_trials", merge_intervals(trial_members)),
        _aggregate("comparison", life.join(trial_members, on="municipality_code", how="anti")),
        _aggregate("country", life),
    ]


def _shipped_systems(directory: Path, municipalities: pl.DataFrame,
                     listed_areas: pl.DataFrame) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """The area systems shipped in the loader's file format (e.g. the employment areas)."""
    taken = dict(zip(municipalities["code"], ["municipality"] * municipalities.height,
                     strict=True))
    taken.update(zip(listed_areas["area_code"], listed_areas["area_type"], strict=True))
    systems = []
    for name in AREA_SYSTEM_FILES:
        if (directory / name).exists():
            system = parse_area_frame(_read_csv(directory, name), name, municipalities,
                                      taken_codes=taken)
            systems.append((system.areas, system.members))
    return systems


@functools.cache
def load_reference(directory: Path = REFERENCE_DIR) -> Reference:
    """Every area and membership, read from the shipped CSVs and derived (cached per directory)."""
    municipalities = _read_municipalities(directory)
    listed_areas = _read_areas(directory)
    listed = _listed_members(_read_members(directory, municipalities, listed_areas),
                             municipalities)
    listed = listed.join(listed_areas.select("area_type", "area_code", "confidence"),
                         on=["area_type", "area_code"], how="left")
    muni_areas, muni_members = _municipality_areas(municipalities)
    trial_members = listed.filter(pl.col("area_type") == "trial_area")
    parts = [(muni_areas, muni_members), (listed_areas.select(AREA_COLUMNS), listed),
             *_shipped_systems(directory, municipalities, listed_areas),
             *_derived_aggregates(municipalities, trial_members)]
    areas = pl.concat([a.cast(AREA_SCHEMA).select(AREA_COLUMNS) for a, _ in parts])
    members = pl.concat([m.cast(MEMBER_SCHEMA).select(MEMBER_COLUMNS) for _, m in parts])
    return Reference(areas=areas.sort("area_type", "area_code", "valid_from"),
                     members=members.sort("area_type", "area_code", "municipality_code",
                                          "valid_from"))


# --------------------------------------------------------------------------- the database


def _stored(conn: sa.Connection, table: sa.Table, schema: dict, order: list[str]) -> pl.DataFrame:
    rows = conn.execute(sa.select(table)).all()
    return pl.DataFrame(rows, schema=schema, orient="row").sort(order)


def loaded_area_types(conn: sa.Connection) -> set[str]:
    """Area types loaded by `trialmon load areas`: the start-up sync leaves them alone."""
    return set(conn.execute(sa.select(area_system.c.area_type)).scalars())


def _managed(reference: Reference, loaded: set[str]) -> Reference:
    """The part of the shipped reference that the sync owns (all but loaded systems)."""
    return Reference(areas=reference.areas.filter(~pl.col("area_type").is_in(list(loaded))),
                     members=reference.members.filter(~pl.col("area_type").is_in(list(loaded))))


def _stored_managed(conn: sa.Connection, table: sa.Table, schema: dict, order: list[str],
                    loaded: set[str]) -> pl.DataFrame:
    return _stored(conn, table, schema, order).filter(~pl.col("area_type").is_in(list(loaded)))


def _is_current(conn: sa.Connection, reference: Reference) -> bool:
    """True when the tables already hold exactly the reference content (the usual start-up)."""
    loaded = loaded_area_types(conn)
    reference = _managed(reference, loaded)
    stored_areas = _stored_managed(conn, area, AREA_SCHEMA,
                                   ["area_type", "area_code", "valid_from"], loaded)
    if stored_areas.height != reference.areas.height:
        return False
    stored_members = _stored_managed(conn, area_member, MEMBER_SCHEMA,
                                     ["area_type", "area_code", "municipality_code",
                                      "valid_from"], loaded)
    return stored_areas.equals(reference.areas) and stored_members.equals(reference.members)


def sync_reference(engine: sa.Engine) -> None:
    """Make ``area`` and ``area_member`` equal the shipped reference, in one transaction.

    Called on every start (``shell.pipeline.prepare_database``), so it first compares the stored
    content (a few hundred rows) and writes nothing when it already matches.
    """
    reference = load_reference()
    for attempt in range(SYNC_ATTEMPTS):
        try:
            _write_if_changed(engine, reference)
            return
        except (sa.exc.IntegrityError, sa.exc.OperationalError):
            # Two processes starting at once (dashboard and a load): the loser of the
            # race retries and then finds the content the winner wrote.
            if attempt == SYNC_ATTEMPTS - 1:
                raise


SYNC_ATTEMPTS = 3


def _write_if_changed(engine: sa.Engine, reference: Reference) -> None:
    with engine.connect() as conn:  # the usual case: a lock-free look, nothing to do
        if _is_current(conn, reference):
            return
    with engine.begin() as conn:
        lock_for_writing(conn, area)
        if _is_current(conn, reference):  # another process did it meanwhile
            return
        loaded = loaded_area_types(conn)
        managed = _managed(reference, loaded)
        conn.execute(sa.delete(area_member).where(area_member.c.area_type.not_in(loaded)))
        conn.execute(sa.delete(area).where(area.c.area_type.not_in(loaded)))
        conn.execute(sa.insert(area), managed.areas.to_dicts())
        conn.execute(sa.insert(area_member), managed.members.to_dicts())


def _stored_reference(url: str) -> Reference:
    with get_engine(url).connect() as conn:
        return Reference(
            areas=_stored(conn, area, AREA_SCHEMA, ["area_type", "area_code", "valid_from"]),
            members=_stored(conn, area_member, MEMBER_SCHEMA,
                            ["area_type", "area_code", "municipality_code", "valid_from"]),
        )


def municipality_validity(url: str) -> pl.DataFrame:
    """code, valid_from, valid_to (inclusive; null = still valid) of every municipality."""
    areas = _stored_reference(url).areas
    return areas.filter(pl.col("area_type") == "municipality").select(
        pl.col("area_code").alias("code"), "valid_from", "valid_to"
    )


def _membership(reference: Reference, area_type: str, prefix: str) -> pl.DataFrame:
    """Member intervals of one area type with the area's names, columns prefixed."""
    names = reference.areas.filter(pl.col("area_type") == area_type).select(
        "area_code", "name_fi", "name_sv"
    ).unique("area_code")
    return reference.of_type(area_type).join(names, on="area_code", how="left").select(
        "municipality_code",
        pl.col("area_code").alias(f"{prefix}_code"),
        pl.col("name_fi").alias(f"{prefix}_name_fi"),
        pl.col("name_sv").alias(f"{prefix}_name_sv"),
        pl.col("valid_from").alias(f"{prefix}_from"),
        pl.col("valid_to").fill_null(FAR_FUTURE).alias(f"{prefix}_to"),
    )


def _periods(reference: Reference) -> pl.DataFrame:
    """Each municipality's life cut at every region or trial membership boundary."""
    life = reference.of_type("municipality").select(
        "municipality_code", pl.col("valid_from").alias("life_from"),
        pl.col("valid_to").fill_null(FAR_FUTURE).alias("life_to"),
    )
    edges = reference.members.filter(pl.col("area_type").is_in(["region", "trial_area"]))
    cuts = pl.concat([
        life.select("municipality_code", pl.col("life_from").alias("start")),
        edges.select("municipality_code", pl.col("valid_from").alias("start")),
        edges.filter(pl.col("valid_to").is_not_null()).select(
            "municipality_code", pl.col("valid_to").dt.offset_by("1d").alias("start")),
    ]).unique()
    return (
        cuts.join(life, on="municipality_code")
        .filter(pl.col("start").is_between("life_from", "life_to"))
        .sort("municipality_code", "start")
        .with_columns(
            end=pl.col("start").shift(-1).over("municipality_code").dt.offset_by("-1d")
            .fill_null(pl.col("life_to"))
        )
        .select("municipality_code", "start", "end")
    )


def _covering(periods: pl.DataFrame, membership: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """Attach the membership (if any) that covers each period's first day."""
    covered = periods.join(membership, on="municipality_code", how="inner").filter(
        pl.col("start").is_between(f"{prefix}_from", f"{prefix}_to")
    ).drop(f"{prefix}_from", f"{prefix}_to")
    return periods.join(covered, on=["municipality_code", "start", "end"], how="left")


def area_reference_table(url: str) -> pl.DataFrame:
    """One row per municipality membership period: its region and trial area (if any).

    For ``trialmon areas``. Read from the database, i.e. what the indicators use.
    """
    reference = _stored_reference(url)
    names = reference.areas.filter(pl.col("area_type") == "municipality").select(
        pl.col("area_code").alias("municipality_code"), "name_fi", "name_sv"
    ).unique("municipality_code")
    periods = _periods(reference)
    periods = _covering(periods, _membership(reference, "region", "region"), "region")
    periods = _covering(periods, _membership(reference, "trial_area", "trial_area"), "trial_area")
    return (
        periods.join(names, on="municipality_code", how="left")
        .with_columns(
            pl.col("start").alias("valid_from"),
            pl.when(pl.col("end") == FAR_FUTURE).then(None).otherwise("end").alias("valid_to"),
        )
        .select(
            "municipality_code", "name_fi", "name_sv", "region_code", "region_name_fi",
            "region_name_sv", "trial_area_code", "trial_area_name_fi", "trial_area_name_sv",
            "valid_from", "valid_to",
        )
        .sort("municipality_code", "valid_from")
    )
