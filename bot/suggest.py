"""Values a platform suggests while a member types an option (Discord's autocomplete)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from bot.ports import UnitOfWork

# (what the member reads, the value the command receives)
Suggestion = tuple[str, str]
Source = Callable[[UnitOfWork, str], Awaitable[list[Suggestion]]]
# Discord: "autocomplete choices (max of 25 choices)", each name and value 1-100 characters
# (receiving-and-responding.mdx, Autocomplete; application-commands.mdx, Option Choice).
MAX_SUGGESTIONS = 25
MAX_LENGTH = 100


async def cohorts(uow: UnitOfWork, group_id: str) -> list[Suggestion]:
    """The group's cohorts by name, newest first (the one being invited is usually new);
    archived ones are out of the lists, so out of the suggestions too."""
    found = await uow.cohorts.for_group(group_id)
    return [(c.name, c.name) for c in reversed(found) if c.archived_at is None]


async def categories(uow: UnitOfWork, group_id: str) -> list[Suggestion]:
    """The categories in use, by name; the command receives the key it looks them up by."""
    return [(c.name, c.key) for c in await uow.categories.for_group(group_id)]


async def roles(uow: UnitOfWork, group_id: str) -> list[Suggestion]:
    """The group's roles by the name members see (a cohort's role too)."""
    return [(r.name, r.name) for r in await uow.roles.for_group(group_id)]


SOURCES: dict[str, Source] = {"cohort": cohorts, "category": categories, "role": roles}


def pick(found: Iterable[Suggestion], typed: str) -> list[Suggestion]:
    """Those that contain what was typed, the ones that start with it first; at most 25."""
    wanted = typed.strip().lstrip("#@").casefold()
    starts: list[Suggestion] = []
    contains: list[Suggestion] = []
    seen: set[str] = set()
    for label, value in found:
        if value in seen or not (0 < len(label) <= MAX_LENGTH and 0 < len(value) <= MAX_LENGTH):
            continue
        seen.add(value)
        text = label.casefold()
        if text.startswith(wanted) or value.casefold().startswith(wanted):
            starts.append((label, value))
        elif wanted in text:
            contains.append((label, value))
    return (starts + contains)[:MAX_SUGGESTIONS]
