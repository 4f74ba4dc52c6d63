"""The Discord client: wires discord.py events to the core, syncs commands, runs the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

from adapters.compose import SystemClock, compose
from adapters.discord.translate import (
    InteractionResponder,
    application_commands,
    command_words,
    commands_hash,
    focused_option,
    interaction_event,
    join_event,
    joined_after_update,
    leave_event,
    message_event,
    staff_commands,
    user_ref,
)
from adapters.discord.workspace import DiscordWorkspace
from adapters.mail import connect_mail
from adapters.web.server import WebServer, serve_web
from bot.commands import ROOT
from bot.core import CoreConfig
from bot.events import Event
from bot.lifecycle import Check, Lifecycle, start_scheduler, stop_in_order
from bot.ports import Clock, UnitOfWorkFactory
from bot.scheduler import Scheduler
from bot.settings import Settings

log = logging.getLogger(__name__)
HASH_KEY = "discord.commands_hash"
# A rate limit longer than this is refused (discord.RateLimited) instead of slept through: the
# hidden limit on channel renames (2 per 10 minutes) would otherwise hang a command for minutes
# and outlive its 15-minute interaction token. discord.py's minimum is 30 s.
MAX_RATELIMIT_WAIT = 30.0
# Suggestions answer within Discord's 3 s like any first response (receiving-and-responding
# .mdx); a slower database gets an empty list in time instead of a dead picker.
SUGGEST_SECONDS = 2.0


def intents() -> discord.Intents:
    """Only what the features need.

    guilds: channels, roles, threads in the cache. members (PRIVILEGED): joins, leaves and the
    end of membership screening. guild_messages: activity and thread replies. Not
    message_content (privileged): features count messages and read slash commands, forms and
    buttons, none of which need the text of members' messages.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.members = True
    wanted.guild_messages = True
    return wanted


def invite_permissions() -> discord.Permissions:
    """The minimal permissions the bot asks for when it is invited."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        send_polls=True,
        manage_channels=True,
        manage_roles=True,
        create_instant_invite=True,
    )


def point_at(api_url: str | None, gateway_url: str | None) -> None:
    """Override Discord's endpoints (a shared rate-limit proxy, or the fake in tests)."""
    if api_url:
        discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class AlumniClient(discord.Client):
    """discord.Client that hands every relevant event to the core Bot."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        config: CoreConfig | None = None,
        *,
        run_scheduler: bool = True,
        force_sync: bool = False,
        scheduler_interval: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(
            intents=intents(),
            guild_ready_timeout=0.5,
            chunk_guilds_at_startup=True,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            # Nothing the bot sends pings by default; each message names whom it may notify.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.workspace = DiscordWorkspace(self)
        # A clock other than real time lets tests move through weeks and graduation dates.
        self.bot = compose(config or CoreConfig(), self.workspace, uow, clock or SystemClock())
        self.ready = asyncio.Event()
        self.synced: set[int] = set()
        self._force_sync = force_sync
        self._run_scheduler = run_scheduler
        self._scheduler_interval = scheduler_interval
        self._scheduler: asyncio.Task[None] | None = None
        self.scheduler: Scheduler | None = None
        # The process's stop signal and health checks (a fresh one when run without).
        self.life = Lifecycle()

    async def setup_hook(self) -> None:
        """Start the scheduler next to the gateway connection."""
        if self._run_scheduler:
            self.scheduler, self._scheduler = start_scheduler(
                self.life, self.bot, self._scheduler_interval
            )

    async def close(self) -> None:
        """Stop the scheduler (a running job is handed back), then disconnect."""
        if self.scheduler is not None:
            await self.scheduler.stop(grace=1.0)
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
            self._scheduler = None
        await super().close()

    async def on_ready(self) -> None:
        """Register every guild as a group and sync its commands if the tree changed."""
        try:
            await self.sync_staff_commands(force=self._force_sync)
        except (discord.HTTPException, ValueError):
            # ValueError: a command without its picker text (tests/test_command_texts.py); the
            # commands Discord has stay, the bot still starts.
            log.exception("could not sync the staff commands")
        for guild in self.guilds:
            await self.prepare_guild(guild)
        self.ready.set()
        log.info("connected to Discord as %s in %d servers", self.user, len(self.guilds))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A new server invited the bot."""
        await self.prepare_guild(guild)

    async def prepare_guild(self, guild: discord.Guild) -> None:
        """The group row exists (so jobs run for it) and the commands are current."""
        await self.bot.group(str(guild.id))
        try:
            await self.sync_commands(guild, force=self._force_sync)
        except (discord.HTTPException, ValueError):
            log.exception("could not sync commands to %s", guild.id)

    async def sync_commands(self, guild: discord.Guild, *, force: bool = False) -> bool:
        """Upload `/alumni` to the guild when its hash changed (or when forced)."""
        payload = application_commands(self.bot.tree)
        digest = commands_hash(payload)
        stored = await self.bot.kept(str(guild.id), HASH_KEY)
        if stored == digest and not force:
            return False
        assert self.application_id is not None
        await self.http.bulk_upsert_guild_commands(self.application_id, guild.id, payload)
        await self.bot.keep(str(guild.id), HASH_KEY, digest)
        self.synced.add(guild.id)
        log.info("synced /alumni commands to %s", guild.id)
        return True

    async def sync_staff_commands(self, *, force: bool = False) -> bool:
        """Upload the global, staff-only `/alumni` when its hash changed (or when forced)."""
        payload = staff_commands(self.bot.tree)
        digest = commands_hash(payload)
        assert self.application_id is not None
        # Not a group's fact: the app's own, under a key no guild id can take.
        owner = f"discord-app:{self.application_id}"
        if await self.bot.kept(owner, HASH_KEY) == digest and not force:
            return False
        await self.http.bulk_upsert_global_commands(self.application_id, payload)
        await self.bot.keep(owner, HASH_KEY, digest)
        log.info("synced the staff /alumni commands")
        return True

    async def _handle(self, event: Event | None) -> None:
        if event is not None:
            await self.bot.handle(event)

    # Each discord.py event already runs in its own task, so a slow handler blocks nothing.
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Commands, button presses (of any message, even from before a restart), forms."""
        if interaction.type is discord.InteractionType.autocomplete:
            await self.suggest(interaction)
            return
        event = interaction_event(interaction)
        try:
            await self._handle(event)
        finally:
            responder = getattr(event, "responder", None)
            if isinstance(responder, InteractionResponder):
                await responder.finish()

    async def suggest(self, interaction: discord.Interaction) -> None:
        """Answer an autocomplete with the group's own values (cohorts, categories, roles)."""
        data: dict[str, Any] = dict(interaction.data or {})
        focused = focused_option(data)
        found: list[tuple[str, str]] = []
        if focused is not None and interaction.guild_id is not None and data.get("name") == ROOT:
            words, _ = command_words(data)
            try:
                found = await asyncio.wait_for(
                    self.bot.suggest(
                        str(interaction.guild_id), user_ref(interaction.user), words, *focused
                    ),
                    SUGGEST_SECONDS,
                )
            except TimeoutError:
                log.warning("suggestions for %s took longer than %ss", focused[0], SUGGEST_SECONDS)
        choices = [discord.app_commands.Choice(name=label, value=value) for label, value in found]
        try:
            await interaction.response.autocomplete(choices)
        except discord.HTTPException as exc:
            log.warning("suggestions refused: %s", exc)

    async def on_member_join(self, member: discord.Member) -> None:
        """A join counts only once membership screening has passed (pending is False)."""
        if member.pending:
            return
        await self._handle(join_event(member))

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        """Screening passed: pending True -> False."""
        await self._handle(joined_after_update(before, after))

    async def on_member_remove(self, member: discord.Member) -> None:
        """A member left or was removed."""
        await self._handle(leave_event(member))

    async def on_message(self, message: discord.Message) -> None:
        """Messages in the server (the core ignores bots', the bot's own included)."""
        await self._handle(message_event(message))


def _quiet_voice(record: logging.LogRecord) -> bool:
    """discord.py warns on every start that voice is unavailable; the bot never uses voice."""
    return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(_quiet_voice)


def _fail(line: str) -> int:
    print(f"alumnibot: {line}", file=sys.stderr)
    return 1


async def run_discord(
    settings: Settings,
    uow: UnitOfWorkFactory,
    *,
    sync_only: bool = False,
    life: Lifecycle | None = None,
) -> int:
    """Run the bot until told to stop (SIGTERM), then stop in order; `sync_only` uploads the
    commands to every server and exits."""
    discord_settings = settings.discord
    token = discord_settings.token.get_secret_value() if discord_settings.token else ""
    if not token:
        return _fail("DISCORD_TOKEN is not set (put it in the environment or .env)")
    point_at(discord_settings.api_url, discord_settings.gateway_url)
    client = AlumniClient(uow, settings.core(), run_scheduler=not sync_only, force_sync=sync_only)
    if not sync_only:
        connect_mail(client.bot, settings)
    server: WebServer | None = None
    try:
        if sync_only:
            return await _sync_and_exit(client, token)
        client.life = life = life or Lifecycle()
        life.attach(client.bot)
        life.add_check("gateway", _gateway_check(client))
        # /healthz (for hosts that set PORT) and the staff dashboard.
        server = await serve_web(client.bot, life, settings.web)
        running = asyncio.ensure_future(client.start(token))
        stopping = asyncio.ensure_future(life.wait())
        done, _ = await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if running in done:
            running.result()  # raises LoginFailure and friends
            return 0
        # Discord has no way to hold events back: interactions that arrive now are answered
        # "restarting" (see Lifecycle.attach); joins and messages are still handled.
        await stop_in_order(life, client.bot, scheduler=client.scheduler)
        await life.step("the gateway", client.close, leave=0.0)
        await asyncio.wait({running}, timeout=1.0)
        return 0
    except discord.LoginFailure:
        return _fail("Discord rejected DISCORD_TOKEN (invalid or reset); copy a new bot token")
    except (aiohttp.ClientConnectionError, OSError) as exc:
        where = discord_settings.api_url or "discord.com"
        return _fail(f"cannot reach Discord at {where}: {exc.__class__.__name__}: {exc}")
    except discord.PrivilegedIntentsRequired:
        return _fail(
            "enable the Server Members Intent: Developer Portal > your app > Bot > "
            "Privileged Gateway Intents"
        )
    finally:
        if not client.is_closed():
            await client.close()
        if server is not None:
            await server.close()


def _gateway_check(client: discord.Client) -> Check:
    """The gateway session is live: ready, and its websocket open."""

    async def check() -> str | None:
        if client.is_closed():
            return "closed"
        if not client.is_ready():
            return "connecting"
        ws = client.ws
        if ws is None or not ws.open:
            return "reconnecting"
        return None

    return check


async def _sync_and_exit(client: AlumniClient, token: str) -> int:
    task = asyncio.create_task(client.start(token))
    ready = asyncio.create_task(client.ready.wait())
    done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()  # raises LoginFailure and friends
        return 1
    print(f"synced /alumni to {len(client.synced)} of {len(client.guilds)} servers")
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return 0


async def invite_url(settings: Settings) -> int:
    """Print the OAuth URL that adds the bot with the minimal permissions."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        return _fail("DISCORD_TOKEN is not set (put it in the environment or .env)")
    point_at(settings.discord_api_url, settings.discord_gateway_url)
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        app = await client.application_info()
    except discord.LoginFailure:
        return _fail("Discord rejected DISCORD_TOKEN (invalid or reset); copy a new bot token")
    except (aiohttp.ClientConnectionError, OSError) as exc:
        where = settings.discord_api_url or "discord.com"
        return _fail(f"cannot reach Discord at {where}: {exc.__class__.__name__}: {exc}")
    finally:
        await client.close()
    print(
        discord.utils.oauth_url(
            app.id, permissions=invite_permissions(), scopes=("bot", "applications.commands")
        )
    )
    return 0
