"""Scheduled work, claimed in the database: once per period across restarts and processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from bot.core import Bot
from bot.domain import Group

log = logging.getLogger(__name__)

# A claim older than this is taken over: its process died between claiming and finishing.
LEASE_SECONDS = 600


class Scheduler:
    """Runs each cog's jobs for every group once per period."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        # (group, job) -> the last period this process finished: a period is done for good
        # once finished, so later ticks in it need not ask the database (the claim stays the
        # guard across processes). One entry per group and job, so it does not grow.
        self._finished: dict[tuple[str, str], str] = {}
        # time.monotonic() when a tick last started or ended: the health check reads it.
        self.last_tick: float | None = None
        self._stopping = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def tick(self, now: datetime | None = None) -> list[tuple[str, str, str]]:
        """Run every job that is due now; returns (group, job, period) for each that ran."""
        now = now or self.bot.clock.now()
        ran: list[tuple[str, str, str]] = []
        await self.bot.activity.flush()
        async with self.bot.uow() as uow:
            groups = await uow.groups.all()
        for group in groups:
            for job in self.bot.jobs:
                if self._stopping.is_set():
                    return ran  # stopping: start no new job
                try:
                    period = job.period(group, now)
                except Exception:
                    log.exception("job %s could not decide its period for %s", job.name, group.id)
                    continue
                if period is None or self._finished.get((group.id, job.name)) == period:
                    continue
                async with self.bot.uow() as uow:
                    claimed = await uow.jobs.claim(
                        group.id, job.name, period, self.bot.config.instance_id, now, LEASE_SECONDS
                    )
                if not claimed:
                    continue
                try:
                    await job.run(group, period)
                except asyncio.CancelledError:
                    # Stopped mid-job (SIGTERM): hand the period back so the next process runs
                    # it at once instead of waiting for the lease to expire.
                    async with self.bot.uow() as uow:
                        await uow.jobs.release(group.id, job.name, period)
                    raise
                except Exception:
                    log.exception("job %s failed for %s period %s", job.name, group.id, period)
                    async with self.bot.uow() as uow:
                        await uow.jobs.release(group.id, job.name, period)
                    continue
                async with self.bot.uow() as uow:
                    await uow.jobs.finish(group.id, job.name, period)
                self._finished[(group.id, job.name)] = period
                ran.append((group.id, job.name, period))
        return ran

    async def run_forever(self, interval: float = 60.0) -> None:
        """Tick every `interval` seconds until stopped; a failed tick is logged, not fatal."""
        self._loop = asyncio.current_task()
        while not self._stopping.is_set():
            self.last_tick = monotonic()
            try:
                await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            self.last_tick = monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    async def stop(self, grace: float) -> None:
        """Start no new job; the running one finishes within `grace` s or is cancelled (and
        its claim released)."""
        self._stopping.set()
        loop = self._loop
        if loop is None or loop.done():
            return
        try:
            await asyncio.wait({loop}, timeout=grace)
        finally:
            if not loop.done():
                log.warning("a scheduled job outlived the stop grace; handing it back")
                loop.cancel()
        # The release is one short transaction (bounded by the database's timeouts).
        await asyncio.wait({loop}, timeout=5)


def hourly_period(group: Group, now: datetime) -> str:
    """Every hour of the group's day (for work that is idempotent by its own records)."""
    return f"{now.astimezone(ZoneInfo(group.timezone)):%Y-%m-%dT%H}"


def daily_period(group: Group, now: datetime, at: time = time(9, 0)) -> str | None:
    """The local date once the group's clock has passed `at` that day."""
    local = now.astimezone(ZoneInfo(group.timezone))
    return local.date().isoformat() if local.time() >= at else None


def weekly_period(
    group: Group, now: datetime, weekday: int, at: time, not_before: datetime | None = None
) -> str | None:
    """The ISO week whose slot (weekday at local time) has passed, within that same week.

    Missed weeks are never back-filled: only the slot of the current week counts, and a slot
    before `not_before` (when the schedule started) never does.
    """
    tz = ZoneInfo(group.timezone)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    slot = datetime.combine(monday + timedelta(days=weekday), at, tzinfo=tz)
    if local < slot or (not_before is not None and slot < not_before):
        return None
    year, week, _ = slot.isocalendar()
    return f"{year}-W{week:02d}"
