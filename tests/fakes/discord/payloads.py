"""Discord-shaped JSON payload builders used by the fake (shapes follow discord/types/*.py)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import time
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
_counter = itertools.count()
_last_snowflake = 0


def snowflake() -> int:
    """Return a new, strictly increasing, time-based snowflake."""
    global _last_snowflake
    value = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0xFFF)
    value = max(value, _last_snowflake + 1)
    _last_snowflake = value
    return value


def iso_now() -> str:
    """Return the current UTC time in Discord's ISO 8601 form."""
    return dt.datetime.now(dt.UTC).isoformat()


def user_payload(
    user_id: int, username: str, *, bot: bool = False, global_name: str | None = None
) -> JSON:
    """Build a User object (types/user.py)."""
    return {
        "id": str(user_id),
        "username": username,
        "global_name": global_name,
        "discriminator": "0",
        "avatar": None,
        "banner": None,
        "accent_color": None,
        "public_flags": 0,
        "flags": 0,
        "bot": bot,
        "system": False,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }


def role_payload(
    role_id: int,
    name: str,
    *,
    permissions: int = 0,
    position: int = 0,
    color: int = 0,
    hoist: bool = False,
    mentionable: bool = False,
    managed: bool = False,
    tags: JSON | None = None,
) -> JSON:
    """Build a Role object (types/role.py)."""
    payload: JSON = {
        "id": str(role_id),
        "name": name,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": mentionable,
        "flags": 0,
    }
    if tags is not None:
        payload["tags"] = tags
    return payload


def member_payload(
    user: JSON,
    *,
    roles: list[int] | None = None,
    nick: str | None = None,
    pending: bool = False,
    joined_at: str | None = None,
) -> JSON:
    """Build a guild Member object (types/member.py); `flags` is required by discord.py."""
    return {
        "user": copy.deepcopy(user),
        "nick": nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in roles or []],
        "joined_at": joined_at or iso_now(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": pending,
        "communication_disabled_until": None,
        "avatar_decoration_data": None,
    }


def channel_payload(
    channel_id: int,
    guild_id: int,
    name: str,
    *,
    type: int = 0,
    position: int = 0,
    parent_id: int | None = None,
    topic: str | None = None,
) -> JSON:
    """Build a guild channel object (text=0, category=4, forum=15; types/channel.py)."""
    payload: JSON = {
        "id": str(channel_id),
        "guild_id": str(guild_id),
        "name": name,
        "type": type,
        "position": position,
        "parent_id": str(parent_id) if parent_id else None,
        "permission_overwrites": [],
        "nsfw": False,
        "flags": 0,
    }
    if type in (0, 5, 15, 16):
        payload.update(
            topic=topic,
            rate_limit_per_user=0,
            last_message_id=None,
            default_auto_archive_duration=1440,
            default_thread_rate_limit_per_user=0,
        )
    if type in (15, 16):
        payload.update(
            available_tags=[],
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
        )
    return payload


def thread_payload(
    thread_id: int,
    guild_id: int,
    parent_id: int,
    owner_id: int,
    name: str,
    *,
    type: int = 11,
    auto_archive_duration: int = 1440,
    applied_tags: list[int] | None = None,
) -> JSON:
    """Build a thread channel object (public thread=11; types/threads.py)."""
    now = iso_now()
    return {
        "id": str(thread_id),
        "guild_id": str(guild_id),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "type": type,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [str(t) for t in applied_tags or []],
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": auto_archive_duration,
            "archive_timestamp": now,
            "locked": False,
            "invitable": True,
            "create_timestamp": now,
        },
    }


def dm_channel_payload(channel_id: int, recipient: JSON) -> JSON:
    """Build a DM channel object (type 1)."""
    return {
        "id": str(channel_id),
        "type": 1,
        "last_message_id": None,
        "recipients": [copy.deepcopy(recipient)],
        "flags": 0,
    }


def message_payload(
    message_id: int,
    channel_id: int,
    author: JSON,
    *,
    content: str = "",
    embeds: list[JSON] | None = None,
    components: list[JSON] | None = None,
    attachments: list[JSON] | None = None,
    poll: JSON | None = None,
    message_reference: JSON | None = None,
    flags: int = 0,
    type: int = 0,
    mentions: list[JSON] | None = None,
    mention_roles: list[int] | None = None,
    webhook_id: int | None = None,
    application_id: int | None = None,
    interaction_metadata: JSON | None = None,
    tts: bool = False,
) -> JSON:
    """Build a Message object as returned by REST (types/message.py)."""
    payload: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": copy.deepcopy(author),
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": tts,
        "mention_everyone": False,
        "mentions": copy.deepcopy(mentions or []),
        "mention_roles": [str(r) for r in mention_roles or []],
        "attachments": copy.deepcopy(attachments or []),
        "embeds": copy.deepcopy(embeds or []),
        "reactions": [],
        "pinned": False,
        "type": type,
        "flags": flags,
        "components": copy.deepcopy(components or []),
    }
    if poll is not None:
        payload["poll"] = copy.deepcopy(poll)
    if message_reference is not None:
        payload["message_reference"] = copy.deepcopy(message_reference)
    if webhook_id is not None:
        payload["webhook_id"] = str(webhook_id)
    if application_id is not None:
        payload["application_id"] = str(application_id)
    if interaction_metadata is not None:
        payload["interaction_metadata"] = copy.deepcopy(interaction_metadata)
    return payload


def poll_from_request(poll: JSON) -> JSON:
    """Turn a poll create request into the poll object a message carries."""
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(hours=int(poll.get("duration", 24)))
    answers = [
        {"answer_id": i + 1, "poll_media": answer.get("poll_media", {})}
        for i, answer in enumerate(poll.get("answers", []))
    ]
    return {
        "question": poll.get("question", {"text": ""}),
        "answers": answers,
        "expiry": expiry.isoformat(),
        "allow_multiselect": bool(poll.get("allow_multiselect", False)),
        "layout_type": poll.get("layout_type", 1),
        "results": {"is_finalized": False, "answer_counts": []},
    }


def error_body(code: int, message: str, errors: JSON | None = None) -> JSON:
    """Build a Discord JSON error body."""
    body: JSON = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return body


def field_error(field: str, code: str, message: str) -> JSON:
    """Build the `errors` tree of a 50035 Invalid Form Body for one field."""
    return {field: {"_errors": [{"code": code, "message": message}]}}
