"""Records of the numbers: the database's aggregates, the figures summed from them, the digest."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from bot.cogs.posts.records import Post
from bot.events import MessageRef

WEEK = timedelta(days=7)


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
    # Weekly questions posted in the window, and the replies in their threads in the window.
    questions: int = 0
    question_replies: int = 0


@dataclass
class Stats:
    """The figures of one stats request, summed from the database's aggregates."""

    weeks: list[datetime]
    posts_by_category: Counter[str] = field(default_factory=Counter)
    top_level: int = 0
    # Every reply (the chart's line), and those that count for the dialogue: replies in a
    # channel and week that has members' posts, the weekly question's threads left out.
    replies: int = 0
    dialogue_replies: int = 0
    by_role: Counter[str] = field(default_factory=Counter)
    questions: int = 0
    question_replies: int = 0
    weekly_top: list[int] = field(default_factory=list)
    weekly_replies: list[int] = field(default_factory=list)
    # Messages (posts and replies) per role, one count per week.
    weekly_by_role: dict[str, list[int]] = field(default_factory=dict)
    active_members: int = 0
    new_members: int = 0
    forms_by_kind: dict[str, int] = field(default_factory=dict)
    # When the figures were taken: the last week is still running if it has not ended by then.
    now: datetime | None = None

    @property
    def ratio(self) -> float:
        """The dialogue: replies per member's top-level post, within the same channels and
        weeks (replies to the weekly question and under the bot's own cards are not answers
        to a member's post)."""
        return self.dialogue_replies / self.top_level if self.top_level else 0.0

    @property
    def per_question(self) -> float:
        """Replies per weekly question posted in the window."""
        return self.question_replies / self.questions if self.questions else 0.0

    @property
    def weekly_messages(self) -> list[int]:
        """Posts and replies per week."""
        return [p + r for p, r in zip(self.weekly_top, self.weekly_replies, strict=True)]

    @property
    def running(self) -> bool:
        """The last week has not ended yet: its bar shows the week so far."""
        return self.now is not None and bool(self.weeks) and self.now < self.weeks[-1] + WEEK


@dataclass(frozen=True)
class Report:
    """What `/alumni stats` shows: the figures, the channels' names now, the welcomes that
    fell back to #welcome, and the chart (None when it could not be drawn)."""

    stats: Stats
    channel_names: dict[str, str]
    welcome_fallbacks: int
    chart: Path | None = None


class DigestSkipped(StrEnum):
    """Why no digest was posted this week."""

    NO_CHANNEL = "no_channel"  # the group has no announcements channel
    QUIET = "quiet"  # nothing new: an empty digest every Monday would teach members to skip it


@dataclass(frozen=True)
class Digest:
    """One weekly digest: what it lists, and where it was posted (or why it was not)."""

    period: str
    week_of: date  # a day of the digest's week, in the group's timezone
    jobs: tuple[Post, ...] = ()
    events: tuple[Post, ...] = ()
    rentals: tuple[Post, ...] = ()
    members: tuple[str, ...] = ()
    posted: MessageRef | None = None
    skipped: DigestSkipped | None = None

    @property
    def empty(self) -> bool:
        """Nothing to tell this week."""
        return not (self.jobs or self.events or self.rentals or self.members)
