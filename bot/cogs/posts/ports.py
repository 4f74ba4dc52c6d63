"""What the posts feature needs from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.cogs.posts.records import CloseReason, Post


class PostRepository(Protocol):
    """Listings posted through forms; closing marks them, nothing is deleted."""

    async def add(self, post: Post) -> int:
        """Store a new post; returns its id."""

    async def get(self, group_id: str, post_id: int) -> Post | None:
        """One post."""

    async def update(self, post: Post) -> None:
        """Store changed fields, message references and expiry."""

    async def open_posts(self, group_id: str, kind: str | None = None) -> list[Post]:
        """Open posts, oldest first, optionally of one kind."""

    async def close(self, group_id: str, post_id: int, reason: CloseReason, now: datetime) -> bool:
        """Close an open post; False if it was already closed (so closing is idempotent)."""

    async def due_to_close(self, group_id: str, now: datetime) -> list[Post]:
        """Open posts whose expiry has passed."""

    async def due_reminders(self, group_id: str, start: datetime, end: datetime) -> list[Post]:
        """Open events starting in [start, end) that were not reminded yet."""

    async def mark_reminded(self, group_id: str, post_id: int, now: datetime) -> bool:
        """Record a reminder; False if one was already recorded."""

    async def created_between(
        self, group_id: str, start: datetime, end: datetime
    ) -> dict[str, int]:
        """Posts created in [start, end) per kind."""
