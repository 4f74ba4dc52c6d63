"""The fake Slack server: Web API over HTTP, Socket Mode over websocket, response_url store."""

from __future__ import annotations

import asyncio
import base64
import copy
import functools
import json
import logging
import math
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from . import blockkit
from . import scopes as needs
from .state import Ids, SlackError, as_list, as_str
from .team import FakeTeam

log = logging.getLogger("tests.fakes.slack")


@functools.cache
def _default_manifest() -> str:
    from adapters.slack.manifest import manifest

    return json.dumps(manifest())


def _app_manifest() -> dict[str, Any]:
    """alumnibot's own manifest, as `alumnibot slack manifest` prints it."""
    return dict(json.loads(_default_manifest()))


@dataclass
class RateLimit:
    """At most `burst` calls per `window` seconds; `retry_after` overrides the computed header."""

    burst: int
    window: float
    retry_after: int | None = None


@dataclass
class ResponseUrl:
    """A response_url Slack issued with an interaction, and what the app did with it.

    docs.slack.dev/interactivity/handling-user-interaction ("Message responses"): a
    response_url takes at most 5 posts within 30 minutes of the interaction.
    """

    team: FakeTeam
    kind: str  # "command" (slash command) or "message" (a button on a message)
    user: str
    channel: str | None
    issued: float
    message_ts: str | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    posted_at: list[float] = field(default_factory=list)  # time.monotonic() of each post


# docs.slack.dev/interactivity/handling-user-interaction: 5 uses within 30 minutes.
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60


@dataclass(frozen=True)
class ApiCall:
    """One Web API call: the method, its params, the token used and the team it acted on."""

    method: str
    params: dict[str, Any]
    token: str | None
    team_id: str | None
    # When the call arrived (time.monotonic()), to check what came before an ack.
    at: float = field(default_factory=time.monotonic)


@dataclass
class OAuthCode:
    """A code issued by the authorize page, exchanged once by oauth.v2.access."""

    team: FakeTeam
    user_id: str
    scopes: list[str]
    redirect_uri: str | None
    issued: float
    used: bool = False


class FakeSlack(FakeTeam):
    """An in-process fake of Slack's Web API, OAuth and Socket Mode on 127.0.0.1.

    The FakeSlack is itself the first workspace; `add_team()` adds more. A token belongs to
    one team and every call made with it acts on that team only.
    """

    def __init__(
        self,
        team_id: str = "T0FAKE0001",
        team_name: str = "Alumni",
        domain: str = "alumni",
        plan: str = "pro",
        manifest: dict[str, Any] | None = None,
    ) -> None:
        """Create the first workspace (bot user, tokens, #general); call `start()` to serve.

        `manifest` is the app's manifest as Slack holds it (default: alumnibot's own): every
        bot token holds exactly its bot scopes, and its slash command's `should_escape`
        decides how typed mentions reach the app.
        """
        self.token_teams: dict[str, FakeTeam] = {}
        self.manifest = copy.deepcopy(manifest) if manifest is not None else _app_manifest()
        app_id = "A0FAKEAPP1"
        super().__init__(self, Ids(), team_id, team_name, domain, plan, app_id)
        self.teams: dict[str, FakeTeam] = {team_id: self}
        self.app_token = f"xapp-1-{self.app_id}-fake-{uuid.uuid4().hex[:12]}"
        # An app-level token holds connections:write (api.slack.com/apis/socket-mode).
        self.token_scopes[self.app_token] = frozenset({"connections:write"})
        # The app's OAuth credentials (Basic Information > App Credentials) and redirect URLs.
        self.client_id = "1111111111.2222222222"
        self.client_secret = uuid.uuid4().hex
        self.redirect_urls: list[str] = []
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.code_ttl = 600.0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.api_calls: list[ApiCall] = []
        self.call_counts: dict[str, int] = defaultdict(int)
        self.ratelimited_counts: dict[str, int] = defaultdict(int)
        self.unknown_methods: list[str] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_url_ttl = float(RESPONSE_URL_SECONDS)
        # Seconds every Web API call waits before it is answered (Slack's own latency).
        self.latency = 0.0
        # docs.slack.dev/interactivity/handling-user-interaction ("Acknowledgment response"):
        # the app must answer within 3 seconds; later answers count as failed.
        self.ack_deadline = 3.0
        self.late_acks: list[tuple[str, float]] = []
        # Acks Slack could not use (a view that breaks Block Kit limits, errors on no block).
        self.ack_refusals: list[str] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.socket_messages: list[dict[str, Any]] = []
        self.socket_connections = 0
        self._rate_limits: dict[str, RateLimit] = {}
        self._rate_hits: dict[str, deque[float]] = defaultdict(deque)
        self._injected: dict[str, list[tuple[str, int, int | None]]] = defaultdict(list)
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def add_team(
        self, team_id: str, team_name: str, domain: str | None = None, plan: str = "pro"
    ) -> FakeTeam:
        """Another workspace with its own members, channels, bot user and bot token."""
        if team_id in self.teams:
            raise ValueError(f"team {team_id} exists")
        team = FakeTeam(
            self, self.ids, team_id, team_name, domain or team_name.lower(), plan, self.app_id
        )
        self.teams[team_id] = team
        return team

    # ---- lifecycle -------------------------------------------------------

    async def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 with an ephemeral port."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_get("/socket-mode/{conn}", self._handle_socket)
        app.router.add_get("/oauth/v2/authorize", self._handle_authorize)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        """Close websockets and stop the server."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket-mode/{uuid.uuid4().hex}"

    @property
    def api_url(self) -> str:
        """Base URL for `AsyncWebClient(base_url=...)`, ending in `/api/`."""
        return f"{self._base_url()}/api/"

    # ---- server-wide helpers ------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Params of every call to `method`, in order."""
        return [p for m, p in self.calls if m == method]

    def set_rate_limit(
        self,
        method: str,
        per_minute: int | None = None,
        *,
        burst: int | None = None,
        window: float = 60.0,
        retry_after: int | None = None,
    ) -> None:
        """Limit a method to `per_minute` calls/min, or `burst` calls per `window` seconds."""
        if per_minute is not None:
            self._rate_limits[method] = RateLimit(per_minute, 60.0, retry_after)
        elif burst is not None:
            self._rate_limits[method] = RateLimit(burst, window, retry_after)
        else:
            self._rate_limits.pop(method, None)
        self._rate_hits[method].clear()

    def inject_error(
        self, method: str, error: str, times: int = 1, status: int = 200, retry_after: int = 1
    ) -> None:
        """Fail the next `times` calls to `method` (`ratelimited` -> HTTP 429 + Retry-After;
        `disconnect` -> the connection closes without an answer; `status=500` -> a 500)."""
        if error == "ratelimited":
            status = 429
        for _ in range(times):
            self._injected[method].append((error, status, retry_after if status == 429 else None))

    # ---- HTTP handlers ---------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    params[key] = value if isinstance(value, str) else getattr(value, "file", value)
        return params

    @staticmethod
    def _token(request: web.Request, params: dict[str, Any]) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        token = token or params.pop("token", None)
        params.pop("token", None)
        return token or None

    def _auth(self, token: str | None, method: str) -> FakeTeam:
        """The team the token belongs to (the first team for the app-level token)."""
        if not token:
            raise SlackError("not_authed")
        is_app_token = token == self.app_token
        team = self if is_app_token else self.token_teams.get(token)
        if team is None:
            raise SlackError("invalid_auth")
        if (method == "apps.connections.open") != is_app_token:
            raise SlackError("not_allowed_token_type")
        return team

    def _check_rate(self, method: str) -> int | None:
        limit = self._rate_limits.get(method)
        if limit is None:
            return None
        now = time.monotonic()
        hits = self._rate_hits[method]
        while hits and now - hits[0] >= limit.window:
            hits.popleft()
        if len(hits) >= limit.burst:
            if limit.retry_after is not None:
                return limit.retry_after
            return max(1, math.ceil(limit.window - (now - hits[0])))
        hits.append(now)
        return None

    @staticmethod
    def _error(err: SlackError) -> web.Response:
        headers = {}
        if err.status == 429:
            headers["Retry-After"] = str(err.extra.pop("retry_after", 1))
        return web.json_response(
            {"ok": False, "error": err.error, **err.extra}, status=err.status, headers=headers
        )

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        secret = ("token", "client_secret")
        logged = {k: v for k, v in params.items() if k not in secret}
        self.calls.append((method, logged))
        self.call_counts[method] += 1
        token = self._token(request, params)
        if method == "oauth.v2.access":
            # Authenticated by the app's client id and secret, not by a token.
            self.api_calls.append(ApiCall(method, logged, None, None))
            try:
                return web.json_response(self._oauth_v2_access(request, params))
            except SlackError as err:
                return self._error(err)
        if not hasattr(FakeTeam, "api_" + method.replace(".", "_")):
            self.api_calls.append(ApiCall(method, logged, token, None))
            self.unknown_methods.append(method)
            log.warning("FakeSlack: unknown Web API method %s (params %s)", method, logged)
            return self._error(SlackError("unknown_method"))
        try:
            team = self._auth(token, method)
        except SlackError as err:
            self.api_calls.append(ApiCall(method, logged, token, None))
            return self._error(err)
        self.api_calls.append(ApiCall(method, logged, token, team.team["id"]))
        handler = getattr(team, "api_" + method.replace(".", "_"))
        named = as_str(params.get("team_id"))
        if named in self.teams and named != team.team["id"]:
            # A workspace's token naming another workspace we host: the app mixed up tokens.
            return self._error(SlackError("team_access_not_granted"))
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            granted = team.token_scopes.get(token or "", frozenset())
            self._check_scopes(team, method, params, granted)
            token_scopes = needs.CALLER_SCOPES.set(granted)
            if self._injected[method]:
                error, status, retry = self._injected[method].pop(0)
                if error == "disconnect":
                    # The connection drops without an answer (aiohttp: ServerDisconnectedError).
                    assert request.transport is not None
                    request.transport.close()
                    return web.Response(status=500)
                if status == 429:
                    self.ratelimited_counts[method] += 1
                    raise SlackError(error, status=429, retry_after=retry)
                raise SlackError(error, status=status)
            retry_after = self._check_rate(method)
            if retry_after is not None:
                self.ratelimited_counts[method] += 1
                raise SlackError("ratelimited", status=429, retry_after=retry_after)
            try:
                result = await handler(params)
            finally:
                needs.CALLER_SCOPES.reset(token_scopes)
        except SlackError as err:
            return self._error(err)
        return web.json_response({"ok": True, **result})

    @staticmethod
    def _check_scopes(
        team: FakeTeam, method: str, params: dict[str, Any], granted: frozenset[str]
    ) -> None:
        """Slack's missing_scope: the first scope the call needs that the token lacks."""
        if method == "conversations.list":
            required = needs.listed(as_list(params.get("types")) or ["public_channel"])
        else:
            required = needs.needed(method, params, team.channels.get)
        for scope in required:
            if scope not in granted:
                raise SlackError("missing_scope", needed=scope, provided=",".join(sorted(granted)))

    async def _handle_upload(self, request: web.Request) -> web.Response:
        fid = request.match_info["file_id"]
        f = next((t.files[fid] for t in self.teams.values() if fid in t.files), None)
        if f is None:
            return web.Response(status=404, text="file_not_found")
        f["content"] = await request.read()
        return web.Response(text=f"OK - {len(f['content'])}", content_type="text/plain")

    # ---- OAuth v2 ------------------------------------------------------------

    def authorize_url(self) -> str:
        """Slack's authorize page on the fake (what the app's /slack/install redirects to)."""
        return f"{self._base_url()}/oauth/v2/authorize"

    async def _handle_authorize(self, request: web.Request) -> web.Response:
        """The consent page, approved at once by the team's installer (the first admin).

        `team=T...` picks the workspace (Slack's own parameter); without it the first team.
        The answer is Slack's redirect to the app: `?code=...&state=...`, or `?error=...`.
        """
        q = request.query
        if q.get("client_id") != self.client_id:
            return web.Response(status=400, text="invalid_client_id")
        scopes = as_list(q.get("scope"))
        if not scopes:
            return web.Response(status=400, text="invalid_scope")
        redirect_uri = q.get("redirect_uri")
        target = redirect_uri or (self.redirect_urls[0] if self.redirect_urls else None)
        if target is None or (self.redirect_urls and target not in self.redirect_urls):
            return web.Response(status=400, text="bad_redirect_uri")
        team = self.teams.get(q.get("team") or self.team["id"])
        if team is None:
            return web.Response(status=400, text="team_not_found")
        installer = next((u.id for u in team.users.values() if u.is_admin and not u.is_bot), None)
        sep = "&" if "?" in target else "?"
        state = q.get("state", "")
        if installer is None:
            # Nobody in that workspace may approve apps: Slack redirects with an error.
            return self._redirect(
                f"{target}{sep}{urlencode({'error': 'access_denied', 'state': state})}"
            )
        code = f"{team.team['id']}.{uuid.uuid4().hex}"
        self.oauth_codes[code] = OAuthCode(team, installer, scopes, redirect_uri, time.monotonic())
        return self._redirect(f"{target}{sep}{urlencode({'code': code, 'state': state})}")

    @staticmethod
    def _redirect(location: str) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    def _client_credentials(self, request: web.Request, params: dict[str, Any]) -> tuple[str, str]:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                pair = base64.b64decode(header[6:].strip()).decode()
            except ValueError as exc:
                raise SlackError("invalid_client_id") from exc
            cid, _, secret = pair.partition(":")
            return cid, secret
        return as_str(params.get("client_id")) or "", as_str(params.get("client_secret")) or ""

    def _oauth_v2_access(self, request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: a code this fake issued, once, for that team's bot token."""
        cid, secret = self._client_credentials(request, params)
        if cid != self.client_id:
            raise SlackError("invalid_client_id")
        if secret != self.client_secret:
            raise SlackError("bad_client_secret")
        grant = self.oauth_codes.get(as_str(params.get("code")) or "")
        if grant is None or grant.used or time.monotonic() - grant.issued > self.code_ttl:
            raise SlackError("invalid_code")
        if (as_str(params.get("redirect_uri")) or None) != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        grant.used = True
        team = grant.team
        team.installed_scopes = grant.scopes
        team.installer = grant.user_id
        # The token holds what the admin approved (the scopes the install asked for).
        team.token_scopes[team.bot_token] = frozenset(grant.scopes)
        return {
            "ok": True,
            "access_token": team.bot_token,
            "token_type": "bot",
            "scope": ",".join(grant.scopes),
            "bot_user_id": team.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team.team["id"], "name": team.team["name"]},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant.user_id},
        }

    def issue_response_url(
        self,
        team: FakeTeam,
        kind: str = "command",
        user: str = "",
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A response_url of one team's interaction (see FakeTeam.new_response_url)."""
        rid = uuid.uuid4().hex
        self.response_urls[rid] = ResponseUrl(
            team, kind, user, channel, time.monotonic(), message_ts
        )
        return f"{self._base_url()}/response/{rid}"

    def response_url(self, response_url: str) -> ResponseUrl | None:
        """The record of a response_url (its posts and refusals)."""
        return self.response_urls.get(response_url.rsplit("/", 1)[-1])

    def responses(self, response_url: str) -> list[dict[str, Any]]:
        """Bodies the app posted to this response_url and Slack took, in order."""
        record = self.response_url(response_url)
        return record.posts if record else []

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        record = self.response_urls.get(request.match_info["rid"])
        if record is None:
            return web.Response(status=404, text="no_active_hooks")
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            return self._refuse_response(record, 400, "invalid_payload")
        if not isinstance(body, dict):
            return self._refuse_response(record, 400, "invalid_payload")
        # Slack does not say which body it answers after the 30 minutes or the 5th post; these
        # are the strings its webhooks use for a dead or spent URL (HTTP 404, text body).
        if time.monotonic() - record.issued > self.response_url_ttl:
            return self._refuse_response(record, 404, "expired_url")
        if len(record.posts) >= RESPONSE_URL_USES:
            return self._refuse_response(record, 404, "used_url")
        text = body.get("text")
        blocks = body.get("blocks")
        if not text and not blocks and not body.get("delete_original"):
            return self._refuse_response(record, 400, "no_text")
        try:
            blockkit.check_message(text if isinstance(text, str) else None, blocks)
        except SlackError as err:
            return self._refuse_response(record, 400, err.error)
        record.posts.append(body)
        record.posted_at.append(time.monotonic())
        record.team.show_response(record, body)
        return web.Response(text="ok", content_type="text/plain")

    @staticmethod
    def _refuse_response(record: ResponseUrl, status: int, error: str) -> web.Response:
        record.refused.append(error)
        return web.Response(status=status, text=error, content_type="text/plain")

    # ---- Socket Mode -----------------------------------------------------

    @property
    def socket_connected(self) -> bool:
        """True while at least one Socket Mode client is connected."""
        return any(not ws.closed for ws in self._sockets)

    async def wait_for_socket(self, within: float = 3.0) -> None:
        """Wait until a Socket Mode client has connected and received `hello`."""
        await self.wait_for(lambda: self.socket_connected, within)

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                self.socket_messages.append(data)
                eid = data.get("envelope_id")
                if eid:
                    self.acks[eid] = data
                    waiter = self._ack_waiters.pop(eid, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(data)
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        accepts_response_payload: bool = False,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        within: float = 5.0,
    ) -> dict[str, Any]:
        """Send a Socket Mode envelope and return the app's ack `{"envelope_id", "payload"?}`."""
        ws = next((w for w in reversed(self._sockets) if not w.closed), None)
        if ws is None:
            raise RuntimeError("no Socket Mode client connected")
        eid = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": eid,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt is not None:
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason or "")
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._ack_waiters[eid] = fut
        await ws.send_json(envelope)
        try:
            return await asyncio.wait_for(fut, within)
        finally:
            self._ack_waiters.pop(eid, None)

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask connected clients to reconnect (Slack's `disconnect` message)."""
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
                )
