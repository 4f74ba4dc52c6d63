"""In-memory Discord state held by the fake, with permission and hierarchy helpers."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import discord

from . import payloads as p
from .payloads import JSON
from .ratelimit import RateLimiter

log = logging.getLogger("tests.fakes.discord")

ALL_PERMISSIONS = discord.Permissions.all().value
ADMINISTRATOR = discord.Permissions(administrator=True).value
DEFAULT_EVERYONE = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_application_commands=True,
    create_instant_invite=True,
    change_nickname=True,
    connect=True,
    speak=True,
).value
DEFAULT_BOT = discord.Permissions(
    view_channel=True,
    manage_channels=True,
    manage_roles=True,
    manage_guild=True,
    manage_threads=True,
    manage_messages=True,
    manage_nicknames=True,
    kick_members=True,
    create_instant_invite=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_application_commands=True,
).value
# Not Mention Everyone: the bot's invite link does not ask for it, so a role ping notifies only
# when the role is mentionable (resources/message.mdx, Allowed Mentions Object).


class FakeError(Exception):
    """Raised inside REST handlers to produce a Discord error response."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        """Store the HTTP status and the Discord error body."""
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body = p.error_body(code, message, errors)


def missing_permissions() -> FakeError:
    """403 Missing Permissions (50013)."""
    return FakeError(403, 50013, "Missing Permissions")


def invalid_form(errors: JSON) -> FakeError:
    """400 Invalid Form Body (50035)."""
    return FakeError(400, 50035, "Invalid Form Body", errors)


@dataclass
class FakeGuild:
    """One guild: roles, channels, threads, members, invites and commands keyed by int id."""

    id: int
    name: str
    owner_id: int
    features: list[str]
    roles: dict[int, JSON] = field(default_factory=dict)
    channels: dict[int, JSON] = field(default_factory=dict)
    threads: dict[int, JSON] = field(default_factory=dict)
    members: dict[int, JSON] = field(default_factory=dict)
    invites: dict[str, JSON] = field(default_factory=dict)
    commands: dict[int, JSON] = field(default_factory=dict)
    # Server Settings > Integrations: command id -> roles and members allowed to use it.
    command_overrides: dict[int, set[int]] = field(default_factory=dict)
    bot_role_id: int = 0
    locale: str = "en-US"

    @property
    def community(self) -> bool:
        """Whether the guild has the COMMUNITY feature."""
        return "COMMUNITY" in self.features

    def payload(self) -> JSON:
        """Guild object without channels/members (REST GET /guilds/{id})."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1 if self.community else 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 2 if self.community else 0,
            "roles": [copy.deepcopy(r) for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }

    def gateway_payload(self) -> JSON:
        """Full GUILD_CREATE payload (guild + channels, threads, members)."""
        data = self.payload()
        data.update(
            joined_at=p.iso_now(),
            large=len(self.members) > 250,
            unavailable=False,
            member_count=len(self.members),
            voice_states=[],
            members=[copy.deepcopy(m) for m in self.members.values()],
            channels=[copy.deepcopy(c) for c in self.channels.values()],
            threads=[copy.deepcopy(t) for t in self.threads.values()],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data


@dataclass
class FakeInteraction:
    """An interaction the fake sent, plus everything the bot answered with."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: JSON
    callbacks: list[JSON] = field(default_factory=list)
    original: JSON | None = None
    followups: list[JSON] = field(default_factory=list)
    modal: JSON | None = None
    component_message_id: int | None = None
    # When the fake dispatched it (event loop time): the 3 s and 15 min deadlines count from here.
    created_at: float = 0.0
    # Callbacks and follow-ups Discord refused, as (status, code).
    refused: list[tuple[int, int]] = field(default_factory=list)

    @property
    def response_type(self) -> int | None:
        """Callback type of the first response (4, 5, 6, 7, 9...), or None."""
        return self.callbacks[0]["type"] if self.callbacks else None

    @property
    def responded(self) -> bool:
        """Whether the bot acknowledged the interaction."""
        return bool(self.callbacks)

    @property
    def ephemeral(self) -> bool:
        """Whether the original response carries the EPHEMERAL flag (64)."""
        if self.original is not None:
            return bool(int(self.original.get("flags", 0)) & 64)
        data = self.callbacks[0].get("data") or {} if self.callbacks else {}
        return bool(int(data.get("flags", 0) or 0) & 64)

    @property
    def messages(self) -> list[JSON]:
        """The original response (if any) followed by followups: what the user saw."""
        return ([self.original] if self.original else []) + self.followups

    @property
    def loading(self) -> bool:
        """Deferred and still showing "thinking…" (no answer has replaced it yet)."""
        return self.original is not None and bool(int(self.original.get("flags", 0)) & 128)

    @property
    def answered(self) -> bool:
        """The member sees an answer (a message, not a loading state) or a form."""
        return self.modal is not None or (bool(self.messages) and not self.loading)


@dataclass
class RecordedRequest:
    """One REST request the fake received."""

    method: str
    path: str
    route_key: str
    params: dict[str, str]
    body: Any
    status: int = 0
    reason: str | None = None


class FakeState:
    """State and helpers shared by the REST, gateway and driver parts of the fake."""

    def __init__(
        self,
        *,
        bot_id: int | None = None,
        application_id: int | None = None,
        bot_name: str = "alumnibot",
        token: str = "fake-bot-token",
    ) -> None:
        """Create an empty world with a bot user and its application."""
        self.token = token
        self.bot_id = bot_id or p.snowflake()
        self.application_id = application_id or self.bot_id
        self.bot_user: JSON = p.user_payload(self.bot_id, bot_name, bot=True)
        self.bot_user.update(verified=True, mfa_enabled=False)
        self.app_owner: JSON = p.user_payload(p.snowflake(), "app-owner")
        self.users: dict[int, JSON] = {self.bot_id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, JSON] = {}
        self.messages: dict[int, list[JSON]] = {}
        # The bytes of every uploaded file, by attachment id (what a member would download).
        self.attachment_data: dict[str, bytes] = {}
        self.cdn_downloads: list[str] = []  # attachment ids fetched from the CDN route
        self.global_commands: dict[int, JSON] = {}
        self.command_syncs = 0
        self.interactions: dict[int, FakeInteraction] = {}
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[str] = []
        self.rate_limited_count: dict[str, int] = {}
        self.identify_count = 0
        self.resume_count = 0
        self.replayed_events = 0
        self.limiter = RateLimiter(clock=self._now)
        self._changed: asyncio.Event | None = None
        # Users who closed DMs from server members: sending to them answers 403 / 50007.
        self.closed_dms: set[int] = set()
        # Who each message the bot sent notified (mentions allowed and able to ping), by id.
        self.notified: dict[str, set[int]] = {}
        # Name/topic edits per channel (loop time), for Discord's hidden 2-per-10-minutes limit.
        self.channel_renames: dict[int, list[float]] = {}
        # Seconds every REST call (not interaction callbacks) takes: a slow platform.
        self.latency = 0.0
        # Seconds added to the fake's clock (ages interactions and invites without waiting).
        self.clock_offset = 0.0

    # -- infrastructure ------------------------------------------------------------------
    def _now(self) -> float:
        return asyncio.get_running_loop().time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock: interactions and invites age without the test waiting."""
        self.clock_offset += seconds

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    @property
    def gateway_url(self) -> str:
        """ws:// URL of the gateway (implemented by the gateway part)."""
        raise NotImplementedError

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send a gateway DISPATCH (implemented by the gateway part)."""
        raise NotImplementedError

    async def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 3.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until predicate() is truthy (re-checked on every fake change and every 5 ms)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._changed is None:
            self._changed = asyncio.Event()
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"fake.wait_for: condition not met within {timeout}s")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=min(remaining, 0.005))

    # -- lookups ---------------------------------------------------------------------------
    def guild(self, guild_id: int) -> FakeGuild:
        """Return a guild or raise 404 Unknown Guild."""
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise FakeError(404, 10004, "Unknown Guild")
        return guild

    def find_channel(self, channel_id: int) -> tuple[FakeGuild | None, JSON]:
        """Return (guild or None for DMs, channel/thread payload) or raise 404 Unknown Channel."""
        channel_id = int(channel_id)
        if channel_id in self.dm_channels:
            return None, self.dm_channels[channel_id]
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id) or guild.threads.get(channel_id)
            if found is not None:
                return guild, found
        raise FakeError(404, 10003, "Unknown Channel")

    def channel(self, channel_id: int) -> JSON:
        """Return the stored payload of any channel, thread or DM."""
        return self.find_channel(channel_id)[1]

    def member(self, guild_id: int, user_id: int) -> JSON:
        """Return a member payload or raise 404 Unknown Member."""
        member = self.guild(guild_id).members.get(int(user_id))
        if member is None:
            raise FakeError(404, 10007, "Unknown Member")
        return member

    def role(self, guild_id: int, role_id: int) -> JSON:
        """Return a role payload or raise 404 Unknown Role."""
        role = self.guild(guild_id).roles.get(int(role_id))
        if role is None:
            raise FakeError(404, 10011, "Unknown Role")
        return role

    def find_message(self, message_id: int) -> JSON:
        """Return a stored message by id or raise 404 Unknown Message."""
        for messages in self.messages.values():
            for message in messages:
                if int(message["id"]) == int(message_id):
                    return message
        # Ephemeral answers live with their interaction, in no channel (members still press
        # their buttons).
        for inter in self.interactions.values():
            for message in inter.messages:
                if int(message["id"]) == int(message_id):
                    return message
        raise FakeError(404, 10008, "Unknown Message")

    def channel_messages(self, channel_id: int) -> list[JSON]:
        """Messages posted in a channel, oldest first."""
        return self.messages.get(int(channel_id), [])

    def dms_to(self, user_id: int) -> list[JSON]:
        """Messages the bot sent in its DM channel with a user."""
        for channel_id, channel in self.dm_channels.items():
            if int(channel["recipients"][0]["id"]) == int(user_id):
                return self.channel_messages(channel_id)
        return []

    def channels_named(self, guild_id: int, name: str) -> list[JSON]:
        """Guild channels and threads with a given name."""
        guild = self.guild(guild_id)
        everything = [*guild.channels.values(), *guild.threads.values()]
        return [c for c in everything if c["name"] == name]

    def role_named(self, guild_id: int, name: str) -> JSON | None:
        """First role with a given name, or None."""
        return next((r for r in self.guild(guild_id).roles.values() if r["name"] == name), None)

    def member_role_ids(self, guild_id: int, user_id: int) -> set[int]:
        """Role ids (without @everyone) of a member."""
        return {int(r) for r in self.member(guild_id, user_id)["roles"]}

    # -- permissions -----------------------------------------------------------------------
    def base_permissions(self, guild: FakeGuild, user_id: int) -> int:
        """Guild-level permissions of a member (owner and administrator get everything)."""
        if int(user_id) == guild.owner_id:
            return ALL_PERMISSIONS
        member = guild.members.get(int(user_id))
        value = int(guild.roles[guild.id]["permissions"])
        for role_id in member["roles"] if member else []:
            role = guild.roles.get(int(role_id))
            if role is not None:
                value |= int(role["permissions"])
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def channel_permissions(self, guild: FakeGuild, user_id: int, channel: JSON | None) -> int:
        """Apply a channel's overwrites (threads use their parent) to the base permissions."""
        value = self.base_permissions(guild, user_id)
        if value & ADMINISTRATOR or channel is None:
            return value
        if channel.get("type") in (10, 11, 12) and channel.get("parent_id"):
            channel = guild.channels.get(int(channel["parent_id"]), channel)
        member = guild.members.get(int(user_id))
        role_ids = {str(r) for r in member["roles"]} if member else set()
        overwrites = {o["id"]: o for o in channel.get("permission_overwrites", [])}
        everyone = overwrites.get(str(guild.id))
        if everyone:
            value = (value & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for role_id in role_ids:
            if role_id in overwrites:
                allow |= int(overwrites[role_id]["allow"])
                deny |= int(overwrites[role_id]["deny"])
        value = (value & ~deny) | allow
        own = overwrites.get(str(user_id))
        if own:
            value = (value & ~int(own["deny"])) | int(own["allow"])
        return value

    def require(
        self, guild: FakeGuild, *names: str, channel: JSON | None = None, user_id: int | None = None
    ) -> None:
        """Raise 403/50013 unless the bot (or user_id) has every named permission."""
        have = self.channel_permissions(guild, user_id or self.bot_id, channel)
        need = discord.Permissions(**dict.fromkeys(names, True)).value
        if have & need != need:
            raise missing_permissions()

    def top_role_position(self, guild: FakeGuild, user_id: int) -> int:
        """Position of the highest role of a member (0 = only @everyone)."""
        member = guild.members.get(int(user_id))
        positions = [guild.roles[int(r)]["position"] for r in (member or {}).get("roles", [])] + [0]
        return max(positions)

    def require_above(self, guild: FakeGuild, role_ids: Iterable[int]) -> None:
        """Raise 403/50013 unless every role is below the bot's highest role.

        developers/topics/permissions.mdx (Permission Hierarchy): a bot can manage only roles
        lower than its highest role, whatever its permissions; the refusal is 50013 "You lack
        permissions to perform that action" (topics/opcodes-and-status-codes.mdx).
        """
        if self.bot_id == guild.owner_id:
            return
        top = self.top_role_position(guild, self.bot_id)
        for role_id in role_ids:
            role = guild.roles.get(int(role_id))
            if role is not None and role["position"] >= top:
                raise missing_permissions()

    # -- token helper ------------------------------------------------------------------------
    @staticmethod
    def new_token() -> str:
        """Opaque interaction token."""
        return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(24)
