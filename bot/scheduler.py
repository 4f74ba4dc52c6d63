"""Scheduled work, claimed in the database: once per period across restarts and processes.

A claim is a lease, kept alive by a heartbeat while the job runs and measured in real time
(never the group's clock, which a test or `!clock` may move): a slow job keeps its claim,
and a process that died loses it once the lease runs out. Every claim carries a fencing
token; the heartbeat, finishing, and the job's own fenced writes (see `post_once`) name it,
so a process whose claim was taken over (it stalled past its lease) stops instead of writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from zoneinfo import ZoneInfo

from bot.core import Bot, ScheduledJob
from bot.domain import Group
from bot.errors import PlatformError
from bot.events import MessageRef
from bot.ports import UnitOfWork

log = logging.getLogger(__name__)

# A claim not renewed for this long is taken over: its process died or stalled.
LEASE_SECONDS = 600.0
# How often a running job renews its claim (a tenth of the lease: many chances before it lapses).
HEARTBEAT_SECONDS = 60.0
# How long a reservation of a once-only post holds before another process may send it: far
# longer than a platform call can take (the HTTP clients time out well within it).
RESERVATION_SECONDS = 600.0


def wall_now() -> datetime:
    """Real time (UTC), for leases: how long a process has been silent, not the group's clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    """A claim this process holds: the job's period and the fencing token its writes name."""

    group_id: str
    job: str
    period: str
    token: int
    lease_seconds: float = LEASE_SECONDS


_CLAIM: ContextVar[Claim | None] = ContextVar("alumnibot_job_claim", default=None)


def current_claim() -> Claim | None:
    """The claim of the job running in this task (None outside scheduled jobs)."""
    return _CLAIM.get()


class LeaseLost(Exception):
    """Another process took the job's claim over: this one must stop writing."""


class Busy(Exception):
    """Another process is sending what must be sent once; the job tries again next tick."""


class Scheduler:
    """Runs each cog's jobs for every group once per period."""

    def __init__(
        self,
        bot: Bot,
        *,
        lease_seconds: float = LEASE_SECONDS,
        heartbeat_seconds: float | None = None,
        wall_clock: Callable[[], datetime] = wall_now,
    ) -> None:
        self.bot = bot
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds or min(HEARTBEAT_SECONDS, lease_seconds / 10)
        self.wall = wall_clock
        # (group, job) -> the last period this process finished: a period is done for good
        # once finished, so later ticks in it need not ask the database (the claim stays the
        # guard across processes). One entry per group and job, so it does not grow.
        self._finished: dict[tuple[str, str], str] = {}
        self._running: dict[asyncio.Future[None], Claim] = {}
        self._stopping = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        # time.monotonic() when a tick last started or ended: the health check reads it.
        self.last_tick: float | None = None

    @property
    def running(self) -> list[Claim]:
        """Claims of the jobs running now."""
        return list(self._running.values())

    async def tick(self, now: datetime | None = None) -> list[tuple[str, str, str]]:
        """Run every job that is due now; returns (group, job, period) for each that ran."""
        if self._stopping.is_set():
            return []
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
                    token = await uow.jobs.claim(
                        group.id,
                        job.name,
                        period,
                        self.bot.config.instance_id,
                        self.wall(),
                        self.lease_seconds,
                    )
                if token is None:
                    continue
                claim = Claim(group.id, job.name, period, token, self.lease_seconds)
                if await self._run(claim, job, group):
                    self._finished[(group.id, job.name)] = period
                    ran.append((group.id, job.name, period))
        return ran

    async def _run(self, claim: Claim, job: ScheduledJob, group: Group) -> bool:
        """Run one claimed job with a heartbeat; True if it finished."""
        context = _CLAIM.set(claim)
        try:
            work: asyncio.Future[None] = asyncio.ensure_future(job.run(group, claim.period))
        finally:
            _CLAIM.reset(context)
        self._running[work] = claim
        try:
            lost = await self._watch(claim, work)
        finally:
            if not work.done():
                # Our caller is being cancelled (the process stops): the job stops with it.
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            self._running.pop(work, None)
        if work.cancelled():
            return False  # stopped: `stop` hands the claim back
        error = work.exception()
        if lost or isinstance(error, LeaseLost):
            log.warning("job %s for %s %s lost its claim to another process", *_key(claim))
            return False
        if error is not None:
            if isinstance(error, Busy):
                log.info("job %s for %s %s waits: %s", *_key(claim), error)
            else:
                log.error(
                    "job %s failed for %s period %s",
                    *_key(claim),
                    exc_info=(type(error), error, error.__traceback__),
                )
            async with self.bot.uow() as uow:
                await uow.jobs.release(claim.group_id, claim.job, claim.period, claim.token)
            return False
        async with self.bot.uow() as uow:
            finished = await uow.jobs.finish(claim.group_id, claim.job, claim.period, claim.token)
        if not finished:
            log.warning("job %s for %s %s ended after its claim was taken over", *_key(claim))
        return True

    async def _watch(self, claim: Claim, work: asyncio.Future[None]) -> bool:
        """Renew the claim until the job ends; True if the claim was lost (the job is cancelled).

        When renewals fail (the database does not answer), the job is stopped before its
        lease could run out: another process may take over then, and two must never run.
        """
        held_until = self.wall() + timedelta(seconds=self.lease_seconds)
        margin = timedelta(seconds=self.heartbeat_seconds)
        while True:
            done, _ = await asyncio.wait({work}, timeout=self.heartbeat_seconds)
            if done:
                return False
            renewed: bool | None
            try:
                async with self.bot.uow() as uow:
                    renewed = await uow.jobs.renew(
                        claim.group_id,
                        claim.job,
                        claim.period,
                        claim.token,
                        self.wall(),
                        self.lease_seconds,
                    )
            except Exception:
                log.warning("could not renew the claim of %s for %s %s", *_key(claim))
                renewed = None
            if renewed:
                held_until = self.wall() + timedelta(seconds=self.lease_seconds)
                continue
            if renewed is None and self.wall() + margin < held_until:
                continue
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            return True

    async def run_forever(self, interval: float = 60.0) -> None:
        """Tick every `interval` seconds until stopped or cancelled; a failed tick is logged."""
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

    async def stop(self, grace: float = 0.0) -> None:
        """Start no new job; a running job gets `grace` seconds to finish (and be marked
        done), then it is stopped and its claim handed back, so another process runs it at
        once (a graceful shutdown, e.g. on SIGTERM)."""
        self._stopping.set()
        loop = self._loop
        if loop is not None and loop is not asyncio.current_task() and not loop.done():
            # The tick ends after the job in hand, since no new one starts.
            await asyncio.wait({loop}, timeout=grace)
        claims = list(self._running.values())
        if claims:
            log.warning("a scheduled job outlived the stop grace; handing it back")
        for work in list(self._running):
            work.cancel()
        if loop is not None and loop is not asyncio.current_task():
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
        await asyncio.gather(*self._running, return_exceptions=True)
        for claim in claims:
            with contextlib.suppress(Exception):
                async with self.bot.uow() as uow:
                    await uow.jobs.release(claim.group_id, claim.job, claim.period, claim.token)
                log.info("handed back the claim of %s for %s %s", *_key(claim))


def _key(claim: Claim) -> tuple[str, str, str]:
    return claim.job, claim.group_id, claim.period


class Sent(enum.Enum):
    """What `post_once` did."""

    SENT = "sent"  # this call sent it
    DONE = "done"  # it was sent before
    BUSY = "busy"  # another process is sending it right now


async def post_once(
    bot: Bot,
    group_id: str,
    key: str,
    send: Callable[[], Awaitable[MessageRef]],
    confirm: Callable[[UnitOfWork, MessageRef], Awaitable[None]] | None = None,
) -> tuple[Sent, MessageRef | None]:
    """Send something that must happen once (a digest, a congratulation): reserve, send, confirm.

    The reservation is a claim of its own (job `send:<key>`), made only while the running job
    still holds its claim (the fence); the send happens only with the reservation held; the
    confirmation marks it done. A send the platform refused is handed back so a retry sends
    it; a send that ended otherwise (the process was stopped mid-call) keeps its reservation
    until its lease lapses, since the message may have gone out.
    """
    claim = current_claim()
    name, period = f"send:{key}", "once"
    async with bot.uow() as uow:
        if claim is not None and not await uow.jobs.holds(
            claim.group_id, claim.job, claim.period, claim.token
        ):
            raise LeaseLost(f"{claim.job} for {claim.group_id} {claim.period}")
        # Its own lease, as long as the longest send can take and then some: never the job's
        # (short) lease, or a stalled sender's message could still go out after a takeover.
        token = await uow.jobs.claim(
            group_id, name, period, bot.config.instance_id, wall_now(), RESERVATION_SECONDS
        )
        state = None if token is not None else await uow.jobs.done(group_id, name, period)
    if token is None:
        return (Sent.DONE if state else Sent.BUSY), None
    try:
        ref = await send()
    except PlatformError:
        async with bot.uow() as uow:
            await uow.jobs.release(group_id, name, period, token)
        raise
    async with bot.uow() as uow:
        if not await uow.jobs.finish(group_id, name, period, token):
            log.error("%s for %s was sent after its reservation lapsed", key, group_id)
        if confirm is not None:
            await confirm(uow, ref)
    return Sent.SENT, ref


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
