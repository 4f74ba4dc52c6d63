"""Numbers that show whether the group talks: `/alumni stats` with a chart, and a weekly digest."""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.activity import ROLES, ActivitySummary, Pending
from bot.cog import Cog, command, job, listen
from bot.cogs.mail.service import MailService
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Group, Language, Permission
from bot.events import MessagePosted, MessageRef
from bot.i18n import catalogue, day, join, number, percent, t, week
from bot.messages import OutgoingMessage
from bot.onboarding_records import WELCOME_FALLBACKS_KEY, fallbacks_between
from bot.ports import ChartSeries, ChartWeek, WeeklyChart
from bot.safety import slug
from bot.scheduler import Busy, Sent, post_once, weekly_period

log = logging.getLogger(__name__)
CHART_DIR = Path(tempfile.gettempdir()) / "alumnibot-charts"

# After the weekly question (Monday morning), before lunch is over.
DIGEST_WEEKDAY = 0
DIGEST_AT = time(12, 0)
DEFAULT_WEEKS = 4
WEEK = timedelta(days=7)
# The chart's title compares students' share in up to this many last full weeks with before.
RECENT_WEEKS = 4


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
    # Messages (posts and replies) per role, one count per week.
    weekly_by_role: dict[str, list[int]] = field(default_factory=dict)
    active_members: int = 0
    new_members: int = 0
    forms_by_kind: dict[str, int] = field(default_factory=dict)
    # When the figures were taken: the last week is still running if it has not ended by then.
    now: datetime | None = None

    @property
    def ratio(self) -> float:
        """Replies per top-level post: the dialogue ratio."""
        return self.replies / self.top_level if self.top_level else 0.0

    @property
    def weekly_messages(self) -> list[int]:
        """Posts and replies per week."""
        return [p + r for p, r in zip(self.weekly_top, self.weekly_replies, strict=True)]

    @property
    def running(self) -> bool:
        """The last week has not ended yet: its bar shows the week so far."""
        return self.now is not None and bool(self.weeks) and self.now < self.weeks[-1] + WEEK


def week_starts(group: Group, now: datetime, weeks: int) -> list[datetime]:
    """Local Mondays 00:00 (as aware datetimes) of the last `weeks` weeks, oldest first."""
    tz = ZoneInfo(group.timezone)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return [
        datetime.combine(monday - timedelta(weeks=weeks - 1 - i), time(0, 0), tzinfo=tz)
        for i in range(weeks)
    ]


def summarise(
    summary: ActivitySummary, weeks: list[datetime], now: datetime | None = None
) -> Stats:
    """Sum the aggregated buckets (a few hundred rows at most) into the figures shown."""
    n = len(weeks)
    stats = Stats(
        weeks,
        weekly_top=[0] * n,
        weekly_replies=[0] * n,
        weekly_by_role={role: [0] * n for role in ROLES},
        now=now,
    )
    for c in summary.counts:
        i = min(max(c.week, 0), n - 1)
        stats.by_role[c.author_role] += c.count
        # A role the chart does not know (older data) is drawn with the members without one.
        role = c.author_role if c.author_role in stats.weekly_by_role else "member"
        stats.weekly_by_role[role][i] += c.count
        if c.is_reply:
            stats.replies += c.count
            stats.weekly_replies[i] += c.count
            if c.in_prompt_thread:
                stats.question_replies += c.count
        else:
            stats.top_level += c.count
            stats.weekly_top[i] += c.count
            stats.posts_by_category[c.category_key or "-"] += c.count
    stats.active_members = summary.active_members
    stats.new_members = summary.new_members
    stats.forms_by_kind = dict(summary.posts_opened)
    return stats


def _student_share(stats: Stats, lo: int, hi: int) -> tuple[int, float]:
    """Messages in weeks [lo, hi) and the share of them students wrote."""
    total = sum(stats.weekly_messages[lo:hi])
    students = sum(stats.weekly_by_role["student"][lo:hi])
    return total, students / total if total else 0.0


def takeaway(stats: Stats, lang: Language) -> tuple[str, str]:
    """The chart's title (students' share of messages, and how it moved) and what it compares.

    Students are the subject: the group works when they dare to post. The last full weeks
    (up to RECENT_WEEKS, at most half of them) are compared with the full weeks before; a
    running week counts only when nothing can be compared.
    """
    n = len(stats.weeks)
    if sum(stats.weekly_messages) == 0:
        return t(lang, "stats.takeaway_none", count=n), t(lang, "stats.takeaway_none_sub")
    full = n - 1 if stats.running else n
    recent = min(RECENT_WEEKS, full // 2)
    recent_total, now_share = _student_share(stats, full - recent, full)
    before_total, then_share = _student_share(stats, 0, full - recent)
    if recent and recent_total and before_total:
        now_text, then_text = percent(lang, now_share), percent(lang, then_share)
        # Compared as people read them: "36 %" and "36 %" are the same, whatever the decimals.
        trend = "same" if now_text == then_text else "up" if now_share > then_share else "down"
        title = t(lang, f"stats.takeaway_{trend}", share=now_text, before=then_text)
        subtitle = t(
            lang,
            "stats.takeaway_compared",
            recent=t(lang, "stats.last_full_weeks", count=recent),
            before=t(lang, "stats.weeks_before", count=full - recent),
        )
        return title, subtitle
    _, share = _student_share(stats, 0, n)
    key = "stats.takeaway_running" if n == 1 and stats.running else "stats.takeaway_all"
    return t(lang, "stats.takeaway", share=percent(lang, share)), t(lang, key, count=n)


def nice_ticks(top: int) -> list[int]:
    """0 and up to five round steps (1, 2, 5 x 10^k) reaching at least `top`; [0] for none."""
    if top <= 0:
        return [0]
    step = 1
    while True:
        for factor in (1, 2, 5):
            if math.ceil(top / (step * factor)) <= 5:
                size = step * factor
                return [size * i for i in range(math.ceil(top / size) + 1)]
        step *= 10


def weekly_chart(stats: Stats, lang: Language) -> WeeklyChart:
    """Messages per week by role with the replies, labelled and titled in the group's language."""
    totals = stats.weekly_messages
    title, subtitle = takeaway(stats, lang)
    weeks = tuple(
        ChartWeek(week(lang, w), str(w.isocalendar().year), number(lang, total))
        for w, total in zip(stats.weeks, totals, strict=True)
    )
    stacks = tuple(
        ChartSeries(role, t(lang, f"stats.role.{role}"), tuple(stats.weekly_by_role[role]))
        for role in ROLES
        if any(stats.weekly_by_role[role])
    )
    return WeeklyChart(
        title=title,
        subtitle=subtitle,
        weeks=weeks,
        stacks=stacks,
        replies=ChartSeries("replies", t(lang, "stats.chart_replies"), tuple(stats.weekly_replies)),
        axis=t(lang, "stats.chart_axis"),
        ticks=tuple((v, number(lang, v)) for v in nice_ticks(max(totals, default=0))),
        no_messages=t(lang, "stats.chart_no_messages"),
        nobody_replied=t(lang, "stats.chart_nobody_replied"),
        so_far=t(lang, "stats.chart_so_far") if stats.running else None,
    )


class StatsCog(Cog):
    """Counts every message, shows staff whether the group talks, and posts a weekly digest."""

    name = "stats"

    @listen(MessagePosted)
    async def count_message(self, ctx: Context, event: MessagePosted) -> None:
        """Count every message once (never its text); the only place activity is recorded."""
        await self.bot.activity.add(
            Pending(
                event.group_id,
                event.user.id,
                event.channel.id,
                event.thread_id,
                event.thread_id is not None,
                self.bot.clock.now(),
            )
        )

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
        return summarise(summary, starts, now)

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
        chart = await self._chart(ctx, stats)
        await ctx.reply(
            OutgoingMessage(
                ctx.t("stats.text", since=day(ctx.lang, stats.weeks[0]))
                + ("" if chart else " " + ctx.t("stats.no_chart")),
                title=ctx.t("stats.title", count=weeks),
                fields=await self._fields(ctx, stats),
                image_path=str(chart) if chart else None,
            )
        )

    async def _fields(self, ctx: Context, stats: Stats) -> tuple[tuple[str, str], ...]:
        """The figures as fields, every number and name in the group's language."""
        lang = ctx.lang
        async with self.bot.uow() as uow:
            names = {c.key: c.name for c in await uow.categories.for_group(ctx.group.id)}
            fallbacks_raw = await uow.kv.get(ctx.group.id, WELCOME_FALLBACKS_KEY)
        start = stats.weeks[0].date()
        fell_back = fallbacks_between(
            fallbacks_raw, start, start + timedelta(days=7 * len(stats.weeks))
        )

        def channel(key: str) -> str:
            if key in names:
                return f"#{names[key]}"
            # A dropped category still has its default name; messages outside any are "other".
            known = f"categories.{key}.name"
            return f"#{t(lang, known)}" if key != "-" and known in catalogue(lang) else ""

        categories = join(
            lang,
            [
                t(
                    lang,
                    "stats.channel_count",
                    channel=channel(key) or t(lang, "stats.elsewhere"),
                    count=n,
                )
                for key, n in stats.posts_by_category.most_common()
            ],
        )
        total = sum(stats.by_role.values())
        roles = join(
            lang,
            [
                t(
                    lang,
                    "stats.role_share",
                    role=t(lang, f"stats.role.{role}"),
                    share=percent(lang, stats.by_role[role] / total),
                )
                for role in ROLES
                if stats.by_role.get(role)
            ],
        )
        forms = join(
            lang,
            [
                t(lang, "stats.channel_count", channel=t(lang, f"posts.kind.{k}"), count=n)
                for k, n in sorted(stats.forms_by_kind.items())
            ],
        )
        # A whole ratio is one form ("1 reply per post"); a float 1.0 would read as "other".
        ratio = round(stats.ratio, 1)
        per_post = int(ratio) if ratio.is_integer() else ratio
        dialogue = t(
            lang,
            "stats.ratio_value",
            count=per_post,
            replies=t(lang, "stats.n_replies", count=stats.replies),
            posts=t(lang, "stats.n_posts", count=stats.top_level),
        )
        members = t(
            lang,
            "stats.members_value",
            new=t(lang, "stats.n_new", count=stats.new_members),
            active=t(lang, "stats.n_active", count=stats.active_members),
        )
        return (
            (t(lang, "stats.f_posts"), categories or "-"),
            (t(lang, "stats.f_ratio"), dialogue),
            (t(lang, "stats.f_roles"), roles or "-"),
            (t(lang, "stats.f_members"), members),
            (t(lang, "stats.f_questions"), number(lang, stats.question_replies)),
            (t(lang, "stats.f_forms"), forms or "-"),
            (
                t(lang, "stats.f_welcome_fallbacks"),
                t(
                    lang,
                    "stats.welcome_fallbacks_value",
                    count=number(lang, fell_back),
                    new=number(lang, stats.new_members),
                ),
            ),
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
        digest = OutgoingMessage(
            t(lang, "stats.digest_text"),
            title=t(lang, "stats.digest_title", week=period),
            fields=fields,
        )
        # Email first: its per-member-per-week rows make a retried job queue nothing twice.
        await self.bot.service(MailService).queue_digest(group, period, digest)

        async def send() -> MessageRef:
            return await self.bot.workspace.send(group.id, channel, digest)

        # Reserved before it is sent, confirmed after: a process that took this week's claim
        # over from a stalled one finds the digest sent (or being sent) and posts no second.
        sent, _ = await post_once(self.bot, group.id, f"digest:{period}", send)
        if sent is Sent.BUSY:
            raise Busy(f"the digest of {period} is being sent by another process")
