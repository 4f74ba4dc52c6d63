"""The Workspace port on discord.py: channels, roles, messages, threads, DMs, invites."""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import discord

from adapters.discord.render import (
    CREATE_INVITE,
    CREATE_THREADS,
    MANAGE_CHANNELS,
    MANAGE_ROLES,
    ROLE_HIERARCHY,
    SEND_MESSAGES,
    edit_kwargs,
    message_parts,
    platform_error,
)
from bot.errors import PlatformError, UserError
from bot.events import ChannelRef, MessageRef
from bot.messages import ChannelSpec, OutgoingMessage, Posting, RoleSpec, Visibility
from bot.ports import Capabilities, GroupFacts, MemberInfo
from bot.safety import clip

log = logging.getLogger(__name__)

# How long the role set we just wrote beats discord.py's cache: the GUILD_MEMBER_UPDATE that
# refreshes the cache can arrive after the next set_roles for the same member has started.
_RECENT_EDIT_SECONDS = 10.0
# Discord's limits for an invite (discord-api-docs developers/resources/channel.mdx, Create
# Channel Invite: max_age 0-604800 s, max_uses 0-100; topics/opcodes-and-status-codes.mdx:
# 30016 "Maximum number of invites reached (1000)").
INVITE_MAX_USES = 100
INVITE_MAX_AGE = 7 * 86400
INVITES_FULL = 30016
# An unlimited link made less than this long ago is handed out again instead of a new one, so
# a busy week of `/alumni invite` makes a few links, not hundreds towards the 1000.
INVITE_REUSE_SECONDS = 3600.0


# What Discord allows, for the core to fit its forms and features to (discord-api-docs):
# a modal holds 1-5 components, its title and each label at most 45 characters, a text input
# at most 4000 (interactions/receiving-and-responding.mdx, Modal; components/reference.mdx,
# Label and Text Input; placeholder 100). Without the privileged Message Content intent, which
# the bot does not ask for, `content`, `embeds`, `attachments`, `components` and `poll` of
# members' messages arrive empty (events/gateway.mdx, Message Content Intent).
DISCORD_CAPABILITIES = Capabilities(
    polls=True,
    message_text=False,
    invite_days=7,
    form_fields=5,
    form_title=45,
    field_label=45,
    field_placeholder=100,
    field_length=4000,
)


class DiscordWorkspace:
    """The Workspace port over a connected discord.Client; group_id is the guild id."""

    platform = "discord"
    # Listings are forums where the guild has COMMUNITY (`create_channel`); elsewhere they
    # degrade to text channels here, never in the cogs.
    capabilities = DISCORD_CAPABILITIES

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        # The bot's records of each guild, given by the core (None: only Discord's).
        self.facts: GroupFacts | None = None
        self._member_locks: dict[int, asyncio.Lock] = {}
        # (guild, member) -> (when, the roles we wrote, the member's joined_at then).
        self._recent_roles: dict[
            tuple[int, int], tuple[float, frozenset[int], datetime.datetime | None]
        ] = {}
        # The code of the last 7-day unlimited link made per guild (see INVITE_REUSE_SECONDS).
        self._links: dict[int, str] = {}

    def use_facts(self, facts: GroupFacts) -> None:
        """The core's records: where each guild's #welcome is."""
        self.facts = facts

    # -- lookups ---------------------------------------------------------------------------
    def guild(self, group_id: str) -> discord.Guild:
        """The guild from the cache; PlatformError if the bot is not in it."""
        guild = self.client.get_guild(int(group_id))
        if guild is None:
            raise PlatformError(f"the bot is not in the Discord server {group_id}")
        return guild

    async def _channel(self, group_id: str, channel_id: str) -> Any:
        guild = self.guild(group_id)
        channel: Any = guild.get_channel_or_thread(int(channel_id))
        if channel is None:
            try:
                channel = await guild.fetch_channel(int(channel_id))
            except discord.HTTPException as exc:
                raise platform_error(exc, what=f"channel {channel_id}") from exc
        return channel

    async def _member(self, guild: discord.Guild, user_id: str) -> discord.Member | None:
        member = guild.get_member(int(user_id))
        if member is not None:
            return member
        try:
            return await guild.fetch_member(int(user_id))
        except discord.NotFound:
            return None
        except discord.HTTPException as exc:
            raise platform_error(exc, what=f"member {user_id}") from exc

    # -- channels --------------------------------------------------------------------------
    async def channel_exists(self, group_id: str, channel_id: str) -> ChannelRef | None:
        """The channel by id; None only when Discord says it does not exist."""
        guild = self.guild(group_id)
        channel: Any = guild.get_channel(int(channel_id))
        if channel is None:
            try:
                channel = await guild.fetch_channel(int(channel_id))
            except discord.NotFound:
                return None
            except discord.HTTPException as exc:
                raise platform_error(exc, what=f"channel {channel_id}") from exc
        return ChannelRef(str(channel.id), channel.name)

    def _overwrites(
        self, guild: discord.Guild, spec: ChannelSpec
    ) -> dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]:
        everyone = discord.PermissionOverwrite()
        staff = discord.PermissionOverwrite()
        me = discord.PermissionOverwrite()
        if spec.visibility is Visibility.STAFF:
            everyone.update(view_channel=False)
            staff.update(view_channel=True)
            me.update(view_channel=True)
        if spec.posting is Posting.STAFF:
            # Everyone reads and may reply in threads; only staff and the bot start posts.
            everyone.update(send_messages=False)
            staff.update(send_messages=True)
            me.update(send_messages=True)
        out: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
            guild.default_role: everyone
        }
        if spec.staff_role_id and not staff.is_empty():
            role = guild.get_role(int(spec.staff_role_id))
            out[role or discord.Object(int(spec.staff_role_id), type=discord.Role)] = staff
        if not me.is_empty():
            out[guild.me] = me
        return out

    async def _section(self, guild: discord.Guild, name: str) -> discord.CategoryChannel:
        for category in guild.categories:
            if category.name.lower() == name.lower():
                return category
        try:
            return await guild.create_category(clip(name, 100))
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=MANAGE_CHANNELS, what="create category") from exc

    async def create_channel(self, group_id: str, spec: ChannelSpec) -> ChannelRef:
        """A text channel (a forum for listings in a Community guild) under the section."""
        guild = self.guild(group_id)
        self._need(guild, "manage_channels", MANAGE_CHANNELS)
        section = await self._section(guild, spec.section)
        overwrites = self._overwrites(guild, spec)
        channel: discord.abc.GuildChannel
        try:
            if spec.listing and "COMMUNITY" in guild.features:
                channel = await guild.create_forum(
                    clip(spec.name, 100),
                    topic=clip(spec.topic, 1024),
                    category=section,
                    overwrites=overwrites,
                    available_tags=[discord.ForumTag(name=clip(t, 20)) for t in spec.tags[:20]],
                )
            else:
                channel = await guild.create_text_channel(
                    clip(spec.name, 100),
                    topic=clip(spec.topic, 1024),
                    category=section,
                    overwrites=overwrites,
                )
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=MANAGE_CHANNELS, what="create channel") from exc
        return ChannelRef(str(channel.id), channel.name)

    async def apply_channel_spec(self, group_id: str, channel_id: str, spec: ChannelSpec) -> bool:
        """Restore topic and the overwrites we own (@everyone, staff, the bot); not the name."""
        guild = self.guild(group_id)
        channel = await self._channel(group_id, channel_id)
        wanted = self._overwrites(guild, spec)
        current = dict(channel.overwrites)
        drifted = {
            target: ow for target, ow in wanted.items() if channel.overwrites_for(target) != ow
        }
        topic_drifted = (getattr(channel, "topic", None) or "") != clip(spec.topic, 1024)
        if not drifted and not topic_drifted:
            return False
        self._need(guild, "manage_channels", MANAGE_CHANNELS)
        changes: dict[str, Any] = {}
        if topic_drifted and hasattr(channel, "topic"):
            changes["topic"] = clip(spec.topic, 1024)
        if drifted:
            changes["overwrites"] = {**current, **wanted}
        try:
            await channel.edit(**changes)
        except discord.RateLimited as exc:
            raise rename_limited(exc) from exc
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=MANAGE_CHANNELS, what="repair channel") from exc
        return True

    async def rename_channel(self, group_id: str, channel_id: str, name: str) -> None:
        """Rename a channel (Discord lower-cases text channel names)."""
        channel = await self._channel(group_id, channel_id)
        try:
            await channel.edit(name=clip(name, 100))
        except discord.RateLimited as exc:
            raise rename_limited(exc) from exc
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=MANAGE_CHANNELS, what="rename channel") from exc

    async def rename_section(self, group_id: str, channel_id: str, old: str, new: str) -> bool:
        """Rename the category a channel sits in if it is still called `old` (a category
        staff renamed is theirs); Modify Channel, names 1-100 characters."""
        channel = await self._channel(group_id, channel_id)
        section = getattr(channel, "category", None)
        if section is None or section.name.lower() != old.lower():
            return False
        try:
            await section.edit(name=clip(new, 100))
        except discord.RateLimited as exc:
            raise rename_limited(exc) from exc
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=MANAGE_CHANNELS, what="rename category") from exc
        return True

    # -- roles -----------------------------------------------------------------------------
    async def role_exists(self, group_id: str, role_id: str) -> bool:
        """True if the role exists; asks Discord when the cache does not know it."""
        guild = self.guild(group_id)
        if guild.get_role(int(role_id)) is not None:
            return True
        try:
            roles = await guild.fetch_roles()
        except discord.HTTPException as exc:
            raise platform_error(exc, what="list roles") from exc
        return any(r.id == int(role_id) for r in roles)

    async def create_role(self, group_id: str, spec: RoleSpec) -> str:
        """Create a role (below the bot's own, where Discord puts new roles)."""
        guild = self.guild(group_id)
        self._need(guild, "manage_roles", MANAGE_ROLES)
        try:
            role = await guild.create_role(
                name=clip(spec.name, 100),
                colour=discord.Colour(spec.colour),
                mentionable=spec.mentionable,
            )
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=MANAGE_ROLES, what="create role") from exc
        return str(role.id)

    async def rename_role(self, group_id: str, role_id: str, name: str) -> None:
        """Modify Guild Role with a new name (1-100 characters; Manage Roles, and only a role
        below the bot's highest: discord-api-docs resources/guild.mdx, Modify Guild Role)."""
        guild = self.guild(group_id)
        role = guild.get_role(int(role_id))
        if role is None:
            raise PlatformError(f"role {role_id} is not in the server")
        self._check_hierarchy(guild, {role.id})
        try:
            await role.edit(name=clip(name, 100))
        except discord.HTTPException as exc:
            raise self._role_error(guild, exc, {role.id}) from exc

    async def apply_role_spec(self, group_id: str, role_id: str, spec: RoleSpec) -> bool:
        """Make a role the bot pings mentionable again (a role mention notifies only when the
        role is mentionable or the bot has Mention Everyone, which it does not ask for:
        resources/message.mdx, Allowed Mentions Object). Other settings are the admins'."""
        guild = self.guild(group_id)
        role = guild.get_role(int(role_id))
        if role is None or not spec.mentionable or role.mentionable:
            return False
        self._need(guild, "manage_roles", MANAGE_ROLES)
        try:
            await role.edit(mentionable=True)
        except discord.HTTPException as exc:
            raise self._role_error(guild, exc, {role.id}) from exc
        return True

    async def set_roles(
        self, group_id: str, user_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """One PATCH per member with the whole new role list, paced one at a time per guild."""
        guild = self.guild(group_id)
        # One edit at a time per guild: discord.py then learns the bucket from the headers of
        # the first answer and waits instead of bursting into 429s.
        lock = self._member_locks.setdefault(guild.id, asyncio.Lock())
        async with lock:
            member = await self._member(guild, user_id)
            if member is None:
                raise PlatformError(f"member {user_id} is not in the server")
            key = (guild.id, member.id)
            recent = self._recent_roles.get(key)
            # What we wrote is stale once the member left and rejoined (Discord dropped it all).
            if (
                recent is not None
                and time.monotonic() - recent[0] < _RECENT_EDIT_SECONDS
                and recent[2] == member.joined_at
            ):
                current = set(recent[1])
            else:
                current = {r.id for r in member.roles if not r.is_default()}
            wanted = (current - {int(r) for r in remove}) | {int(r) for r in add}
            if wanted == current:
                return
            self._check_hierarchy(guild, wanted ^ current)
            try:
                await member.edit(roles=[discord.Object(r) for r in sorted(wanted)])
            except discord.HTTPException as exc:
                raise self._role_error(guild, exc, wanted ^ current) from exc
            self._recent_roles[key] = (time.monotonic(), frozenset(wanted), member.joined_at)

    def _check_hierarchy(self, guild: discord.Guild, changed: set[int]) -> None:
        self._need(guild, "manage_roles", MANAGE_ROLES)
        top = guild.me.top_role
        for rid in changed:
            role = guild.get_role(rid)
            if role is not None and role >= top and not guild.me.guild_permissions.administrator:
                raise PlatformError(
                    f"role @{role.name} is above the bot's role",
                    missing_permission=ROLE_HIERARCHY,
                    role=role.name,
                )

    def _role_error(
        self, guild: discord.Guild, exc: discord.HTTPException, changed: set[int]
    ) -> PlatformError:
        forbidden = isinstance(exc, discord.Forbidden) and exc.code == 50013
        if forbidden and guild.me.guild_permissions.manage_roles:
            # The permission is there, so the hierarchy is what refused.
            names = [r.name for rid in changed if (r := guild.get_role(rid)) is not None]
            return platform_error(
                exc, missing=ROLE_HIERARCHY, role=", ".join(names) or "?", what="set roles"
            )
        return platform_error(exc, missing=MANAGE_ROLES, what="set roles")

    def _need(self, guild: discord.Guild, flag: str, label: str) -> None:
        """Refuse before the first request when the cache already shows the permission is gone,
        so a multi-step command stops before it starts rather than half-way."""
        perms = guild.me.guild_permissions
        if not (perms.administrator or getattr(perms, flag)):
            raise PlatformError(f"missing {label}", missing_permission=label)

    # -- messages --------------------------------------------------------------------------
    async def send(
        self, group_id: str, channel_id: str, message: OutgoingMessage, thread_id: str | None = None
    ) -> MessageRef:
        """Post in a channel or thread (in a forum the message becomes a new post); text longer
        than one Discord message follows in further messages. The first one is returned."""
        target = await self._channel(group_id, thread_id or channel_id)
        first, *rest = message_parts(message)
        try:
            if isinstance(target, discord.ForumChannel):
                name = message.title or message.text.split("\n", 1)[0] or "post"
                created = await target.create_thread(name=clip(name, 100), **first)
                for part in rest:
                    await created.thread.send(**part)
                return MessageRef(channel_id, str(created.message.id), str(created.thread.id))
            sent = await target.send(**first)
            for part in rest:
                await target.send(**part)
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=SEND_MESSAGES, what="send") from exc
        return MessageRef(channel_id, str(sent.id), thread_id)

    async def edit(self, group_id: str, ref: MessageRef, message: OutgoingMessage) -> None:
        """Replace a message the bot sent (a poll cannot be changed; the rest can)."""
        in_dm = ref.channel_id.startswith("D:")
        if in_dm:
            user = await self.client.fetch_user(int(ref.channel_id[2:]))
            channel: Any = await user.create_dm()
        else:
            channel = await self._channel(group_id, ref.thread_id or ref.channel_id)
            if isinstance(channel, discord.ForumChannel):
                # A forum post's first message lives in its thread, which shares its id; a
                # caller may know only the forum and the message (a card redrawn later).
                channel = await self._channel(group_id, ref.id)
        kwargs = edit_kwargs(message, group_id=group_id if in_dm else None)
        try:
            await channel.get_partial_message(int(ref.id)).edit(**kwargs)
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=SEND_MESSAGES, what="edit") from exc

    async def open_thread(self, group_id: str, ref: MessageRef, name: str) -> str:
        """A public thread under a message; a forum post already is one."""
        if ref.thread_id is not None:
            return ref.thread_id
        channel = await self._channel(group_id, ref.channel_id)
        try:
            thread = await channel.get_partial_message(int(ref.id)).create_thread(
                name=clip(name, 100) or "thread"
            )
        except discord.HTTPException as exc:
            raise platform_error(exc, missing=CREATE_THREADS, what="open thread") from exc
        return str(thread.id)

    async def send_dm(self, group_id: str, user_id: str, message: OutgoingMessage) -> MessageRef:
        """A direct message; DirectMessagesClosed when the member does not accept them."""
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
            first, *rest = message_parts(message, group_id=group_id)
            sent = await user.send(**first)
            for part in rest:
                await user.send(**part)
        except discord.HTTPException as exc:
            raise platform_error(exc, what="direct message") from exc
        return MessageRef(f"D:{user_id}", str(sent.id))

    async def send_private(
        self, group_id: str, channel_id: str, user_id: str, message: OutgoingMessage
    ) -> None:
        """Bots can only be ephemeral inside an interaction; outside one this is a DM."""
        await self.send_dm(group_id, user_id, message)

    async def create_invite(self, group_id: str, max_uses: int, max_age_seconds: int) -> str | None:
        """A link to the welcome channel (else the system or first text channel) within
        Discord's limits: at most 7 days, never "forever" (links would pile up towards the
        guild's 1000), and unlimited uses when more than 100 are asked. The join code carries
        the trust and has its own uses and expiry; `/alumni invite link` renews the link."""
        guild = self.guild(group_id)
        channel = await self._welcome_channel(guild)
        if channel is None:
            raise PlatformError("no channel to invite into; run /alumni setup")
        uses = max_uses if 0 < max_uses <= INVITE_MAX_USES else 0
        age = min(max_age_seconds, INVITE_MAX_AGE) if max_age_seconds > 0 else INVITE_MAX_AGE
        if uses == 0 and age == INVITE_MAX_AGE and (reused := await self._recent_link(guild)):
            return reused
        try:
            invite = await channel.create_invite(max_uses=uses, max_age=age, unique=True)
        except discord.HTTPException as exc:
            if exc.code == INVITES_FULL:
                raise UserError("discord.invites_full") from exc
            raise platform_error(exc, missing=CREATE_INVITE, what="create invite") from exc
        if uses == 0 and age == INVITE_MAX_AGE:
            self._links[guild.id] = invite.code
        return invite.url

    async def _recent_link(self, guild: discord.Guild) -> str | None:
        """The link made last for this guild if Discord still has it with nearly all its week
        left (an admin may have deleted it, or time passed)."""
        code = self._links.get(guild.id)
        if code is None:
            return None
        try:
            invite = await self.client.fetch_invite(code, with_counts=False)
        except discord.HTTPException:
            self._links.pop(guild.id, None)
            return None
        left = (
            (invite.expires_at - discord.utils.utcnow()).total_seconds() if invite.expires_at else 0
        )
        if left < INVITE_MAX_AGE - INVITE_REUSE_SECONDS:
            return None
        return invite.url

    async def _welcome_channel(self, guild: discord.Guild) -> discord.TextChannel | None:
        welcome = await self.facts.welcome_channel(str(guild.id)) if self.facts else None
        if welcome is not None:
            channel = guild.get_channel(int(welcome))
            if isinstance(channel, discord.TextChannel):
                return channel
        return guild.system_channel or next(iter(guild.text_channels), None)

    async def member_info(self, group_id: str, user_id: str) -> MemberInfo | None:
        """Admin means Administrator or owner; None only when Discord says they are not in it."""
        guild = self.guild(group_id)
        member = await self._member(guild, user_id)
        if member is None:
            return None
        return MemberInfo(
            id=str(member.id),
            name=member.display_name,
            email=None,
            is_admin=is_admin(member),
            is_bot=member.bot,
        )

    async def member_roles(self, group_id: str, user_id: str) -> set[str] | None:
        """Ids of the roles Discord gives the member now, asked of Discord itself (GET member,
        not the cache); None when they are not in the server."""
        guild = self.guild(group_id)
        try:
            member = await guild.fetch_member(int(user_id))
        except discord.NotFound:
            return None
        except discord.HTTPException as exc:
            raise platform_error(exc, what=f"member {user_id}") from exc
        roles = frozenset(r.id for r in member.roles if not r.is_default())
        # What Discord said now is what the next set_roles starts from (the cache may lag, and
        # what we wrote last may have been undone by an admin since).
        self._recent_roles[(guild.id, member.id)] = (time.monotonic(), roles, member.joined_at)
        return {str(r) for r in roles}


def rename_limited(exc: discord.RateLimited) -> UserError:
    """Discord's hidden limit on channel names and topics (2 edits per 10 minutes per channel)
    as a refusal the member reads, with the minutes to wait, instead of a long silent wait."""
    return UserError("discord.rename_limited", count=max(1, math.ceil(exc.retry_after / 60)))


def is_admin(member: discord.Member | discord.User) -> bool:
    """Administrator permission or the guild's owner."""
    if not isinstance(member, discord.Member):
        return False
    return member.guild_permissions.administrator or member.guild.owner_id == member.id
