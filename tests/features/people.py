"""Members in a service-test world: on the platform and in the bot's records, with roles."""

from __future__ import annotations

from bot.domain import Actor, Member
from tests.features.helpers import World


async def join(w: World, actor: Actor, email: str | None = None, *roles: str) -> Member:
    """The actor joins the group (platform and records) and holds `roles` on both."""
    user_id = w.ws.add_member(actor.name, email)
    assert user_id == actor.id, "an actor's id is their name in lower case"
    now = w.bot.clock.now()
    member = Member(w.group.id, actor.id, actor.name, email=email, joined_at=now)
    async with w.uow() as uow:
        await uow.members.save(member)
        platform_ids = []
        for key in roles:
            await uow.roles.grant(w.group.id, actor.id, key, "test", None, now)
            role = await uow.roles.get(w.group.id, key)
            assert role is not None and role.platform_id, f"no role {key} after setup"
            platform_ids.append(role.platform_id)
        stored = await uow.members.get(w.group.id, actor.id)
    await w.ws.set_roles(w.group.id, actor.id, platform_ids, [])
    assert stored is not None
    return stored
