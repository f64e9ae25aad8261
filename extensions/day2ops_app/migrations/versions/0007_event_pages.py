"""a run's events a page at a time: an index on events (execution_id, counter)

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_execution_id_counter", "events", ["execution_id", "counter"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_execution_id_counter", table_name="events")
