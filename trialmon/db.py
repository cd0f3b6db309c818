"""Database access: engines, migrations and fast-path (ADBC) connections.

Every module gets its database through here, so the SQLite/PostgreSQL
differences live in one place.

Interface:

* ``get_engine(url)``: the full engine, for loaders, the computation and migrations.
* ``migrate(url)``, ``is_at_head(url)``; ``compact(url)``: SQLite's VACUUM of both files.
* ``database(url) -> Database`` (one per URL and process; ``as_database(handle)`` turns a
  URL given at a boundary into it): the one object a module holds for a database. It
  owns the serving engine (``Database.published``: published tables only;
  ``connect_published()``, ``read_published(select) -> pl.DataFrame`` for small reads;
  ``dispose()`` before a fork) and the bulk (ADBC, Arrow) side -- connections per
  schema, reads into Polars (``arrow_columns`` and ``typed``: a table's columns read in
  types that do not depend on which rows come first, and back in Polars types), bulk
  inserts and replaces (``storable``: a frame in the types a table stores), table names
  and SQL text as each backend wants them, and `writers()`: background write threads,
  one per database file. The dashboard, the API, the exports, the reports and the
  pipeline reach the published tables only through it; no other module asks which
  backend it is on (but for the SQLAlchemy helpers below).
* ``get_published_engine(url)``: the implementation of ``Database.published`` (no module
  outside this one calls it; tests/test_least_privilege.py checks).
* ``lock_for_writing(conn, table)``, ``timestamp_for(conn, moment)``: the backend
  differences of SQLAlchemy statements.
* ``sql_list(codes)``: a SQL IN-list of validated codes.

Decisions:

* SQLite: the URL names the published file; the microdata file sits beside it
  (``<stem>-microdata.sqlite``). The full engine attaches it as schema ``microdata``
  on every connection; the published engine never does, so a serving process has no
  descriptor on the person-level file and ``microdata.*`` does not even resolve (least
  privilege by construction, tested from outside the process). Both files run in WAL
  mode so the dashboard reads while a load writes.
* PostgreSQL (``postgresql+psycopg://``): published tables in ``public``, person-level
  data in schema ``microdata``; least privilege is the database role's grants (the
  serving role is granted ``public`` only), so both engines are the same engine.
* ``migrate`` first looks with the published engine whether the schema is already at
  the newest revision (the usual start of a server) and then touches nothing else.
  After an upgrade it vacuums a SQLite file that the upgrade left largely free (a
  rebuilt table's old pages), so a migration that shrinks a table shrinks the file.
* What SQLite stores in bulk (``microdata.register_row``) is stored compactly, and the
  table says how (its columns' SQLite variants, `_sqlite_types`; no column is named
  here): dates as day numbers since 1970-01-01 (`trialmon.schema.DayNumber`), not ISO
  text: 2 bytes (3 before 1880 or after 2059) instead of 10, and Arrow's date is that
  number, so writes and reads cast instead of formatting and parsing; category text as
  its position in the column's values (`trialmon.schema.Coded`): 0-1 bytes instead of
  1-16, converted through a Polars Enum on writing (strict: a value outside the list
  fails the write, it is never stored as null) and a lookup on reading. SQLite's driver
  types a column by its first values, so a nullable column is read with a non-null
  stand-in for null: `NULL_DAY`, `NULL_CODE`, '' for text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine, make_url

from trialmon.schema import MICRODATA, Coded, DayNumber, metadata

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: a null day number as an Arrow read of SQLite gets it: no 4-digit year's date is this
#: far from 1970 (-719,528 is 0000-01-01), and it is a stable integer type for the driver
NULL_DAY = -(2**31)
#: a null category code as an Arrow read of SQLite gets it (codes are positions, >= 0)
NULL_CODE = -1


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_paths(url: str) -> tuple[Path, Path]:
    """(published file, microdata file) of a SQLite URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("trialmon needs a SQLite file, not an in-memory database")
    published = Path(database)
    return published, published.with_name(f"{published.stem}-microdata{published.suffix}")


def _prepare_sqlite(url: str) -> Path:
    published, microdata = sqlite_paths(url)
    published.parent.mkdir(parents=True, exist_ok=True)
    return microdata


@functools.cache
def get_engine(url: str) -> Engine:
    """The full engine: published tables and the microdata (one per URL and process)."""
    return _sqlite_engine(url, attach_microdata=True) if is_sqlite(url) else _pg_engine(url)


@functools.cache
def get_published_engine(url: str) -> Engine:
    """The serving engine: published tables only (SQLite: the microdata file is never
    opened; PostgreSQL: the role's grants decide, see the module docstring)."""
    return _sqlite_engine(url, attach_microdata=False) if is_sqlite(url) else _pg_engine(url)


@functools.cache
def _pg_engine(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str, attach_microdata: bool) -> Engine:
    microdata = _prepare_sqlite(url)
    # NullPool: no idle connection outlives its use. The ADBC driver links its own
    # copy of SQLite; two copies in one process do not see each other's POSIX locks,
    # so an idle pysqlite connection would be corrupted when an ADBC connection
    # checkpoints and removes the WAL on close (sqlite.org/howtocorrupt.html 2.2.1).
    engine = sa.create_engine(url, connect_args={"timeout": 60}, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if attach_microdata:
            cursor.execute(f"ATTACH DATABASE '{microdata.as_posix()}' AS {MICRODATA}")
            cursor.execute(f"PRAGMA {MICRODATA}.journal_mode=WAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")

    return engine


def alembic_config(url: str):
    from alembic.config import Config  # start-up: alembic costs ~0.4 s, needed only to migrate

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR.as_posix())
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = get_engine(url)
    return config


def migrate(url: str) -> None:
    """Create or upgrade the schema to the newest migration (reference data is the
    pipeline's next step: `shell.pipeline.prepare_database`), then give the file system
    back what an upgrade freed (`compact`)."""
    from alembic import command  # start-up: as above

    if not is_at_head(url):
        command.upgrade(alembic_config(url), "head")
        compact(url, only_if_free=True)


#: a SQLite file is vacuumed after an upgrade when this share of it, and at least
#: FREE_BYTES, is free pages
FREE_SHARE, FREE_BYTES = 0.25, 64 << 20


def compact(url: str, *, only_if_free: bool = False) -> None:
    """SQLite: VACUUM the published and the microdata file, then truncate their WALs.

    Why: SQLite keeps freed pages in the file for later writes, and pages filled by
    inserts in key order or by months published one after another are 10-15 % empty;
    VACUUM rebuilds every table and index packed. After an upgrade (`only_if_free`: a
    file at least a quarter free, as a migration that rebuilds a table leaves it: 0010
    grew the demo's microdata file from 1,505 MB to 2,210 MB, 1,013 MB after the VACUUM,
    8 s) and once after the demo is built. It cannot run in a migration: Alembic runs
    the migrations in one transaction, VACUUM outside any. Readers of the published
    file go on reading meanwhile (WAL). A raw connection: SQLAlchemy's would begin a
    transaction (`_sqlite_engine`). PostgreSQL: nothing (autovacuum).
    """
    if not is_sqlite(url):
        return
    raw = get_engine(url).raw_connection()
    try:
        cursor = raw.cursor()
        for schema in ("main", MICRODATA):
            free, pages, page_size = (cursor.execute(f"PRAGMA {schema}.{pragma}").fetchone()[0]
                                      for pragma in ("freelist_count", "page_count",
                                                     "page_size"))
            if not only_if_free or (free > FREE_SHARE * pages
                                    and free * page_size >= FREE_BYTES):
                cursor.execute(f"VACUUM {schema}")
                cursor.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def is_at_head(url: str) -> bool:
    """Whether the schema is at the newest migration (read with the published engine:
    alembic_version lives in the published file)."""
    from alembic.runtime.migration import MigrationContext  # start-up: as above
    from alembic.script import ScriptDirectory  # start-up: as above

    heads = set(ScriptDirectory(MIGRATIONS_DIR.as_posix()).get_heads())
    try:
        with database(url).connect_published() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.SQLAlchemyError:
        return False
    return current == heads


def libpq_uri(url: str) -> str:
    """`postgresql+psycopg://...` as a plain libpq URI."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def lock_for_writing(conn: sa.Connection, table: sa.Table) -> None:
    """Take the write lock before reading `table`, so concurrent writers queue instead of
    failing. PostgreSQL: a self-conflicting table lock. SQLite: a write statement that
    changes nothing makes the (deferred) transaction a writer now, waiting on
    busy_timeout; upgrading later, after a read, would fail at once with "database is
    locked"."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
    else:
        conn.execute(sa.delete(table).where(sa.false()))


def timestamp_for(conn: sa.Connection, moment: datetime) -> datetime:
    """An aware timestamp as a SQLAlchemy comparison with a stored one needs it (SQLite
    stores UTC without an offset)."""
    return moment.replace(tzinfo=None) if conn.dialect.name == "sqlite" else moment


def sql_list(values: Iterable[str]) -> str:
    """A SQL IN-list of validated codes (months, indicator ids: no quotes inside)."""
    items = list(values)
    if any("'" in v for v in items):
        raise ValueError("quote in a code")
    return ", ".join(f"'{v}'" for v in items)


@functools.cache
def database(url: str) -> Database:
    """The one `Database` of `url` in this process."""
    return Database(url)


def as_database(handle: Database | str) -> Database:
    """`handle` as the process's one `Database` (a URL, as the command line and tests
    give it, is looked up with `database`)."""
    return database(handle) if isinstance(handle, str) else handle


class Database:
    """One database: its serving engine (published tables only) for the small reads of
    the dashboard, the API and the exports, and its bulk side: ADBC connections, Arrow
    reads and writes, SQL text.

    Why a class: the SQLite/PostgreSQL differences of the fast path (which file a schema
    lives in, schema-qualified names, placeholders, how timestamps and integers are
    stored, the driver's type inference, PRAGMAs for big inserts) are answered here,
    once, instead of by `if sqlite` branches in each loader.
    """

    def __init__(self, url: str):
        self.url = url
        self.sqlite = is_sqlite(url)

    @property
    def engine(self) -> Engine:
        return get_engine(self.url)

    @property
    def published(self) -> Engine:
        """The serving engine: published tables only (SQLite: the microdata file is never
        attached; PostgreSQL: the role's grants decide)."""
        return get_published_engine(self.url)

    def connect_published(self) -> sa.Connection:
        """A connection of the serving engine (use as a context manager)."""
        return self.published.connect()

    def read_published(self, statement, schema: dict | None = None) -> pl.DataFrame:
        """A small SELECT through the serving engine as a Polars frame (`schema`: the
        columns' types, in the statement's order; without it the column names are the
        statement's and the types inferred from all rows)."""
        with self.connect_published() as conn:
            result = conn.execute(statement)
            names, rows = list(result.keys()), [tuple(r) for r in result]
        if schema is None:
            return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
        return pl.DataFrame(rows, schema=schema, orient="row")

    def dispose(self) -> None:
        """Close the serving engine's pooled connections (a server's master before it
        forks workers, so no child inherits one)."""
        self.published.dispose()

    # ------------------------------------------------------------------ SQL text

    def table_name(self, table: str, schema: str | None = None) -> str:
        """`table` as a bulk connection opened for `schema` names it."""
        return table if self.sqlite or schema is None else f"{schema}.{table}"

    def adbc_table(self, table: sa.Table) -> sa.Table:
        """`table` as a bulk connection opened for its schema sees it (SQLite: no schema)."""
        return table.to_metadata(sa.MetaData(), schema=None) if self.sqlite else table

    def sql_text(self, statement) -> str:
        """A SQLAlchemy SELECT as SQL text for ADBC (values are validated codes, bound as
        literals)."""
        return str(statement.compile(dialect=self.published.dialect,
                                     compile_kwargs={"literal_binds": True}))

    def placeholders(self, sql: str) -> str:
        """`?` placeholders as the backend wants them ($1, $2 ... on PostgreSQL)."""
        if self.sqlite:
            return sql
        parts = sql.split("?")
        return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))

    def timestamp_parameter(self, moment: datetime) -> tuple[str, str]:
        """(value, placeholder) binding an aware timestamp as the tables store it."""
        if self.sqlite:  # SQLAlchemy's SQLite DateTime text format
            return moment.strftime("%Y-%m-%d %H:%M:%S.%f"), "?"
        return moment.isoformat(), "CAST(? AS TIMESTAMPTZ)"

    def arrow_columns(self, table: sa.Table, names: Iterable[str]) -> str:
        """The SELECT list of an Arrow read of the columns `names` of `table`.

        SQLite's driver infers a column's type from the first values of each batch, so
        a null must not come first: a nullable text column is read as '' for null (the
        loaders store no empty text), a nullable day number as `NULL_DAY`, a nullable
        category code as `NULL_CODE`. `typed` turns them back into nulls (and codes
        into their text). PostgreSQL's columns are typed: read as they are.
        """
        return ", ".join(self._arrow_column(table.c[name]) for name in names)

    def _arrow_column(self, column: sa.Column) -> str:
        name = column.name
        if not (self.sqlite and column.nullable):
            return name
        stored = _sqlite_types(column.table)[name]
        if isinstance(stored, DayNumber):
            return f"coalesce({name}, {NULL_DAY}) AS {name}"
        if isinstance(stored, Coded):
            return f"coalesce({name}, {NULL_CODE}) AS {name}"
        if isinstance(stored, sa.String):
            return f"ifnull({name}, '') AS {name}"
        return name

    def typed(self, frame: pl.DataFrame, table: sa.Table, types: dict[str, pl.DataType]
              ) -> pl.DataFrame:
        """A frame read with `arrow_columns` as the columns `types` names, in its Polars
        types: nulls back, SQLite's day numbers as dates, its category codes as their
        text and integers as booleans. (No rows: SQLite's driver has no values to infer
        the types from.)"""
        if frame.is_empty():
            return pl.DataFrame(schema=types)
        return frame.select(self._typed(table.c[name], dtype) for name, dtype in types.items())

    def _typed(self, column: sa.Column, dtype: pl.DataType) -> pl.Expr:
        value = pl.col(column.name)
        if not self.sqlite:
            return value.cast(dtype).alias(column.name)
        stored = _sqlite_types(column.table)[column.name]
        if isinstance(stored, Coded):
            code = pl.when(value != NULL_CODE).then(value) if column.nullable else value
            # a lookup by position; a code that is no position (negative, beyond the
            # values) fails the cast or the gather instead of reading as another value
            value = pl.lit(pl.Series(stored.values, dtype=pl.String)).gather(
                code.cast(pl.UInt32))
        elif column.nullable and isinstance(stored, DayNumber):
            value = pl.when(value != NULL_DAY).then(value)
        elif column.nullable and isinstance(stored, sa.String):
            value = pl.when(value != "").then(value)
        return value.cast(dtype).alias(column.name)

    # ------------------------------------------------------------------ connections

    def connect(self, schema: str | None = None, *, bulk_write: bool = False,
                rollback_journal: bool = False):
        """A DB-API connection of the ADBC driver (autocommit off: callers commit once,
        so a load is atomic). SQLite: the connection opens the file that holds `schema`
        (the microdata file for ``microdata``). `bulk_write`: a big page cache (index
        pages of big inserts) and helper threads for sorting. `rollback_journal`: the
        file is switched from WAL to a rollback journal before the transaction begins,
        so new pages are written once instead of to the WAL and again at the checkpoint;
        call `resume_wal` after closing (readers wait for the commit meanwhile; a kill
        leaves a hot journal that the next connection rolls back). Stays in WAL when
        another connection holds the file."""
        if self.sqlite:
            import adbc_driver_manager  # start-up: only bulk paths
            import adbc_driver_manager.dbapi as adbc_dbapi  # start-up: only bulk paths
            import adbc_driver_sqlite  # start-up: only bulk paths

            database = adbc_driver_sqlite.connect(self._sqlite_path(schema).as_posix())
            raw = adbc_driver_manager.AdbcConnection(database)
            pragmas = ["busy_timeout=60000"]
            if bulk_write:
                pragmas += ["cache_size=-262144", "temp_store=MEMORY", "threads=2"]
            for pragma in pragmas:  # in autocommit, before the transaction begins
                _run_pragma(raw, pragma)
            if rollback_journal:
                # another process reading the file: the load writes through WAL
                with suppress(adbc_driver_manager.Error):
                    _run_pragma(raw, "journal_mode=DELETE")
            return adbc_dbapi.Connection(database, raw)
        import adbc_driver_postgresql.dbapi as adbc_pg  # start-up: only bulk paths

        return adbc_pg.connect(libpq_uri(self.url))

    def _sqlite_path(self, schema: str | None) -> Path:
        published, microdata = sqlite_paths(self.url)
        return microdata if schema == MICRODATA else published

    def resume_wal(self, schema: str | None = None) -> None:
        """SQLite: the file of `schema` back in WAL mode after a `rollback_journal` load
        (as every SQLAlchemy connection sets it too)."""
        if self.sqlite:
            import adbc_driver_manager  # start-up: only bulk paths
            import adbc_driver_sqlite  # start-up: only bulk paths

            with (adbc_driver_sqlite.connect(self._sqlite_path(schema).as_posix()) as database,
                  adbc_driver_manager.AdbcConnection(database) as raw):
                _run_pragma(raw, "busy_timeout=60000")
                _run_pragma(raw, "journal_mode=WAL")

    @contextmanager
    def transaction(self, schema: str | None = None) -> Iterator:
        """A cursor of one bulk-write transaction: committed when the block ends, rolled
        back (the database as it was) when it raises."""
        conn = self.connect(schema, bulk_write=True)
        try:
            with conn.cursor() as cursor:
                yield cursor
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    # ------------------------------------------------------------------ reads

    def read_frame(self, sql: str, schema: str | None = None,
                   batch_rows: int | None = None) -> pl.DataFrame:
        """Run one SELECT through ADBC and return the Arrow result as a Polars frame.

        `batch_rows` (SQLite): rows per Arrow batch; bigger batches read millions of rows
        ~25% faster than the driver's default 1,024 (only for columns typed consistently
        from their first values, as the register columns are).
        """
        conn = self.connect(schema)
        try:
            with conn.cursor() as cursor:
                if batch_rows and self.sqlite:
                    self.set_batch_rows(cursor, batch_rows)
                cursor.execute(sql)
                table = cursor.fetch_arrow_table()
        finally:
            conn.close()
        return pl.from_arrow(table)

    def set_batch_rows(self, cursor, rows: int) -> None:
        """SQLite: rows per Arrow batch, i.e. how many rows the driver's type inference
        sees (no-op on PostgreSQL, whose columns are typed)."""
        if self.sqlite:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(rows)})

    # ------------------------------------------------------------------ writes

    def storable(self, frame: pl.DataFrame, table: sa.Table | None = None) -> pl.DataFrame:
        """`frame` as `table` stores it. SQLite: timestamps as SQLAlchemy's text, the dates
        of `DayNumber` columns as their day numbers (a cast: Polars holds a date as
        that number), the text of `Coded` columns as its code (a strict cast to an Enum
        of the column's values, whose physical value is the position: a value outside
        them raises, it is never written as null); PostgreSQL: the integer columns as
        int4 (the tables' Integer: binary COPY needs the exact type)."""
        if not self.sqlite:
            return frame.with_columns(pl.col(pl.Int64).cast(pl.Int32))
        stored = _sqlite_types(table) if table is not None else {}
        return frame.with_columns(
            *(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
              .dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
              for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)),
            *(pl.col(name).cast(pl.Int32) for name, dtype in frame.schema.items()
              if dtype == pl.Date and isinstance(stored.get(name), DayNumber)),
            *(pl.col(name).cast(pl.Enum(stored[name].values)).to_physical().cast(pl.Int16)
              for name in frame.columns if isinstance(stored.get(name), Coded)),
        )

    def ingest(self, cursor, table: str, frame: pl.DataFrame, schema: str | None = None
               ) -> None:
        """Append `frame` to `table` in one bulk insert (COPY on PostgreSQL), in the types
        the table stores (`storable`)."""
        if not frame.height:
            return
        frame = self.storable(frame, metadata.tables.get(f"{schema}.{table}" if schema
                                                         else table))
        # SQLite: Arrow string views, no copy of the strings into large_string buffers
        arrow = (frame.to_arrow(compat_level=pl.CompatLevel.newest()) if self.sqlite
                 else frame.to_arrow())
        cursor.adbc_ingest(table, arrow, mode="append",
                           db_schema_name=None if self.sqlite else schema)

    def delete_keys(self, cursor, table: str, where: str, keys: pl.DataFrame) -> None:
        """Delete the rows of `table` (among those `where` selects: it should narrow them
        through an index) whose key columns equal a row of `keys`: the keys go into a
        temporary table in one bulk insert, then one DELETE with a row-value IN."""
        if not keys.height:
            return
        cursor.adbc_ingest("stale_keys", self.storable(keys).to_arrow(), mode="replace",
                           temporary=True)
        columns = ", ".join(f'"{c}"' for c in keys.columns)
        cursor.execute(f"DELETE FROM {table} WHERE {where} AND ({columns}) IN "
                       f"(SELECT {columns} FROM stale_keys)")
        cursor.execute("DROP TABLE stale_keys")

    def refresh_statistics(self, cursor, table: str) -> None:
        """PostgreSQL: let the planner see `table`'s new size at once (autovacuum would,
        later). Not on SQLite: with sampled statistics (ANALYZE) its planner read the
        overview page's cells through the wrong index, 4.2 s of CPU per callback instead
        of 0.04 s (measured on the load bench's database), so SQLite keeps its own
        estimates."""
        if not self.sqlite:
            cursor.execute(f"ANALYZE {table}")

    def writers(self) -> Writers:
        """Background writers for this database, one thread per file (see `Writers`)."""
        return Writers()

    def replace_rows(self, cursor, table: str, delete_where: str, frame: pl.DataFrame,
                     schema: str | None = None) -> None:
        """Delete the rows `delete_where` selects and bulk-insert `frame`, on an open cursor."""
        cursor.execute(f"DELETE FROM {self.table_name(table, schema)} WHERE {delete_where}")
        self.ingest(cursor, table, frame, schema)


@functools.cache
def _sqlite_types(table: sa.Table) -> dict[str, sa.types.TypeEngine]:
    """The type SQLite stores each column of `table` in: its SQLite variant where it has
    one (`DayNumber`, `Coded`), else its type."""
    dialect = sqlite_dialect.dialect()
    return {c.name: c.type.dialect_impl(dialect) for c in table.columns}


def _run_pragma(raw_connection, pragma: str) -> None:
    """One PRAGMA on a low-level ADBC SQLite connection (in autocommit)."""
    import adbc_driver_manager  # start-up: only bulk paths

    with adbc_driver_manager.AdbcStatement(raw_connection) as statement:
        statement.set_sql_query(f"PRAGMA {pragma}")
        statement.execute_update()


class Writers:
    """One background thread per database file, so that bulk inserts (SQLite spends
    its time in C, without the GIL) overlap the computation of the next step.

    Writes to one file run in submission order. Only ADBC connections are opened
    while writers run (no SQLAlchemy SQLite connection may be open beside them: see
    `_sqlite_engine`); ``wait`` re-raises the first failure.
    """

    def __init__(self):
        self.threads = {name: ThreadPoolExecutor(1, thread_name_prefix=f"write-{name}")
                        for name in ("microdata", "published")}
        self.pending: list[Future] = []

    def submit(self, file: str, write: Callable[[], None]) -> None:
        self.pending.append(self.threads[file].submit(write))
        self.pending = [f for f in self.pending if not f.done() or f.exception()]
        for future in self.pending:
            if future.done():
                future.result()

    def wait(self) -> None:
        try:
            for future in self.pending:
                future.result()
        finally:
            for thread in self.threads.values():
                thread.shutdown(wait=True, cancel_futures=True)
