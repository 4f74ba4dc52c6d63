"""StatsService: each use case and its refusals, on the in-memory unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cogs.onboarding.records import WELCOME_FALLBACKS_KEY, count_fallback
from bot.cogs.posts.forms import KINDS
from bot.cogs.posts.service import PostsService
from bot.cogs.stats.records import DigestSkipped
from bot.cogs.stats.service import StatsService
from bot.domain import Language, Member
from bot.errors import UserError
from bot.events import ChannelRef, MessagePosted, UserRef
from bot.ports import WeeklyChart
from tests.conftest import START
from tests.features.helpers import INGRID, World, world

KARI = UserRef("kari", "Kari")
JOB = {
    "title": "Pattern cutter",
    "employer": "Studio Nord",
    "place": "Oslo",
    "deadline": "2026-09-20",
}
EVENT = {"title": "Graduate show", "when": "2026-08-27 18:00", "place": "KHiO"}


class Drawn:
    """A chart renderer that writes a small file and keeps what it was asked to draw."""

    def __init__(self, fail: bool = False) -> None:
        self.charts: list[WeeklyChart] = []
        self.fail = fail

    def render(self, chart: WeeklyChart, path: Path) -> Path:
        self.charts.append(chart)
        if self.fail:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x89PNG half")
            raise OSError("disk full")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x89PNG " + chart.title.encode())
        return path


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group of its own."""
    async with world() as it:
        yield it


def _svc(w: World) -> StatsService:
    return w.bot.service(StatsService)


def _channel(w: World, name: str) -> str:
    cid = w.ws.channel_by_name(name)
    assert cid is not None
    return cid


async def _say(
    w: World, user: UserRef, channel: str, thread: str | None = None, n: int = 1
) -> None:
    for _ in range(n):
        await _svc(w).count(w.group.id, user, _channel(w, channel), thread)


# -- counting ---------------------------------------------------------------------------------


async def test_messages_are_counted_by_role_and_reply_never_their_text(w: World) -> None:
    async with w.uow() as uow:
        await uow.roles.grant(w.group.id, "kari", "student", "test", None, START)
    await _say(w, KARI, "discussion", n=2)
    await _say(w, UserRef("ola"), "discussion", thread="T1")
    stats = await _svc(w).compute(w.group, 1)
    assert (stats.top_level, stats.replies, stats.ratio) == (2, 1, 0.5)
    assert stats.by_role == {"student": 2, "member": 1}
    assert stats.posts_by_category == {"discussion": 2} and stats.active_members == 2


async def test_a_bots_message_is_never_counted(w: World) -> None:
    bot = UserRef("B1", "Another bot", is_bot=True)
    # The core drops it before any feature hears it (tests/test_core.py: every kind of event).
    await w.bot.handle(
        MessagePosted(w.group.id, bot, ChannelRef(_channel(w, "discussion"), "discussion"), "hi")
    )
    await w.bot.handle(
        MessagePosted(w.group.id, KARI, ChannelRef(_channel(w, "discussion"), "discussion"), "hi")
    )
    stats = await _svc(w).compute(w.group, 1)
    assert stats.top_level == 1 and stats.by_role == {"member": 1}


# -- the figures ------------------------------------------------------------------------------


async def test_the_report_names_channels_as_they_are_called_now(w: World) -> None:
    await _say(w, KARI, "discussion")
    async with w.uow() as uow:
        discussion = await uow.categories.get(w.group.id, "discussion")
        assert discussion is not None
        await uow.categories.save(replace(discussion, name="prat"))
    report = await _svc(w).report(w.group, 2)
    assert report.channel_names["discussion"] == "prat" and len(report.stats.weeks) == 2
    assert report.stats.weeks[0].date() == dt.date(2026, 8, 10)  # the Monday a week before
    assert report.chart is None  # this bot has no renderer: the figures come without


@pytest.mark.parametrize("weeks", [0, -1, 53])
async def test_weeks_out_of_range_are_refused(w: World, weeks: int) -> None:
    with pytest.raises(UserError) as refused:
        await _svc(w).report(w.group, weeks)
    assert refused.value.key == "core.option_out_of_range"
    assert refused.value.params == {"option": "weeks", "low": 1, "high": 52}


async def test_welcome_fallbacks_are_counted_in_the_window_only(w: World) -> None:
    raw = None
    for day in ("2026-08-03", "2026-08-10", "2026-08-12", "2026-08-17"):
        raw = count_fallback(raw, dt.date.fromisoformat(day))
    async with w.uow() as uow:
        assert raw is not None
        await uow.kv.set(w.group.id, WELCOME_FALLBACKS_KEY, raw)
    svc = _svc(w)
    assert await svc.welcome_fallbacks(w.group, dt.date(2026, 8, 10), dt.date(2026, 8, 17)) == 2
    assert (await svc.report(w.group, 2)).welcome_fallbacks == 3
    assert (await svc.report(w.group, 1)).welcome_fallbacks == 1


async def test_the_chart_is_drawn_in_the_bots_data_folder(w: World, tmp_path: Path) -> None:
    drawn = Drawn()
    svc = _svc(w)
    svc.charts, svc.chart_dir = drawn, tmp_path / "data" / "charts"
    await _say(w, KARI, "discussion")
    first = await svc.report(w.group, 4)
    second = await svc.report(w.group, 4)
    assert first.chart == second.chart == tmp_path / "data" / "charts" / "stats-local-4w.png"
    assert first.chart.read_bytes().startswith(b"\x89PNG")
    # One file per group and window, replaced each time: nothing piles up.
    assert [p.name for p in svc.chart_dir.iterdir()] == ["stats-local-4w.png"]
    assert drawn.charts[0].title == "Students wrote 0% of messages"


async def test_a_chart_that_fails_leaves_no_file_and_the_figures_still_come(
    w: World, tmp_path: Path
) -> None:
    svc = _svc(w)
    svc.charts, svc.chart_dir = Drawn(fail=True), tmp_path / "charts"
    report = await svc.report(w.group, 4)
    assert report.chart is None and report.stats.weeks
    assert list(svc.chart_dir.iterdir()) == []


async def test_the_rollup_keeps_finished_weeks_and_they_still_count(w: World) -> None:
    svc = _svc(w)
    await _say(w, KARI, "discussion")
    w.later(days=7)
    await _say(w, KARI, "discussion")
    rolled = await svc.rollup(w.group)
    assert len(rolled.weeks) == 52 and rolled.top_level == 2
    async with w.uow() as uow:
        # The week that ended (Monday 17 August, 00:00 in Oslo) is kept, the running one not.
        kept = await uow.kv.get(w.group.id, "activity.week.2026-08-16T22:00:00+00:00")
        running = await uow.kv.get(w.group.id, "activity.week.2026-08-23T22:00:00+00:00")
    assert kept is not None and running is None
    assert (await svc.compute(w.group, 2)).weekly_top == [1, 1]


# -- the weekly digest ------------------------------------------------------------------------


async def test_the_digest_lists_the_week_once_in_announcements(w: World) -> None:
    posts = w.bot.service(PostsService)
    await posts.create(w.group, INGRID, KINDS["event"], EVENT)
    old_job = (await posts.create(w.group, INGRID, KINDS["job"], JOB)).post
    w.later(days=7, hours=3)  # Monday 12:00 a week later
    new_job = (await posts.create(w.group, INGRID, KINDS["job"], {**JOB, "title": "Tailor"})).post
    async with w.uow() as uow:
        now = w.ws.clock.now()
        await uow.members.save(Member(w.group.id, "kari", "Kari", joined_at=now))
        # Joined this week and left again: not welcomed in the digest.
        await uow.members.save(
            Member(w.group.id, "per", "Per", joined_at=now - dt.timedelta(days=1), left_at=now)
        )
    digest = await _svc(w).digest(w.group, "2026-W35")
    assert digest.posted is not None and digest.skipped is None
    assert [p.id for p in digest.jobs] == [new_job.id] and old_job.id != new_job.id
    assert [p.fields["title"] for p in digest.events] == ["Graduate show"]
    assert digest.members == ("Kari",)
    msg = w.channel("announcements")[-1]
    assert msg["id"] == digest.posted.id
    assert dict(msg["fields"]) == {
        "New jobs": "Tailor (Studio Nord)",
        "Coming events": "27 August 2026, 18:00 Graduate show",
        "Studio space for rent": "none this week",
        "Welcome to our new members": "Kari",
    }


async def test_a_quiet_week_gets_no_digest(w: World) -> None:
    w.later(days=7, hours=3)
    digest = await _svc(w).digest(w.group, "2026-W35")
    assert (digest.posted, digest.skipped, digest.empty) == (None, DigestSkipped.QUIET, True)
    assert w.channel("announcements") == []


async def test_without_announcements_the_digest_is_skipped(w: World) -> None:
    async with w.uow() as uow:
        await uow.members.save(Member(w.group.id, "kari", "Kari", joined_at=START))
        announcements = await uow.categories.get(w.group.id, "announcements")
        assert announcements is not None
        await uow.categories.save(replace(announcements, channel_id=None))
    digest = await _svc(w).digest(w.group, "2026-W34")
    assert (digest.posted, digest.skipped) == (None, DigestSkipped.NO_CHANNEL)
    assert digest.members == ("Kari",)


async def test_the_digest_reads_norwegian(w: World) -> None:
    async with w.uow() as uow:
        await uow.members.save(Member(w.group.id, "kari", "Kari", joined_at=START))
    nb = replace(w.group, language=Language.NB)
    await _svc(w).digest(nb, "2026-W34")
    msg = w.channel("announcements")[-1]
    assert str(msg["title"]).startswith("Denne uken i gruppen")
    assert dict(msg["fields"])["Nye jobber"] == "ingen denne uken"


async def test_the_digest_names_its_week_as_people_say_it_and_lists_members_in_words(
    w: World,
) -> None:
    async with w.uow() as uow:
        for user, name in (("kari", "Kari"), ("ola", "Ola"), ("x", "@everyone")):
            await uow.members.save(Member(w.group.id, user, name, joined_at=START))
    await _svc(w).digest(w.group, "2026-W34")
    # Next week (a period's digest is posted once, whatever calls it again).
    w.later(days=7)
    await _svc(w).digest(replace(w.group, language=Language.NB), "2026-W35")
    english, norwegian = w.channel("announcements")
    assert english["title"] == "This week in the group (week 34)"
    assert norwegian["title"] == "Denne uken i gruppen (uke 35)"
    welcomed = dict(norwegian["fields"])["Velkommen til nye medlemmer"]
    assert welcomed.endswith(", Kari og Ola") and "@everyone" not in welcomed


# -- used by the dashboard --------------------------------------------------------------------


async def test_the_dashboards_chart_is_drawn_again_only_when_its_figures_change(
    w: World, tmp_path: Path
) -> None:
    drawn = Drawn()
    svc = _svc(w)
    svc.charts, svc.chart_dir = drawn, tmp_path / "charts"
    await _say(w, KARI, "discussion")
    first = await svc.chart(w.group, 8)
    assert first is not None and await svc.chart(w.group, 8) == first
    assert len(drawn.charts) == 1
    await _say(w, KARI, "discussion")
    assert await svc.chart(w.group, 8) == first
    assert len(drawn.charts) == 2  # a new message: a new chart
    first.unlink()  # someone cleaned the data folder: drawn again, not a missing file
    assert (await svc.chart(w.group, 8)) == first and first.exists()
    # The figures without the chart are not drawn at all.
    assert (await svc.report(w.group, 8, chart=False)).chart is None and len(drawn.charts) == 3
    with pytest.raises(UserError):
        await svc.chart(w.group, 53)


async def test_the_tables_for_a_spreadsheet_per_week_channel_and_role(w: World) -> None:
    from bot.cogs.stats.views import table

    await _say(w, KARI, "discussion", n=2)
    await _say(w, KARI, "jobs")
    report = await _svc(w).report(w.group, 2, chart=False)
    header, rows = table(Language.EN, report, "weekly")
    assert header[:4] == ("Week starting", "Week", "Posts", "Replies")
    assert [r[2] for r in rows] == ["0", "3"]
    assert table(Language.NB, report, "channels") == (
        ("Kanal", "Innlegg"),
        [("#discussion", "2"), ("#jobs", "1")],  # the channels as they are called now
    )
    _, roles = table(Language.EN, report, "roles")
    assert roles[0] == ("students", "0") and ("others", "3") in roles  # every role, even at 0
    with pytest.raises(ValueError):
        table(Language.EN, report, "secrets")
