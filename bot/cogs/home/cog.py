"""The member's home: heard as `HomeOpened`, answered with one message to draw."""

from __future__ import annotations

import logging

from bot.cog import Cog, listen
from bot.cogs.home import views
from bot.cogs.home.records import Usage
from bot.cogs.home.service import HomeService
from bot.core import Bot, Context
from bot.events import HomeOpened

log = logging.getLogger(__name__)


class HomeCog(Cog):
    """Draws a member's home from every feature's notes (`home_notes(ctx)` on a cog)."""

    name = "home"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = HomeService(bot.uow)
        bot.provide(self.service)

    @listen(HomeOpened)
    async def opened(self, ctx: Context, event: HomeOpened) -> None:
        """Answer with the member's home."""
        ctx.permission = await self.bot.permission_of(ctx.group, ctx.user)
        notes: list[str] = []
        # Features add lines (cohort, next question, pending approvals) without knowing where
        # the home is drawn; one failing feature leaves the others' lines.
        for cog in self.bot.cogs.values():
            home_notes = getattr(cog, "home_notes", None)
            if home_notes is None:
                continue
            try:
                notes += [str(x) for x in await home_notes(ctx)]
            except Exception:
                log.exception("home notes of %s failed", cog.name)
        commands = tuple(Usage(c.usage, c.help_key) for c in self.bot.commands_for(ctx.permission))
        home = await self.service.home(ctx.group, ctx.actor, tuple(notes), commands)
        await ctx.reply(views.home_message(ctx.lang, home))
