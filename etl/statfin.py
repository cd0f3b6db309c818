"""Statistics Finland's monthly municipal table tyonv/12r5: validating and loading.

Public statistics on all residents (not the register extract), so they need no
disclosure control here: Statistics Finland has already protected them and marks a
confidential cell with ``...``.

Interface
* ``read_statfin_file(path) -> pl.DataFrame``: one file (PxWeb ``json``, JSON-stat2 or
  PxWeb CSV, read by ``etl.pxweb``) as the tidy frame [month 'YYYY-MM', area_code,
  measure, value Float64]; a non-monthly period is rejected.
* ``load_statfin_files(url, paths) -> StatfinLoadReport``: validate every file, then
  replace the stored rows of the months they hold in one transaction.
* Fetching lives in ``etl.pxweb_client`` (``fetch_pxweb``), the formats in ``etl.pxweb``;
  their names are re-exported here for older callers.

Decisions (mirrored in docs/indicators.md, "Public statistics")
* A month is replaced by what the given files hold; identical values leave the month
  (and its vintage) alone; the same cell with different values in two files is refused.
* The reading decisions (variables from metadata, missing is never zero, area codes) are
  ``etl.pxweb``'s.
"""


from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from etl.pxweb import (  # noqa: F401 (re-exported for older callers)
    TIDY_SCHEMA,
    PxFormatError,
    municipality_code,
    parse_jsonstat2,
    parse_pxweb_csv,
    parse_pxweb_json,
    read_pxweb_file,
)
from etl.pxweb_client import (  # noqa: F401 (re-exported for older callers)
    DEFAULT_BASE_URL,
    PxWebClient,
    RateLimiter,
    fetch_pxweb,
    plan_queries,
)
from trialmon.db import get_engine
from trialmon.errors import InputRejected, Problem
from trialmon.months import MONTH_REGEX
from trialmon.schema import month_status, statfin_value


def read_statfin_file(path: Path) -> pl.DataFrame:
    """A monthly 12r5 file as the tidy frame; non-monthly periods are rejected."""
    frame = read_pxweb_file(path)
    bad = frame.filter(~pl.col("period").str.contains(MONTH_REGEX))
    if bad.height:
        raise PxFormatError(f"time period {bad['period'][0]!r} is not a month (YYYYMmm); "
                            "tyonv/12r5 is a monthly table")
    return frame.rename({"period": "month"})


# --------------------------------------------------------------------------- loading


@dataclass
class StatfinLoadReport:
    files: list[str]
    rows: int = 0
    new_months: list[str] = field(default_factory=list)
    revised_months: list[str] = field(default_factory=list)
    unchanged_months: list[str] = field(default_factory=list)
    missing_values: int = 0

    @property
    def months(self) -> list[str]:
        """Every month the files hold (the ones public statistics are computed for)."""
        return sorted({*self.new_months, *self.revised_months, *self.unchanged_months})

    @property
    def changed_months(self) -> list[str]:
        return sorted({*self.new_months, *self.revised_months})

    def summary(self) -> str:
        parts = [f"statfin: {self.rows} values from {len(self.files)} file(s)",
                 f"{len(self.new_months)} new month(s)",
                 f"{len(self.revised_months)} revised", f"{len(self.unchanged_months)} unchanged",
                 f"{self.missing_values} missing at source"]
        span = f" ({self.months[0]}..{self.months[-1]})" if self.months else ""
        return ", ".join(parts) + span


def read_statfin_files(paths: Sequence[Path]) -> pl.DataFrame:
    """Read and validate every file; InputRejected names each bad file and its problem."""
    frames, problems = [], []
    for path in paths:
        try:
            frames.append(read_statfin_file(Path(path)).with_columns(
                source=pl.lit(Path(path).name)))
        except (PxFormatError, OSError, KeyError, TypeError, pl.exceptions.PolarsError) as error:
            problems.append(Problem(str(path), None, None, None, _describe(error)))
    if problems:
        raise InputRejected(problems)
    combined = pl.concat(frames) if frames else pl.DataFrame(schema={**TIDY_SCHEMA,
                                                                     "source": pl.String})
    _reject_conflicts(combined)
    return combined.unique(["month", "area_code", "measure"], keep="first", maintain_order=True)


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"not a PxWeb response: missing {error}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _reject_conflicts(frame: pl.DataFrame) -> None:
    """The same cell in two files with different values: which one is right is unknown."""
    conflicts = (frame.group_by("month", "area_code", "measure")
                 .agg(pl.col("value").n_unique().alias("n"), pl.col("source").unique())
                 .filter(pl.col("n") > 1))
    if conflicts.height:
        problems = [Problem(", ".join(sorted(r["source"])), None, None, None,
                            f"cell {r['area_code']}/{r['measure']}/{r['month']} has different "
                            "values in these files") for r in conflicts.head(10).to_dicts()]
        raise InputRejected(problems, total=conflicts.height)


def load_statfin_files(url: str, paths: Sequence[Path]) -> StatfinLoadReport:
    """Load 12r5 files: every month they hold replaces that month's stored rows, atomically.

    A month whose values are exactly those stored is left alone (its vintage stays), so
    loading the same file twice changes nothing. Load all files of one month together:
    the month is replaced by what the given files hold.
    """
    incoming = read_statfin_files(paths)
    report = StatfinLoadReport(files=[str(p) for p in paths], rows=incoming.height,
                               missing_values=incoming["value"].null_count())
    months = incoming["month"].unique().sort().to_list()
    engine = get_engine(url)
    loaded_at = datetime.now(UTC)
    with engine.begin() as conn:
        stored = _stored_values(conn, statfin_value, months)
        previous = _stored_status(conn, month_status, months)
        changes = _changes_by_month(incoming, stored)
        stored_months = set(stored["month"].unique())
        for month in months:
            changed = changes.get(month, 0)
            if month not in stored_months:
                report.new_months.append(month)
            elif changed:
                report.revised_months.append(month)
            else:
                report.unchanged_months.append(month)
        to_write = report.changed_months
        if to_write:
            conn.execute(sa.delete(statfin_value).where(statfin_value.c.month.in_(to_write)))
            rows = incoming.filter(pl.col("month").is_in(to_write)).with_columns(
                loaded_at=pl.lit(loaded_at))
            conn.execute(sa.insert(statfin_value), rows.to_dicts())
            _write_month_status(conn, month_status, incoming, to_write, changes, previous,
                                loaded_at)
    return report


def _stored_values(conn, table, months: list[str]) -> pl.DataFrame:
    result = conn.execute(sa.select(table.c.month, table.c.area_code, table.c.measure,
                                    table.c.value).where(table.c.month.in_(months)))
    return pl.DataFrame(result.all(), schema=TIDY_SCHEMA, orient="row")


def _stored_status(conn, table, months: list[str]) -> dict[str, int]:
    result = conn.execute(sa.select(table.c.month, table.c.revision)
                          .where(table.c.month.in_(months), table.c.source == "statfin"))
    return dict(result.all())


def _changes_by_month(incoming: pl.DataFrame, stored: pl.DataFrame) -> dict[str, int]:
    """Cells added, removed or changed (null-aware) per month, against the stored rows."""
    keys = ["month", "area_code", "measure"]
    present = pl.lit(True)
    joined = (incoming.select(*keys, "value", present.alias("in_new"))
              .join(stored.with_columns(present.alias("in_old")), on=keys, how="full",
                    coalesce=True, suffix="_stored"))
    differs = (~pl.col("value").eq_missing(pl.col("value_stored"))
               | pl.col("in_new").is_null() | pl.col("in_old").is_null())
    return dict(joined.group_by("month").agg(differs.sum()).iter_rows())


def _write_month_status(conn, table, incoming, months, changes, previous, loaded_at) -> None:
    counts = dict(incoming.group_by("month").len().iter_rows())
    conn.execute(sa.delete(table).where(table.c.month.in_(months), table.c.source == "statfin"))
    conn.execute(sa.insert(table), [
        {"month": m, "source": "statfin", "vintage": loaded_at,
         "revision": previous[m] + 1 if m in previous else 0, "row_count": counts[m],
         "rows_changed": changes.get(m, 0) if m in previous else 0, "synthetic": False,
         "computed_at": None}
        for m in months
    ])
