"""Records of the discussion-question feature: questions (prompts) and their postings (runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
