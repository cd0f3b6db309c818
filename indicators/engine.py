"""The indicator engine: from stored register rows to published, protected cells.

Interface:

* ``compute(url, months=None, progress=True) -> ComputeReport``: months=None recomputes
  everything; otherwise the given (changed) months and what depends on them
  (M+1 for flows, M-1 for the interview cohort). ``ComputeReport.summary()``.

How (and why this way):

* Months are processed in chunks of consecutive months, in order, sized by their
  register rows (CHUNK_ROWS, ~4 million: the demo's 72 small months are one chunk,
  so per-chunk costs are paid once; national months make six-month chunks). Each
  month's register rows are read once from the database (ADBC, Arrow -> Polars,
  never row by row; the next chunk's rows are read in a background thread while the
  current one is computed) and kept only while a chunk or its neighbour needs them
  (t-1 for flows, t+1 for the interview cohort), so memory stays bounded by a few
  months of rows (a national month is ~650k rows) however many years are loaded.
* A month recomputed only because a neighbour changed (not itself loaded anew) keeps
  the stored municipal counts of every measure whose vintage is still current
  (``current_measures``): a new month M recomputes M-1 for its interview cohort, which
  reads M, but takes M-1's stocks and flows as stored, so M-2's rows (a national month,
  ~0.5 s) are not read. A full recompute counts everything again.
* The protection's worker processes (TRIALMON_COMPUTE_WORKERS) start once per
  computation (``disclosure.WorkerPool``), not once per chunk: a national six-month
  chunk is then worth two runs of three months (a process start is ~2 s).
* Per chunk: ``measures.municipal_measures`` -> the unprotected municipal counts
  replace the chunk's rows of ``microdata.municipal_measure`` (written by a
  background thread); ``areas.roll_up`` to every area type; ``disclosure.protect``;
  ``ratios.indicator_cells``.
* The published cells of all chunks (up to PUBLISH_CELLS, ~70k per month) replace
  the register-indicator rows of ``indicator_value`` and the ``month_status`` rows
  (source 'register') in one transaction: only the cells that differ from the stored
  ones are deleted and inserted (a new month leaves its neighbour's unchanged cells
  alone); a full recompute on SQLite replaces the months whole (one bulk insert in
  primary-key order) and rebuilds the secondary indexes after the insert.
  Rows of the public-statistics indicators are never touched here.
* Figures as published (indicators/history.py, docs/as-published.md): inside that
  transaction ``keep_published_history`` first diffs the new cells against the
  published ones (one read, one Polars join), appends the replaced cells to
  ``indicator_value_history`` and records the publication; unchanged cells keep the
  publication that published them. Each flush is one publication.
* Bulk writes run in one background thread per database file (SQLite inserts run in
  C without the GIL); only ADBC connections are open while they run.
* A cell's ``vintage`` is the newest ``loaded_at`` among the months it depends on:
  t for stocks and the process shares, t-1 and t for flows, t and t+1 for the
  interview cohort. A revision of M therefore shows as a new vintage of M, of M+1's
  flow cells and of M-1's interview cells -- exactly the months recomputed.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex

from etl.contract import COLUMNS as CONTRACT_COLUMNS
from indicators import areas, history, overlay, ratios
from indicators.areas import area_members
from indicators.disclosure import WorkerPool, protect
from indicators.measures import months_read, municipal_measures, sorted_by_codes
from indicators.provenance import DisclosureRule, computation_frame, new_computation
from indicators.registry import MEASURES, REGISTER_INDICATORS
from trialmon.db import Database, Writers, database, get_engine, sql_list
from trialmon.months import as_utc, check_month, shift_month, to_utc_datetime
from trialmon.progress import progress_bar
from trialmon.schema import (
    CELL_KEY,
    MICRODATA,
    area_system,
    computation,
    indicator_value,
    month_status,
    register_row,
    vintage,
)
from trialmon.settings import get_settings

CHUNK_MONTHS = 6
# A chunk holds consecutive months up to about this many register rows (not counting
# its neighbours t-1 and t+1): the demo's 72 small months are one chunk (per-chunk
# costs are paid once), a national month (~650k rows) gives six-month chunks.
CHUNK_ROWS = 4_000_000
# Published cells are held back and written in one sorted insert, one publication;
# beyond this many held cells they are written early, to bound memory (~70k cells per
# month).
PUBLISH_CELLS = 10_000_000
READ_BATCH_ROWS = 65_536
# Months are read side by side, one connection each: the ADBC read and its decoding run
# in C without the GIL (3 national months: 2.2-2.7 s one after another, 1.24 s in 3).
READ_THREADS = 3
INDICATOR_VALUE_KEY = list(CELL_KEY)  # the published cells' primary key, month first

# Measures that read a neighbouring month (offset from t); all others read t only.
MEASURE_NEIGHBOURS: dict[str, int] = {
    "inflow_unemployed": -1,
    "unemployed_previous_month": -1,
    "exit_open_market": -1,
    "exit_services": -1,
    "interview_cohort": +1,
    "interview_5wd": +1,
}

# Register columns the measures need, with the types of the input contract
# (sex and vintage_id are not used by any indicator, so they are not read).
REGISTER_COLUMNS: dict[str, pl.DataType] = {
    name: dtype for name, dtype in CONTRACT_COLUMNS.items() if name != "sex"
}

REGISTER_INDICATOR_IDS = [i.id for i in REGISTER_INDICATORS]
UTC = "UTC"


# --------------------------------------------------------------------------- months

def months_to_recompute(changed: Iterable[str] | None, loaded: set[str]) -> list[str]:
    """The changed months plus what depends on them, as far as loaded.

    M+1's flows read M (as t-1); M-1's interview cohort reads M (as t+1).
    """
    if changed is None:
        return sorted(loaded)
    wanted = {shift_month(check_month(m), d) for m in changed for d in (-1, 0, 1)}
    return sorted(wanted & loaded)


def consecutive_chunks(months: list[str], size: int = CHUNK_MONTHS) -> Iterator[list[str]]:
    """Sorted months split into runs of consecutive months of at most `size`."""
    chunk: list[str] = []
    for month in months:
        if chunk and (len(chunk) >= size or shift_month(chunk[-1], 1) != month):
            yield chunk
            chunk = []
        chunk.append(month)
    if chunk:
        yield chunk


def row_bounded_chunks(months: list[str], row_counts: dict[str, int],
                       max_rows: int = CHUNK_ROWS) -> Iterator[list[str]]:
    """Sorted months split into runs of consecutive months of at most `max_rows` rows
    (a month bigger than that is a chunk of its own)."""
    chunk: list[str] = []
    rows = 0
    for month in months:
        count = row_counts.get(month, 0)
        if chunk and (rows + count > max_rows or shift_month(chunk[-1], 1) != month):
            yield chunk
            chunk, rows = [], 0
        chunk.append(month)
        rows += count
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- database I/O


def read_register_rows(url: str, months: list[str]) -> pl.DataFrame:
    """The current register rows of `months`, typed as in the input contract.

    Read in types that SQLite's ADBC driver infers alike in every batch (it types a
    column by its first values) and turned into the contract's by `Database.typed`
    (nulls, SQLite's day numbers, its category codes and integer booleans).
    """
    db = database(url)
    table = db.table_name("register_row", MICRODATA)
    frame = db.read_frame(f"SELECT {db.arrow_columns(register_row, REGISTER_COLUMNS)} "
                          f"FROM {table} WHERE month IN ({sql_list(months)})",
                          MICRODATA, batch_rows=READ_BATCH_ROWS)
    return db.typed(frame, register_row, REGISTER_COLUMNS)


def current_vintages(url: str) -> pl.DataFrame:
    """[month, loaded_at, revision, row_count, rows_changed, synthetic] of current vintages."""
    query = sa.select(
        vintage.c.month, vintage.c.loaded_at, vintage.c.revision, vintage.c.row_count,
        vintage.c.rows_changed, vintage.c.synthetic,
    ).where(vintage.c.is_current == sa.true())
    with get_engine(url).connect() as conn:
        rows = conn.execute(query).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows], orient="row",
        schema={"month": pl.String, "loaded_at": pl.Object, "revision": pl.Int64,
                "row_count": pl.Int64, "rows_changed": pl.Int64, "synthetic": pl.Boolean},
    )
    loaded_at = pl.Series("loaded_at", [as_utc(r.loaded_at) for r in rows],
                          dtype=pl.Datetime("us", UTC))
    return frame.with_columns(loaded_at).sort("month")



def write_municipal(url: str, months: list[str], municipal: pl.DataFrame,
                    by_measure: pl.DataFrame) -> None:
    """Replace the months' unprotected municipal measures and their vintages
    ([month, measure, vintage], ``measure_vintages``) in one transaction (microdata)."""
    db = database(url)
    in_months = f"month IN ({sql_list(months)})"
    with db.transaction(MICRODATA) as cursor:
        db.replace_rows(cursor, "municipal_measure", in_months, municipal, MICRODATA)
        db.replace_rows(cursor, "measure_vintage", in_months, by_measure, MICRODATA)


def stored_measure_vintages(url: str, months: list[str]) -> pl.DataFrame:
    """[month, measure, vintage] of the stored municipal counts of `months`."""
    db = database(url)
    table = db.table_name("measure_vintage", MICRODATA)
    frame = db.read_frame(f"SELECT month, measure, vintage FROM {table} "
                          f"WHERE month IN ({sql_list(months)})", MICRODATA)
    if frame.is_empty():
        return pl.DataFrame(schema={"month": pl.String, "measure": pl.String,
                                    "vintage": pl.Datetime("us", UTC)})
    return frame.with_columns(to_utc_datetime(frame["vintage"]))


def current_measures(url: str, months: list[str], vintages: pl.DataFrame
                     ) -> pl.DataFrame | None:
    """The stored municipal measures of `months` that are still current: those of every
    (month, measure) whose stored vintage equals the one it would get now (the newest
    load of the months it reads), so recounting would give the same values. Why: a
    month recomputed only because the month after it is new gets new interview cells
    but the same stocks and flows; taking those as stored spares reading its own t-1.
    None when there is nothing to take."""
    if not months:
        return None
    loaded_at = dict(zip(vintages["month"], vintages["loaded_at"], strict=True))
    expected = measure_vintages(months, loaded_at)
    current = stored_measure_vintages(url, months).join(
        expected, on=["month", "measure", "vintage"], how="semi")
    if current.is_empty():
        return None
    db = database(url)
    table = db.table_name("municipal_measure", MICRODATA)
    frame = db.read_frame(
        'SELECT month, municipality_code, population, "group", measure, '
        "coalesce(value, 0) AS value, CASE WHEN value IS NULL THEN 1 ELSE 0 END AS value__null "
        f"FROM {table} WHERE month IN ({sql_list(months)})", MICRODATA)
    known = frame.join(current, on=["month", "measure"], how="semi").select(
        "month", "municipality_code", "population", "group", "measure",
        pl.when(pl.col("value__null") == 1).then(None).otherwise(pl.col("value"))
        .cast(pl.Int64).alias("value"))
    return known if known.height else None


def rebuild_secondary_indexes(db: Database, cursor, drop: bool) -> None:
    """Drop (`drop`) or create indicator_value's secondary indexes as the schema declares
    them: a full recompute on SQLite builds them once after the insert."""
    for index in indicator_value.indexes:
        cursor.execute(f"DROP INDEX IF EXISTS {index.name}" if drop
                       else db.sql_text(CreateIndex(index)))


def publish(url: str, months: list[str], cells: pl.DataFrame, status: pl.DataFrame,
            rebuild_index: bool = False, rule: DisclosureRule | None = None) -> None:
    """Replace the months' register-indicator cells and month status in one transaction.

    `cells` should come in primary-key order (INDICATOR_VALUE_KEY), so that the key's
    B-tree is filled page by page instead of at random. Only the cells that differ from
    the stored ones are written (``stored_as_is``): a new month leaves its neighbours'
    cells, most of them unchanged, where they are. `rebuild_index` (a full recompute on
    SQLite): the months are replaced whole and the secondary indexes dropped and built
    again after the insert, in the same transaction -- one sort instead of millions of
    scattered index inserts. `rule`: the computation's disclosure rule, stored in the
    same transaction as the rows that point to it, so state is recorded only for what
    was published.
    """
    in_months = f"month IN ({sql_list(months)})"
    where = f"{in_months} AND indicator IN ({sql_list(REGISTER_INDICATOR_IDS)})"
    db = database(url)
    rebuild_index = rebuild_index and db.sqlite
    with db.transaction() as cursor:
        old, diff = keep_published_history(url, cursor, months, cells, status)
        cells = diff.cells
        kept = None if rebuild_index else stored_as_is(old, diff)
        if kept is None:
            if rebuild_index:
                rebuild_secondary_indexes(db, cursor, drop=True)
            db.replace_rows(cursor, "indicator_value", where, cells)
            if rebuild_index:
                rebuild_secondary_indexes(db, cursor, drop=False)
        else:
            db.delete_keys(cursor, "indicator_value", where,
                           old.join(kept, on=INDICATOR_VALUE_KEY, how="anti")
                           .select(INDICATOR_VALUE_KEY))
            db.ingest(cursor, "indicator_value",
                      cells.join(kept, on=INDICATOR_VALUE_KEY, how="anti",
                                 maintain_order="left"))
        if rule is not None:
            db.replace_rows(cursor, "computation",
                            f"computation_id = {sql_list([rule.computation_id])}",
                            computation_frame(rule))
        db.replace_rows(cursor, "month_status", f"{in_months} AND source = 'register'", status)
        db.refresh_statistics(cursor, "indicator_value")


def stored_as_is(old: pl.DataFrame, diff: history.CellDiff) -> pl.DataFrame | None:
    """The keys of the new cells stored exactly so already (``diff.unchanged``: figures,
    flag and vintage equal to `old`'s, so also their publication), or None when fewer than
    a tenth of the stored cells would stay: then replacing the months whole (one range
    delete) costs about the same as deleting cell by cell and is simpler. (A new month
    keeps about half: its neighbour's cells, most of them unchanged.)"""
    kept = diff.unchanged
    return kept if 10 * kept.height >= old.height else None


# --------------------------------------------------------------------------- figures as published

def _fetch(cursor, sql: str) -> pl.DataFrame:
    cursor.execute(sql)
    return pl.from_arrow(cursor.fetch_arrow_table())


OLD_CELL_SCHEMA = {**{k: pl.String for k in INDICATOR_VALUE_KEY}, "value": pl.Float64,
                   "numerator": pl.Float64, "denominator": pl.Float64, "flag": pl.String,
                   "vintage": pl.Datetime("us", UTC), "published_in": pl.Int64}


def _published_cells(cursor, months: list[str]) -> pl.DataFrame:
    """The register-indicator cells of `months` as now published (nulls survive SQLite's
    type inference as 0 + a marker)."""
    numbers = ", ".join(f"coalesce({c}, 0.0) AS {c}, CASE WHEN {c} IS NULL THEN 1 ELSE 0 END "
                        f"AS {c}__null" for c in history.NUMBERS)
    frame = _fetch(cursor, (
        'SELECT indicator, population, "group", area_type, area_code, month, '
        f"{numbers}, coalesce(flag, '') AS flag, vintage, "
        "coalesce(published_in, 0) AS published_in FROM indicator_value "
        f"WHERE month IN ({sql_list(months)}) "
        f"AND indicator IN ({sql_list(REGISTER_INDICATOR_IDS)})"))
    if frame.is_empty():
        return pl.DataFrame(schema=OLD_CELL_SCHEMA)
    return frame.with_columns(
        *[pl.when(pl.col(f"{c}__null") == 1).then(None).otherwise(pl.col(c).cast(pl.Float64))
          .alias(c) for c in history.NUMBERS],
        to_utc_datetime(frame["vintage"]), pl.col("published_in").cast(pl.Int64),
    ).select(list(OLD_CELL_SCHEMA))


def _last_publication(cursor, source: str) -> dict | None:
    frame = _fetch(cursor, "SELECT published_at, threshold, membership_hash FROM publication "
                           f"WHERE source = '{source}' ORDER BY publication_id DESC LIMIT 1")
    if frame.is_empty():
        return None
    row = frame.with_columns(to_utc_datetime(frame["published_at"])).row(0, named=True)
    return row


def _append(url: str, cursor, table: str, frame: pl.DataFrame) -> None:
    database(url).ingest(cursor, table, frame)


def keep_published_history(url: str, cursor, months: list[str], cells: pl.DataFrame,
                           status: pl.DataFrame | None, source: str = "register"
                           ) -> tuple[pl.DataFrame, history.CellDiff]:
    """Figures as published (indicators/history.py), inside the publishing transaction:
    the months' published cells that `cells` will change or remove are kept in
    indicator_value_history, the publication is recorded (why, counts per month), and
    `cells` come back stamped with the publication that published each value (unchanged
    cells keep theirs). Set-based: one read, one Polars diff, bulk appends. Returns
    (the months' cells as published before, the diff: ``diff.cells`` stamped)."""
    old = _published_cells(cursor, months)
    next_id = _fetch(cursor, "SELECT coalesce(max(publication_id), 0) + 1 AS id "
                             "FROM publication")["id"][0]
    diff = history.diff_cells(old, cells, int(next_id))
    if not diff.changes_anything:
        return old, diff
    members = _fetch(cursor, "SELECT area_type, area_code, municipality_code, valid_from, "
                             "valid_to FROM area_member")
    members_hash = history.membership_hash(members)
    threshold = get_settings().suppression_threshold
    reasons = history.publication_reasons(diff, set(old["month"].unique()), status,
                                          _last_publication(cursor, source), threshold,
                                          members_hash)
    _append(url, cursor, "indicator_value_history", diff.history)
    _append(url, cursor, "publication", history.publication_row(
        int(next_id), dt.datetime.now(dt.UTC), source, reasons, diff, threshold,
        members_hash))
    _append(url, cursor, "publication_month", history.month_rows(int(next_id), diff))
    return old, diff


# --------------------------------------------------------------------------- the computation

def measure_vintages(months: list[str], loaded_at: dict[str, dt.datetime]) -> pl.DataFrame:
    """[month, measure, vintage]: newest load time among the months a measure reads."""
    records = []
    for month in months:
        for measure in MEASURES:
            depends = {month, shift_month(month, MEASURE_NEIGHBOURS.get(measure, 0))}
            records.append((month, measure, max(loaded_at[m] for m in depends if m in loaded_at)))
    return pl.DataFrame(records, orient="row", schema={
        "month": pl.String, "measure": pl.String, "vintage": pl.Datetime("us", UTC)})


def status_rows(vintages: pl.DataFrame, months: list[str], computed_at: dt.datetime,
                computation_id: str | None = None) -> pl.DataFrame:
    return (
        vintages.filter(pl.col("month").is_in(months))
        .select(
            "month", pl.lit("register").alias("source"), pl.col("loaded_at").alias("vintage"),
            "revision", "row_count", "rows_changed", "synthetic",
            pl.lit(computed_at, dtype=pl.Datetime("us", UTC)).alias("computed_at"),
            pl.lit(computation_id, dtype=pl.String).alias("computation_id"),
        )
    )


def read_months(url: str, months: list[str], threads: int = READ_THREADS
                ) -> dict[str, pl.DataFrame]:
    """``read_register_rows`` of each month, one query per month (so no frame of several
    months has to be split again: that split copied every row, 0.7 s for three national
    months), up to ``threads`` side by side: a read the computation waits for (one new
    month reads three) takes them in parallel; the background prefetch takes one thread."""
    def read(month: str) -> pl.DataFrame:
        return read_register_rows(url, [month])

    if threads <= 1 or len(months) <= 1:
        return {month: read(month) for month in months}
    with ThreadPoolExecutor(min(threads, len(months)), thread_name_prefix="read-month") as pool:
        return dict(zip(months, pool.map(read, months), strict=True))


class RowCache:
    """Register rows per month, read once and dropped when no longer needed.

    ``prefetch`` starts reading the next chunk's months in a background thread (the
    ADBC read runs in C without the GIL), so reading overlaps the computation.
    """

    def __init__(self, url: str):
        self.url = url
        self.frames: dict[str, pl.DataFrame] = {}
        self.rows_read = 0
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="read-rows")
        self.pending: Future | None = None

    def prefetch(self, months: list[str]) -> None:
        missing = [m for m in months if m not in self.frames]
        if missing and self.pending is None:
            # one month after another: this read overlaps the computation, which needs
            # the cores (side by side it slowed the five-year measures by 60 %)
            self.pending = self.reader.submit(read_months, self.url, missing, 1)

    def _store(self, frames: dict[str, pl.DataFrame]) -> None:
        for month, frame in frames.items():
            self.rows_read += frame.height
            if frame.height:
                self.frames[month] = frame

    def rows(self, months: list[str]) -> pl.DataFrame:
        if self.pending is not None:
            self._store(self.pending.result())
            self.pending = None
        for month in [m for m in self.frames if m not in months]:
            del self.frames[month]
        missing = [m for m in months if m not in self.frames]
        if missing:
            self._store(read_months(self.url, missing))
        parts = [self.frames[m] for m in months if m in self.frames]
        return pl.concat(parts) if parts else pl.DataFrame(schema=REGISTER_COLUMNS)

    def close(self) -> None:
        self.reader.shutdown(wait=True, cancel_futures=True)


@dataclass
class ComputeReport:
    months: list[str] = field(default_factory=list)
    rows_read: int = 0
    municipal_rows: int = 0
    published_rows: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.months:
            return "computed nothing: no loaded month to recompute"
        span = self.months[0] if len(self.months) == 1 else f"{self.months[0]}..{self.months[-1]}"
        return (f"computed {len(self.months)} month(s) {span}: {self.rows_read:,} register rows "
                f"read, {self.published_rows:,} indicator cells published in "
                f"{self.seconds:.1f} s")


class Phases:
    """Seconds spent per step (reported by the benchmark)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now


def compute_chunk(url: str, chunk: list[str], rows: pl.DataFrame, loaded: set[str],
                  vintages: pl.DataFrame, members: pl.DataFrame, threshold: int,
                  phases: Phases, writers: Writers, previous: pl.DataFrame | None = None,
                  known: pl.DataFrame | None = None, pool: WorkerPool | None = None
                  ) -> tuple[int, pl.DataFrame, pl.DataFrame]:
    """Compute one chunk of months and queue the write of its municipal measures;
    returns (municipal rows, the chunk's published cells, not yet written, and the
    protected 'unemployed' cells of its last month). ``previous``: those of the month
    before the chunk (unemployed_previous_month keeps their suppression pattern).
    ``known``: stored municipal measures still current (``current_measures``); ``pool``:
    the computation's protection processes (None: ``protect`` starts its own if any)."""
    loaded_at = dict(zip(vintages["month"], vintages["loaded_at"], strict=True))
    by_measure = measure_vintages(chunk, loaded_at)
    municipal = municipal_measures(rows.lazy(), chunk, loaded, known).with_columns(
        pl.col("value").cast(pl.Int64))
    phases.mark("measures")
    stored = municipal.select("month", "municipality_code", "population", "group", "measure",
                              "value")
    writers.submit("microdata", lambda: write_municipal(url, chunk, stored, by_measure))
    phases.mark("write municipal")
    chunk_members = members.filter(pl.col("month").is_in(chunk))
    cells = areas.roll_up(municipal, chunk_members)
    phases.mark("roll-up")
    protected = protect_all(cells, chunk_members, threshold,
                            functools.partial(protect, workers=get_settings().compute_workers,
                                              pool=pool),
                            previous=previous)
    phases.mark("protect")
    published = ratios.indicator_cells(protected, by_measure)
    published = overlay.with_system_vintages(published, system_vintages(url))
    phases.mark("indicator cells")
    last = protected.filter((pl.col("month") == chunk[-1]) & (pl.col("measure") == "unemployed"))
    return municipal.height, published, last


def published_unemployed(url: str, month: str) -> pl.DataFrame | None:
    """The published 'unemployed' cells of ``month`` as protect's ``previous`` (None if
    there are none): what a partial recompute must keep unemployed_previous_month to."""
    sql = ("SELECT month, area_type, area_code, population, " + '"group"' + ", flag "
           "FROM indicator_value "
           f"WHERE indicator = 'unemployed' AND month = '{check_month(month)}'")
    frame = database(url).read_frame(sql)
    if not frame.height:
        return None
    return frame.select("month", "area_type", "area_code", "population", "group",
                        pl.lit("unemployed").alias("measure"),
                        (pl.col("flag").cast(pl.String) == "suppressed").fill_null(False)
                        .alias("suppressed"))


def derived_unemployed(url: str, month: str, cache: RowCache, loaded: set[str],
                       threshold: int) -> pl.DataFrame | None:
    """The protected 'unemployed' cells of a loaded ``month`` that is not published,
    derived for the chunk after it (a backfill of older months, or the demo's newest
    months computed first): its exit family must keep that month's pattern, or the
    month would be published once with a free pattern and again, when ``month`` is
    computed, with the linked one (both kept as published: the pair would give away
    what each hides). The pattern depends on the month's own cells only (the exit
    family is protected last and never moves 'unemployed'), so nothing before it is
    needed, and it equals what a computation of ``month`` will publish."""
    rows = cache.rows(months_read([month], loaded))
    if not rows.height:
        return None
    municipal = municipal_measures(rows.lazy(), [month], loaded).with_columns(
        pl.col("value").cast(pl.Int64))
    members = area_members(url, [month])
    protected = protect_all(areas.roll_up(municipal, members), members, threshold, protect)
    return protected.filter(pl.col("measure") == "unemployed")


def protect_all(cells: pl.DataFrame, members: pl.DataFrame, threshold: int,
                protect: Callable, previous: pl.DataFrame | None = None) -> pl.DataFrame:
    """The network's areas through ``protect`` (linked to ``previous``, the month before's
    protected 'unemployed' cells), every other area system as an overlay."""
    in_network = overlay.is_network()
    if previous is not None:
        previous = previous.filter(in_network)
    network = protect(cells.filter(in_network),
                      areas.without_municipalities(members.filter(in_network)), threshold,
                      previous=previous)
    outside = cells.filter(~in_network)
    if outside.is_empty():
        return network
    flags = network.filter(pl.col("area_type") == "municipality").select(
        "month", "area_code", "population", "group", "measure", "suppressed")
    protected = overlay.protect_overlay(outside, members.filter(~in_network), flags, threshold)
    return pl.concat([network, protected.select(network.columns)])


def system_vintages(url: str) -> pl.DataFrame:
    """[area_type, loaded_at] of the loaded area systems."""
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(area_system.c.area_type, area_system.c.loaded_at)).all()
    return pl.DataFrame({"area_type": [r.area_type for r in rows],
                         "loaded_at": [as_utc(r.loaded_at) for r in rows]},
                        schema={"area_type": pl.String, "loaded_at": pl.Datetime("us", UTC)})


class Publisher:
    """Holds computed cells back and publishes them in as few transactions as memory
    allows (one for every recompute of up to PUBLISH_CELLS cells)."""

    def __init__(self, url: str, vintages: pl.DataFrame, full: bool, writers: Writers,
                 rule: DisclosureRule | None = None):
        self.url, self.vintages, self.full, self.writers = url, vintages, full, writers
        self.rule = rule
        self.months: list[str] = []
        self.frames: list[pl.DataFrame] = []
        self.held = 0
        self.flushes = 0

    def add(self, months: list[str], cells: pl.DataFrame) -> None:
        self.months += months
        self.frames.append(cells)
        self.held += cells.height
        if self.held >= PUBLISH_CELLS:
            self.flush()

    def flush(self) -> None:
        if not self.months:
            return
        # each chunk's cells come in key order (ratios.indicator_cells); several chunks
        # are merged into one key order
        cells = (self.frames[0] if len(self.frames) == 1
                 else sorted_by_codes(pl.concat(self.frames), INDICATOR_VALUE_KEY))
        rule = self.rule
        status = status_rows(self.vintages, self.months, dt.datetime.now(dt.UTC),
                             rule.computation_id if rule else None)
        # the secondary indexes are rebuilt only when one transaction replaces every month
        rebuild = self.full and self.flushes == 0 and self.held < PUBLISH_CELLS
        url, months = self.url, self.months
        self.writers.submit("published",
                            lambda: publish(url, months, cells, status, rebuild, rule))
        self.flushes += 1
        self.months, self.frames, self.held = [], [], 0


def published_state(url: str) -> pl.DataFrame:
    """[month, vintage, threshold, method_version] of the published register months
    (threshold null: computed before provenance was recorded)."""
    s, c = month_status.c, computation.c
    stmt = (sa.select(s.month, s.vintage, c.threshold, c.method_version)
            .select_from(month_status.outerjoin(
                computation, s.computation_id == c.computation_id))
            .where(s.source == "register"))
    with get_engine(url).connect() as conn:
        rows = conn.execute(stmt).all()
    return pl.DataFrame(
        [(r.month, as_utc(r.vintage), r.threshold, r.method_version) for r in rows],
        orient="row", schema={"month": pl.String, "vintage": pl.Datetime("us", UTC),
                              "threshold": pl.Int64, "method_version": pl.String})


def pending_months(vintages: pl.DataFrame, state: pl.DataFrame) -> list[str]:
    """Loaded months whose published state does not match their current vintage: never
    computed, or a computation failed after the load (so a rerun finds them)."""
    joined = vintages.select("month", "loaded_at").join(state, on="month", how="left")
    return joined.filter(pl.col("vintage").is_null()
                         | (pl.col("vintage") != pl.col("loaded_at")))["month"].to_list()


def rule_differs(state: pl.DataFrame, rule: DisclosureRule) -> bool:
    """Whether a published month was computed under another (or an unrecorded) rule."""
    return state.filter(pl.col("threshold").is_null()
                        | (pl.col("threshold") != rule.threshold)
                        | (pl.col("method_version") != rule.method_version)).height > 0


def compute(url: str, months: Iterable[str] | None = None, progress: bool = True, *,
            pending: bool = True) -> ComputeReport:
    """Recompute the published register indicators of `months` (None = every loaded month)
    and of every loaded month whose published state is missing or outdated. When the
    disclosure rule of this run (the threshold setting, the method version) differs from
    a published month's, every month is recomputed: one rule for the whole table.
    `pending=False`: only `months` and what depends on them; other outdated months are
    left for a later call (the demo's first start publishes its last trial year first;
    `derived_unemployed` keeps the months linked whatever the order)."""

    started = time.perf_counter()
    vintages = current_vintages(url)
    loaded = set(vintages["month"])
    rule = new_computation(get_settings().suppression_threshold)
    state = published_state(url)
    if months is None or rule_differs(state, rule):
        targets, dependants = sorted(loaded), set()
    else:
        outdated = pending_months(vintages, state) if pending else []
        changed = {*map(check_month, months), *outdated}
        targets = months_to_recompute(changed, loaded)
        dependants = set(targets) - changed
    report = ComputeReport(months=targets)
    if not targets:
        return report
    members = area_members(url, targets)
    threshold = rule.threshold
    row_counts = dict(zip(vintages["month"], vintages["row_count"], strict=True))
    cache = RowCache(url)
    phases = Phases()
    writers = database(url).writers()
    workers = get_settings().compute_workers
    pool = WorkerPool(workers) if workers > 1 else None
    try:
        publisher = Publisher(url, vintages, full=targets == sorted(loaded), writers=writers,
                              rule=rule)
        chunks = list(row_bounded_chunks(targets, row_counts))
        previous = None
        with progress_bar(progress, "computing", length=len(targets)) as bar:
            for index, chunk in enumerate(chunks):
                before = shift_month(chunk[0], -1)
                if before in loaded and (previous is None
                                         or previous["month"].max() != before):
                    previous = published_unemployed(url, before)
                    if previous is None:
                        previous = derived_unemployed(url, before, cache, loaded, threshold)
                    phases.mark("lead-in month")
                known = current_measures(url, [m for m in chunk if m in dependants], vintages)
                rows = cache.rows(months_read(chunk, loaded, known))
                if index + 1 < len(chunks):
                    cache.prefetch(months_read(chunks[index + 1], loaded))
                phases.mark("read rows")
                municipal_rows, cells, previous = compute_chunk(
                    url, chunk, rows, loaded, vintages, members, threshold, phases, writers,
                    previous, known, pool)
                report.municipal_rows += municipal_rows
                report.published_rows += cells.height
                publisher.add(chunk, cells)
                phases.mark("publish")
                bar.update(len(chunk), f"{chunk[0]}..{chunk[-1]}")
        publisher.flush()
    finally:
        cache.close()
        if pool is not None:
            pool.close()
        writers.wait()
    phases.mark("publish (waiting for writes)")
    report.rows_read, report.phases = cache.rows_read, phases.seconds
    report.seconds = time.perf_counter() - started
    return report
