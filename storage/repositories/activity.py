"""Activity counts (never text): one row per message; the stats aggregate in SQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Boolean, String, bindparam, case, func, select, text

from bot.activity import Pending
from bot.cogs.stats.records import ActivityCount, ActivitySummary
from storage.models import (
    ActivityRow,
    KeyValueRow,
    MemberRow,
    PromptRunRow,
    UTCDateTime,
)
from storage.repositories.base import Repository
from storage.repositories.posts import SqlPostRepository
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


class SqlActivityRepository(Repository):
    """One row per message; aggregates for the stats come out of GROUP BY, not Python loops."""

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
        keys = [f"activity.week.{lo.astimezone(UTC).isoformat()}" for lo in bounds[:-1]]
        # Every finished week's rollup in one query (a round trip per week cost more than
        # the sums themselves: 52 weeks on the dashboard's Numbers page).
        rolled: dict[str, str] = {}
        if closed_before:
            found = await self.session.execute(
                select(KeyValueRow.key, KeyValueRow.value).where(
                    KeyValueRow.group_id == group_id, KeyValueRow.key.in_(keys)
                )
            )
            rolled = {key: value for key, value in found}
        for i in range(len(bounds) - 1):
            lo, hi = bounds[i], bounds[i + 1]
            key = keys[i]
            cached = rolled.get(key) if closed_before and hi <= closed_before else None
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
        questions, answers = await self._questions(group_id, start, end)
        return ActivitySummary(counts, len(authors), int(new or 0), opened, questions, answers)

    async def _questions(self, group_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        """Weekly questions posted in [start, end), and the replies in their threads then."""
        asked = (
            PromptRunRow.group_id == group_id,
            PromptRunRow.message_id != "",
            PromptRunRow.posted_at >= start,
            PromptRunRow.posted_at < end,
        )
        questions = await self.session.scalar(select(func.count()).where(*asked))
        threads = select(PromptRunRow.thread_id).where(*asked, PromptRunRow.thread_id.is_not(None))
        replies = await self.session.scalar(
            select(func.count()).where(
                ActivityRow.group_id == group_id,
                ActivityRow.is_reply.is_(True),
                ActivityRow.created_at >= start,
                ActivityRow.created_at < end,
                ActivityRow.thread_id.in_(threads),
            )
        )
        return int(questions or 0), int(replies or 0)

    async def count_by_role(self, group_id: str, thread_id: str) -> dict[str, int]:
        """Messages in a thread per author role (the weekly question's replies)."""
        rows = await self.session.execute(
            select(ActivityRow.author_role, func.count())
            .where(ActivityRow.group_id == group_id, ActivityRow.thread_id == thread_id)
            .group_by(ActivityRow.author_role)
        )
        return {role: int(n) for role, n in rows.all()}
