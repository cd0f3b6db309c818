"""The schema is created by Alembic on both backends and keeps microdata apart."""

import sqlalchemy as sa

from trialmon.db import get_engine, sqlite_paths, upgrade
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
