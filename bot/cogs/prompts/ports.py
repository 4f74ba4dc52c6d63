"""What the weekly questions need from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.cogs.prompts.records import Prompt, PromptRun, PromptStatus


class PromptRepository(Protocol):
    """Discussion questions and their postings."""

    async def add(self, prompt: Prompt) -> Prompt:
        """Store a new question; returns it with its id."""

    async def get(self, group_id: str, prompt_id: int) -> Prompt | None:
        """One question."""

    async def for_group(self, group_id: str, status: PromptStatus | None = None) -> list[Prompt]:
        """Questions of a group (optionally of one status), oldest first."""

    async def bank_ids(self, group_id: str) -> set[str]:
        """Ids of bank questions the group already holds."""

    async def decide(
        self, group_id: str, prompt_id: int, status: PromptStatus, by: str | None
    ) -> bool:
        """Move a suggestion to accepted or rejected; False if it was no longer suggested."""

    async def set_text(self, group_id: str, prompt_id: int, text: str, text_nb: str | None) -> bool:
        """Change a question's words unless it was posted or rejected; False if not changed."""

    async def lock_queue(self, group_id: str) -> None:
        """Hold the group's queue until the unit of work ends (one reorder at a time)."""

    async def set_positions(self, group_id: str, positions: dict[int, int]) -> None:
        """Give each question named its place in the queue."""

    async def requeue(self, group_id: str, prompt_id: int) -> None:
        """Put a posted question back in the accepted queue."""

    async def mark_posted(self, group_id: str, prompt_id: int, now: datetime) -> None:
        """A question went out."""

    async def set_score(self, group_id: str, prompt_id: int, score: int) -> None:
        """How many replies the question drew last time."""

    async def reserve_run(
        self, group_id: str, prompt_id: int, period: str, channel_id: str, now: datetime
    ) -> int | None:
        """Reserve the run of a period before posting; None if the period already has one."""

    async def complete_run(
        self, run_id: int, message_id: str, thread_id: str | None, prompt_id: int
    ) -> None:
        """Store where the reserved run was posted."""

    async def drop_run(self, run_id: int) -> None:
        """Forget a reservation whose posting failed."""

    async def runs(self, group_id: str) -> list[PromptRun]:
        """Posted runs, oldest first."""

    async def run_by_thread(self, group_id: str, thread_id: str) -> PromptRun | None:
        """The run whose thread this is."""

    async def runs_due_recap(self, group_id: str, posted_before: datetime) -> list[PromptRun]:
        """Posted runs without a recap, posted before a time."""

    async def claim_recap(self, run_id: int, now: datetime) -> bool:
        """Mark a run's recap sent; False if it was already."""

    async def unclaim_recap(self, run_id: int) -> None:
        """Undo a recap claim whose sending failed."""
