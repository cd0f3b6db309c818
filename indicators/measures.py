"""Municipal measures: the additive counts every register indicator is built from.

Interface:

* ``municipal_measures(rows: pl.LazyFrame, months: list[str], loaded: set[str],
  known=None) -> pl.DataFrame``
  ``rows`` holds the register rows of ``months_read(months, loaded, known)``; returns
  the long frame [month, municipality_code, population, group, measure, value (Int64,
  null when a needed neighbouring month is not loaded or the month precedes the
  measure's first month)] for every measure of ``indicators.registry.MEASURES`` and
  every month in ``months``. ``known``: cells already computed (same columns); a
  family whose measures it holds for a month is taken from it, not counted again.
* ``months_read(months, loaded, known=None) -> list[str]``: the loaded months whose
  rows that needs (t-1, t and t+1 of every month, less what ``known`` spares).

How it works: the rows are *prepared* once (month index and dates, and a ``cell``
struct holding the municipality and the population/group memberships of the row).
Each family module (stocks, flows, process) turns the rows its cell comes from into
one boolean flag per measure. The flags are first summed per (month, municipality,
membership combination) -- a frame of a few thousand rows -- and the 3 populations
x 4 groups are then read off that small frame. A cell belongs to a population *and*
a group: the row must satisfy both (population ``all`` and group ``all`` are every
row). Every municipality with a row in the month the cell comes from gets every
combination, with explicit zeros, so that sums to larger areas see zeros, not gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from etl.contract import COLUMNS as CONTRACT_COLUMNS
from indicators import flows, process, registry, stocks
from trialmon.months import month_index, month_start, shift_month

MEMBERSHIP = (
    "target_group",
    "trial_customers",
    "under_30",
    "foreign_language",
    "no_earnings_related",
)
TARGET_GROUP_STATUSES = ("unemployed", "laid_off", "service")

POPULATION_FILTERS: dict[str, pl.Expr] = {
    "all": pl.lit(True),
    "target_group": pl.col("target_group"),
    "trial_customers": pl.col("trial_customers"),
}
GROUP_FILTERS: dict[str, pl.Expr] = {
    "all": pl.lit(True),
    "under_30": pl.col("under_30"),
    "foreign_language": pl.col("foreign_language"),
    "no_earnings_related": pl.col("no_earnings_related"),
}

OUTPUT_SCHEMA = {
    "month": pl.Utf8,
    "municipality_code": pl.Utf8,
    "population": pl.Utf8,
    "group": pl.Utf8,
    "measure": pl.Utf8,
    "value": pl.Int64,
}


REQUIRED_TYPES = {
    column: dtype for column, dtype in CONTRACT_COLUMNS.items() if column not in ("age", "sex")
}
"""The input columns the measures read, with the contract's Polars types (age: any integer)."""


# --------------------------------------------------------------------------- sorting


def sorted_by_codes(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``frame.sort(keys)`` for string keys with few distinct values (codes, months).

    Each key becomes its rank among the column's sorted distinct values and the ranks
    one integer: a single-integer sort instead of a multi-column string sort, several
    times faster on the millions of cells of a national computation. Same order.
    """
    if frame.height < 2:
        return frame
    key = pl.lit(0, pl.UInt64)
    for name in keys:
        codes = frame.get_column(name).unique().drop_nulls().sort().to_list()
        rank = pl.col(name).cast(pl.Enum(codes)).to_physical().cast(pl.UInt64) + 1
        key = key * (len(codes) + 1) + rank.fill_null(0)  # nulls first, as sort()
    return frame.sort(key, maintain_order=True)


# --------------------------------------------------------------------------- families

RowsByOffset = dict[int, pl.LazyFrame]  # prepared rows of t (0), t-1 (-1) or t+1 (+1)


def _stocks(rows: RowsByOffset, months: list[str]) -> pl.LazyFrame:
    return stocks.stock_rows(rows[0])


def _recency(rows: RowsByOffset, months: list[str]) -> pl.LazyFrame:
    return process.recency_rows(rows[0])


def _inflow(rows: RowsByOffset, months: list[str]) -> pl.LazyFrame:
    return flows.inflow_rows(rows[0], rows[-1])


def _exits(rows: RowsByOffset, months: list[str]) -> pl.LazyFrame:
    return flows.exit_rows(rows[-1], rows[0])


def _interview(rows: RowsByOffset, months: list[str]) -> pl.LazyFrame:
    deadlines = process.deadlines_for([month_start(t) for t in months])
    return process.interview_rows(rows[1], deadlines)


@dataclass(frozen=True)
class Family:
    """A set of measures computed together.

    ``neighbour``: the month t-1 (-1) or t+1 (+1) the family needs loaded, 0 if none;
    where it is not loaded the family's cells are null. ``build`` returns
    [month_idx (the reported month t), cell, one boolean column per measure], the
    cell taken from the row the family's definition names.
    """

    measures: tuple[str, ...]
    neighbour: int
    build: Callable[[RowsByOffset, list[str]], pl.LazyFrame]


FAMILIES = (
    Family(stocks.STOCK_MEASURES, 0, _stocks),  # cell: row in t
    Family(process.RECENCY_MEASURES, 0, _recency),  # cell: row in t
    Family(flows.INFLOW_MEASURES, -1, _inflow),  # cell: row in t
    Family(flows.EXIT_MEASURES, -1, _exits),  # cell: row in t-1
    Family(process.INTERVIEW_MEASURES, +1, _interview),  # cell: row in t+1
)


def measure_first_months() -> dict[str, str | None]:
    """The first month a measure has a value: the registry's first month of the
    indicators built from it, unless some indicator without a first month uses it
    (``unemployed`` is both a count and the denominator of the process shares)."""
    firsts: dict[str, list[str | None]] = {m: [] for m in registry.MEASURES}
    for indicator in registry.REGISTER_INDICATORS:
        for measure in (indicator.numerator, indicator.denominator):
            if measure is not None:
                firsts[measure].append(indicator.first_month)
    return {
        m: None if not months or None in months else min(months)  # type: ignore[type-var]
        for m, months in firsts.items()
    }


# --------------------------------------------------------------------------- preparation


def _month_calendar(months: Iterable[str]) -> pl.DataFrame:
    months = sorted(set(months))
    starts = [month_start(m) for m in months]
    return pl.DataFrame(
        {"month": months, "month_idx": [month_index(m) for m in months], "month_start": starts},
        schema={"month": pl.Utf8, "month_idx": pl.Int32, "month_start": pl.Date},
    ).with_columns(
        month_end=pl.col("month_start").dt.month_end(),
        **stocks.MONTH_COLUMNS,
        **process.MONTH_COLUMNS,
    )


def _membership(age: pl.Expr) -> dict[str, pl.Expr]:
    under_30 = age < 30
    return {
        "target_group": under_30
        | (
            pl.col("status").is_in(TARGET_GROUP_STATUSES)
            & (pl.col("foreign_language") | ~pl.col("earnings_related"))
        ),
        "trial_customers": pl.col("responsibility") == "trial",
        "under_30": under_30,
        "foreign_language": pl.col("foreign_language"),
        "no_earnings_related": ~pl.col("earnings_related"),
    }


def prepare_rows(rows: pl.LazyFrame, calendar: pl.DataFrame) -> pl.LazyFrame:
    """The rows of the calendar's months with the calendar's per-month columns
    (month_idx, month_start, month_end, the families' MONTH_COLUMNS) and the
    ``cell`` struct (municipality_code and the membership flags)."""
    typed = rows.cast({c: t for c, t in REQUIRED_TYPES.items() if c != "month"})
    return typed.join(calendar.lazy(), on="month", how="inner").with_columns(
        cell=pl.struct(pl.col("municipality_code"), **_membership(pl.col("age")))
    )


# --------------------------------------------------------------------------- counting


def count_cells(flags: pl.LazyFrame, measures: tuple[str, ...]) -> pl.LazyFrame:
    """[month_idx, municipality_code, population, group, measure, value] from row flags.

    Rows are first reduced to one row per (month, municipality, membership
    combination); each population x group cell is then a filtered sum of that
    small frame, which is 0 (not missing) where no row qualifies.
    """
    keys = ["month_idx", "municipality_code"]
    reduced = (
        flags.unnest("cell").group_by([*keys, *MEMBERSHIP]).agg(pl.col(m).sum() for m in measures)
    )
    combinations = [
        reduced.group_by(keys)
        .agg(
            pl.col(m).filter(population_filter & group_filter).sum().cast(pl.Int64)
            for m in measures
        )
        .with_columns(population=pl.lit(population), group=pl.lit(group))
        for population, population_filter in POPULATION_FILTERS.items()
        for group, group_filter in GROUP_FILTERS.items()
    ]
    return pl.concat(combinations).unpivot(
        on=list(measures),
        index=[*keys, "population", "group"],
        variable_name="measure",
        value_name="value",
    )


def _null_cells(presence: pl.LazyFrame, measures: tuple[str, ...]) -> pl.LazyFrame:
    """Every population x group x measure of the given (month_idx, municipality) pairs, null."""
    combos = pl.DataFrame(
        [(p, g, m) for p in POPULATION_FILTERS for g in GROUP_FILTERS for m in measures],
        schema={"population": pl.Utf8, "group": pl.Utf8, "measure": pl.Utf8},
        orient="row",
    ).lazy()
    return presence.join(combos, how="cross").with_columns(value=pl.lit(None, pl.Int64))


# --------------------------------------------------------------------------- assembly


def _rows_of(prepared: pl.LazyFrame, months: list[str]) -> pl.LazyFrame:
    return prepared.filter(pl.col("month_idx").is_in([month_index(m) for m in months]))


def _computable_months(family: Family, months: list[str], loaded: set[str]) -> list[str]:
    """Months whose needed neighbour (if any) is loaded and that are not before the
    family's first month (a family's measures share one first month)."""
    first = measure_first_months()[family.measures[0]]
    return [
        t
        for t in months
        if shift_month(t, family.neighbour) in loaded and (first is None or t >= first)
    ]


def _family_cells(
    family: Family, prepared: pl.LazyFrame, months: list[str], loaded: set[str]
) -> list[pl.LazyFrame]:
    """Counted cells for computable months, null cells (municipalities of t) for the rest."""
    computable = _computable_months(family, months, loaded)
    missing = [t for t in months if t not in computable]
    out = []
    if computable:
        by_offset = {
            offset: _rows_of(prepared, [shift_month(t, offset) for t in computable])
            for offset in {0, family.neighbour}
        }
        out.append(count_cells(family.build(by_offset, computable), family.measures))
    if missing:
        presence = _rows_of(prepared, missing).select("month_idx", "municipality_code").unique()
        out.append(_null_cells(presence, family.measures))
    return out


def _known_families(known: pl.DataFrame | None) -> dict[str, set[int]]:
    """{month: indexes into FAMILIES} of the families ``known`` holds every measure of."""
    if known is None or known.is_empty():
        return {}
    held = known.select("month", "measure").unique()
    measures: dict[str, set[str]] = {}
    for month, measure in held.iter_rows():
        measures.setdefault(month, set()).add(measure)
    return {month: {i for i, f in enumerate(FAMILIES) if set(f.measures) <= names}
            for month, names in measures.items()}


def months_read(months: list[str], loaded: set[str],
                known: pl.DataFrame | None = None) -> list[str]:
    """The loaded months whose register rows ``municipal_measures`` needs: each month
    itself and the neighbour of every family it computes (t-1 for the flows, t+1 for
    the interview cohort). Why ``known`` matters: a month recomputed only because the
    month after it is new needs its interview cohort again, not its flows, so t-1's
    rows (a whole national month) are not read."""
    spared = _known_families(known)
    needed = set(months)
    for t in months:
        needed |= {shift_month(t, f.neighbour) for i, f in enumerate(FAMILIES)
                   if i not in spared.get(t, set())}
    return sorted(needed & set(loaded))


def _check_schema(rows: pl.LazyFrame) -> None:
    """Fail loudly on a wrongly typed input: an integer 0/1 in place of a boolean
    would silently turn ``~earnings_related`` into a bitwise not."""
    schema = rows.collect_schema()
    wrong = {
        column: str(schema.get(column))
        for column, dtype in REQUIRED_TYPES.items()
        if schema.get(column) not in (dtype, pl.Null)  # Null: an all-empty column
    }
    if wrong or not schema.get("age", pl.Null).is_integer():
        raise TypeError(
            f"municipal_measures: register rows need the contract's Polars types; got {wrong} "
            f"(age: {schema.get('age')})"
        )


def _check_families() -> None:
    covered = [m for f in FAMILIES for m in f.measures]
    if sorted(covered) != sorted(registry.MEASURES):
        raise RuntimeError(f"measure families {covered} do not match registry.MEASURES")


def municipal_measures(rows: pl.LazyFrame, months: list[str], loaded: set[str],
                       known: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every measure x population x group x municipality x month in ``months`` (see module
    doc); families ``known`` holds for a month are taken from it as they are."""
    months = sorted(set(months))
    if not months:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    not_loaded = [m for m in months if m not in loaded]
    if not_loaded:
        raise ValueError(f"municipal_measures: months {not_loaded} are not loaded")
    _check_families()
    _check_schema(rows)
    neighbours = {shift_month(t, d) for t in months for d in (-1, 1)} & set(loaded)
    calendar = _month_calendar(set(months) | neighbours)
    prepared = prepare_rows(rows, calendar)
    spared = _known_families(known)
    parts = [cells for i, f in enumerate(FAMILIES)
             for cells in _family_cells(f, prepared,
                                        [t for t in months if i not in spared.get(t, set())],
                                        loaded)]
    counted = (
        pl.concat(pl.collect_all(parts))
        .join(calendar.select("month_idx", "month"), on="month_idx", how="left")
        .select(list(OUTPUT_SCHEMA))
        .cast(OUTPUT_SCHEMA)
    ) if parts else pl.DataFrame(schema=OUTPUT_SCHEMA)
    if spared:
        taken = pl.DataFrame(
            [(month, measure) for month, families in spared.items() if month in months
             for i in families for measure in FAMILIES[i].measures],
            schema={"month": pl.Utf8, "measure": pl.Utf8}, orient="row")
        given = known.select(list(OUTPUT_SCHEMA)).cast(OUTPUT_SCHEMA).join(
            taken, on=["month", "measure"], how="semi")
        counted = pl.concat([counted, given])
    return counted.pipe(sorted_by_codes,
                        ["month", "municipality_code", "population", "group", "measure"])
