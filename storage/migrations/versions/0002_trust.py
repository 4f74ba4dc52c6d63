"""trust: redemption state, leased and fenced job claims, per-row grant-queue claims

Revision ID: 0002
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing redemptions took effect before this change: they are "granted" (fail closed).
    with op.batch_alter_table("invitation_uses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="granted")
        )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("grant_queue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_grant_queue_pending", ["group_id", "status", "id"])


def downgrade() -> None:
    with op.batch_alter_table("grant_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_grant_queue_pending")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("token")
    with op.batch_alter_table("invitation_uses", schema=None) as batch_op:
        batch_op.drop_column("state")
