"""The same form sent twice within a minute (a double click, a retry, two processes) is handled
once; `/alumni prompt now` twice in a week asks before posting a second question."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import func, select

from adapters.local.terminal import Terminal
from adapters.local.workspace import GROUP_ID, LocalWorkspace
from bot.core import Bot, CoreConfig
from bot.events import FormSubmitted, UserRef
from bot.features import load_all
from bot.scheduler import Scheduler
from storage.database import create_engine, upgrade
from storage.models import PostRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import START, LocalGroup

JOB = {
    "title": "Pattern cutter",
    "employer": "Studio Nord",
    "place": "Oslo",
    "deadline": "2026-09-20",
}
INTRO = {
    "name": "Ida Berg",
    "programme": "Fashion 2019",
    "work": "Pattern maker",
    "looking": "Interns",
}


def _submit(
    group: LocalGroup, user: str, form_id: str, values: dict[str, str], context: str = ""
) -> FormSubmitted:
    return FormSubmitted(
        GROUP_ID, UserRef(user, user), form_id, dict(values), context, group.terminal._responder()
    )


async def test_a_listing_sent_twice_at_once_is_posted_once(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid")
    # A double click on the modal's submit: two submissions, handled at the same time.
    twice = [_submit(group, "ingrid", "post", JOB, "job") for _ in range(2)]
    await asyncio.gather(*(group.bot.handle(e) for e in twice))
    assert [m["title"] for m in group.messages("jobs")] == ["Job: Pattern cutter"]
    said = "\n".join(group.lines)
    assert said.count("Posted in #jobs") == 1
    assert "already sent this a moment ago" in said and "once, not twice" in said
    # Still within the minute: once.
    group.ws.clock.advance(timedelta(seconds=50))
    await group.bot.handle(_submit(group, "ingrid", "post", JOB, "job"))
    assert len(group.messages("jobs")) == 1
    # Over a minute later the same listing is a new post (closed, say, and wanted again).
    group.ws.clock.advance(timedelta(seconds=61))
    await group.bot.handle(_submit(group, "ingrid", "post", JOB, "job"))
    assert len(group.messages("jobs")) == 2
    # Someone else posting the same text is not a duplicate of hers.
    await group.run("!join ola")
    await group.bot.handle(_submit(group, "ola", "post", JOB, "job"))
    assert len(group.messages("jobs")) == 3


async def test_an_introduction_sent_twice_is_posted_once(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ida", "!as ida", "!press Introduce yourself")
    await group.bot.handle(_submit(group, "ida", "onb_intro", INTRO))
    await group.bot.handle(_submit(group, "ida", "onb_intro", INTRO))
    assert [m["title"] for m in group.messages("introductions")] == ["Ida Berg"]
    assert "already sent this a moment ago" in group.lines[-1]


async def test_a_refused_or_failed_submission_can_be_sent_again(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid")
    bad = {**JOB, "deadline": "2026-08-01"}
    await group.bot.handle(_submit(group, "ingrid", "post", bad, "job"))
    await group.bot.handle(_submit(group, "ingrid", "post", bad, "job"))
    # Refused both times with the reason, never "already sent".
    assert "\n".join(group.lines).count("is in the past") == 2
    assert group.messages("jobs") == []


async def test_two_processes_on_one_database_post_a_double_submission_once(pg_url: str) -> None:
    engines = [create_engine(pg_url), create_engine(pg_url)]
    try:
        await upgrade(engines[0])
        lines: list[str] = []
        ws = LocalWorkspace(None, out=lines.append, start=START)
        bots = [
            load_all(Bot(ws, UnitOfWorkFactory(e), ws.clock, CoreConfig(instance_id=f"p{i}")))
            for i, e in enumerate(engines)
        ]
        terminal = Terminal(bots[0], ws, Scheduler(bots[0]))
        await terminal.line("/alumni setup")
        await terminal.line("!join ingrid")
        for _ in range(3):  # a few rounds: the race is real, not a lucky ordering
            events = [
                FormSubmitted(
                    GROUP_ID,
                    UserRef("ingrid", "ingrid"),
                    "post",
                    dict(JOB),
                    "job",
                    terminal._responder(),
                )
                for _ in bots
            ]
            await asyncio.gather(*(b.handle(e) for b, e in zip(bots, events, strict=True)))
            ws.clock.advance(timedelta(minutes=2))
        async with UnitOfWorkFactory(engines[0])() as uow:
            posts = await uow.session.scalar(select(func.count()).select_from(PostRow))  # type: ignore[attr-defined]
        channel = ws.channel_by_name("jobs")
        assert channel is not None
        assert (posts, len(ws.state["channels"][channel]["messages"])) == (3, 3)
    finally:
        for e in engines:
            await e.dispose()


def _questions(group: LocalGroup) -> list[dict[str, object]]:
    return [m for m in group.messages("discussion") if m["author"] == "alumnibot" and m["thread"]]


async def test_prompt_now_twice_in_a_week_asks_before_a_second_question(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    out = await group.run("/alumni prompt now")
    assert "Posted in #discussion" in out and len(_questions(group)) == 1
    first = str(_questions(group)[0]["text"])
    # The second time the same week: a question, and nothing posted until staff confirm.
    out = await group.run("/alumni prompt now")
    assert "already went out this week" in out and len(_questions(group)) == 1, out
    assert first.split("\n")[0][:40] in out
    # A member cannot press staff's button.
    await group.run("!join ola", "!as ola")
    out = await group.run("!press Post another question")
    assert len(_questions(group)) == 1
    out = await group.run("!as owner", "!press Post another question")
    assert "Posted in #discussion" in out and len(_questions(group)) == 2
    # The same confirmation pressed again (a double click) does not post a third one.
    await group.run("!press Post another question")
    assert len(_questions(group)) == 2
    # Next week the first `prompt now` posts at once again.
    await group.run("!clock +7d")
    before = len(_questions(group))
    out = await group.run("/alumni prompt now")
    assert "already went out" in out  # the scheduled question of the new week went out Monday
    assert len(_questions(group)) == before


async def test_prompt_now_in_norwegian_asks_in_norwegian(engine: object) -> None:
    from bot.domain import Language
    from tests.conftest import make_group

    group = make_group(engine, Language.NB)  # type: ignore[arg-type]
    await group.run("/alumni setup", "/alumni prompt now")
    out = await group.run("/alumni prompt now")
    assert "allerede ut et spørsmål denne uken" in out, out
    assert "Legg ut ett spørsmål til" in out


async def test_on_slack_an_introduction_submitted_twice_is_posted_once(engine: object) -> None:
    from tests.slack_harness import slack_harness
    from tests.test_slack_features import channel, field_values, join, press

    async with slack_harness(engine) as h:  # type: ignore[arg-type]
        await h.command(h.admin, "setup")
        kari = await join(h, "kari", "kari@example.com")
        dm = h.fake.open_im(kari)
        # Two presses of the button open two modals; the member fills in and sends both.
        for _ in range(2):
            await press(h, kari, h.fake.messages(dm.id)[0], "Introduce yourself", dm.id)
        views = [v["id"] for v in h.fake.views_opened if v.get("callback_id") == "onb_intro"]
        assert len(views) == 2
        seen = []
        for view_id in views:
            d = await h.driver.view_submission(
                kari, "onb_intro", field_values(**INTRO), view_id=view_id
            )
            await h.settle()
            seen.append(json.dumps(h.modal(d)) + json.dumps(h.fake.messages(dm.id)[-1]))
        assert "Your introduction is posted" in seen[0]
        assert "already sent this a moment ago" in seen[1], seen[1]
        assert len(channel(h, "alumni-introductions").messages) == 1
