"""Build Slack-shaped payloads and deliver them to a Bolt app over signed HTTP or Socket Mode."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from . import blockkit
from .team import FakeTeam

# A mention the member picked from Slack's autocomplete, written by `SlackDriver.mention()`.
_PICKED = re.compile("\u27ea([@#])([A-Z0-9]+)\u27eb")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s<>|]+")


def sign(secret: str, ts: str | int, body: bytes | str) -> str:
    """Return Slack's `X-Slack-Signature` value for this timestamp and raw body."""
    raw = body.decode() if isinstance(body, bytes) else body
    base = f"v0:{ts}:{raw}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """Outcome of delivering one request/envelope to the app."""

    status: int
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    envelope_id: str | None = None
    ack: dict[str, Any] | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # Seconds until the ack arrived; past the fake's ack_deadline (3 s) Slack gave up on it.
    elapsed: float = 0.0
    late: bool = False

    @property
    def json(self) -> Any:
        """The HTTP response body (or the Socket Mode ack payload) as JSON, or None."""
        if self.ack is not None:
            return self.ack.get("payload")
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None

    @property
    def trigger_id(self) -> str | None:
        """The trigger_id sent with this interaction, if any."""
        return self.payload.get("trigger_id")

    @property
    def response_url(self) -> str | None:
        """The response_url sent with this interaction, if any."""
        return self.payload.get("response_url")


class SlackDriver:
    """Deliver slash commands, events and interactions to an app.

    mode="http" posts signed requests to `app_url`; mode="socket" sends envelopes to the
    app connected over Socket Mode and waits for its ack; "auto" picks http when app_url is set.
    """

    def __init__(
        self,
        fake: FakeTeam,
        app_url: str | None = None,
        signing_secret: str | None = None,
        mode: str = "auto",
    ) -> None:
        """Bind the driver to a fake and (for HTTP) the app's URL and signing secret."""
        self.fake = fake
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.mode = ("http" if app_url else "socket") if mode == "auto" else mode
        if self.mode == "http" and not (app_url and signing_secret):
            raise ValueError("http mode needs app_url and signing_secret")

    # ---- raw transport ---------------------------------------------------

    async def post_signed(
        self,
        body: bytes | str,
        content_type: str,
        timestamp: str | int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST a raw body to the app, signed unless `signature` is given; return (status, text)."""
        delivery = await self._post(body, content_type, timestamp, signature, headers)
        return delivery.status, delivery.text

    async def _post(
        self,
        body: bytes | str,
        content_type: str,
        timestamp: str | int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        assert self.app_url and self.signing_secret
        raw = body.encode() if isinstance(body, str) else body
        ts = str(int(time.time()) if timestamp is None else timestamp)
        hdrs = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or sign(self.signing_secret, ts, raw),
            **(headers or {}),
        }
        start = time.monotonic()
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.app_url, data=raw, headers=hdrs) as resp,
        ):
            delivery = Delivery(resp.status, await resp.text(), dict(resp.headers))
        return self._timed(delivery, start, content_type)

    def _timed(self, delivery: Delivery, start: float, kind: str) -> Delivery:
        """Note how long the ack took; Slack counts an ack after 3 s as no ack at all."""
        delivery.elapsed = time.monotonic() - start
        server = self.fake.server
        if delivery.elapsed > server.ack_deadline:
            delivery.late = True
            server.late_acks.append((kind, delivery.elapsed))
        return delivery

    async def _envelope(
        self, type_: str, payload: dict[str, Any], accepts: bool = False, **kw: Any
    ) -> Delivery:
        start = time.monotonic()
        ack = await self.fake.send_envelope(type_, payload, accepts, **kw)
        delivery = Delivery(200, envelope_id=ack["envelope_id"], ack=ack, payload=payload)
        return self._timed(delivery, start, type_)

    async def deliver_event_body(
        self, body: dict[str, Any], retry_num: int = 0, retry_reason: str = "http_timeout"
    ) -> Delivery:
        """Deliver a full Events API body (event_callback) as JSON or an events_api envelope."""
        if self.mode == "socket":
            return await self._envelope(
                "events_api",
                body,
                retry_attempt=retry_num,
                retry_reason=retry_reason if retry_num else "",
            )
        headers = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
            if retry_num
            else {}
        )
        delivery = await self._post(json.dumps(body), "application/json", headers=headers)
        delivery.payload = body
        return delivery

    async def deliver_interactive(self, payload: dict[str, Any]) -> Delivery:
        """Deliver an interactivity payload (block_actions, view_submission, ...)."""
        if self.mode == "socket":
            return await self._envelope("interactive", payload, True)
        body = urlencode({"payload": json.dumps(payload)})
        delivery = await self._post(body, "application/x-www-form-urlencoded")
        delivery.payload = payload
        return delivery

    async def deliver_command(self, form: dict[str, str]) -> Delivery:
        """Deliver slash-command form fields."""
        if self.mode == "socket":
            return await self._envelope("slash_commands", form, True)
        delivery = await self._post(urlencode(form), "application/x-www-form-urlencoded")
        delivery.payload = dict(form)
        return delivery

    # ---- payload builders ------------------------------------------------

    def _user_ref(self, user_id: str) -> dict[str, Any]:
        user = self.fake.users.get(user_id)
        name = user.name if user else user_id
        return {"id": user_id, "username": name, "name": name, "team_id": self.fake.team["id"]}

    def _team_ref(self) -> dict[str, Any]:
        return {"id": self.fake.team["id"], "domain": self.fake.team["domain"]}

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """Wrap an event in an `event_callback` envelope."""
        return {
            "token": "fake-verification-token",
            "team_id": self.fake.team["id"],
            "api_app_id": self.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.fake.team["id"],
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    # ---- high-level helpers ----------------------------------------------

    async def url_verification(self, challenge: str | None = None) -> Delivery:
        """Send Slack's `url_verification` handshake (HTTP only)."""
        body = {
            "token": "fake-verification-token",
            "challenge": challenge or uuid.uuid4().hex,
            "type": "url_verification",
        }
        delivery = await self._post(json.dumps(body), "application/json")
        delivery.payload = body
        return delivery

    @staticmethod
    def mention(user_id: str) -> str:
        """A user the member picked from the `@` autocomplete, for `slash_command` text."""
        return f"\u27ea@{user_id}\u27eb"

    @staticmethod
    def channel_mention(channel_id: str) -> str:
        """A channel the member picked from the `#` autocomplete, for `slash_command` text."""
        return f"\u27ea#{channel_id}\u27eb"

    def typed(self, text: str) -> str:
        """The text Slack sends for what the member typed, as the manifest's command says.

        Slack escapes `&`, `<` and `>` in member text (docs.slack.dev/messaging/
        formatting-message-text, "Escaping text"). With `should_escape: true` it sends picked
        users as `<@U123|name>`, channels as `<#C123|name>` and links and emails as
        `<https://...>` / `<mailto:a@b|a@b>`; with `false`, the names as typed (`@Kari
        Nordmann`, `#jobs`) and links as plain text (docs.slack.dev/interactivity/
        implementing-slash-commands, "Escaping").
        """
        commands = self.fake.server.manifest["features"].get("slash_commands") or [{}]
        escape = bool(commands[0].get("should_escape"))
        out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if escape:
            out = _URL.sub(lambda m: f"<{m.group(0)}>", out)
            out = _EMAIL.sub(lambda m: f"<mailto:{m.group(0)}|{m.group(0)}>", out)

        def picked(match: re.Match[str]) -> str:
            sigil, ident = match.group(1), match.group(2)
            if sigil == "@":
                user = self.fake.users[ident]
                return f"<@{ident}|{user.name}>" if escape else f"@{user.shown_name}"
            channel = self.fake.channels[ident]
            return f"<#{ident}|{channel.name}>" if escape else f"#{channel.name}"

        return _PICKED.sub(picked, out)

    async def slash_command(
        self, user_id: str, channel_id: str, command: str = "/alumni", text: str = ""
    ) -> Delivery:
        """Deliver a slash command as Slack would: text escaped, a fresh trigger_id and a
        response_url on the fake (see `typed` and `mention`)."""
        ch = self.fake.channels.get(channel_id)
        form = {
            "token": "fake-verification-token",
            "team_id": self.fake.team["id"],
            "team_domain": self.fake.team["domain"],
            "channel_id": channel_id,
            "channel_name": ch.name if ch else "unknown",
            "user_id": user_id,
            "user_name": self._user_ref(user_id)["name"],
            "command": command,
            "text": self.typed(text),
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url("command", user_id, channel_id),
            "trigger_id": self.fake.issue_trigger_id(),
        }
        return await self.deliver_command(form)

    async def event(
        self, event: dict[str, Any], event_id: str | None = None, deliveries: int = 1
    ) -> list[Delivery]:
        """Deliver an event `deliveries` times with one event_id (repeats carry retry info)."""
        body = self.event_body(event, event_id)
        return [await self.deliver_event_body(body, retry_num=n) for n in range(deliveries)]

    async def team_join(self, user_id: str, deliveries: int = 1) -> list[Delivery]:
        """Deliver `team_join` for a user (1-3 times, as Slack may retry)."""
        if not 1 <= deliveries <= 3:
            raise ValueError("Slack delivers an event at most 3 times")
        event = {
            "type": "team_join",
            "user": self.fake.users[user_id].to_dict(),
            "event_ts": self.fake.ids.ts(),
        }
        return await self.event(event, deliveries=deliveries)

    async def user_message(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> str:
        """Store a user's message in the fake AND deliver the `message` event; return its ts."""
        ch = self.fake.channels[channel_id]
        blocks = [
            {
                "type": "rich_text",
                "block_id": uuid.uuid4().hex[:5],
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ]
        content = {"text": text, "blocks": blocks, "client_msg_id": str(uuid.uuid4())}
        msg = self.fake.store_message(ch, user_id, content, thread_ts)
        event = {
            **msg,
            "channel": channel_id,
            "event_ts": msg["ts"],
            "channel_type": "im"
            if ch.is_im
            else "mpim"
            if ch.is_mpim
            else "group"
            if ch.is_private
            else "channel",
        }
        for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply"):
            event.pop(key, None)
        if thread_ts:
            parent = ch.find(msg["thread_ts"])
            event["parent_user_id"] = parent["user"] if parent else None
        await self.event(event)
        return str(msg["ts"])

    async def app_home_opened(self, user_id: str, tab: str = "home") -> list[Delivery]:
        """Deliver `app_home_opened` for a user."""
        event = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.fake.open_im(user_id).id,
            "tab": tab,
            "event_ts": self.fake.ids.ts(),
        }
        return await self.event(event)

    async def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        block_id: str = "actions",
        action_type: str = "button",
    ) -> Delivery:
        """Deliver a `block_actions` click from a message (channel_id+message_ts) or a view."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": self.fake.ids.ts(),
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
        if value is not None:
            action["value"] = value
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_ref(user_id),
            "api_app_id": self.fake.app_id,
            "token": "fake-verification-token",
            "trigger_id": self.fake.issue_trigger_id(),
            "team": self._team_ref(),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        if view_id:
            view = self.fake.views.get(view_id) or self.fake.home_views.get(user_id) or {}
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = view
        if channel_id:
            ch = self.fake.channels.get(channel_id)
            payload["channel"] = {"id": channel_id, "name": ch.name if ch else ""}
            payload["response_url"] = self.fake.new_response_url(
                "message", user_id, channel_id, message_ts
            )
            if message_ts:
                msg = ch.find(message_ts) if ch else None
                payload["message"] = msg or {"type": "message", "ts": message_ts, "text": ""}
                payload["container"] = {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel_id,
                    "is_ephemeral": False,
                }
        return await self.deliver_interactive(payload)

    async def view_submission(
        self,
        user_id: str,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]] | None = None,
        private_metadata: str | None = None,
        view_id: str | None = None,
    ) -> Delivery:
        """Deliver `view_submission`; reuses the latest opened view with this callback_id."""
        view = self.fake.views.get(view_id or "")
        if view is None:
            view = next(
                (
                    v
                    for v in reversed(self.fake.views_opened)
                    if v.get("callback_id") == callback_id
                ),
                None,
            )
        if view is None:
            view = {
                "id": self.fake.ids.new("V"),
                "team_id": self.fake.team["id"],
                "type": "modal",
                "title": {"type": "plain_text", "text": "Modal"},
                "blocks": [],
                "private_metadata": "",
                "hash": "1.fake",
                "app_id": self.fake.app_id,
                "bot_id": self.fake.bot_id,
            }
        # state.values holds every input block of the view: one the member left alone carries
        # its initial_value (null when empty), docs.slack.dev/reference/interaction-payloads/
        # view-interactions-payload ("state").
        state = _untouched(view)
        state.update(values or {})
        view = dict(view, callback_id=callback_id, state={"values": state})
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        version = self.fake.view_versions.get(str(view.get("id")), 0)
        payload = {
            "type": "view_submission",
            "team": self._team_ref(),
            "user": self._user_ref(user_id),
            "api_app_id": self.fake.app_id,
            "token": "fake-verification-token",
            "trigger_id": self.fake.issue_trigger_id(),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        delivery = await self.deliver_interactive(payload)
        self.apply_view_ack(str(view.get("id")), version, delivery)
        return delivery

    def apply_view_ack(self, view_id: str, version: int, delivery: Delivery) -> None:
        """What Slack does with a view_submission's ack (docs.slack.dev/surfaces/modals,
        "Updating views from a view_submission"): nothing when late; `errors` shows field
        errors, `update` replaces the view, `push` adds one, `clear` closes all, an empty
        ack closes the view. Were the view changed (views.update) after the submission was
        sent, the app acked first: the later update stands.
        """
        fake = self.fake
        current = fake.views.get(view_id)
        if current is None or delivery.late or delivery.status != 200:
            return
        if fake.view_versions.get(view_id, 0) != version:
            return
        ack = delivery.json if isinstance(delivery.json, dict) else {}
        action = ack.get("response_action")
        if action == "errors":
            blocks = current.get("blocks", [])
            fields = {b.get("block_id") for b in blocks if b.get("type") == "input"}
            errors = dict(ack.get("errors") or {})
            unknown = sorted(set(errors) - fields)
            if unknown:
                # Slack refuses errors on blocks the view lacks (and shows a connection error).
                fake.server.ack_refusals.append(f"errors for unknown blocks {unknown}")
                return
            fake.view_errors[view_id] = errors
        elif action in ("update", "push"):
            view = ack.get("view")
            problems = blockkit.view_problems(view)
            if problems:
                fake.server.ack_refusals.extend(problems)
                return
            assert isinstance(view, dict)
            if action == "update":
                fake.replace_view(current, view)
            else:
                fake.views_opened.append(fake._stored_view(view, current.get("root_view_id")))
        elif action == "clear":
            root = current.get("root_view_id")
            fake.closed_views |= {v for v, x in fake.views.items() if x.get("root_view_id") == root}
        else:
            fake.closed_views.add(view_id)


def _untouched(view: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """What each input block of a view submits when the member does not touch it."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") != "input" or element.get("type") != "plain_text_input":
            continue
        value = element.get("initial_value") or None
        action = str(element.get("action_id", "value"))
        out[str(block.get("block_id"))] = {action: {"type": "plain_text_input", "value": value}}
    return out
