"""PromptsService: each use case and its refusals, on the in-memory unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.activity import Pending
from bot.cogs.prompts.bank import load_bank
from bot.cogs.prompts.plan import due_period
from bot.cogs.prompts.records import AskedThisWeek, Prompt, PromptStatus
from bot.cogs.prompts.service import LOW_ALERT_KEY, PromptsService
from bot.cogs.prompts.settings import PromptsSettings
from bot.domain import Actor, Group, Language, Member, Permission
from bot.errors import PermissionDenied, PlatformError, UserError
from bot.events import ButtonPressed, MessageRef, UserRef
from tests.conftest import START
from tests.features.helpers import INGRID, OLA, STAFF, World, world
from tests.test_core import Replies

TITLE = "Question of the week"


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group of its own."""
    async with world() as it:
        yield it


def _svc(w: World) -> PromptsService:
    return w.bot.service(PromptsService)


def _questions(w: World) -> list[dict[str, Any]]:
    return [m for m in w.channel("discussion") if m["title"] == TITLE]


def _thread(w: World, msg: dict[str, Any]) -> list[dict[str, Any]]:
    return list(w.ws.state["threads"][str(msg["thread"])]["messages"])


async def _suggested(w: World, text: str = "Should graduation shows be open to all?") -> Prompt:
    return await _svc(w).suggest(w.group, INGRID, text)


# -- posting: reserve, send, confirm --------------------------------------------------------


async def test_a_period_gets_one_question_with_a_thread_and_a_ping(w: World) -> None:
    svc = _svc(w)
    first = await svc.post(w.group, "2026-W34")
    again = await svc.post(w.group, "2026-W34")
    assert first is not None and again is None
    (msg,) = _questions(w)
    assert msg["text"].splitlines()[0] == first.text
    role = next(k for k, r in w.ws.state["roles"].items() if r["name"] == "discussion")
    assert msg["ping_roles"] == [role] and msg["thread"] is not None
    async with w.uow() as uow:
        (run,) = await uow.prompts.runs(w.group.id)
        posted = await uow.prompts.get(w.group.id, first.id)
    assert (run.message_id, run.thread_id) == (msg["id"], msg["thread"])
    assert posted is not None and posted.status is PromptStatus.POSTED


async def test_a_refused_send_frees_the_period_for_the_next_try(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _svc(w)

    async def refuse(*args: object, **kwargs: object) -> MessageRef:
        raise PlatformError("missing access", missing_permission="send_messages")

    monkeypatch.setattr(w.ws, "send", refuse)
    with pytest.raises(PlatformError):
        await svc.post(w.group, "2026-W34")
    async with w.uow() as uow:
        assert await uow.prompts.runs(w.group.id) == []
    monkeypatch.undo()
    assert await svc.post(w.group, "2026-W34") is not None
    assert len(_questions(w)) == 1


async def test_a_thread_that_cannot_open_still_records_the_question(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object) -> str:
        raise PlatformError("threads are off")

    monkeypatch.setattr(w.ws, "open_thread", refuse)
    prompt = await _svc(w).post(w.group, "2026-W34")
    assert prompt is not None
    async with w.uow() as uow:
        (run,) = await uow.prompts.runs(w.group.id)
    assert run.message_id == _questions(w)[0]["id"] and run.thread_id is None


async def test_a_late_question_takes_the_place_of_the_next_slot(w: World) -> None:
    svc = _svc(w)
    assert await svc.weekly(w.group, "2026-W34") is not None
    w.later(days=2)  # Wednesday: the bot came back and posted late; Monday's is too close
    assert await svc.weekly(w.group, "2026-W35") is None
    w.later(days=1, hours=1)
    assert await svc.weekly(w.group, "2026-W35") is not None
    assert len(_questions(w)) == 2


async def test_post_now_has_a_period_of_its_own(
    w: World,
) -> None:
    svc = _svc(w)
    await svc.post(w.group, "2026-W34")
    # The week had its question: staff are asked first, and nothing is posted.
    asked = await svc.post_now(w.group)
    assert isinstance(asked, AskedThisWeek) and asked.count == 1 and asked.last is not None
    assert len(_questions(w)) == 1
    now = await svc.post_now(w.group, confirmed=1)
    assert isinstance(now, Prompt) and len(_questions(w)) == 2
    async with w.uow() as uow:
        periods = [r.period for r in await uow.prompts.runs(w.group.id)]
    assert periods == ["2026-W34", "now-2026-W34-2"]
    assert now.text in _questions(w)[1]["text"]
    # A confirmation of a count that is out of date (a second staff member, a double click)
    # asks again rather than posting a third question.
    again = await svc.post_now(w.group, confirmed=1)
    assert isinstance(again, AskedThisWeek) and again.count == 2
    assert len(_questions(w)) == 2


async def test_post_now_with_an_empty_queue_is_refused(w: World) -> None:
    svc = _svc(w)
    svc.bank = ()
    with pytest.raises(UserError) as refused:
        await svc.post_now(w.group)
    assert refused.value.key == "prompts.nothing_posted"
    assert _questions(w) == []


async def test_without_a_discussion_channel_nothing_is_posted(w: World) -> None:
    async with w.uow() as uow:
        category = await uow.categories.get(w.group.id, "discussion")
        assert category is not None
        await uow.categories.save(replace(category, channel_id=None))
    assert await _svc(w).post(w.group, "2026-W34") is None
    with pytest.raises(UserError) as refused:
        await _svc(w).post_now(w.group)
    assert refused.value.key == "prompts.nothing_posted"


async def test_staff_are_alerted_once_and_again_only_after_a_refill(w: World) -> None:
    svc = _svc(w)
    bank = load_bank()
    svc.bank = tuple(next(q for q in bank if q.theme == t) for t in ("making", "studying"))
    await svc.post_now(w.group)

    def alerts() -> list[str]:
        return [
            str(m["text"])
            for m in w.channel("staff-review")
            if " left in the queue" in str(m["text"])
        ]

    assert alerts() == [
        "Only 1 discussion question is left in the queue. Add some with"
        " `/alumni prompt add`, or accept members' suggestions."
    ]
    w.later(days=7)  # a question of its own week, asked without a confirmation
    await svc.post_now(w.group)
    assert len(alerts()) == 1
    for i in range(3):
        await svc.add(w.group, STAFF, f"Career question {i}?", "careers")
    async with w.uow() as uow:
        assert await uow.kv.get(w.group.id, LOW_ALERT_KEY) == "0"
    w.later(days=7)
    await svc.post_now(w.group)
    assert len(alerts()) == 2


async def test_an_alert_the_platform_refuses_is_tried_again(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _svc(w)
    svc.bank = ()
    review = w.ws.channel_by_name("staff-review")
    send = w.ws.send

    async def refuse_review(group_id: str, channel_id: str, *args: Any, **kw: Any) -> MessageRef:
        if channel_id == review:
            raise PlatformError("missing access")
        return await send(group_id, channel_id, *args, **kw)

    monkeypatch.setattr(w.ws, "send", refuse_review)
    assert await svc.post(w.group, "2026-W34") is None
    async with w.uow() as uow:
        assert await uow.kv.get(w.group.id, LOW_ALERT_KEY) == "0"
    monkeypatch.undo()
    assert await svc.post(w.group, "2026-W35") is None
    assert any("0 discussion questions" in str(m["text"]) for m in w.channel("staff-review"))


# -- recap ----------------------------------------------------------------------------------


async def test_the_recap_counts_the_thread_by_role_once_a_week_later(w: World) -> None:
    svc = _svc(w)
    prompt = await svc.post(w.group, "2026-W34")
    assert prompt is not None
    (msg,) = _questions(w)
    async with w.uow() as uow:
        await uow.roles.grant(w.group.id, "kari", "student", "test", None, START)
        await uow.activity.add_many(
            [
                Pending(w.group.id, "kari", "C", str(msg["thread"]), True, START),
                Pending(w.group.id, "kari", "C", str(msg["thread"]), True, START),
                Pending(w.group.id, "ola", "C", str(msg["thread"]), True, START),
                Pending(w.group.id, "ola", "C", None, False, START),  # not in the thread
            ]
        )
    assert await svc.recaps(w.group) == []  # not a week old yet
    w.later(days=7)
    (done,) = await svc.recaps(w.group)
    assert done.counts == {"student": 2, "member": 1} and done.total == 3
    assert await svc.recaps(w.group) == []
    (recap,) = [m for m in _thread(w, msg) if m["author"] == "alumnibot"]
    assert recap["text"].startswith("A week of answers: 3 replies to the question of week 34.")
    numbers = w.channel("staff-review")[-1]
    assert numbers["title"] == "Discussion question of week 34"
    assert ["students", "2 (67%)"] in numbers["fields"]
    async with w.uow() as uow:
        scored = await uow.prompts.get(w.group.id, prompt.id)
    assert scored is not None and scored.score == 3


async def test_a_recap_the_platform_refuses_is_sent_at_the_next_try(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _svc(w)
    await svc.post(w.group, "2026-W34")
    w.later(days=7)

    async def refuse(*args: object, **kwargs: object) -> MessageRef:
        raise PlatformError("thread archived")

    monkeypatch.setattr(w.ws, "send", refuse)
    with pytest.raises(PlatformError):
        await svc.recaps(w.group)
    monkeypatch.undo()
    assert len(await svc.recaps(w.group)) == 1


# -- suggestions ----------------------------------------------------------------------------


async def test_a_suggestion_waits_for_staff_and_names_its_suggester_until_erased(
    w: World,
) -> None:
    prompt = await _suggested(w)
    assert prompt.status is PromptStatus.SUGGESTED and prompt.suggested_by == "ingrid"
    review = w.channel("staff-review")[-1]
    assert review["title"] == "Question suggested by Ingrid"
    assert [(b["label"], b["action"], b["value"]) for b in review["buttons"]] == [
        ("Accept", "prompts.accept", str(prompt.id)),
        ("Reject", "prompts.reject", str(prompt.id)),
    ]
    async with w.uow() as uow:
        (named,) = await uow.privacy.named_messages(w.group.id, "ingrid")
    assert named.ref.id == review["id"] and named.replacement is not None
    assert named.replacement["title"] == "Question suggested by another member"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "prompts.empty"),
        ("   \n ", "prompts.empty"),
        ("x" * 301, "prompts.too_long"),
        (load_bank()[0].en.upper(), "prompts.duplicate"),
    ],
)
async def test_bad_suggestions_are_refused_and_nothing_is_stored(
    w: World, text: str, key: str
) -> None:
    with pytest.raises(UserError) as refused:
        await _svc(w).suggest(w.group, INGRID, text)
    assert refused.value.key == key
    async with w.uow() as uow:
        assert await uow.prompts.for_group(w.group.id) == []
    assert w.channel("staff-review") == []


async def test_a_duplicate_names_the_question_there_and_where_it_is(w: World) -> None:
    await _suggested(w, "Is fast fashion ever OK?")
    with pytest.raises(UserError) as refused:
        await _svc(w).suggest(w.group, OLA, "is FAST   fashion ever ok")
    assert refused.value.params == {
        "text": "Is fast fashion ever OK?",
        "status": "suggested, waiting for staff",
    }


async def test_a_suggestion_cannot_ping(w: World) -> None:
    prompt = await _suggested(w, "Should shows be open to @everyone?")
    assert "@everyone" not in prompt.text
    assert "@everyone" not in str(w.channel("staff-review")[-1]["text"])


async def test_without_a_review_channel_a_suggestion_is_refused(w: World) -> None:
    async with w.uow() as uow:
        review = await uow.categories.get(w.group.id, "review")
        assert review is not None
        await uow.categories.save(replace(review, channel_id=None))
    with pytest.raises(UserError) as refused:
        await _suggested(w)
    assert refused.value.key == "prompts.not_set_up"


# -- decisions ------------------------------------------------------------------------------


async def test_a_member_cannot_accept_a_suggestion_not_even_their_own(w: World) -> None:
    prompt = await _suggested(w)
    for who in (INGRID, OLA):
        with pytest.raises(PermissionDenied) as refused:
            await _svc(w).accept(w.group, who, prompt.id)
        assert refused.value.key == "prompts.decide_denied"
    async with w.uow() as uow:
        stored = await uow.prompts.get(w.group.id, prompt.id)
    assert stored is not None and stored.status is PromptStatus.SUGGESTED


async def test_staff_accept_once_the_post_names_them_and_the_suggester_hears(w: World) -> None:
    svc = _svc(w)
    async with w.uow() as uow:
        await uow.members.save(Member(w.group.id, "ingrid", "Ingrid Berg"))
    prompt = await _suggested(w)
    review = w.channel("staff-review")[-1]
    ref = MessageRef(str(w.ws.channel_by_name("staff-review")), str(review["id"]))
    decision = await svc.accept(w.group, STAFF, prompt.id, ref)
    assert (decision.status, decision.by) == (PromptStatus.ACCEPTED, "owner")
    edited = w.channel("staff-review")[-1]
    assert edited["text"].endswith("Accepted by owner: the question joins the queue.")
    assert edited["buttons"] == []
    (dm,) = w.ws.state["dms"]["ingrid"]
    assert dm["text"].startswith("Your question was accepted")
    for again in (svc.accept, svc.reject):
        with pytest.raises(UserError) as refused:
            await again(w.group, STAFF, prompt.id, ref)
        assert refused.value.key == "prompts.already_decided"
        assert refused.value.params["status"] == "in the queue"
    # Accepted questions go before the bank's.
    assert await svc.post(w.group, "2026-W34") == decision.prompt
    posted = _questions(w)[-1]
    # Credited as the group knows them now, not as they were called when suggesting.
    assert "Suggested by Ingrid Berg." in posted["text"] and posted["ping_users"] == ["ingrid"]


async def test_a_rejected_suggestion_is_never_posted(w: World) -> None:
    svc = _svc(w)
    prompt = await _suggested(w, "What is the best colour?")
    await svc.reject(w.group, STAFF, prompt.id)
    assert w.ws.state["dms"]["ingrid"][-1]["text"].startswith("Staff decided not to use")
    for week in range(34, 40):
        await svc.post(w.group, f"2026-W{week}")
    assert all("best colour" not in m["text"] for m in _questions(w))


async def test_a_forged_prompt_id_is_refused(w: World) -> None:
    svc = _svc(w)
    with pytest.raises(UserError) as unknown:
        await svc.accept(w.group, STAFF, 999)
    assert unknown.value.key == "core.button_unknown"
    # A suggestion of another group cannot be decided from this one.
    async with w.uow() as uow:
        await uow.groups.add(Group("other", "local", Language.EN, "Europe/Oslo", {}, START))
        theirs = await uow.prompts.add(
            Prompt(0, "other", "open", "Theirs?", PromptStatus.SUGGESTED, START)
        )
    with pytest.raises(UserError) as foreign:
        await svc.accept(w.group, STAFF, theirs.id)
    assert foreign.value.key == "core.button_unknown"
    async with w.uow() as uow:
        stored = await uow.prompts.get("other", theirs.id)
    assert stored is not None and stored.status is PromptStatus.SUGGESTED


async def test_the_buttons_are_staff_only_and_take_only_a_number(w: World) -> None:
    prompt = await _suggested(w)
    said = Replies()
    member = UserRef("ingrid", "Ingrid")
    owner = UserRef("owner", "owner", is_admin=True)
    gid = w.group.id
    await w.bot.handle(ButtonPressed(gid, member, "prompts.accept", str(prompt.id), responder=said))
    await w.bot.handle(ButtonPressed(gid, owner, "prompts.accept", "1 or 1=1", responder=said))
    await w.bot.handle(ButtonPressed(gid, owner, "prompts.reject", str(prompt.id), responder=said))
    assert said.said == [
        "Only staff can use this button. Nothing was changed.",
        "That button no longer works. Run the command again.",
        "Rejected by owner.",
    ]


# -- staff's questions ------------------------------------------------------------------------


async def test_staff_add_a_question_with_poll_answers(w: World) -> None:
    svc = _svc(w)
    prompt = await svc.add(w.group, STAFF, "Should we boycott fur?", "industry", "Yes|No| ")
    assert (prompt.status, prompt.theme, prompt.decided_by) == (
        PromptStatus.ACCEPTED,
        "industry",
        "owner",
    )
    await svc.post_now(w.group)
    assert _questions(w)[-1]["text"].splitlines()[:3] == ["Should we boycott fur?", "- Yes", "- No"]


@pytest.mark.parametrize(
    ("theme", "options", "key"),
    [
        ("open", "Yes", "prompts.options_invalid"),
        ("open", "|", "prompts.options_invalid"),
        ("open", "|".join(str(i) for i in range(11)), "prompts.options_invalid"),
        ("fashion", "", "prompts.theme_invalid"),
    ],
)
async def test_bad_questions_from_staff_are_refused(
    w: World, theme: str, options: str, key: str
) -> None:
    with pytest.raises(UserError) as refused:
        await _svc(w).add(w.group, STAFF, "One answer?", theme, options)
    assert refused.value.key == key
    async with w.uow() as uow:
        assert await uow.prompts.for_group(w.group.id) == []


async def test_an_unknown_theme_is_named_with_the_themes_in_norwegian(w: World) -> None:
    nb = replace(w.group, language=Language.NB)
    with pytest.raises(UserError) as refused:
        await _svc(w).add(nb, STAFF, "Et spørsmål?", "mote")
    assert refused.value.params["themes"].endswith("gruppen og åpent")


async def test_the_overview_lists_staff_questions_first_then_suggestions(w: World) -> None:
    svc = _svc(w)
    mine = await svc.add(w.group, STAFF, "Staff question?")
    waiting = await _suggested(w)
    ov = await svc.overview(w.group)
    assert ov.queue[0] == mine and len(ov.queue) == 5  # the bank tops the queue up to five
    assert ov.pending == (waiting,) and ov.posted == 0
    assert ov.slot.next == dt.datetime(2026, 8, 17, 8, 0, tzinfo=dt.UTC)


# -- schedule ---------------------------------------------------------------------------------


async def test_schedule_changes_are_saved_and_start_from_now(w: World) -> None:
    svc = _svc(w)
    slot = await svc.schedule(w.group, day="onsdag", time="18.30", timezone="Europe/London")
    saved = PromptsSettings.of(await w.fresh())
    assert saved == slot.settings
    assert (saved.day, saved.time, saved.timezone) == (2, dt.time(18, 30), "Europe/London")
    assert slot.next == dt.datetime(2026, 8, 19, 17, 30, tzinfo=dt.UTC)
    shown = await svc.schedule(await w.fresh())  # nothing to change: shown as it is
    assert shown == slot


async def test_a_slot_set_after_it_passed_this_week_does_not_fire_at_once(w: World) -> None:
    svc = _svc(w)
    w.later(hours=3)  # Monday 12:00 in Oslo
    slot = await svc.schedule(w.group, day="monday", time="11:00")
    group = await w.fresh()
    assert PromptsSettings.of(group).not_before == w.ws.clock.now()
    assert due_period(group, w.ws.clock.now()) is None
    assert slot.next == dt.datetime(2026, 8, 24, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"day": "someday"}, "prompts.day_invalid"),
        ({"time": "25:00"}, "prompts.time_invalid"),
        ({"time": "10"}, "prompts.time_invalid"),
        ({"timezone": "Mars/Base"}, "setup.timezone_unknown"),
        ({"day": "friday", "time": "9:61"}, "prompts.time_invalid"),
    ],
)
async def test_a_bad_day_time_or_timezone_is_refused_and_nothing_changes(
    w: World, change: dict[str, str], key: str
) -> None:
    before = PromptsSettings.of(w.group)
    with pytest.raises(UserError) as refused:
        await _svc(w).schedule(w.group, **change)
    assert refused.value.key == key
    assert PromptsSettings.of(await w.fresh()) == before
    assert (await w.fresh()).settings.get("prompts") is None


async def test_pause_stops_the_question_and_resume_skips_the_missed_slot(w: World) -> None:
    svc = _svc(w)
    paused = await svc.pause(w.group)
    assert paused.paused
    group = await w.fresh()
    w.later(hours=1)
    assert due_period(group, w.ws.clock.now()) is None
    assert await svc.home_notes(group, INGRID) == ["The weekly question is paused."]
    w.later(days=1)
    slot = await svc.resume(group)
    group = await w.fresh()
    assert not slot.settings.paused
    assert due_period(group, w.ws.clock.now()) is None  # Monday's slot is not owed
    assert slot.next == dt.datetime(2026, 8, 24, 8, 0, tzinfo=dt.UTC)
    assert await svc.home_notes(group, INGRID) == [
        "Next question of the week: 24 August 2026, 10:00 (Europe/Oslo), in #discussion."
    ]
    w.later(days=6)
    assert due_period(group, w.ws.clock.now()) == "2026-W35"


async def test_the_stored_schedule_keeps_the_first_versions_json() -> None:
    # What the first version (plan.Schedule.to_settings) wrote under settings["prompts"].
    stored = {
        "day": 2,
        "time": "18:30",
        "timezone": "Europe/London",
        "paused": True,
        "not_before": "2026-08-17T07:00:00+00:00",
    }
    group = Group("g", "local", Language.EN, "Europe/Oslo", {"prompts": stored}, START)
    settings = PromptsSettings.of(group)
    assert (settings.day, settings.time, settings.paused) == (2, dt.time(18, 30), True)
    assert settings.stored() == stored
    # A group that never set one: its own timezone, from its creation.
    fresh = PromptsSettings.of(replace(group, settings={}, timezone="Europe/London"))
    assert (fresh.day, fresh.time, fresh.timezone) == (0, dt.time(10, 0), "Europe/London")
    assert fresh.not_before == START
    # Something written by hand that does not validate: the defaults, not a crash.
    broken = PromptsSettings.of(replace(group, settings={"prompts": {"day": 9}}))
    assert (broken.day, broken.timezone) == (0, "Europe/Oslo")


# -- the discussion role ----------------------------------------------------------------------


async def test_members_join_and_leave_the_discussion_role(w: World) -> None:
    svc = _svc(w)
    w.ws.add_member("Ingrid", None)
    role = await svc.join(w.group, INGRID)
    assert role.key == "discussion" and w.ws.role_names("ingrid") == ["discussion"]
    async with w.uow() as uow:
        assert await uow.roles.holders(w.group.id, "discussion") == ["ingrid"]
        member = await uow.members.get(w.group.id, "ingrid")
    # Not a trusted role: taking it gives no staff rights.
    assert member is None or "staff" not in member.roles
    await svc.leave(w.group, INGRID)
    assert w.ws.role_names("ingrid") == []
    async with w.uow() as uow:
        assert await uow.roles.holders(w.group.id, "discussion") == []


async def test_a_role_the_platform_refuses_is_not_recorded(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> None:
        raise PlatformError("missing permission", missing_permission="manage_roles")

    monkeypatch.setattr(w.ws, "set_roles", refuse)
    with pytest.raises(PlatformError):
        await _svc(w).join(w.group, Actor("ingrid", "Ingrid", Permission.MEMBER))
    async with w.uow() as uow:
        assert await uow.roles.holders(w.group.id, "discussion") == []


async def test_without_the_role_joining_is_refused(w: World) -> None:
    async with w.uow() as uow:
        role = await uow.roles.get(w.group.id, "discussion")
        assert role is not None
        await uow.roles.save(replace(role, platform_id=None))
    with pytest.raises(UserError) as refused:
        await _svc(w).join(w.group, INGRID)
    assert refused.value.key == "prompts.not_set_up"


# -- used by the dashboard --------------------------------------------------------------------


async def test_staff_add_a_question_in_both_languages_and_norwegians_read_theirs(
    w: World,
) -> None:
    prompt = await _svc(w).add(
        w.group, STAFF, "Who taught you the most?", "careers", text_nb="Hvem lærte deg mest?"
    )
    assert prompt.text_nb == "Hvem lærte deg mest?"
    assert prompt.text_in("nb") == "Hvem lærte deg mest?" and prompt.text_in("en") == prompt.text
    with pytest.raises(UserError) as refused:
        await _svc(w).add(w.group, STAFF, "Another one?", text_nb="hvem lærte deg MEST?")
    assert refused.value.key == "prompts.duplicate"
    with pytest.raises(PermissionDenied):
        await _svc(w).add(w.group, INGRID, "A member's question straight into the queue?")


async def test_staff_edit_a_waiting_question_but_not_a_posted_one(w: World) -> None:
    svc = _svc(w)
    prompt = await svc.add(w.group, STAFF, "Wat do you miss?")
    edited = await svc.edit(w.group, STAFF, prompt.id, "What do you miss?", "Hva savner du?")
    async with w.uow() as uow:
        stored = await uow.prompts.get(w.group.id, prompt.id)
    assert stored == edited and stored.text == "What do you miss?"
    assert stored.text_nb == "Hva savner du?" and stored.status is PromptStatus.ACCEPTED
    # Its own words again are no duplicate; another question's words are.
    await svc.edit(w.group, STAFF, prompt.id, "What do you miss?")
    other = await svc.add(w.group, STAFF, "What do you not miss?")
    with pytest.raises(UserError) as dup:
        await svc.edit(w.group, STAFF, other.id, "what do you miss?")
    assert dup.value.key == "prompts.duplicate"
    with pytest.raises(PermissionDenied):
        await svc.edit(w.group, INGRID, prompt.id, "Hijacked?")
    posted = await svc.post_now(w.group)
    with pytest.raises(UserError) as late:
        await svc.edit(w.group, STAFF, posted.id, "Rewritten after posting?")
    assert late.value.key == "prompts.not_editable"
    with pytest.raises(UserError) as unknown:
        await svc.edit(w.group, STAFF, 99_999, "Nobody's?")
    assert unknown.value.key == "prompts.unknown"


async def test_another_groups_question_cannot_be_edited(w: World) -> None:
    await w.bot.group("other")
    async with w.uow() as uow:
        theirs = await uow.prompts.add(
            Prompt(0, "other", "open", "Theirs?", PromptStatus.ACCEPTED, START)
        )
    with pytest.raises(UserError) as refused:
        await _svc(w).edit(w.group, STAFF, theirs.id, "Ours now?")
    assert refused.value.key == "prompts.unknown"
    async with w.uow() as uow:
        still = await uow.prompts.get("other", theirs.id)
    assert still is not None and still.text == "Theirs?"


async def test_this_weeks_question_and_its_replies_so_far(w: World) -> None:
    svc = _svc(w)
    assert await svc.this_week(w.group) is None
    prompt = await svc.post(w.group, "2026-W34")
    assert prompt is not None
    (msg,) = _questions(w)
    async with w.uow() as uow:
        await uow.roles.grant(w.group.id, "kari", "student", "test", None, START)
    # Counted in memory by the stats, not yet written: this week's figures include them.
    await w.bot.activity.add(Pending(w.group.id, "kari", "C", str(msg["thread"]), True, START))
    await w.bot.activity.add(Pending(w.group.id, "ola", "C", str(msg["thread"]), True, START))
    current = await svc.this_week(w.group)
    assert current is not None and current.prompt == replace(
        prompt, status=PromptStatus.POSTED, last_posted_at=START
    )
    assert current.counts == {"student": 1, "member": 1} and current.total == 2


# -- queue order: staff move questions ------------------------------------------------------


async def test_staff_move_a_question_and_it_is_posted_in_that_order(w: World) -> None:
    svc = _svc(w)
    first = await svc.add(w.group, STAFF, "First staff question?", "careers")
    second = await svc.add(w.group, STAFF, "Second staff question?", "industry")
    queue = [p.id for p in (await svc.overview(w.group)).queue]
    assert queue[:2] == [first.id, second.id]
    # A bank question moves up past a staff question: the order is staff's, not the rule's.
    bank = queue[2]
    await svc.move(w.group, STAFF, bank, up=True)
    await svc.move(w.group, STAFF, bank, up=True)
    order = [p.id for p in (await svc.overview(w.group)).queue]
    assert order[:3] == [bank, first.id, second.id]
    # The first stays first; moving down swaps with the next.
    await svc.move(w.group, STAFF, bank, up=True)
    await svc.move(w.group, STAFF, second.id, up=False)
    order = [p.id for p in (await svc.overview(w.group)).queue]
    assert order[0] == bank and order[2] != second.id and order[3] == second.id
    posted = await svc.post(w.group, "2026-W40")
    assert posted is not None and posted.id == bank
    # Posted, it leaves the order; the rest keep theirs.
    after = [p.id for p in (await svc.overview(w.group)).queue]
    assert after[:2] == [first.id, order[2]]


async def test_moving_is_for_staff_and_for_queued_questions_only(w: World) -> None:
    svc = _svc(w)
    queued = (await svc.overview(w.group)).queue[0]
    with pytest.raises(PermissionDenied):
        await svc.move(w.group, OLA, queued.id, up=False)
    suggestion = await _suggested(w)
    with pytest.raises(UserError) as refused:
        await svc.move(w.group, STAFF, suggestion.id, up=True)
    assert refused.value.key == "prompts.not_queued"
    other = Group("other-group", "local", Language.EN, "Europe/Oslo")
    with pytest.raises(UserError):
        await svc.move(other, STAFF, queued.id, up=True)
    assert (await svc.overview(w.group)).queue[0].id == queued.id
