"""Keeps the member list: leaves are recorded once however often the platform repeats them.

Joins are recorded by onboarding's join use case, in the same transaction that matches the
roster and tells a newcomer from a replay.
"""

from __future__ import annotations

from bot.cog import Cog, listen
from bot.cogs.members.service import MembersService
from bot.core import Bot, Context
from bot.events import MemberLeft


class MembersCog(Cog):
    """Records who is in the group; onboarding and profiles find members through its service."""

    name = "members"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = MembersService(bot.uow, bot.workspace, bot.clock)
        bot.provide(self.service)

    @listen(MemberLeft)
    async def left(self, ctx: Context, event: MemberLeft) -> None:
        """Mark a member as gone; nothing else is deleted."""
        await self.service.left(event.group_id, event.user.id)
