"""FakeDiscord: the server object tests create, seed, drive and inspect."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from . import payloads as p
from .drivers import DriverMixin
from .gateway import GatewayMixin
from .payloads import JSON
from .rest import API_PREFIX, RestMixin
from .state import DEFAULT_BOT, DEFAULT_EVERYONE, FakeGuild, log

COMMUNITY_FEATURES = [
    "COMMUNITY",
    "NEWS",
    "WELCOME_SCREEN_ENABLED",
    "MEMBER_VERIFICATION_GATE_ENABLED",
]


class FakeDiscord(RestMixin, GatewayMixin, DriverMixin):
    """A fake Discord (REST + gateway) on 127.0.0.1 for the real discord.py client."""

    def __init__(
        self,
        *,
        bot_id: int | None = None,
        application_id: int | None = None,
        bot_name: str = "alumnibot",
        token: str = "fake-bot-token",
    ) -> None:
        """Create the fake; call `await start()` before connecting a client."""
        super().__init__(
            bot_id=bot_id, application_id=application_id, bot_name=bot_name, token=token
        )
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._init_gateway()

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind the HTTP + websocket server on 127.0.0.1 with a free port."""
        self._changed = asyncio.Event()
        self._hold = asyncio.Event()
        self._hold.set()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "{tail:.*}", self._rest_handler)
        app.router.add_get("/", self._gateway_handler)
        app.router.add_get("/resume", self._gateway_handler)
        # The CDN: uploaded files, by attachment id (the channel and file name are decoration).
        for prefix in ("attachments", "ephemeral-attachments"):
            app.router.add_get("/" + prefix + "/{where}/{aid}/{filename}", self._cdn_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.debug("fake discord listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close websockets and the server."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._close_all_gateways()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """REST base URL (set as discord.http.Route.BASE)."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def cdn_url(self) -> str:
        """Where uploaded files are served (Discord's cdn.discordapp.com)."""
        return f"http://127.0.0.1:{self.port}"

    async def _cdn_handler(self, request: web.Request) -> web.StreamResponse:
        """GET a file as the CDN does: no auth, 404 for a file that is gone."""
        aid = request.match_info["aid"]
        self.cdn_downloads.append(aid)
        data = self.attachment_data.get(aid)
        if data is None:
            return web.Response(status=404, text="404: Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    def patch_discord(self) -> Callable[[], None]:
        """Point discord.py at this fake; returns a callable that restores the old values."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.base_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

        def restore() -> None:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

        return restore

    @contextlib.contextmanager
    def patched(self) -> Iterator[FakeDiscord]:
        """Context manager form of patch_discord()."""
        restore = self.patch_discord()
        try:
            yield self
        finally:
            restore()

    # -- seeding -----------------------------------------------------------------------------
    def add_guild(
        self,
        name: str,
        owner_id: int | None = None,
        community: bool = False,
        *,
        guild_id: int | None = None,
        with_general: bool = True,
    ) -> FakeGuild:
        """Add a guild with @everyone, the bot (managed role) and its owner as members."""
        guild_id = guild_id or p.snowflake()
        owner_id = owner_id or p.snowflake()
        features = list(COMMUNITY_FEATURES) if community else []
        guild = FakeGuild(guild_id, name, owner_id, features)
        guild.roles[guild_id] = p.role_payload(guild_id, "@everyone", permissions=DEFAULT_EVERYONE)
        bot_role = p.role_payload(
            p.snowflake(),
            self.bot_user["username"],
            permissions=DEFAULT_BOT,
            position=1,
            managed=True,
            tags={"bot_id": str(self.bot_id)},
        )
        guild.bot_role_id = int(bot_role["id"])
        guild.roles[guild.bot_role_id] = bot_role
        self.guilds[guild_id] = guild
        guild.members[self.bot_id] = p.member_payload(self.bot_user, roles=[guild.bot_role_id])
        owner = self._ensure_user(owner_id, "owner")
        guild.members[owner_id] = p.member_payload(owner)
        if with_general:
            self.add_channel(guild_id, "general")
        return guild

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        username: str,
        pending: bool = False,
        roles: Sequence[int] = (),
        *,
        nick: str | None = None,
        bot: bool = False,
    ) -> JSON:
        """Seed a member (no event; use member_join() for a live join)."""
        guild = self.guild(guild_id)
        user = self.users.get(int(user_id)) or p.user_payload(int(user_id), username, bot=bot)
        self.users[int(user_id)] = user
        member = p.member_payload(user, roles=list(roles), nick=nick, pending=pending)
        guild.members[int(user_id)] = member
        return member

    def add_role(
        self,
        guild_id: int,
        name: str,
        permissions: int = 0,
        *,
        position: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> JSON:
        """Seed a role; position defaults to just below the bot's role (grantable)."""
        guild = self.guild(guild_id)
        if position is None:
            position = 1
            for role in guild.roles.values():
                if role["position"] >= 1:
                    role["position"] += 1
        role = p.role_payload(
            p.snowflake(),
            name,
            permissions=permissions,
            position=position,
            color=color,
            hoist=hoist,
            mentionable=mentionable,
        )
        guild.roles[int(role["id"])] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str,
        type: int = 0,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
        position: int | None = None,
        tags: Sequence[str] = (),
        require_tag: bool = False,
    ) -> JSON:
        """Seed a channel (text=0, category=4, forum=15 with tags); returns its payload."""
        guild = self.guild(guild_id)
        if position is None:
            position = sum(1 for c in guild.channels.values() if c["type"] == type)
        channel = p.channel_payload(
            p.snowflake(),
            guild.id,
            name,
            type=type,
            position=position,
            parent_id=parent_id,
            topic=topic,
        )
        if type in (15, 16):
            channel["available_tags"] = [
                {
                    "id": str(p.snowflake()),
                    "name": t,
                    "moderated": False,
                    "emoji_id": None,
                    "emoji_name": None,
                }
                for t in tags
            ]
            if require_tag:
                channel["flags"] = 16
        guild.channels[int(channel["id"])] = channel
        return channel

    def tag_id(self, channel_id: int, name: str) -> int:
        """Id of a forum tag by name."""
        tags = self.channel(channel_id).get("available_tags", [])
        return int(next(t["id"] for t in tags if t["name"] == name))

    def text_channel_id(self, guild_id: int, name: str = "general") -> int:
        """Id of the first channel with a name (default: the seeded #general)."""
        return int(self.channels_named(guild_id, name)[0]["id"])

    def bot_role(self, guild_id: int) -> JSON:
        """The bot's managed role in a guild."""
        guild = self.guild(guild_id)
        return guild.roles[guild.bot_role_id]

    def set_bot_permissions(self, guild_id: int, **flags: bool) -> None:
        """Change the bot role's permissions now, e.g. manage_roles=False.

        Takes effect on REST at once; GUILD_ROLE_UPDATE is dispatched in the background.
        """
        role = self.bot_role(guild_id)
        perms = discord.Permissions(int(role["permissions"]))
        perms.update(**flags)
        role["permissions"] = str(perms.value)
        self._dispatch_soon("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": role})

    def set_role_position(self, guild_id: int, role_id: int, position: int) -> None:
        """Move a role in the hierarchy now (GUILD_ROLE_UPDATE in the background)."""
        role = self.role(guild_id, role_id)
        role["position"] = position
        self._dispatch_soon("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id), "role": role})

    def _dispatch_soon(self, event: str, data: JSON) -> None:
        if self.session_id is None:
            return
        task = asyncio.get_running_loop().create_task(self.dispatch(event, copy.deepcopy(data)))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- rate limits ---------------------------------------------------------------------------
    def set_rate_limit(
        self, route_key: str, limit: int, per_seconds: float = 1.0, *, advertise: bool = True
    ) -> None:
        """Bucket for e.g. "PATCH /guilds/{g}/members/{u}", per major parameter (guild/channel).

        advertise=False hides the X-RateLimit headers on successes, so discord.py cannot
        pre-empt the limit and gets real 429s (like Discord's undisclosed sub-limits).
        """
        self.limiter.configure(route_key, limit, per_seconds, advertise=advertise)

    def set_global_rate_limit(self, limit: int | None = 50, per_seconds: float = 1.0) -> None:
        """Enable the global limit (default 50 req/s); None disables it."""
        self.limiter.set_global(limit, per_seconds)

    def requests_to(self, route_key: str) -> list[Any]:
        """Recorded requests for one route key, e.g. "PATCH /guilds/{}/members/{}"."""
        from .ratelimit import normalize_route_key

        key = normalize_route_key(route_key)
        return [r for r in self.requests if normalize_route_key(r.route_key) == key]


@contextlib.asynccontextmanager
async def running_fake_discord(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """Start a FakeDiscord and patch discord.py to use it for the duration."""
    fake = FakeDiscord(**kwargs)
    await fake.start()
    restore = fake.patch_discord()
    try:
        yield fake
    finally:
        restore()
        await fake.stop()
