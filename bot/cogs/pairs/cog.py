"""`/alumni pairs join|leave|status|every|stats`, the "did you meet?" buttons and the two jobs."""

from __future__ import annotations

from datetime import date, datetime, time

from bot.cog import Cog, button, command, job
from bot.cogs.pairs import views
from bot.cogs.pairs.records import Answer
from bot.cogs.pairs.service import PairsService
from bot.cogs.pairs.settings import MAX_WEEKS, MIN_WEEKS
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.profiles.service import ProfilesService
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.events import ButtonPressed
from bot.scheduler import daily_period, weekly_period

# Rounds start on Monday mornings (group time); the question follows a week later.
ROUND_WEEKDAY = 0
ROUND_AT = time(10, 0)


class PairsCog(Cog):
    """Coffee pairs: opt in, rounds by DM, "did you meet?", and staff's counts."""

    name = "pairs"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = PairsService(
            bot.uow,
            bot.workspace,
            bot.clock,
            bot.service(ProfilesService),
            bot.service(PrivacyService),
        )
        bot.provide(self.service)

    @command("pairs join", permission=Permission.MEMBER, help_key="pairs.join_help")
    async def join(self, ctx: Context) -> None:
        """Opt in to coffee pairs."""
        joined = await self.service.join(ctx.group, ctx.actor)
        await ctx.reply(views.joined(ctx.lang, joined))

    @command("pairs leave", permission=Permission.MEMBER, help_key="pairs.leave_help")
    async def leave(self, ctx: Context) -> None:
        """Opt out of coffee pairs."""
        removed = await self.service.leave(ctx.group, ctx.actor)
        await ctx.say("pairs.left" if removed else "pairs.not_in")

    @command("pairs status", permission=Permission.MEMBER, help_key="pairs.status_help")
    async def status(self, ctx: Context) -> None:
        """Whether you are in, how many are, and your latest pair."""
        status = await self.service.status(ctx.group, ctx.actor)
        await ctx.reply(views.status(ctx.lang, status))

    @command(
        "pairs every",
        permission=Permission.STAFF,
        help_key="pairs.every_help",
        options=(
            Option(
                "weeks", OptionType.INTEGER, required=True, min_value=MIN_WEEKS, max_value=MAX_WEEKS
            ),
        ),
    )
    async def every(self, ctx: Context, weeks: int) -> None:
        """Set how many weeks pass between rounds."""
        settings = await self.service.set_interval(ctx.group, weeks)
        await ctx.say("pairs.every_set", count=settings.every_weeks)

    @command("pairs stats", permission=Permission.STAFF, help_key="pairs.stats_help")
    async def stats(self, ctx: Context) -> None:
        """Per round: pairs made, and how many said they met."""
        stats = await self.service.stats(ctx.group)
        await ctx.reply(views.stats(ctx.lang, stats))

    @button(views.MET_ACTION, value=views.parse_met)
    async def met(self, ctx: Context, event: ButtonPressed, value: tuple[int, Answer]) -> None:
        """Record a member's answer (they may change it by pressing again)."""
        pair_id, answer = value
        await self.service.answer(ctx.group, ctx.actor, pair_id, answer)
        await ctx.reply(views.thanks(ctx.lang, answer))

    def round_period(self, group: Group, now: datetime) -> str | None:
        """This week's slot once Monday 10:00 (group time) has passed."""
        return weekly_period(group, now, ROUND_WEEKDAY, ROUND_AT)

    @job("pairs-round", period=round_period)
    async def run_round(self, group: Group, period: str) -> None:
        """Pair this week if the last round is at least N weeks old; tell everyone by DM."""
        await self.service.run_round(group, period)

    def follow_up_period(self, group: Group, now: datetime) -> str | None:
        """Once a day, in the morning."""
        return daily_period(group, now)

    @job("pairs-follow-up", period=follow_up_period)
    async def follow_up(self, group: Group, period: str) -> None:
        """Ask the members of each pair a week old whether they met."""
        await self.service.follow_up(group, date.fromisoformat(period))
