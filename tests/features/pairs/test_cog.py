"""Coffee pairs through the local workspace: opt-in, rounds, follow-up and staff counts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.terminal import LocalResponder
from adapters.local.workspace import GROUP_ID
from bot.cogs.pairs.cog import PairsCog
from bot.events import ButtonPressed, UserRef
from tests.conftest import START, LocalGroup, make_group


async def _grant(group: LocalGroup, user: str, *roles: str) -> None:
    async with group.uow() as uow:
        for role in roles:
            await uow.roles.grant(GROUP_ID, user, role, "test", None, START)


async def _staff(group: LocalGroup) -> None:
    await group.run("!join tone")
    await _grant(group, "tone", "staff")


def _dms(group: LocalGroup, user: str) -> list[dict[str, object]]:
    return list(group.ws.state["dms"].get(user, []))


def _intros(group: LocalGroup, user: str) -> list[dict[str, object]]:
    return [m for m in _dms(group, user) if m["title"] == "Your coffee pair"]


async def test_a_round_introduces_a_student_to_an_alumna_by_dm(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        "!join lise",
        "!join kari kari@example.com",
        "!as kari",
        "/alumni profile",
        '!form headline="Knitwear designer" work="Designer at Holzweiler"',
    )
    await _grant(group, "lise", "student")
    await _grant(group, "kari", "alumni")
    joined = await group.run("/alumni pairs join", "!as lise", "/alumni pairs join")
    assert "You're in! Every 2 weeks, on a Monday" in joined
    assert "Tip: fill in `/alumni profile`" in joined  # lise has no profile yet
    # Monday 09:00: the round is at 10:00.
    assert _intros(group, "lise") == []
    await group.run("!clock +1h")
    [to_lise] = _intros(group, "lise")
    [to_kari] = _intros(group, "kari")
    assert "**kari**" in str(to_lise["text"]) and "Headline: Knitwear designer" in str(
        to_lise["text"]
    )
    assert "kari@example.com" not in str(to_lise["text"])
    assert "**lise**" in str(to_kari["text"]) and "(no profile yet)" in str(to_kari["text"])
    assert "To get you started:" in str(to_kari["text"])
    status = await group.run("/alumni pairs status")
    assert "Your latest pair (week 34): kari." in status


async def test_a_round_happens_once_across_ticks_restarts_and_retries(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    state = tmp_path / "ws.json"
    first = make_group(engine, path=state)
    await first.run("/alumni setup", "!join a", "!join b", "!join c")
    for user in ("a", "b", "c"):
        await first.run(f"!as {user}", "/alumni pairs join")
    await first.run("!clock +1h", "!clock +1h")
    assert len(_intros(first, "a")) == 1
    # A second process (a restart) on the same database and workspace state.
    second = make_group(engine, path=state)
    await second.run("!clock +1h")
    assert [len(_intros(second, u)) for u in ("a", "b", "c")] == [1, 1, 1]
    # The job itself run again for the same week (a retry after a crash) makes no new pairs.
    cog = second.bot.cog("pairs")
    assert isinstance(cog, PairsCog)
    await cog.run_round(await second.bot.group(GROUP_ID), "2026-W34")
    async with second.uow() as uow:
        pairs = await uow.pairs.for_group(GROUP_ID)
    assert len(pairs) == 1 and sorted(pairs[0].members) == ["a", "b", "c"]
    assert [len(_intros(second, u)) for u in ("a", "b", "c")] == [1, 1, 1]


async def test_rounds_follow_the_groups_interval_and_never_repeat_a_pair(
    group: LocalGroup,
) -> None:
    await _staff(group)
    await group.run("/alumni setup", "!join a", "!join b")
    denied = await group.run("!as a", "/alumni pairs every weeks:1")
    assert "Only staff" in denied
    assert "Coffee pairs now run every Monday." in await group.run(
        "!as tone", "/alumni pairs every weeks:1"
    )
    assert "between 1 and 8" in await group.run("/alumni pairs every weeks:0")
    await group.run("!as a", "/alumni pairs join", "!as b", "/alumni pairs join")
    await group.run("!clock +1h")
    assert len(_intros(group, "a")) == 1
    # Next week: a and b only have each other, and they just met.
    await group.run("!clock +7d")
    assert len(_intros(group, "a")) == 1
    assert any("nobody new for you to meet" in str(m["text"]) for m in _dms(group, "a"))
    # The week after, they may meet again.
    await group.run("!clock +7d")
    assert len(_intros(group, "a")) == 2


async def test_default_is_every_second_week(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join a", "!join b", "!join c", "!join d")
    for user in ("a", "b", "c", "d"):
        await group.run(f"!as {user}", "/alumni pairs join")
    await group.run("!clock +1h")
    await group.run("!clock +7d")
    assert len(_intros(group, "a")) == 1
    await group.run("!clock +7d")
    assert len(_intros(group, "a")) == 2


async def test_a_week_later_members_say_whether_they_met_and_staff_see_counts(
    group: LocalGroup,
) -> None:
    await _staff(group)
    await group.run("/alumni setup", "!join a", "!join b")
    await group.run("!as a", "/alumni pairs join", "!as b", "/alumni pairs join")
    await group.run("!clock +1h", "!clock +6d")
    assert not any("Did you meet" in str(m["text"]) for m in _dms(group, "a"))
    await group.run("!clock +1d")
    asked = [m for m in _dms(group, "a") if "Did you meet" in str(m["text"])]
    assert len(asked) == 1
    assert await group.run("!as a", "!press yes") != ""
    await group.run("!as b", "!press no")
    # Someone outside the pair can't answer for it.
    value = group.ws.cards("a")[0]["buttons"][0]["value"]
    start = len(group.lines)
    await group.bot.handle(
        ButtonPressed(
            GROUP_ID,
            UserRef("tone", "tone"),
            "pairs-met",
            value,
            responder=LocalResponder(group.ws, "tone", None),
        )
    )
    assert "That question was for someone else" in "\n".join(group.lines[start:])
    stats = await group.run("!as tone", "/alumni pairs stats")
    assert "- week 34: 1 pair, 2 people; 1 pair met. Answers: 1 yes, 1 no, 0 no answer" in stats
    assert "Only staff" in await group.run("!as a", "/alumni pairs stats")
    # The question is asked once, however many days pass.
    await group.run("!clock +1d")
    assert len([m for m in _dms(group, "a") if "Did you meet" in str(m["text"])]) == 1


async def test_join_leave_status_and_members_who_left(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join a", "!join b", "!join c")
    out = await group.run("!as a", "/alumni pairs join", "/alumni pairs join")
    assert "You are already in coffee pairs" in out
    assert "not in coffee pairs (1 member is)" in await group.run("!as b", "/alumni pairs status")
    await group.run("/alumni pairs join", "!as c", "/alumni pairs join", "/alumni pairs leave")
    assert "You weren't in coffee pairs" in await group.run("/alumni pairs leave")
    await group.run("!leave b", "!clock +1h")
    # c left the pairs and b left the group: a has nobody to meet.
    assert _intros(group, "a") == [] and _intros(group, "b") == [] and _intros(group, "c") == []
