"""Wires the core to slack-bolt's AsyncApp: HTTP (aiohttp) or Socket Mode, OAuth, App Home."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import sys
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import (
    AsyncSingleTeamAuthorization,
)
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.compose import SystemClock, compose
from adapters.health import add_health
from adapters.mail import connect_mail
from adapters.slack.blocks import working_view
from adapters.slack.oauth import SlackInstallations, installations
from adapters.slack.translate import (
    FormResponder,
    InteractionResponder,
    ResponseUrl,
    button_event,
    command_event,
    first_input_block,
    form_event,
    home_event,
    joined_event,
    left_event,
    message_event,
    returned_event,
    user_ref,
)
from adapters.slack.workspace import SlackWorkspace
from adapters.web.app import MAX_UPLOAD, PREFIX, add_dashboard
from adapters.web.server import WebServer, serve_web
from adapters.web.unsubscribe import add_unsubscribe
from bot.cog import Cog
from bot.cogs.dashboard.service import DashboardService
from bot.core import Bot, Context, CoreConfig, storage_down
from bot.domain import Group, Language
from bot.errors import StorageUnavailable, UserError
from bot.events import Event, FormSubmitted, UserRef
from bot.i18n import t
from bot.lifecycle import Lifecycle, start_scheduler, stop_in_order
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory
from bot.settings import Settings

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


# Connections the kernel queues before the server accepts them (aiohttp's default is 128).
LISTEN_BACKLOG = 1024


@dataclass(frozen=True)
class HttpLimits:
    """What the HTTP server allows a client, so slow or huge requests cannot hold it.

    Slack sends small requests at once: a slash command's text is at most a message's 40,000
    characters (docs.slack.dev/reference/methods/chat.postMessage), a modal's submission a few
    kB; Slack itself gives up on an answer after 3 s. A client that trickles its headers or
    body is cut off; a body over `max_body` bytes is refused with 413 before it is read.
    """

    max_body: int = 512 * 1024
    # Headers must be complete this long after the connection opened (or the last answer):
    # aiohttp's keep-alive timer closes a connection that has no complete request by then.
    header_seconds: float = 10.0
    # The body must arrive within this long after the headers (else 408).
    body_seconds: float = 10.0


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


def retry_handlers() -> list[Any]:
    """slack_sdk's own retries: connection errors, 429 (after Retry-After) and 500/503.

    `retry_handlers=[...]` replaces the SDK's default list (which holds only the
    connection-error handler), so all three are passed together.
    """
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def make_client(
    settings: Settings, token: str | None, kind: type[AsyncWebClient] = AsyncWebClient
) -> AsyncWebClient:
    """An AsyncWebClient on SLACK_API_URL (if set) that retries as `retry_handlers` says."""
    kwargs: dict[str, Any] = {"token": token, "retry_handlers": retry_handlers()}
    if settings.slack_api_url:
        base = settings.slack_api_url
        kwargs["base_url"] = base if base.endswith("/") else base + "/"
    return kind(**kwargs)


class AckFirst:
    """Work after an ack waits while requests are still arriving and waiting for their ack.

    Slack counts 3 s from each request's arrival. Under a burst (a class of 200 running the
    same command) the acks go out first and the work follows once no request has arrived for
    `QUIET` seconds, or at the latest `WAIT` seconds later, instead of every request's database
    and Web API work standing between the next request and its ack. A request that arrives
    alone starts its work at once.
    """

    QUIET = 0.1
    WAIT = 0.5

    def __init__(self) -> None:
        self.pending = 0
        self.arrivals: deque[float] = deque()
        self._gate: asyncio.Future[None] | None = None
        self._watcher: asyncio.Future[None] | None = None

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Around a request's handling in the HTTP server: pending until its ack is ready."""
        self.pending += 1
        self.arrivals.append(asyncio.get_running_loop().time())
        try:
            yield
        finally:
            self.pending -= 1

    def _recent(self, now: float) -> int:
        while self.arrivals and now - self.arrivals[0] > self.QUIET:
            self.arrivals.popleft()
        return len(self.arrivals)

    async def turn(self) -> None:
        """Return once arrivals have paused (at once for a request that came alone)."""
        loop = asyncio.get_running_loop()
        if self.pending <= 1 and self._recent(loop.time()) <= 1:
            return  # only this request (still pending until Bolt sends its ack)
        if self._gate is None or self._gate.done():
            # One watcher for all the work waiting, not a timer each.
            self._gate = loop.create_future()
            self._watcher = asyncio.ensure_future(self._watch(self._gate))
        await asyncio.shield(self._gate)

    async def _watch(self, gate: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + self.WAIT
        while loop.time() < until and (self.pending or self._recent(loop.time())):  # noqa: ASYNC110
            await asyncio.sleep(self.QUIET / 4)
        gate.set_result(None)


@dataclass
class SlackApp:
    """The Bolt app, the core bot and the workspace."""

    app: AsyncApp
    bot: Bot
    workspace: SlackWorkspace
    settings: Settings
    installs: SlackInstallations | None = None
    limits: HttpLimits = field(default_factory=HttpLimits)
    acks: AckFirst = field(default_factory=AckFirst)
    session: aiohttp.ClientSession | None = None
    _known: set[str] = field(default_factory=set)
    _languages: dict[str, Language] = field(default_factory=dict)
    _group_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def group(self, team_id: str) -> Group:
        """The group of a workspace; the first sight is serialised (events arrive in parallel).

        The adapter only needs the group to exist and its language: a copy read within the
        core's GROUP_CACHE_SECONDS serves (the core reads it afresh when it handles a command).
        """
        if team_id in self._known:
            group = await self.bot.group(team_id, cached=True)
        else:
            async with self._group_lock:
                group = await self.bot.group(team_id)
                self._known.add(team_id)
        self._languages[team_id] = group.language
        return group

    def language(self, team_id: str) -> Language:
        """The group's language as last read (no database call: used before an ack)."""
        return self._languages.get(team_id, self.bot.config.default_language)

    async def dispatch(self, event: Event) -> None:
        """Hand an event to the core (never raises)."""
        if event.group_id not in self._known:
            await self.group(event.group_id)
        await self.bot.handle(event)

    async def first_delivery(self, team_id: str, key: str) -> bool:
        """True the first time a key is seen (Slack retries and repeats events)."""
        if team_id not in self._known:
            await self.group(team_id)  # its row first: the key belongs to the group
        return await self.bot.first_time(team_id, key)

    async def aclose(self) -> None:
        """Close what the app opened beside the core (the HTTP session, the store's engine)."""
        session, self.session = self.session, None
        if session is not None:
            self.app.client.session = None
            await session.close()
        if self.installs is not None:
            await self.installs.close()

    def share_session(self) -> aiohttp.ClientSession:
        """One aiohttp session (and its pool of kept-alive connections) for every Web API call
        and response_url post, instead of slack_sdk's new session, connection and TLS
        handshake per call. Made inside the running loop; closed by `aclose`."""
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession()
            # Bolt copies the app client's session into each request's client.
            self.app.client.session = self.session
        return self.session

    def web_app(self, life: Lifecycle | None = None) -> web.Application:
        """aiohttp app: POST /slack/events (events, commands, interactivity), GET /healthz.

        With a Lifecycle, /healthz checks the process's parts (database, socket, scheduler).
        """
        bolt = self.app.web_app(path=EVENTS_PATH, port=self.settings.web.slack_port)
        # Bolt's own routes, on an application that limits size and time (HttpLimits).
        application = web.Application(
            client_max_size=self.limits.max_body,
            middlewares=[_limit_body(self.limits, self.acks)],
        )
        application.router.add_routes(
            [
                web.route(r.method, r.resource.canonical, r.handler)
                for r in bolt.router.routes()
                if r.method != "HEAD" and r.resource is not None  # GET adds its HEAD again
            ]
        )
        if life is not None:
            add_health(application, life)
        else:
            application.router.add_get("/healthz", _healthz)
        # The staff dashboard on the same server as /slack/events (the one public address).
        web_settings = self.settings.web
        add_dashboard(
            application,
            self.bot,
            web_settings.base_url(
                web_settings.web_host or web_settings.host, web_settings.slack_port
            ),
        )
        add_unsubscribe(application, self.bot)
        return application


def _limit_body(limits: HttpLimits, acks: AckFirst) -> Any:
    """Middleware: 413 for a declared body over the limit, 408 for a body that trickles in;
    the request counts for AckFirst until its answer is ready."""

    @web.middleware
    async def limit_body(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # The dashboard shares this server: its roster upload may be larger than anything
        # Slack sends, and it refuses a body over its own limits in the group's language.
        dashboard = request.path.startswith(PREFIX + "/")
        limit = max(limits.max_body, MAX_UPLOAD) if dashboard else limits.max_body
        declared = request.content_length
        if declared is not None and declared > limit and not dashboard:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared)
        if dashboard and limit != limits.max_body:
            request = request.clone(client_max_size=limit)
        if request.can_read_body and not (dashboard and declared and declared > limit):
            try:
                # Read here, under the time limit; Bolt (or the dashboard) reads the cached body.
                async with asyncio.timeout(limits.body_seconds):
                    with contextlib.suppress(web.HTTPRequestEntityTooLarge):
                        await request.read()
            except TimeoutError:
                log.info("a request body did not arrive within %.1f s", limits.body_seconds)
                raise web.HTTPRequestTimeout() from None
        with acks.arriving():
            return await handler(request)

    return limit_body


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
            clients[team_id].session = app.client.session  # the app's shared session
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
    limits: HttpLimits | None = None,
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
        _client_for(settings, app, installs), invite_link=settings.slack_invite_link
    )
    bot = compose(config or settings, workspace, uow, clock or SystemClock())
    connect_mail(bot, settings)
    for cog in extra_cogs:
        bot.add_cog(cog(bot))
    # Validation errors of a form show in the modal itself, on Slack's `errors` response.
    bot.middleware.insert(1, _form_errors_in_modal)
    sa = SlackApp(app, bot, workspace, settings, installs, limits or HttpLimits())
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

    async def fresh(team: str, body: dict[str, Any], request: Any) -> bool:
        """False for a replayed request (same trigger_id, or same signature): run it once.

        A signed request can be sent again within Slack's 5-minute window; its trigger_id
        (or, without one, its signature) is recorded in the database, after the ack (no
        database call may come first), so a replay sent to another process is caught too.
        """
        key = body.get("trigger_id") or _signature(request)
        if not key:
            return True
        first = await sa.first_delivery(team, f"slack:request:{key}")
        if not first:
            log.warning("a replayed Slack request (%s) was not run again", str(key)[:24])
        return first

    @app.command("/alumni")
    async def on_command(ack: Any, body: dict[str, Any], client: Any, request: Any) -> None:
        await ack()
        await sa.acks.turn()
        team = _team(body)
        url = ResponseUrl(body.get("response_url"), sa.session)
        group = await _group_or_tell(sa, team, url, lambda: fresh(team, body, request))
        if group is None:
            return
        responder = InteractionResponder(
            response_url=url,
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
            event = command_event(team, body, user, responder, sa.bot.tree)
        except UserError as exc:
            await responder.reply(OutgoingMessage(t(group.language, exc.key, **exc.params)))
            return
        await sa.dispatch(event)

    @app.action({"type": "block_actions", "action_id": _ALUMNI_ACTION})
    async def on_button(ack: Any, body: dict[str, Any], client: Any, request: Any) -> None:
        await ack()
        await sa.acks.turn()
        team = _team(body)
        url = ResponseUrl(body.get("response_url"), sa.session)
        group = await _group_or_tell(sa, team, url, lambda: fresh(team, body, request))
        if group is None:
            return
        uid = str(body["user"]["id"])
        responder = InteractionResponder(
            response_url=url,
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
    async def on_view(ack: Any, body: dict[str, Any], client: Any, request: Any) -> None:
        team = _team(body)
        view = body.get("view") or {}
        # Acked before anything else (Slack counts 3 s from the request's arrival): the modal
        # shows "Saving…" and no submit button; FormResponder.finish shows the outcome.
        saving = working_view(view, t(sa.language(team), "slack.form_saving"))
        await ack(response_action="update", view=saving)
        await sa.acks.turn()
        uid = str(body["user"]["id"])
        fields = {b.get("block_id") for b in view.get("blocks") or []} | set(
            ((view.get("state") or {}).get("values") or {}).keys()
        )
        responder = FormResponder(
            client=client,
            workspace=ws,
            group_id=team,
            user_id=uid,
            trigger_id=body.get("trigger_id"),
            lang=sa.language(team),
            first_block=first_input_block(view),
            fields={str(f) for f in fields if f},
            view=view,
        )
        try:
            group = await sa.group(team)
            if not await fresh(team, body, request):
                return  # a replay: the first submission's modal has its answer
            responder.lang = group.language
            user = await user_of(team, uid, str(body["user"].get("name", "")))
        except StorageUnavailable:
            log.warning("storage unavailable for a form in %s", team, exc_info=True)
            responder.reject(storage_down(sa.language(team)).text)
            await responder.finish()
            return
        except Exception:
            # The modal must not stay at "Saving…": the form comes back with the reason.
            ref = uuid.uuid4().hex[:8]
            log.exception("error %s before a form reached the core", ref)
            responder.reject(t(sa.language(team), "core.internal_error", ref=ref))
            await responder.finish()
            return
        try:
            await sa.dispatch(form_event(team, body, user, responder))
        finally:
            await responder.finish()

    @app.event("team_join")
    async def on_team_join(body: dict[str, Any], event: dict[str, Any]) -> None:
        team = _team(body)
        joined = joined_event(team, event)
        # Slack may send team_join up to three times (with or without new event ids).
        if joined is None or not await sa.first_delivery(team, joined.event_key):
            return
        ws.forget_member(team, joined.user.id)
        await sa.dispatch(joined)

    @app.event("user_change")
    async def on_user_change(body: dict[str, Any], event: dict[str, Any]) -> None:
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
        team = _team(body)
        posted = message_event(team, event)
        if posted is None:
            return
        if not await sa.first_delivery(team, f"slack:{body.get('event_id')}"):
            return
        await sa.dispatch(posted)

    @app.event("app_home_opened")
    async def on_home(body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        team = _team(body)
        user = await user_of(team, str(event.get("user", "")))
        await sa.dispatch(home_event(team, user, client))


_ALUMNI_ACTION = re.compile(r"^alumni:")
_ANY = re.compile(r".*")


async def warm_up(sa: SlackApp) -> None:
    """Before serving: the shared HTTP session, and the auth.test that Bolt's single-workspace
    authorization would make on the first request (so no Web API call comes before an ack)."""
    sa.share_session()
    if sa.installs is not None:
        return
    for middleware in sa.app._async_middleware_list:
        if not isinstance(middleware, AsyncSingleTeamAuthorization):
            continue
        if middleware.auth_test_result is None:
            try:
                middleware.auth_test_result = await sa.app.client.auth_test()
            except (SlackApiError, aiohttp.ClientError, OSError) as exc:
                log.warning("auth.test at start failed (the first request retries): %s", exc)


def freeze_heap() -> None:
    """Once started: move everything loaded so far out of the garbage collector's sight.

    The cogs, SQLAlchemy and the catalogues make a large heap that each full collection would
    walk again, in the middle of some request (measured: a third more CPU per ack under a
    burst). Long-lived start-up objects never become garbage; gc.freeze() keeps them out.
    """
    gc.collect()
    gc.freeze()


async def serve_http(
    sa: SlackApp, host: str, port: int, life: Lifecycle | None = None
) -> tuple[web.AppRunner, int]:
    """Serve the app with aiohttp; returns the runner and the bound port (0 picks one)."""
    await warm_up(sa)
    # aiohttp closes a connection without a complete request after keepalive_timeout: with
    # HttpLimits.header_seconds a client trickling its headers (slowloris) is cut off. Slack
    # waits 3 s for an ack: a request still open after that at shutdown is lost anyway.
    runner = web.AppRunner(
        sa.web_app(life),
        handle_signals=False,
        keepalive_timeout=sa.limits.header_seconds,
        shutdown_timeout=3.0,
    )
    await runner.setup()
    # A class running one command at once opens hundreds of connections together: a short
    # listen queue drops the surplus and the client retries after a second (TCP SYN timeout).
    site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
    await site.start()
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    # The dashboard's links name the port bound (PORT=0 picks one) unless a public URL is set.
    sa.bot.service(DashboardService).serve_at(sa.settings.web.base_url(host, bound))
    return runner, bound


async def _group_or_tell(
    sa: SlackApp, team: str, url: ResponseUrl, fresh: Callable[[], Awaitable[bool]]
) -> Group | None:
    """The group of a first (not replayed) request, or None: a replay, or the member told
    that the database is unreachable."""
    try:
        group = await sa.group(team)
        return group if await fresh() else None
    except StorageUnavailable:
        log.warning("storage unavailable for %s", team, exc_info=True)
        await url.post(text=storage_down(sa.language(team)).text, response_type="ephemeral")
        return None


def _signature(request: Any) -> str | None:
    """The request's X-Slack-Signature (None over Socket Mode, which has no signature)."""
    headers = getattr(request, "headers", None) or {}
    values = headers.get("x-slack-signature") or [None]
    return values[0] if isinstance(values, list) else str(values)


async def _preflight(settings: Settings) -> str | None:
    """One line saying what keeps the app from starting, or None: checked before serving."""
    slack = settings.slack
    if slack.signing_secret is None:
        return "SLACK_SIGNING_SECRET is not set: every request from Slack is checked with it"
    if slack.oauth:
        return None  # OAuth: each workspace's token comes from its installation
    token = slack.bot_token.get_secret_value() if slack.bot_token else ""
    try:
        await make_client(settings, token).auth_test()
    except SlackApiError as exc:
        return f"Slack rejected SLACK_BOT_TOKEN ({exc.response.get('error')}); copy the bot token"
    except (aiohttp.ClientError, OSError) as exc:
        where = slack.api_url or "slack.com"
        return f"cannot reach Slack at {where}: {exc.__class__.__name__}: {exc}"
    return None


@dataclass
class _Intake:
    """Where events come in: the HTTP server, the Socket Mode websocket, or both."""

    runner: web.AppRunner | None = None
    port: int = 0
    socket: Any = None
    # Socket Mode without PORT: the dashboard (and /healthz) on the bot's own server.
    dashboard: WebServer | None = None

    async def stop_taking_events(self) -> None:
        """Close the socket and stop listening; requests already received still finish.

        Slack redelivers what it could not deliver (events get retries, X-Slack-Retry-Num),
        so the next process handles it.
        """
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None
        if self.runner is not None:
            for site in list(self.runner.sites):
                await site.stop()

    async def close(self) -> None:
        """Close everything (what is still open after stop_taking_events, too)."""
        await self.stop_taking_events()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.dashboard is not None:
            await self.dashboard.close()
            self.dashboard = None


async def _open_intake(
    sa: SlackApp, settings: Settings, host: str | None, life: Lifecycle | None
) -> _Intake:
    """HTTP on PORT (always in HTTP mode and with OAuth; in Socket Mode only when PORT is set,
    for /healthz), and the Socket Mode connection when SLACK_APP_TOKEN is set."""
    intake = _Intake()
    slack, web_settings = settings.slack, settings.web
    try:
        if sa.installs is not None:
            await sa.installs.create_tables()
        if slack.app_token is not None and life is not None:
            # Checked from the start: health says "connecting" until the socket is up.
            life.add_check("socket", _socket_check(intake))
        if not slack.socket_mode or slack.oauth or web_settings.port is not None:
            intake.runner, intake.port = await serve_http(
                sa, host or web_settings.host, web_settings.slack_port, life
            )
        elif life is not None:
            intake.dashboard = await serve_web(sa.bot, life, web_settings)
        if slack.app_token is not None:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(sa.app, app_token=slack.app_token.get_secret_value())
            await handler.connect_async()  # type: ignore[no-untyped-call]
            intake.socket = handler
            log.info("Slack Socket Mode connected")
        if intake.runner is not None:
            log.info("Slack: POST %s and GET /healthz on port %d", EVENTS_PATH, intake.port)
        if sa.installs is not None:
            log.info("Slack OAuth: workspaces install the app at /slack/install")
    except BaseException:
        await intake.close()
        raise
    return intake


def _socket_check(intake: _Intake) -> Callable[[], Awaitable[str | None]]:
    async def check() -> str | None:
        if intake.socket is None:
            return "connecting"
        connected = await intake.socket.client.is_connected()
        return None if connected else "disconnected (reconnecting)"

    return check


@contextlib.asynccontextmanager
async def serving(
    settings: Settings,
    uow: UnitOfWorkFactory,
    *,
    host: str | None = None,
    config: CoreConfig | None = None,
    clock: Clock | None = None,
    life: Lifecycle | None = None,
) -> AsyncIterator[tuple[SlackApp, int]]:
    """The app serving HTTP on PORT (0 picks one), or Socket Mode with SLACK_APP_TOKEN.

    Yields the app and the bound HTTP port (0: none); on exit every socket and the store's
    engine is closed.
    """
    sa = build_app(settings, uow, config=config, clock=clock)
    try:
        if life is not None:
            life.attach(sa.bot)
        intake = await _open_intake(sa, settings, host, life)
        try:
            yield sa, intake.port
        finally:
            await intake.close()
    finally:
        await sa.aclose()


async def run_slack(
    settings: Settings, uow: UnitOfWorkFactory, life: Lifecycle | None = None
) -> int:
    """Run the Slack app (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN) and the scheduler
    until the process is told to stop (SIGTERM), then stop in order."""
    problem = await _preflight(settings)
    if problem:
        print(f"alumnibot: {problem}", file=sys.stderr)
        return 1
    life = life or Lifecycle()
    sa = build_app(settings, uow, config=settings.core())
    life.attach(sa.bot)
    scheduler, loop = start_scheduler(life, sa.bot)
    try:
        intake = await _open_intake(sa, settings, None, life)
        freeze_heap()
        try:
            await life.wait()
            await stop_in_order(life, sa.bot, intake=intake.stop_taking_events, scheduler=scheduler)
        finally:
            await intake.close()
    finally:
        loop.cancel()
        await sa.aclose()
    return 0
