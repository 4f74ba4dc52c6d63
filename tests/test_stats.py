"""`/alumni stats` and the weekly digest through the local workspace."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from sqlalchemy import insert

from bot.events import MessageRef
from storage.models import PromptRow, PromptRunRow
from tests.conftest import START, LocalGroup


async def _grant(group: LocalGroup, user: str, role: str) -> None:
    async with group.uow() as uow:
        await uow.roles.grant("local", user, role, "test", None, START)


async def test_stats_show_dialogue_roles_members_and_a_chart(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join kari", "!join lars", "!join nina")
    await _grant(group, "kari", "student")
    await _grant(group, "lars", "alumni")
    await _grant(group, "owner", "staff")
    await group.run("!as kari", "!in #discussion", "What is everyone working on?")
    # The weekly question's thread (the prompts feature opens these; here by hand).
    discussion = group.ws.channel_by_name("discussion")
    assert discussion is not None
    first = group.ws.state["channels"][discussion]["messages"][0]
    thread = await group.ws.open_thread("local", MessageRef(discussion, first["id"]), "q")
    await group.run("!as lars", "!in #discussion")
    async with group.uow() as uow:
        await uow.session.execute(  # type: ignore[attr-defined]
            insert(PromptRow).values(
                id=1, group_id="local", theme="t", text="q", status="posted", created_at=START
            )
        )
        await uow.session.execute(  # type: ignore[attr-defined]
            insert(PromptRunRow).values(
                group_id="local",
                prompt_id=1,
                period="2026-W34",
                channel_id="C",
                message_id="M",
                thread_id=thread,
                posted_at=START,
            )
        )
    await group.run("!in thread", "A capsule collection", "!as kari", "!in thread", "Nice!")
    out = await group.run("!as owner", "/alumni stats weeks:2")
    assert "The group over the last 2 weeks" in out
    assert "Counted since 10 Aug 2026." in out
    assert "Posts per channel: #discussion 1" in out
    # The replies are to the weekly question: its own figure, not the dialogue's.
    assert "Dialogue: 0 replies per post (0 replies to 1 post)" in out
    assert "Who posts: students 67% and alumni 33%" in out
    assert "Members: 3 new, 2 active" in out
    assert (
        "Replies to the weekly questions: 2 replies per question (2 replies to 1 question)" in out
    )
    image = next(line for line in out.splitlines() if "[image:" in line)
    path = Path(image.split("[image:")[1].strip(" ]"))
    # In the bot's own data folder, never a temporary folder other users of the host can read.
    assert path == group.bot.config.data_dir / "charts" / "stats-local-2w.png"
    with Image.open(path) as png:
        # The chart's title is the takeaway; the week before this one was silent.
        assert png.text["Title"] == "Students wrote 67% of messages"  # type: ignore[attr-defined]


async def test_stats_in_norwegian_read_norwegian(engine: object) -> None:
    from bot.domain import Language
    from tests.conftest import make_group

    group = make_group(engine, Language.NB)  # type: ignore[arg-type]
    await group.run("/alumni setup", "!clock +7d", "!join kari")
    await _grant(group, "kari", "student")
    await _grant(group, "owner", "staff")
    await group.run("!as kari", "!in #diskusjon", "Hei alle", "Hva jobber dere med?")
    await group.run("!as owner", "!in #diskusjon", "Velkommen!")
    # Kari answers in the thread of her own first post (the week's question is not a post).
    channel = group.ws.channel_by_name("diskusjon")
    assert channel is not None
    hers = next(
        m for m in group.ws.state["channels"][channel]["messages"] if m["text"] == "Hei alle"
    )
    await group.ws.open_thread("local", MessageRef(channel, hers["id"]), "hei")
    await group.run("!as kari", "!in thread", "Takk!", "Gleder meg")
    out = await group.run("!as owner", "/alumni stats weeks:1")
    assert "Gruppen denne uken" in out
    assert "Talt siden 24. aug. 2026." in out
    assert "Innlegg per kanal: #diskusjon 3" in out
    assert "Dialog: 0,7 svar per innlegg (2 svar på 3 innlegg)" in out
    assert "Hvem som skriver: studenter 80\xa0% og ansatte 20\xa0%" in out
    assert "Medlemmer: 1 ny, 2 aktive" in out
    assert "Svar på ukens spørsmål: 0 svar per spørsmål (0 svar på 1 spørsmål)" in out
    # A message in a channel the bot does not know is "other channels", not "#-" or an id.
    from bot.activity import Pending

    await group.bot.activity.add(
        Pending("local", "kari", "C-not-ours", None, False, group.bot.clock.now())
    )
    out = await group.run("/alumni stats weeks:2")
    assert "Gruppen de siste 2 ukene" in out
    assert "Innlegg per kanal: #diskusjon 3 og andre kanaler 1" in out
    assert "C-not-ours" not in out and "#-" not in out
    # No English and no raw keys anywhere in the answer.
    for giveaway in ("replies", "posts", "new", "active", "students", "stats.", "-W"):
        assert giveaway not in out.replace("/alumni post", ""), giveaway
    image = next(line for line in out.splitlines() if "[bilde:" in line)
    with Image.open(image.split("[bilde:")[1].strip(" ]")) as png:
        assert png.text["Title"] == "Studentene skrev 83\xa0% av meldingene"  # type: ignore[attr-defined]
        assert png.text["Description"] == "Andel av alle meldingene disse 2 ukene"  # type: ignore[attr-defined]


async def test_stats_are_staff_only(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join kari")
    out = await group.run("!as kari", "/alumni stats")
    assert "Only staff" in out and "[image:" not in out


async def test_stats_weeks_out_of_range(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    out = await group.run("/alumni stats weeks:53")
    assert "between 1 and 52" in out


async def test_finished_weeks_are_rolled_up_and_still_counted(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join kari", "!as kari", "!in #discussion", "Hi")
    await group.run("!clock +7d", "Hello again")
    out = await group.run("!as owner", "/alumni stats weeks:2")
    assert "#discussion 2" in out
    out = await group.run("/alumni stats weeks:2")  # second time from the rollup
    assert "#discussion 2" in out and "Members: 1 new, 1 active" in out


async def test_weekly_digest_once_in_announcements(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid")
    await group.run(
        "!as ingrid",
        "/alumni post job",
        '!form title="Pattern cutter" employer="Studio Nord" place=Oslo deadline=2026-09-20',
        "/alumni post event",
        '!form title="Graduate show" when="2026-08-27 18:00" place=KHiO',
        "/alumni post rental",
        '!form what="Studio desk" where=Grønland price="2000 kr/mnd" from=2026-09-01',
    )
    await group.run("!clock +7d", "!clock +4h", "!clock +1h")  # Monday after 12:00, twice
    digests = [m for m in group.messages("announcements") if "This week" in str(m["title"])]
    assert len(digests) == 1
    fields = dict(digests[0]["fields"])  # type: ignore[arg-type]
    assert "Graduate show" in fields["Coming events"]
    assert "Studio desk" in fields["Studio space for rent"]
    assert fields["New jobs"] == "none this week"  # posted more than a week ago


async def test_digest_in_norwegian(engine: object) -> None:
    from bot.domain import Language
    from tests.conftest import make_group

    group = make_group(engine, Language.NB)  # type: ignore[arg-type]
    await group.run("/alumni setup", "!clock +7d", "!join kari", "!clock +4h")
    digests = [
        m
        for ch in group.ws.state["channels"].values()
        for m in ch["messages"]
        if "Denne uken" in str(m["title"])
    ]
    assert len(digests) == 1
    assert dict(digests[0]["fields"])["Velkommen til nye medlemmer"] == "kari"


async def test_activity_counts_and_rollups_on_postgresql(pg_url: str) -> None:
    from datetime import timedelta

    from bot.activity import Pending
    from bot.cogs.stats.figures import summarise, week_starts
    from bot.domain import Group, Language
    from storage.database import create_engine, upgrade
    from storage.uow import UnitOfWorkFactory

    engine = create_engine(pg_url)
    try:
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        group = Group("g", "local", Language.EN, "Europe/Oslo", {}, START)
        async with uow() as u:
            await u.groups.add(group)
            await u.roles.grant("g", "kari", "student", "test", None, START)
        async with uow() as u:
            await u.activity.add_many(
                [
                    Pending("g", "kari", "C1", None, False, START - timedelta(days=7)),
                    Pending("g", "kari", "C1", "T1", True, START + timedelta(hours=1)),
                    Pending("g", "ola", "C1", "T1", True, START + timedelta(hours=2)),
                    # Two answers to the week's question (thread Q), which is not a post.
                    Pending("g", "kari", "C1", "Q", True, START + timedelta(hours=1)),
                    Pending("g", "ola", "C1", "Q", True, START + timedelta(hours=2)),
                ]
            )
            await u.session.execute(  # type: ignore[attr-defined]
                insert(PromptRow).values(
                    id=1, group_id="g", theme="t", text="q", status="posted", created_at=START
                )
            )
            await u.session.execute(  # type: ignore[attr-defined]
                insert(PromptRunRow).values(
                    group_id="g",
                    prompt_id=1,
                    period="2026-W34",
                    channel_id="C1",
                    message_id="M",
                    thread_id="Q",
                    posted_at=START,
                )
            )
        now = START + timedelta(hours=3)
        starts = week_starts(group, now, 2)
        for _ in range(2):  # the second time the finished week comes from its rollup
            async with uow() as u:
                summary = await u.activity.summary(
                    "g", starts[0], starts[-1] + timedelta(days=7), starts, starts[-1]
                )
            stats = summarise(summary, starts)
            assert (stats.top_level, stats.replies, stats.active_members) == (1, 4, 2)
            assert stats.weekly_top == [1, 0] and stats.weekly_replies == [0, 4]
            assert stats.by_role == {"student": 3, "member": 2}
            # The post was in the week before its replies: no dialogue within the same week.
            assert (stats.dialogue_replies, stats.ratio) == (0, 0.0)
            assert (stats.questions, stats.question_replies, stats.per_question) == (1, 2, 2.0)
    finally:
        await engine.dispose()


async def test_stats_without_a_chart_renderer_still_answer(group: LocalGroup) -> None:
    from bot.cogs.stats.service import StatsService

    group.bot.service(StatsService).charts = None
    await group.run("/alumni setup", "!in #discussion", "hello")
    out = await group.run("/alumni stats")
    assert "Posts per channel: #discussion 1" in out
    assert "[image:" not in out


async def test_a_quiet_week_gets_no_digest(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!clock +8d", "!clock +7d")  # two Mondays at 12:00 pass
    assert not [m for m in group.messages("announcements") if "This week" in str(m["title"])]


async def test_dialogue_is_replies_to_members_posts_and_the_question_is_its_own_figure(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "!join kari", "!join lars", "!join nina")
    # Two posts in #discussion; two replies in the thread of one of them.
    await group.run(
        "!as kari", "!in #discussion", "What is everyone working on?", "Anyone going to the show?"
    )
    # (A thread on a member's post, as Slack and Discord open one; the terminal cannot yet.)
    discussion = group.ws.channel_by_name("discussion")
    assert discussion is not None
    first = group.ws.state["channels"][discussion]["messages"][0]
    await group.ws.open_thread("local", MessageRef(discussion, first["id"]), "working on")
    await group.run("!as lars", "!in thread", "A capsule collection", "!as nina", "Me too")
    # The weekly question: three replies, which are answers to the bot, not to a member's post.
    await group.run("!as owner", "/alumni prompt now")
    await group.run("!as kari", "!in #discussion", "!in thread", "Wool", "!as lars", "Linen")
    await group.run("!as nina", "Silk")
    # A reply under a listing card (the bot posts the card): no member's post in #jobs.
    await group.run(
        "!as owner",
        "/alumni post job",
        '!form title="Pattern cutter" employer="Studio Nord" place=Oslo deadline=2026-09-20',
    )
    await group.run("!as kari", "!in #jobs", "!in thread", "Is it paid?")
    out = await group.run("!as owner", "/alumni stats weeks:1")
    assert "Dialogue: 1 reply per post (2 replies to 2 posts)" in out, out
    assert (
        "Replies to the weekly questions: 3 replies per question (3 replies to 1 question)" in out
    )
    # Each figure's definition is in the command's help.
    helped = await group.run("/alumni help")
    line = next(x for x in helped.splitlines() if x.startswith("`/alumni stats"))
    assert "same channel and week" in line and "per weekly question" in line, line
