"""A simulated term on PostgreSQL with two bot processes, a slow job, a kill and Slack 5xx.

Two "processes" (two real Bolt apps over HTTP, two Bot instances, each with its own engine,
instance id and scheduler) serve one fake Slack workspace and share one PostgreSQL database
and one simulated clock. Over six weeks:

- 21 students of Fashion 2026 join (a roster of 20 at the start, one more every week);
- in week 2 process A's digest post hangs for three of its leases (real time) while the clock
  jumps 11 minutes and process B ticks: A's heartbeat keeps the claim;
- on graduation day process A dies outright (the database never hears from it again, like
  `kill -9`) half-way through the graduation's Slack calls, leaving its claims behind;
- Slack then answers the retried invite with HTTP 500 three times (slack_sdk's own retry
  handler absorbs two).

At the end every scheduled post happened exactly once, every member was added to and removed
from each role channel once, staff heard of the failure once, and the database's roles equal
the members of Slack's role channels.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from adapters.slack.app import SlackApp, build_app, serve_http
from bot.core import CoreConfig
from bot.errors import StorageUnavailable
from bot.events import MessageRef
from bot.messages import OutgoingMessage
from bot.scheduler import Scheduler
from bot.settings import Settings
from storage.database import create_engine, upgrade
from storage.models import GrantQueueRow, MemberRoleRow, RoleRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.fakes.slack_fake import FakeSlack, SlackDriver
from tests.security.trust_helpers import s_text
from tests.slack_harness import ManualClock, listen

SECRET = "term-signing-secret"
LEASE = {"lease_seconds": 1.5, "heartbeat_seconds": 0.1}
WEEKS = 6
STEP = timedelta(hours=12)


class Process:
    """One bot process: its app served over HTTP, its scheduler, and a switch to kill it."""

    def __init__(self, sa: SlackApp, runner: web.AppRunner, url: str, fake: FakeSlack) -> None:
        self.sa, self.runner = sa, runner
        # What runs after each ack, watched from outside (the app keeps nothing of it).
        self.listeners = listen(sa)
        self.driver = SlackDriver(fake, url, SECRET)
        self.scheduler = Scheduler(sa.bot, **LEASE)
        self.alive = True

    async def kill(self, task: asyncio.Task[Any]) -> None:
        """Like `kill -9`: nothing this process does reaches the database or Slack again."""
        self.alive = False

        def dead() -> Any:
            raise StorageUnavailable("process killed")

        self.sa.bot.uow = dead  # type: ignore[assignment]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self.runner.cleanup()


async def test_a_term_of_two_processes_with_a_slow_job_a_kill_and_slack_500s(
    pg_url: str,
) -> None:
    clock = ManualClock(START)
    fake = await FakeSlack(plan="pro").start()
    engines = [create_engine(pg_url), create_engine(pg_url)]
    procs: list[Process] = []
    try:
        await upgrade(engines[0])
        admin = fake.add_user("admin", email="admin@example.org", is_admin=True)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=fake.bot_token,
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
        )
        for i, engine in enumerate(engines):
            sa = build_app(
                settings,
                UnitOfWorkFactory(engine),
                config=CoreConfig(instance_id=f"proc-{i}"),
                clock=clock,
            )
            runner, port = await serve_http(sa, "127.0.0.1", 0)
            procs.append(Process(sa, runner, f"http://127.0.0.1:{port}/slack/events", fake))
        a, b = procs
        added, removed = _track_role_channels(fake)

        async def command(p: Process, text: str) -> list[str]:
            d = await p.driver.slash_command(admin, fake.general_id, "/alumni", text)
            await p.listeners.settle(within=30)
            return [r.get("text", "") for r in fake.responses(d.response_url or "")]

        async def join(p: Process, name: str) -> str:
            uid = fake.add_user(name, email=f"{name}@example.com")
            before = p.listeners.received["team_join"]
            await p.driver.team_join(uid)
            await fake.wait_for(lambda: p.listeners.received["team_join"] == before + 1)
            await p.listeners.settle(within=30)
            return uid

        async def tick(*ps: Process) -> None:
            await asyncio.gather(*(p.scheduler.tick() for p in ps if p.alive))

        # Week 1: setup; the class is in the workspace; the teacher's roster grants it at once
        # (one batch through the grant queue).
        await command(a, "setup")
        await command(a, "cohort create program:Fashion year:2026 graduates:2026-09-09")
        names = [f"s{i:02d}" for i in range(20)]
        students = [await join(a, n) for n in names]
        emails = ", ".join(f"{n}@example.com" for n in names)
        await command(a, f'invite cohort:"Fashion 2026" emails:"{emails}"')
        # Long work reports in one DM message the bot keeps editing (a response_url takes
        # only five posts).
        progress = [
            str(m.get("text", ""))
            for m in fake.messages(fake.open_im(admin).id)
            if "Granting roles" in str(m.get("text", ""))
        ]
        assert progress and "Granting roles: 20 of 20 done." in progress[-1], progress

        # Process A's digest hangs for three leases of real time in week 2.
        hung = _hang_digest(a, week="2026-W35", seconds=4.5)
        graduation_day = START + timedelta(days=23)  # Wednesday 2026-09-09, 09:00 in Oslo
        while clock.now() < START + timedelta(weeks=WEEKS):
            if clock.now().weekday() == 0 and clock.now().hour == 7 and clock.now() > START:
                students.append(await join(b if not a.alive else a, f"late{len(students)}"))
            if a.alive and clock.now() >= graduation_day:
                await _graduation_with_a_kill(a, b, fake, tick)
            elif hung.armed and clock.now() >= START + timedelta(weeks=1, hours=3):
                first = asyncio.create_task(a.scheduler.tick())
                await hung.started.wait()
                for _ in range(4):  # B ticks while A is stuck; the clock jumps 11 minutes
                    clock.advance(timedelta(minutes=11) / 4)
                    await b.scheduler.tick()
                    await asyncio.sleep(0.5)
                await first
                hung.armed = False
            else:
                await tick(a, b)
            clock.advance(STEP)
        await tick(b)
        await b.listeners.settle(within=30)

        # -- every scheduled post exactly once ------------------------------------------
        announcements = fake.channel_by_name("alumni-announcements").messages
        digests = Counter(
            s_text(m).split("This week in the group (")[1].split(")")[0]
            for m in announcements
            if "This week in the group (" in s_text(m)
        )
        assert digests == {f"week {w}": 1 for w in range(34, 34 + WEEKS)}, digests
        congratulations = [m for m in announcements if "Congratulations, Fashion 2026" in s_text(m)]
        assert len(congratulations) == 1
        assert "roles updated for 20 members" in s_text(congratulations[0])
        discussion = fake.channel_by_name("alumni-discussion").messages
        questions = [m for m in discussion if m.get("thread_ts") in (None, m["ts"])]
        assert len(questions) == WEEKS
        for q in questions[:-1]:  # each question's recap, once, in its thread
            recaps = [
                m
                for m in discussion
                if m.get("thread_ts") == q["ts"] and m is not q and m.get("bot_id")
            ]
            assert len(recaps) == 1, s_text(q)

        # -- every grant applied once, staff told once ----------------------------------
        alumni, student = "alumni-role-alumni", "alumni-role-student"
        assert all(added[(alumni, u)] == 1 for u in students[:20]), added
        assert all(added[(student, u)] == 1 and removed[(student, u)] == 1 for u in students[:20])
        assert not [k for k, n in added.items() if n > 1]
        review = [s_text(m) for m in fake.channel_by_name("alumni-staff-review").messages]
        assert len([r for r in review if "did not take effect" in r]) == 1, review
        assert len([r for r in review if "have now taken effect for 20 members" in r]) == 1

        # -- the database equals the platform -------------------------------------------
        async with engines[1].connect() as conn:
            roles = dict((await conn.execute(select(RoleRow.key, RoleRow.platform_id))).all())
            holders = (
                await conn.execute(select(MemberRoleRow.role_key, MemberRoleRow.user_id))
            ).all()
            queue = (await conn.execute(select(GrantQueueRow.status))).scalars().all()
        assert set(queue) == {"done"}
        for key, platform_id in roles.items():
            channel = fake.channels[str(platform_id).split(":")[0]]
            on_slack = set(channel.members) - {fake.bot_user_id}
            in_db = {u for k, u in holders if k == key}
            assert on_slack == in_db, (key, on_slack ^ in_db)
    finally:
        for p in procs:
            if p.alive:
                await p.runner.cleanup()
            await p.sa.aclose()
        for e in engines:
            await e.dispose()
        await fake.stop()


class _Hang:
    def __init__(self) -> None:
        self.armed = True
        self.started = asyncio.Event()


def _hang_digest(p: Process, week: str, seconds: float) -> _Hang:
    """Process p's platform hangs on one week's digest post (real time)."""
    hang = _Hang()
    real = p.sa.bot.workspace.send

    async def send(
        gid: str, cid: str, message: OutgoingMessage, thread_id: str | None = None
    ) -> MessageRef:
        # The digest's title names its week as people say it: "(week 35)".
        label = f"(week {int(week.split('-W')[1])})"
        if hang.armed and label in (message.title or ""):
            hang.started.set()
            await asyncio.sleep(seconds)
        return await real(gid, cid, message, thread_id)

    p.sa.bot.workspace.send = send  # type: ignore[method-assign]
    return hang


async def _graduation_with_a_kill(
    a: Process,
    b: Process,
    fake: FakeSlack,
    tick: Callable[..., Awaitable[None]],
) -> None:
    """A starts the graduation and dies half-way through its Slack calls; Slack then fails
    three times with HTTP 500; B takes the claims over once their leases lapsed."""
    real_kick = fake.api_conversations_kick
    kicks = 0
    dying = asyncio.Event()
    forever = asyncio.Event()

    async def kick(params: dict[str, Any]) -> dict[str, Any]:
        nonlocal kicks
        kicks += 1
        if kicks == 8 and a.alive:
            dying.set()
            await forever.wait()  # the answer never reaches the dead process
        return await real_kick(params)

    fake.api_conversations_kick = kick  # type: ignore[method-assign]
    graduation = asyncio.create_task(a.scheduler.tick())
    await dying.wait()
    await a.kill(graduation)
    forever.set()
    fake.api_conversations_kick = real_kick  # type: ignore[method-assign]
    # Three 500s: slack_sdk retries a 500 twice itself, so the call fails once for the bot.
    fake.inject_error("conversations.invite", "internal_error", times=3, status=500)
    await asyncio.sleep(1.8)  # A's leases (1.5 s) lapse: its claims are free again
    await tick(b)


def _track_role_channels(
    fake: FakeSlack,
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """Count what Slack actually did: (channel name, user) added to and removed from channels."""
    added: Counter[tuple[str, str]] = Counter()
    removed: Counter[tuple[str, str]] = Counter()
    invite, kick = fake.api_conversations_invite, fake.api_conversations_kick

    async def counted_invite(params: dict[str, Any]) -> dict[str, Any]:
        ch = fake.channels.get(str(params.get("channel")))
        before = set(ch.members) if ch else set()
        out = await invite(params)
        if ch is not None:
            for u in set(ch.members) - before:
                added[(ch.name, u)] += 1
        return out

    async def counted_kick(params: dict[str, Any]) -> dict[str, Any]:
        ch = fake.channels.get(str(params.get("channel")))
        before = set(ch.members) if ch else set()
        out = await kick(params)
        if ch is not None:
            for u in before - set(ch.members):
                removed[(ch.name, u)] += 1
        return out

    fake.api_conversations_invite = counted_invite  # type: ignore[method-assign]
    fake.api_conversations_kick = counted_kick  # type: ignore[method-assign]
    return added, removed
