"""Listings: what a post is, how it closes and expires."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class PostStatus(StrEnum):
    """Open until the author, staff or expiry closes it; closed posts are kept."""

    OPEN = "open"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a post closed; each kind has the reason its close button gives."""

    FILLED = "filled"
    RENTED = "rented"
    CANCELLED = "cancelled"
    SOLD = "sold"
    RETURNED = "returned"
    ARCHIVED = "archived"
    EXPIRED = "expired"
    ENDED = "ended"
    NOT_POSTED = "not_posted"


class Expiry(StrEnum):
    """When a kind of post closes by itself."""

    DEADLINE = "deadline"  # after its deadline day
    DAYS = "days"  # the group's listing days after posting (or the end of its period)
    EVENT = "event"  # after the event's day
    NEVER = "never"


@dataclass(frozen=True)
class Post:
    """A listing posted through a form; kept after it closes."""

    id: int
    group_id: str
    kind: str
    author_id: str | None
    author_name: str
    fields: dict[str, Any] = field(default_factory=dict, hash=False)
    channel_id: str | None = None
    message_id: str | None = None
    thread_id: str | None = None
    status: PostStatus = PostStatus.OPEN
    close_reason: CloseReason | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    event_at: datetime | None = None
    closed_at: datetime | None = None
    reminded_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """True until the author, staff or expiry closes it."""
        return self.status is PostStatus.OPEN


@dataclass(frozen=True)
class Posted:
    """A new post and the channel it went to (its name now, not the one setup gave it)."""

    post: Post
    channel_name: str


@dataclass(frozen=True)
class Listing:
    """An open post with the name of its channel, if the channel still exists."""

    post: Post
    channel_name: str | None


@dataclass(frozen=True)
class Sweep:
    """What one hourly sweep did."""

    closed: int = 0
    reminded: int = 0
