"""Who meets whom: students with mentors, never last round's partner, an odd one in a trio."""

from __future__ import annotations

import random

from bot.cogs.pairs.matching import make_pairs


def test_students_meet_alumni_or_industry_and_an_odd_one_joins_a_pair() -> None:
    roles = {
        "s1": frozenset({"student"}),
        "s2": frozenset({"student"}),
        "a1": frozenset({"alumni"}),
        "i1": frozenset({"industry"}),
        "x": frozenset(),
    }
    for seed in range(20):
        groups, out = make_pairs(list(roles), roles, set(), random.Random(seed))
        assert out == []
        assert sorted(u for g in groups for u in g) == sorted(roles)
        assert sorted(len(g) for g in groups) == [2, 3]
        for g in groups:
            students = [u for u in g if u.startswith("s")]
            assert len(students) == 1  # each student is with a mentor, not another student


def test_never_the_same_pair_twice_in_a_row() -> None:
    ids = ["a", "b", "c", "d"]
    previous = {frozenset(("a", "b")), frozenset(("c", "d"))}
    for seed in range(20):
        groups, out = make_pairs(ids, {}, previous, random.Random(seed))
        assert out == []
        assert not any(frozenset(g) in previous for g in groups)
    # Two members who met last round: nobody new to meet, so both sit out.
    groups, out = make_pairs(["a", "b"], {}, {frozenset(("a", "b"))}, random.Random(1))
    assert groups == [] and sorted(out) == ["a", "b"]
