"""`/alumni dashboard`: a private sign-in link for staff (the pages: adapters/web)."""

from __future__ import annotations

from bot.cog import Cog, command
from bot.cogs.dashboard.service import LINK_LIFETIME, DashboardService
from bot.core import Bot, Context
from bot.domain import Permission


class DashboardCog(Cog):
    """Staff sign in to the web dashboard with a link the bot gives them privately."""

    name = "dashboard"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = DashboardService(bot.uow, bot.workspace, bot.clock, bot.handle)
        bot.provide(self.service)

    @command("dashboard", permission=Permission.STAFF, help_key="dashboard.help")
    async def dashboard(self, ctx: Context) -> None:
        """Answer privately with a single-use sign-in link."""
        url = await self.service.link(ctx.group, ctx.actor)
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        await ctx.say("dashboard.link", url=url, count=minutes)
