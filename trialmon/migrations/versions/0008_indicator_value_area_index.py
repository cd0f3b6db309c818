"""An index on indicator_value by area: (area_code, indicator, month)

Revision ID: 0008
Revises: 0006

Why: the HTTP API and the downloads page select cells by area, indicator and months,
usually without population or group. The primary key starts (indicator, population,
group, ...), so such a selection scanned every cell of the indicator (the demo database:
153,792 rows read for 288 returned, bench/bench_serve.py's API query). With this index
the database seeks each (area, indicator) pair and reads the month range (SQLite uses it
to count such a selection; for an ordered page it still prefers the key order, which
needs no sort). PostgreSQL gets fresh statistics here and after every publication
(indicators/engine.py); SQLite none: its sampled statistics misled it elsewhere.
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_indicator_value_area", "indicator_value",
                    ["area_code", "indicator", "month"], unique=False)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("ANALYZE indicator_value")


def downgrade() -> None:
    op.drop_index("ix_indicator_value_area", table_name="indicator_value")
