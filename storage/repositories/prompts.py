"""Discussion questions and their postings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from bot.cogs.prompts.records import Prompt, PromptRun, PromptStatus
from storage.models import PromptRow, PromptRunRow
from storage.repositories.base import Repository, _count, as_record


def _prompt(row: PromptRow) -> Prompt:
    return Prompt(
        id=row.id,
        group_id=row.group_id,
        theme=row.theme,
        text=row.text,
        status=PromptStatus(row.status),
        created_at=row.created_at,
        text_nb=row.text_nb,
        bank_id=row.bank_id,
        suggested_by=row.suggested_by,
        decided_by=row.decided_by,
        last_posted_at=row.last_posted_at,
        score=row.score,
        position=row.position,
    )


def _run(row: PromptRunRow) -> PromptRun:
    return as_record(PromptRun, row)


class SqlPromptRepository(Repository):
    """Questions and runs; a run is reserved (unique per group and period) before it is posted."""

    async def add(self, prompt: Prompt) -> Prompt:
        """Store a new question."""
        row = PromptRow(
            group_id=prompt.group_id,
            bank_id=prompt.bank_id,
            theme=prompt.theme,
            text=prompt.text,
            text_nb=prompt.text_nb,
            status=prompt.status.value,
            suggested_by=prompt.suggested_by,
            decided_by=prompt.decided_by,
            created_at=prompt.created_at,
            last_posted_at=prompt.last_posted_at,
            score=prompt.score,
        )
        self.session.add(row)
        await self.session.flush()
        return _prompt(row)

    async def get(self, group_id: str, prompt_id: int) -> Prompt | None:
        """One question."""
        row = await self.session.get(PromptRow, prompt_id)
        return _prompt(row) if row is not None and row.group_id == group_id else None

    async def for_group(self, group_id: str, status: PromptStatus | None = None) -> list[Prompt]:
        """Questions oldest first."""
        query = select(PromptRow).where(PromptRow.group_id == group_id)
        if status is not None:
            query = query.where(PromptRow.status == status.value)
        rows = await self.session.scalars(query.order_by(PromptRow.id))
        return [_prompt(r) for r in rows]

    async def bank_ids(self, group_id: str) -> set[str]:
        """Bank ids already copied into the group."""
        rows = await self.session.scalars(
            select(PromptRow.bank_id).where(
                PromptRow.group_id == group_id, PromptRow.bank_id.is_not(None)
            )
        )
        return {r for r in rows if r}

    async def decide(
        self, group_id: str, prompt_id: int, status: PromptStatus, by: str | None
    ) -> bool:
        """Compare-and-set from suggested, so two staff pressing at once decide once."""
        result = await self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id == prompt_id,
                PromptRow.group_id == group_id,
                PromptRow.status == PromptStatus.SUGGESTED.value,
            )
            .values(status=status.value, decided_by=by)
        )
        return _count(result)

    async def set_text(self, group_id: str, prompt_id: int, text: str, text_nb: str | None) -> bool:
        """New words for a question still waiting (suggested or in the queue)."""
        result = await self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.id == prompt_id,
                PromptRow.group_id == group_id,
                PromptRow.status.in_([PromptStatus.SUGGESTED.value, PromptStatus.ACCEPTED.value]),
            )
            .values(text=text, text_nb=text_nb)
        )
        return _count(result)

    async def lock_queue(self, group_id: str) -> None:
        """Serialise reorders of the group's queue until the unit of work ends.

        A no-op UPDATE of the queued rows, as the unit's first statement (as lock_member):
        PostgreSQL holds their row locks and SQLite its write lock until commit, so a second
        move reads the order the first one left, not the one both started from.
        """
        await self.session.execute(
            update(PromptRow)
            .where(
                PromptRow.group_id == group_id,
                PromptRow.status == PromptStatus.ACCEPTED.value,
            )
            .values(position=PromptRow.position)
        )

    async def set_positions(self, group_id: str, positions: dict[int, int]) -> None:
        """The queue order staff chose: a place for each question named."""
        for prompt_id, position in positions.items():
            await self.session.execute(
                update(PromptRow)
                .where(PromptRow.id == prompt_id, PromptRow.group_id == group_id)
                .values(position=position)
            )

    async def requeue(self, group_id: str, prompt_id: int) -> None:
        """Back into the accepted queue."""
        await self.session.execute(
            update(PromptRow)
            .where(PromptRow.id == prompt_id, PromptRow.group_id == group_id)
            .values(status=PromptStatus.ACCEPTED.value)
        )

    async def mark_posted(self, group_id: str, prompt_id: int, now: datetime) -> None:
        """A question went out."""
        await self.session.execute(
            update(PromptRow)
            .where(PromptRow.id == prompt_id, PromptRow.group_id == group_id)
            .values(status=PromptStatus.POSTED.value, last_posted_at=now, position=None)
        )

    async def set_score(self, group_id: str, prompt_id: int, score: int) -> None:
        """Replies drawn last time."""
        await self.session.execute(
            update(PromptRow)
            .where(PromptRow.id == prompt_id, PromptRow.group_id == group_id)
            .values(score=score)
        )

    async def reserve_run(
        self, group_id: str, prompt_id: int, period: str, channel_id: str, now: datetime
    ) -> int | None:
        """Insert the run row first: the unique (group, period) key is the last line of defence."""
        result = await self.session.execute(
            self.insert_ignore(PromptRunRow)
            .values(
                group_id=group_id,
                prompt_id=prompt_id,
                period=period,
                channel_id=channel_id,
                message_id="",
                thread_id=None,
                posted_at=now,
            )
            .on_conflict_do_nothing()
        )
        if not _count(result):
            return None
        return await self.session.scalar(
            select(PromptRunRow.id).where(
                PromptRunRow.group_id == group_id, PromptRunRow.period == period
            )
        )

    async def complete_run(
        self, run_id: int, message_id: str, thread_id: str | None, prompt_id: int
    ) -> None:
        """Where the run was posted."""
        await self.session.execute(
            update(PromptRunRow)
            .where(PromptRunRow.id == run_id)
            .values(message_id=message_id, thread_id=thread_id, prompt_id=prompt_id)
        )

    async def drop_run(self, run_id: int) -> None:
        """Forget a failed reservation."""
        await self.session.execute(delete(PromptRunRow).where(PromptRunRow.id == run_id))

    async def runs(self, group_id: str) -> list[PromptRun]:
        """Posted runs oldest first."""
        rows = await self.session.scalars(
            select(PromptRunRow)
            .where(PromptRunRow.group_id == group_id, PromptRunRow.message_id != "")
            .order_by(PromptRunRow.posted_at, PromptRunRow.id)
        )
        return [_run(r) for r in rows]

    async def run_by_thread(self, group_id: str, thread_id: str) -> PromptRun | None:
        """The run whose thread this is."""
        row = await self.session.scalar(
            select(PromptRunRow).where(
                PromptRunRow.group_id == group_id, PromptRunRow.thread_id == thread_id
            )
        )
        return _run(row) if row else None

    async def runs_due_recap(self, group_id: str, posted_before: datetime) -> list[PromptRun]:
        """Runs still waiting for their recap."""
        rows = await self.session.scalars(
            select(PromptRunRow)
            .where(
                PromptRunRow.group_id == group_id,
                PromptRunRow.message_id != "",
                PromptRunRow.recap_at.is_(None),
                PromptRunRow.posted_at <= posted_before,
            )
            .order_by(PromptRunRow.posted_at, PromptRunRow.id)
        )
        return [_run(r) for r in rows]

    async def claim_recap(self, run_id: int, now: datetime) -> bool:
        """Compare-and-set on recap_at: one recap per run whatever races."""
        result = await self.session.execute(
            update(PromptRunRow)
            .where(PromptRunRow.id == run_id, PromptRunRow.recap_at.is_(None))
            .values(recap_at=now)
        )
        return _count(result)

    async def unclaim_recap(self, run_id: int) -> None:
        """Let a later tick retry a recap that could not be sent."""
        await self.session.execute(
            update(PromptRunRow).where(PromptRunRow.id == run_id).values(recap_at=None)
        )
