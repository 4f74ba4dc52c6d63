"""Home's use case: read what a member's home shows."""

from __future__ import annotations

from bot.cogs.home.records import Home, Usage
from bot.domain import Actor, Group
from bot.ports import UnitOfWorkFactory


class HomeService:
    """A member's home, one read."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def home(
        self, group: Group, actor: Actor, notes: tuple[str, ...], commands: tuple[Usage, ...]
    ) -> Home:
        """The roles the member holds (by their names in the group), their level, and the
        features' notes and the commands they may run, as the caller gathered them."""
        async with self.uow() as uow:
            member = await uow.members.get(group.id, actor.id)
            names = {r.key: r.name for r in await uow.roles.for_group(group.id)}
        held = sorted(names.get(k, k) for k in (member.roles if member else frozenset()))
        return Home(tuple(held), actor.permission, notes, commands)
