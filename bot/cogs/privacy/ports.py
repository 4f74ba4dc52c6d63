"""What the privacy feature needs from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.cogs.posts.records import Post
from bot.cogs.privacy.records import NamedMessage
from bot.events import MessageRef


class PrivacyRepository(Protocol):
    """Everything stored about one member, across every table."""

    async def export(
        self, group_id: str, user_id: str, another: str = "another member"
    ) -> dict[str, list[dict[str, Any]]]:
        """Rows naming the member, by table, as JSON-ready dicts; others shown as `another`."""

    async def erase(self, group_id: str, user_id: str) -> dict[str, int]:
        """Delete or anonymise every row naming the member; rows touched by table."""

    async def remember(
        self,
        group_id: str,
        ref: MessageRef,
        user_ids: Sequence[str],
        replacement: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """Record who a bot message names now (replacing what was recorded for it before)."""

    async def named_messages(self, group_id: str, user_id: str) -> list[NamedMessage]:
        """The bot's messages that name the member."""

    async def authored_posts(self, group_id: str, user_id: str) -> list[Post]:
        """Listings the member posted."""

    async def purge(
        self, group_id: str, attempts_before: datetime, events_before: datetime
    ) -> dict[str, int]:
        """Delete code attempts and handled-event keys older than their stated time."""
