"""Database access: engines, migrations and fast-path (ADBC) connections.

Every module gets its database through here, so the SQLite/PostgreSQL
differences live in one place.

Interface:

* ``get_engine(url)``: the full engine, for loaders, the computation and migrations.
* ``get_published_engine(url)``: the serving engine (dashboard, API, exports of the
  protected table): it can reach the published tables only.
* ``migrate(url)``, ``is_at_head(url)``, ``adbc_connect(url, schema)``.

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
"""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from trialmon.schema import MICRODATA

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


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
    pipeline's next step: `shell.pipeline.prepare_database`)."""
    from alembic import command  # start-up: as above

    if not is_at_head(url):
        command.upgrade(alembic_config(url), "head")


def is_at_head(url: str) -> bool:
    """Whether the schema is at the newest migration (read with the published engine:
    alembic_version lives in the published file)."""
    from alembic.runtime.migration import MigrationContext  # start-up: as above
    from alembic.script import ScriptDirectory  # start-up: as above

    heads = set(ScriptDirectory(MIGRATIONS_DIR.as_posix()).get_heads())
    try:
        with get_published_engine(url).connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.SQLAlchemyError:
        return False
    return current == heads


def adbc_connect(url: str, schema: str | None = None):
    """A DB-API connection of the ADBC driver, for bulk reads and writes (Arrow).

    For SQLite the connection opens the file that holds `schema` (the microdata file
    for ``microdata``); for PostgreSQL the ingest target schema is passed by the caller
    as ``db_schema_name``. Autocommit is off: callers commit once, so a load is atomic.
    """
    if is_sqlite(url):
        published, microdata = sqlite_paths(url)
        import adbc_driver_sqlite.dbapi as adbc_sqlite  # start-up: only bulk paths need ADBC

        path = microdata if schema == MICRODATA else published
        conn = adbc_sqlite.connect(path.as_posix())
        with conn.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout=60000")
        return conn
    import adbc_driver_postgresql.dbapi as adbc_pg  # start-up: only bulk paths need ADBC

    return adbc_pg.connect(libpq_uri(url))


def libpq_uri(url: str) -> str:
    """`postgresql+psycopg://...` as a plain libpq URI."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ingest_schema(url: str, schema: str | None) -> str | None:
    """The db_schema_name an ADBC ingest into `schema` takes on this backend."""
    if is_sqlite(url):
        return None  # the connection already opened the right file
    return schema


# --------------------------------------------------------------------------- Arrow reads

def read_frame(url: str, sql: str, schema: str | None = None,
               batch_rows: int | None = None) -> pl.DataFrame:
    """Run one SELECT through ADBC and return the Arrow result as a Polars frame.

    `batch_rows` (SQLite): rows per Arrow batch; bigger batches read millions of rows
    ~25% faster than the driver's default 1,024 (only for columns typed consistently
    from their first values, as the register columns are).
    """
    conn = adbc_connect(url, schema)
    try:
        with conn.cursor() as cursor:
            if batch_rows and is_sqlite(url):
                cursor.adbc_statement.set_options(
                    **{"adbc.sqlite.query.batch_rows": str(batch_rows)})
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
    finally:
        conn.close()
    return pl.from_arrow(table)


def adbc_table(url: str, table: sa.Table) -> sa.Table:
    """`table` as an ADBC connection opened for its schema sees it (SQLite: no schema)."""
    return table.to_metadata(sa.MetaData(), schema=None) if is_sqlite(url) else table
