"""The channel of each of a group's categories, as features post in it and as messages name it.

A message names the channel the bot really posts in: the category's own name (as the teacher
renamed it, or in the group's language), never a name baked into a catalogue string.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain import Category, Group, Language
from bot.i18n import catalogue, t
from bot.ports import UnitOfWorkFactory, Workspace
from bot.safety import channel_name


def default_name(language: Language, key: str) -> str:
    """A built-in category's channel name in the language ("introductions" / "presentasjoner");
    the key itself for one that has no default."""
    known = f"categories.{key}.name"
    return channel_name(t(language, known)) if known in catalogue(language) else key


def shown_name(language: Language, category: Category | None, key: str) -> str:
    """The name messages give a category's channel: its own, else the default one."""
    return category.name if category is not None else default_name(language, key)


def links(name: str, channel_id: str | None) -> tuple[tuple[str, str], ...]:
    """What an OutgoingMessage's `channels` needs to link "#name" to its channel."""
    return ((name, channel_id),) if channel_id else ()


@dataclass(frozen=True)
class Named:
    """A category's channel as a message names it: its name and, if it has one, its id."""

    name: str
    channel_id: str | None = None

    @property
    def links(self) -> tuple[tuple[str, str], ...]:
        """The message's `channels`, so platforms that link channels link this one."""
        return links(self.name, self.channel_id)


class CategoryChannels:
    """Reads which channel a category has; one helper for every feature that posts or names it."""

    def __init__(self, uow: UnitOfWorkFactory, workspace: Workspace) -> None:
        self.uow = uow
        self.workspace = workspace

    async def category(self, group_id: str, key: str) -> Category | None:
        """The category's record (its name and channel), None when the group has none."""
        async with self.uow() as uow:
            return await uow.categories.get(group_id, key)

    async def live(self, group_id: str, key: str) -> Category | None:
        """The category, only if its channel still exists on the platform; named as the
        platform names the channel now (an admin may have renamed it behind the bot's back)."""
        category = await self.category(group_id, key)
        if category is None or not category.channel_id:
            return None
        existing = await self.workspace.channel_exists(group_id, category.channel_id)
        if existing is None:
            return None
        return replace(category, name=existing.name) if existing.name else category

    async def channel(self, group_id: str, key: str) -> str | None:
        """The id of the category's channel, if it still exists on the platform."""
        category = await self.live(group_id, key)
        return category.channel_id if category is not None else None

    async def named(self, group: Group, key: str) -> Named:
        """The category's channel as messages name it (no "#") and link it."""
        category = await self.category(group.id, key)
        shown = shown_name(group.language, category, key)
        return Named(shown, category.channel_id if category is not None else None)
