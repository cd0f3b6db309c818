"""indicator_value keyed month first; SQLite: clustered on that key (WITHOUT ROWID)

Revision ID: 0009
Revises: 0008

Why: the key was (indicator, population, group, area_type, area_code, month), so one
month's cells lay one in every run of 60+ months: publishing a new month touched nearly
every leaf page of the key (on the five-year national database 356 MB of SQLite WAL for
73k cells, ~1 s of checkpoint at commit), and a month index (``ix_indicator_value_month``)
was kept for selections by month. With the month first, a month is one contiguous range
of the key: a new month is appended, the month index goes (the key's prefix serves those
selections) and, on SQLite, the table is clustered on its key (WITHOUT ROWID), which
stores every key once instead of in the table and again in the key's index. Time series
(one area, all months) are read through ``ix_indicator_value_area``.

Measured on the default demo database (4.92 M cells): table + key index + month index +
area index 552 + 393 + 89 + 201 = 1,235 MB before; 595 + 342 = 937 MB after (the area
index grows: a secondary index of a WITHOUT ROWID table carries the whole key).
PostgreSQL keeps a heap table: the key's index is rebuilt in the new order and the month
index dropped.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = """indicator VARCHAR(40) NOT NULL, population VARCHAR(16) NOT NULL,
    "group" VARCHAR(24) NOT NULL, area_type VARCHAR(16) NOT NULL,
    area_code VARCHAR(16) NOT NULL, month VARCHAR(7) NOT NULL, value FLOAT,
    numerator FLOAT, denominator FLOAT, flag VARCHAR(12), vintage DATETIME NOT NULL,
    published_in INTEGER"""
_MONTH_FIRST = 'month, indicator, population, "group", area_type, area_code'
_INDICATOR_FIRST = 'indicator, population, "group", area_type, area_code, month'
_AREA_INDEX = "CREATE INDEX ix_indicator_value_area ON indicator_value (area_code, indicator, month)"


def _rebuild_sqlite(key: str, with_rowid: bool) -> None:
    suffix = "" if with_rowid else " WITHOUT ROWID"
    op.execute(f"CREATE TABLE indicator_value__new ({_COLUMNS}, PRIMARY KEY ({key})){suffix}")
    op.execute(f"INSERT INTO indicator_value__new SELECT * FROM indicator_value ORDER BY {key}")
    op.execute("DROP TABLE indicator_value")  # its indexes go with it
    op.execute("ALTER TABLE indicator_value__new RENAME TO indicator_value")
    op.execute(_AREA_INDEX)


def _rekey_postgresql(key: str) -> None:
    op.execute("ALTER TABLE indicator_value DROP CONSTRAINT indicator_value_pkey")
    op.execute(f"ALTER TABLE indicator_value ADD CONSTRAINT indicator_value_pkey "
               f"PRIMARY KEY ({key})")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_MONTH_FIRST, with_rowid=False)
    else:
        op.drop_index("ix_indicator_value_month", table_name="indicator_value")
        _rekey_postgresql(_MONTH_FIRST)
        op.execute("ANALYZE indicator_value")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(_INDICATOR_FIRST, with_rowid=True)
    else:
        _rekey_postgresql(_INDICATOR_FIRST)
    op.create_index("ix_indicator_value_month", "indicator_value", ["month"], unique=False)
