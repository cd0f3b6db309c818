"""The schema is created by Alembic on both backends and keeps microdata apart."""

import pytest
import sqlalchemy as sa

from shell.pipeline import prepare_database as upgrade
from trialmon.db import get_engine, sqlite_paths
from trialmon.schema import metadata


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
