"""Records for listings and activity counts: plain frozen dataclasses, no ORM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Post:
    """A listing posted through a form; kept after it closes."""

    id: int
    group_id: str
    kind: str
    author_id: str | None
    fields: dict[str, Any] = field(default_factory=dict, hash=False)
    channel_id: str | None = None
    message_id: str | None = None
    thread_id: str | None = None
    status: str = "open"
    close_reason: str | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    event_at: datetime | None = None
    closed_at: datetime | None = None
    reminded_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """True until the author, staff or expiry closes it."""
        return self.status == "open"


@dataclass(frozen=True)
class ActivityCount:
    """One aggregated bucket of activity rows: messages per week, category, role, reply."""

    week: int
    category_key: str | None
    author_role: str
    is_reply: bool
    in_prompt_thread: bool
    count: int


@dataclass(frozen=True)
class ActivitySummary:
    """What the stats command needs, aggregated by the database."""

    counts: list[ActivityCount]
    active_members: int
    new_members: int
    posts_opened: dict[str, int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class DigestFacts:
    """What the weekly digest lists."""

    new_jobs: list[Post]
    upcoming_events: list[Post]
    open_rentals: list[Post]
    new_members: list[str]
    since: date | None = None
