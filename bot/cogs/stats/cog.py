"""Counting every message, `/alumni stats` with a chart, the rollup and the weekly digest."""

from __future__ import annotations

from datetime import time
from functools import partial

from bot.cog import Cog, command, job, listen
from bot.cogs.mail.service import MailService
from bot.cogs.stats import views
from bot.cogs.stats.service import (
    CHART_FOLDER,
    DEFAULT_WEEKS,
    DIGEST_AT,
    DIGEST_WEEKDAY,
    MAX_WEEKS,
    StatsService,
)
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.events import MessagePosted
from bot.scheduler import post_once, weekly_period

# Monday just after midnight: the week that ended is rolled up before anyone asks.
ROLLUP_AT = time(0, 30)


class StatsCog(Cog):
    """Counts every message, shows staff whether the group talks, and posts a weekly digest."""

    name = "stats"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = StatsService(
            bot.uow,
            bot.workspace,
            bot.clock,
            bot.activity,
            bot.charts,
            bot.config.data_dir / CHART_FOLDER,
            bot.service(MailService),
            partial(post_once, bot),
        )
        bot.provide(self.service)

    @listen(MessagePosted)
    async def count_message(self, ctx: Context, event: MessagePosted) -> None:
        """Count every message once (never its text); the only place activity is recorded."""
        await self.service.count(event.group_id, event.user, event.channel.id, event.thread_id)

    @command(
        "stats",
        permission=Permission.STAFF,
        help_key="stats.help",
        options=(Option("weeks", OptionType.INTEGER, min_value=1, max_value=MAX_WEEKS),),
    )
    async def stats(self, ctx: Context, weeks: int = DEFAULT_WEEKS) -> None:
        """Posts per category, the dialogue ratio, who posts, members, and a chart."""
        if ctx.responder is not None:
            # The chart takes a second or two: acknowledge before drawing it.
            await ctx.responder.defer()
        await ctx.reply(views.report(ctx.lang, await self.service.report(ctx.group, weeks)))

    @job("stats_rollup", period=lambda self, group, now: weekly_period(group, now, 0, ROLLUP_AT))
    async def rollup(self, group: Group, period: str) -> None:
        """Roll up the week that just ended, so staff asking for stats never wait for it."""
        await self.service.rollup(group)

    @job(
        "weekly_digest",
        period=lambda self, group, now: weekly_period(
            group, now, DIGEST_WEEKDAY, DIGEST_AT, not_before=group.created_at
        ),
    )
    async def digest(self, group: Group, period: str) -> None:
        """One post in announcements; none in a week with nothing to tell."""
        await self.service.digest(group, period)
