"""What the profiles feature needs from storage."""

from __future__ import annotations

from typing import Protocol

from bot.cogs.profiles.records import Profile


class ProfileRepository(Protocol):
    """Members' own profiles."""

    async def get(self, group_id: str, user_id: str) -> Profile | None:
        """One member's profile."""

    async def save(self, profile: Profile) -> None:
        """Insert or replace a profile."""

    async def for_group(self, group_id: str) -> list[Profile]:
        """Every profile of a group."""
