"""computation provenance: the disclosure rule stored with each computation

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "computation",
        sa.Column("computation_id", sa.String(length=32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("method_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("computation_id"),
    )
    with op.batch_alter_table("month_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("computation_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("month_status", schema=None) as batch_op:
        batch_op.drop_column("computation_id")
    op.drop_table("computation")
