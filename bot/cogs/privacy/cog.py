"""`/alumni privacy export`, `/alumni privacy delete` with its buttons, and the daily retention."""

from __future__ import annotations

import logging
from datetime import datetime
from datetime import time as clock_time

from bot.cog import Cog, button, command, job
from bot.cogs.privacy import views
from bot.cogs.privacy.service import PrivacyService
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.events import ButtonPressed
from bot.scheduler import daily_period

log = logging.getLogger(__name__)

RETENTION_AT = clock_time(4, 0)


class PrivacyCog(Cog):
    """`/alumni privacy export`, `/alumni privacy delete`, and the daily retention job."""

    name = "privacy"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = PrivacyService(
            bot.uow, bot.workspace, bot.clock, bot.activity, bot.config.data_dir
        )
        bot.provide(self.service)

    @command("privacy export", permission=Permission.MEMBER, help_key="privacy.export_help")
    async def export(self, ctx: Context) -> None:
        """Send the member, by DM, a JSON file of every row that names them."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        await self.service.export(ctx.group, ctx.actor)
        await ctx.say("privacy.export_sent")

    @command("privacy delete", permission=Permission.MEMBER, help_key="privacy.delete_help")
    async def delete(self, ctx: Context) -> None:
        """Ask for confirmation before erasing anything."""
        await ctx.reply(views.confirm(ctx.lang, ctx.user.id))

    @button(views.ERASE_ACTION, value=views.member_id)
    async def erase(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Erase the member's data (only theirs: the button carries whom it is for)."""
        # Many edits can take longer than the platform waits for an answer.
        started = ctx.responder.defer if ctx.responder is not None else None
        erasure = await self.service.erase(ctx.group, ctx.actor, value, started=started)
        await ctx.reply(views.erased(ctx.lang, erasure))

    @button(views.CANCEL_ACTION, value=views.member_id)
    async def cancel(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Nothing happens."""
        await ctx.say("privacy.cancelled")

    def _retention_due(self, group: Group, now: datetime) -> str | None:
        return daily_period(group, now, RETENTION_AT)

    @job("privacy-retention", period=_retention_due)
    async def retention(self, group: Group, period: str) -> None:
        """Delete code attempts after a day and event keys after a week; sweep old exports."""
        done = await self.service.retention(group)
        log.info(
            "retention in %s for %s: %s, %d old exports", group.id, period, done.purged, done.swept
        )
