"""The schema is created by Alembic on both backends, as trialmon/schema.py models it,
and keeps microdata apart."""

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from indicators.engine import read_register_rows
from shell.pipeline import prepare_database as upgrade
from trialmon.db import alembic_config, get_engine, is_sqlite, sqlite_paths
from trialmon.schema import metadata, register_row


def test_upgrade_creates_every_table_and_is_repeatable(db_url):
    upgrade(db_url)
    upgrade(db_url)  # a second run changes nothing and does not fail
    inspector = sa.inspect(get_engine(db_url))
    published = set(inspector.get_table_names())
    microdata = set(inspector.get_table_names(schema="microdata"))
    expected_micro = {t.name for t in metadata.tables.values() if t.schema == "microdata"}
    expected_pub = {t.name for t in metadata.tables.values() if t.schema is None}
    assert expected_micro <= microdata
    assert expected_pub <= published
    # person-level rows never sit beside the published tables
    assert "register_row" not in published


def test_the_migrations_build_the_schema_that_schema_py_models(db_url):
    """What Alembic's comparison sees (columns, types, nullability, indexes) and what it
    does not: primary keys and, on SQLite, which tables are WITHOUT ROWID."""
    upgrade(db_url)
    engine = get_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_schemas": True,
                                                         "compare_type": True})
        assert compare_metadata(context, metadata) == []
    inspector = sa.inspect(engine)
    for table in metadata.tables.values():
        stored = inspector.get_pk_constraint(table.name, schema=table.schema)
        assert stored["constrained_columns"] == [c.name for c in table.primary_key], table.name
    if is_sqlite(db_url):
        with engine.connect() as conn:
            without_rowid = {name for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM microdata.sqlite_master WHERE type = 'table' UNION ALL "
                "SELECT name, sql FROM main.sqlite_master WHERE type = 'table'")
                             if sql.rstrip().upper().endswith("WITHOUT ROWID")}
        assert without_rowid == {t.name for t in metadata.tables.values()
                                 if t.dialect_options["sqlite"]["with_rowid"] is False}


def test_the_category_values_keep_their_order_because_sqlite_stores_positions():
    """SQLite stores a register category as its position in these tuples
    (`trialmon.schema.Coded`, migration 0012): a value may be appended, but moving or
    removing one would make every stored code read as another value."""
    from etl import contract
    from trialmon import domain

    stored = {
        "STATUS_CODES": ("unemployed", "laid_off", "short_week", "service", "employed_open",
                         "other"),
        "SERVICE_TYPES": ("pay_subsidy", "labour_training", "coaching", "work_trial",
                          "self_motivated_study", "rehabilitative_work", "job_alternation",
                          "start_grant", "other_service"),
        "RESPONSIBILITIES": ("trial", "te_office"),
        "SEXES": ("M", "F"),
    }
    for name, values in stored.items():
        current = getattr(domain, name)
        assert current[:len(values)] == values, (
            f"trialmon.domain.{name}: stored codes are positions in it; append new values "
            "at its end, never reorder or remove one (or write a migration that recodes)")
        assert getattr(contract, name) is current  # one home: the contract imports it


# rows as they stood before migration 0010 (SQLite: dates as ADBC wrote them, ISO text):
# a null date, the earliest a 4-digit year allows, one before 1970 and the epoch itself;
# the category columns' text, among it a null service type (codes after migration 0012)
OLD_ROWS = [
    ("2024-02", "B", "091", 40, "F", True, False, "unemployed", None, "trial",
     dt.date(1, 1, 1), dt.date(1969, 12, 31), None, dt.date(1970, 1, 1), dt.date(2024, 2, 29)),
    ("2024-01", "A", "049", 31, "M", False, True, "service", "coaching", "te_office",
     dt.date(2023, 1, 5), None, dt.date(1900, 1, 1), None, None),
    ("2024-02", "A", "049", 31, "M", False, True, "other", None, "te_office",
     dt.date(2023, 1, 5), None, None, None, dt.date(2024, 2, 1)),
]


def test_migrations_0010_and_0012_keep_every_row_and_their_downgrades_too(db_url,
                                                                           monkeypatch):
    import trialmon.db

    config = alembic_config(db_url)
    command.upgrade(config, "0008")
    sqlite = is_sqlite(db_url)
    names = [c.name for c in register_row.columns]
    insert = sa.text(f"INSERT INTO microdata.register_row ({', '.join(names)}) "
                     f"VALUES ({', '.join(f':{n}' for n in names)})")
    with get_engine(db_url).begin() as conn:
        conn.execute(insert, [dict(zip(names, (*row, 1), strict=True)) | (
            {n: v.isoformat() for n, v in zip(names, row, strict=False)
             if isinstance(v, dt.date)} if sqlite else {}) for row in OLD_ROWS])

    # as a server's start upgrades (the thresholds of the VACUUM after it lowered to
    # these few rows' pages)
    monkeypatch.setattr(trialmon.db, "FREE_SHARE", 0)
    monkeypatch.setattr(trialmon.db, "FREE_BYTES", 0)
    trialmon.db.migrate(db_url)
    expected = sorted((*row, 1) for row in OLD_ROWS)
    with get_engine(db_url).connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.select(register_row).order_by(
            register_row.c.month, register_row.c.person_id))] == expected
        if sqlite:
            assert conn.exec_driver_sql(
                "SELECT registered_on, unemployment_start, initial_interview_on, "
                "plan_updated_on FROM microdata.register_row WHERE person_id = 'B'").one() == (
                -719162, -1, None, 0)  # days since 1970-01-01
            # sex, status, service_type, responsibility: positions in trialmon.domain's
            assert [tuple(r) for r in conn.exec_driver_sql(
                "SELECT sex, status, service_type, responsibility, typeof(status) "
                "FROM microdata.register_row ORDER BY month, person_id")] == [
                (0, 3, 2, 1, "integer"),  # M, service, coaching, te_office
                (0, 5, None, 1, "integer"),  # M, other, null, te_office
                (1, 0, None, 0, "integer")]  # F, unemployed, null, trial
            # the old table's pages went back to the file system
            assert conn.exec_driver_sql("PRAGMA microdata.freelist_count").scalar() == 0
    read = read_register_rows(db_url, ["2024-01", "2024-02"]).sort("month", "person_id")
    assert read.rows() == [tuple(v for n, v in zip(names, row, strict=True)
                                 if n in read.columns) for row in expected]
    assert read.schema["registered_on"] == pl.Date

    command.downgrade(config, "0008")
    with get_engine(db_url).connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT * FROM microdata.register_row ORDER BY month, person_id").all()
    indexes = sa.inspect(get_engine(db_url)).get_indexes("register_row", schema="microdata")
    old = [tuple(v.isoformat() if sqlite and isinstance(v, dt.date) else v for v in row)
           for row in expected]
    assert [tuple(r) for r in rows] == old  # SQLite: as text again (booleans as 0/1 = bool)
    assert [(i["name"], i["column_names"]) for i in indexes] == [
        ("ix_register_row_month", ["month"])]


def test_migration_0012_stops_at_a_category_value_it_cannot_code(sqlite_url):
    """A hand-edited row with a value outside trialmon.domain's would be coded as null:
    the migration refuses it, naming the row, and the database stays at 0011."""
    config = alembic_config(sqlite_url)
    command.upgrade(config, "0011")
    row = dict(zip([c.name for c in register_row.columns], (*OLD_ROWS[2], 1), strict=True))
    with get_engine(sqlite_url).begin() as conn:
        conn.execute(sa.text("INSERT INTO microdata.register_row VALUES ("
                             + ", ".join(f":{n}" for n in row) + ")"),
                     row | {"registered_on": 19362, "last_review_on": 19754,
                            "service_type": "teleportation"})
    with pytest.raises(RuntimeError, match="'A'.*teleportation"):
        command.upgrade(config, "0012")
    with get_engine(sqlite_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0011"
        assert conn.exec_driver_sql(
            "SELECT service_type FROM microdata.register_row").scalar() == "teleportation"


def test_sqlite_keeps_microdata_in_its_own_file(sqlite_url):
    upgrade(sqlite_url)
    published, microdata = sqlite_paths(sqlite_url)
    assert published.exists() and microdata.exists()
    import sqlite3

    with sqlite3.connect(published) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert "indicator_value" in names and "register_row" not in names
    with sqlite3.connect(microdata) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert "register_row" in names


def test_a_postgresql_role_with_published_tables_only_serves_the_dashboard(pg_url):
    """The production split: the dashboard's role reads `public` and cannot read microdata."""
    import psycopg
    from sqlalchemy.engine import make_url

    from dashboard.app import create_app
    from tests.test_dashboard_fixture import publish_fixture

    publish_fixture(pg_url)
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS dashboard_reader")
        conn.execute("CREATE ROLE dashboard_reader LOGIN")
        conn.execute("GRANT USAGE ON SCHEMA public TO dashboard_reader")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO dashboard_reader")
    reader_url = make_url(pg_url).set(username="dashboard_reader").render_as_string(False)
    upgrade(reader_url)  # what `trialmon serve` does first: a no-op on an up-to-date database

    with get_engine(reader_url).connect() as conn, pytest.raises(
            sa.exc.ProgrammingError, match="permission denied"):
        conn.exec_driver_sql("SELECT count(*) FROM microdata.register_row")

    client = create_app(reader_url).server.test_client()
    answer = client.get("/api/v1/indicators?indicator=unemployed&area=SSS&format=json")
    assert answer.status_code == 200
    assert "unemployed" in answer.get_data(as_text=True)
    assert client.get("/en/").status_code == 200
