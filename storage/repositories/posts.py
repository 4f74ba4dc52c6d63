"""Listings (posts): open, edit, close, expire, remind; kept after they close."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from bot.cogs.posts.records import CloseReason, Post, PostStatus
from storage.models import (
    PostRow,
)
from storage.repositories.base import Repository, _count


def post_record(row: PostRow) -> Post:
    """A post from its row."""
    return Post(
        id=row.id,
        group_id=row.group_id,
        kind=row.kind,
        author_id=row.author_id,
        author_name=row.author_name,
        fields=dict(row.fields or {}),
        channel_id=row.channel_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        status=PostStatus(row.status),
        close_reason=CloseReason(row.close_reason) if row.close_reason else None,
        created_at=row.created_at,
        expires_at=row.expires_at,
        event_at=row.event_at,
        closed_at=row.closed_at,
        reminded_at=row.reminded_at,
    )


class SqlPostRepository(Repository):
    """Posts made through forms; closing only changes the status."""

    async def add(self, post: Post) -> int:
        """Store a new post; returns its id."""
        row = PostRow(
            group_id=post.group_id,
            kind=post.kind,
            author_id=post.author_id,
            author_name=post.author_name,
            fields=dict(post.fields),
            channel_id=post.channel_id,
            message_id=post.message_id,
            thread_id=post.thread_id,
            status=post.status,
            created_at=post.created_at,
            expires_at=post.expires_at,
            event_at=post.event_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, group_id: str, post_id: int) -> Post | None:
        """One post."""
        row = await self.session.get(PostRow, post_id)
        return post_record(row) if row is not None and row.group_id == group_id else None

    async def update(self, post: Post) -> None:
        """Store changed fields, message references and expiry."""
        await self.session.execute(
            update(PostRow)
            .where(PostRow.id == post.id, PostRow.group_id == post.group_id)
            .values(
                fields=dict(post.fields),
                channel_id=post.channel_id,
                message_id=post.message_id,
                thread_id=post.thread_id,
                expires_at=post.expires_at,
                event_at=post.event_at,
            )
        )

    async def open_posts(self, group_id: str, kind: str | None = None) -> list[Post]:
        """Open posts, oldest first."""
        query = select(PostRow).where(
            PostRow.group_id == group_id, PostRow.status == PostStatus.OPEN.value
        )
        if kind is not None:
            query = query.where(PostRow.kind == kind)
        rows = await self.session.scalars(query.order_by(PostRow.created_at, PostRow.id))
        return [post_record(r) for r in rows]

    async def close(self, group_id: str, post_id: int, reason: CloseReason, now: datetime) -> bool:
        """Close an open post; a second close changes nothing and returns False."""
        result = await self.session.execute(
            update(PostRow)
            .where(
                PostRow.id == post_id,
                PostRow.group_id == group_id,
                PostRow.status == PostStatus.OPEN.value,
            )
            .values(status=PostStatus.CLOSED.value, close_reason=reason.value, closed_at=now)
        )
        return _count(result)

    async def due_to_close(self, group_id: str, now: datetime) -> list[Post]:
        """Open posts whose expiry has passed."""
        rows = await self.session.scalars(
            select(PostRow)
            .where(
                PostRow.group_id == group_id,
                PostRow.status == PostStatus.OPEN.value,
                PostRow.expires_at.is_not(None),
                PostRow.expires_at <= now,
            )
            .order_by(PostRow.id)
        )
        return [post_record(r) for r in rows]

    async def due_reminders(self, group_id: str, start: datetime, end: datetime) -> list[Post]:
        """Open events in [start, end) not reminded yet."""
        rows = await self.session.scalars(
            select(PostRow)
            .where(
                PostRow.group_id == group_id,
                PostRow.kind == "event",
                PostRow.status == PostStatus.OPEN.value,
                PostRow.reminded_at.is_(None),
                PostRow.event_at >= start,
                PostRow.event_at < end,
            )
            .order_by(PostRow.event_at)
        )
        return [post_record(r) for r in rows]

    async def mark_reminded(self, group_id: str, post_id: int, now: datetime) -> bool:
        """Record a reminder once; the column makes the reminder idempotent."""
        result = await self.session.execute(
            update(PostRow)
            .where(
                PostRow.id == post_id,
                PostRow.group_id == group_id,
                PostRow.reminded_at.is_(None),
            )
            .values(reminded_at=now)
        )
        return _count(result)

    async def created_between(
        self, group_id: str, start: datetime, end: datetime
    ) -> dict[str, int]:
        """Posts created in [start, end) per kind."""
        rows = await self.session.execute(
            select(PostRow.kind, func.count())
            .where(
                PostRow.group_id == group_id,
                PostRow.created_at >= start,
                PostRow.created_at < end,
            )
            .group_by(PostRow.kind)
        )
        return {kind: int(n) for kind, n in rows}
