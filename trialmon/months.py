"""Months ('YYYY-MM') and UTC timestamps: the one home of the calendar arithmetic.

Interface
* ``MONTH_REGEX`` (for Polars ``str.contains``) and ``MONTH_PATTERN`` (compiled): the one
  definition of a well-formed month, 0001-01 … 9999-12.
* ``is_month(value)``, ``check_month(value, parameter="month")`` (raises ``BadMonth``, a
  ``TrialmonError`` that carries the parameter's name).
* ``month_index(month)`` / ``month_of(index)``: a running month number, so t-1 and t+1 are
  plain arithmetic; ``shift_month(month, offset)``; ``month_range(first, last)``;
  ``month_index_expr(label)`` and ``date_month_index_expr(day)``: the index in Polars.
* ``month_start(month)``, ``month_end(month)`` (the last calendar day: the register's
  calculation date) as ``datetime.date``; ``month_end_expr(column)`` the same in Polars.
* ``valid_on(day)``: a Polars predicate, the row's [valid_from, valid_to] interval
  (inclusive, null valid_to = still valid) covers ``day`` -- membership and municipality
  validity on a month's last day.
* ``as_utc(moment)`` (one ``datetime``), ``to_utc_datetime(series)`` (a Series),
  ``utc_expr(column, dtype)`` (an expression): timestamps as read back from either backend
  (naive UTC text or datetimes on SQLite, aware on PostgreSQL) as UTC-aware values.
* ``month_to_utc(month)``: the first instant of the month, UTC.

Decisions
* Months are strings everywhere (they sort and compare as text); arithmetic goes through
  the running index, never through dates, so there is no leap-day or month-length trap.
* The regex accepts months 01-12 only and four-digit years; ``check_month`` is for
  parameters (command line, API, function arguments), ``MONTH_REGEX`` for columns.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator

import polars as pl

from trialmon.errors import BadParameter

MONTH_REGEX = r"^\d{4}-(0[1-9]|1[0-2])$"
MONTH_PATTERN = re.compile(MONTH_REGEX)
UTC = "UTC"


class BadMonth(BadParameter):
    """A month parameter that is not YYYY-MM; ``parameter`` names it."""

    def __init__(self, value, parameter: str = "month"):
        super().__init__(parameter, f"bad month {value!r}: expected YYYY-MM")
        self.value = value


def is_month(value) -> bool:
    return isinstance(value, str) and MONTH_PATTERN.match(value) is not None


def check_month(value, parameter: str = "month") -> str:
    if not is_month(value):
        raise BadMonth(value, parameter)
    return value


def month_index(month: str) -> int:
    """'YYYY-MM' -> months since year 0 (consecutive integers for consecutive months)."""
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_index_expr(label: pl.Expr) -> pl.Expr:
    """``month_index`` as a Polars expression over 'YYYY-MM' strings."""
    return label.str.slice(0, 4).cast(pl.Int64) * 12 + label.str.slice(5, 2).cast(pl.Int64) - 1


def date_month_index_expr(day: pl.Expr) -> pl.Expr:
    """The ``month_index`` of the month a date falls in, as a Polars expression."""
    return day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64) - 1


def month_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shift_month(month: str, offset: int) -> str:
    """'YYYY-MM' moved by `offset` months."""
    return month_of(month_index(month) + offset)


def month_range(first: str, last: str) -> Iterator[str]:
    """first, ..., last inclusive (nothing when last < first)."""
    for index in range(month_index(first), month_index(last) + 1):
        yield month_of(index)


def month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def month_end(month: str) -> dt.date:
    """The last calendar day of 'YYYY-MM' (the register's calculation date)."""
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def month_end_expr(column: str = "month") -> pl.Expr:
    """The last day of a 'YYYY-MM' column as a Date (null where it is not a month)."""
    return pl.col(column).str.to_date("%Y-%m", strict=False).dt.month_end()


def valid_on(day: pl.Expr) -> pl.Expr:
    """valid_from <= day <= valid_to (inclusive; a null valid_to is still valid)."""
    return (pl.col("valid_from") <= day) & (pl.col("valid_to").is_null()
                                            | (pl.col("valid_to") >= day))


def month_to_utc(month: str) -> dt.datetime:
    start = month_start(month)
    return dt.datetime(start.year, start.month, 1, tzinfo=dt.UTC)


# --------------------------------------------------------------------------- UTC

def as_utc(moment: dt.datetime | str | None) -> dt.datetime | None:
    """SQLite returns naive datetimes or ISO text (stored as UTC); PostgreSQL aware ones."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def as_naive_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """The same instant as a naive UTC datetime (how SQLite stores it)."""
    aware = as_utc(moment)
    return None if aware is None else aware.replace(tzinfo=None)


def to_utc_datetime(series: pl.Series) -> pl.Series:
    """Timestamps as read back from either backend, as Datetime('us', 'UTC')."""
    if series.dtype == pl.String:
        series = series.str.replace("T", " ").str.replace(r"(\+00:00|Z)$", "").str.to_datetime(
            "%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    if isinstance(series.dtype, pl.Datetime):
        if series.dtype.time_zone is None:
            return series.dt.cast_time_unit("us").dt.replace_time_zone(UTC)
        return series.dt.cast_time_unit("us").dt.convert_time_zone(UTC)
    return series.cast(pl.Datetime("us", UTC))


def utc_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """The expression form of `to_utc_datetime` for a column of type `dtype`."""
    if not isinstance(dtype, pl.Datetime):
        return pl.col(column).cast(pl.Datetime("us")).dt.replace_time_zone(UTC)
    if dtype.time_zone is None:
        return pl.col(column).dt.replace_time_zone(UTC)
    return pl.col(column).dt.convert_time_zone(UTC)
