"""Weekly discussion questions through the local workspace."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.prompts.bank import load_bank
from bot.cogs.prompts.records import PromptStatus
from bot.cogs.prompts.service import PromptsService
from bot.domain import Language
from bot.ports import Capabilities
from storage.models import ActivityRow
from tests.conftest import START, LocalGroup, make_group

TITLE = "Question of the week"
BANK_THEME = {q.en: q.theme for q in load_bank()}


def questions(g: LocalGroup, channel: str = "discussion") -> list[dict[str, object]]:
    """The bot's questions in #discussion, oldest first."""
    return [m for m in g.messages(channel) if m["title"] in (TITLE, "Ukens spørsmål")]


def question_text(msg: dict[str, object]) -> str:
    return str(msg["text"]).splitlines()[0]


def thread_messages(g: LocalGroup, msg: dict[str, object]) -> list[dict[str, object]]:
    return list(g.ws.state["threads"][str(msg["thread"])]["messages"])


async def give_role(g: LocalGroup, user_id: str, role: str) -> None:
    async with g.uow() as uow:
        await uow.roles.grant("local", user_id, role, "test", None, START)


async def test_the_issue_script(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    assert questions(group) == []
    out = await group.run("!clock +7d", "!show #discussion")
    assert len(questions(group)) == 1
    assert TITLE in out
    await group.run(*["!clock +1h"] * 12)
    assert len(questions(group)) == 1
    await group.run("!clock +7d")
    assert len(questions(group)) == 2
    first, second = questions(group)
    assert question_text(first) != question_text(second)


async def test_setup_does_not_post_and_each_question_has_a_thread_and_a_ping(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "!clock +1h", "!clock +12h")
    # Setup ran at 09:00 on a Monday; the 10:00 slot that day is the first one.
    assert len(questions(group)) == 1
    msg = questions(group)[0]
    assert msg["thread"] is not None
    role_id = next(k for k, r in group.ws.state["roles"].items() if r["name"] == "discussion")
    assert msg["ping_roles"] == [role_id]
    assert question_text(msg) in BANK_THEME


async def test_a_simulated_year_with_a_restart(engine: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    g = make_group(engine, path=path)
    await g.run("/alumni setup")
    for _ in range(182):
        await g.run("!clock +1d")
    half = len(questions(g))
    assert half == 26
    # The process restarts: a new bot on the same database and the saved workspace.
    g = make_group(engine, path=path)
    assert len(questions(g)) == half
    for _ in range(182):
        await g.run("!clock +1d")
    posted = questions(g)
    assert len(posted) == 52
    texts = [question_text(m) for m in posted]
    assert len(set(texts)) == 52
    themes = [BANK_THEME[t] for t in texts]
    assert all(a != b for a, b in itertools.pairwise(themes))
    assert {BANK_THEME[t] for t in texts} == {
        "making",
        "studying",
        "careers",
        "industry",
        "critique",
        "group",
    }
    # Every question got exactly one recap in its thread, a week later.
    for m in posted[:-1]:
        recaps = [x for x in thread_messages(g, m) if x["author"] == "alumnibot"]
        assert len(recaps) == 1


async def test_down_over_the_slot_posts_on_return_and_never_a_backlog(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!clock +1d")
    assert len(questions(group)) == 1  # Monday's slot was missed; it posts on Tuesday
    await group.run("!clock +6d")
    assert len(questions(group)) == 1  # Monday 09:00: this week's slot is still ahead
    await group.run("!clock +1h")
    assert len(questions(group)) == 2
    await group.run("!clock +35d")  # down for five weeks
    assert len(questions(group)) == 3
    await group.run("!clock +1h", "!clock +1d")
    assert len(questions(group)) == 3


async def test_replies_are_counted_by_role_and_recapped_a_week_later(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup", "!join kari", "!join ola", "!join per", "!join ida", "!join nils"
    )
    for user, role in (("kari", "student"), ("ola", "student"), ("per", "alumni")):
        await give_role(group, user, role)
    await give_role(group, "ida", "staff")
    await group.run("!clock +1d")
    await group.run(
        "!as kari",
        "!in #discussion",
        "Not in the thread: this one does not count",
        "!in thread",
        "I think handmade matters",
        "!as ola",
        "I disagree",
        "!as per",
        "From ten years in production: it depends",
        "!as ida",
        "Good points",
        "!as nils",
        "Me too",
        "!clock +6d",
    )
    msg = questions(group)[0]
    assert [m for m in thread_messages(group, msg) if m["author"] == "alumnibot"] == []
    out = await group.run("!clock +1d")
    recap = [m for m in thread_messages(group, msg) if m["author"] == "alumnibot"]
    assert len(recap) == 1
    # The question went out on Tuesday of week 34; who answered lines up in a fixed-width block.
    assert recap[0]["text"] == (
        "A week of answers: 5 replies to the question of week 34."
        " Thank you! The thread stays open.\n"
        "```\n"
        "2 from students                40%\n"
        "1 from alumni                  20%\n"
        "1 from staff                   20%\n"
        "1 from members without a role  20%\n"
        "```"
    )
    assert "Discussion question of week 34" in out
    assert "2026-W" not in out
    review = group.messages("staff-review")[-1]
    assert "drew 5 replies in its first week" in str(review["text"])
    assert review["title"] == "Discussion question of week 34"
    assert review["fields"] == [
        ["students", "2 (40%)"],
        ["alumni", "1 (20%)"],
        ["staff", "1 (20%)"],
        ["industry", "0 (0%)"],
        ["no role", "1 (20%)"],
    ]
    async with group.uow() as uow:
        posted = await uow.prompts.for_group("local", PromptStatus.POSTED)
    assert [p.score for p in posted if p.text == question_text(msg)] == [5]
    # Another week: no second recap for the same question.
    await group.run("!clock +7d", "!clock +7d")
    recap = [m for m in thread_messages(group, msg) if m["author"] == "alumnibot"]
    assert len(recap) == 1


async def test_a_reply_in_the_question_thread_counts_once(group: LocalGroup) -> None:
    await group.run("/alumni setup", "/alumni prompt now", "!join kari")
    await group.run("!as kari", "!in #discussion", "!in thread", "I disagree, and here is why")
    await group.bot.activity.flush()
    thread = group.ws.state["current_thread"]
    async with group.uow() as uow:
        assert await uow.activity.count_by_role("local", thread) == {"member": 1}
    async with group.uow.engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count()).select_from(ActivityRow).where(ActivityRow.thread_id == thread)
        )
    assert rows == 1


async def test_suggestion_accepted_by_staff_is_posted_with_credit(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise")
    out = await group.run(
        "!as lise", '/alumni prompt suggest text:"Should   graduation shows be open to @everyone?"'
    )
    assert "Staff will look at your question" in out
    review = group.messages("staff-review")[-1]
    assert [b["label"] for b in review["buttons"]] == ["Accept", "Reject"]  # type: ignore[attr-defined]
    assert "@everyone" not in str(review["text"])
    # A member cannot accept their own suggestion: #staff-review is hidden from her, and with
    # the button in hand anyway the core still checks.
    assert "(no such channel" in await group.run("!in #staff-review")
    group.ws.state["buttons"]["lise"] = group.ws.state["buttons"]["*"]
    out = await group.run("!press Accept")
    assert "Only staff can use this button" in out
    async with group.uow() as uow:
        assert [p.status for p in await uow.prompts.for_group("local")] == [PromptStatus.SUGGESTED]
    out = await group.run("!as owner", "!press Accept")
    assert "Accepted by owner" in out
    assert "Your question was accepted" in out
    out = await group.run("!press Accept")
    assert "already handled" in out
    await group.run("!clock +2h")
    msg = questions(group)[0]
    assert "graduation shows be open" in str(msg["text"])
    assert "Suggested by lise." in str(msg["text"])
    assert msg["ping_users"] == ["lise"]


async def test_rejected_suggestion_is_never_posted(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise", "!as lise")
    await group.run('/alumni prompt suggest text:"What is the best colour?"')
    out = await group.run("!as owner", "!in #staff-review", "!press Reject")
    assert "Rejected by owner" in out
    assert "decided not to use your question" in out
    for _ in range(5):
        await group.run("!clock +7d")
    assert all("best colour" not in str(m["text"]) for m in questions(group))


async def test_bad_suggestions_are_refused_with_a_message(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise", "!as lise")
    out = await group.run("/alumni prompt suggest")
    assert "Write the question after the command" in out
    out = await group.run('/alumni prompt suggest text:"    "')
    assert "Write the question after the command" in out
    out = await group.run(f'/alumni prompt suggest text:"{"x" * 301}"')
    assert "301 characters long; keep it to 300" in out
    async with group.uow() as uow:
        assert await uow.prompts.for_group("local") == []
    await group.run('/alumni prompt suggest text:"Is fast fashion ever OK?"')
    out = await group.run('/alumni prompt suggest text:"is FAST   fashion ever ok"')
    assert 'already there (suggested, waiting for staff): "Is fast fashion ever OK?"' in out
    bank = load_bank()[0]
    out = await group.run(f'/alumni prompt suggest text:"{bank.en.upper()}"')
    assert "in the bot's question bank" in out
    async with group.uow() as uow:
        assert len(await uow.prompts.for_group("local")) == 1


async def test_schedule_pause_resume_and_permissions(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise")
    out = await group.run("!as lise", "/alumni prompt schedule day:friday", "/alumni prompt now")
    assert out.count("Only staff can run") == 2
    out = await group.run("!as owner", "/alumni prompt schedule time:25:00")
    assert "not a time of day" in out
    out = await group.run("/alumni prompt schedule timezone:Mars/Base")
    assert "Mars/Base" in out
    out = await group.run("/alumni prompt schedule day:wednesday time:18:30")
    assert "every Wednesday at 18:30 (Europe/Oslo). Next: 19 August 2026, 18:30" in out
    await group.run("!clock +1d")  # Tuesday: nothing on Monday any more
    assert questions(group) == []
    await group.run("!clock +1d", "!clock +10h")  # Wednesday 19:00
    assert len(questions(group)) == 1
    out = await group.run("/alumni prompt pause")
    assert "paused" in out
    for _ in range(3):
        await group.run("!clock +7d")
    assert len(questions(group)) == 1
    out = await group.run("/alumni prompt resume")
    assert "Next:" in out
    assert len(questions(group)) == 1  # resuming does not post a missed slot at once
    await group.run("!clock +7d")
    assert len(questions(group)) == 2
    # This week's question went out: a second one only when staff say so.
    out = await group.run("/alumni prompt now")
    assert "already went out this week" in out and len(questions(group)) == 2
    out = await group.run("!press Post another question")
    assert "Posted in #discussion" in out
    assert len(questions(group)) == 3


async def test_members_join_and_leave_the_discussion_role(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise", "!as lise")
    out = await group.run("/alumni prompt join", "!show roles lise")
    assert "pinged when a new question" in out and "lise: discussion" in out
    # The discussion role is not a trusted one: lise is still a member.
    out = await group.run('/alumni prompt add text:"Why?"')
    assert "Only staff can run" in out
    out = await group.run("/alumni prompt leave", "!show roles lise")
    assert "lise: (no roles)" in out
    async with group.uow() as uow:
        assert await uow.roles.holders("local", "discussion") == []


async def test_staff_questions_go_first_as_polls_where_the_platform_has_them(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup")
    out = await group.run(
        "/alumni prompt add theme:industry"
        ' options:"Yes|No|It depends" text:"Should we boycott fur?"'
    )
    assert 'Added to the queue (industry): "Should we boycott fur?"' in out
    out = await group.run('/alumni prompt add options:"Yes" text:"One answer?"')
    assert "2 to 10 answers" in out
    await group.run("/alumni prompt now")
    text_msg = questions(group)[-1]
    assert "Should we boycott fur?" in str(text_msg["text"])
    assert "- It depends" in str(text_msg["text"]) and text_msg["poll"] is None
    group.ws.capabilities = Capabilities(polls=True)
    await group.run('/alumni prompt add options:"Paper|3D" text:"Paper or 3D patterns?"')
    await group.run("/alumni prompt now", "!press Post another question")
    poll_msg = questions(group)[-1]
    assert poll_msg["poll"] == {"question": "Paper or 3D patterns?", "answers": ["Paper", "3D"]}


async def test_staff_are_alerted_once_when_the_queue_runs_low(group: LocalGroup) -> None:
    service = group.bot.service(PromptsService)
    bank = load_bank()
    service.bank = tuple(
        next(q for q in bank if q.theme == t) for t in ("making", "studying", "group")
    )
    await group.run("/alumni setup", "/alumni prompt now")
    alerts = [m for m in group.messages("staff-review") if "questions are left" in str(m["text"])]
    assert len(alerts) == 1 and "Only 2 discussion" in str(alerts[0]["text"])
    again = ("/alumni prompt now", "!press Post another question")
    await group.run(*again)
    alerts = [m for m in group.messages("staff-review") if "questions are left" in str(m["text"])]
    assert len(alerts) == 1
    await group.run(*again)
    out = await group.run(*again)
    assert "no question to post" in out
    for i in range(3):
        await group.run(f'/alumni prompt add theme:careers text:"Career question {i}?"')
    await group.run(*again)  # 2 left again after a refill: a new alert
    alerts = [m for m in group.messages("staff-review") if "questions are left" in str(m["text"])]
    assert len(alerts) == 2


async def test_norwegian_group_gets_norwegian_questions(engine: AsyncEngine) -> None:
    g = make_group(engine, Language.NB)
    await g.run("/alumni setup", "!clock +7d")
    msg = questions(g, "diskusjon")[0]
    assert msg["title"] == "Ukens spørsmål"
    nb_texts = {q.nb for q in load_bank()}
    assert question_text(msg) in nb_texts


async def test_a_question_drawing_more_replies_comes_back_sooner_after_a_year(
    group: LocalGroup,
) -> None:
    from bot.cogs.prompts.plan import choose, plan_refill
    from bot.cogs.prompts.records import Prompt

    now = START + timedelta(days=800)
    old = now - timedelta(days=400)
    quiet = Prompt(1, "local", "making", "Quiet?", PromptStatus.POSTED, old, last_posted_at=old)
    lively = Prompt(
        2, "local", "making", "Lively?", PromptStatus.POSTED, old, last_posted_at=old, score=14
    )
    recent = Prompt(
        3,
        "local",
        "making",
        "Recent?",
        PromptStatus.POSTED,
        old,
        last_posted_at=now - timedelta(days=30),
        score=99,
    )
    plan = plan_refill([], set(), [], [quiet, lively, recent], now)
    assert [p.text for p in plan.requeue] == ["Lively?", "Quiet?"]
    queued = [
        Prompt(4, "local", "making", "M?", PromptStatus.ACCEPTED, old),
        Prompt(5, "local", "group", "G?", PromptStatus.ACCEPTED, old),
    ]
    chosen = choose(queued, "making", now)
    assert chosen is not None and chosen.text == "G?"


async def test_the_recap_reads_norwegian_with_plurals_and_no_period_keys(
    engine: AsyncEngine,
) -> None:
    g = make_group(engine, Language.NB)
    await g.run("/alumni setup", "!join kari", "!join ola")
    await give_role(g, "kari", "student")
    await g.run("!clock +1h")  # Monday 10:00, week 34: the question goes out
    await g.run("!as kari", "!in #diskusjon", "!in thread", "Ja, helt klart")
    for _ in range(11):
        await g.run("Og en ting til")
    await g.run("!as ola", "Tja")
    out = await g.run("!clock +7d")
    msg = questions(g, "diskusjon")[0]
    (recap,) = [m for m in thread_messages(g, msg) if m["author"] == "alumnibot"]
    assert recap["text"] == (
        "En uke er gått: 13 svar på spørsmålet fra uke 34. Takk! Tråden er fortsatt åpen.\n"
        "```\n"
        "12 fra studenter             92\xa0%\n"
        " 1 fra medlemmer uten rolle   8\xa0%\n"
        "```"
    )
    review = g.messages("godkjenning")[-1]
    assert review["title"] == "Diskusjonsspørsmålet fra uke 34"
    assert "fikk 13 svar den første uken" in str(review["text"])
    assert ["studenter", "12 (92\xa0%)"] in review["fields"]
    assert "2026-W" not in out and "now-" not in out

    # The next week nobody answers: one line, in Norwegian, with the week it was asked.
    await g.run("!clock +7d")
    nxt = questions(g, "diskusjon")[1]
    (quiet,) = [m for m in thread_messages(g, nxt) if m["author"] == "alumnibot"]
    assert quiet["text"] == (
        "Ingen svar på spørsmålet fra uke 35 denne gangen."
        " Tråden er fortsatt åpen: én linje er nok til å begynne."
    )
    review = g.messages("godkjenning")[-1]
    assert "fikk 0 svar" in str(review["text"]) and ["studenter", "0"] in review["fields"]


def test_recap_plurals_and_alignment_in_both_languages() -> None:
    from bot.cogs.prompts.views import recap_text

    one = recap_text("en", {"alumni": 1}, "week 2")
    assert one.startswith("A week of answers: 1 reply to the question of week 2.")
    assert "```\n1 from alumni  100%\n```" in one
    assert recap_text("nb", {"alumni": 1}, "uke 2").startswith("En uke er gått: 1 svar på")
    many = recap_text("en", {"student": 1500, "staff": 3, "industry": 40}, "week 9")
    assert "1,543 replies" in many
    rows = many.split("```")[1].strip("\n").split("\n")
    assert rows == [
        "1,500 from students  97%",
        "    3 from staff      0%",
        "   40 from industry   3%",
    ]
    nb_rows = recap_text("nb", {"student": 1500, "staff": 3}, "uke 9").split("```")[1]
    assert "1\xa0500 fra studenter" in nb_rows and "    3 fra ansatte" in nb_rows
