"""Scheduler claims, handled platform events, and small key-value facts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from storage.models import JobRunRow, KeyValueRow, ProcessedEventRow
from storage.repositories.base import Repository, _count


class SqlJobRepository(Repository):
    """Claims per (group, job, period): atomic by the primary key, leased, and fenced by a token.

    Every claim or takeover raises the row's token. The holder renews its lease with that token
    (a heartbeat), and finishing, releasing and the job's fenced writes name it too: a process
    whose lease was taken over (it stalled, or its clock lied) finds its token stale and stops.
    """

    def _row(self, group_id: str, job: str, period: str) -> Any:
        return (
            JobRunRow.group_id == group_id,
            JobRunRow.job == job,
            JobRunRow.period == period,
        )

    async def claim(
        self, group_id: str, job: str, period: str, owner: str, now: datetime, lease_seconds: float
    ) -> int | None:
        """Claim a period; its fencing token, or None if a live claim holds it or it is done."""
        until = now + timedelta(seconds=lease_seconds)
        inserted = await self.session.execute(
            self.insert_ignore(JobRunRow)
            .values(
                group_id=group_id,
                job=job,
                period=period,
                status="running",
                owner=owner,
                claimed_at=now,
                token=1,
                lease_until=until,
            )
            .on_conflict_do_nothing()
        )
        if _count(inserted):
            return 1
        # Take over a claim whose lease ran out (its process died or stalled): compare-and-set
        # on the token read here, so two processes taking over at once cannot both win.
        row = await self.session.execute(
            select(
                JobRunRow.token, JobRunRow.status, JobRunRow.lease_until, JobRunRow.claimed_at
            ).where(*self._row(group_id, job, period))
        )
        found = row.first()
        if found is None or found.status not in ("running", "released"):
            return None
        expires = found.lease_until or found.claimed_at + timedelta(seconds=lease_seconds)
        if found.status == "running" and expires > now:
            return None
        token = int(found.token) + 1
        taken = await self.session.execute(
            update(JobRunRow)
            .where(
                *self._row(group_id, job, period),
                JobRunRow.status == found.status,
                JobRunRow.token == found.token,
            )
            .values(status="running", owner=owner, claimed_at=now, token=token, lease_until=until)
        )
        return token if _count(taken) else None

    async def renew(
        self, group_id: str, job: str, period: str, token: int, now: datetime, lease_seconds: float
    ) -> bool:
        """Extend the lease of a claim still held with this token; False if it was lost."""
        renewed = await self.session.execute(
            update(JobRunRow)
            .where(
                *self._row(group_id, job, period),
                JobRunRow.status == "running",
                JobRunRow.token == token,
            )
            .values(lease_until=now + timedelta(seconds=lease_seconds))
        )
        return _count(renewed)

    async def holds(self, group_id: str, job: str, period: str, token: int) -> bool:
        """The fence: True if the claim is still held with this token.

        It is a no-op UPDATE, so the claim's row stays locked until the unit of work commits:
        a takeover waits for the write this fence guards, and never slips in between.
        """
        held = await self.session.execute(
            update(JobRunRow)
            .where(
                *self._row(group_id, job, period),
                JobRunRow.status == "running",
                JobRunRow.token == token,
            )
            .values(token=token)
        )
        return _count(held)

    async def finish(self, group_id: str, job: str, period: str, token: int | None = None) -> bool:
        """Mark a claimed period done (only by the holder of `token`, when given)."""
        query = update(JobRunRow).where(*self._row(group_id, job, period))
        if token is not None:
            query = query.where(JobRunRow.status == "running", JobRunRow.token == token)
        done = await self.session.execute(query.values(status="done"))
        return _count(done)

    async def release(self, group_id: str, job: str, period: str, token: int | None = None) -> bool:
        """Hand a claim back so a later tick (of any process) retries at once.

        The row stays (as "released") so the next claim's token is higher still: tokens only
        ever grow, which is what makes them a fence.
        """
        query = update(JobRunRow).where(
            *self._row(group_id, job, period), JobRunRow.status == "running"
        )
        if token is not None:
            query = query.where(JobRunRow.token == token)
        released = await self.session.execute(query.values(status="released"))
        return _count(released)

    async def done(self, group_id: str, job: str, period: str) -> bool:
        """True if the period was done."""
        status = await self.session.scalar(
            select(JobRunRow.status).where(*self._row(group_id, job, period))
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

    async def first_within(self, group_id: str, key: str, now: datetime, window: timedelta) -> bool:
        """Record the key; False if it was recorded less than `window` ago. The insert, or the
        compare-and-set on its time, is the reservation: two processes cannot both win."""
        key = key[:200]
        if await self.first_time(group_id, key, now):
            return True
        renewed = await self.session.execute(
            update(ProcessedEventRow)
            .where(
                ProcessedEventRow.group_id == group_id,
                ProcessedEventRow.key == key,
                ProcessedEventRow.at <= now - window,
            )
            .values(at=now)
        )
        return _count(renewed)

    async def forget(self, group_id: str, key: str) -> None:
        """Drop a recorded key."""
        await self.session.execute(
            delete(ProcessedEventRow).where(
                ProcessedEventRow.group_id == group_id, ProcessedEventRow.key == key[:200]
            )
        )


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
