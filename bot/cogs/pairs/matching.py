"""Who meets whom in a round, and when rounds fall: pure functions, no I/O."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date

from bot.cogs.pairs.records import Pair

# Students meet members holding one of these roles where they can.
MENTOR_ROLES = frozenset({"alumni", "industry"})


def round_monday(round_key: str) -> date:
    """The Monday of a round key like 2026-W34."""
    year, week = round_key.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def make_pairs(
    ids: Sequence[str],
    roles: dict[str, frozenset[str]],
    previous: set[frozenset[str]],
    rng: random.Random,
) -> tuple[list[tuple[str, ...]], list[str]]:
    """Pairs (and at most one three per odd member) and who sits out.

    Students meet alumni or industry where it can; nobody meets last round's partner again; an
    odd one out joins a pair. A member who can only be paired with last round's partner sits out.
    """
    order = list(ids)
    rng.shuffle(order)

    def ok(a: str, b: str) -> bool:
        return frozenset((a, b)) not in previous

    students = [u for u in order if "student" in roles.get(u, frozenset())]
    mentors = [u for u in order if roles.get(u, frozenset()) & MENTOR_ROLES and u not in students]
    pairs: list[list[str]] = []
    used: set[str] = set()
    for s in students:
        m = next((m for m in mentors if m not in used and ok(s, m)), None)
        if m is not None:
            pairs.append([s, m])
            used |= {s, m}
    pool = [u for u in order if u not in used]
    leftover: list[str] = []
    while pool:
        a = pool.pop(0)
        b = next((b for b in pool if ok(a, b)), None)
        if b is None:
            leftover.append(a)
            continue
        pool.remove(b)
        pairs.append([a, b])
    # Two left over who met last time: swap each into an existing pair.
    while len(leftover) >= 2:
        u, v = leftover[0], leftover[1]
        swap = next(
            (
                (p, x, y)
                for p in pairs
                if len(p) == 2
                for x, y in ((p[0], p[1]), (p[1], p[0]))
                if ok(u, x) and ok(v, y)
            ),
            None,
        )
        if swap is None:
            break
        host, x, y = swap
        pairs = [p for p in pairs if p is not host] + [[u, x], [v, y]]
        leftover = leftover[2:]
    # An odd one out joins a pair of two whose members they did not just meet.
    sitting_out: list[str] = []
    for u in leftover:
        trio = next((p for p in pairs if len(p) == 2 and all(ok(u, x) for x in p)), None)
        if trio is None:
            sitting_out.append(u)
        else:
            trio.append(u)
    return [tuple(p) for p in pairs], sitting_out


def previous_partners(pairs: Iterable[Pair]) -> set[frozenset[str]]:
    """Every two members who were together in these pairs."""
    out: set[frozenset[str]] = set()
    for p in pairs:
        for a in p.members:
            for b in p.members:
                if a != b:
                    out.add(frozenset((a, b)))
    return out
