"""SQLite: the municipal measures as a WITHOUT ROWID table

Revision ID: 0006
Revises: 0005

Why: ``microdata.municipal_measure`` is written and read by its key's prefix
(month, municipality) only. As an ordinary (rowid) table SQLite stored every key
twice -- in the table and again in the automatic primary-key index. A WITHOUT ROWID
table is clustered on its primary key and stores it once: the demo's microdata file
shrinks from 751 MB to 496 MB. ``indicator_value`` stays a rowid table: it has a
secondary month index, which in a WITHOUT ROWID table would repeat the whole key
(measured: no saving). PostgreSQL has no such option and needs nothing here.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = {
    # table: (schema prefix, columns DDL, primary key)
    "municipal_measure": ("microdata.", """
        month VARCHAR(7) NOT NULL, municipality_code VARCHAR(3) NOT NULL,
        population VARCHAR(16) NOT NULL, "group" VARCHAR(24) NOT NULL,
        measure VARCHAR(32) NOT NULL, value INTEGER, vintage DATETIME NOT NULL""",
        'month, municipality_code, population, "group", measure'),
}


def _rebuild(table: str, with_rowid: bool) -> None:
    prefix, columns, key = _TABLES[table]
    suffix = "" if with_rowid else " WITHOUT ROWID"
    op.execute(f"CREATE TABLE {prefix}{table}__new ({columns}, PRIMARY KEY ({key})){suffix}")
    op.execute(f"INSERT INTO {prefix}{table}__new SELECT * FROM {prefix}{table}")
    op.execute(f"DROP TABLE {prefix}{table}")
    op.execute(f"ALTER TABLE {prefix}{table}__new RENAME TO {table}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        _rebuild(table, with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _TABLES:
        _rebuild(table, with_rowid=True)

