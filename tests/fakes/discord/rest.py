"""The REST half of the fake: routing, auth, rate limits, and the endpoints discord.py uses."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import limits
from . import payloads as p
from .payloads import JSON
from .ratelimit import Bucket, ratelimit_headers
from .state import (
    FakeError,
    FakeGuild,
    FakeInteraction,
    FakeState,
    RecordedRequest,
    invalid_form,
    log,
    missing_permissions,
)

API_PREFIX = "/api/v10"
_MAJOR = ("channel_id", "guild_id", "webhook_id", "interaction_id")
_NO_AUTH = ("/interactions/", "/webhooks/")


@dataclass
class RestRequest:
    """A parsed REST request handed to endpoint handlers."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[JSON] = field(default_factory=list)
    reason: str | None = None

    def int(self, name: str) -> int:
        """A path parameter as int."""
        return int(self.params[name])

    @property
    def json(self) -> JSON:
        """The JSON body (or payload_json of a multipart body) as a dict."""
        return self.body if isinstance(self.body, dict) else {}


class RateLimitedError(Exception):
    """Raised by a handler for a limit of its own (not a bucket): a 429 with `retry_after`."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f}s")
        self.retry_after = retry_after


Handler = Callable[[Any, RestRequest], Awaitable[tuple[int, Any]]]
_ROUTES: list[tuple[str, str, re.Pattern[str], Handler]] = []


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    """Register an endpoint handler for METHOD /template/{param}."""

    def deco(func: Handler) -> Handler:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        _ROUTES.append((method, template, re.compile(f"^{regex}$"), func))
        return func

    return deco


def _validate_name(body: JSON, *, required: bool = True, max_len: int = 100) -> None:
    name = body.get("name")
    if name is None and required:
        raise invalid_form(p.field_error("name", "BASE_TYPE_REQUIRED", "This field is required"))
    if name is not None and not 1 <= len(str(name)) <= max_len:
        raise invalid_form(
            p.field_error(
                "name", "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {max_len} in length."
            )
        )


def _channel_name(name: str, type_: int) -> str:
    if type_ in (0, 5, 15):
        return re.sub(r"\s+", "-", name.strip().lower())
    return name


class RestMixin(FakeState):
    """REST endpoints under /api/v10."""

    # -- plumbing --------------------------------------------------------------------------
    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        """Catch-all aiohttp handler: auth, routing, rate limits, error mapping."""
        path = request.path[len(API_PREFIX) :] or "/"
        method = request.method
        matched = None
        for m, template, regex, func in _ROUTES:
            found = regex.match(path) if m == method else None
            if found:
                matched = (template, found.groupdict(), func)
                break
        if matched is None:
            log.warning("fake discord: no route for %s %s", method, path)
            self.unknown_routes.append(f"{method} {path}")
            return self._json(404, p.error_body(0, f"404: Not Found ({method} {path})"))
        template, params, func = matched
        route_key = f"{method} {template}"
        body, files = await self._read_body(request)
        record = RecordedRequest(
            method,
            path,
            route_key,
            dict(request.query),
            body,
            reason=request.headers.get("X-Audit-Log-Reason"),
        )
        self.requests.append(record)
        if not path.startswith(_NO_AUTH) and request.headers.get("Authorization") != (
            f"Bot {self.token}"
        ):
            record.status = 401
            return self._json(401, p.error_body(0, "401: Unauthorized"))
        limited = self._rate_limit(route_key, params)
        if isinstance(limited, web.Response):
            record.status = 429
            self._notify()
            return limited
        bucket, headers = limited
        if self.latency and not route_key.startswith("POST /interactions/"):
            await asyncio.sleep(self.latency)
        req = RestRequest(method, path, params, dict(request.query), body, files, record.reason)
        try:
            status, data = await func(self, req)
        except FakeError as exc:
            status, data = exc.status, exc.body
        except RateLimitedError as exc:
            record.status = 429
            self._notify()
            return self._too_many(exc.retry_after, is_global=False, headers={}, scope="shared")
        record.status = status
        self._notify()
        if not bucket.advertise:
            headers = {}
        if status == 204 or data is None:
            return web.Response(status=204, headers=headers)
        return self._json(status, data, headers)

    @staticmethod
    def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
        # discord.py compares Content-Type to exactly "application/json": no charset.
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={**(headers or {}), "Content-Type": "application/json"},
        )

    async def _read_body(self, request: web.Request) -> tuple[Any, list[JSON]]:
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            body: Any = json.loads(str(form["payload_json"])) if "payload_json" in form else {}
            files = []
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    files.append(
                        {
                            "field": name,
                            "filename": value.filename,
                            "content_type": value.content_type,
                            "size": len(content),
                            "data": content,
                        }
                    )
            return body, files
        text = await request.text()
        return (json.loads(text) if text else None), []

    def _rate_limit(
        self, route_key: str, params: dict[str, str]
    ) -> web.Response | tuple[Bucket, dict[str, str]]:
        is_interaction = route_key.startswith("POST /interactions/")
        retry_global = None if is_interaction else self.limiter.check_global()
        if retry_global is not None:
            self.rate_limited_count["global"] = self.rate_limited_count.get("global", 0) + 1
            return self._too_many(retry_global, is_global=True, headers={})
        bucket = self.limiter.bucket_for(route_key)
        major = "+".join(params[k] for k in _MAJOR if k in params)
        allowed, remaining, reset_after = bucket.hit(major, self._now())
        headers = ratelimit_headers(bucket, remaining, reset_after)
        if not allowed:
            self.rate_limited_count[bucket.route_key] = (
                self.rate_limited_count.get(bucket.route_key, 0) + 1
            )
            return self._too_many(reset_after, is_global=False, headers=headers)
        return bucket, headers

    def _too_many(
        self,
        retry_after: float,
        *,
        is_global: bool,
        headers: dict[str, str],
        scope: str = "user",
    ) -> Any:
        retry_after = max(round(retry_after, 3), 0.001)
        extra = {
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Scope": "global" if is_global else scope,
            "Via": "1.1 google",  # discord.py treats a 429 without Via as a Cloudflare ban
        }
        if is_global:
            extra["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = is_global
        body["code"] = 0
        return self._json(429, body, {**headers, **extra})

    # -- users / application -----------------------------------------------------------------
    @route("GET", "/users/@me")
    async def _get_me(self, req: RestRequest) -> tuple[int, Any]:
        return 200, copy.deepcopy(self.bot_user)

    @route("GET", "/users/{user_id}")
    async def _get_user(self, req: RestRequest) -> tuple[int, Any]:
        user = self.users.get(req.int("user_id"))
        if user is None:
            raise FakeError(404, 10013, "Unknown User")
        return 200, copy.deepcopy(user)

    @route("GET", "/oauth2/applications/@me")
    async def _get_app(self, req: RestRequest) -> tuple[int, Any]:
        return 200, self.application_payload()

    @route("GET", "/applications/@me")
    async def _get_app2(self, req: RestRequest) -> tuple[int, Any]:
        return 200, self.application_payload()

    def application_payload(self) -> JSON:
        """The bot's Application object (types/appinfo.py)."""
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "alumnibot test application",
            "rpc_origins": [],
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": copy.deepcopy(self.app_owner),
            "team": None,
            "summary": "",
            "verify_key": "0" * 64,
            "flags": 0,
            "bot": copy.deepcopy(self.bot_user),
            "approximate_guild_count": len(self.guilds),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "integration_types_config": {"0": {}},
        }

    @route("GET", "/gateway")
    async def _gateway(self, req: RestRequest) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url.rstrip("/")}

    @route("GET", "/gateway/bot")
    async def _gateway_bot(self, req: RestRequest) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": 1,
            "session_start_limit": limit,
        }

    # -- guilds ----------------------------------------------------------------------------
    @route("GET", "/guilds/{guild_id}")
    async def _get_guild(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        data = guild.payload()
        if req.query.get("with_counts") in ("true", "1", "True"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return 200, data

    @route("GET", "/guilds/{guild_id}/channels")
    async def _get_channels(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        return 200, [copy.deepcopy(c) for c in guild.channels.values()]

    @route("POST", "/guilds/{guild_id}/channels")
    async def _create_channel(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        self.require(guild, "manage_channels")
        body = req.json
        _validate_name(body)
        type_ = int(body.get("type", 0))
        if type_ not in (0, 2, 4, 5, 13, 15, 16):
            raise invalid_form(p.field_error("type", "BASE_TYPE_CHOICES", "Value not valid."))
        if type_ in (5, 13) and not guild.community:
            raise invalid_form(p.field_error("type", "BASE_TYPE_CHOICES", "Value not valid."))
        parent_id = int(body["parent_id"]) if body.get("parent_id") else None
        if parent_id is not None and guild.channels.get(parent_id, {}).get("type") != 4:
            raise invalid_form(
                p.field_error("parent_id", "CHANNEL_PARENT_INVALID", "Not a category")
            )
        channel = self.add_channel(
            guild.id,
            _channel_name(body["name"], type_),
            type=type_,
            parent_id=parent_id,
            topic=body.get("topic"),
            position=body.get("position"),
        )
        for key in ("nsfw", "rate_limit_per_user", "default_auto_archive_duration", "flags"):
            if key in body and body[key] is not None:
                channel[key] = body[key]
        channel["permission_overwrites"] = [
            self._overwrite(o) for o in body.get("permission_overwrites") or []
        ]
        if type_ in (15, 16):
            channel["available_tags"] = [self._tag(t) for t in body.get("available_tags") or []]
            if body.get("default_reaction_emoji"):
                channel["default_reaction_emoji"] = body["default_reaction_emoji"]
        await self.dispatch("CHANNEL_CREATE", channel)
        return 201, copy.deepcopy(channel)

    @staticmethod
    def _overwrite(data: JSON) -> JSON:
        return {
            "id": str(data["id"]),
            "type": int(data.get("type", 0)),
            "allow": str(data.get("allow", "0")),
            "deny": str(data.get("deny", "0")),
        }

    @staticmethod
    def _tag(data: JSON) -> JSON:
        return {
            "id": str(data.get("id") or p.snowflake()),
            "name": data["name"],
            "moderated": bool(data.get("moderated", False)),
            "emoji_id": data.get("emoji_id"),
            "emoji_name": data.get("emoji_name"),
        }

    # -- channels ----------------------------------------------------------------------------
    @route("GET", "/channels/{channel_id}")
    async def _get_channel(self, req: RestRequest) -> tuple[int, Any]:
        return 200, copy.deepcopy(self.channel(req.int("channel_id")))

    @route("PATCH", "/channels/{channel_id}")
    async def _edit_channel(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None:
            raise missing_permissions()
        body = req.json
        is_thread = channel["type"] in (10, 11, 12)
        if is_thread:
            if int(channel["owner_id"]) != self.bot_id:
                self.require(guild, "manage_threads", channel=channel)
        else:
            self.require(guild, "manage_channels", channel=channel)
        _validate_name(body, required=False)
        if "name" in body or "topic" in body:
            self._count_rename(int(channel["id"]))
        for key in ("name", "topic", "nsfw", "rate_limit_per_user", "position", "flags"):
            if key in body:
                channel[key] = body[key]
        if "name" in body and not is_thread:
            channel["name"] = _channel_name(body["name"], channel["type"])
        if "parent_id" in body:
            channel["parent_id"] = str(body["parent_id"]) if body["parent_id"] else None
        if "permission_overwrites" in body:
            channel["permission_overwrites"] = [
                self._overwrite(o) for o in body["permission_overwrites"]
            ]
        if "available_tags" in body:
            channel["available_tags"] = [self._tag(t) for t in body["available_tags"]]
        if "applied_tags" in body:
            channel["applied_tags"] = [str(t) for t in body["applied_tags"]]
        if is_thread:
            meta = channel["thread_metadata"]
            for key in ("archived", "locked", "auto_archive_duration", "invitable"):
                if key in body:
                    meta[key] = body[key]
        event = "THREAD_UPDATE" if is_thread else "CHANNEL_UPDATE"
        await self.dispatch(event, channel)
        return 200, copy.deepcopy(channel)

    def _count_rename(self, channel_id: int) -> None:
        """Discord's undisclosed limit on name and topic edits: 2 per 10 minutes per channel,
        answered with a 429 whose `retry_after` is the rest of the window (limits.py)."""
        now = self._now()
        window = [
            t
            for t in self.channel_renames.get(channel_id, [])
            if now - t < limits.CHANNEL_RENAME_WINDOW
        ]
        if len(window) >= limits.CHANNEL_RENAMES:
            retry = window[0] + limits.CHANNEL_RENAME_WINDOW - now
            self.rate_limited_count["channel rename"] = (
                self.rate_limited_count.get("channel rename", 0) + 1
            )
            raise RateLimitedError(retry)
        self.channel_renames[channel_id] = [*window, now]

    @route("DELETE", "/channels/{channel_id}")
    async def _delete_channel(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        channel_id = int(channel["id"])
        if guild is None:
            return 200, copy.deepcopy(channel)
        if channel["type"] in (10, 11, 12):
            self.require(guild, "manage_threads", channel=channel)
            del guild.threads[channel_id]
            data = {k: channel[k] for k in ("id", "guild_id", "parent_id", "type")}
            await self.dispatch("THREAD_DELETE", data)
        else:
            self.require(guild, "manage_channels", channel=channel)
            del guild.channels[channel_id]
            await self.dispatch("CHANNEL_DELETE", channel)
        self.messages.pop(channel_id, None)
        return 200, copy.deepcopy(channel)

    @route("PUT", "/channels/{channel_id}/permissions/{overwrite_id}")
    async def _put_overwrite(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None:
            raise missing_permissions()
        self.require(guild, "manage_roles", channel=channel)
        data = self._overwrite({**req.json, "id": req.params["overwrite_id"]})
        rest = [o for o in channel["permission_overwrites"] if o["id"] != data["id"]]
        channel["permission_overwrites"] = [*rest, data]
        await self.dispatch("CHANNEL_UPDATE", channel)
        return 204, None

    @route("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}")
    async def _delete_overwrite(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None:
            raise missing_permissions()
        self.require(guild, "manage_roles", channel=channel)
        channel["permission_overwrites"] = [
            o for o in channel["permission_overwrites"] if o["id"] != req.params["overwrite_id"]
        ]
        await self.dispatch("CHANNEL_UPDATE", channel)
        return 204, None

    # -- roles -------------------------------------------------------------------------------
    @route("GET", "/guilds/{guild_id}/roles")
    async def _get_roles(self, req: RestRequest) -> tuple[int, Any]:
        return 200, [copy.deepcopy(r) for r in self.guild(req.int("guild_id")).roles.values()]

    @route("GET", "/guilds/{guild_id}/roles/{role_id}")
    async def _get_role(self, req: RestRequest) -> tuple[int, Any]:
        return 200, copy.deepcopy(self.role(req.int("guild_id"), req.int("role_id")))

    @route("POST", "/guilds/{guild_id}/roles")
    async def _create_role(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        self.require(guild, "manage_roles")
        body = req.json
        _validate_name(body, required=False)
        permissions = int(body.get("permissions") or 0)
        if permissions & ~self.base_permissions(guild, self.bot_id):
            raise missing_permissions()
        colors = body.get("colors") or {}
        role = await self.create_role(
            guild.id,
            body.get("name") or "new role",
            permissions=permissions,
            color=int(body.get("color") or colors.get("primary_color") or 0),
            hoist=bool(body.get("hoist", False)),
            mentionable=bool(body.get("mentionable", False)),
        )
        return 200, copy.deepcopy(role)

    async def create_role(self, guild_id: int, name: str, **fields: Any) -> JSON:
        """Create a role at position 1 (shifting others up) and dispatch the events."""
        guild = self.guild(guild_id)
        shifted = []
        for existing in guild.roles.values():
            if existing["position"] >= 1:
                existing["position"] += 1
                shifted.append(existing)
        role = p.role_payload(p.snowflake(), name, position=1, **fields)
        guild.roles[int(role["id"])] = role
        await self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role})
        for other in shifted:
            await self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": other})
        return role

    @route("PATCH", "/guilds/{guild_id}/roles/{role_id}")
    async def _edit_role(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        role = self.role(guild.id, req.int("role_id"))
        self.require(guild, "manage_roles")
        self.require_above(guild, [int(role["id"])])
        body = req.json
        # resources/guild.mdx, Modify Guild Role: `name` "max 100 characters" (and, as for
        # Create Guild Role, not empty); Manage Roles, on a role below the bot's highest.
        _validate_name(body, required=False)
        for key in ("name", "hoist", "mentionable", "icon", "unicode_emoji"):
            if key in body:
                role[key] = body[key]
        if "permissions" in body and body["permissions"] is not None:
            role["permissions"] = str(int(body["permissions"]))
        if "color" in body and body["color"] is not None:
            role["color"] = int(body["color"])
            role["colors"]["primary_color"] = int(body["color"])
        await self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role})
        return 200, copy.deepcopy(role)

    @route("DELETE", "/guilds/{guild_id}/roles/{role_id}")
    async def _delete_role(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        role = self.role(guild.id, req.int("role_id"))
        self.require(guild, "manage_roles")
        self.require_above(guild, [int(role["id"])])
        del guild.roles[int(role["id"])]
        for member in guild.members.values():
            member["roles"] = [r for r in member["roles"] if r != role["id"]]
        await self.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": role["id"]})
        return 204, None

    # -- members -----------------------------------------------------------------------------
    @route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def _get_member(self, req: RestRequest) -> tuple[int, Any]:
        return 200, copy.deepcopy(self.member(req.int("guild_id"), req.int("user_id")))

    @route("GET", "/guilds/{guild_id}/members")
    async def _list_members(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        limit = int(req.query.get("limit", 1))
        if not 1 <= limit <= 1000:
            raise invalid_form(p.field_error("limit", "NUMBER_TYPE_MAX", "Must be 1-1000."))
        after = int(req.query.get("after", 0))
        ids = sorted(u for u in guild.members if u > after)[:limit]
        return 200, [copy.deepcopy(guild.members[u]) for u in ids]

    @route("PATCH", "/guilds/{guild_id}/members/{user_id}")
    async def _edit_member(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        member = self.member(guild.id, req.int("user_id"))
        body = req.json
        if "roles" in body and body["roles"] is not None:
            self.require(guild, "manage_roles")
            new = {int(r) for r in body["roles"]}
            unknown = [r for r in new if r not in guild.roles or r == guild.id]
            if unknown:
                raise invalid_form(
                    p.field_error("roles", "UNKNOWN_ROLE", f"Unknown role {unknown[0]}")
                )
            old = {int(r) for r in member["roles"]}
            self.require_above(guild, new ^ old)
            member["roles"] = [str(r) for r in sorted(new)]
        if "nick" in body:
            self.require(guild, "manage_nicknames")
            if int(member["user"]["id"]) == guild.owner_id:
                raise missing_permissions()
            member["nick"] = body["nick"] or None
        for key in ("mute", "deaf", "communication_disabled_until", "flags"):
            if key in body:
                member[key] = body[key]
        await self.dispatch("GUILD_MEMBER_UPDATE", {**member, "guild_id": str(guild.id)})
        return 200, copy.deepcopy(member)

    @route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _add_member_role(self, req: RestRequest) -> tuple[int, Any]:
        return await self._member_role(req, add=True)

    @route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _remove_member_role(self, req: RestRequest) -> tuple[int, Any]:
        return await self._member_role(req, add=False)

    async def _member_role(self, req: RestRequest, *, add: bool) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        member = self.member(guild.id, req.int("user_id"))
        role = self.role(guild.id, req.int("role_id"))
        self.require(guild, "manage_roles")
        self.require_above(guild, [int(role["id"])])
        roles = [r for r in member["roles"] if r != role["id"]]
        member["roles"] = [*roles, role["id"]] if add else roles
        await self.dispatch("GUILD_MEMBER_UPDATE", {**member, "guild_id": str(guild.id)})
        return 204, None

    @route("DELETE", "/guilds/{guild_id}/members/{user_id}")
    async def _kick(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        self.member(guild.id, req.int("user_id"))
        self.require(guild, "kick_members")
        await self.remove_member(guild.id, req.int("user_id"))
        return 204, None

    async def remove_member(self, guild_id: int, user_id: int) -> None:
        """Remove a member and dispatch GUILD_MEMBER_REMOVE."""
        guild = self.guild(guild_id)
        member = guild.members.pop(int(user_id))
        await self.dispatch(
            "GUILD_MEMBER_REMOVE", {"guild_id": str(guild.id), "user": member["user"]}
        )

    # -- messages ----------------------------------------------------------------------------
    @route("POST", "/channels/{channel_id}/messages")
    async def _send_message(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is not None:
            is_thread = channel["type"] in (10, 11, 12)
            needs = "send_messages_in_threads" if is_thread else "send_messages"
            if channel["type"] in (4, 15, 16):
                raise FakeError(400, 50008, "Cannot send messages in a non-text channel")
            self.require(guild, "view_channel", needs, channel=channel)
            if req.files:
                self.require(guild, "attach_files", channel=channel)
        self._validate_message(req.json, req.files, creating=True)
        if guild is None and int(channel["recipients"][0]["id"]) in self.closed_dms:
            # topics/opcodes-and-status-codes.mdx: 50007 "Cannot send messages to this user"
            # (the member turned off DMs from server members, or blocked the bot).
            raise FakeError(403, 50007, "Cannot send messages to this user")
        message = self._build_message(int(channel["id"]), req.json, req.files, self.bot_user)
        await self.post_message(guild, channel, message)
        return 200, copy.deepcopy(message)

    def _validate_message(self, body: JSON, files: list[JSON], *, creating: bool) -> None:
        limits.check_message(body, files, creating=creating)

    def _mentions(
        self, channel_id: int, message: JSON, body: JSON, default_parse: tuple[str, ...]
    ) -> None:
        """Fill `mentions`/`mention_roles`/`mention_everyone` and record who is notified.

        resources/message.mdx, Allowed Mentions Object: only mentions in `content` count
        (mentions in embeds never notify); a role notifies its members only if it is
        `mentionable` or the author has MENTION_EVERYONE; @everyone/@here need
        MENTION_EVERYONE; an ephemeral message notifies nobody.
        """
        users, roles, everyone = limits.parsed_mentions(
            str(body.get("content") or ""),
            body.get("allowed_mentions"),
            default_parse=default_parse,
        )
        guild, channel = self.find_channel(channel_id)
        author = int(message["author"]["id"])
        notified: set[int] = set()
        can_everyone = False
        if guild is not None:
            perms = self.channel_permissions(guild, author, channel)
            can_everyone = bool(perms & (1 << 17))  # MENTION_EVERYONE
            users = {u for u in users if u in guild.members}
            notified |= users
            pinged_roles = set()
            for role_id in roles:
                role = guild.roles.get(role_id)
                if role is not None and (role.get("mentionable") or can_everyone):
                    pinged_roles.add(role_id)
                    notified |= {
                        uid for uid, m in guild.members.items() if str(role_id) in m["roles"]
                    }
            if everyone and can_everyone:
                notified |= set(guild.members)
            message["mention_roles"] = [str(r) for r in sorted(roles & set(guild.roles))]
        else:
            recipient = int(channel["recipients"][0]["id"])
            notified |= users & {recipient}
        message["mentions"] = [
            copy.deepcopy(self.users[u]) for u in sorted(users) if u in self.users
        ]
        message["mention_everyone"] = bool(everyone and can_everyone)
        notified.discard(author)
        if int(message.get("flags", 0)) & 64:
            notified = set()
        self.notified[str(message["id"])] = notified

    def _build_message(
        self,
        channel_id: int,
        body: JSON,
        files: list[JSON],
        author: JSON,
        *,
        default_parse: tuple[str, ...] = ("users", "roles", "everyone"),
        **extra: Any,
    ) -> JSON:
        attachments = []
        for f in files:
            aid = str(p.snowflake())
            url = f"{self.cdn_url}/attachments/{channel_id}/{aid}/{f['filename']}"
            attachments.append(
                {
                    "id": aid,
                    "filename": f["filename"],
                    "size": f["size"],
                    "content_type": f["content_type"],
                    "url": url,
                    "proxy_url": url + "?proxy=1",
                }
            )
        for attachment, f in zip(attachments, files, strict=True):
            self.attachment_data[attachment["id"]] = f.get("data", b"")
        reference = body.get("message_reference")
        if reference is not None:
            reference = {"type": 0, "channel_id": str(channel_id), **reference}
            reference = {k: str(v) if k.endswith("_id") else v for k, v in reference.items()}
        message = p.message_payload(
            p.snowflake(),
            channel_id,
            author,
            content=body.get("content") or "",
            embeds=[{"type": "rich", **e} for e in body.get("embeds") or []],
            components=body.get("components") or [],
            attachments=attachments,
            poll=p.poll_from_request(body["poll"]) if body.get("poll") else None,
            message_reference=reference,
            flags=int(body.get("flags") or 0),
            tts=bool(body.get("tts", False)),
            type=19 if reference else 0,
            **extra,
        )
        if reference is not None:
            try:
                message["referenced_message"] = copy.deepcopy(
                    self.find_message(int(reference["message_id"]))
                )
            except FakeError:
                message["referenced_message"] = None
        self._mentions(channel_id, message, body, default_parse)
        return message

    async def post_message(self, guild: FakeGuild | None, channel: JSON, message: JSON) -> None:
        """Store a message, bump last_message_id / thread counters, dispatch MESSAGE_CREATE."""
        channel_id = int(channel["id"])
        self.messages.setdefault(channel_id, []).append(message)
        channel["last_message_id"] = message["id"]
        if channel["type"] in (10, 11, 12):
            channel["message_count"] = channel.get("message_count", 0) + 1
            channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        event = copy.deepcopy(message)
        if guild is not None:
            event["guild_id"] = str(guild.id)
            author_member = guild.members.get(int(message["author"]["id"]))
            if author_member is not None and not message.get("webhook_id"):
                event["member"] = {k: v for k, v in author_member.items() if k != "user"}
        if not self._content_visible(event):
            event.update(content="", embeds=[], attachments=[], components=[])
            event.pop("poll", None)
        await self.dispatch("MESSAGE_CREATE", event)

    def _content_visible(self, event: JSON) -> bool:
        """Without MESSAGE_CONTENT the bot only sees content of its own, DM or @mention messages."""
        if getattr(self, "intents", 0) & (1 << 15):
            return True
        mentioned = any(int(u["id"]) == self.bot_id for u in event.get("mentions", []))
        own = int(event["author"]["id"]) == self.bot_id
        return own or mentioned or "guild_id" not in event

    @route("GET", "/channels/{channel_id}/messages")
    async def _list_messages(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is not None:
            self.require(guild, "view_channel", "read_message_history", channel=channel)
        messages = list(self.channel_messages(int(channel["id"])))
        if "before" in req.query:
            messages = [m for m in messages if int(m["id"]) < int(req.query["before"])]
        if "after" in req.query:
            messages = [m for m in messages if int(m["id"]) > int(req.query["after"])]
        limit = int(req.query.get("limit", 50))
        chosen = messages[:limit] if "after" in req.query else messages[-limit:]
        return 200, [copy.deepcopy(m) for m in reversed(chosen)]

    @route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def _get_message(self, req: RestRequest) -> tuple[int, Any]:
        self.find_channel(req.int("channel_id"))
        for message in self.channel_messages(req.int("channel_id")):
            if message["id"] == req.params["message_id"]:
                return 200, copy.deepcopy(message)
        raise FakeError(404, 10008, "Unknown Message")

    @route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def _edit_message(self, req: RestRequest) -> tuple[int, Any]:
        guild, _ = self.find_channel(req.int("channel_id"))
        message = self.find_message(req.int("message_id"))
        if int(message["author"]["id"]) != self.bot_id:
            raise FakeError(403, 50005, "Cannot edit a message authored by another user")
        self._validate_message(req.json, req.files, creating=False)
        await self.edit_message(guild, message, req.json)
        return 200, copy.deepcopy(message)

    async def edit_message(self, guild: FakeGuild | None, message: JSON, body: JSON) -> None:
        """Apply an edit body to a stored message and dispatch MESSAGE_UPDATE."""
        for key in ("content", "components", "flags"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "embeds" in body and body["embeds"] is not None:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"]]
        message["edited_timestamp"] = p.iso_now()
        event = copy.deepcopy(message)
        if guild is not None:
            event["guild_id"] = str(guild.id)
        await self.dispatch("MESSAGE_UPDATE", event)

    @route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def _delete_message(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        message = self.find_message(req.int("message_id"))
        if guild is not None and int(message["author"]["id"]) != self.bot_id:
            self.require(guild, "manage_messages", channel=channel)
        self.messages[int(channel["id"])].remove(message)
        event = {"id": message["id"], "channel_id": channel["id"]}
        if guild is not None:
            event["guild_id"] = str(guild.id)
        await self.dispatch("MESSAGE_DELETE", event)
        return 204, None

    # -- threads -----------------------------------------------------------------------------
    @route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    async def _thread_from_message(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None or channel["type"] not in (0, 5):
            raise FakeError(400, 50024, "Cannot execute action on this channel type")
        message = self.find_message(req.int("message_id"))
        if message.get("thread"):
            raise FakeError(400, 160004, "A thread has already been created for this message")
        self.require(guild, "create_public_threads", channel=channel)
        _validate_name(req.json)
        thread = await self.create_thread(
            guild.id,
            int(channel["id"]),
            req.json["name"],
            thread_id=int(message["id"]),
            auto_archive_duration=int(req.json.get("auto_archive_duration") or 1440),
        )
        message["thread"] = copy.deepcopy(thread)
        return 201, copy.deepcopy(thread)

    @route("POST", "/channels/{channel_id}/threads")
    async def _thread_in_channel(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None:
            raise FakeError(400, 50024, "Cannot execute action on this channel type")
        body = req.json
        _validate_name(body)
        if channel["type"] in (15, 16):
            return await self._forum_post(guild, channel, body, req.files)
        type_ = int(body.get("type") or 11)
        self.require(
            guild,
            "create_public_threads" if type_ == 11 else "create_private_threads",
            channel=channel,
        )
        thread = await self.create_thread(
            guild.id,
            int(channel["id"]),
            body["name"],
            type=type_,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        return 201, copy.deepcopy(thread)

    async def _forum_post(
        self, guild: FakeGuild, forum: JSON, body: JSON, files: list[JSON]
    ) -> tuple[int, Any]:
        self.require(guild, "send_messages", channel=forum)
        tags = [int(t) for t in body.get("applied_tags") or []]
        known = {int(t["id"]) for t in forum.get("available_tags", [])}
        if any(t not in known for t in tags):
            raise invalid_form(p.field_error("applied_tags", "UNKNOWN_TAG", "Unknown tag"))
        if int(forum.get("flags", 0)) & 16 and not tags:
            raise FakeError(400, 40067, "A tag is required to create a forum post in this channel")
        first = body.get("message") or {}
        self._validate_message(first, files, creating=True)
        thread = await self.create_thread(
            guild.id,
            int(forum["id"]),
            body["name"],
            applied_tags=tags,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        message = self._build_message(int(thread["id"]), first, files, self.bot_user)
        message["id"] = thread["id"]  # a forum post's starter message shares the thread id
        await self.post_message(guild, thread, message)
        return 201, {**copy.deepcopy(thread), "message": copy.deepcopy(message)}

    async def create_thread(
        self,
        guild_id: int,
        parent_id: int,
        name: str,
        *,
        thread_id: int | None = None,
        owner_id: int | None = None,
        type: int = 11,
        auto_archive_duration: int = 1440,
        applied_tags: list[int] | None = None,
    ) -> JSON:
        """Create a thread under a channel and dispatch THREAD_CREATE."""
        guild = self.guild(guild_id)
        owner = owner_id or self.bot_id
        thread = p.thread_payload(
            thread_id or p.snowflake(),
            guild.id,
            parent_id,
            owner,
            name,
            type=type,
            auto_archive_duration=auto_archive_duration,
            applied_tags=applied_tags,
        )
        thread["member"] = {
            "id": thread["id"],
            "user_id": str(owner),
            "join_timestamp": p.iso_now(),
            "flags": 0,
        }
        guild.threads[int(thread["id"])] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return thread

    # -- DMs ---------------------------------------------------------------------------------
    @route("POST", "/users/@me/channels")
    async def _open_dm(self, req: RestRequest) -> tuple[int, Any]:
        recipient_id = int(req.json.get("recipient_id", 0))
        user = self.users.get(recipient_id)
        if user is None:
            raise invalid_form(p.field_error("recipient_id", "UNKNOWN_USER", "Unknown user"))
        for channel in self.dm_channels.values():
            if channel["recipients"][0]["id"] == str(recipient_id):
                return 200, copy.deepcopy(channel)
        channel = p.dm_channel_payload(p.snowflake(), user)
        self.dm_channels[int(channel["id"])] = channel
        return 200, copy.deepcopy(channel)

    # -- invites -----------------------------------------------------------------------------
    @route("POST", "/channels/{channel_id}/invites")
    async def _create_invite(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None:
            raise FakeError(400, 50024, "Cannot execute action on this channel type")
        self.require(guild, "create_instant_invite", channel=channel)
        body = req.json
        max_age = int(body.get("max_age", 86400))
        max_uses = int(body.get("max_uses", 0))
        temporary = bool(body.get("temporary", False))
        problems = limits.Problems()
        problems.number_between(["max_age"], max_age, 0, limits.INVITE_MAX_AGE)
        problems.number_between(["max_uses"], max_uses, 0, limits.INVITE_MAX_USES)
        problems.raise_if_any()
        live = self.live_invites(guild.id)
        if not body.get("unique"):
            for invite in live:
                same = (invite["channel_id"], invite["max_age"], invite["max_uses"])
                if same == (channel["id"], max_age, max_uses) and (
                    invite["temporary"] == temporary
                ):
                    return 200, self._invite_payload(guild, invite)
        if len(live) >= limits.GUILD_INVITES_MAX:
            raise FakeError(400, 30016, "Maximum number of invites reached (1000)")
        invite = self.add_invite(guild.id, int(channel["id"]), max_age, max_uses, temporary)
        await self.dispatch("INVITE_CREATE", self._invite_event(invite))
        return 200, self._invite_payload(guild, invite)

    def add_invite(
        self,
        guild_id: int,
        channel_id: int,
        max_age: int = 86400,
        max_uses: int = 0,
        temporary: bool = False,
    ) -> JSON:
        """Store an invite (no event): seeding a guild that already holds many."""
        guild = self.guild(guild_id)
        invite = {
            "code": secrets.token_urlsafe(8).replace("-", "a").replace("_", "b"),
            "channel_id": str(channel_id),
            "guild_id": str(guild.id),
            "inviter": copy.deepcopy(self.bot_user),
            "max_age": max_age,
            "max_uses": max_uses,
            "temporary": temporary,
            "uses": 0,
            "created_at": p.iso_now(),
            "_created": self._now(),
        }
        guild.invites[invite["code"]] = invite
        return invite

    def invite_live(self, invite: JSON) -> bool:
        """Not expired (max_age seconds since creation, 0 = never) and not used up."""
        age = int(invite["max_age"])
        if age and self._now() - float(invite["_created"]) >= age:
            return False
        return not (invite["max_uses"] and invite["uses"] >= invite["max_uses"])

    def live_invites(self, guild_id: int) -> list[JSON]:
        """The guild's invites that still work; Discord deletes the others."""
        guild = self.guild(guild_id)
        for code in [c for c, i in guild.invites.items() if not self.invite_live(i)]:
            del guild.invites[code]
        return list(guild.invites.values())

    def _invite_event(self, invite: JSON) -> JSON:
        return {k: copy.deepcopy(v) for k, v in invite.items() if not k.startswith("_")}

    def _invite_payload(self, guild: FakeGuild, invite: JSON) -> JSON:
        channel = guild.channels.get(int(invite["channel_id"])) or {}
        return {
            "type": 0,
            "code": invite["code"],
            "guild": {
                "id": str(guild.id),
                "name": guild.name,
                "splash": None,
                "banner": None,
                "description": None,
                "icon": None,
                "features": list(guild.features),
                "verification_level": 0,
                "vanity_url_code": None,
                "nsfw_level": 0,
                "premium_subscription_count": 0,
            },
            "channel": {
                "id": invite["channel_id"],
                "name": channel.get("name"),
                "type": channel.get("type", 0),
            },
            "inviter": copy.deepcopy(invite["inviter"]),
            "uses": invite["uses"],
            "max_uses": invite["max_uses"],
            "max_age": invite["max_age"],
            "temporary": invite["temporary"],
            "created_at": invite["created_at"],
            "expires_at": self._invite_expiry(invite),
        }

    def _invite_expiry(self, invite: JSON) -> str | None:
        if not invite["max_age"]:
            return None
        left = float(invite["_created"]) + int(invite["max_age"]) - self._now()
        return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=left)).isoformat()

    @route("GET", "/guilds/{guild_id}/invites")
    async def _guild_invites(self, req: RestRequest) -> tuple[int, Any]:
        guild = self.guild(req.int("guild_id"))
        self.require(guild, "manage_guild")
        return 200, [self._invite_payload(guild, i) for i in self.live_invites(guild.id)]

    @route("GET", "/channels/{channel_id}/invites")
    async def _channel_invites(self, req: RestRequest) -> tuple[int, Any]:
        guild, channel = self.find_channel(req.int("channel_id"))
        if guild is None:
            raise FakeError(400, 50024, "Cannot execute action on this channel type")
        self.require(guild, "manage_channels", channel=channel)
        invites = [i for i in self.live_invites(guild.id) if i["channel_id"] == channel["id"]]
        return 200, [self._invite_payload(guild, i) for i in invites]

    @route("GET", "/invites/{code}")
    async def _get_invite(self, req: RestRequest) -> tuple[int, Any]:
        for guild in self.guilds.values():
            invite = guild.invites.get(req.params["code"])
            if invite is not None and self.invite_live(invite):
                data = self._invite_payload(guild, invite)
                if req.query.get("with_counts") in ("1", "true", "True"):
                    data.update(approximate_member_count=len(guild.members))
                    data.update(approximate_presence_count=0)
                return 200, data
        raise FakeError(404, 10006, "Unknown Invite")

    @route("DELETE", "/invites/{code}")
    async def _delete_invite(self, req: RestRequest) -> tuple[int, Any]:
        for guild in self.guilds.values():
            invite = guild.invites.pop(req.params["code"], None)
            if invite is not None:
                payload = self._invite_payload(guild, invite)
                event = {"channel_id": invite["channel_id"], "guild_id": str(guild.id)}
                await self.dispatch("INVITE_DELETE", {**event, "code": invite["code"]})
                return 200, payload
        raise FakeError(404, 10006, "Unknown Invite")

    # -- application commands ----------------------------------------------------------------
    def _command_store(self, req: RestRequest) -> dict[int, JSON]:
        if req.int("application_id") != self.application_id:
            raise FakeError(403, 50001, "Missing Access")
        if "guild_id" in req.params:
            return self.guild(req.int("guild_id")).commands
        return self.global_commands

    def _command(self, req: RestRequest, data: JSON, existing: dict[int, JSON]) -> JSON:
        _validate_name(data, max_len=32)
        type_ = int(data.get("type", 1))
        same = next(
            (c for c in existing.values() if c["name"] == data["name"] and c["type"] == type_),
            None,
        )
        command = {
            "id": same["id"] if same else str(p.snowflake()),
            "application_id": str(self.application_id),
            "version": str(p.snowflake()),
            "type": type_,
            "name": data["name"],
            "name_localizations": data.get("name_localizations"),
            "description": data.get("description", ""),
            "description_localizations": data.get("description_localizations"),
            "options": data.get("options", []),
            "default_member_permissions": data.get("default_member_permissions"),
            "dm_permission": data.get("dm_permission", True),
            "nsfw": data.get("nsfw", False),
            "contexts": data.get("contexts"),
            "integration_types": data.get("integration_types", [0]),
        }
        if "guild_id" in req.params:
            command["guild_id"] = req.params["guild_id"]
        return command

    @route("GET", "/applications/{application_id}/commands")
    async def _get_global_commands(self, req: RestRequest) -> tuple[int, Any]:
        return 200, [copy.deepcopy(c) for c in self._command_store(req).values()]

    @route("GET", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _get_guild_commands(self, req: RestRequest) -> tuple[int, Any]:
        return 200, [copy.deepcopy(c) for c in self._command_store(req).values()]

    @route("PUT", "/applications/{application_id}/commands")
    async def _sync_global(self, req: RestRequest) -> tuple[int, Any]:
        return await self._bulk_overwrite(req)

    @route("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _sync_guild(self, req: RestRequest) -> tuple[int, Any]:
        return await self._bulk_overwrite(req)

    async def _bulk_overwrite(self, req: RestRequest) -> tuple[int, Any]:
        store = self._command_store(req)
        body = req.body if isinstance(req.body, list) else []
        limits.check_commands(body, bulk=True)
        commands = [self._command(req, c, store) for c in body]
        store.clear()
        store.update({int(c["id"]): c for c in commands})
        self.command_syncs += 1
        return 200, copy.deepcopy(commands)

    @route("POST", "/applications/{application_id}/commands")
    async def _upsert_global(self, req: RestRequest) -> tuple[int, Any]:
        return await self._upsert(req)

    @route("POST", "/applications/{application_id}/guilds/{guild_id}/commands")
    async def _upsert_guild(self, req: RestRequest) -> tuple[int, Any]:
        return await self._upsert(req)

    async def _upsert(self, req: RestRequest) -> tuple[int, Any]:
        store = self._command_store(req)
        limits.check_commands([req.json], bulk=False)
        command = self._command(req, req.json, store)
        store[int(command["id"])] = command
        return 201, copy.deepcopy(command)

    @route("DELETE", "/applications/{application_id}/commands/{command_id}")
    async def _delete_global(self, req: RestRequest) -> tuple[int, Any]:
        self._command_store(req).pop(req.int("command_id"), None)
        return 204, None

    @route("DELETE", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}")
    async def _delete_guild_cmd(self, req: RestRequest) -> tuple[int, Any]:
        self._command_store(req).pop(req.int("command_id"), None)
        return 204, None

    # -- interactions ------------------------------------------------------------------------
    def _interaction(self, req: RestRequest, key: str = "interaction_id") -> FakeInteraction:
        if key == "interaction_id":
            found = self.interactions.get(req.int(key))
        else:
            found = next(
                (i for i in self.interactions.values() if i.token == req.params["token"]), None
            )
        if found is None or found.token != req.params["token"]:
            raise FakeError(404, 10062, "Unknown interaction")
        if key != "interaction_id" and self._now() - found.created_at > limits.TOKEN_SECONDS:
            # receiving-and-responding.mdx: "Interaction tokens are valid for 15 minutes";
            # afterwards the webhook answers 401 / 50027 Invalid Webhook Token.
            found.refused.append((401, 50027))
            raise FakeError(401, 50027, "Invalid Webhook Token")
        return found

    @route("POST", "/interactions/{interaction_id}/{token}/callback")
    async def _callback(self, req: RestRequest) -> tuple[int, Any]:
        inter = self._interaction(req)
        if inter.callbacks:
            raise FakeError(400, 40060, "Interaction has already been acknowledged.")
        if self._now() - inter.created_at > limits.FIRST_RESPONSE_SECONDS:
            # "you must send an initial response within 3 seconds of receiving the event. If
            # the 3 second deadline is exceeded, the token will be invalidated."
            inter.refused.append((404, 10062))
            raise FakeError(404, 10062, "Unknown interaction")
        body = req.json
        type_ = int(body.get("type", 0))
        data = body.get("data") or {}
        if type_ not in (1, 4, 5, 6, 7, 8, 9, 10, 12):
            raise invalid_form(p.field_error("type", "BASE_TYPE_CHOICES", "Value not valid."))
        if (type_ == 8) != (inter.type == 4):
            # An autocomplete interaction is answered only with suggestions, and suggestions
            # answer nothing else (receiving-and-responding.mdx, Interaction Callback Type).
            raise FakeError(400, 40004, "Interaction response type not valid for this interaction")
        if type_ == 8:
            limits.check_autocomplete_result(data)
        if type_ in (6, 7) and inter.type != 3 and inter.component_message_id is None:
            raise FakeError(400, 40004, "Interaction response type not valid for this interaction")
        if type_ == 9 and inter.type == 5:
            raise FakeError(400, 40004, "Cannot respond to a modal submit with a modal")
        if type_ in (4, 7):
            limits.check_message(data, req.files, creating=type_ == 4, prefix=["data"])
        elif type_ == 9:
            limits.check_modal(data)
        inter.callbacks.append({"type": type_, "data": copy.deepcopy(data), "files": req.files})
        guild = self.guilds.get(inter.guild_id or 0)
        resource: JSON = {"type": type_}
        if type_ == 4:
            inter.original = await self._interaction_message(inter, data, req.files)
            resource["message"] = copy.deepcopy(inter.original)
        elif type_ == 5:
            flags = int(data.get("flags") or 0) | 128  # LOADING
            inter.original = await self._interaction_message(
                inter, {"content": "", "flags": flags}, [], post=not flags & 64
            )
            resource["message"] = copy.deepcopy(inter.original)
        elif type_ in (6, 7) and inter.component_message_id is not None:
            message = self.find_message(inter.component_message_id)
            inter.original = message
            if type_ == 7:
                await self.edit_message(guild, message, data)
                resource["message"] = copy.deepcopy(message)
        elif type_ == 9:
            inter.modal = copy.deepcopy(data)
        result = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_id": inter.original["id"] if inter.original else None,
                "response_message_loading": type_ == 5,
                "response_message_ephemeral": inter.ephemeral,
            },
            "resource": resource,
        }
        if req.query.get("with_response") in ("1", "true", "True"):
            return 200, result
        return 204, None

    async def _interaction_message(
        self, inter: FakeInteraction, data: JSON, files: list[JSON], *, post: bool | None = None
    ) -> JSON:
        guild = self.guilds.get(inter.guild_id or 0)
        _, channel = self.find_channel(inter.channel_id)
        user = self.users[inter.user_id]
        metadata = {
            "id": str(inter.id),
            "type": inter.type,
            "user": copy.deepcopy(user),
            "authorizing_integration_owners": {"0": str(inter.guild_id or 0)},
        }
        message = self._build_message(
            inter.channel_id,
            data,
            files,
            self.bot_user,
            default_parse=("users",),
            webhook_id=self.application_id,
            application_id=self.application_id,
            interaction_metadata=metadata,
        )
        if inter.type == 2:
            message["type"] = 20  # CHAT_INPUT_COMMAND
        ephemeral = bool(int(message["flags"]) & 64)
        if post if post is not None else not ephemeral:
            await self.post_message(guild, channel, message)
        return message

    @route("POST", "/webhooks/{webhook_id}/{token}")
    async def _followup(self, req: RestRequest) -> tuple[int, Any]:
        inter = self._interaction(req, key="token")
        if not inter.callbacks:
            raise FakeError(404, 10015, "Unknown Webhook")
        self._validate_message(req.json, req.files, creating=True)
        if inter.loading and not inter.followups and inter.response_type == 5:
            # receiving-and-responding.mdx, Create Followup Message: right after a deferred
            # response the follow-up "will function as Edit Original Interaction Response ...
            # no new message will be created, and the loading message will be edited instead.
            # The ephemeral flag will be ignored".
            message = inter.original
            assert message is not None
            await self._finish_loading(inter, message, req.json, req.files)
            inter.callbacks.append({"type": "followup-edit", "data": copy.deepcopy(req.json)})
            return 200, copy.deepcopy(message)
        message = await self._interaction_message(inter, req.json, req.files)
        inter.followups.append(message)
        wait = req.query.get("wait") in ("1", "true", "True")
        return (200, copy.deepcopy(message)) if wait else (204, None)

    async def _finish_loading(
        self, inter: FakeInteraction, message: JSON, body: JSON, files: list[JSON]
    ) -> None:
        """Replace a deferred response's "thinking…" with the answer (ephemeral kept as it was)."""
        message["flags"] = int(message.get("flags", 0)) & ~128
        built = self._build_message(
            int(message["channel_id"]), body, files, self.bot_user, default_parse=("users",)
        )
        for key in ("content", "components", "embeds", "attachments", "poll"):
            if key in built:
                message[key] = built[key]
        if int(message["flags"]) & 64:
            self.notified[message["id"]] = set()
        else:
            self.notified[message["id"]] = self.notified.pop(built["id"], set())
            guild = self.guilds.get(inter.guild_id or 0)
            await self.edit_message(guild, message, {})
        self.notified.pop(built["id"], None)

    def _webhook_message(self, inter: FakeInteraction, message_id: str) -> JSON:
        if message_id == "@original":
            if inter.original is None:
                raise FakeError(404, 10008, "Unknown Message")
            return inter.original
        for message in inter.messages:
            if message["id"] == message_id:
                return message
        raise FakeError(404, 10008, "Unknown Message")

    @route("GET", "/webhooks/{webhook_id}/{token}/messages/{message_id}")
    async def _get_webhook_message(self, req: RestRequest) -> tuple[int, Any]:
        inter = self._interaction(req, key="token")
        return 200, copy.deepcopy(self._webhook_message(inter, req.params["message_id"]))

    @route("PATCH", "/webhooks/{webhook_id}/{token}/messages/{message_id}")
    async def _edit_webhook_message(self, req: RestRequest) -> tuple[int, Any]:
        inter = self._interaction(req, key="token")
        message = self._webhook_message(inter, req.params["message_id"])
        self._validate_message(req.json, req.files, creating=False)
        guild = self.guilds.get(inter.guild_id or 0)
        if int(message.get("flags", 0)) & 128:
            await self._finish_loading(inter, message, req.json, req.files)
        elif int(message.get("flags", 0)) & 64:
            await self._edit_stored(message, req.json)
        else:
            await self.edit_message(guild, message, req.json)
        inter.callbacks.append({"type": "edit", "data": copy.deepcopy(req.json), "files": []})
        return 200, copy.deepcopy(message)

    async def _edit_stored(self, message: JSON, body: JSON) -> None:
        """Edit an ephemeral message (it lives with the interaction, in no channel)."""
        for key in ("content", "components"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "embeds" in body and body["embeds"] is not None:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"]]
        message["edited_timestamp"] = p.iso_now()

    @route("DELETE", "/webhooks/{webhook_id}/{token}/messages/{message_id}")
    async def _delete_webhook_message(self, req: RestRequest) -> tuple[int, Any]:
        inter = self._interaction(req, key="token")
        message = self._webhook_message(inter, req.params["message_id"])
        if inter.original is message:
            inter.original = None
        else:
            inter.followups.remove(message)
        for messages in self.messages.values():
            if message in messages:
                messages.remove(message)
        return 204, None
