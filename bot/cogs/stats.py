"""Numbers that show whether the group talks: `/alumni stats` with a chart, and a weekly digest."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.activity import ROLES
from bot.cog import Cog, command, job
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Group, Language, Permission
from bot.events import MessageRef
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.ports import WeeklyChart
from bot.posts_records import ActivitySummary
from bot.safety import slug
from bot.scheduler import Busy, Sent, post_once, weekly_period

log = logging.getLogger(__name__)
CHART_DIR = Path(tempfile.gettempdir()) / "alumnibot-charts"

# After the weekly question (Monday morning), before lunch is over.
DIGEST_WEEKDAY = 0
DIGEST_AT = time(12, 0)
DEFAULT_WEEKS = 4


@dataclass
class Stats:
    """The figures of one stats request, summed from the database's aggregates."""

    weeks: list[datetime]
    posts_by_category: Counter[str] = field(default_factory=Counter)
    top_level: int = 0
    replies: int = 0
    by_role: Counter[str] = field(default_factory=Counter)
    question_replies: int = 0
    weekly_top: list[int] = field(default_factory=list)
    weekly_replies: list[int] = field(default_factory=list)
    active_members: int = 0
    new_members: int = 0
    forms_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Replies per top-level post: the dialogue ratio."""
        return self.replies / self.top_level if self.top_level else 0.0


def week_starts(group: Group, now: datetime, weeks: int) -> list[datetime]:
    """Local Mondays 00:00 (as aware datetimes) of the last `weeks` weeks, oldest first."""
    tz = ZoneInfo(group.timezone)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return [
        datetime.combine(monday - timedelta(weeks=weeks - 1 - i), time(0, 0), tzinfo=tz)
        for i in range(weeks)
    ]


def summarise(summary: ActivitySummary, weeks: list[datetime]) -> Stats:
    """Sum the aggregated buckets (a few hundred rows at most) into the figures shown."""
    stats = Stats(weeks, weekly_top=[0] * len(weeks), weekly_replies=[0] * len(weeks))
    for c in summary.counts:
        week = min(max(c.week, 0), len(weeks) - 1)
        stats.by_role[c.author_role] += c.count
        if c.is_reply:
            stats.replies += c.count
            stats.weekly_replies[week] += c.count
            if c.in_prompt_thread:
                stats.question_replies += c.count
        else:
            stats.top_level += c.count
            stats.weekly_top[week] += c.count
            stats.posts_by_category[c.category_key or "-"] += c.count
    stats.active_members = summary.active_members
    stats.new_members = summary.new_members
    stats.forms_by_kind = dict(summary.posts_opened)
    return stats


def weekly_chart(stats: Stats, lang: Language) -> WeeklyChart:
    """Posts and replies per week with the dialogue ratio, labelled in the group's language."""
    return WeeklyChart(
        title=t(lang, "stats.chart_title"),
        labels=tuple(f"{w:%d.%m}" for w in stats.weeks),
        bars=(
            (t(lang, "stats.chart_posts"), tuple(stats.weekly_top)),
            (t(lang, "stats.chart_replies"), tuple(stats.weekly_replies)),
        ),
        bars_axis=t(lang, "stats.chart_messages"),
        line=(
            t(lang, "stats.chart_ratio"),
            tuple(
                r / p if p else 0.0
                for p, r in zip(stats.weekly_top, stats.weekly_replies, strict=True)
            ),
        ),
    )


class StatsCog(Cog):
    """Staff see whether the group talks; everyone gets a weekly digest of what is on."""

    name = "stats"

    async def compute(self, group: Group, weeks: int, now: datetime | None = None) -> Stats:
        """The figures for the last `weeks` weeks up to now."""
        now = now or self.bot.clock.now()
        await self.bot.activity.flush()
        starts = week_starts(group, now, weeks)
        # The window runs to the end of the current week: its messages so far all count.
        end = starts[-1] + timedelta(days=7)
        async with self.bot.uow() as uow:
            summary = await uow.activity.summary(
                group.id, starts[0], end, starts, closed_before=min(starts[-1], now)
            )
        return summarise(summary, starts)

    @command(
        "stats",
        permission=Permission.STAFF,
        help_key="stats.help",
        options=(Option("weeks", OptionType.INTEGER, min_value=1, max_value=52),),
    )
    async def stats(self, ctx: Context, weeks: int = DEFAULT_WEEKS) -> None:
        """Posts per category, the dialogue ratio, who posts, members, and a chart."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        stats = await self.compute(ctx.group, weeks)
        total = sum(stats.by_role.values())
        async with self.bot.uow() as uow:
            names = {c.key: c.name for c in await uow.categories.for_group(ctx.group.id)}
        categories = ", ".join(
            f"#{names.get(key, key)} {n}" for key, n in stats.posts_by_category.most_common()
        )
        roles = ", ".join(
            f"{ctx.t(f'stats.role.{role}')} {round(100 * stats.by_role[role] / total)}%"
            for role in ROLES
            if stats.by_role.get(role)
        )
        forms = ", ".join(
            f"{ctx.t(f'posts.kind.{k}')} {n}" for k, n in sorted(stats.forms_by_kind.items())
        )
        fields = (
            (ctx.t("stats.f_posts"), categories or "-"),
            (
                ctx.t("stats.f_ratio"),
                ctx.t(
                    "stats.ratio_value",
                    ratio=f"{stats.ratio:.1f}",
                    replies=stats.replies,
                    posts=stats.top_level,
                ),
            ),
            (ctx.t("stats.f_roles"), roles or "-"),
            (
                ctx.t("stats.f_members"),
                ctx.t("stats.members_value", new=stats.new_members, active=stats.active_members),
            ),
            (ctx.t("stats.f_questions"), str(stats.question_replies)),
            (ctx.t("stats.f_forms"), forms or "-"),
        )
        chart = await self._chart(ctx, stats)
        await ctx.reply(
            OutgoingMessage(
                ctx.t("stats.text", since=f"{stats.weeks[0]:%Y-%m-%d}")
                + ("" if chart else " " + ctx.t("stats.no_chart")),
                title=ctx.t("stats.title", weeks=weeks),
                fields=fields,
                image_path=str(chart) if chart else None,
            )
        )

    async def _chart(self, ctx: Context, stats: Stats) -> Path | None:
        """The chart as a PNG, or None when there is no renderer or drawing failed."""
        if self.bot.charts is None:
            return None
        # One file per group and window, overwritten each time: no temp folders piling up.
        path = CHART_DIR / f"stats-{slug(ctx.group.id)}-{len(stats.weeks)}w.png"
        try:
            return await asyncio.to_thread(
                self.bot.charts.render, weekly_chart(stats, ctx.lang), path
            )
        except Exception:
            log.exception("stats chart failed for %s", ctx.group.id)
            return None

    def _rollup_due(self, group: Group, now: datetime) -> str | None:
        return weekly_period(group, now, 0, time(0, 30))

    @job("stats_rollup", period=_rollup_due)
    async def rollup(self, group: Group, period: str) -> None:
        """Roll up the week that just ended, so staff asking for stats never wait for it."""
        await self.compute(group, 52)

    def _digest_due(self, group: Group, now: datetime) -> str | None:
        return weekly_period(group, now, DIGEST_WEEKDAY, DIGEST_AT, not_before=group.created_at)

    @job("weekly_digest", period=_digest_due)
    async def digest(self, group: Group, period: str) -> None:
        """One post in announcements: new jobs, upcoming events, open rentals, new members;
        none in a week with nothing to tell."""
        now = self.bot.clock.now()
        week_ago = now - timedelta(days=7)
        async with self.bot.uow() as uow:
            announcements = await uow.categories.get(group.id, "announcements")
            jobs = [
                p
                for p in await uow.posts.open_posts(group.id, "job")
                if p.created_at and p.created_at >= week_ago
            ]
            events = [
                p
                for p in await uow.posts.open_posts(group.id, "event")
                if p.event_at and now <= p.event_at < now + timedelta(days=14)
            ]
            rentals = await uow.posts.open_posts(group.id, "rental")
            members = [
                m.name
                for m in await uow.members.for_group(group.id)
                if m.joined_at and m.joined_at >= week_ago and m.left_at is None
            ]
        if announcements is None or announcements.channel_id is None:
            log.info("no announcements channel in %s; digest skipped", group.id)
            return
        if not (jobs or events or rentals or members):
            # A quiet week: an empty digest every Monday would teach members to ignore it.
            log.info("nothing new in %s for %s; digest skipped", group.id, period)
            return
        lang = group.language
        none = t(lang, "stats.digest_none")
        fields = (
            (
                t(lang, "stats.digest_jobs"),
                "\n".join(
                    f"{p.fields.get('title', '')} ({p.fields.get('employer', '')})" for p in jobs
                )
                or none,
            ),
            (
                t(lang, "stats.digest_events"),
                "\n".join(
                    f"{p.fields.get('when', '')} {p.fields.get('title', '')}"
                    for p in sorted(events, key=lambda p: p.event_at or now)
                )
                or none,
            ),
            (
                t(lang, "stats.digest_rentals"),
                "\n".join(
                    f"{p.fields.get('what', '')}, {p.fields.get('where', '')}: "
                    f"{p.fields.get('price', '')}"
                    for p in rentals
                )
                or none,
            ),
            (t(lang, "stats.digest_members"), ", ".join(members) or none),
        )
        channel = announcements.channel_id
        message = OutgoingMessage(
            t(lang, "stats.digest_text"),
            title=t(lang, "stats.digest_title", week=period),
            fields=fields,
        )

        async def send() -> MessageRef:
            return await self.bot.workspace.send(group.id, channel, message)

        # Reserved before it is sent, confirmed after: a process that took this week's claim
        # over from a stalled one finds the digest sent (or being sent) and posts no second.
        sent, _ = await post_once(self.bot, group.id, f"digest:{period}", send)
        if sent is Sent.BUSY:
            raise Busy(f"the digest of {period} is being sent by another process")
