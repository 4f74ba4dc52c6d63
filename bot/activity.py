"""Counting messages for the stats: who (by role), where (category), reply or not, when; never text.

One listener (PostsCog.count_message) records every MessagePosted exactly once; other features
must not record separately.
"""

from __future__ import annotations

from datetime import datetime

from bot.events import ChannelRef, UserRef
from bot.ports import UnitOfWork

ROLES = ("student", "alumni", "staff", "industry", "member")
"""Roles an author is counted under (the most specific role they hold; else member)."""


async def record(
    uow: UnitOfWork,
    group_id: str,
    user: UserRef | str | None,
    channel: ChannelRef | str,
    thread_id: str | None,
    is_reply: bool,
    now: datetime,
    category_key: str | None = None,
    *,
    author_role: str | None = None,
) -> None:
    """Count one message inside the caller's unit of work (one short INSERT).

    A category_key or author_role of None is resolved by the database in the same statement,
    so the hot path needs no extra round trip and no cache that could go stale on role changes.
    """
    user_id = user.id if isinstance(user, UserRef) else user
    channel_id = channel.id if isinstance(channel, ChannelRef) else channel
    await uow.activity.add(
        group_id, user_id, channel_id, thread_id, is_reply, now, category_key, author_role
    )
