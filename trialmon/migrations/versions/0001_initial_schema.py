"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:30:59.566721
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area",
        sa.Column("area_type", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("name_fi", sa.Text(), nullable=False),
        sa.Column("name_sv", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("trial_from", sa.String(length=7), nullable=True),
        sa.Column("trial_to", sa.String(length=7), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("area_type", "area_code", "valid_from"),
    )
    op.create_table(
        "area_member",
        sa.Column("area_type", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("municipality_code", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("area_type", "area_code", "municipality_code", "valid_from"),
    )
    op.create_table(
        "indicator_value",
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
        sa.PrimaryKeyConstraint(
            "indicator", "population", "group", "area_type", "area_code", "month"
        ),
    )
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        batch_op.create_index("ix_indicator_value_month", ["month"], unique=False)

    op.create_table(
        "municipal_measure",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("municipality_code", sa.String(length=3), nullable=False),
        sa.Column("population", sa.String(length=16), nullable=False),
        sa.Column("group", sa.String(length=24), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", "municipality_code", "population", "group", "measure"),
        schema="microdata",
    )
    op.create_table(
        "register_row",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("municipality_code", sa.String(length=3), nullable=False),
        sa.Column("age", sa.SmallInteger(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("foreign_language", sa.Boolean(), nullable=False),
        sa.Column("earnings_related", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("service_type", sa.String(length=24), nullable=True),
        sa.Column("responsibility", sa.String(length=10), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("unemployment_start", sa.Date(), nullable=True),
        sa.Column("initial_interview_on", sa.Date(), nullable=True),
        sa.Column("plan_updated_on", sa.Date(), nullable=True),
        sa.Column("last_review_on", sa.Date(), nullable=True),
        sa.Column("vintage_id", sa.Integer(), nullable=False),
        schema="microdata",
    )
    with op.batch_alter_table("register_row", schema="microdata") as batch_op:
        batch_op.create_index("ix_register_row_month", ["month"], unique=False)

    op.create_table(
        "vintage",
        sa.Column("vintage_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("rows_added", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_removed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_changed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("vintage_id"),
        schema="microdata",
    )
    with op.batch_alter_table("vintage", schema="microdata") as batch_op:
        batch_op.create_index(batch_op.f("ix_microdata_vintage_month"), ["month"], unique=False)

    op.create_table(
        "month_status",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("month", "source"),
    )
    op.create_table(
        "statfin_value",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("month", "area_code", "measure"),
    )


def downgrade() -> None:
    op.drop_table("statfin_value")
    op.drop_table("month_status")
    with op.batch_alter_table("vintage", schema="microdata") as batch_op:
        batch_op.drop_index(batch_op.f("ix_microdata_vintage_month"))

    op.drop_table("vintage", schema="microdata")
    with op.batch_alter_table("register_row", schema="microdata") as batch_op:
        batch_op.drop_index("ix_register_row_month")

    op.drop_table("register_row", schema="microdata")
    op.drop_table("municipal_measure", schema="microdata")
    with op.batch_alter_table("indicator_value", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_value_month")

    op.drop_table("indicator_value")
    op.drop_table("area_member")
    op.drop_table("area")
