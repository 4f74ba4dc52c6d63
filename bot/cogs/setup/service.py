"""Setup's use cases: build and repair the group, manage its categories, language and timezone."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from pydantic import ValidationError

from bot.cogs.setup.defaults import (
    COHORT_ROLE_PREFIX,
    DEFAULT_CATEGORIES,
    DEFAULT_ROLES,
    PINGED_ROLES,
    REQUIRED_CATEGORIES,
)
from bot.cogs.setup.records import Renamed, SetupReport, TranslatePlan, Translation
from bot.cogs.setup.settings import GroupBasics
from bot.domain import Category, Group, Language, RoleRecord
from bot.errors import UserError
from bot.group_settings import PROGRAMME_MAX, GroupProfile
from bot.i18n import t
from bot.messages import ChannelSpec, Posting, RoleSpec
from bot.ports import HasSections, RepairsRoles, UnitOfWorkFactory, Workspace
from bot.safety import channel_name, neutralise, slug

log = logging.getLogger(__name__)


def default_categories(group: Group) -> list[Category]:
    """The built-in categories named in the group's language."""
    return [
        Category(
            group_id=group.id,
            key=d.key,
            name=channel_name(t(group.language, f"categories.{d.key}.name")),
            description=t(group.language, f"categories.{d.key}.description"),
            channel_id=None,
            posting=d.posting,
            visibility=d.visibility,
            listing=d.listing,
            position=i,
        )
        for i, d in enumerate(DEFAULT_CATEGORIES)
    ]


def channel_spec(category: Category, staff_role_id: str | None, section: str) -> ChannelSpec:
    """The channel a category should have."""
    return ChannelSpec(
        name=category.name,
        topic=category.description,
        section=section,
        posting=category.posting,
        visibility=category.visibility,
        listing=category.listing,
        staff_role_id=staff_role_id,
    )


def _in_other_languages(group: Group, key: str, *, channel: bool = False) -> set[str]:
    """The bot's default for a catalogue key in every language but the group's."""
    texts = {t(lang, key) for lang in Language if lang is not group.language}
    return {channel_name(x) for x in texts} if channel else texts


@dataclass(frozen=True)
class _Step:
    """One thing `translate` changes: a category (new name and description) or a role."""

    translation: Translation
    category: Category | None = None
    role: RoleRecord | None = None


class SetupService:
    """The group's channels, roles, categories and basics; one use case per method."""

    def __init__(self, uow: UnitOfWorkFactory, workspace: Workspace) -> None:
        self.uow = uow
        self.workspace = workspace

    async def run(self, group: Group) -> SetupReport:
        """Ensure roles, then one channel per category; each id is stored as soon as it exists."""
        ws = self.workspace
        created: list[str] = []
        found: list[str] = []
        fixed: list[str] = []
        async with self.uow() as uow:
            roles = {r.key: r for r in await uow.roles.for_group(group.id)}
            categories = await uow.categories.for_group(group.id, include_removed=True)
            if not categories:
                categories = default_categories(group)
                for category in categories:
                    await uow.categories.save(category)
        for key in DEFAULT_ROLES:
            role = roles.get(key)
            name = role.name if role else t(group.language, f"roles.{key}")
            role_spec = RoleSpec(name=name, mentionable=key in PINGED_ROLES)
            if role and role.platform_id and await ws.role_exists(group.id, role.platform_id):
                repaired = await self._repair_role(group, role.platform_id, role_spec)
                (fixed if repaired else found).append("@" + name)
                continue
            platform_id = await ws.create_role(group.id, role_spec)
            roles[key] = RoleRecord(group.id, key, name, platform_id)
            async with self.uow() as uow:
                await uow.roles.save(roles[key])
            created.append("@" + name)
        for role in roles.values():
            # Cohort roles are pinged at graduation: a drifted one is made mentionable again.
            if role.key.startswith(COHORT_ROLE_PREFIX) and role.platform_id:
                cohort_spec = RoleSpec(name=role.name, mentionable=True)
                if await self._repair_role(group, role.platform_id, cohort_spec):
                    fixed.append("@" + role.name)
        staff_role = roles["staff"].platform_id
        for category in categories:
            if category.removed:
                continue
            spec = channel_spec(category, staff_role, t(group.language, "setup.section"))
            existing = (
                await ws.channel_exists(group.id, category.channel_id)
                if category.channel_id
                else None
            )
            if existing is not None:
                assert category.channel_id is not None
                changed = await ws.apply_channel_spec(group.id, category.channel_id, spec)
                (fixed if changed else found).append("#" + existing.name)
                continue
            channel = await ws.create_channel(group.id, spec)
            async with self.uow() as uow:
                await uow.categories.save(replace(category, channel_id=channel.id))
            created.append("#" + category.name)
        log.info(
            "setup for %s: %d created, %d found, %d fixed",
            group.id,
            len(created),
            len(found),
            len(fixed),
        )
        return SetupReport(tuple(created), tuple(found), tuple(fixed))

    async def untranslated(self, group: Group) -> TranslatePlan:
        """What `translate` would rename: the bot's channels, descriptions and default roles
        still named as the bot names them in another language; staff's own names are kept."""
        steps, kept = await self._translation_steps(group)
        return TranslatePlan(tuple(s.translation for s in steps), kept)

    async def translate(self, group: Group) -> TranslatePlan:
        """Rename into the group's language what `untranslated` lists, platform first, each
        stored as soon as it is renamed (a refusal half-way keeps what was done; running it
        again does the rest and renames nothing twice)."""
        steps, kept = await self._translation_steps(group)
        ws = self.workspace
        async with self.uow() as uow:
            staff = await uow.roles.get(group.id, "staff")
        section = t(group.language, "setup.section")
        for step in steps:
            if step.category is not None:
                category = step.category
                if category.channel_id:
                    if step.translation.old != step.translation.new:
                        await ws.rename_channel(group.id, category.channel_id, category.name)
                    spec = channel_spec(category, staff.platform_id if staff else None, section)
                    await ws.apply_channel_spec(group.id, category.channel_id, spec)
                async with self.uow() as uow:
                    await uow.categories.save(category)
            elif step.role is not None:
                role = step.role
                if role.platform_id and await ws.role_exists(group.id, role.platform_id):
                    await ws.rename_role(group.id, role.platform_id, role.name)
                async with self.uow() as uow:
                    await uow.roles.save(role)
        moved = [s.translation for s in steps]
        renamed_section = await self._translate_section(group)
        if renamed_section is not None:
            moved.append(renamed_section)
        log.info("translated %d names for %s into %s", len(moved), group.id, group.language)
        return TranslatePlan(tuple(moved), kept)

    async def _translate_section(self, group: Group) -> Translation | None:
        """The section the bot's channels sit in, renamed into the group's language when it
        still has the bot's name in another (on platforms with sections)."""
        ws = self.workspace
        if not isinstance(ws, HasSections):
            return None
        async with self.uow() as uow:
            channel = next(
                (c.channel_id for c in await uow.categories.for_group(group.id) if c.channel_id),
                None,
            )
        if channel is None:
            return None
        new = t(group.language, "setup.section")
        for old in sorted(_in_other_languages(group, "setup.section")):
            if old != new and await ws.rename_section(group.id, channel, old, new):
                return Translation(old, new)
        return None

    async def _translation_steps(self, group: Group) -> tuple[list[_Step], tuple[str, ...]]:
        """The steps `translate` takes (each with the record as it will be) and what it keeps."""
        lang = group.language
        async with self.uow() as uow:
            categories = await uow.categories.for_group(group.id)
            roles = {r.key: r for r in await uow.roles.for_group(group.id)}
        builtin = {d.key for d in DEFAULT_CATEGORIES}
        steps: list[_Step] = []
        kept: list[str] = []
        for c in categories:
            if not c.builtin or c.key not in builtin:
                continue
            name = channel_name(t(lang, f"categories.{c.key}.name"))
            description = t(lang, f"categories.{c.key}.description")
            key = f"categories.{c.key}"
            renamed = c.name != name and c.name in _in_other_languages(
                group, f"{key}.name", channel=True
            )
            described = c.description != description and c.description in _in_other_languages(
                group, f"{key}.description"
            )
            if c.name != name and not renamed:
                kept.append("#" + c.name)
            if renamed or described:
                new = replace(
                    c,
                    name=name if renamed else c.name,
                    description=description if described else c.description,
                )
                move = Translation("#" + c.name, "#" + new.name, described)
                steps.append(_Step(move, category=new))
        for key in DEFAULT_ROLES:
            role = roles.get(key)
            if role is None:
                continue
            name = t(lang, f"roles.{key}")
            if role.name == name:
                continue
            if role.name not in _in_other_languages(group, f"roles.{key}"):
                kept.append("@" + role.name)
                continue
            move = Translation("@" + role.name, "@" + name)
            steps.append(_Step(move, role=replace(role, name=name)))
        return steps, tuple(kept)

    async def _repair_role(self, group: Group, role_id: str, spec: RoleSpec) -> bool:
        ws = self.workspace
        return isinstance(ws, RepairsRoles) and await ws.apply_role_spec(group.id, role_id, spec)

    async def categories(self, group: Group) -> list[Category]:
        """The group's categories in display order (removed ones left out)."""
        async with self.uow() as uow:
            return await uow.categories.for_group(group.id)

    async def add_category(
        self, group: Group, name: str, description: str, listing: bool
    ) -> Category:
        """Add a category (a removed one of that name comes back); its channel follows at once
        when the group is set up."""
        cname = channel_name(name)
        key = slug(name)
        if not cname or not key:
            raise UserError("setup.name_invalid", name=neutralise(name))
        async with self.uow() as uow:
            existing = await uow.categories.for_group(group.id, include_removed=True)
            clash = next((c for c in existing if c.key == key or c.name == cname), None)
            if clash is not None and not clash.removed:
                raise UserError("setup.category_exists", name=clash.name)
            category = Category(
                group_id=group.id,
                key=key,
                name=cname,
                description=neutralise(description)
                or t(group.language, "setup.default_description"),
                channel_id=clash.channel_id if clash else None,
                listing=listing,
                position=max((c.position for c in existing), default=0) + 1,
                builtin=False,
            )
            await uow.categories.save(category)
        if any(c.channel_id for c in existing):
            await self.run(group)
        return category

    async def rename_category(self, group: Group, wanted: str, name: str) -> Renamed:
        """Rename a category and its channel."""
        cname = channel_name(name)
        if not cname:
            raise UserError("setup.name_invalid", name=neutralise(name))
        found = await self.find(group, wanted)
        if found.channel_id:
            await self.workspace.rename_channel(group.id, found.channel_id, cname)
        renamed = replace(found, name=cname)
        async with self.uow() as uow:
            await uow.categories.save(renamed)
        return Renamed(found.name, renamed)

    async def remove_category(self, group: Group, wanted: str) -> Category:
        """Drop a category; its channel and messages stay where they are."""
        found = await self.find(group, wanted)
        if found.key in REQUIRED_CATEGORIES:
            raise UserError("setup.category_required", name=found.name)
        async with self.uow() as uow:
            await uow.categories.save(replace(found, removed=True))
        return found

    async def find(self, group: Group, wanted: str) -> Category:
        """A category by key, name or #name; the refusal lists the keys there are."""
        wanted_l = wanted.strip().lstrip("#").lower()
        categories = await self.categories(group)
        for c in categories:
            if wanted_l in (c.key, c.name) or c.key == slug(wanted_l):
                return c
        raise UserError(
            "setup.category_unknown",
            name=neutralise(wanted),
            choices=", ".join(c.key for c in categories) or "-",
        )

    async def staff_only(
        self, group: Group, channel_id: str, thread_id: str | None
    ) -> Category | None:
        """The category of a channel where only staff start posts, when a post (not a reply)
        was just started there on a platform that let it through; else None."""
        if self.workspace.capabilities.enforces_posting or thread_id is not None:
            return None
        async with self.uow() as uow:
            category = await uow.categories.by_channel(group.id, channel_id)
        return category if category is not None and category.posting is Posting.STAFF else None

    async def change_basics(
        self,
        group: Group,
        language: str | None,
        timezone: str | None,
        programme: str | None = None,
    ) -> Group:
        """Change language, timezone or programme (unchanged ones stay); the group now."""
        try:
            basics = GroupBasics(
                language=Language(language) if language is not None else group.language,
                timezone=timezone if timezone is not None else group.timezone,
            )
        except ValidationError as exc:
            raise UserError("setup.timezone_unknown", timezone=neutralise(timezone or "")) from exc
        changed = replace(group, language=basics.language, timezone=basics.timezone)
        named: GroupProfile | None = None
        if programme is not None:
            # Invitations quote it to people outside the group: never a ping.
            named = GroupProfile(programme=neutralise(" ".join(programme.split()))[:PROGRAMME_MAX])
            changed = replace(
                changed, settings={**changed.settings, named.namespace: named.stored()}
            )
        if changed != group:
            async with self.uow() as uow:
                await uow.groups.update(changed)
                if named is not None:
                    await uow.groups.set_settings(group.id, named)
        return changed
