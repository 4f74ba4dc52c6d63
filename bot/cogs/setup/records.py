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
