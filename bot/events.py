"""Frozen event and reference types that adapters produce and the core consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.ports import Responder


@dataclass(frozen=True)
class UserRef:
    """A member as the platform names them."""

    id: str
    name: str = ""
    is_admin: bool = False
    is_bot: bool = False


@dataclass(frozen=True)
class ChannelRef:
    """A channel (or thread) on the platform."""

    id: str
    name: str = ""


@dataclass(frozen=True)
class MessageRef:
    """A message the platform stored; thread_id is set when it lives in a thread."""

    channel_id: str
    id: str
    thread_id: str | None = None


@dataclass(frozen=True)
class Event:
    """Base of everything an adapter hands to the core."""

    group_id: str


@dataclass(frozen=True)
class MemberJoined(Event):
    """A member joined the group (on Discord: once membership screening passed)."""

    user: UserRef
    email: str | None = None
    event_key: str = ""
    # The platform only says the account is active again (Slack: `user_change` with
    # `deleted: false`): a return for a member recorded as gone, nothing for anyone else.
    returning: bool = False


@dataclass(frozen=True)
class MemberLeft(Event):
    """A member left the group."""

    user: UserRef


@dataclass(frozen=True)
class MessagePosted(Event):
    """A message appeared in a channel; thread_id is set for replies in a thread."""

    user: UserRef
    channel: ChannelRef
    message: MessageRef
    text: str = ""
    thread_id: str | None = None


@dataclass(frozen=True)
class CommandInvoked(Event):
    """A member ran `/alumni <words> name:value ...`."""

    user: UserRef
    channel: ChannelRef | None
    words: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict, hash=False)
    responder: Responder | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class ButtonPressed(Event):
    """A member pressed a button the bot sent; action routes it, value carries state."""

    user: UserRef
    action: str
    value: str = ""
    channel: ChannelRef | None = None
    message: MessageRef | None = None
    responder: Responder | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class FormSubmitted(Event):
    """A member submitted a form (modal) the bot opened."""

    user: UserRef
    form_id: str
    values: dict[str, str] = field(default_factory=dict, hash=False)
    context: str = ""
    responder: Responder | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class HomeOpened(Event):
    """A member opened their own page (Slack's App Home tab); the answer is drawn there."""

    user: UserRef
    responder: Responder | None = field(default=None, compare=False, hash=False)
