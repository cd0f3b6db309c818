"""Loading monthly register extracts (the input contract) -- issue 2.

Interface:

* ``load_register_files(url, paths, *, synthetic=False, progress=True, allow_columns=())
  -> LoadReport``: CSV (header, UTF-8, comma) or Parquet files.
* ``load_register_frames(url, frames, *, synthetic, progress) -> LoadReport`` where
  ``frames`` is an iterable of ``(source_name, pl.DataFrame)`` in the contract's
  columns with Polars types (month Utf8 'YYYY-MM', dates pl.Date, booleans
  pl.Boolean, age integer, service_type/unemployment_start/... null when empty).
  Both validate exactly the same way and load atomically.
* ``LoadReport.changed_months``: months whose stored rows changed (new or revised);
  ``LoadReport.summary()``: a human-readable report.
* ``load_history(url)``: every vintage of every month, for ``trialmon status``.

A load is all or nothing: all months are written in one transaction on one ADBC
connection, committed only when every row passed every rule (a rejection raises
``InputRejected`` listing the first problems, and the database is as before). A single
source within the row budget is validated month by month in a helper thread while the
previous month is written (Decisions below); any other load validates every source
before anything is written. A month whose
content hash equals its current vintage's is left alone, so loading the same file
twice changes nothing; any other month becomes a new vintage (a revision).

Decisions (issue 9, "the load at its floor"; docs/DEVELOPING.md): validation overlaps
the bulk insert instead of preceding it, as long as the source holds each month in one
run of rows; anything else (a month seen again, a flagged row, a duplicate) rolls back
and takes the validate-first path, so problems are named exactly as before. The
microdata file takes the load through a rollback journal (pages written once, no WAL
checkpoint copy), then goes back to WAL. ``register_row`` is keyed by (month, person_id)
and has no other index (migration 0010): a month's rows are inserted in key order
(sorted by person_id), so SQLite's WITHOUT ROWID table grows page after page and nothing
is dropped or rebuilt around a load; the stored types (SQLite's day numbers and category
codes) are ``Database``'s business.

Memory is bounded by KEEP_ROWS: sources are validated into memory while the load's
rows fit in it; a source beyond it (a national five-year extract) is validated in
one streaming pass into a temporary Parquet spool and written one month at a time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from etl.contract import (
    COLUMNS,
    ROW,
    Rule,
    checked_plan,
    has_duplicates,
    municipality_month_spans,
    raw,
    raw_text,
)
from etl.reference import municipality_validity
from trialmon.db import database, get_engine
from trialmon.errors import InputRejected, Problem
from trialmon.months import as_naive_utc
from trialmon.progress import progress_bar
from trialmon.schema import MICRODATA, register_row, vintage

MAX_PROBLEMS = 20  # problems located row by row; the total is always counted
KEEP_ROWS = 10_000_000  # validated rows held in memory until written (about 1.5 GB)
SPOOL_ROW_GROUP = 65_536  # rows per row group of a spool file: months prune cleanly
PARQUET_MAGIC = b"PAR1"
_CHUNK = 1 << 24

# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class MonthOutcome:
    """What a load did to one month."""

    month: str
    outcome: str  # 'new', 'revised' or 'unchanged'
    rows: int
    revision: int
    rows_added: int = 0
    rows_removed: int = 0
    rows_changed: int = 0
    source: str = ""


@dataclass
class LoadReport:
    """The result of one load: per-month outcome and row counts."""

    months: dict[str, MonthOutcome] = field(default_factory=dict)
    rows_read: int = 0
    seconds: float = 0.0

    @property
    def changed_months(self) -> set[str]:
        """Months whose stored rows changed (new or revised): what indicators recompute."""
        return {m for m, o in self.months.items() if o.outcome != "unchanged"}

    def summary(self) -> str:
        counts = {k: sum(o.outcome == k for o in self.months.values())
                  for k in ("new", "revised", "unchanged")}
        head = (f"read {self.rows_read:,} rows in {self.seconds:.1f} s: "
                f"{counts['new']} new, {counts['revised']} revised, "
                f"{counts['unchanged']} unchanged month(s)")
        lines = [head]
        for o in sorted(self.months.values(), key=lambda o: o.month):
            detail = ""
            if o.outcome == "revised":
                detail = (f" (revision {o.revision}: +{o.rows_added} -{o.rows_removed} "
                          f"~{o.rows_changed} rows)")
            lines.append(f"  {o.month}  {o.outcome:<9} {o.rows:>10,} rows{detail}")
        return "\n".join(lines)


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- public API


def load_register_files(url: str, paths: Sequence[Path | str], *, synthetic: bool = False,
                        progress: bool = True, allow_columns: Iterable[str] = ()) -> LoadReport:
    """Validate every file, then load all of them in one transaction."""
    allowed = frozenset(allow_columns)
    sources, rejected = [], []
    for path in map(Path, paths):
        try:
            sources.append((str(path), _open_file(path, allowed)))
        except _Rejected as problems:
            rejected.append(problems)
    return _load(url, sources, rejected, synthetic=synthetic, progress=progress)


def load_register_frames(url: str, frames: Iterable[tuple[str, pl.DataFrame]], *,
                         synthetic: bool = False, progress: bool = True) -> LoadReport:
    """Load in-memory frames (e.g. synthetic months) exactly as files are loaded."""
    with progress_bar(progress, "reading", iterable=frames) as frames_read:
        sources, rejected = _contract_sources(frames_read)
    return _load(url, sources, rejected, synthetic=synthetic, progress=progress)


def _contract_sources(frames: Iterable[tuple[str, pl.DataFrame]]):
    """Each frame in the contract's columns, or the problems that reject it."""
    sources, rejected = [], []
    for name, frame in frames:
        try:
            sources.append((name, _contract_columns(name, frame.lazy(), frozenset())))
        except _Rejected as problems:
            rejected.append(problems)
    return sources, rejected


# --------------------------------------------------------------------------- reading


class _Rejected(Exception):
    """Internal: problems found in one source (collected before InputRejected)."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        super().__init__(problems)
        self.problems = problems
        self.total = len(problems) if total is None else total


def _file_problem(name: str, message: str, *, row=None, column=None, value=None) -> _Rejected:
    return _Rejected([Problem(name, row, column, value, message)])


def _open_file(path: Path, allowed: frozenset[str]) -> pl.LazyFrame:
    """A lazy scan of one file, holding exactly the contract's columns."""
    name = str(path)
    if not path.is_file():
        raise _file_problem(name, "no such file")
    if path.stat().st_size == 0:
        raise _file_problem(name, "empty file (no header, no rows)")
    with path.open("rb") as f:
        is_parquet = f.read(4) == PARQUET_MAGIC
    if is_parquet:
        return _contract_columns(name, _scan_parquet(path), allowed)
    _check_utf8(path)
    scan = pl.scan_csv(path, infer_schema=False, encoding="utf8")
    return _contract_columns(name, scan, allowed)


def _scan_parquet(path: Path) -> pl.LazyFrame:
    scan = pl.scan_parquet(path)
    try:
        scan.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _file_problem(str(path), f"not a readable Parquet file ({_first_line(error)})") \
            from None
    return scan


def _check_utf8(path: Path) -> None:
    """Reject the file at its first byte that is not UTF-8, naming the line and data row.

    Reads in chunks, so a large file is never held in memory; a multi-byte
    character split across two chunks is carried over, not mistaken for an error.
    """
    newlines, carry = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            data = carry + chunk
            try:
                data.decode("utf-8")
                good, carry = data, b""
            except UnicodeDecodeError as error:
                if error.end != len(data) or "unexpected end" not in error.reason:
                    _reject_bad_byte(path, data, error.start, error.end, newlines)
                good, carry = data[:error.start], data[error.start:]
            newlines += good.count(b"\n")
    if carry:
        _reject_bad_byte(path, carry, 0, len(carry), newlines)


def _reject_bad_byte(path: Path, data: bytes, start: int, end: int, newlines: int) -> None:
    line = newlines + data.count(b"\n", 0, start) + 1
    bad = data[start:end]
    where = "in the header" if line == 1 else f"on line {line}"
    raise _file_problem(str(path), f"not UTF-8: byte 0x{bad[0]:02x} {where}",
                        row=line - 1 if line > 1 else None, value=bad.hex(" "))


def _contract_columns(name: str, scan: pl.LazyFrame, allowed: frozenset[str]) -> pl.LazyFrame:
    """Check the column names; keep the contract's columns in their order."""
    try:
        names = scan.collect_schema().names()
    except pl.exceptions.PolarsError as error:
        raise _file_problem(name, f"cannot be read ({_first_line(error)})") from None
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS and c not in allowed]
    problems = [Problem(name, 0, c, None, "required column is missing") for c in missing]
    problems += [Problem(name, 0, c, None, "unknown column (allow it with --allow-column)")
                 for c in unknown]
    if problems:
        raise _Rejected(problems)
    return scan.select(list(COLUMNS))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Context:
    current_month: str
    municipality_spans: pl.DataFrame


def _context(url: str) -> _Context:
    current = date.today().strftime("%Y-%m")
    return _Context(current, municipality_month_spans(municipality_validity(url)))


def _validate(name: str, scan: pl.LazyFrame, context: _Context) -> pl.DataFrame:
    """The source's rows in their stored types, or _Rejected with the first problems.

    The row-local rules run in one streaming pass that keeps only the parsed
    columns and one flag; the duplicate rule then runs on that frame.
    """
    plan, rules = checked_plan(scan, context.current_month, context.municipality_spans,
                               row_local=True)
    flags = [f"__rule_{i}" for i in range(len(rules))]
    try:
        frame = (plan.select(*COLUMNS, pl.any_horizontal(flags).alias("__bad"))
                 .collect(engine="streaming"))
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _file_problem(name, f"cannot be read ({_first_line(error)})") from None
    if frame.is_empty():
        raise _file_problem(name, "no data rows (only a header)")
    if frame["__bad"].any() or has_duplicates(frame):
        full_plan, all_rules = checked_plan(scan, context.current_month,
                                            context.municipality_spans)
        raise _locate_problems(name, full_plan, all_rules, scan)
    return frame.drop("__bad")


def _locate_problems(name: str, plan: pl.LazyFrame, rules: list[Rule],
                     scan: pl.LazyFrame) -> _Rejected:
    """The first MAX_PROBLEMS problems in row order, and the total number."""
    flags = [f"__rule_{i}" for i in range(len(rules))]
    total = plan.select(pl.sum_horizontal(pl.col(flags).sum())).collect().item()
    first = (plan.filter(pl.any_horizontal(flags)).head(MAX_PROBLEMS)
             .select(ROW, *flags).collect())
    renamed = scan.select(pl.col(c).alias(raw(c)) for c in COLUMNS)
    schema = renamed.collect_schema()
    values = (renamed.with_row_index(ROW, offset=1)
              .filter(pl.col(ROW).is_in(first[ROW].implode()))
              .select(ROW, *(raw_text(c, schema).alias(c) for c in COLUMNS)).collect())
    by_row = {r[ROW]: r for r in values.iter_rows(named=True)}
    problems = [
        Problem(name, row[ROW], rules[i].column, by_row[row[ROW]][rules[i].column],
                rules[i].message)
        for row in first.iter_rows(named=True)  # at most MAX_PROBLEMS rows
        for i, flag in enumerate(flags) if row[flag]
    ]
    return _Rejected(problems[:MAX_PROBLEMS], total)


@dataclass
class _Validated:
    """A source that passed validation. Its rows are kept in memory (`frame`) while the
    load's rows fit in KEEP_ROWS; a source beyond that is spooled: its validated rows
    go once, in their stored types, to a temporary Parquet file (`spool`) that is read
    back one month at a time when written, so loading many months at once needs the
    memory of a few, not of all."""

    name: str
    months: list[str]
    rows: int
    frame: pl.DataFrame | None = None
    spool: Path | None = None
    signature: tuple | None = None  # the file's size and mtime when it was validated


def _validate_all(sources: list[tuple[str, pl.LazyFrame]], context: _Context,
                  progress: bool, rejected: list[_Rejected], spool_dir: Path
                  ) -> list[_Validated]:
    """Every source validated; the whole set rejected if any source has a problem."""
    validated, kept = [], 0
    for index, (name, scan) in enumerate(sources):
        started = time.perf_counter()
        in_memory = kept + _row_count(scan) <= KEEP_ROWS
        try:
            source = (_validate_in_memory(name, scan, context) if in_memory else
                      _validate_spooled(name, scan, context, spool_dir / f"{index}.parquet"))
        except _Rejected as problems:
            rejected.append(problems)
            continue
        _say(progress, f"{name}: {source.rows:,} rows valid "
                       f"({time.perf_counter() - started:.1f} s)")
        kept += source.rows if in_memory else 0
        validated.append(source)
    rejected += _months_in_two_sources(validated)
    if rejected:
        located = [p for r in rejected for p in r.problems]
        raise InputRejected(located, total=sum(r.total for r in rejected))
    return validated


def _row_count(scan: pl.LazyFrame) -> int:
    """The source's row count, cheaply (Parquet metadata; a fast line count of a CSV);
    0 when it cannot be counted, so the in-memory path reports why it cannot be read."""
    try:
        return scan.select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError):
        return 0


def _validate_in_memory(name: str, scan: pl.LazyFrame, context: _Context) -> _Validated:
    frame = _validate(name, scan, context)
    months = frame["month"].unique().sort().to_list()  # a few months per source
    return _Validated(name, months, frame.height, frame=frame)


def _validate_spooled(name: str, scan: pl.LazyFrame, context: _Context,
                      spool: Path) -> _Validated:
    """Validate a large source without holding it: one streaming pass parses and checks
    every row into `spool` (no column is kept in memory), then the flags and the
    per-month counts are read from it, and the duplicate rule is checked month by month.
    Problems are located in the source itself, exactly as on the in-memory path."""
    signature = _signature(name)
    plan, rules = checked_plan(scan, context.current_month, context.municipality_spans,
                               row_local=True)
    flags = [f"__rule_{i}" for i in range(len(rules))]
    try:
        (plan.select(*COLUMNS, pl.any_horizontal(flags).alias("__bad"))
         .sink_parquet(spool, compression="lz4", row_group_size=SPOOL_ROW_GROUP))
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _file_problem(name, f"cannot be read ({_first_line(error)})") from None
    per_month = (pl.scan_parquet(spool).group_by("month")
                 .agg(pl.len(), pl.col("__bad").any()).sort("month").collect())
    if per_month.is_empty():
        raise _file_problem(name, "no data rows (only a header)")
    months = per_month["month"].to_list()
    if per_month["__bad"].any() or any(has_duplicates(_spooled_month(spool, m, ["month",
                                                                              "person_id"]))
                                       for m in months):  # one month's ids at a time
        full_plan, all_rules = checked_plan(scan, context.current_month,
                                            context.municipality_spans)
        raise _locate_problems(name, full_plan, all_rules, scan)
    return _Validated(name, months, int(per_month["len"].sum()), spool=spool,
                      signature=signature)


def _spooled_month(spool: Path, month: str, columns: Sequence[str] = tuple(COLUMNS)
                   ) -> pl.DataFrame:
    """One month's rows from a spool file; row groups of other months are skipped by
    their statistics (a source delivered month after month touches only its own)."""
    return pl.scan_parquet(spool).filter(pl.col("month") == month).select(columns).collect()


def _signature(name: str) -> tuple | None:
    """A file's size and modification time, to notice it changing during the load."""
    path = Path(name)
    if not path.is_file():
        return None  # an in-memory frame
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _months_in_two_sources(validated: list[_Validated]) -> list[_Rejected]:
    """A month is delivered by one file: two sources of one month would be ambiguous."""
    seen: dict[str, str] = {}
    problems = []
    for source in validated:
        for month in source.months:
            if month in seen:
                problems.append(_file_problem(
                    source.name, f"month also in {seen[month]}; load a month from one file",
                    column="month", value=month))
            seen.setdefault(month, source.name)
    return problems


# --------------------------------------------------------------------------- loading


def _load(url: str, sources: list[tuple[str, pl.LazyFrame]], rejected: list[_Rejected], *,
          synthetic: bool, progress: bool) -> LoadReport:
    started = time.perf_counter()
    context = _context(url)
    report = None
    if not rejected and len(sources) == 1 and (rows := _row_count(sources[0][1])) <= KEEP_ROWS:
        report = _load_streamed(url, *sources[0], rows, context, synthetic=synthetic,
                                progress=progress)
    if report is None:
        report = _load_validated_first(url, sources, rejected, context, synthetic=synthetic,
                                       progress=progress)
    report.seconds = time.perf_counter() - started
    return report


class _NotStreamable(Exception):
    """Internal: a source cannot be written while it is validated (a month not in one run
    of rows, a problem to locate, no rows, an unreadable file): the transaction is rolled
    back and the source is validated first, which names every problem."""


def _load_streamed(url: str, name: str, scan: pl.LazyFrame, rows: int, context: _Context,
                   *, synthetic: bool, progress: bool) -> LoadReport | None:
    """One source validated month by month in a helper thread while the previous month
    is written (validation overlaps the bulk insert), in one transaction; None when the
    source is not streamable (nothing committed) and must be validated first."""
    report, signature = LoadReport(), _signature(name)
    validated = time.perf_counter()
    try:
        with (_Writer(url, synthetic=synthetic) as writer,
              progress_bar(progress, "validating and writing rows", length=rows) as bar,
              closing(_prefetched(_validated_months(name, scan, context))) as deliveries):
            for delivery in deliveries:
                _write(writer, delivery, report, bar, step=delivery.rows.height)
                report.rows_read += delivery.rows.height
            if _signature(name) != signature:
                raise InputRejected([Problem(name, None, None, None,
                                             "the file changed while it was being loaded")])
            writer.commit()
    except _NotStreamable:
        return None
    _say(progress, f"{name}: {report.rows_read:,} rows valid, written "
                   f"({time.perf_counter() - validated:.1f} s)")
    return report


def _validated_months(name: str, scan: pl.LazyFrame, context: _Context
                      ) -> Iterator[_Delivery]:
    """The source's months in row order, each checked by every rule when its last row has
    been read (a source holds a month in one run of rows, as extracts are delivered);
    raises _NotStreamable otherwise."""
    plan, rules = checked_plan(scan, context.current_month, context.municipality_spans,
                               row_local=True)
    flags = [f"__rule_{i}" for i in range(len(rules))]
    checked = plan.select(*COLUMNS, pl.any_horizontal(flags).alias("__bad"))
    month, pieces, done = None, [], set()
    try:
        for batch in checked.collect_batches(lazy=True, engine="streaming"):
            for piece_month, piece in _month_runs(batch):
                if piece_month != month:
                    if pieces:
                        yield _checked_month(name, month, pieces)
                        done.add(month)
                    month, pieces = piece_month, []
                    if month in done:
                        raise _NotStreamable
                pieces.append(piece)
    except (pl.exceptions.PolarsError, OSError):
        raise _NotStreamable from None
    if not pieces:
        raise _NotStreamable
    yield _checked_month(name, month, pieces)


def _month_runs(batch: pl.DataFrame) -> Iterator[tuple[str | None, pl.DataFrame]]:
    """(month, rows) of each run of one month in a batch: zero-copy slices, found by
    comparing neighbours (no hashing of the month text)."""
    runs = batch["month"].rle().struct.unnest()
    offset = 0
    for length, month in runs.iter_rows():  # one row per run: a month or two per batch
        yield month, batch.slice(offset, length)
        offset += length


def _checked_month(name: str, month: str | None, pieces: list[pl.DataFrame]) -> _Delivery:
    """One month's validated rows; _NotStreamable if a rule flags a row or a person
    appears twice (the validated-first path then names the problems)."""
    rows = pl.concat(pieces)
    if rows["__bad"].any() or rows["person_id"].n_unique() != rows.height:  # one month
        raise _NotStreamable
    return _Delivery(name, month, rows.drop("__bad"))


_END = object()


def _prefetched(items: Iterator) -> Iterator:
    """`items`, each produced in a helper thread while the caller works on the previous
    one (Polars and the ADBC driver release the GIL). Errors surface in the caller."""
    with ThreadPoolExecutor(1, thread_name_prefix="validate") as helper:
        try:
            pending = helper.submit(next, items, _END)
            while (item := pending.result()) is not _END:
                pending = helper.submit(next, items, _END)
                yield item
        finally:
            pending.cancel()
            helper.shutdown(wait=True)
            items.close()


def _write(writer: _Writer, delivery: _Delivery, report: LoadReport, bar, step: int = 1
           ) -> None:
    month_started = time.perf_counter()
    outcome = writer.write_month(delivery)
    report.months[outcome.month] = outcome
    bar.update(step, f"{outcome.month} {outcome.outcome} "
                  f"({time.perf_counter() - month_started:.1f} s)")


def _load_validated_first(url: str, sources: list[tuple[str, pl.LazyFrame]],
                          rejected: list[_Rejected], context: _Context, *, synthetic: bool,
                          progress: bool) -> LoadReport:
    """Every source validated (all problems named) before anything is written."""
    with tempfile.TemporaryDirectory(prefix="trialmon-load-") as spool_dir:
        validated = _validate_all(sources, context, progress, rejected, Path(spool_dir))
        report = LoadReport(rows_read=sum(v.rows for v in validated))
        n_months = sum(len(v.months) for v in validated)
        with (_Writer(url, synthetic=synthetic) as writer,
              progress_bar(progress, "writing", length=n_months) as bar):
            for source in validated:
                for delivery in _source_deliveries(source):
                    _write(writer, delivery, report, bar)
            writer.commit()
    return report


def _source_deliveries(source: _Validated) -> Iterator[_Delivery]:
    """A validated source's months: slices of its frame, or read one by one from its
    spool (a file changed since it was validated rejects the load, and the open
    transaction is rolled back)."""
    if source.frame is not None:
        frame, source.frame = source.frame, None  # written: let it go
        yield from _deliveries(source.name, frame)
        return
    for month in source.months:
        if _signature(source.name) != source.signature:
            raise InputRejected([Problem(source.name, None, None, None,
                                         "the file changed while it was being loaded")])
        yield _Delivery(source.name, month, _spooled_month(source.spool, month))


@dataclass(frozen=True)
class _Delivery:
    """One month of one source, validated."""

    source: str
    month: str
    rows: pl.DataFrame


def _deliveries(source: str, frame: pl.DataFrame) -> list[_Delivery]:
    """Split a validated frame by month (zero-copy slices when months are contiguous)."""
    spans = (frame.select("month").with_row_index("i")
             .group_by("month").agg(first=pl.col("i").min(), last=pl.col("i").max(), n=pl.len())
             .sort("month"))
    out = []
    for month, first, last, n in spans.iter_rows():  # one row per month
        rows = (frame.slice(first, n) if last - first + 1 == n
                else frame.filter(pl.col("month") == month))
        out.append(_Delivery(source, month, rows))
    return out


_HASH_SEED = 20210501


def content_hash(rows: pl.DataFrame) -> str:
    """An order-independent hash of one month's rows (in the stored types).

    Polars hashes each row's columns together in one vectorised pass (``hash_rows``,
    six times cheaper than hashing each column and then a struct of the column hashes,
    as this did before) and the row hashes are summed in 32-bit halves, so the order
    of rows does not matter and no sort is needed. The Polars version and the scheme
    ("rows") are part of the value because Polars' hash is only stable within a
    version; a mismatch (an older stored hash) merely makes the loader compare the rows.
    """
    half = pl.lit(1 << 32, pl.UInt64)
    row_hashes = rows.select(list(COLUMNS)).hash_rows(seed=_HASH_SEED).alias("h").to_frame()
    high, low = row_hashes.select((pl.col("h") // half).sum(), (pl.col("h") % half).sum()
                                  .alias("low")).row(0)
    return f"pl{pl.__version__}:rows:{((high << 32) + low) & ((1 << 64) - 1):016x}"


class _Writer:
    """All writes of one load on one ADBC connection, committed once.

    Nothing is committed unless `commit` is called; leaving the block any other
    way (an error, or the process being killed) leaves the database as it was.
    """

    def __init__(self, url: str, *, synthetic: bool):
        self.db = database(url)
        self.synthetic = synthetic
        self.loaded_at = datetime.now(UTC)

    def __enter__(self) -> _Writer:
        self.conn = self.db.connect(MICRODATA, bulk_write=True, rollback_journal=True)
        self.cursor = self.conn.cursor()
        self.db.set_batch_rows(self.cursor, 1 << 30)  # infer types from all rows
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self.conn.rollback()
        self.cursor.close()
        self.conn.close()
        self.db.resume_wal(MICRODATA)

    def commit(self) -> None:
        self.conn.commit()

    # ----------------------------------------------------------------- statements

    def _table(self, name: str) -> str:
        return self.db.table_name(name, MICRODATA)

    def _execute(self, sql: str, *params) -> None:
        self.cursor.execute(self.db.placeholders(sql), parameters=params or None)

    def _query(self, sql: str, *params) -> pl.DataFrame:
        self.cursor.execute(self.db.placeholders(sql), parameters=params or None)
        return pl.from_arrow(self.cursor.fetch_arrow_table())

    # ----------------------------------------------------------------- one month

    def write_month(self, delivery: _Delivery) -> MonthOutcome:
        month, source, rows = delivery.month, delivery.source, delivery.rows
        digest = content_hash(rows)
        current = self._current_vintage(month)
        if current is None:
            self._replace(month, source, rows, digest, revision=0, stats=(rows.height, 0, 0))
            return MonthOutcome(month, "new", rows.height, 0, rows.height, 0, 0, source)
        unchanged = MonthOutcome(month, "unchanged", rows.height, current["revision"],
                                 source=source)
        if current["content_hash"] == digest:
            return unchanged
        stats = revision_stats(self._stored_rows(month), rows)
        if stats == (0, 0, 0):
            return unchanged  # same rows, hashed by another Polars version
        revision = current["revision"] + 1
        self._replace(month, source, rows, digest, revision=revision, stats=stats)
        return MonthOutcome(month, "revised", rows.height, revision, *stats, source)

    def _current_vintage(self, month: str) -> dict | None:
        found = self._query(
            f"SELECT vintage_id, revision, content_hash, row_count FROM {self._table('vintage')} "
            "WHERE month = ? AND is_current ORDER BY vintage_id DESC", month)
        return found.row(0, named=True) if found.height else None

    def _stored_rows(self, month: str) -> pl.DataFrame:
        """The month's stored rows in the contract's types (read by the key's prefix)."""
        stored = self._query(f"SELECT {self.db.arrow_columns(register_row, COLUMNS)} "
                             f"FROM {self._table('register_row')} WHERE month = ?", month)
        return self.db.typed(stored, register_row, COLUMNS)

    def _replace(self, month: str, source: str, rows: pl.DataFrame, digest: str, *,
                 revision: int, stats: tuple[int, int, int]) -> None:
        """Swap the month's stored rows for `rows`, under a new current vintage.

        A month's rows exist only under its current vintage, so a first delivery
        (revision 0) has nothing to delete. The rows go in sorted by person_id, i.e. in
        the key's order (one month per insert): SQLite's table is a b-tree on the key,
        which an insert in key order fills page after page (in source order every row
        would land on a random page); PostgreSQL's key index is filled in order too.
        """
        if revision > 0:
            self._execute(f"DELETE FROM {self._table('register_row')} WHERE month = ?", month)
            self._execute(f"UPDATE {self._table('vintage')} SET is_current = FALSE "
                          "WHERE month = ? AND is_current", month)
        vintage_id = self._insert_vintage(month, source, digest, rows.height, revision, stats)
        rows = rows.sort("person_id").with_columns(
            pl.lit(vintage_id, pl.Int32).alias("vintage_id"))
        # the contract's types are the stored ones but for SQLite's day numbers and
        # category codes (storable)
        self.db.ingest(self.cursor, "register_row", rows, MICRODATA)

    def _insert_vintage(self, month: str, source: str, digest: str, row_count: int,
                        revision: int, stats: tuple[int, int, int]) -> int:
        loaded_at, cast = self.db.timestamp_parameter(self.loaded_at)
        synthetic = "TRUE" if self.synthetic else "FALSE"
        inserted = self._query(
            f"INSERT INTO {self._table('vintage')} (month, loaded_at, source_file, content_hash, "
            "row_count, revision, rows_added, rows_removed, rows_changed, synthetic, is_current) "
            f"VALUES (?, {cast}, ?, ?, ?, ?, ?, ?, ?, {synthetic}, TRUE) RETURNING vintage_id",
            month, loaded_at, source, digest, row_count, revision, *stats)
        return int(inserted.item())


def revision_stats(old: pl.DataFrame, new: pl.DataFrame) -> tuple[int, int, int]:
    """(rows added, rows removed, rows changed) from `old` to `new`, by person_id."""
    added = new.join(old, on="person_id", how="anti").height
    removed = old.join(new, on="person_id", how="anti").height
    others = [c for c in COLUMNS if c != "person_id"]
    both = new.join(old, on="person_id", how="inner", suffix="__old")
    changed = both.filter(
        pl.any_horizontal(~pl.col(c).eq_missing(pl.col(f"{c}__old")) for c in others)).height
    return added, removed, changed


# --------------------------------------------------------------------------- history


@dataclass(frozen=True)
class LoadHistory:
    """Every vintage of every loaded month (`frame`), newest revision last."""

    frame: pl.DataFrame

    def summary(self) -> str:
        if self.frame.is_empty():
            return "no register months loaded"
        table = self.frame.select(
            "month", pl.col("vintage_id").alias("vintage"), "revision",
            pl.col("loaded_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            pl.col("row_count").alias("rows"), pl.col("rows_changed").alias("changed rows"),
            pl.col("synthetic").replace_strict({True: "yes", False: "no"}, return_dtype=pl.String),
            pl.col("is_current").replace_strict({True: "*", False: ""}, return_dtype=pl.String)
            .alias("current"),
        ).cast(pl.String)
        widths = {c: max(len(c), *(len(v or "") for v in table[c])) for c in table.columns}
        lines = ["  ".join(c.ljust(widths[c]) for c in table.columns)]
        lines += ["  ".join((v or "").ljust(widths[c]) for c, v in zip(table.columns, r,
                                                                          strict=True)).rstrip()
                  for r in table.iter_rows()]  # one line per vintage, for the terminal
        return "\n".join(lines)


def load_history(url: str) -> LoadHistory:
    """The load history (table `vintage`), ordered by month and revision."""
    query = sa.select(vintage).order_by(vintage.c.month, vintage.c.revision)
    with get_engine(url).connect() as conn:
        result = conn.execute(query)
        rows = result.all()
    schema = {"vintage_id": pl.Int64, "month": pl.String, "loaded_at": pl.Datetime("us"),
              "source_file": pl.String, "content_hash": pl.String, "row_count": pl.Int64,
              "revision": pl.Int64, "rows_added": pl.Int64, "rows_removed": pl.Int64,
              "rows_changed": pl.Int64, "synthetic": pl.Boolean, "is_current": pl.Boolean}
    frame = pl.DataFrame([_naive_utc(r) for r in rows], schema=schema, orient="row")
    return LoadHistory(frame)


def _naive_utc(row) -> tuple:
    """A vintage row with loaded_at as naive UTC (PostgreSQL returns it time-zone aware)."""
    values = tuple(row)
    loaded_at = as_naive_utc(row.loaded_at)
    index = list(row._fields).index("loaded_at")
    return (*values[:index], loaded_at, *values[index + 1:])
