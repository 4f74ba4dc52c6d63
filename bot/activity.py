"""Counting messages for the stats: who (by role), where (category), reply or not, when; never text.

One listener (PostsCog.count_message) records every MessagePosted exactly once; other features
must not record separately.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.events import ChannelRef, UserRef

if TYPE_CHECKING:
    from bot.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

ROLES = ("student", "alumni", "staff", "industry", "member")

# The role an author is counted under when they hold several: the most specific first.
ROLE_ORDER = ("staff", "alumni", "student", "industry")
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


@dataclass(frozen=True)
class Pending:
    """A message counted but not yet written."""

    group_id: str
    user_id: str | None
    channel_id: str
    thread_id: str | None
    is_reply: bool
    at: datetime
    category_key: str | None = None


class ActivityRecorder:
    """Writes counts in batches: one transaction per FLUSH_ROWS messages or FLUSH_SECONDS.

    A message then costs no database round trip of its own; at most FLUSH_SECONDS of counts
    are lost if the process dies, which statistics can afford.
    """

    FLUSH_ROWS = 500
    FLUSH_SECONDS = 1.0

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow
        self._pending: list[Pending] = []
        self._timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def add(self, row: Pending) -> None:
        """Queue one count; flushes when the batch is full, else within FLUSH_SECONDS."""
        self._pending.append(row)
        if len(self._pending) >= self.FLUSH_ROWS:
            await self.flush()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.FLUSH_SECONDS, self._flush_soon)

    def _flush_soon(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Write everything queued in one transaction (stats call this before counting)."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                async with self._uow() as uow:
                    await uow.activity.add_many(batch)
            except Exception:
                log.exception("could not write %d activity counts", len(batch))
