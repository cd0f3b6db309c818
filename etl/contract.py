"""The register extract's input contract as Polars expressions.

One plan validates every source the same way: CSV columns arrive as strings,
Parquet columns and in-memory frames may already carry the stored types. Each
column is first *parsed* into its stored type (a string is checked against the
contract's text format; an already typed column passes through), and every rule
is then one boolean expression over the parsed columns. A rule's expression is
true on the rows that break it, so a whole file is checked in one vectorised pass
and the first offending rows can be named afterwards.

The contract itself: ``register-extract.md`` (the project's input specification). The
values of the category columns (``STATUS_CODES``, ``SERVICE_TYPES``, ``RESPONSIBILITIES``,
``SEXES``) are defined in `trialmon.domain` and imported here: SQLite stores them as their
positions in those tuples, so a value may only be appended, never reordered or removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# The category values have their home in the ground layer, because the schema stores them
# (on SQLite as positions in these tuples): a value may only be appended, never reordered
# or removed (trialmon/domain.py). Imported here so the contract names them as before.
from trialmon.domain import RESPONSIBILITIES, SERVICE_TYPES, SEXES, STATUS_CODES
from trialmon.months import MONTH_REGEX

UNEMPLOYED_STATUSES = ("unemployed", "laid_off")
TRUE_TEXT, FALSE_TEXT = ("true", "1"), ("false", "0")

# Column -> stored Polars type, in the contract's (and the table's) order.
COLUMNS: dict[str, pl.DataType] = {
    "month": pl.String(),
    "person_id": pl.String(),
    "municipality_code": pl.String(),
    "age": pl.Int16(),
    "sex": pl.String(),
    "foreign_language": pl.Boolean(),
    "earnings_related": pl.Boolean(),
    "status": pl.String(),
    "service_type": pl.String(),
    "responsibility": pl.String(),
    "registered_on": pl.Date(),
    "unemployment_start": pl.Date(),
    "initial_interview_on": pl.Date(),
    "plan_updated_on": pl.Date(),
    "last_review_on": pl.Date(),
}
OPTIONAL = frozenset(
    {"service_type", "unemployment_start", "initial_interview_on", "plan_updated_on",
     "last_review_on"}
)
REQUIRED = tuple(c for c in COLUMNS if c not in OPTIONAL)
DATE_COLUMNS = tuple(c for c, t in COLUMNS.items() if t == pl.Date())

ROW = "__row"  # 1-based data row number (the header is row 0)
MONTH_END = "__month_end"
KNOWN_MUNICIPALITY = "__known_municipality"
_RAW = "__raw_"


def raw(column: str) -> str:
    """Name of the column as read, kept beside its parsed value for messages."""
    return f"{_RAW}{column}"


@dataclass(frozen=True)
class Rule:
    """One contract rule: `broken` is true on the rows that violate it."""

    column: str
    message: str
    broken: pl.Expr


# --------------------------------------------------------------------------- parsing


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    """An empty string is an empty field, as in a CSV."""
    return pl.when(expr.str.len_bytes() == 0).then(None).otherwise(expr)


def _parse_text(column: str, text: pl.Expr) -> pl.Expr:
    """Parse one column given as text into its stored type (null where it does not parse)."""
    kind = COLUMNS[column]
    if kind == pl.Date():
        well_formed = text.str.contains(r"^\d{4}-\d{2}-\d{2}$")
        return pl.when(well_formed).then(text.str.to_date("%Y-%m-%d", strict=False))
    if kind == pl.Boolean():
        return (pl.when(text.is_in(TRUE_TEXT)).then(pl.lit(True))
                .when(text.is_in(FALSE_TEXT)).then(pl.lit(False)))
    if kind == pl.Int16():
        digits = text.str.contains(r"^\d{1,3}$")
        return pl.when(digits).then(text.cast(pl.Int16, strict=False))
    return text


def _source_is_typed(column: str, dtype: pl.DataType) -> bool:
    kind = COLUMNS[column]
    if kind == pl.Int16():
        return dtype.is_integer()
    return dtype == kind


def parse_columns(schema: pl.Schema) -> list[pl.Expr]:
    """Expressions turning the raw columns (renamed by `raw`) into the stored types.

    A column already in its stored type passes through (an integer age is range
    checked, not re-parsed); any other type is compared through its text form, so
    a float age of 52.0 or a timestamp in a date column is rejected, not coerced.
    """
    parsed = []
    for column in COLUMNS:
        source = pl.col(raw(column))
        dtype = schema[raw(column)]
        if _source_is_typed(column, dtype):
            if COLUMNS[column] == pl.Int16():
                in_range = source.is_between(-32768, 32767)
                value = pl.when(in_range).then(source).cast(pl.Int16)
            elif dtype == pl.String():
                value = _blank_to_null(source)
            else:
                value = source
        else:
            value = _parse_text(column, _blank_to_null(source.cast(pl.String)))
        parsed.append(value.alias(column))
    return parsed


def raw_text(column: str, schema: pl.Schema) -> pl.Expr:
    """The raw value as text, for messages."""
    source = pl.col(raw(column))
    text = source if schema[raw(column)] == pl.String() else source.cast(pl.String)
    return _blank_to_null(text)


def _given(column: str, schema: pl.Schema) -> pl.Expr:
    """True where the source has a value (an empty string is no value)."""
    source = pl.col(raw(column))
    if schema[raw(column)] == pl.String():
        return source.str.len_bytes() > 0
    return source.is_not_null()


def _unparsable(column: str, schema: pl.Schema) -> pl.Expr:
    """True where a value was given but did not parse (never, for a typed date or boolean)."""
    dtype = schema[raw(column)]
    if _source_is_typed(column, dtype) and not dtype.is_integer():
        return pl.lit(False)
    return _given(column, schema) & pl.col(column).is_null()


def month_end() -> pl.Expr:
    """Last day of the month, the calculation date; null unless `month` is a YYYY-MM month
    from 1900-01 to 9999-12.

    Parsed with a cached date parser (months repeat on every row), not looked up with
    `replace_strict` on a literal table: the streaming engine runs that in memory over
    the whole column, which held a national five-year extract (7 GB) at once.
    """
    month = pl.col("month")
    valid = (month.str.contains(MONTH_REGEX)
             & month.is_between(pl.lit("1900-01"), pl.lit("9999-12")))
    return pl.when(valid).then(
        (month + "-01").str.to_date("%Y-%m-%d", strict=False).dt.month_end())


# --------------------------------------------------------------------------- rules


def rules(schema: pl.Schema, current_month: str) -> list[Rule]:
    """Every row-level rule of the contract, in the order problems are listed."""
    status = pl.col("status")
    out: list[Rule] = []
    for column in REQUIRED:
        out.append(Rule(column, "missing value (the column is required)",
                        ~_given(column, schema).fill_null(False)))
    for column in COLUMNS:
        if COLUMNS[column] != pl.String():
            expected = {pl.Date(): "a date YYYY-MM-DD", pl.Boolean(): "true/false or 1/0",
                        pl.Int16(): "a whole number"}[COLUMNS[column]]
            out.append(Rule(column, f"not {expected}", _unparsable(column, schema)))
    out += [
        Rule("month", "not a month YYYY-MM",
             pl.col("month").is_not_null() & pl.col(MONTH_END).is_null()),
        Rule("month", f"in the future (the current month is {current_month})",
             pl.col(MONTH_END).is_not_null() & (pl.col("month") > current_month)),
        Rule("person_id", "must be 1-64 characters",
             pl.col("person_id").str.len_chars() > 64),
        Rule("municipality_code", "must be exactly 3 digits",
             ~pl.col("municipality_code").str.contains(r"^\d{3}$")),
        Rule("municipality_code", "not a municipality in the reference on the month's last day",
             pl.col("municipality_code").str.contains(r"^\d{3}$") & pl.col(MONTH_END).is_not_null()
             & ~pl.col(KNOWN_MUNICIPALITY)),
        Rule("age", "must be between 15 and 99", ~pl.col("age").is_between(15, 99)),
        Rule("sex", "must be M or F", ~pl.col("sex").is_in(SEXES)),
        Rule("status", f"unknown status code (one of {', '.join(STATUS_CODES)})",
             ~status.is_in(STATUS_CODES)),
        Rule("service_type", "unknown service type code",
             ~pl.col("service_type").is_in(SERVICE_TYPES)),
        Rule("responsibility", "must be trial or te_office",
             ~pl.col("responsibility").is_in(RESPONSIBILITIES)),
        Rule("service_type", "required when status is 'service'",
             (status == "service") & pl.col("service_type").is_null()),
        Rule("service_type", "must be empty unless status is 'service'",
             (status != "service") & pl.col("service_type").is_not_null()),
        Rule("unemployment_start", "required when status is unemployed or laid_off",
             status.is_in(UNEMPLOYED_STATUSES) & pl.col("unemployment_start").is_null()),
        Rule("unemployment_start", "must be empty unless status is unemployed or laid_off",
             status.is_in(STATUS_CODES) & ~status.is_in(UNEMPLOYED_STATUSES)
             & pl.col("unemployment_start").is_not_null()),
    ]
    out += [Rule(c, "after the last day of the month", pl.col(c) > pl.col(MONTH_END))
            for c in DATE_COLUMNS]
    out.append(duplicate_rule())
    return out


def duplicate_rule() -> Rule:
    """No person twice in a month. It needs whole columns, so the streaming pass of
    `checked_plan(..., row_local=True)` leaves it out and the loader checks the
    collected frame with `has_duplicates`."""
    return Rule("person_id", "duplicate (month, person_id): already on an earlier row",
                ~pl.struct("month", "person_id").is_first_distinct()
                & pl.col("person_id").is_not_null())


def has_duplicates(frame: pl.DataFrame) -> bool:
    """Whether some person appears twice in a month: distinct ids per month against rows
    per month, three times cheaper than flagging rows (done only when this is true)."""
    counts = frame.group_by("month").agg(pl.len(), pl.col("person_id").n_unique().alias("ids"))
    return bool(counts.select((pl.col("len") != pl.col("ids")).any()).item())


def municipality_month_spans(validity: pl.DataFrame) -> pl.DataFrame:
    """Each validity interval as the months whose last day it covers.

    `validity` has columns code, valid_from, valid_to (inclusive, null = still
    valid). Returns code, first_month, last_month ('YYYY-MM', comparable as text)
    and slot (0 for a code's first interval, 1 for its second ...).
    """
    valid_to = pl.col("valid_to")
    last_month = (
        pl.when(valid_to.is_null()).then(pl.lit("9999-12"))
        .when(valid_to == valid_to.dt.month_end()).then(valid_to.dt.strftime("%Y-%m"))
        .otherwise(valid_to.dt.offset_by("-1mo").dt.strftime("%Y-%m"))
    )
    return (
        validity.select("code", pl.col("valid_from").dt.strftime("%Y-%m").alias("first_month"),
                        last_month.alias("last_month"))
        .filter(pl.col("first_month") <= pl.col("last_month"))
        .sort("code", "first_month")
        .with_columns(pl.int_range(pl.len()).over("code").alias("slot"))
    )


def known_municipality(spans: pl.DataFrame) -> pl.Expr:
    """True where municipality_code is a municipality on the last day of `month`.

    The codes grouped by their validity interval (a handful of distinct intervals),
    one `is_in` and a text comparison of months per interval: row-local, so it
    streams (a `replace_strict` lookup would make the streaming engine hold the
    whole column), and far cheaper per row than a join on (month, code).
    """
    known = pl.lit(False)
    code, month = pl.col("municipality_code"), pl.col("month")
    intervals = spans.group_by("first_month", "last_month", maintain_order=True).agg("code")
    for first, last, codes in intervals.iter_rows():  # one row per distinct interval
        known = known | (code.is_in(pl.Series(codes, dtype=pl.String).implode())
                         & month.is_between(pl.lit(first), pl.lit(last))).fill_null(False)
    return known


def checked_plan(source: pl.LazyFrame, current_month: str, municipality_spans: pl.DataFrame,
                 *, row_local: bool = False) -> tuple[pl.LazyFrame, list[Rule]]:
    """The source with its row number, parsed columns and one flag column per rule.

    `source` must hold exactly the contract's columns (checked before, by name).
    Flags are named ``__rule_<i>`` in the order of the returned rules. With
    `row_local` the duplicate rule is left out, so the plan can stream.
    """
    renamed = source.select(pl.col(c).alias(raw(c)) for c in COLUMNS)
    schema = renamed.collect_schema()
    the_rules = rules(schema, current_month)
    if row_local:
        the_rules = the_rules[:-1]
    plan = (
        renamed.with_row_index(ROW, offset=1)
        .with_columns(parse_columns(schema))
        .with_columns(month_end().alias(MONTH_END),
                      known_municipality(municipality_spans).alias(KNOWN_MUNICIPALITY))
        .with_columns(rule.broken.fill_null(False).alias(f"__rule_{i}")
                      for i, rule in enumerate(the_rules))
    )
    return plan, the_rules
