"""PairsService: each use case and its refusals, on the in-memory unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from adapters.local.terminal import LocalResponder
from bot.cogs.pairs import views
from bot.cogs.pairs.records import Answer
from bot.cogs.pairs.service import LAST_ROUND_KEY, PairsService
from bot.cogs.pairs.settings import PairsSettings
from bot.cogs.profiles.service import ProfilesService
from bot.domain import Actor, Permission
from bot.errors import UserError
from bot.events import ButtonPressed, UserRef
from tests.features.helpers import INGRID, OLA, World, world
from tests.features.people import join

KARI = Actor("kari", "Kari", Permission.MEMBER)
INGRID_EMAIL = "ingrid.dahl@example.com"
# START is Monday 17 August 2026 09:00 in Oslo: the week's round is due at 10:00.
ROUND = "2026-W34"


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group: Ingrid (alumna, with her email and a profile), Ola (student), Kari."""
    async with world() as it:
        await join(it, INGRID, INGRID_EMAIL, "alumni")
        await join(it, OLA, None, "student")
        await join(it, KARI)
        profiles = it.bot.service(ProfilesService)
        await profiles.save(it.group, INGRID, {"headline": "Knitwear designer"})
        yield it


def _svc(w: World) -> PairsService:
    return w.bot.service(PairsService)


async def _refused(call: object) -> UserError:
    with pytest.raises(UserError) as refused:
        await call  # type: ignore[misc]
    return refused.value


def _dms(w: World, user_id: str, title: str | None = None) -> list[dict[str, object]]:
    return [m for m in w.ws.state["dms"].get(user_id, []) if title is None or m["title"] == title]


def _intros(w: World, user_id: str) -> list[dict[str, object]]:
    return _dms(w, user_id, "Your coffee pair")


async def test_join_once_with_a_profile_tip_and_leave_once(w: World) -> None:
    svc = _svc(w)
    joined = await svc.join(w.group, OLA)
    assert (joined.weeks, joined.has_profile) == (2, False)
    assert (await svc.join(w.group, INGRID)).has_profile
    assert (await _refused(svc.join(w.group, OLA))).key == "pairs.already_in"
    assert await svc.leave(w.group, OLA) is True
    assert await svc.leave(w.group, OLA) is False


async def test_status_counts_members_and_names_the_latest_pair(w: World) -> None:
    svc = _svc(w)
    out = await svc.status(w.group, OLA)
    assert (out.opted_in, out.count, out.last_round) == (False, 0, None)
    await svc.join(w.group, OLA)
    await svc.join(w.group, INGRID)
    await svc.run_round(w.group, ROUND)
    status = await svc.status(w.group, OLA)
    assert (status.opted_in, status.count, status.weeks) == (True, 2, 2)
    assert (status.last_round, status.last_with) == (ROUND, ("Ingrid",))
    text = views.status(w.group.language, status).text
    assert "Your latest pair (week 34): Ingrid." in text


async def test_the_interval_is_a_typed_setting_under_its_namespace(w: World) -> None:
    svc = _svc(w)
    assert PairsSettings.of(w.group).every_weeks == 2
    assert await svc.set_interval(w.group, 3) == PairsSettings(every_weeks=3)
    fresh = await w.fresh()
    assert (
        fresh.settings["pairs"] == {"every_weeks": 3} and "pairs_every_weeks" not in fresh.settings
    )
    assert (await svc.join(fresh, OLA)).weeks == 3
    for weeks in (0, 9, -1):
        refused = await _refused(svc.set_interval(fresh, weeks))
        assert refused.key == "core.option_out_of_range", weeks
    assert PairsSettings.of(await w.fresh()).every_weeks == 3


async def test_a_round_introduces_a_student_to_an_alumna_without_her_email(w: World) -> None:
    svc = _svc(w)
    await svc.join(w.group, OLA)
    await svc.join(w.group, INGRID)
    result = await svc.run_round(w.group, ROUND)
    [pair] = result.pairs
    assert sorted(pair.members) == ["ingrid", "ola"] and result.sitting_out == ()
    [to_ola] = _intros(w, OLA.id)
    [to_ingrid] = _intros(w, INGRID.id)
    assert "**Ingrid**" in str(to_ola["text"]) and "Headline: Knitwear designer" in str(
        to_ola["text"]
    )
    assert INGRID_EMAIL not in str(to_ola["text"])
    assert "**Ola**" in str(to_ingrid["text"]) and "(no profile yet)" in str(to_ingrid["text"])
    # Each introduction names the other member: erasing them reaches it.
    async with w.uow() as uow:
        naming_ingrid = await uow.privacy.named_messages(w.group.id, INGRID.id)
        naming_ola = await uow.privacy.named_messages(w.group.id, OLA.id)
    assert [m.ref.id for m in naming_ingrid] == [to_ola["id"]]
    assert [m.ref.id for m in naming_ola] == [to_ingrid["id"]]


async def test_a_round_happens_once_however_often_it_runs(w: World) -> None:
    svc = _svc(w)
    for actor in (OLA, INGRID, KARI):
        await svc.join(w.group, actor)
    first = await svc.run_round(w.group, ROUND)
    again = await svc.run_round(w.group, ROUND)
    assert [p.id for p in again.pairs] == [p.id for p in first.pairs]
    assert sorted(u for p in first.pairs for u in p.members) == ["ingrid", "kari", "ola"]
    assert [len(_intros(w, u)) for u in ("ola", "ingrid", "kari")] == [1, 1, 1]


async def test_rounds_follow_the_interval_and_never_repeat_last_rounds_pair(w: World) -> None:
    svc = _svc(w)
    await svc.set_interval(w.group, 1)
    group = await w.fresh()
    await svc.join(group, OLA)
    await svc.join(group, KARI)
    assert len((await svc.run_round(group, ROUND)).pairs) == 1
    # Next week they only have each other, and they just met: both sit out, told so.
    sat = await svc.run_round(group, "2026-W35")
    assert sat.pairs == () and sorted(sat.sitting_out) == ["kari", "ola"]
    assert any("nobody new for you to meet" in str(m["text"]) for m in _dms(w, OLA.id))
    assert len((await svc.run_round(group, "2026-W36")).pairs) == 1
    # Every second week (the default): the week after a round has none.
    await svc.set_interval(group, 2)
    assert (await svc.run_round(await w.fresh(), "2026-W37")).pairs == ()


async def test_nobody_to_pair_is_tried_again_next_week(w: World) -> None:
    svc = _svc(w)
    await svc.join(w.group, OLA)
    assert (await svc.run_round(w.group, ROUND)).pairs == ()
    async with w.uow() as uow:
        assert await uow.kv.get(w.group.id, LAST_ROUND_KEY) is None
    await svc.join(w.group, KARI)
    assert len((await svc.run_round(w.group, "2026-W35")).pairs) == 1


async def test_the_follow_up_asks_each_pair_once_a_week_later(w: World) -> None:
    svc = _svc(w)
    await svc.join(w.group, OLA)
    await svc.join(w.group, KARI)
    await svc.run_round(w.group, ROUND)
    assert await svc.follow_up(w.group, date(2026, 8, 23)) == 0
    assert await svc.follow_up(w.group, date(2026, 8, 24)) == 1
    assert await svc.follow_up(w.group, date(2026, 8, 25)) == 0
    [asked] = [m for m in _dms(w, OLA.id) if "Did you meet" in str(m["text"])]
    assert [b["label"] for b in asked["buttons"]] == ["Yes", "No"]  # type: ignore[attr-defined]


async def test_an_answer_counts_only_from_a_member_of_that_pair(w: World) -> None:
    svc = _svc(w)
    await svc.join(w.group, OLA)
    await svc.join(w.group, KARI)
    [pair] = (await svc.run_round(w.group, ROUND)).pairs
    # Someone outside the pair, a forged id, and a pair of another group: all refused.
    assert (await _refused(svc.answer(w.group, INGRID, pair.id, Answer.YES))).key == (
        "pairs.not_yours"
    )
    assert (await _refused(svc.answer(w.group, OLA, 9999, Answer.YES))).key == "pairs.not_yours"
    async with w.uow() as uow:
        [elsewhere] = await uow.pairs.add_round(
            "other-group", ROUND, [("ola", "x")], pair.created_at
        )
    refused = await _refused(svc.answer(w.group, OLA, elsewhere.id, Answer.YES))
    assert refused.key == "pairs.not_yours"
    # Their own answers count, and pressing again changes one.
    await svc.answer(w.group, OLA, pair.id, Answer.NO)
    await svc.answer(w.group, KARI, pair.id, Answer.NO)
    changed = await svc.answer(w.group, OLA, pair.id, Answer.YES)
    assert changed.answers == {"ola": "yes", "kari": "no"}
    [stats] = (await svc.stats(w.group)).rounds
    assert (stats.pairs, stats.people, stats.met, stats.yes, stats.no, stats.silent) == (
        1,
        2,
        1,
        1,
        1,
        0,
    )


async def test_stats_before_the_first_round_are_refused_and_show_the_last_eight(
    w: World,
) -> None:
    svc = _svc(w)
    await svc.join(w.group, OLA)
    none = await _refused(svc.stats(w.group))
    assert (none.key, none.params) == ("pairs.stats_none", {"count": 1})
    await svc.set_interval(w.group, 1)
    group = await w.fresh()
    per = Actor("per", "Per", Permission.MEMBER)
    await join(w, per)
    for actor in (INGRID, KARI, per):
        await svc.join(group, actor)
    for week in range(34, 44):
        await svc.run_round(group, f"2026-W{week}")
    stats = await svc.stats(group)
    assert stats.opted_in == 4
    assert [r.round for r in stats.rounds] == [f"2026-W{week}" for week in range(36, 44)]
    assert all((r.pairs, r.people, r.silent) == (2, 4, 4) for r in stats.rounds)


def test_a_met_button_declares_its_value_and_a_forged_one_does_not_parse() -> None:
    assert views.parse_met("12:yes") == (12, Answer.YES)
    assert views.parse_met("7:no") == (7, Answer.NO)
    for forged in ("", "12", "12:maybe", "x:yes", "-1:yes", "1.5:no", ":yes", "12:YES"):
        with pytest.raises(ValueError):
            views.parse_met(forged)


async def test_a_forged_met_button_no_longer_works_and_changes_nothing(w: World) -> None:
    svc = _svc(w)
    await svc.join(w.group, OLA)
    await svc.join(w.group, KARI)
    [pair] = (await svc.run_round(w.group, ROUND)).pairs
    start = len(w.seen)
    await w.bot.handle(
        ButtonPressed(
            w.group.id,
            UserRef(OLA.id, OLA.name),
            views.MET_ACTION,
            f"{pair.id}:maybe",
            responder=LocalResponder(w.ws, OLA.id, None),
        )
    )
    assert "no longer works" in "\n".join(w.seen[start:])
    async with w.uow() as uow:
        stored = await uow.pairs.get(pair.id)
    assert stored is not None and stored.answers == {}


async def test_the_staff_use_cases_are_staff_commands(w: World) -> None:
    # The service trusts its caller for staff use cases; the core checks the declared level.
    tree = {" ".join(c.path): c.permission for c in w.bot.tree.all()}
    assert tree["pairs every"] is Permission.STAFF and tree["pairs stats"] is Permission.STAFF
    assert tree["pairs join"] is Permission.MEMBER
