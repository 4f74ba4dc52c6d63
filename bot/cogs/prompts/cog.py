"""`/alumni prompt ...`, the Accept/Reject buttons, and the weekly and recap jobs."""

from __future__ import annotations

from bot.cog import Cog, button, command, job
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.prompts import views
from bot.cogs.prompts.bank import OPEN_THEME
from bot.cogs.prompts.plan import DAYS, DAYS_NB, due_period, hour_period
from bot.cogs.prompts.records import AskedThisWeek
from bot.cogs.prompts.service import THEME_CHOICES, PromptsService
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.events import ButtonPressed
from bot.safety import clip

_TEXT = Option("text", rest=True, max_length=4000)


class PromptsCog(Cog):
    """A question a week in #discussion, its thread counted by role, and a recap a week later."""

    name = "prompts"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = PromptsService(
            bot.uow,
            bot.workspace,
            bot.clock,
            bot.service(PrivacyService),
            flush=bot.activity.flush,
        )
        bot.provide(self.service)

    # Jobs run in the order of their names: the recap before the new question.
    @job("prompts.recap", period=lambda self, group, now: hour_period(group, now))
    async def recap_job(self, group: Group, period: str) -> None:
        """Post the recap of every run a week old."""
        await self.service.recaps(group)

    @job("prompts.weekly", period=lambda self, group, now: due_period(group, now))
    async def weekly_job(self, group: Group, period: str) -> None:
        """Post the week's question; a late one takes the place of a slot right after it."""
        await self.service.weekly(group, period)

    @command(
        "prompt add",
        permission=Permission.STAFF,
        help_key="prompts.add_help",
        options=(
            Option("theme", OptionType.CHOICE, choices=THEME_CHOICES, words="prompts.theme_word"),
            Option("options", max_length=400),
            _TEXT,
        ),
    )
    async def add(
        self, ctx: Context, text: str = "", theme: str = OPEN_THEME, options: str = ""
    ) -> None:
        """Staff add a question straight to the queue (optionally with poll answers)."""
        prompt = await self.service.add(ctx.group, ctx.actor, text, theme, options)
        await ctx.say(
            "prompts.added", text=prompt.text, theme=ctx.t(f"prompts.theme_word.{prompt.theme}")
        )

    @command(
        "prompt suggest",
        permission=Permission.MEMBER,
        help_key="prompts.suggest_help",
        options=(_TEXT,),
    )
    async def suggest(self, ctx: Context, text: str = "") -> None:
        """A member suggests a question; staff accept or reject it with a button."""
        await self.service.suggest(ctx.group, ctx.actor, text)
        await ctx.say("prompts.suggested")

    @button(views.ACCEPT_ACTION, permission=Permission.STAFF, value=int)
    async def accept(self, ctx: Context, event: ButtonPressed, value: int) -> None:
        """Staff accept a suggestion into the queue."""
        decision = await self.service.accept(ctx.group, ctx.actor, value, event.message)
        await ctx.reply(views.answer(ctx.lang, decision))

    @button(views.REJECT_ACTION, permission=Permission.STAFF, value=int)
    async def reject(self, ctx: Context, event: ButtonPressed, value: int) -> None:
        """Staff reject a suggestion."""
        decision = await self.service.reject(ctx.group, ctx.actor, value, event.message)
        await ctx.reply(views.answer(ctx.lang, decision))

    @command("prompt list", permission=Permission.STAFF, help_key="prompts.list_help")
    async def list_(self, ctx: Context) -> None:
        """The schedule, the next questions and the suggestions waiting for a decision."""
        await ctx.reply(views.overview(ctx.lang, await self.service.overview(ctx.group)))

    @command(
        "prompt schedule",
        permission=Permission.STAFF,
        help_key="prompts.schedule_help",
        options=(
            Option("day", OptionType.CHOICE, choices=(*DAYS, *DAYS_NB)),
            Option("time", max_length=5),
            Option("timezone", max_length=64),
        ),
    )
    async def schedule(
        self,
        ctx: Context,
        day: str | None = None,
        time: str | None = None,
        timezone: str | None = None,
    ) -> None:
        """Change the weekly slot; without options, show it."""
        slot = await self.service.schedule(ctx.group, day, time, timezone)
        await ctx.reply(views.schedule(ctx.lang, slot))

    @command("prompt pause", permission=Permission.STAFF, help_key="prompts.pause_help")
    async def pause(self, ctx: Context) -> None:
        """Stop the weekly question until resumed."""
        await self.service.pause(ctx.group)
        await ctx.say("prompts.paused")

    @command("prompt resume", permission=Permission.STAFF, help_key="prompts.resume_help")
    async def resume(self, ctx: Context) -> None:
        """Start the weekly question again from the next slot."""
        await ctx.reply(views.schedule(ctx.lang, await self.service.resume(ctx.group)))

    @command("prompt now", permission=Permission.STAFF, help_key="prompts.now_help")
    async def now(self, ctx: Context) -> None:
        """Post the next question right away (the weekly one still comes); asks first in a
        week that had its question."""
        await self._post_now(ctx, None)

    @button(views.NOW_ACTION, permission=Permission.STAFF, value=int)
    async def now_confirmed(self, ctx: Context, event: ButtonPressed, value: int) -> None:
        """Staff said yes to another question this week (`value`: how many they saw)."""
        await self._post_now(ctx, value)

    async def _post_now(self, ctx: Context, confirmed: int | None) -> None:
        posted = await self.service.post_now(ctx.group, confirmed)
        if isinstance(posted, AskedThisWeek):
            await ctx.reply(views.ask_another(ctx.lang, posted))
            return
        where = await self.service.channel(ctx.group)
        text = clip(posted.text_in(ctx.lang.value), 200)
        await ctx.say("prompts.posted_now", text=text, channel=where.name, channels=where.links)

    @command("prompt join", permission=Permission.MEMBER, help_key="prompts.join_help")
    async def join(self, ctx: Context) -> None:
        """Take the opt-in discussion role, which is pinged for each question."""
        role = await self.service.join(ctx.group, ctx.actor)
        await ctx.say("prompts.joined", role=role.name)

    @command("prompt leave", permission=Permission.MEMBER, help_key="prompts.leave_help")
    async def leave(self, ctx: Context) -> None:
        """Drop the discussion role."""
        role = await self.service.leave(ctx.group, ctx.actor)
        await ctx.say("prompts.left", role=role.name)

    async def home_notes(self, ctx: Context) -> list[str]:
        """A line for a member's home view (the Slack App Home asks each cog for these)."""
        return await self.service.home_notes(ctx.group, ctx.actor)
