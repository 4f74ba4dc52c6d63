"""Counting messages for the stats: who (by role), where (category), reply or not, when; never text.

The Bot holds one ActivityRecorder (`bot.activity`): the scheduler and the stop flush it. The
stats feature (StatsService.count, fed by StatsCog's MessagePosted listener) is the only place
that records a message; the weekly questions read the same rows: no feature records separately.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)

# Roles an author is counted under (the most specific role they hold; else member).
ROLES = ("student", "alumni", "staff", "industry", "member")
# The most specific first, for an author who holds several.
ROLE_ORDER = ("staff", "alumni", "student", "industry")


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
