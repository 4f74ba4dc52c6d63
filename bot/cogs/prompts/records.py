"""Records of the weekly questions: questions (prompts), their postings (runs), and what the
service returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.cogs.prompts.settings import PromptsSettings


class PromptStatus(StrEnum):
    """Where a question is in its life cycle: suggested -> accepted -> posted (or rejected)."""

    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    POSTED = "posted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Prompt:
    """A discussion question of one group."""

    id: int
    group_id: str
    theme: str
    text: str
    status: PromptStatus
    created_at: datetime
    text_nb: str | None = None
    bank_id: str | None = None
    suggested_by: str | None = None
    decided_by: str | None = None
    last_posted_at: datetime | None = None
    score: int = 0
    position: int | None = None  # the queue place staff chose, if they moved questions

    def text_in(self, language: str) -> str:
        """The question in the group's language where a translation exists."""
        return self.text_nb if language == "nb" and self.text_nb else self.text


@dataclass(frozen=True)
class PromptRun:
    """One posting of a question: where it went, its thread, and when the recap went out."""

    id: int
    group_id: str
    prompt_id: int
    period: str
    channel_id: str
    message_id: str
    thread_id: str | None
    posted_at: datetime
    recap_at: datetime | None = None


@dataclass(frozen=True)
class Slot:
    """A group's schedule and when its next question is due (a late one moves it a week)."""

    settings: PromptsSettings
    next: datetime
    channel: str = ""  # the discussion channel's name as the group has it (no "#")


@dataclass(frozen=True)
class Overview:
    """What `/alumni prompt list` shows: the schedule, the queue, suggestions, how many ran."""

    slot: Slot
    queue: tuple[Prompt, ...]
    pending: tuple[Prompt, ...]
    posted: int


@dataclass(frozen=True)
class Decision:
    """A suggestion staff accepted or rejected, and who decided (as the review post names them)."""

    prompt: Prompt
    status: PromptStatus
    by: str


@dataclass(frozen=True)
class Recap:
    """A run's recap that went out: the replies by author role in the question's thread."""

    run: PromptRun
    prompt: Prompt | None
    counts: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def total(self) -> int:
        """Every reply counted."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class AskedThisWeek:
    """`prompt now` in a week that had its question: staff confirm before a second one.
    `count` is how many went out this week, which the confirmation names."""

    count: int
    last: Prompt | None


@dataclass(frozen=True)
class ThisWeek:
    """The latest question posted and the replies in its thread so far, by author role."""

    run: PromptRun
    prompt: Prompt | None
    counts: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def total(self) -> int:
        """Every reply counted."""
        return sum(self.counts.values())
