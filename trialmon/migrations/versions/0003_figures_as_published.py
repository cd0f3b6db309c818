"""figures as published: publication record and the history of replaced cells

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_in", sa.Integer(), nullable=True))
    op.create_table(
        "publication",
        sa.Column("publication_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("cells_added", sa.Integer(), nullable=False),
        sa.Column("cells_changed", sa.Integer(), nullable=False),
        sa.Column("cells_removed", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("membership_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("publication_id"),
    )
    op.create_table(
        "publication_month",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("cells_added", sa.Integer(), nullable=False),
        sa.Column("cells_changed", sa.Integer(), nullable=False),
        sa.Column("cells_removed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("publication_id", "month"),
    )
    op.create_table(
        "indicator_value_history",
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("population", sa.String(length=16), nullable=False),
        sa.Column("group", sa.String(length=24), nullable=False),
        sa.Column("area_type", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=12), nullable=True),
        sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_in", sa.Integer(), nullable=False),
        sa.Column("replaced_in", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("indicator", "population", "group", "area_type", "area_code",
                                "month", "replaced_in"),
    )
    op.create_index("ix_indicator_value_history_replaced_in", "indicator_value_history",
                    ["replaced_in", "month"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_indicator_value_history_replaced_in",
                  table_name="indicator_value_history")
    op.drop_table("indicator_value_history")
    op.drop_table("publication_month")
    op.drop_table("publication")
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        batch_op.drop_column("published_in")
