"""The municipal counts' data vintage once per (month, measure): table measure_vintage

Revision ID: 0011
Revises: 0010

Why: every row of ``microdata.municipal_measure`` carried the vintage of its (month,
measure) -- the same timestamp on each of the ~63,000 municipal rows of a measure in a
month (on SQLite 26 bytes of text per row). It moves to its own table, one row per month
and measure, written in the same transaction as the counts. Measured on the default demo
(4.54 M municipal rows): municipal_measure 429 MB -> 294 MB.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_KEY = 'month, municipality_code, population, "group", measure'
_COLUMNS = """month VARCHAR(7) NOT NULL, municipality_code VARCHAR(3) NOT NULL,
    population VARCHAR(16) NOT NULL, "group" VARCHAR(24) NOT NULL,
    measure VARCHAR(32) NOT NULL, value INTEGER"""


def _sqlite_rebuild(with_vintage: bool) -> None:
    """SQLite: municipal_measure rebuilt (WITHOUT ROWID, as migration 0006) with or without
    its vintage column, which comes back from measure_vintage."""
    vintage_column = ", vintage DATETIME NOT NULL" if with_vintage else ""
    op.execute(f"CREATE TABLE microdata.municipal_measure__new ({_COLUMNS}{vintage_column}, "
               f"PRIMARY KEY ({_KEY})) WITHOUT ROWID")
    if with_vintage:
        op.execute("INSERT INTO microdata.municipal_measure__new SELECT m.month, "
                   'm.municipality_code, m.population, m."group", m.measure, m.value, v.vintage '
                   "FROM microdata.municipal_measure AS m JOIN microdata.measure_vintage AS v "
                   "ON v.month = m.month AND v.measure = m.measure")
    else:
        op.execute(f"INSERT INTO microdata.municipal_measure__new SELECT {_KEY}, value "
                   "FROM microdata.municipal_measure")
    op.execute("DROP TABLE microdata.municipal_measure")
    op.execute("ALTER TABLE microdata.municipal_measure__new RENAME TO municipal_measure")


def upgrade() -> None:
    op.create_table(
        "measure_vintage",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", "measure"),
        schema="microdata",
    )
    op.execute("INSERT INTO microdata.measure_vintage (month, measure, vintage) "
               "SELECT month, measure, max(vintage) FROM microdata.municipal_measure "
               "GROUP BY month, measure")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(with_vintage=False)
    else:
        op.drop_column("municipal_measure", "vintage", schema="microdata")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(with_vintage=True)
    else:
        op.add_column("municipal_measure",
                      sa.Column("vintage", sa.DateTime(timezone=True), nullable=True),
                      schema="microdata")
        op.execute("UPDATE microdata.municipal_measure AS m SET vintage = v.vintage "
                   "FROM microdata.measure_vintage AS v "
                   "WHERE v.month = m.month AND v.measure = m.measure")
        op.alter_column("municipal_measure", "vintage", nullable=False, schema="microdata")
    op.drop_table("measure_vintage", schema="microdata")
