"""In-memory workspace state for the fake Slack server."""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_\-\u00c0-\uffff]+$")


class SlackError(Exception):
    """An API error returned as `{"ok": false, "error": ...}` (HTTP 200 unless `status` given)."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


@dataclass
class User:
    """A workspace member (human or bot)."""

    id: str
    name: str
    team_id: str
    email: str | None = None
    real_name: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    bot_id: str | None = None
    display_name: str | None = None

    @property
    def shown_name(self) -> str:
        """What members see (and type after `@`)."""
        return self.display_name or self.name

    def to_dict(self, email: bool = True) -> dict[str, Any]:
        """Return the user as Slack's `users.info` shape (`email` needs users:read.email)."""
        profile: dict[str, Any] = {
            "real_name": self.real_name or self.shown_name,
            "display_name": self.shown_name,
            "real_name_normalized": self.real_name or self.shown_name,
            "display_name_normalized": self.shown_name,
            "team": self.team_id,
        }
        if self.email and email:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name or self.shown_name,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }


@dataclass
class Channel:
    """A conversation: public/private channel, IM or MPIM."""

    id: str
    name: str
    creator: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""
    is_archived: bool = False
    is_general: bool = False
    created: int = field(default_factory=lambda: int(time.time()))
    messages: list[dict[str, Any]] = field(default_factory=list)

    def find(self, ts: str) -> dict[str, Any] | None:
        """Return the message with this ts (top level or reply), or None."""
        return next((m for m in self.messages if m["ts"] == ts), None)

    def to_dict(self, viewer: str | None = None) -> dict[str, Any]:
        """Return the conversation as Slack's `conversations.info` shape."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": next((m for m in self.members if m != viewer), self.members[0]),
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "created": self.created,
            "creator": self.creator,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": viewer in self.members if viewer else False,
            "num_members": len(self.members),
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }


class Ids:
    """Deterministic id/ts generator."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last_ts = 0.0

    def new(self, prefix: str) -> str:
        """Return a fresh id such as `C0000000007`."""
        return f"{prefix}{next(self._counter):010d}"

    def ts(self) -> str:
        """Return a strictly increasing message timestamp string."""
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"


def encode_cursor(offset: int) -> str:
    """Encode a pagination offset as an opaque Slack-like cursor."""
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """Decode a cursor produced by `encode_cursor` (empty -> 0)."""
    if not cursor:
        return 0
    try:
        kind, _, num = base64.b64decode(cursor.encode()).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(num)
    except ValueError as exc:
        raise SlackError("invalid_cursor") from exc


def paginate(
    items: list[Any], params: dict[str, Any], default_limit: int = 100
) -> tuple[list[Any], str]:
    """Slice items by `cursor`/`limit`; return (page, next_cursor)."""
    start = decode_cursor(params.get("cursor"))
    limit = as_int(params.get("limit"), default_limit) or default_limit
    limit = min(limit, 1000)
    page = items[start : start + limit]
    nxt = encode_cursor(start + limit) if start + limit < len(items) else ""
    return page, nxt


def as_str(value: Any) -> str | None:
    """Coerce a request parameter to str (None stays None)."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def as_bool(value: Any, default: bool = False) -> bool:
    """Coerce `true`/`1`/True to bool."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def as_int(value: Any, default: int = 0) -> int:
    """Coerce a numeric parameter to int."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_json(value: Any) -> Any:
    """Decode a parameter sent as a JSON string in form bodies (dicts/lists pass through)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError("invalid_arguments") from exc
    return value


def as_list(value: Any) -> list[str]:
    """Split a comma-separated id list (or accept a list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def validate_channel_name(name: str | None) -> str:
    """Apply Slack's channel-name rules; return the name or raise SlackError."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not CHANNEL_NAME_RE.match(name):
        raise SlackError("invalid_name_specials")
    if all(c in "-_" for c in name):
        raise SlackError("invalid_name_punctuation")
    return name
