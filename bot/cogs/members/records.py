"""Records of the members feature: a page of a member search."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Member


@dataclass(frozen=True)
class MemberPage:
    """One page of the members a search found, and how many it found in all."""

    members: tuple[Member, ...]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages the search has (at least one, even when empty)."""
        return max(1, -(-self.total // self.size))
