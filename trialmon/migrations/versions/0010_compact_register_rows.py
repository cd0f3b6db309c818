"""The register rows keyed by (month, person_id); on SQLite WITHOUT ROWID, dates as day numbers

Revision ID: 0010
Revises: 0009

Why: ``microdata.register_row`` is the bulk of the embedded demo's disk (9.37 M rows:
921 MB of table plus 155 MB of ``ix_register_row_month``, in a microdata file of
1,505 MB). Its rows are written and read a month at a time, and (month, person_id) is
unique, so a primary key on it serves every month selection through its prefix and
the month index goes. On SQLite the table becomes WITHOUT ROWID (clustered on the key,
which is then stored once, in place of a rowid and a separate index) and its five
dates are stored as INTEGER days since 1970-01-01 (``trialmon.schema.DayNumber``: 2
bytes (3 before 1880 or after 2059) instead of 10 bytes of ISO text, and Arrow's own
date value). Measured on the default demo (9.37 M rows): built anew, register_row
takes 706 MB (was 921 MB + 155 MB of index) and the microdata file 1,134 MB (was
1,505 MB); migrated, the file is 1,013 MB (register_row 627 MB: VACUUM packs its
pages fuller than the loads do), in 31-34 s on a shared two-core machine.
PostgreSQL keeps its DATE columns; it gets the key and loses the month index, which
costs there: the key is a unique index of its own (305 MB for 7.9 M rows, where the
deduplicated month index took 52 MB) and slows a bulk load (docs/DEVELOPING.md).

SQLite rebuilds the table (rows copied in key order, which the old month index gives
a month at a time), converting ISO text dates with julianday(); nulls stay null. The
old table's pages are left free in the file; `trialmon.db.migrate` vacuums it after
the upgrade (VACUUM cannot run inside the migrations' transaction).
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLE = "microdata.register_row"
_DATES = ("registered_on", "unemployment_start", "initial_interview_on", "plan_updated_on",
          "last_review_on")
_OTHERS = ("month", "person_id", "municipality_code", "age", "sex", "foreign_language",
           "earnings_related", "status", "service_type", "responsibility")
_JULIAN_1970 = 2440587.5  # julianday('1970-01-01')


def _columns(date_type: str) -> str:
    return f"""
        month VARCHAR(7) NOT NULL, person_id VARCHAR(64) NOT NULL,
        municipality_code VARCHAR(3) NOT NULL, age SMALLINT NOT NULL, sex VARCHAR(1) NOT NULL,
        foreign_language BOOLEAN NOT NULL, earnings_related BOOLEAN NOT NULL,
        status VARCHAR(16) NOT NULL, service_type VARCHAR(24),
        responsibility VARCHAR(10) NOT NULL, registered_on {date_type} NOT NULL,
        unemployment_start {date_type}, initial_interview_on {date_type},
        plan_updated_on {date_type}, last_review_on {date_type}, vintage_id INTEGER NOT NULL"""


def _rebuild(create_suffix: str, date_type: str, date_expression: str, order: str) -> None:
    """register_row copied into a new table of the given form, then renamed into place."""
    op.execute(f"CREATE TABLE {_TABLE}__new ({_columns(date_type)}{create_suffix}")
    dates = ", ".join(date_expression.format(c) for c in _DATES)
    op.execute(f"INSERT INTO {_TABLE}__new SELECT {', '.join(_OTHERS)}, {dates}, vintage_id "
               f"FROM {_TABLE}{order}")
    op.execute(f"DROP TABLE {_TABLE}")
    op.execute(f"ALTER TABLE {_TABLE}__new RENAME TO register_row")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_index("ix_register_row_month", table_name="register_row", schema="microdata")
        op.create_primary_key("register_row_pkey", "register_row", ["month", "person_id"],
                              schema="microdata")
        return
    _rebuild(", PRIMARY KEY (month, person_id)) WITHOUT ROWID", "INTEGER",
             f"CAST(julianday({{0}}) - {_JULIAN_1970} AS INTEGER)",
             " ORDER BY month, person_id")  # the month index, then a sort per month


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("register_row_pkey", "register_row", schema="microdata",
                           type_="primary")
    else:
        _rebuild(")", "DATE", f"date({{0}} + {_JULIAN_1970})", " ORDER BY month")
    op.create_index("ix_register_row_month", "register_row", ["month"], unique=False,
                    schema="microdata")
