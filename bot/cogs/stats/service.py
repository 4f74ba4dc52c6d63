"""The numbers' use cases: count a message, the figures for N weeks, the rollup, the digest."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.activity import ActivityRecorder, Pending
from bot.cogs.mail.service import MailService
from bot.cogs.onboarding.records import WELCOME_FALLBACKS_KEY, fallbacks_between
from bot.cogs.stats import views
from bot.cogs.stats.figures import summarise, week_starts
from bot.cogs.stats.records import Digest, DigestSkipped, Report, Stats
from bot.domain import Group
from bot.errors import UserError
from bot.events import MessageRef, UserRef
from bot.ports import ChartRenderer, Clock, UnitOfWork, UnitOfWorkFactory, WeeklyChart, Workspace
from bot.safety import slug
from bot.scheduler import Busy, Sent

log = logging.getLogger(__name__)

Once = Callable[
    [str, str, Callable[[], Awaitable[MessageRef]]], Awaitable[tuple[Sent, MessageRef | None]]
]

DEFAULT_WEEKS = 4
MAX_WEEKS = 52
# After the weekly question (Monday morning), before lunch is over.
DIGEST_WEEKDAY = 0
DIGEST_AT = time(12, 0)
# The digest lists events of the next two weeks and what was posted in the last one.
EVENTS_AHEAD = timedelta(days=14)
NEW_WITHIN = timedelta(days=7)
CHART_FOLDER = "charts"
# Files the stats keep in the bot's data folder, and their privacy rule (read with
# bot.cogs.privacy.DATA_FILES by tests/security/test_privacy_rules.py).
DATA_FILES = {
    f"{CHART_FOLDER}/stats-*.png": (
        "the last /alumni stats chart of each group and window: weekly counts by role, no "
        "names and no text; replaced by the next request"
    ),
    f"{CHART_FOLDER}/.stats-*.png": "a chart being drawn (moved over the last one at once)",
}


class StatsService:
    """Counts every message once (never its text), sums the figures, posts the weekly digest."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        recorder: ActivityRecorder,
        charts: ChartRenderer | None,
        chart_dir: Path,
        mail: MailService,
        once: Once,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.mail = mail
        # Sends what must go out once per period (reserve, send, confirm: bot.scheduler).
        self.once = once
        self.clock = clock
        self.recorder = recorder
        # None: the platform is served without charts (stats still answer, in text).
        self.charts = charts
        self.chart_dir = chart_dir
        # The last chart drawn per group and window, and its file: unchanged figures are
        # served from the file.
        self._drawn: dict[tuple[str, int], tuple[WeeklyChart, Path]] = {}

    async def count(
        self, group_id: str, user: UserRef, channel_id: str, thread_id: str | None
    ) -> None:
        """Count one message (who, where, reply or not, when; never its text). Bots' messages
        never come here: the core drops them before any feature hears them."""
        await self.recorder.add(
            Pending(
                group_id, user.id, channel_id, thread_id, thread_id is not None, self.clock.now()
            )
        )

    async def compute(self, group: Group, weeks: int, now: datetime | None = None) -> Stats:
        """The figures for the last `weeks` weeks up to now (the running week so far)."""
        now = now or self.clock.now()
        await self.recorder.flush()
        starts = week_starts(group, now, weeks)
        # The window runs to the end of the current week: its messages so far all count.
        end = starts[-1] + timedelta(days=7)
        async with self.uow() as uow:
            summary = await uow.activity.summary(
                group.id, starts[0], end, starts, closed_before=min(starts[-1], now)
            )
        return summarise(summary, starts, now)

    async def report(
        self, group: Group, weeks: int = DEFAULT_WEEKS, *, chart: bool = True
    ) -> Report:
        """What `/alumni stats` shows: the figures, the channels' names, the welcomes that fell
        back to #welcome, and the chart when there is a renderer and it drew (`chart=False`:
        the figures alone, as the dashboard's page loads its chart separately)."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise UserError("core.option_out_of_range", option="weeks", low=1, high=MAX_WEEKS)
        stats = await self.compute(group, weeks)
        start = stats.weeks[0].date()
        async with self.uow() as uow:
            names = {c.key: c.name for c in await uow.categories.for_group(group.id)}
            fell_back = await self._fallbacks(uow, group, start, start + timedelta(weeks=weeks))
        drawn = (
            await self._chart(group, views.weekly_chart(stats, group.language), weeks)
            if chart
            else None
        )
        return Report(stats, names, fell_back, drawn)

    async def chart(self, group: Group, weeks: int = DEFAULT_WEEKS) -> Path | None:
        """The chart of the last `weeks` weeks, drawn again only when its figures or words
        changed since it was last drawn by this process (drawing takes a second)."""
        if not 1 <= weeks <= MAX_WEEKS:
            raise UserError("core.option_out_of_range", option="weeks", low=1, high=MAX_WEEKS)
        drawing = views.weekly_chart(await self.compute(group, weeks), group.language)
        key = (group.id, weeks)
        cached = self._drawn.get(key)
        if cached is not None and cached[0] == drawing and cached[1].exists():
            return cached[1]
        path = await self._chart(group, drawing, weeks)
        if path is not None:
            self._drawn[key] = (drawing, path)
        return path

    async def welcome_fallbacks(self, group: Group, start: date, end: date) -> int:
        """New members welcomed in #welcome on days in [start, end), their DMs being closed."""
        async with self.uow() as uow:
            return await self._fallbacks(uow, group, start, end)

    async def _fallbacks(self, uow: UnitOfWork, group: Group, start: date, end: date) -> int:
        # Onboarding counts these per day (in kv) when a welcome DM bounces; stats only read.
        return fallbacks_between(await uow.kv.get(group.id, WELCOME_FALLBACKS_KEY), start, end)

    async def _chart(self, group: Group, chart: WeeklyChart, weeks: int) -> Path | None:
        """The chart as a PNG in the bot's data folder, or None without a renderer or when
        drawing failed (the figures are answered without it)."""
        if self.charts is None:
            return None
        # One file per group and window, overwritten each time: no files piling up. Drawn
        # to a name of its own and moved into place, so a request running at the same time
        # (a second staff member, another process) never uploads a half-written file.
        path = self.chart_dir / f"stats-{slug(group.id)}-{weeks}w.png"
        drawing = path.with_name(f".{path.stem}-{uuid.uuid4().hex[:8]}.png")
        try:
            await asyncio.to_thread(self.charts.render, chart, drawing)
            await asyncio.to_thread(os.replace, drawing, path)
        except Exception:
            log.exception("stats chart failed for %s", group.id)
            drawing.unlink(missing_ok=True)
            return None
        return path

    async def rollup(self, group: Group) -> Stats:
        """Roll up the weeks that ended, so staff asking for stats never wait for them."""
        return await self.compute(group, MAX_WEEKS)

    async def digest(self, group: Group, period: str) -> Digest:
        """Post one digest in announcements: new jobs, coming events, open rentals, new
        members; none in a week with nothing to tell, or without the channel."""
        now = self.clock.now()
        week_ago = now - NEW_WITHIN
        async with self.uow() as uow:
            announcements = await uow.categories.get(group.id, "announcements")
            # The posts feature's listings, read as it stores them.
            jobs = [
                p
                for p in await uow.posts.open_posts(group.id, "job")
                if p.created_at and p.created_at >= week_ago
            ]
            events = [
                p
                for p in await uow.posts.open_posts(group.id, "event")
                if p.event_at and now <= p.event_at < now + EVENTS_AHEAD
            ]
            rentals = await uow.posts.open_posts(group.id, "rental")
            members = [
                m.name
                for m in await uow.members.for_group(group.id)
                if m.joined_at and m.joined_at >= week_ago and m.left_at is None
            ]
        digest = Digest(
            period,
            now.astimezone(ZoneInfo(group.timezone)).date(),
            tuple(jobs),
            tuple(sorted(events, key=lambda p: p.event_at or now)),
            tuple(rentals),
            tuple(members),
        )
        if announcements is None or announcements.channel_id is None:
            log.info("no announcements channel in %s; digest skipped", group.id)
            return replace(digest, skipped=DigestSkipped.NO_CHANNEL)
        if digest.empty:
            # A quiet week: an empty digest every Monday would teach members to ignore it.
            log.info("nothing new in %s for %s; digest skipped", group.id, period)
            return replace(digest, skipped=DigestSkipped.QUIET)
        message = views.digest(group.language, digest)
        # Email first: its per-member-per-week rows make a retried job queue nothing twice.
        await self.mail.queue_digest(group, period, message)
        channel = announcements.channel_id

        async def send() -> MessageRef:
            return await self.workspace.send(group.id, channel, message)

        # Reserved before it is sent, confirmed after: a process that took this week's claim
        # over from a stalled one finds the digest sent (or being sent) and posts no second.
        sent, ref = await self.once(group.id, f"digest:{period}", send)
        if sent is Sent.BUSY:
            raise Busy(f"the digest of {period} is being sent by another process")
        return replace(digest, posted=ref)
