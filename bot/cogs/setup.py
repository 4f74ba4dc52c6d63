"""`/alumni setup`, categories and group settings: one idempotent command builds the group."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cog import Cog, command
from bot.cogs.defaults import (
    COHORT_ROLE_PREFIX,
    DEFAULT_CATEGORIES,
    DEFAULT_ROLES,
    PINGED_ROLES,
    REQUIRED_CATEGORIES,
)
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Category, Group, Language, Permission, RoleRecord
from bot.errors import UserError
from bot.i18n import t
from bot.messages import ChannelSpec, OutgoingMessage, Posting, RoleSpec, Visibility
from bot.ports import RepairsRoles
from bot.safety import channel_name, neutralise, slug

log = logging.getLogger(__name__)


@dataclass
class SetupReport:
    """What a setup run did, item by item."""

    created: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)


def default_categories(group: Group) -> list[Category]:
    """The built-in categories named in the group's language."""
    return [
        Category(
            group_id=group.id,
            key=d.key,
            name=channel_name(t(group.language, f"categories.{d.key}.name")),
            description=t(group.language, f"categories.{d.key}.description"),
            channel_id=None,
            posting=d.posting.value,
            visibility=d.visibility.value,
            listing=d.listing,
            position=i,
        )
        for i, d in enumerate(DEFAULT_CATEGORIES)
    ]


class SetupCog(Cog):
    """Creates and repairs the group's channels and roles; manages categories and settings."""

    name = "setup"

    @command("setup", permission=Permission.STAFF, help_key="setup.help")
    async def setup(self, ctx: Context) -> None:
        """Create what is missing, repair what drifted, and report."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        report = await self.run(ctx.group)
        lines = [ctx.t("setup.done_title")]
        for label, items in (
            ("setup.created", report.created),
            ("setup.found", report.found),
            ("setup.fixed", report.fixed),
        ):
            if items:
                lines.append(ctx.t(label, items=", ".join(items)))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    async def run(self, group: Group) -> SetupReport:
        """Ensure roles, then one channel per category; each id is stored as soon as it exists."""
        ws = self.bot.workspace
        report = SetupReport()
        async with self.bot.uow() as uow:
            roles = {r.key: r for r in await uow.roles.for_group(group.id)}
            categories = await uow.categories.for_group(group.id, include_removed=True)
            if not categories:
                categories = default_categories(group)
                for category in categories:
                    await uow.categories.save(category)
        for key in DEFAULT_ROLES:
            role = roles.get(key)
            label = "@" + (role.name if role else t(group.language, f"roles.{key}"))
            name = role.name if role else t(group.language, f"roles.{key}")
            role_spec = RoleSpec(name=name, mentionable=key in PINGED_ROLES)
            if role and role.platform_id and await ws.role_exists(group.id, role.platform_id):
                repaired = await self._repair_role(group, role.platform_id, role_spec)
                (report.fixed if repaired else report.found).append(label)
                continue
            platform_id = await ws.create_role(group.id, role_spec)
            roles[key] = RoleRecord(group.id, key, name, platform_id)
            async with self.bot.uow() as uow:
                await uow.roles.save(roles[key])
            report.created.append(label)
        for role in roles.values():
            # Cohort roles are pinged at graduation: a drifted one is made mentionable again.
            if role.key.startswith(COHORT_ROLE_PREFIX) and role.platform_id:
                cohort_spec = RoleSpec(name=role.name, mentionable=True)
                if await self._repair_role(group, role.platform_id, cohort_spec):
                    report.fixed.append("@" + role.name)
        staff_role = roles["staff"].platform_id
        for category in categories:
            if category.removed:
                continue
            spec = channel_spec(category, staff_role, t(group.language, "setup.section"))
            label = "#" + category.name
            existing = (
                await ws.channel_exists(group.id, category.channel_id)
                if category.channel_id
                else None
            )
            if existing is not None:
                assert category.channel_id is not None
                changed = await ws.apply_channel_spec(group.id, category.channel_id, spec)
                (report.fixed if changed else report.found).append("#" + existing.name)
                continue
            channel = await ws.create_channel(group.id, spec)
            async with self.bot.uow() as uow:
                await uow.categories.save(replace(category, channel_id=channel.id))
            report.created.append(label)
        log.info(
            "setup for %s: %d created, %d found, %d fixed",
            group.id,
            len(report.created),
            len(report.found),
            len(report.fixed),
        )
        return report

    async def _repair_role(self, group: Group, role_id: str, spec: RoleSpec) -> bool:
        ws = self.bot.workspace
        return isinstance(ws, RepairsRoles) and await ws.apply_role_spec(group.id, role_id, spec)

    @command("categories list", permission=Permission.STAFF, help_key="setup.categories_list_help")
    async def categories_list(self, ctx: Context) -> None:
        """List the group's categories and their channels."""
        async with self.bot.uow() as uow:
            categories = await uow.categories.for_group(ctx.group.id)
        lines = [ctx.t("setup.categories_title")]
        for c in categories:
            state = "" if c.channel_id else ctx.t("setup.no_channel_yet")
            lines.append(f"- `{c.key}` #{c.name}: {c.description} {state}".rstrip())
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command(
        "categories add",
        permission=Permission.STAFF,
        help_key="setup.categories_add_help",
        options=(
            Option("name", required=True, max_length=80),
            Option("description", max_length=250),
            Option("listing", OptionType.BOOLEAN),
        ),
    )
    async def categories_add(
        self, ctx: Context, name: str, description: str = "", listing: bool = False
    ) -> None:
        """Add a category (and its channel, if the group is set up)."""
        cname = channel_name(name)
        key = slug(name)
        if not cname or not key:
            raise UserError("setup.name_invalid", name=neutralise(name))
        async with self.bot.uow() as uow:
            existing = await uow.categories.for_group(ctx.group.id, include_removed=True)
            clash = next((c for c in existing if c.key == key or c.name == cname), None)
            if clash is not None and not clash.removed:
                raise UserError("setup.category_exists", name=clash.name)
            category = Category(
                group_id=ctx.group.id,
                key=key,
                name=cname,
                description=neutralise(description) or ctx.t("setup.default_description"),
                channel_id=clash.channel_id if clash else None,
                listing=listing,
                position=max((c.position for c in existing), default=0) + 1,
                builtin=False,
            )
            await uow.categories.save(category)
        is_set_up = any(c.channel_id for c in existing)
        if is_set_up:
            await self.run(ctx.group)
        await ctx.say("setup.category_added", name=cname, key=key)

    @command(
        "categories rename",
        permission=Permission.STAFF,
        help_key="setup.categories_rename_help",
        options=(
            Option("category", required=True, max_length=64, complete="category"),
            Option("name", required=True),
        ),
    )
    async def categories_rename(self, ctx: Context, category: str, name: str) -> None:
        """Rename a category and its channel."""
        cname = channel_name(name)
        if not cname:
            raise UserError("setup.name_invalid", name=neutralise(name))
        found = await self._find(ctx, category)
        if found.channel_id:
            await self.bot.workspace.rename_channel(ctx.group.id, found.channel_id, cname)
        async with self.bot.uow() as uow:
            await uow.categories.save(replace(found, name=cname))
        await ctx.say("setup.category_renamed", old=found.name, name=cname)

    @command(
        "categories remove",
        permission=Permission.STAFF,
        help_key="setup.categories_remove_help",
        options=(Option("category", required=True, max_length=64, complete="category"),),
    )
    async def categories_remove(self, ctx: Context, category: str) -> None:
        """Drop a category; its channel and messages stay where they are."""
        found = await self._find(ctx, category)
        if found.key in REQUIRED_CATEGORIES:
            raise UserError("setup.category_required", name=found.name)
        async with self.bot.uow() as uow:
            await uow.categories.save(replace(found, removed=True))
        await ctx.say("setup.category_removed", name=found.name)

    async def _find(self, ctx: Context, wanted: str) -> Category:
        wanted_l = wanted.strip().lstrip("#").lower()
        async with self.bot.uow() as uow:
            categories = await uow.categories.for_group(ctx.group.id)
        for c in categories:
            if wanted_l in (c.key, c.name) or c.key == slug(wanted_l):
                return c
        raise UserError(
            "setup.category_unknown",
            name=neutralise(wanted),
            choices=", ".join(c.key for c in categories) or "-",
        )

    @command(
        "settings",
        permission=Permission.STAFF,
        help_key="setup.settings_help",
        options=(
            Option("language", OptionType.CHOICE, choices=("en", "nb")),
            Option("timezone", max_length=64),
        ),
    )
    async def settings(
        self, ctx: Context, language: str | None = None, timezone: str | None = None
    ) -> None:
        """Change the group's language or timezone; without options, show them."""
        group = ctx.group
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise UserError("setup.timezone_unknown", timezone=neutralise(timezone)) from exc
            group = replace(group, timezone=timezone)
        if language is not None:
            group = replace(group, language=Language(language))
        if group != ctx.group:
            async with self.bot.uow() as uow:
                await uow.groups.update(group)
            ctx.group = group
        await ctx.say("setup.settings_now", language=group.language.value, timezone=group.timezone)

    @command("help", permission=Permission.MEMBER, help_key="setup.help_help")
    async def help(self, ctx: Context) -> None:
        """List the commands the caller may run."""
        lines = [ctx.t("setup.help_title")]
        for cmd in self.bot.commands_for(ctx.permission):
            lines.append(f"`{cmd.usage}`: {ctx.t(cmd.help_key)}")
        await ctx.reply(OutgoingMessage("\n".join(lines)))


def channel_spec(category: Category, staff_role_id: str | None, section: str) -> ChannelSpec:
    """The channel a category should have."""
    return ChannelSpec(
        name=category.name,
        topic=category.description,
        section=section,
        posting=Posting(category.posting),
        visibility=Visibility(category.visibility),
        listing=category.listing,
        staff_role_id=staff_role_id,
    )
