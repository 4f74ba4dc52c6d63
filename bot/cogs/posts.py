"""Posting made easy: `/alumni post <kind>` forms, cards with threads, expiry, reminders,
listings, a gentle nudge from #discussion, and counting every message for the stats."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import activity
from bot.cog import Cog, button, command, form, job, listen
from bot.cogs.privacy import remember
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Group, Language, Permission
from bot.errors import UserError
from bot.events import ButtonPressed, FormSubmitted, MessagePosted, MessageRef
from bot.i18n import t
from bot.messages import Button, ButtonStyle, FormField, FormSpec, OutgoingMessage
from bot.ports import UnitOfWork
from bot.posts_forms import (
    DEFAULT_LISTING_DAYS,
    KINDS,
    SETTING_LISTING_DAYS,
    Checked,
    Kind,
    check,
    looks_like_listing,
)
from bot.posts_records import Post
from bot.privacy_records import ERASED
from bot.safety import clip, neutralise

log = logging.getLogger(__name__)

# Reminders go out on the day before an event, from this local time on.
REMIND_FROM = time(9, 0)
# A member is nudged about reposting at most once in this many days.
NUDGE_EVERY_DAYS = 7


def listing_days(group: Group) -> int:
    """Days before rentals, sales and borrow requests close, for this group."""
    value = group.settings.get(SETTING_LISTING_DAYS, DEFAULT_LISTING_DAYS)
    return value if isinstance(value, int) and value > 0 else DEFAULT_LISTING_DAYS


def _local(group: Group, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(group.timezone))


def _reminder(lang: Language, post: Post, author: str) -> OutgoingMessage:
    return OutgoingMessage(
        t(
            lang,
            "posts.reminder_text",
            when=post.fields.get("when", ""),
            place=post.fields.get("place", ""),
            author=author,
        ),
        title=t(lang, "posts.reminder_title", title=post.fields.get("title", "")),
    )


def author_name(lang: Language, post: Post) -> str:
    """Who posted it, as the card says; a member who erased their data is "another member"."""
    author = post.fields.get("_author")
    if author is None or author == ERASED:
        return t(lang, "privacy.another_member") if author == ERASED else "?"
    return str(author)


def card(lang: Language, post: Post, timezone: str) -> OutgoingMessage:
    """The message a post shows in its channel: open with buttons, or marked closed."""
    kind = KINDS[post.kind]
    title = t(lang, f"posts.kind.{kind.key}") + ": " + str(post.fields.get(kind.title_field, ""))
    fields = tuple(
        (t(lang, f"posts.field.{f.name}"), str(post.fields[f.name]))
        for f in kind.fields
        if f.name != kind.title_field and post.fields.get(f.name)
    )
    author = author_name(lang, post)
    if post.is_open:
        return OutgoingMessage(
            t(lang, "posts.card_text", author=author),
            title=title,
            fields=fields,
            buttons=(
                Button(
                    t(lang, f"posts.close_button.{kind.key}"),
                    "post_close",
                    str(post.id),
                    ButtonStyle.SUCCESS,
                ),
                Button(t(lang, "posts.edit_button"), "post_edit", str(post.id)),
            ),
        )
    closed = post.closed_at or post.created_at
    when = f"{closed.astimezone(ZoneInfo(timezone)):%Y-%m-%d}" if closed else ""
    reason = t(lang, f"posts.reason.{post.close_reason or 'closed'}")
    return OutgoingMessage(
        t(lang, "posts.card_closed_text", author=author, reason=reason, date=when),
        title=f"[{reason.upper()}] {title}",
        fields=fields,
    )


class PostsCog(Cog):
    """Forms for every kind of post, their life cycle, and message counting."""

    name = "posts"

    # -- /alumni post <kind> ----------------------------------------------------------------

    async def _open_form(self, ctx: Context, kind_key: str) -> None:
        kind = KINDS[kind_key]
        async with self.bot.uow() as uow:
            category = await uow.categories.get(ctx.group.id, kind.category)
        if category is None or category.removed or category.channel_id is None:
            raise UserError("posts.no_channel", kind=ctx.t(f"posts.kind.{kind_key}"))
        if ctx.responder is None:
            raise UserError("posts.no_form_here")
        await ctx.responder.open_form(self._form(ctx.lang, kind, "post", kind.key))

    def _form(
        self, lang: Language, kind: Kind, form_id: str, context: str, current: Post | None = None
    ) -> FormSpec:
        fields = tuple(
            FormField(
                name=f.name,
                label=t(lang, f"posts.field.{f.name}"),
                required=f.required,
                long=f.type == "long",
                max_length=f.max_length,
                placeholder=t(lang, f"posts.hint.{f.type}") if f.type != "text" else "",
                default=str(current.fields.get(f.name, "")) if current else "",
            )
            for f in kind.fields
        )
        title_key = "posts.edit_form_title" if current else "posts.form_title"
        return FormSpec(
            form_id, t(lang, title_key, kind=t(lang, f"posts.kind.{kind.key}")), fields, context
        )

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
        """Check the form, post the card in the category's channel, open its thread."""
        kind = KINDS.get(event.context)
        if kind is None:
            raise UserError("core.form_unknown")
        now = self.bot.clock.now()
        checked = self._check(ctx, kind, event.values, now)
        async with self.bot.uow() as uow:
            category = await uow.categories.get(ctx.group.id, kind.category)
            if category is None or category.removed or category.channel_id is None:
                raise UserError("posts.no_channel", kind=ctx.t(f"posts.kind.{kind.key}"))
            author = neutralise(ctx.user.name or ctx.user.id)
            post = Post(
                id=0,
                group_id=ctx.group.id,
                kind=kind.key,
                author_id=ctx.user.id,
                fields={**checked.values, "_author": author},
                channel_id=category.channel_id,
                created_at=now,
                expires_at=checked.expires_at,
                event_at=checked.event_at,
            )
            post = replace(post, id=await uow.posts.add(post))
        # The platform calls happen outside the transaction so the database is never held.
        ws = self.bot.workspace
        try:
            ref = await ws.send(
                ctx.group.id, category.channel_id, card(ctx.lang, post, ctx.group.timezone)
            )
            thread_id = await ws.open_thread(
                ctx.group.id, ref, clip(str(post.fields[kind.title_field]), 90)
            )
            await ws.send(
                ctx.group.id,
                category.channel_id,
                OutgoingMessage(ctx.t("posts.thread_hint")),
                thread_id,
            )
        except Exception:
            async with self.bot.uow() as uow:
                await uow.posts.close(ctx.group.id, post.id, "not_posted", now)
            raise
        async with self.bot.uow() as uow:
            await uow.posts.update(replace(post, message_id=ref.id, thread_id=thread_id))
        # The channel's name now (an admin may have renamed it), not the one setup gave it.
        channel = await ws.channel_exists(ctx.group.id, category.channel_id)
        await ctx.say(
            "posts.posted", channel=channel.name if channel else category.name, id=post.id
        )

    def _check(self, ctx: Context, kind: Kind, values: dict[str, str], now: datetime) -> Checked:
        """Check a form; errors name the field as the member saw it, in the group's language."""
        try:
            return check(kind, values, now, ctx.group.timezone, listing_days(ctx.group))
        except UserError as exc:
            for param in ("field", "start", "end"):
                name = exc.params.get(param)
                if name and any(f.name == name for f in kind.fields):
                    exc.params[param] = ctx.t(f"posts.field.{name}")
            raise

    # -- closing and editing ----------------------------------------------------------------

    async def _own_post(self, ctx: Context, value: str) -> Post:
        """The post a button or form names, if the member may change it (author or staff)."""
        try:
            post_id = int(value)
        except ValueError as exc:
            raise UserError("core.button_unknown") from exc
        async with self.bot.uow() as uow:
            post = await uow.posts.get(ctx.group.id, post_id)
        if post is None:
            raise UserError("core.button_unknown")
        if post.author_id != ctx.user.id:
            ctx.permission = await self.bot.permission_of(ctx.group, ctx.user)
            if ctx.permission.rank < Permission.STAFF.rank:
                raise UserError("posts.not_yours")
        if not post.is_open:
            raise UserError(
                "posts.already_closed", reason=ctx.t(f"posts.reason.{post.close_reason}")
            )
        return post

    @button("post_close")
    async def close_pressed(self, ctx: Context, event: ButtonPressed) -> None:
        """The author (or staff) marks a post filled, sold, returned..."""
        post = await self._own_post(ctx, event.value)
        reason = KINDS[post.kind].close_reason
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            closed = await uow.posts.close(ctx.group.id, post.id, reason, now)
        if not closed:
            raise UserError("posts.already_closed", reason=ctx.t(f"posts.reason.{reason}"))
        await self._redraw(
            ctx.group, replace(post, status="closed", close_reason=reason, closed_at=now)
        )
        await ctx.say("posts.closed", reason=ctx.t(f"posts.reason.{reason}"))

    @button("post_edit")
    async def edit_pressed(self, ctx: Context, event: ButtonPressed) -> None:
        """Open the edit form, filled in with the post as it is."""
        post = await self._own_post(ctx, event.value)
        if ctx.responder is None:
            raise UserError("posts.no_form_here")
        await ctx.responder.open_form(
            self._form(ctx.lang, KINDS[post.kind], "post_edit", str(post.id), post)
        )

    @form("post_edit")
    async def edit_submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Check the edited form like a new one and redraw the card."""
        post = await self._own_post(ctx, event.context)
        kind = KINDS[post.kind]
        now = self.bot.clock.now()
        checked = self._check(ctx, kind, event.values, now)
        expires = checked.expires_at
        if kind.expires == "days" and post.created_at is not None:
            # Editing does not extend a listing's life; only the dates typed can shorten it.
            expires = min(filter(None, (post.expires_at, checked.expires_at)), default=None)
        edited = replace(
            post,
            fields={**checked.values, "_author": post.fields.get("_author", "?")},
            expires_at=expires,
            event_at=checked.event_at,
        )
        async with self.bot.uow() as uow:
            await uow.posts.update(edited)
        await self._redraw(ctx.group, edited)
        await ctx.say("posts.edited")

    async def _redraw(self, group: Group, post: Post) -> None:
        if post.channel_id is None or post.message_id is None:
            return
        ref = MessageRef(post.channel_id, post.message_id)
        await self.bot.workspace.edit(group.id, ref, card(group.language, post, group.timezone))

    # -- listings and expiry ----------------------------------------------------------------

    @command(
        "listings show",
        permission=Permission.MEMBER,
        help_key="posts.help_listings",
        options=(Option("kind", OptionType.CHOICE, choices=tuple(KINDS), rest=True),),
        default_of_group=True,
    )
    async def listings(self, ctx: Context, kind: str | None = None) -> None:
        """The open posts, optionally of one kind."""
        async with self.bot.uow() as uow:
            posts = await uow.posts.open_posts(ctx.group.id, kind)
            categories = {c.key: c for c in await uow.categories.for_group(ctx.group.id)}
        names: dict[str, str] = {}
        for key in {KINDS[p.kind].category for p in posts}:
            category = categories.get(key)
            if category is not None and category.channel_id is not None:
                live = await self.bot.workspace.channel_exists(ctx.group.id, category.channel_id)
                names[key] = live.name if live else category.name
        if not posts:
            await ctx.say("posts.listings_empty")
            return
        lines = [ctx.t("posts.listings_title", count=len(posts))]
        for post in posts:
            k = KINDS[post.kind]
            channel = names.get(k.category)
            until = (
                f" ({ctx.t('posts.until', date=f'{_local(ctx.group, post.expires_at):%Y-%m-%d}')})"
                if post.expires_at and k.expires in ("deadline", "days")
                else ""
            )
            when = f" {post.fields['when']}" if k.key == "event" else ""
            lines.append(
                f"- #{post.id} {ctx.t(f'posts.kind.{k.key}')}: "
                f"{post.fields.get(k.title_field, '')}{when}{until}"
                + (f" in #{channel}" if channel else "")
                + f" ({author_name(ctx.lang, post)})"
            )
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command(
        "listings expiry",
        permission=Permission.STAFF,
        help_key="posts.help_expiry",
        options=(Option("days", OptionType.INTEGER, min_value=1, max_value=365),),
    )
    async def expiry(self, ctx: Context, days: int | None = None) -> None:
        """Show or change after how many days rentals, sales and borrow requests close."""
        if days is not None and days != listing_days(ctx.group):
            group = replace(ctx.group, settings={**ctx.group.settings, SETTING_LISTING_DAYS: days})
            async with self.bot.uow() as uow:
                await uow.groups.update(group)
                # Open listings follow the new rule, counted from when they were posted.
                for post in await uow.posts.open_posts(group.id):
                    kind = KINDS[post.kind]
                    if kind.expires != "days" or post.created_at is None:
                        continue
                    expires = post.created_at + timedelta(days=days)
                    to = post.fields.get("to")
                    if to:
                        end = datetime.fromisoformat(str(to)).replace(
                            tzinfo=ZoneInfo(group.timezone)
                        )
                        expires = min(expires, end + timedelta(days=1))
                    await uow.posts.update(replace(post, expires_at=expires))
            ctx.group = group
        await ctx.say("posts.expiry_now", days=listing_days(ctx.group))

    def _hourly(self, group: Group, now: datetime) -> str | None:
        """Every hour of the group's day: expiry and reminders are idempotent by their columns."""
        return f"{_local(group, now):%Y-%m-%dT%H}"

    @job("posts_sweep", period=_hourly)
    async def sweep(self, group: Group, period: str) -> None:
        """Close what expired and remind about tomorrow's events (each exactly once)."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            due = await uow.posts.due_to_close(group.id, now)
        for post in due:
            reason = "ended" if post.kind == "event" else "expired"
            async with self.bot.uow() as uow:
                closed = await uow.posts.close(group.id, post.id, reason, now)
            if closed:
                await self._redraw(
                    group, replace(post, status="closed", close_reason=reason, closed_at=now)
                )
        local = _local(group, now)
        if local.time() < REMIND_FROM:
            return
        tz = ZoneInfo(group.timezone)
        start = datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=tz)
        async with self.bot.uow() as uow:
            events = await uow.posts.due_reminders(group.id, start, start + timedelta(days=1))
        for post in events:
            async with self.bot.uow() as uow:
                first = await uow.posts.mark_reminded(group.id, post.id, now)
            if not first or post.channel_id is None:
                continue
            # Claimed before sending: a crash here loses one reminder rather than sending two.
            lang = group.language
            ref = await self.bot.workspace.send(
                group.id, post.channel_id, _reminder(lang, post, author_name(lang, post))
            )
            if post.author_id:
                anonymous = _reminder(lang, post, t(lang, "privacy.another_member"))
                await remember(self.bot, group.id, ref, [post.author_id], anonymous)

    # -- every message: counted, and maybe a nudge ------------------------------------------

    @listen(MessagePosted)
    async def count_message(self, ctx: Context, event: MessagePosted) -> None:
        """Count every message once (never its text); the only place activity is recorded."""
        now = self.bot.clock.now()
        # Where members' text does not reach the bot (Discord: no Message Content intent) the
        # nudge is off, by capability: it never reads the odd message that does arrive.
        reads_text = self.bot.workspace.capabilities.message_text
        cue = looks_like_listing(event.text) if event.thread_id is None and reads_text else None
        await self.bot.activity.add(
            activity.Pending(
                event.group_id,
                event.user.id,
                event.channel.id,
                event.thread_id,
                event.thread_id is not None,
                now,
            )
        )
        nudge = False
        # Only a message that reads like an ad costs a lookup; the rest touch no database.
        if cue is not None:
            async with self.bot.uow() as uow:
                category = await uow.categories.by_channel(event.group_id, event.channel.id)
                if category is not None and category.key == "discussion":
                    nudge = await self._claim_nudge(uow, event.group_id, event.user.id, now)
        if nudge and cue is not None:
            await self.bot.workspace.send_private(
                event.group_id,
                event.channel.id,
                event.user.id,
                OutgoingMessage(ctx.t(f"posts.nudge_{cue}")),
            )

    async def _claim_nudge(
        self, uow: UnitOfWork, group_id: str, user_id: str, now: datetime
    ) -> bool:
        """At most one nudge per member per week: a nudge that repeats becomes nagging."""
        key = f"posts.nudged.{user_id}"
        last = await uow.kv.get(group_id, key)
        if last is not None and now - datetime.fromisoformat(last) < timedelta(
            days=NUDGE_EVERY_DAYS
        ):
            return False
        await uow.kv.set(group_id, key, now.isoformat())
        return True
