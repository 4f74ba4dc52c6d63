"""privacy: the bot's messages that name a member, so erasure can reach them

Revision ID: 0003
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("replacement", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_messages", schema=None) as batch_op:
        batch_op.create_index("ix_member_messages_who", ["group_id", "user_id"], unique=False)
        batch_op.create_index(
            "ix_member_messages_where", ["group_id", "channel_id", "message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_member_messages_where")
        batch_op.drop_index("ix_member_messages_who")
    op.drop_table("member_messages")
