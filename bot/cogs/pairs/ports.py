"""What the coffee-pairs feature needs from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.cogs.pairs.records import Pair


class PairRepository(Protocol):
    """Coffee-pair opt-ins and the pairs of each round."""

    async def opt_in(self, group_id: str, user_id: str, now: datetime) -> bool:
        """Record an opt-in; False if the member was already in."""

    async def opt_out(self, group_id: str, user_id: str) -> bool:
        """Remove an opt-in; False if the member was not in."""

    async def opted_in(self, group_id: str) -> list[str]:
        """User ids of members who opted in."""

    async def in_round(self, group_id: str, round_key: str) -> list[Pair]:
        """The pairs of one round."""

    async def add_round(
        self, group_id: str, round_key: str, groups: list[tuple[str, ...]], now: datetime
    ) -> list[Pair]:
        """Store a round's pairs; if the round exists already, return its pairs unchanged."""

    async def get(self, pair_id: int) -> Pair | None:
        """One pair by id."""

    async def update(self, pair: Pair) -> None:
        """Store a pair's notified/asked flags and answers."""

    async def for_group(self, group_id: str) -> list[Pair]:
        """Every pair of a group, oldest first."""
