"""effect estimates (published difference-in-differences results)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "effect_estimate",
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("population", sa.String(length=16), nullable=False),
        sa.Column("group", sa.String(length=24), nullable=False),
        sa.Column("areas", sa.String(length=200), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("period_from", sa.String(length=7), nullable=True),
        sa.Column("period_to", sa.String(length=7), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("std_error", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("n_treated", sa.Integer(), nullable=False),
        sa.Column("n_control", sa.Integer(), nullable=False),
        sa.Column("pre_trend_p_value", sa.Float(), nullable=True),
        sa.Column("event_study", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("indicator", "population", "group", "areas", "window"),
    )


def downgrade() -> None:
    op.drop_table("effect_estimate")
