"""What the core asks an adapter to show: messages, buttons, forms, channel and role specs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class ButtonStyle(StrEnum):
    """How a button looks; adapters map it to their own styles."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """A button; `action` routes the press to a cog, `value` carries its state."""

    label: str
    action: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.SECONDARY


@dataclass(frozen=True)
class Poll:
    """A native poll where the platform has one."""

    question: str
    answers: tuple[str, ...]
    hours: int = 24


@dataclass(frozen=True)
class OutgoingMessage:
    """Neutral text (a Markdown subset) plus optional title, fields, buttons and an image.

    Text is never parsed for mentions: only ids in `ping_roles`/`ping_users` may notify anyone.
    """

    text: str
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    image_path: str | None = None
    file_path: str | None = None
    ping_roles: tuple[str, ...] = ()
    ping_users: tuple[str, ...] = ()
    poll: Poll | None = None
    # Channels the text names as "#name", with their ids: where the platform links a channel
    # (Discord and Slack write <#id>) the name becomes a link; elsewhere "#name" stays.
    channels: tuple[tuple[str, str], ...] = ()


def link_channels(
    text: str, channels: tuple[tuple[str, str], ...], mention: Callable[[str], str]
) -> str:
    """The text with each "#name" of `channels` written as the platform's mention of its id."""
    for name, channel_id in channels:
        # A whole name only: "#jobs" is not the start of "#jobs-and-internships".
        # re.sub reads a replacement string's backslashes; a mention is text, so escape it.
        linked = mention(channel_id).replace("\\", "\\\\")
        text = re.sub(rf"#{re.escape(name)}(?![\w-])", linked, text)
    return text


@dataclass(frozen=True)
class FormField:
    """One input of a form."""

    name: str
    label: str
    required: bool = True
    long: bool = False
    max_length: int = 200
    placeholder: str = ""
    default: str = ""


@dataclass(frozen=True)
class FormSpec:
    """A form (Discord modal, Slack modal, terminal prompt); `context` comes back on submit."""

    form_id: str
    title: str
    fields: tuple[FormField, ...]
    context: str = ""


class Visibility(StrEnum):
    """Who can see a channel."""

    EVERYONE = "everyone"
    STAFF = "staff"


class Posting(StrEnum):
    """Who can start posts in a channel."""

    MEMBERS = "members"
    STAFF = "staff"


@dataclass(frozen=True)
class ChannelSpec:
    """A channel the core wants to exist, with its description and permissions."""

    name: str
    topic: str
    section: str
    posting: Posting = Posting.MEMBERS
    visibility: Visibility = Visibility.EVERYONE
    listing: bool = False
    staff_role_id: str | None = None
    tags: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RoleSpec:
    """A role the core wants to exist."""

    name: str
    colour: int = 0
    mentionable: bool = False
