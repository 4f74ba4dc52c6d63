"""Wires the core to slack-bolt's AsyncApp: HTTP (aiohttp) or Socket Mode, OAuth, App Home."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.charts import MatplotlibCharts
from adapters.slack.blocks import escape
from adapters.slack.oauth import SlackInstallations, installations
from adapters.slack.translate import (
    FormResponder,
    InteractionResponder,
    button_event,
    command_event,
    first_input_block,
    form_event,
    joined_event,
    left_event,
    message_event,
    returned_event,
    user_ref,
)
from adapters.slack.workspace import SlackWorkspace
from bot.cog import Cog
from bot.cogs import load_all
from bot.core import Bot, Context, CoreConfig
from bot.domain import Group, Permission
from bot.errors import StorageUnavailable, UserError
from bot.events import Event, FormSubmitted, UserRef
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory
from bot.scheduler import Scheduler
from bot.settings import Settings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
# How long a view_submission may wait for the core before acking (Slack allows 3 s).
FORM_ACK_SECONDS = 2.0


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """Now."""
        return datetime.now(UTC)


class OAuthClient(AsyncWebClient):
    """The app's client under OAuth: oauth.v2.access sends the credentials in the form body.

    Slack accepts them as POST parameters or HTTP Basic; the SDK's Basic path builds an
    `aiohttp.BasicAuth`, deprecated since aiohttp 3.14 (a DeprecationWarning per install).
    """

    async def oauth_v2_access(
        self,
        *,
        client_id: str,
        client_secret: str,
        code: str | None = None,
        redirect_uri: str | None = None,
        grant_type: str | None = None,
        refresh_token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Exchange an install code (or a refresh token) for the workspace's token."""
        optional = {
            "code": code,
            "redirect_uri": redirect_uri,
            "grant_type": grant_type,
            "refresh_token": refresh_token,
        }
        data = {"client_id": client_id, "client_secret": client_secret, **kwargs}
        data.update({k: v for k, v in optional.items() if v is not None})
        return await self.api_call("oauth.v2.access", data=data)


def make_client(
    settings: Settings, token: str | None, kind: type[AsyncWebClient] = AsyncWebClient
) -> AsyncWebClient:
    """An AsyncWebClient on SLACK_API_URL (if set) that sleeps through 429s."""
    kwargs: dict[str, Any] = {
        "token": token,
        "retry_handlers": [AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
    }
    if settings.slack_api_url:
        base = settings.slack_api_url
        kwargs["base_url"] = base if base.endswith("/") else base + "/"
    return kind(**kwargs)


@dataclass
class SlackApp:
    """The Bolt app, the core bot and the workspace, with counters tests can wait on."""

    app: AsyncApp
    bot: Bot
    workspace: SlackWorkspace
    settings: Settings
    installs: SlackInstallations | None = None
    received: Counter[str] = field(default_factory=Counter)
    dispatched: list[Event] = field(default_factory=list)
    inflight: int = 0
    _known: set[str] = field(default_factory=set)
    _group_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @contextlib.asynccontextmanager
    async def _track(self, kind: str) -> AsyncIterator[None]:
        # Counted before ack, so a test that got its HTTP response sees the work as pending.
        self.received[kind] += 1
        self.inflight += 1
        try:
            yield
        finally:
            self.inflight -= 1

    async def settle(self, within: float = 5.0) -> None:
        """Wait until no listener is running (tests; the HTTP response comes before the work)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        quiet = 0
        while quiet < 3:
            await asyncio.sleep(0.01)
            quiet = quiet + 1 if self.inflight == 0 else 0
            if loop.time() > deadline:
                raise TimeoutError(f"{self.inflight} Slack listeners still running")

    async def group(self, team_id: str) -> Group:
        """The group of a workspace; the first sight is serialised (events arrive in parallel)."""
        if team_id in self._known:
            return await self.bot.group(team_id)
        async with self._group_lock:
            group = await self.bot.group(team_id)
            self._known.add(team_id)
            return group

    async def dispatch(self, event: Event) -> None:
        """Hand an event to the core (never raises)."""
        await self.group(event.group_id)
        self.dispatched.append(event)
        await self.bot.handle(event)

    async def first_delivery(self, team_id: str, key: str) -> bool:
        """True the first time a key is seen (Slack retries and repeats events)."""
        await self.group(team_id)
        async with self.bot.uow() as uow:
            return await uow.events.first_time(team_id, key, self.bot.clock.now())

    async def aclose(self) -> None:
        """Close what the app opened beside the core (the installation store's engine)."""
        if self.installs is not None:
            await self.installs.close()

    def web_app(self) -> web.Application:
        """aiohttp app: POST /slack/events (events, commands, interactivity), GET /healthz."""
        application = self.app.web_app(path=EVENTS_PATH, port=self.settings.port)
        application.router.add_get("/healthz", _healthz)
        return application


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _client_for(
    settings: Settings, app: AsyncApp, installs: SlackInstallations | None
) -> Callable[[str], Awaitable[AsyncWebClient]]:
    """One client per workspace: the bot token, or the installation's token under OAuth."""
    clients: dict[str, AsyncWebClient] = {}

    async def client_for(team_id: str) -> AsyncWebClient:
        if installs is None:
            return app.client
        if team_id not in clients:
            bot = await installs.installations.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise RuntimeError(f"alumnibot is not installed in Slack workspace {team_id}")
            clients[team_id] = make_client(settings, bot.bot_token)
        return clients[team_id]

    def forget(team_id: str) -> None:
        clients.pop(team_id, None)

    if installs is not None:
        # A reinstall brings a new token, an uninstall none: the next call looks it up again.
        installs.installations.listeners.append(forget)
    return client_for


def build_app(
    settings: Settings,
    uow: UnitOfWorkFactory,
    *,
    config: CoreConfig | None = None,
    extra_cogs: Iterable[type[Cog]] = (),
    clock: Clock | None = None,
) -> SlackApp:
    """The AsyncApp with every listener, over a Bot with every cog."""
    signing = settings.slack_signing_secret
    kwargs: dict[str, Any] = {
        "signing_secret": signing.get_secret_value() if signing else None,
        "process_before_response": False,
    }
    installs = None
    if settings.slack_client_id and settings.slack_client_secret:
        installs = installations(settings)
        # The settings carry the store and its authorize (AsyncApp would build a second one).
        kwargs["oauth_settings"] = installs.settings
        # No token of its own: each request gets its workspace's token from the store.
        kwargs["client"] = make_client(settings, None, OAuthClient)
    else:
        token = settings.slack_bot_token
        kwargs["client"] = make_client(settings, token.get_secret_value() if token else None)
    app = AsyncApp(**kwargs)
    workspace = SlackWorkspace(
        _client_for(settings, app, installs), uow=uow, invite_link=settings.slack_invite_link
    )
    bot = load_all(Bot(workspace, uow, clock or SystemClock(), config, charts=MatplotlibCharts()))
    for cog in extra_cogs:
        bot.add_cog(cog(bot))
    # Validation errors of a form show in the modal itself, on Slack's `errors` response.
    bot.middleware.insert(1, _form_errors_in_modal)
    sa = SlackApp(app, bot, workspace, settings, installs)
    _register(sa)
    return sa


async def _form_errors_in_modal(
    ctx: Context, event: Event, call_next: Callable[[], Awaitable[None]]
) -> None:
    try:
        await call_next()
    except UserError as exc:
        responder = ctx.responder
        if not (isinstance(event, FormSubmitted) and isinstance(responder, FormResponder)):
            raise
        field_name = exc.params.get("field")
        if not responder.reject(ctx.t(exc.key, **exc.params), field_name):
            raise


def _team(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    if not team:
        team = (body.get("user") or {}).get("team_id") if isinstance(body.get("user"), dict) else ""
    return str(team or "")


def _register(sa: SlackApp) -> None:
    app, ws = sa.app, sa.workspace

    async def user_of(team_id: str, user_id: str, name: str = "") -> UserRef:
        info = await ws.member_info(team_id, user_id)
        if info is None:
            return user_ref(user_id, name)
        return UserRef(id=user_id, name=info.name or name, is_admin=info.is_admin)

    @app.command("/alumni")
    async def on_command(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        async with sa._track("command"):
            await ack()
            team = _team(body)
            group = await _group_or_tell(sa, team, respond)
            if group is None:
                return
            responder = InteractionResponder(
                respond=respond,
                client=client,
                workspace=ws,
                group_id=team,
                user_id=str(body["user_id"]),
                channel_id=body.get("channel_id"),
                trigger_id=body.get("trigger_id"),
                lang=group.language,
            )
            try:
                user = await user_of(team, str(body["user_id"]), str(body.get("user_name", "")))
                event = command_event(team, body, user, responder)
            except UserError as exc:
                await responder.reply(OutgoingMessage(t(group.language, exc.key, **exc.params)))
                return
            await sa.dispatch(event)

    @app.action({"type": "block_actions", "action_id": _ALUMNI_ACTION})
    async def on_button(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        async with sa._track("button"):
            await ack()
            team = _team(body)
            group = await _group_or_tell(sa, team, respond if body.get("response_url") else None)
            if group is None:
                return
            uid = str(body["user"]["id"])
            responder = InteractionResponder(
                respond=respond if body.get("response_url") else None,
                client=client,
                workspace=ws,
                group_id=team,
                user_id=uid,
                channel_id=(body.get("channel") or {}).get("id"),
                trigger_id=body.get("trigger_id"),
                lang=group.language,
            )
            user = await user_of(team, uid, str(body["user"].get("name", "")))
            event = button_event(team, body, user, responder)
            if event is not None:
                await sa.dispatch(event)

    @app.view_submission(_ANY)
    async def on_view(ack: Any, body: dict[str, Any], client: Any) -> None:
        async with sa._track("view"):
            team = _team(body)
            view = body.get("view") or {}
            uid = str(body["user"]["id"])
            try:
                group = await sa.group(team)
                user = await user_of(team, uid, str(body["user"].get("name", "")))
            except StorageUnavailable:
                log.warning("storage unavailable for a form in %s", team, exc_info=True)
                text = t(sa.bot.config.default_language, "core.storage_down")
                await ack(response_action="errors", errors={first_input_block(view): text})
                return
            except Exception:
                await ack()
                raise
            fields = {b.get("block_id") for b in view.get("blocks") or []} | set(
                ((view.get("state") or {}).get("values") or {}).keys()
            )
            responder = FormResponder(
                client=client,
                workspace=ws,
                group_id=team,
                user_id=uid,
                trigger_id=body.get("trigger_id"),
                lang=group.language,
                first_block=first_input_block(view),
                fields={str(f) for f in fields if f},
            )
            work = asyncio.ensure_future(sa.dispatch(form_event(team, body, user, responder)))
            # The modal can show errors only in the ack; wait for the core, but not past 3 s.
            await asyncio.wait({work}, timeout=FORM_ACK_SECONDS)
            title = str((view.get("title") or {}).get("text", "")) or "alumnibot"
            args = responder.ack_args(title) if work.done() else {}
            responder.acked = True
            await ack(**args)
            await work

    @app.event("team_join")
    async def on_team_join(body: dict[str, Any], event: dict[str, Any]) -> None:
        async with sa._track("team_join"):
            team = _team(body)
            joined = joined_event(team, event)
            # Slack may send team_join up to three times (with or without new event ids).
            if joined is None or not await sa.first_delivery(team, joined.event_key):
                return
            ws.forget_member(team, joined.user.id)
            await sa.dispatch(joined)

    @app.event("user_change")
    async def on_user_change(body: dict[str, Any], event: dict[str, Any]) -> None:
        async with sa._track("user_change"):
            team = _team(body)
            user = event.get("user") or {}
            ws.forget_member(team, str(user.get("id", "")))
            left = left_event(team, event)
            if left is not None:
                if await sa.first_delivery(team, f"slack:{body.get('event_id')}"):
                    await sa.dispatch(left)
                return
            # Active: perhaps a reactivated account (Slack sends no team_join then). The core
            # acts, once, only for a member it recorded as gone; a profile edit stores nothing.
            back = returned_event(team, event, str(body.get("event_id")))
            if back is not None:
                await sa.dispatch(back)

    @app.event("app_uninstalled")
    async def on_uninstalled(body: dict[str, Any]) -> None:
        """The workspace removed the app: its token is dead, the group's data stays."""
        if sa.installs is not None:
            team = _team(body)
            await sa.installs.installations.async_delete_all(enterprise_id=None, team_id=team)
            log.info("alumnibot was uninstalled from Slack workspace %s", team)

    @app.event("tokens_revoked")
    async def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        """A revoked bot token is forgotten, so nothing keeps calling Slack with it."""
        if sa.installs is not None and (event.get("tokens") or {}).get("bot"):
            team = _team(body)
            await sa.installs.installations.async_delete_bot(enterprise_id=None, team_id=team)

    @app.event("member_left_channel")
    async def on_member_left_channel(body: dict[str, Any]) -> None:
        """Leaving a channel is not leaving the group: nothing to do."""

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        async with sa._track("message"):
            team = _team(body)
            posted = message_event(team, event)
            if posted is None:
                return
            if not await sa.first_delivery(team, f"slack:{body.get('event_id')}"):
                return
            await _staff_post_check(sa, team, posted.channel.id, posted.user.id, posted.thread_id)
            await sa.dispatch(posted)

    @app.event("app_home_opened")
    async def on_home(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        async with sa._track("app_home_opened"):
            if event.get("tab", "home") != "home":
                return
            team = _team(body)
            uid = str(event.get("user", ""))
            view = await home_view(sa, team, uid)
            await client.views_publish(user_id=uid, view=view)


_ALUMNI_ACTION = re.compile(r"^alumni:")
_ANY = re.compile(r".*")


async def _staff_post_check(
    sa: SlackApp, team: str, channel_id: str, user_id: str, thread_id: str | None
) -> None:
    """Slack cannot stop members posting below Enterprise Grid: the bot tells them instead."""
    if thread_id is not None:
        return
    bot = sa.bot
    async with bot.uow() as uow:
        category = await uow.categories.by_channel(team, channel_id)
    if category is None or category.posting != "staff":
        return
    group = await sa.group(team)
    info = await sa.workspace.member_info(team, user_id)
    user = UserRef(id=user_id, is_admin=bool(info and info.is_admin))
    if (await bot.permission_of(group, user)).rank >= Permission.STAFF.rank:
        return
    text = t(group.language, "slack.staff_post_only", channel=category.name)
    await sa.workspace.send_private(team, channel_id, user_id, OutgoingMessage(text))


async def home_view(sa: SlackApp, team: str, user_id: str) -> dict[str, Any]:
    """The App Home: the member's roles, access level, commands and what cogs add."""
    bot = sa.bot
    group = await sa.group(team)
    lang = group.language
    info = await sa.workspace.member_info(team, user_id)
    user = UserRef(
        id=user_id, name=info.name if info else "", is_admin=bool(info and info.is_admin)
    )
    permission = await bot.permission_of(group, user)
    async with bot.uow() as uow:
        member = await uow.members.get(team, user_id)
        roles = {r.key: r.name for r in await uow.roles.for_group(team)}
    held = sorted(roles.get(k, k) for k in (member.roles if member else frozenset()))
    lines = [
        t(lang, "slack.home_roles", roles=", ".join(held))
        if held
        else t(lang, "slack.home_no_roles"),
        t(lang, "slack.home_level", level=permission.value),
    ]
    # Cogs may add lines (cohort, next question, pending approvals) without knowing Slack.
    ctx = Context(bot, group, user, permission=permission)
    for cog in bot.cogs.values():
        notes = getattr(cog, "home_notes", None)
        if notes is not None:
            try:
                lines += [str(x) for x in await notes(ctx)]
            except Exception:
                log.exception("home notes of %s failed", cog.name)
    usage = [f"`{c.usage}`: {t(lang, c.help_key)}" for c in bot.commands_for(permission)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": t(lang, "slack.home_title")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape("\n".join(lines))}},
        {"type": "divider"},
    ]
    # A section's text holds at most 3000 characters: the command list spans several sections.
    chunk = escape(t(lang, "slack.home_commands"))
    for line in usage:
        if len(chunk) + len(line) + 1 > 3000:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
            chunk = ""
        chunk = f"{chunk}\n{escape(line)}" if chunk else escape(line)
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    return {"type": "home", "blocks": blocks[:100]}


async def serve_http(sa: SlackApp, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the app with aiohttp; returns the runner and the bound port (0 picks one)."""
    runner = web.AppRunner(sa.web_app(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    return runner, int(sockets[0].getsockname()[1]) if sockets else port


async def _group_or_tell(sa: SlackApp, team: str, respond: Any) -> Group | None:
    """The group, or None after telling the member the database is unreachable."""
    try:
        return await sa.group(team)
    except StorageUnavailable:
        log.warning("storage unavailable for %s", team, exc_info=True)
        if respond is not None:
            text = t(sa.bot.config.default_language, "core.storage_down")
            await respond(text=text, response_type="ephemeral")
        return None


async def _preflight(settings: Settings) -> str | None:
    """One line saying what keeps the app from starting, or None: checked before serving."""
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if not secret:
        return "SLACK_SIGNING_SECRET is not set: every request from Slack is checked with it"
    if settings.slack_client_id:
        return None  # OAuth: each workspace's token comes from its installation
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    try:
        await make_client(settings, token).auth_test()
    except SlackApiError as exc:
        return f"Slack rejected SLACK_BOT_TOKEN ({exc.response.get('error')}); copy the bot token"
    except (aiohttp.ClientError, OSError) as exc:
        where = settings.slack_api_url or "slack.com"
        return f"cannot reach Slack at {where}: {exc.__class__.__name__}: {exc}"
    return None


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    uow: UnitOfWorkFactory,
    *,
    host: str = "0.0.0.0",
    config: CoreConfig | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[tuple[SlackApp, int]]:
    """The app serving HTTP on PORT (0 picks one), or Socket Mode with SLACK_APP_TOKEN.

    Yields the app and the bound port; on exit every socket and the store's engine is closed.
    """
    sa = build_app(settings, uow, config=config, clock=clock)
    runner = None
    handler = None
    try:
        if sa.installs is not None:
            await sa.installs.create_tables()
        runner, port = await serve_http(sa, host, settings.port)
        if settings.slack_app_token is not None and settings.slack_app_token.get_secret_value():
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(
                sa.app, app_token=settings.slack_app_token.get_secret_value()
            )
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected; /healthz on port %d", port)
        else:
            log.info("Slack HTTP mode: POST %s and GET /healthz on port %d", EVENTS_PATH, port)
        if sa.installs is not None:
            log.info("Slack OAuth: workspaces install the app at /slack/install")
        yield sa, port
    finally:
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await sa.aclose()


async def run_slack(settings: Settings, uow: UnitOfWorkFactory) -> int:
    """Start the Slack app (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN) and the scheduler."""
    problem = await _preflight(settings)
    if problem:
        print(f"alumnibot: {problem}", file=sys.stderr)
        return 1
    config = CoreConfig(default_language=settings.language, default_timezone=settings.timezone)
    async with serving(settings, uow, config=config) as (sa, _port):
        scheduler = asyncio.create_task(Scheduler(sa.bot).run_forever())
        try:
            await asyncio.Event().wait()
        finally:
            scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scheduler
    return 0
