"""`/alumni post <kind>` forms, the cards' buttons, listings, expiry and the #discussion nudge."""

from __future__ import annotations

from bot.channels import links
from bot.cog import Cog, button, command, form, job, listen
from bot.cogs.posts import views
from bot.cogs.posts.forms import KINDS
from bot.cogs.posts.service import PostsService
from bot.cogs.posts.settings import PostsSettings
from bot.cogs.privacy.service import PrivacyService
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.errors import UserError
from bot.events import ButtonPressed, FormSubmitted, MessagePosted
from bot.messages import OutgoingMessage
from bot.scheduler import hourly_period


class PostsCog(Cog):
    """Forms for every kind of post and their life cycle."""

    name = "posts"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = PostsService(bot.uow, bot.workspace, bot.clock, bot.service(PrivacyService))
        bot.provide(self.service)

    async def _open_form(self, ctx: Context, kind_key: str) -> None:
        kind = KINDS[kind_key]
        await self.service.channel(ctx.group, kind)
        if ctx.responder is None:
            raise UserError("posts.no_form_here")
        await ctx.responder.open_form(views.form(ctx.lang, kind, "post", kind.key))

    @command("post job", permission=Permission.MEMBER, help_key="posts.help_job")
    async def post_job(self, ctx: Context) -> None:
        """Open the job form."""
        await self._open_form(ctx, "job")

    @command("post rental", permission=Permission.MEMBER, help_key="posts.help_rental")
    async def post_rental(self, ctx: Context) -> None:
        """Open the rental form."""
        await self._open_form(ctx, "rental")

    @command("post event", permission=Permission.MEMBER, help_key="posts.help_event")
    async def post_event(self, ctx: Context) -> None:
        """Open the event form."""
        await self._open_form(ctx, "event")

    @command("post sale", permission=Permission.MEMBER, help_key="posts.help_sale")
    async def post_sale(self, ctx: Context) -> None:
        """Open the sale form."""
        await self._open_form(ctx, "sale")

    @command("post borrow", permission=Permission.MEMBER, help_key="posts.help_borrow")
    async def post_borrow(self, ctx: Context) -> None:
        """Open the borrow form."""
        await self._open_form(ctx, "borrow")

    @command("post showcase", permission=Permission.MEMBER, help_key="posts.help_showcase")
    async def post_showcase(self, ctx: Context) -> None:
        """Open the showcase form."""
        await self._open_form(ctx, "showcase")

    @command("post article", permission=Permission.MEMBER, help_key="posts.help_article")
    async def post_article(self, ctx: Context) -> None:
        """Open the article form."""
        await self._open_form(ctx, "article")

    @form("post")
    async def submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Post the card; say where it went."""
        kind = KINDS.get(event.context)
        if kind is None:
            raise UserError("core.form_unknown")
        posted = await self.service.create(ctx.group, ctx.actor, kind, event.values)
        name, channels = posted.channel_name, links(posted.channel_name, posted.post.channel_id)
        await ctx.say("posts.posted", channel=name, id=posted.post.id, channels=channels)

    @button(views.CLOSE_ACTION, value=int)
    async def close_pressed(self, ctx: Context, event: ButtonPressed, value: int) -> None:
        """The author (or staff) marks a post filled, sold, returned..."""
        post = await self.service.close(ctx.group, ctx.actor, value)
        await ctx.say("posts.closed", reason=views.reason_name(ctx.lang, post))

    @button(views.EDIT_ACTION, value=int)
    async def edit_pressed(self, ctx: Context, event: ButtonPressed, value: int) -> None:
        """Open the edit form, filled in with the post as it is."""
        post = await self.service.editable(ctx.group, ctx.actor, value)
        if ctx.responder is None:
            raise UserError("posts.no_form_here")
        await ctx.responder.open_form(
            views.form(ctx.lang, KINDS[post.kind], "post_edit", str(post.id), post)
        )

    @form("post_edit")
    async def edit_submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Store the edit and redraw the card."""
        try:
            post_id = int(event.context)
        except ValueError as exc:
            raise UserError("core.form_unknown") from exc
        await self.service.edit(ctx.group, ctx.actor, post_id, event.values)
        await ctx.say("posts.edited")

    @command(
        "listings show",
        permission=Permission.MEMBER,
        help_key="posts.help_listings",
        options=(
            Option(
                "kind", OptionType.CHOICE, choices=tuple(KINDS), rest=True, words="posts.kind_word"
            ),
        ),
        default_of_group=True,
    )
    async def listings(self, ctx: Context, kind: str | None = None) -> None:
        """The open posts, optionally of one kind."""
        found = await self.service.listings(ctx.group, kind)
        await ctx.reply(views.listings(ctx.lang, found, ctx.group.timezone))

    @command(
        "listings expiry",
        permission=Permission.STAFF,
        help_key="posts.help_expiry",
        options=(Option("days", OptionType.INTEGER, min_value=1, max_value=365),),
    )
    async def expiry(self, ctx: Context, days: int | None = None) -> None:
        """Show or change after how many days rentals, sales and borrow requests close."""
        settings = PostsSettings.of(ctx.group)
        if days is not None and days != settings.listing_days:
            settings = await self.service.set_listing_days(ctx.group, days)
        await ctx.say("posts.expiry_now", days=settings.listing_days)

    @job("posts_sweep", period=lambda self, group, now: hourly_period(group, now))
    async def sweep(self, group: Group, period: str) -> None:
        """Close what expired and remind about tomorrow's events (each exactly once)."""
        await self.service.sweep(group)

    @listen(MessagePosted)
    async def nudge(self, ctx: Context, event: MessagePosted) -> None:
        """A job or sale ad posted in #discussion gets a private hint to use the form."""
        if event.thread_id is not None:
            return
        cue = await self.service.nudge(event.group_id, event.user.id, event.channel.id, event.text)
        if cue is not None:
            await self.bot.workspace.send_private(
                event.group_id,
                event.channel.id,
                event.user.id,
                OutgoingMessage(ctx.t(f"posts.nudge_{cue}")),
            )
