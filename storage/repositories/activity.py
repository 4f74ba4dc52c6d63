"""Messages counted without their text."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.prompts_records import ActivityRecord
from storage.models import ActivityRow
from storage.repositories.base import Repository


class SqlActivityRepository(Repository):
    """Rows of the activity table."""

    async def add(self, record: ActivityRecord) -> None:
        """Count one message."""
        self.session.add(
            ActivityRow(
                group_id=record.group_id,
                user_id=record.user_id,
                author_role=record.author_role,
                category_key=record.category_key,
                channel_id=record.channel_id,
                thread_id=record.thread_id,
                is_reply=record.is_reply,
                created_at=record.created_at,
            )
        )
        await self.session.flush()

    async def count_by_role(self, group_id: str, thread_id: str) -> dict[str, int]:
        """Replies in a thread per author role."""
        rows = await self.session.execute(
            select(ActivityRow.author_role, func.count())
            .where(ActivityRow.group_id == group_id, ActivityRow.thread_id == thread_id)
            .group_by(ActivityRow.author_role)
        )
        return {role: int(n) for role, n in rows.all()}
