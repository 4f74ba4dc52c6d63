"""`/alumni profile`, `/alumni profile mentoring|show`, `/alumni find`, `/alumni update`."""

from __future__ import annotations

from bot.channels import links
from bot.cog import Cog, button, command, form
from bot.cogs.members.service import MembersService
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.profiles import views
from bot.cogs.profiles.forms import UPDATE_LIMIT
from bot.cogs.profiles.service import ProfilesService
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Permission
from bot.errors import UserError
from bot.events import ButtonPressed, FormSubmitted


class ProfilesCog(Cog):
    """A form members fill in, a directory search, and career updates in #showcase."""

    name = "profiles"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = ProfilesService(
            bot.uow,
            bot.workspace,
            bot.clock,
            bot.service(PrivacyService),
            bot.service(MembersService).find,
        )
        bot.provide(self.service)

    @command(
        "profile edit",
        permission=Permission.MEMBER,
        help_key="profiles.edit_help",
        default_of_group=True,
    )
    async def edit(self, ctx: Context) -> None:
        """Open the profile form, filled in with what the member wrote before."""
        profile = await self.service.get(ctx.group, ctx.user.id)
        if ctx.responder is None:
            raise UserError("profiles.no_form_here")
        await ctx.responder.open_form(views.form(ctx.lang, profile))

    @form(views.FORM_ID)
    async def submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Store the profile; say so, with mentoring as it stands."""
        profile = await self.service.save(ctx.group, ctx.actor, event.values)
        await ctx.reply(views.saved(ctx.lang, profile))

    @command(
        "profile mentoring",
        permission=Permission.MEMBER,
        help_key="profiles.mentoring_help",
        options=(Option("open", OptionType.BOOLEAN, required=True),),
    )
    async def mentoring(self, ctx: Context, open: bool) -> None:
        """Say on your profile whether you are open to mentoring students."""
        await self.service.set_mentoring(ctx.group, ctx.actor, open)
        await ctx.reply(views.mentoring_now(ctx.lang, open))

    @button(views.MENTORING_ACTION, value=views.yes_no)
    async def mentoring_pressed(self, ctx: Context, event: ButtonPressed, value: bool) -> None:
        """The buttons under a saved profile: yes or no."""
        await self.service.set_mentoring(ctx.group, ctx.actor, value)
        await ctx.reply(views.mentoring_now(ctx.lang, value))

    @command(
        "profile show",
        permission=Permission.MEMBER,
        help_key="profiles.show_help",
        options=(Option("member", OptionType.USER, max_length=100),),
    )
    async def show(self, ctx: Context, member: str | None = None) -> None:
        """Show a member's profile (your own without `member`)."""
        view = await self.service.show(ctx.group, ctx.actor, member)
        await ctx.reply(views.card(ctx.lang, view))

    @command(
        "find",
        permission=Permission.MEMBER,
        help_key="profiles.find_help",
        options=(Option("text", required=True, rest=True, max_length=100),),
    )
    async def find(self, ctx: Context, text: str) -> None:
        """Members whose name, skills, work or cohort contain every word."""
        hits = await self.service.find(ctx.group, text)
        await ctx.reply(views.found(ctx.lang, text, hits))

    @command(
        "update",
        permission=Permission.MEMBER,
        help_key="profiles.update_help",
        options=(Option("text", required=True, rest=True, max_length=UPDATE_LIMIT),),
    )
    async def update(self, ctx: Context, text: str) -> None:
        """Post a career update in #showcase and keep it on the profile."""
        posted = await self.service.post_update(ctx.group, ctx.actor, text)
        channels = links(posted.channel_name, posted.channel_id)
        await ctx.say("profiles.update_posted", channel=posted.channel_name, channels=channels)
