"""Which bot scope each Web API method and event subscription needs, from Slack's method pages.

Each method's page (docs.slack.dev/reference/methods/<method>, "Required scopes") lists one
scope per conversation type where the method acts on conversations; the fake asks for the
scope of the conversation actually named. A token without it gets Slack's answer:
`{"ok": false, "error": "missing_scope", "needed": "<scope>", "provided": "<a,b,c>"}`
(docs.slack.dev/reference/methods/<any method>, errors: missing_scope; the two fields are the
ones slack_sdk's `SlackApiError.response` shows).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Channel

# Scope per conversation kind: (public channel, private channel, IM, group DM).
READ = ("channels:read", "groups:read", "im:read", "mpim:read")
MANAGE = ("channels:manage", "groups:write", "im:write", "mpim:write")
HISTORY = ("channels:history", "groups:history", "im:history", "mpim:history")

# Methods whose scope does not depend on a conversation. None: no scope needed.
FIXED: dict[str, str | None] = {
    "auth.test": None,  # reference/methods/auth.test: no scope required
    "team.info": "team:read",
    "apps.connections.open": "connections:write",  # app-level token
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "conversations.join": "channels:join",
    "views.open": None,  # reference/methods/views.open: no scope required
    "views.push": None,
    "views.update": None,
    "views.publish": None,
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "usergroups.create": "usergroups:write",
    "usergroups.update": "usergroups:write",  # reference/methods/usergroups.update
    "usergroups.list": "usergroups:read",
    "usergroups.users.update": "usergroups:write",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
# Methods whose scope is the one for the kind of conversation they act on.
BY_CONVERSATION: dict[str, tuple[str, str, str, str]] = {
    "conversations.create": MANAGE,  # is_private picks groups:write
    "conversations.info": READ,
    "conversations.members": READ,
    "conversations.rename": MANAGE,
    "conversations.archive": MANAGE,
    "conversations.unarchive": MANAGE,
    "conversations.setTopic": MANAGE,
    "conversations.setPurpose": MANAGE,
    "conversations.invite": MANAGE,
    "conversations.kick": MANAGE,
    "conversations.open": MANAGE,  # im:write for one user, mpim:write for several
    "conversations.history": HISTORY,
    "conversations.replies": HISTORY,
}
# docs.slack.dev/reference/events/<event>, "Required scopes": what a subscription needs.
EVENTS: dict[str, str | None] = {
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "team_join": "users:read",
    "user_change": "users:read",
    "member_left_channel": "channels:read",
}
# docs.slack.dev/interactivity/implementing-slash-commands: a slash command needs `commands`.
SLASH_COMMANDS = "commands"
# chat.postMessage into a public channel the bot is not in (reference/methods/chat.postMessage).
WRITE_PUBLIC = "chat:write.public"
# users.info and users.list show `profile.email` only with this scope
# (reference/methods/users.info).
EMAIL = "users:read.email"


def kind_index(channel: Channel) -> int:
    """0 public, 1 private, 2 IM, 3 group DM."""
    if channel.is_im:
        return 2
    if channel.is_mpim:
        return 3
    return 1 if channel.is_private else 0


def needed(method: str, params: dict[str, Any], channel_of: Callable[[str], Any]) -> list[str]:
    """The scopes this call needs (every one of them), given its parameters."""
    if method in FIXED:
        scope = FIXED[method]
        return [scope] if scope else []
    by_kind = BY_CONVERSATION.get(method)
    if by_kind is None:
        return []
    if method == "conversations.create":
        private = str(params.get("is_private", "")).lower() in ("1", "true")
        return [by_kind[1] if private else by_kind[0]]
    if method == "conversations.open":
        users = [u for u in str(params.get("users") or "").split(",") if u.strip()]
        return [by_kind[3] if len(users) > 1 else by_kind[2]]
    channel = channel_of(str(params.get("channel") or ""))
    if channel is None:
        return []  # Slack answers channel_not_found; the method itself decides
    return [by_kind[kind_index(channel)]]


# The scopes of the token making the current call (set by the server around each handler).
CALLER_SCOPES: ContextVar[frozenset[str]] = ContextVar("caller_scopes", default=frozenset())


def listed(types: list[str]) -> list[str]:
    """conversations.list needs the read scope of every type it asks for."""
    order = ("public_channel", "private_channel", "im", "mpim")
    return [READ[order.index(t)] for t in types if t in order]
