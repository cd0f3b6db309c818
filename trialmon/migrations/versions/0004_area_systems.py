"""area systems: confidence/completeness of areas and memberships, loaded area systems

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("area") as batch_op:
        batch_op.add_column(sa.Column("confidence", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("completeness", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("area_member") as batch_op:
        batch_op.add_column(sa.Column("confidence", sa.String(length=16), nullable=True))
    op.create_table(
        "area_system",
        sa.Column("area_type", sa.String(length=16), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("areas", sa.Integer(), nullable=False),
        sa.Column("memberships", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("area_type"),
    )


def downgrade() -> None:
    op.drop_table("area_system")
    with op.batch_alter_table("area_member") as batch_op:
        batch_op.drop_column("confidence")
    with op.batch_alter_table("area") as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("completeness")
        batch_op.drop_column("confidence")
