"""GroupFacts from the bot's own records: what a workspace may know, and nothing more."""

from __future__ import annotations

from bot.domain import TrustedRole
from bot.messages import Visibility
from bot.ports import UnitOfWorkFactory


class StoredFacts:
    """The GroupFacts port over the unit of work, one short read per question."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def welcome_channel(self, group_id: str) -> str | None:
        """The welcome category's channel."""
        async with self.uow() as uow:
            welcome = await uow.categories.get(group_id, "welcome")
        return welcome.channel_id if welcome is not None else None

    async def staff_channels(self, group_id: str) -> tuple[str | None, tuple[str, ...]]:
        """The staff role's id and the channels of staff-only categories in use."""
        async with self.uow() as uow:
            staff = await uow.roles.get(group_id, TrustedRole.STAFF.value)
            if staff is None or not staff.platform_id:
                return None, ()
            categories = await uow.categories.for_group(group_id)
        channels = tuple(
            c.channel_id
            for c in categories
            if c.visibility is Visibility.STAFF and c.channel_id and not c.removed
        )
        return staff.platform_id, channels

    async def role_ids(self, group_id: str) -> tuple[str, ...]:
        """Every managed role that exists on the platform."""
        async with self.uow() as uow:
            return tuple(
                r.platform_id for r in await uow.roles.for_group(group_id) if r.platform_id
            )

    async def holders(self, group_id: str, role_id: str) -> list[str] | None:
        """The role's holders as the bot recorded them."""
        async with self.uow() as uow:
            roles = await uow.roles.for_group(group_id)
            record = next((r for r in roles if r.platform_id == role_id), None)
            if record is None:
                return None
            return await uow.roles.holders(group_id, record.key)
