"""The fake Slack server: Web API over HTTP, Socket Mode over websocket, response_url store."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from .state import Channel, Ids, SlackError, User
from .web_api import WebApiMixin

log = logging.getLogger("tests.fakes.slack")


@dataclass
class RateLimit:
    """At most `burst` calls per `window` seconds; `retry_after` overrides the computed header."""

    burst: int
    window: float
    retry_after: int | None = None


class FakeSlack(WebApiMixin):
    """An in-process fake of Slack's Web API and Socket Mode on 127.0.0.1."""

    def __init__(
        self,
        team_id: str = "T0FAKE0001",
        team_name: str = "Alumni",
        domain: str = "alumni",
        plan: str = "pro",
    ) -> None:
        """Create the workspace state (bot user, tokens, #general); call `start()` to serve."""
        self.ids = Ids()
        self.team = {"id": team_id, "name": team_name, "domain": domain}
        self.plan = plan
        self.app_id = "A0FAKEAPP1"
        self.bot_id = "B0FAKEBOT1"
        self.bot_token = f"xoxb-{team_id}-fake-{uuid.uuid4().hex[:12]}"
        self.app_token = f"xapp-1-{self.app_id}-fake-{uuid.uuid4().hex[:12]}"
        self.tokens: dict[str, str] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.views_opened: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.usergroups: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.trigger_ids: dict[str, float] = {}
        self.used_trigger_ids: set[str] = set()
        self.trigger_ttl = 3.0
        self.chat_write_public = True
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_counts: dict[str, int] = defaultdict(int)
        self.ratelimited_counts: dict[str, int] = defaultdict(int)
        self.unknown_methods: list[str] = []
        self.response_urls: dict[str, list[dict[str, Any]]] = {}
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
        bot = User(
            id=self.ids.new("U"), name="alumnibot", team_id=team_id, is_bot=True, bot_id=self.bot_id
        )
        self.users[bot.id] = bot
        self.bot_user_id = bot.id
        self.tokens[self.bot_token] = bot.id
        general = Channel(id=self.ids.new("C"), name="general", creator=bot.id, is_general=True)
        general.members.append(bot.id)
        self.channels[general.id] = general
        self.general_id = general.id

    # ---- lifecycle -------------------------------------------------------

    async def start(self) -> FakeSlack:
        """Serve on 127.0.0.1 with an ephemeral port."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_get("/socket-mode/{conn}", self._handle_socket)
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

    # ---- state helpers ---------------------------------------------------

    def add_user(
        self,
        name: str,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        user_id: str | None = None,
    ) -> str:
        """Add a workspace member and return its id."""
        uid = user_id or self.ids.new("U")
        self.users[uid] = User(
            id=uid,
            name=name,
            team_id=self.team["id"],
            email=email,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
        )
        if uid not in self.channels[self.general_id].members:
            self.channels[self.general_id].members.append(uid)
        return uid

    def add_channel(
        self,
        name: str,
        is_private: bool = False,
        members: list[str] | None = None,
        bot_member: bool = True,
        channel_id: str | None = None,
        topic: str = "",
        purpose: str = "",
        is_archived: bool = False,
    ) -> str:
        """Add a channel directly (no name validation) and return its id."""
        cid = channel_id or self.ids.new("C")
        mem = list(dict.fromkeys(([self.bot_user_id] if bot_member else []) + (members or [])))
        creator = mem[0] if mem else self.bot_user_id
        self.channels[cid] = Channel(
            id=cid,
            name=name,
            creator=creator,
            is_private=is_private,
            members=mem,
            topic=topic,
            purpose=purpose,
            is_archived=is_archived,
        )
        return cid

    def add_token(self, token: str, user_id: str) -> None:
        """Accept another token (e.g. a user token) that acts as `user_id`."""
        self.tokens[token] = user_id

    def channel_by_name(self, name: str) -> Channel:
        """Return the channel with this name (KeyError if absent)."""
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        raise KeyError(name)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """All stored messages of a channel, oldest first (replies included)."""
        return self.channels[channel_id].messages

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
        """Fail the next `times` calls to `method` (`ratelimited` -> HTTP 429 + Retry-After)."""
        if error == "ratelimited":
            status = 429
        for _ in range(times):
            self._injected[method].append((error, status, retry_after if status == 429 else None))

    async def wait_for(
        self, predicate: Callable[[], object], within: float = 3.0, interval: float = 0.01
    ) -> None:
        """Poll until `predicate()` is truthy (for listeners that run after the ack)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if loop.time() > deadline:
                raise TimeoutError("condition not met within timeout")
            await asyncio.sleep(interval)

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

    def _auth(self, request: web.Request, params: dict[str, Any], method: str) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        token = token or params.pop("token", None)
        params.pop("token", None)
        if not token:
            raise SlackError("not_authed")
        is_app_token = token == self.app_token
        if not is_app_token and token not in self.tokens:
            raise SlackError("invalid_auth")
        if (method == "apps.connections.open") != is_app_token:
            raise SlackError("not_allowed_token_type")

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
        logged = {k: v for k, v in params.items() if k != "token"}
        self.calls.append((method, logged))
        self.call_counts[method] += 1
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            self.unknown_methods.append(method)
            log.warning("FakeSlack: unknown Web API method %s (params %s)", method, logged)
            return self._error(SlackError("unknown_method"))
        try:
            self._auth(request, params, method)
            if self._injected[method]:
                error, status, retry = self._injected[method].pop(0)
                if status == 429:
                    self.ratelimited_counts[method] += 1
                    raise SlackError(error, status=429, retry_after=retry)
                raise SlackError(error, status=status)
            retry_after = self._check_rate(method)
            if retry_after is not None:
                self.ratelimited_counts[method] += 1
                raise SlackError("ratelimited", status=429, retry_after=retry_after)
            result = await handler(params)
        except SlackError as err:
            return self._error(err)
        return web.json_response({"ok": True, **result})

    async def _handle_upload(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["file_id"])
        if f is None:
            return web.Response(status=404, text="file_not_found")
        f["content"] = await request.read()
        return web.Response(text=f"OK - {len(f['content'])}", content_type="text/plain")

    def new_response_url(self) -> str:
        """Issue a response_url on the fake; posts to it land in `response_urls[id]`."""
        rid = uuid.uuid4().hex
        self.response_urls[rid] = []
        return f"{self._base_url()}/response/{rid}"

    def responses(self, response_url: str) -> list[dict[str, Any]]:
        """Bodies the app posted to this response_url, in order."""
        return self.response_urls.get(response_url.rsplit("/", 1)[-1], [])

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        if rid not in self.response_urls:
            return web.Response(status=404, text="no_active_hooks")
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"raw": raw}
        self.response_urls[rid].append(body)
        return web.Response(text="ok", content_type="text/plain")

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
