"""A member's home: their roles, their level, what features tell them, what they can run."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Permission


@dataclass(frozen=True)
class Usage:
    """One command the member may run and the catalogue key of its help line."""

    usage: str
    help_key: str


@dataclass(frozen=True)
class Home:
    """What a member's home shows, in their group's language once drawn."""

    roles: tuple[str, ...]
    level: Permission
    notes: tuple[str, ...] = ()
    commands: tuple[Usage, ...] = ()
