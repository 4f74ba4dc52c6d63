"""The posts feature's use cases: post, close, edit, list, expire, remind, nudge."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.cogs.posts import views
from bot.cogs.posts.forms import (
    KINDS,
    Checked,
    Kind,
    check,
    expiry,
    looks_like_listing,
    stored_dates,
)
from bot.cogs.posts.records import CloseReason, Expiry, Listing, Post, Posted, PostStatus, Sweep
from bot.cogs.posts.settings import PostsSettings
from bot.cogs.privacy.service import PrivacyService
from bot.domain import Actor, Category, Group
from bot.errors import UserError
from bot.events import MessageRef
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import clip, neutralise

# Reminders go out on the day before an event, from this local time on.
REMIND_FROM = time(9, 0)
# A member is nudged about reposting at most once in this many days.
NUDGE_EVERY_DAYS = 7
NUDGE_CHANNEL = "discussion"


class PostsService:
    """Listings from forms: each method is one use case, shared by commands, buttons and jobs."""

    def __init__(
        self, uow: UnitOfWorkFactory, workspace: Workspace, clock: Clock, privacy: PrivacyService
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.privacy = privacy

    async def channel(self, group: Group, kind: Kind) -> Category:
        """The category a kind of post goes to; refused while it has no channel."""
        async with self.uow() as uow:
            category = await uow.categories.get(group.id, kind.category)
        if category is None or category.removed or category.channel_id is None:
            raise UserError("posts.no_channel", kind=views.kind_name(group.language, kind.key))
        return category

    def _check(self, group: Group, kind: Kind, values: dict[str, str], now: datetime) -> Checked:
        try:
            days = PostsSettings.of(group).listing_days
            return check(kind, values, now, group.timezone, days)
        except UserError as exc:
            raise views.field_labels(group.language, kind, exc) from None

    async def create(
        self, group: Group, author: Actor, kind: Kind, values: dict[str, str]
    ) -> Posted:
        """Check a form, post the card in the kind's channel and open its thread."""
        now = self.clock.now()
        checked = self._check(group, kind, values, now)
        category = await self.channel(group, kind)
        assert category.channel_id is not None
        post = Post(
            id=0,
            group_id=group.id,
            kind=kind.key,
            author_id=author.id,
            author_name=neutralise(author.name),
            fields=checked.values,
            channel_id=category.channel_id,
            created_at=now,
            expires_at=checked.expires_at,
            event_at=checked.event_at,
        )
        async with self.uow() as uow:
            post = replace(post, id=await uow.posts.add(post))
        # The platform calls happen outside the transaction so the database is never held.
        ws = self.workspace
        try:
            ref = await ws.send(
                group.id, category.channel_id, views.card(group.language, post, group.timezone)
            )
            thread_id = await ws.open_thread(
                group.id, ref, clip(str(post.fields[kind.title_field]), 90)
            )
            await ws.send(
                group.id,
                category.channel_id,
                OutgoingMessage(t(group.language, "posts.thread_hint")),
                thread_id,
            )
        except Exception:
            async with self.uow() as uow:
                await uow.posts.close(group.id, post.id, CloseReason.NOT_POSTED, now)
            raise
        post = replace(post, message_id=ref.id, thread_id=thread_id)
        async with self.uow() as uow:
            await uow.posts.update(post)
        # The channel's name now (an admin may have renamed it), not the one setup gave it.
        channel = await ws.channel_exists(group.id, category.channel_id)
        return Posted(post, channel.name if channel else category.name)

    async def editable(self, group: Group, actor: Actor, post_id: int) -> Post:
        """An open post the actor may change: its author, or staff."""
        async with self.uow() as uow:
            post = await uow.posts.get(group.id, post_id)
        if post is None:
            raise UserError("core.button_unknown")
        if post.author_id != actor.id and not actor.is_staff:
            raise UserError("posts.not_yours")
        if not post.is_open:
            raise UserError("posts.already_closed", reason=views.reason_name(group.language, post))
        return post

    async def close(self, group: Group, actor: Actor, post_id: int) -> Post:
        """The author (or staff) marks a post filled, sold, returned..."""
        post = await self.editable(group, actor, post_id)
        reason = KINDS[post.kind].close_reason
        now = self.clock.now()
        closed = replace(post, status=PostStatus.CLOSED, close_reason=reason, closed_at=now)
        async with self.uow() as uow:
            if not await uow.posts.close(group.id, post.id, reason, now):
                raise UserError(
                    "posts.already_closed", reason=views.reason_name(group.language, closed)
                )
        await self._redraw(group, closed)
        return closed

    async def edit(self, group: Group, actor: Actor, post_id: int, values: dict[str, str]) -> Post:
        """Check the edited form like a new one and redraw the card."""
        post = await self.editable(group, actor, post_id)
        kind = KINDS[post.kind]
        # A field the submission does not carry keeps its saved value; an empty one clears it.
        kept = {f.name: str(post.fields[f.name]) for f in kind.fields if f.name in post.fields}
        checked = self._check(group, kind, {**kept, **values}, self.clock.now())
        expires = checked.expires_at
        if kind.expires is Expiry.DAYS and post.created_at is not None:
            # Counted from posting, not from the edit: editing does not extend a listing's
            # life; only the period typed moves its end.
            days = PostsSettings.of(group).listing_days
            expires = expiry(kind, checked.dates, None, post.created_at, group.timezone, days)
        edited = replace(post, fields=checked.values, expires_at=expires, event_at=checked.event_at)
        async with self.uow() as uow:
            await uow.posts.update(edited)
        await self._redraw(group, edited)
        return edited

    async def _redraw(self, group: Group, post: Post) -> None:
        if post.channel_id is None or post.message_id is None:
            return
        await self.workspace.edit(
            group.id,
            MessageRef(post.channel_id, post.message_id),
            views.card(group.language, post, group.timezone),
        )

    async def listings(self, group: Group, kind: str | None = None) -> list[Listing]:
        """The open posts, optionally of one kind, with their channels' names now."""
        async with self.uow() as uow:
            posts = await uow.posts.open_posts(group.id, kind)
            categories = {c.key: c for c in await uow.categories.for_group(group.id)}
        names: dict[str, str | None] = {}
        for key in {KINDS[p.kind].category for p in posts}:
            category = categories.get(key)
            names[key] = None
            if category is not None and category.channel_id is not None:
                live = await self.workspace.channel_exists(group.id, category.channel_id)
                names[key] = live.name if live else category.name
        return [Listing(p, names.get(KINDS[p.kind].category)) for p in posts]

    async def set_listing_days(self, group: Group, days: int) -> PostsSettings:
        """Change how long listings stay open; open listings follow, counted from posting."""
        settings = PostsSettings(listing_days=days)
        async with self.uow() as uow:
            await uow.groups.set_settings(group.id, settings)
            for post in await uow.posts.open_posts(group.id):
                kind = KINDS[post.kind]
                if kind.expires is not Expiry.DAYS or post.created_at is None:
                    continue
                dates = stored_dates(kind, post.fields)
                expires = expiry(kind, dates, None, post.created_at, group.timezone, days)
                await uow.posts.update(replace(post, expires_at=expires))
        return settings

    async def sweep(self, group: Group) -> Sweep:
        """Close what expired and remind about tomorrow's events (each exactly once)."""
        now = self.clock.now()
        closed = reminded = 0
        async with self.uow() as uow:
            due = await uow.posts.due_to_close(group.id, now)
        for post in due:
            reason = CloseReason.ENDED if post.kind == "event" else CloseReason.EXPIRED
            async with self.uow() as uow:
                if not await uow.posts.close(group.id, post.id, reason, now):
                    continue
            closed += 1
            await self._redraw(
                group,
                replace(post, status=PostStatus.CLOSED, close_reason=reason, closed_at=now),
            )
        tz = ZoneInfo(group.timezone)
        local = now.astimezone(tz)
        if local.time() < REMIND_FROM:
            return Sweep(closed, reminded)
        start = datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=tz)
        async with self.uow() as uow:
            events = await uow.posts.due_reminders(group.id, start, start + timedelta(days=1))
        for post in events:
            async with self.uow() as uow:
                first = await uow.posts.mark_reminded(group.id, post.id, now)
            if not first or post.channel_id is None:
                continue
            # Claimed before sending: a crash here loses one reminder rather than sending two.
            ref = await self.workspace.send(
                group.id, post.channel_id, views.reminder(group.language, post)
            )
            reminded += 1
            if post.author_id:
                # Erasing the author later edits the reminder to name nobody.
                anonymous = views.reminder(group.language, post, anonymous=True)
                await self.privacy.remember(group.id, ref, [post.author_id], anonymous)
        return Sweep(closed, reminded)

    async def nudge(self, group_id: str, user_id: str, channel_id: str, text: str) -> str | None:
        """The kind of ad ('job', 'sale') a top-level message in #discussion reads like, if the
        member should be nudged to use a form (at most once a week; a nudge that repeats
        becomes nagging); None otherwise."""
        # Where members' text does not reach the bot (Discord: no Message Content intent) the
        # nudge is off, by capability: it never reads the odd message that does arrive.
        if not self.workspace.capabilities.message_text:
            return None
        cue = looks_like_listing(text)
        # Only a message that reads like an ad costs a lookup; the rest touch no database.
        if cue is None:
            return None
        now = self.clock.now()
        key = f"posts.nudged.{user_id}"
        async with self.uow() as uow:
            category = await uow.categories.by_channel(group_id, channel_id)
            if category is None or category.key != NUDGE_CHANNEL:
                return None
            last = await uow.kv.get(group_id, key)
            if last is not None and now - datetime.fromisoformat(last) < timedelta(
                days=NUDGE_EVERY_DAYS
            ):
                return None
            await uow.kv.set(group_id, key, now.isoformat())
        return cue
