"""The area-system file: one CSV row per membership of one area system, validated.

Interface:

* ``read_area_file(path, municipalities, *, taken_codes=None) -> AreaSystem``: read and
  validate a CSV (docs/area-systems.md), raising ``InputRejected`` with the file, row,
  column and value of every problem. ``municipalities``: [code, valid_from, valid_to]
  of every municipality; ``taken_codes``: {area_code: area_type} of the areas of
  every stored area (codes are unique across area types).
* ``parse_area_frame(frame, name, municipalities, *, taken_codes=None) -> AreaSystem``:
  the same for a frame of strings (the shipped employment areas use it).
* ``AreaSystem``: ``area_type``, ``areas`` and ``members`` frames in the column layout
  of the ``area`` and ``area_member`` tables.

Decisions:

* One file = one area system (one ``area_type``): loading it replaces that system.
* The derived types (municipality, all_trials, comparison, country) and the trial
  areas (the shipped reference from which all_trials and comparison derive) cannot
  be loaded; every other type can, including a new one.
* An area's names, completeness and note are repeated on each of its rows and must
  agree; its validity is the span of its members' validities.
* A membership is cut to its municipality's life (as in the shipped reference); one
  entirely outside it is rejected. No municipality may be in two areas of the system
  on the same day (a system is a partition of part of the country: area sums then
  never count a person twice, and disclosure control can rely on it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trialmon.errors import InputRejected, Problem

REQUIRED = ["area_type", "area_code", "name_fi", "name_sv", "name_en", "municipality_code",
            "valid_from", "valid_to", "source"]
OPTIONAL = ["confidence", "completeness", "note"]
IGNORED = ["municipality_name_fi"]  # written by `trialmon areas`, so its output loads back
RESERVED_TYPES = {
    "municipality": "derived from the municipality list",
    "all_trials": "derived from the trial areas",
    "comparison": "derived from the trial areas",
    "country": "derived from the municipality list",
    "trial_area": "the trial areas are the shipped reference (etl/reference_data/); "
                  "all_trials and comparison derive from them",
}
CONFIDENCE = ["confirmed", "inferred"]
COMPLETENESS = ["complete", "partial"]
AREA_ATTRIBUTES = ["name_fi", "name_sv", "name_en", "completeness", "note"]
FAR_FUTURE = dt.date(9999, 12, 31)
SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class AreaSystem:
    """One area system in the layout of the ``area`` and ``area_member`` tables."""

    area_type: str
    areas: pl.DataFrame
    members: pl.DataFrame


def read_area_file(path: Path | str, municipalities: pl.DataFrame, *,
                   taken_codes: dict[str, str] | None = None) -> AreaSystem:
    path = Path(path)
    name = path.name
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (OSError, pl.exceptions.PolarsError, UnicodeDecodeError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputRejected([Problem(name, None, None, None, f"cannot read as CSV: {message}")]) \
            from None
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})  # Excel's BOM
    return parse_area_frame(frame, name, municipalities, taken_codes=taken_codes)


def parse_area_frame(frame: pl.DataFrame, name: str, municipalities: pl.DataFrame, *,
                     taken_codes: dict[str, str] | None = None) -> AreaSystem:
    _check_columns(frame, name)
    frame = frame.with_columns(
        [pl.lit(None, pl.String).alias(c) for c in OPTIONAL if c not in frame.columns]
    ).select(*REQUIRED, *OPTIONAL).with_columns(
        pl.col(pl.String).str.strip_chars().replace("", None))
    frame = frame.with_row_index("_row", offset=1)
    problems = _value_problems(frame, name, taken_codes or {})
    if problems:
        _reject(problems)
    parsed = frame.with_columns(pl.col("valid_from", "valid_to").str.to_date("%Y-%m-%d"))
    problems = _structure_problems(parsed, name, municipalities)
    if problems:
        _reject(problems)
    return _as_tables(parsed, municipalities)


def _reject(problems: list[Problem]) -> None:
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    raise InputRejected(problems[:SHOWN_PROBLEMS], total=len(problems))


def _check_columns(frame: pl.DataFrame, name: str) -> None:
    missing = [c for c in REQUIRED if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in REQUIRED + OPTIONAL + IGNORED]
    problems = [Problem(name, None, c, None, "required column missing") for c in missing]
    problems += [Problem(name, None, c, None, "unknown column (expected: "
                         + ", ".join(REQUIRED + OPTIONAL) + ")") for c in unknown]
    if frame.height == 0 and not problems:
        problems.append(Problem(name, None, None, None, "no rows"))
    if problems:
        raise InputRejected(problems)


def _date_ok(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False).is_not_null()


def _value_rules(taken_codes: dict[str, str]) -> list[tuple[str, pl.Expr, str]]:
    """(column, failing expression, message) checked on the raw strings, row by row."""
    first_type = pl.col("area_type").first()
    taken = pl.DataFrame({"area_code": list(taken_codes), "_other": list(taken_codes.values())},
                         schema={"area_code": pl.String, "_other": pl.String})
    rules = [(c, pl.col(c).is_null(), "required") for c in
             ("area_type", "area_code", "name_fi", "name_sv", "name_en", "municipality_code",
              "valid_from", "source")]
    rules += [
        ("area_type", ~pl.col("area_type").str.contains(r"^[a-z][a-z0-9_]{1,15}$"),
         "area type: 2-16 characters, lower-case letters, digits and _"),
        ("area_type", pl.col("area_type").is_in(list(RESERVED_TYPES)),
         "this area type cannot be loaded"),
        ("area_type", pl.col("area_type") != first_type,
         "one file holds one area system: every row needs the first row's area_type"),
        ("area_code", ~pl.col("area_code").str.contains(r"^[A-Za-z0-9_-]{1,16}$"),
         "area code: 1-16 letters, digits, - or _"),
        ("area_code", pl.col("area_code").replace_strict(
            taken["area_code"], taken["_other"], default=None) != pl.col("area_type"),
         "area code already used by another area type"),
        ("municipality_code", ~pl.col("municipality_code").str.contains(r"^\d{3}$"),
         "municipality code must be three digits"),
        ("valid_from", pl.col("valid_from").is_not_null() & ~_date_ok("valid_from"),
         "not a date YYYY-MM-DD"),
        ("valid_to", pl.col("valid_to").is_not_null() & ~_date_ok("valid_to"),
         "not a date YYYY-MM-DD"),
        ("confidence", pl.col("confidence").is_not_null()
         & ~pl.col("confidence").is_in(CONFIDENCE), "expected one of " + ", ".join(CONFIDENCE)),
        ("completeness", pl.col("completeness").is_not_null()
         & ~pl.col("completeness").is_in(COMPLETENESS),
         "expected one of " + ", ".join(COMPLETENESS)),
    ]
    return rules


def _value_problems(frame: pl.DataFrame, name: str, taken_codes: dict[str, str]) -> list[Problem]:
    problems = []
    for column, failing, message in _value_rules(taken_codes):
        bad = frame.filter(failing.fill_null(False))
        problems += [Problem(name, row, column, value, message)
                     for row, value in bad.select("_row", column).iter_rows()]
    return problems


def _structure_problems(frame: pl.DataFrame, name: str,
                        municipalities: pl.DataFrame) -> list[Problem]:
    life = municipalities.select(pl.col("code").alias("municipality_code"),
                                 pl.col("valid_from").alias("_life_from"),
                                 pl.col("valid_to").fill_null(FAR_FUTURE).alias("_life_to"))
    joined = frame.join(life, on="municipality_code", how="left").with_columns(
        _to=pl.col("valid_to").fill_null(FAR_FUTURE))
    rules = [
        ("municipality_code", pl.col("_life_from").is_null(),
         "unknown municipality code (not in etl/reference_data/municipalities.csv)"),
        ("valid_to", pl.col("_to") < pl.col("valid_from"), "ends before it starts"),
        ("valid_from", (pl.col("_to") < pl.col("_life_from"))
         | (pl.col("valid_from") > pl.col("_life_to")),
         "membership lies outside the municipality's validity"),
        ("municipality_code", pl.struct("area_code", "municipality_code", "valid_from")
         .is_duplicated(), "duplicate membership (same area, municipality and valid_from)"),
    ]
    rules += [(c, pl.col(c).n_unique().over("area_code") > 1,
               "differs between the rows of this area") for c in AREA_ATTRIBUTES]
    problems = []
    for column, failing, message in rules:
        bad = joined.filter(failing.fill_null(False))
        problems += [Problem(name, row, column, value, message)
                     for row, value in bad.select("_row", pl.col(column).cast(pl.String))
                     .iter_rows()]
    return problems + _overlaps(joined, name)


def _overlaps(frame: pl.DataFrame, name: str) -> list[Problem]:
    """A municipality in two areas (or twice in one) on the same day."""
    spans = frame.select("_row", "area_code", "municipality_code", "valid_from", "_to")
    pairs = spans.join(spans, on="municipality_code", suffix="_b").filter(
        (pl.col("_row") > pl.col("_row_b"))
        & (pl.col("valid_from") <= pl.col("_to_b")) & (pl.col("valid_from_b") <= pl.col("_to"))
    )
    return [Problem(name, row, "municipality_code", code,
                    f"also in area {other!r} (row {other_row}) on overlapping days")
            for row, code, other, other_row in pairs.select(
                "_row", "municipality_code", "area_code_b", "_row_b").iter_rows()]


def _as_tables(frame: pl.DataFrame, municipalities: pl.DataFrame) -> AreaSystem:
    life = municipalities.select(pl.col("code").alias("municipality_code"),
                                 pl.col("valid_from").alias("_life_from"),
                                 pl.col("valid_to").fill_null(FAR_FUTURE).alias("_life_to"))
    members = (
        frame.join(life, on="municipality_code", how="left")
        .with_columns(
            valid_from=pl.max_horizontal("valid_from", "_life_from"),
            valid_to=pl.min_horizontal(pl.col("valid_to").fill_null(FAR_FUTURE), "_life_to"),
        )
        .with_columns(pl.when(pl.col("valid_to") == FAR_FUTURE).then(None)
                      .otherwise(pl.col("valid_to")).alias("valid_to"))
    )
    areas = (
        members.group_by("area_type", "area_code", maintain_order=True)
        .agg(pl.col("name_fi", "name_sv", "name_en", "completeness", "note").first(),
             pl.col("valid_from").min(),
             pl.when(pl.col("valid_to").is_null().any()).then(None)
             .otherwise(pl.col("valid_to").max()).alias("valid_to"),
             pl.col("source").unique(maintain_order=True).str.join("; "),
             pl.when((pl.col("confidence") == "confirmed").all()).then(pl.lit("confirmed"))
             .when(pl.col("confidence").is_null().all()).then(None)
             .otherwise(pl.lit("inferred")).alias("confidence"))
        .with_columns(pl.lit(None, pl.String).alias("trial_from"),
                      pl.lit(None, pl.String).alias("trial_to"))
        .select("area_type", "area_code", "name_fi", "name_sv", "name_en", "valid_from",
                "valid_to", "trial_from", "trial_to", "source", "confidence", "completeness",
                "note")
    )
    member_rows = members.select("area_type", "area_code", "municipality_code", "valid_from",
                                 "valid_to", "source", "confidence")
    return AreaSystem(area_type=frame["area_type"][0], areas=areas, members=member_rows)
