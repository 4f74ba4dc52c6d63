"""What setup and the category commands return."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Category


@dataclass(frozen=True)
class SetupReport:
    """What a setup run did, item by item ("#jobs", "@staff")."""

    created: tuple[str, ...] = ()
    found: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Renamed:
    """A category and its channel renamed: the name before and the category now."""

    old_name: str
    category: Category


@dataclass(frozen=True)
class Translation:
    """One of the bot's names moving into the group's language: "#welcome" -> "#velkommen"
    (the same on both sides when only the description changes)."""

    old: str
    new: str
    described: bool = False


@dataclass(frozen=True)
class TranslatePlan:
    """What `/alumni translate` renames (or renamed) and the names staff chose, kept."""

    renamed: tuple[Translation, ...] = ()
    kept: tuple[str, ...] = ()
