"""The gateway websocket half of the fake: HELLO, IDENTIFY/READY, RESUME and replay."""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from .payloads import JSON
from .state import FakeState, log

# Gateway intents needed for an event to be delivered (None: always delivered).
_INTENT_BITS: dict[str, int] = {
    "GUILD_MEMBER_ADD": 1 << 1,
    "GUILD_MEMBER_UPDATE": 1 << 1,
    "GUILD_MEMBER_REMOVE": 1 << 1,
    "INVITE_CREATE": 1 << 6,
    "INVITE_DELETE": 1 << 6,
}
_GUILDS_EVENTS = (
    "CHANNEL_",
    "THREAD_",
    "GUILD_ROLE_",
    "GUILD_CREATE",
    "GUILD_UPDATE",
    "GUILD_DELETE",
)
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = {1 << 1: "members", 1 << 8: "presences", MESSAGE_CONTENT: "message_content"}


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection from a client."""

    ws: web.WebSocketResponse
    path: str
    query: dict[str, str]
    live: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, payload: JSON) -> None:
        """Send one JSON text frame (never compressed)."""
        async with self.lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(payload))


class GatewayMixin(FakeState):
    """Gateway session handling; one session (shard 0) at a time."""

    heartbeat_interval_ms: int = 41_250
    allowed_privileged_intents: frozenset[str] = frozenset(
        {"members", "presences", "message_content"}
    )

    def _init_gateway(self) -> None:
        self.session_id: str | None = None
        self.intents = 0
        self.gateway_connects: list[str] = []
        self.gateway_received: list[JSON] = []
        self._seq = 0
        self._event_log: list[tuple[int, str, JSON]] = []
        self._conn: GatewayConnection | None = None
        self._connections: set[GatewayConnection] = set()
        self._hold = asyncio.Event()
        self._hold.set()

    # -- public ----------------------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        """ws:// URL of the gateway (set as DEFAULT_GATEWAY)."""
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def resume_gateway_url(self) -> str:
        """ws:// URL sent in READY.resume_gateway_url (a distinct path, to prove it is used)."""
        return f"ws://127.0.0.1:{self.port}/resume"

    @property
    def connected(self) -> bool:
        """Whether a client has an identified or resumed live session."""
        return self._conn is not None and self._conn.live and not self._conn.ws.closed

    async def dispatch(self, event: str, data: JSON) -> None:
        """Dispatch an event (op 0); it is logged for RESUME replay while a session exists."""
        if self.session_id is None or not self._wants(event, data):
            return
        self._seq += 1
        data = copy.deepcopy(data)
        self._event_log.append((self._seq, event, data))
        if self.connected and self._conn is not None:
            await self._conn.send({"op": 0, "s": self._seq, "t": event, "d": data})
        self._notify()

    async def drop_connection(self, code: int = 4000, *, hold: bool = False) -> None:
        """Close the live websocket (client will RESUME); hold=True delays reconnects."""
        if hold:
            self._hold.clear()
        conn = self._conn
        self._conn = None
        if conn is not None:
            conn.live = False
            await conn.ws.close(code=code, message=b"fake: connection dropped")
        self._notify()

    def release_connection(self) -> None:
        """Let held reconnects proceed (see drop_connection(hold=True))."""
        self._hold.set()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT, asking the client to reconnect and resume."""
        if self._conn is not None:
            await self._conn.send({"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION."""
        if not resumable:
            self.session_id = None
        if self._conn is not None:
            await self._conn.send({"op": 9, "d": resumable, "s": None, "t": None})

    # -- internals -------------------------------------------------------------------------
    def _wants(self, event: str, data: JSON) -> bool:
        if event in _INTENT_BITS:
            return bool(self.intents & _INTENT_BITS[event])
        if event.startswith(_GUILDS_EVENTS):
            return bool(self.intents & 1)
        if event.startswith("MESSAGE_"):
            bit = (1 << 9) if data.get("guild_id") else (1 << 12)
            return bool(self.intents & bit)
        return True

    async def _close_all_gateways(self) -> None:
        self._hold.set()
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"fake: shutting down")
        self._conn = None

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for ws://127.0.0.1:PORT/ and /resume."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"code": 0, "message": "404: Not Found"}, status=404)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, request.path, dict(request.query))
        self._connections.add(conn)
        self.gateway_connects.append(request.path)
        try:
            await self._hold.wait()
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["fake"]}
            await conn.send({"op": 10, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                elif msg.type is WSMsgType.BINARY:
                    log.warning("fake gateway: ignoring binary frame")
        finally:
            self._connections.discard(conn)
            if self._conn is conn:
                self._conn = None
            self._notify()
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: JSON) -> None:
        self.gateway_received.append(frame)
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif op == 8:
            await self._request_members(data)
        elif op in (3, 4):
            pass
        else:
            log.warning("fake gateway: unhandled op %s", op)
        self._notify()

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        for bit, name in PRIVILEGED.items():
            if intents & bit and name not in self.allowed_privileged_intents:
                await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
                return
        if self._conn is not None and self._conn is not conn:
            await self._conn.ws.close(code=4000)
        self.identify_count += 1
        self.intents = intents
        self.session_id = secrets.token_hex(16)
        self._seq = 0
        self._event_log.clear()
        self._conn = conn
        conn.live = True
        ready = {
            "v": 10,
            "user": copy.deepcopy(self.bot_user),
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": self.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "shard": [0, 1],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake"],
        }
        await self.dispatch("READY", ready)
        for guild in self.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.gateway_payload())

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        seq = data.get("seq") or 0
        if (
            data.get("token") != self.token
            or self.session_id is None
            or data.get("session_id") != self.session_id
            or seq > self._seq
        ):
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        self.resume_count += 1
        self._conn = conn
        conn.live = True
        for s, event, payload in list(self._event_log):
            if s > seq:
                self.replayed_events += 1
                await conn.send({"op": 0, "s": s, "t": event, "d": payload})
        await self.dispatch("RESUMED", {"_trace": ["fake"]})

    async def _request_members(self, data: JSON) -> None:
        guild = self.guilds.get(int(data["guild_id"]))
        if guild is None:
            return
        members = list(guild.members.values())
        if data.get("user_ids"):
            wanted = {str(u) for u in data["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif data.get("query"):
            members = [m for m in members if m["user"]["username"].startswith(data["query"])]
        if data.get("limit"):
            members = members[: int(data["limit"])]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
