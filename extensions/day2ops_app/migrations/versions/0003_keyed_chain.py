"""the audit chain keyed (HMAC) with a key id

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
    with op.batch_alter_table("audit_chain") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("execution_transitions") as batch:
        batch.add_column(sa.Column("rc", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("execution_transitions") as batch:
        batch.drop_column("rc")
    with op.batch_alter_table("audit_chain") as batch:
        batch.drop_column("key_id")
