"""Keeps the member list: joins and leaves, counted once however often the platform repeats."""

from __future__ import annotations

from dataclasses import replace

from bot.cog import Cog, listen
from bot.core import Bot, Context
from bot.domain import Member
from bot.events import MemberJoined, MemberLeft


async def find_member(bot: Bot, group_id: str, wanted: str) -> Member | None:
    """A member by platform id, name or mention (`@kari`, `<@123>`); members who left last."""
    wanted = wanted.strip().lstrip("@")
    async with bot.uow() as uow:
        member = await uow.members.get(group_id, wanted)
        if member is not None:
            return member
        matches = [
            m
            for m in await uow.members.for_group(group_id)
            if wanted.lower() in (m.name.lower(), m.user_id.lower())
        ]
    matches.sort(key=lambda m: m.left_at is not None)
    return matches[0] if matches else None


class MembersCog(Cog):
    """Records who is in the group; onboarding builds on these records."""

    name = "members"

    @listen(MemberJoined)
    async def joined(self, ctx: Context, event: MemberJoined) -> None:
        """Record (or re-record, after a leave) a member; keeps cohort and history."""
        if "member-recorded" in ctx.handled:
            return  # onboarding recorded this join in its own unit of work
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            member = await uow.members.get(event.group_id, event.user.id)
            if event.returning and (member is None or member.left_at is None):
                return  # an active account changed (a profile edit): nobody joined
            if member is None:
                member = Member(
                    event.group_id,
                    event.user.id,
                    event.user.name or event.user.id,
                    email=event.email,
                    joined_at=now,
                )
            else:
                member = replace(
                    member,
                    left_at=None,
                    email=event.email or member.email,
                    joined_at=member.joined_at if member.left_at is None else now,
                )
            await uow.members.save(member)

    @listen(MemberLeft)
    async def left(self, ctx: Context, event: MemberLeft) -> None:
        """Mark a member as gone; nothing else is deleted."""
        async with self.bot.uow() as uow:
            member = await uow.members.get(event.group_id, event.user.id)
            if member is not None and member.left_at is None:
                await uow.members.save(replace(member, left_at=self.bot.clock.now()))
