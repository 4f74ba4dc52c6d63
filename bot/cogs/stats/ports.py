"""What the numbers need from storage: message counts and their aggregates (never text).

The core's ActivityRecorder writes through `add_many`; the weekly questions' recap reads
`count_by_role`; the stats read the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.activity import Pending
from bot.cogs.stats.records import ActivitySummary


class ActivityRepository(Protocol):
    """Message counts (never text) and the aggregates the stats are made of."""

    async def add_many(self, rows: Sequence[Pending]) -> None:
        """Count many messages in one statement (executemany), roles and categories looked up."""

    async def count_by_role(self, group_id: str, thread_id: str) -> dict[str, int]:
        """Messages in a thread per author role (the weekly question's replies)."""

    async def summary(
        self,
        group_id: str,
        start: datetime,
        end: datetime,
        week_starts: Sequence[datetime],
        closed_before: datetime | None = None,
    ) -> ActivitySummary:
        """Counts per week (index into week_starts), category, role, reply and prompt thread;
        weeks ending by `closed_before` can no longer change and may be served from a rollup."""
