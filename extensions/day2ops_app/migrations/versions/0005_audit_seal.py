"""the record of `day2ops audit seal`: legacy entries signed with the audit key

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
        "audit_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sealed_by", sa.String(length=255), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("legacy_entries", sa.Integer(), nullable=False),
        sa.Column("legacy_head_seq", sa.Integer(), nullable=False),
        sa.Column("legacy_head_hash", sa.String(length=64), nullable=False),
        sa.Column("filled", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("audit_seals")
