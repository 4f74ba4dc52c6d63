"""Cogs are features: decorated handlers for commands, events, buttons, forms and jobs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.commands import Option
from bot.domain import Group, Permission
from bot.events import Event

if TYPE_CHECKING:
    from bot.core import Bot

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class CommandMeta:
    """What @command records on a method."""

    path: tuple[str, ...]
    permission: Permission
    help_key: str
    options: tuple[Option, ...]
    default_of_group: bool


@dataclass(frozen=True)
class ButtonMeta:
    """What @button records: the action, who may press, and the type of the button's value."""

    action: str
    permission: Permission
    value: Callable[[str], Any]


@dataclass(frozen=True)
class JobMeta:
    """What @job records: a name and a function from (group, now) to the due period or None."""

    name: str
    period: Callable[[Any, Group, datetime], str | None]


def command(
    path: str,
    *,
    permission: Permission,
    help_key: str,
    options: tuple[Option, ...] = (),
    default_of_group: bool = False,
) -> Callable[[F], F]:
    """Declare a command handler `async def h(self, ctx, **options)`."""

    def mark(fn: F) -> F:
        meta = CommandMeta(tuple(path.split()), permission, help_key, options, default_of_group)
        fn.__dict__["_command"] = meta
        return fn

    return mark


def listen(event_type: type[Event]) -> Callable[[F], F]:
    """Declare a listener `async def h(self, ctx, event)` for an event type."""

    def mark(fn: F) -> F:
        fn.__dict__.setdefault("_listens", []).append(event_type)
        return fn

    return mark


def button(
    action: str,
    *,
    permission: Permission = Permission.MEMBER,
    value: Callable[[str], Any] = str,
) -> Callable[[F], F]:
    """Declare `async def h(self, ctx, event, value)` for presses of buttons of `action`.

    The core checks `permission` before the handler runs (failing closed, as for commands) and
    parses the button's value with `value` (`int`, or a function that raises ValueError); a
    value that does not parse is refused as a button that no longer works, so a forged press
    never reaches the handler.
    """

    def mark(fn: F) -> F:
        fn.__dict__["_button"] = ButtonMeta(action, permission, value)
        return fn

    return mark


def form(form_id: str, *, permission: Permission = Permission.MEMBER) -> Callable[[F], F]:
    """Declare `async def h(self, ctx, event)` for submissions of the form `form_id`; the core
    checks `permission` first (a form can be submitted long after it opened)."""

    def mark(fn: F) -> F:
        fn.__dict__["_form"] = (form_id, permission)
        return fn

    return mark


def job(name: str, period: Callable[[Any, Group, datetime], str | None]) -> Callable[[F], F]:
    """Declare a job `async def h(self, group, period)`; `period(self, group, now)` says which
    period is due now (or None), and the scheduler runs each period once."""

    def mark(fn: F) -> F:
        fn.__dict__["_job"] = JobMeta(name, period)
        return fn

    return mark


class Cog:
    """Base class of a feature; subclasses declare handlers with the decorators above."""

    name = "cog"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
