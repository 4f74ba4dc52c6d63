"""Listings (posts) and activity counts; the stats are aggregated by the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, String, bindparam, case, func, insert, literal, select, text, update

from bot.activity import Pending
from bot.posts_records import ActivityCount, ActivitySummary, Post
from storage.models import (
    ActivityRow,
    CategoryRow,
    MemberRoleRow,
    MemberRow,
    PostRow,
    PromptRunRow,
    UTCDateTime,
)
from storage.repositories.base import Repository, _count
from storage.repositories.runtime import SqlKeyValue

# The role an author is counted under when they hold several: the most specific first.
_ROLE_ORDER = ("staff", "alumni", "student", "industry")


_ROLE_CASE = " ".join(f"WHEN '{key}' THEN {i}" for i, key in enumerate(_ROLE_ORDER))
_INSERT_MANY = text(
    "INSERT INTO activity (group_id, user_id, author_role, category_key, channel_id, thread_id,"
    " is_reply, created_at) VALUES (:g, :u, COALESCE((SELECT role_key FROM member_roles"
    " WHERE group_id = :g AND user_id = :uk AND role_key IN ("
    + ", ".join(f"'{k}'" for k in _ROLE_ORDER)
    + f") ORDER BY CASE role_key {_ROLE_CASE} END LIMIT 1), 'member'),"
    " COALESCE(:cat, (SELECT key FROM categories WHERE group_id = :g AND channel_id = :c"
    " LIMIT 1)), :c, :t, :rep, :at)"
).bindparams(
    # Typed binds: asyncpg needs one type per parameter, and :g and :uk appear twice.
    bindparam("g", type_=String()),
    bindparam("u", type_=String()),
    bindparam("uk", type_=String()),
    bindparam("c", type_=String()),
    bindparam("t", type_=String()),
    bindparam("cat", type_=String()),
    bindparam("at", type_=UTCDateTime()),
    bindparam("rep", type_=Boolean()),
)


def _post(row: PostRow) -> Post:
    return Post(
        id=row.id,
        group_id=row.group_id,
        kind=row.kind,
        author_id=row.author_id,
        fields=dict(row.fields or {}),
        channel_id=row.channel_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        status=row.status,
        close_reason=row.close_reason,
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
        return _post(row) if row is not None and row.group_id == group_id else None

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
        query = select(PostRow).where(PostRow.group_id == group_id, PostRow.status == "open")
        if kind is not None:
            query = query.where(PostRow.kind == kind)
        rows = await self.session.scalars(query.order_by(PostRow.created_at, PostRow.id))
        return [_post(r) for r in rows]

    async def close(self, group_id: str, post_id: int, reason: str, now: datetime) -> bool:
        """Close an open post; a second close changes nothing and returns False."""
        result = await self.session.execute(
            update(PostRow)
            .where(PostRow.id == post_id, PostRow.group_id == group_id, PostRow.status == "open")
            .values(status="closed", close_reason=reason, closed_at=now)
        )
        return _count(result)

    async def due_to_close(self, group_id: str, now: datetime) -> list[Post]:
        """Open posts whose expiry has passed."""
        rows = await self.session.scalars(
            select(PostRow)
            .where(
                PostRow.group_id == group_id,
                PostRow.status == "open",
                PostRow.expires_at.is_not(None),
                PostRow.expires_at <= now,
            )
            .order_by(PostRow.id)
        )
        return [_post(r) for r in rows]

    async def due_reminders(self, group_id: str, start: datetime, end: datetime) -> list[Post]:
        """Open events in [start, end) not reminded yet."""
        rows = await self.session.scalars(
            select(PostRow)
            .where(
                PostRow.group_id == group_id,
                PostRow.kind == "event",
                PostRow.status == "open",
                PostRow.reminded_at.is_(None),
                PostRow.event_at >= start,
                PostRow.event_at < end,
            )
            .order_by(PostRow.event_at)
        )
        return [_post(r) for r in rows]

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


class SqlActivityRepository(Repository):
    """One row per message; aggregates for the stats come out of GROUP BY, not Python loops."""

    async def add(
        self,
        group_id: str,
        user_id: str | None,
        channel_id: str,
        thread_id: str | None,
        is_reply: bool,
        at: datetime,
        category_key: str | None = None,
        author_role: str | None = None,
    ) -> None:
        """Count one message in one INSERT; role and category are looked up inside it."""
        role_rank = case(
            {key: i for i, key in enumerate(_ROLE_ORDER)}, value=MemberRoleRow.role_key
        )
        role: Any = literal(author_role) if author_role is not None else None
        if role is None:
            role = func.coalesce(
                select(MemberRoleRow.role_key)
                .where(
                    MemberRoleRow.group_id == group_id,
                    MemberRoleRow.user_id == (user_id or ""),
                    MemberRoleRow.role_key.in_(_ROLE_ORDER),
                )
                .order_by(role_rank)
                .limit(1)
                .scalar_subquery(),
                "member",
            )
        category: Any = literal(category_key) if category_key is not None else None
        if category is None:
            category = (
                select(CategoryRow.key)
                .where(CategoryRow.group_id == group_id, CategoryRow.channel_id == channel_id)
                .limit(1)
                .scalar_subquery()
            )
        await self.session.execute(
            insert(ActivityRow).values(
                group_id=group_id,
                user_id=user_id,
                author_role=role,
                category_key=category,
                channel_id=channel_id,
                thread_id=thread_id,
                is_reply=is_reply,
                created_at=at,
            )
        )

    async def add_many(self, rows: Sequence[Pending]) -> None:
        """One executemany INSERT; role and category resolved per row by subqueries."""
        if not rows:
            return
        await self.session.execute(
            _INSERT_MANY,
            [
                {
                    "g": r.group_id,
                    "u": r.user_id,
                    "uk": r.user_id or "",
                    "c": r.channel_id,
                    "t": r.thread_id,
                    "rep": r.is_reply,
                    "at": r.at,
                    "cat": r.category_key,
                }
                for r in rows
            ],
        )

    async def _week(
        self, group_id: str, start: datetime, end: datetime
    ) -> tuple[list[tuple[str | None, str, bool, bool, int]], set[str]]:
        """One week's buckets (category, role, reply, in prompt thread, count) and its authors."""
        prompt_threads = select(PromptRunRow.thread_id).where(
            PromptRunRow.group_id == group_id, PromptRunRow.thread_id.is_not(None)
        )
        in_prompt = case((ActivityRow.thread_id.in_(prompt_threads), 1), else_=0).label("q")
        window = (
            ActivityRow.group_id == group_id,
            ActivityRow.created_at >= start,
            ActivityRow.created_at < end,
        )
        rows = await self.session.execute(
            select(
                ActivityRow.category_key,
                ActivityRow.author_role,
                ActivityRow.is_reply,
                in_prompt,
                func.count(),
            )
            .where(*window)
            .group_by(
                ActivityRow.category_key, ActivityRow.author_role, ActivityRow.is_reply, in_prompt
            )
        )
        buckets = [(c, r, bool(rep), bool(q), int(n)) for c, r, rep, q, n in rows]
        users = await self.session.scalars(
            select(ActivityRow.user_id).where(*window, ActivityRow.user_id.is_not(None)).distinct()
        )
        return buckets, {u for u in users if u}

    async def summary(
        self,
        group_id: str,
        start: datetime,
        end: datetime,
        week_starts: Sequence[datetime],
        closed_before: datetime | None = None,
    ) -> ActivitySummary:
        """Aggregate week by week; weeks that ended before `closed_before` are rolled up once.

        Activity is only ever appended at the current time, so a finished week never changes:
        its GROUP BY result is kept in the kv table and the next request reads it back.
        """
        bounds = [*week_starts, end] if week_starts else [start, end]
        counts: list[ActivityCount] = []
        authors: set[str] = set()
        kv = SqlKeyValue(self.session)
        for i in range(len(bounds) - 1):
            lo, hi = bounds[i], bounds[i + 1]
            key = f"activity.week.{lo.astimezone(UTC).isoformat()}"
            cached = await kv.get(group_id, key) if closed_before and hi <= closed_before else None
            if cached is not None:
                data = json.loads(cached)
                buckets = [(c, r, bool(rep), bool(q), int(n)) for c, r, rep, q, n in data["b"]]
                users = set(data["u"])
            else:
                buckets, users = await self._week(group_id, lo, hi)
                if closed_before and hi <= closed_before:
                    await kv.set(group_id, key, json.dumps({"b": buckets, "u": sorted(users)}))
            counts.extend(ActivityCount(i, c, r, rep, q, n) for c, r, rep, q, n in buckets)
            authors |= users
        new = await self.session.scalar(
            select(func.count()).where(
                MemberRow.group_id == group_id,
                MemberRow.joined_at >= start,
                MemberRow.joined_at < end,
            )
        )
        opened = await SqlPostRepository(self.session).created_between(group_id, start, end)
        return ActivitySummary(counts, len(authors), int(new or 0), opened)
