"""Scheduler claims, handled platform events, and small key-value facts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from storage.models import JobRunRow, KeyValueRow, ProcessedEventRow
from storage.repositories.base import Repository, _count


class SqlJobRepository(Repository):
    """Claims per (group, job, period), made atomic by the primary key."""

    async def claim(
        self, group_id: str, job: str, period: str, owner: str, now: datetime, lease_seconds: int
    ) -> bool:
        """Claim a period; False if another live claim holds it or it is done."""
        inserted = await self.session.execute(
            self.insert_ignore(JobRunRow)
            .values(
                group_id=group_id,
                job=job,
                period=period,
                status="running",
                owner=owner,
                claimed_at=now,
            )
            .on_conflict_do_nothing()
        )
        if _count(inserted):
            return True
        # Take over a claim whose owner died before finishing; compare-and-set on claimed_at.
        stale = now - timedelta(seconds=lease_seconds)
        taken = await self.session.execute(
            update(JobRunRow)
            .where(
                JobRunRow.group_id == group_id,
                JobRunRow.job == job,
                JobRunRow.period == period,
                JobRunRow.status == "running",
                JobRunRow.claimed_at < stale,
            )
            .values(owner=owner, claimed_at=now)
        )
        return _count(taken)

    async def finish(self, group_id: str, job: str, period: str) -> None:
        """Mark a claimed period done."""
        await self.session.execute(
            update(JobRunRow)
            .where(JobRunRow.group_id == group_id, JobRunRow.job == job, JobRunRow.period == period)
            .values(status="done")
        )

    async def release(self, group_id: str, job: str, period: str) -> None:
        """Drop a claim so a later tick retries."""
        await self.session.execute(
            delete(JobRunRow).where(
                JobRunRow.group_id == group_id,
                JobRunRow.job == job,
                JobRunRow.period == period,
                JobRunRow.status == "running",
            )
        )

    async def done(self, group_id: str, job: str, period: str) -> bool:
        """True if the period was done."""
        status = await self.session.scalar(
            select(JobRunRow.status).where(
                JobRunRow.group_id == group_id, JobRunRow.job == job, JobRunRow.period == period
            )
        )
        return status == "done"


class SqlEventLog(Repository):
    """Keys of platform events already handled."""

    async def first_time(self, group_id: str, key: str, now: datetime) -> bool:
        """Record the key; True only the first time."""
        result = await self.session.execute(
            self.insert_ignore(ProcessedEventRow)
            .values(group_id=group_id, key=key[:200], at=now)
            .on_conflict_do_nothing()
        )
        return _count(result)


class SqlKeyValue(Repository):
    """Small per-group facts."""

    async def get(self, group_id: str, key: str) -> str | None:
        """A stored value."""
        row = await self.session.get(KeyValueRow, (group_id, key))
        return row.value if row else None

    async def set(self, group_id: str, key: str, value: str) -> None:
        """Store a value."""
        row = await self.session.get(KeyValueRow, (group_id, key))
        if row is None:
            self.session.add(KeyValueRow(group_id=group_id, key=key, value=value))
        else:
            row.value = value
        await self.session.flush()
