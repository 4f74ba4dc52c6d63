"""mail invitations: a roster entry's personal single-use code and its emails

Revision ID: 0010
Revises: 0002
Create Date: 2026-12-02 01:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("roster_entry_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emails", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["roster_entry_id"], ["roster_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invitation_id"),
        sa.UniqueConstraint("roster_entry_id"),
    )
    op.create_index(
        op.f("ix_mail_invitations_group_id"), "mail_invitations", ["group_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_mail_invitations_group_id"), table_name="mail_invitations")
    op.drop_table("mail_invitations")
