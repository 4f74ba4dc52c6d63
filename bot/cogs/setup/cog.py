"""`/alumni setup`, `categories ...`, `settings` and `help`: options in, answers out."""

from __future__ import annotations

from dataclasses import replace

from bot.cog import Cog, command, listen
from bot.cogs.setup.service import SetupService
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Permission
from bot.events import MessagePosted
from bot.group_settings import PROGRAMME_MAX, GroupProfile
from bot.i18n import join
from bot.messages import OutgoingMessage


class SetupCog(Cog):
    """Creates and repairs the group's channels and roles; manages categories and settings."""

    name = "setup"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = SetupService(bot.uow, bot.workspace)
        bot.provide(self.service)

    @command("setup", permission=Permission.STAFF, help_key="setup.help")
    async def setup(self, ctx: Context) -> None:
        """Create what is missing, repair what drifted, and report."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        report = await self.service.run(ctx.group)
        lines = [ctx.t("setup.done_title")]
        for label, items in (
            ("setup.created", report.created),
            ("setup.found", report.found),
            ("setup.fixed", report.fixed),
        ):
            if items:
                lines.append(ctx.t(label, items=", ".join(items)))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command("categories list", permission=Permission.STAFF, help_key="setup.categories_list_help")
    async def categories_list(self, ctx: Context) -> None:
        """List the group's categories and their channels."""
        lines = [ctx.t("setup.categories_title")]
        for c in await self.service.categories(ctx.group):
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
        added = await self.service.add_category(ctx.group, name, description, listing)
        await ctx.say("setup.category_added", name=added.name, key=added.key)

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
        renamed = await self.service.rename_category(ctx.group, category, name)
        await ctx.say("setup.category_renamed", old=renamed.old_name, name=renamed.category.name)

    @command(
        "categories remove",
        permission=Permission.STAFF,
        help_key="setup.categories_remove_help",
        options=(Option("category", required=True, max_length=64, complete="category"),),
    )
    async def categories_remove(self, ctx: Context, category: str) -> None:
        """Drop a category; its channel and messages stay where they are."""
        removed = await self.service.remove_category(ctx.group, category)
        await ctx.say("setup.category_removed", name=removed.name)

    @command(
        "settings",
        permission=Permission.STAFF,
        help_key="setup.settings_help",
        options=(
            Option("language", OptionType.CHOICE, choices=("en", "nb")),
            Option("timezone", max_length=64),
            Option("programme", max_length=PROGRAMME_MAX),
        ),
    )
    async def settings(
        self,
        ctx: Context,
        language: str | None = None,
        timezone: str | None = None,
        programme: str | None = None,
    ) -> None:
        """Change the group's language, timezone or programme; without options, show them.
        A new language lists the bot's names still in the other one and offers to translate."""
        before = ctx.group.language
        ctx.group = await self.service.change_basics(ctx.group, language, timezone, programme)
        self.bot.changed(ctx.group)
        group = ctx.group
        lines = [
            ctx.t(
                "setup.settings_now",
                language=group.language.value,
                timezone=group.timezone,
                programme=GroupProfile.of(group).programme or ctx.t("setup.programme_unset"),
            )
        ]
        if group.language is not before:
            plan = await self.service.untranslated(group)
            if plan.renamed:
                names = join(ctx.lang, [m.old for m in plan.renamed])
                lines.append(
                    ctx.t("setup.translate_offer", names=names, language=self._language(ctx))
                )
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @staticmethod
    def _language(ctx: Context) -> str:
        return ctx.t(f"setup.commands.settings.choices.language.{ctx.lang.value}")

    @command("translate", permission=Permission.STAFF, help_key="setup.translate_help")
    async def translate(self, ctx: Context) -> None:
        """Rename the bot's channels, descriptions and default roles into the group's language."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        plan = await self.service.translate(ctx.group)
        language = self._language(ctx)
        lines = [
            ctx.t("setup.translated_title", language=language)
            if plan.renamed
            else ctx.t("setup.translated_nothing", language=language)
        ]
        for m in plan.renamed:
            if m.old == m.new:
                lines.append(ctx.t("setup.translated_description", name=m.new))
            elif m.described:
                lines.append(ctx.t("setup.translated_name_and_description", old=m.old, new=m.new))
            else:
                lines.append(ctx.t("setup.translated_name", old=m.old, new=m.new))
        if plan.kept:
            lines.append(ctx.t("setup.translated_kept", names=join(ctx.lang, list(plan.kept))))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @listen(MessagePosted)
    async def staff_only_posts(self, ctx: Context, event: MessagePosted) -> None:
        """Where the platform lets anyone post (Slack), a member who starts a post in a
        staff-only channel is told, privately, to reply in a thread instead."""
        category = await self.service.staff_only(ctx.group, event.channel.id, event.thread_id)
        if category is None:
            return
        # Slack's message events carry no admin flag: the platform says whether they are one.
        info = await self.bot.workspace.member_info(ctx.group.id, ctx.user.id)
        user = replace(ctx.user, is_admin=bool(info and info.is_admin))
        if (await self.bot.permission_of(ctx.group, user)).rank >= Permission.STAFF.rank:
            return
        text = ctx.t("setup.staff_post_only", channel=category.name)
        await self.bot.workspace.send_private(
            ctx.group.id, event.channel.id, ctx.user.id, OutgoingMessage(text)
        )

    @command("help", permission=Permission.MEMBER, help_key="setup.help_help")
    async def help(self, ctx: Context) -> None:
        """List the commands the caller may run."""
        lines = [ctx.t("setup.help_title")]
        for cmd in self.bot.commands_for(ctx.permission):
            lines.append(f"`{cmd.usage}`: {ctx.t(cmd.help_key)}")
        await ctx.reply(OutgoingMessage("\n".join(lines)))
