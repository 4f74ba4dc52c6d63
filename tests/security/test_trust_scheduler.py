"""Item 9: a job runs once even when it is slow, when the clock jumps, and in two processes.

Two "processes" are two Bot instances with their own engines and instance ids on one database,
sharing one platform (the local workspace), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.local.terminal import Terminal
from adapters.local.workspace import LocalWorkspace
from bot.cog import Cog, job
from bot.core import Bot, CoreConfig
from bot.domain import Group
from bot.events import MessageRef
from bot.features import load_all
from bot.messages import OutgoingMessage
from bot.scheduler import Scheduler, post_once
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import START

BACKENDS = ["sqlite", "postgresql"]
COHORT = "/alumni cohort create program:Fashion year:2026 graduates:2026-12-15"


@dataclass
class Two:
    """Two bot processes on one database and one platform."""

    ws: LocalWorkspace
    bots: list[Bot]
    schedulers: list[Scheduler]
    terminal: Terminal
    lines: list[str]


@asynccontextmanager
async def two_processes(
    backend: str, tmp_path: Path, pg_url: str, **scheduler_args: float
) -> AsyncIterator[Two]:
    url = pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/two.db"
    engines = [create_engine(url), create_engine(url)]
    try:
        await upgrade(engines[0])
        lines: list[str] = []
        ws = LocalWorkspace(None, out=lines.append, start=START)
        bots = [
            load_all(Bot(ws, UnitOfWorkFactory(e), ws.clock, CoreConfig(instance_id=f"proc-{i}")))
            for i, e in enumerate(engines)
        ]
        schedulers = [Scheduler(b, **scheduler_args) for b in bots]  # type: ignore[arg-type]
        # The terminal of process 0 never ticks on its own here: the test decides when.
        terminal = Terminal(bots[0], ws, Scheduler(bots[0], **scheduler_args))  # type: ignore[arg-type]
        yield Two(ws, bots, schedulers, terminal, lines)
    finally:
        for e in engines:
            await e.dispose()


def titled(ws: LocalWorkspace, channel: str, start: str) -> list[dict[str, object]]:
    cid = ws.channel_by_name(channel)
    assert cid is not None
    return [m for m in ws.state["channels"][cid]["messages"] if str(m["title"]).startswith(start)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_slow_digest_while_the_clock_moves_11_minutes_is_posted_once(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with two_processes(backend, tmp_path, pg_url) as two:
        ws = two.ws
        for line in ("/alumni setup", "!join kari"):
            await two.terminal.line(line)
        ws.clock.advance(timedelta(hours=3, minutes=1))  # Monday 12:01 in Oslo: digest time
        release = asyncio.Event()
        real_send = ws.send
        hung: list[str] = []

        async def slow_send(
            gid: str, cid: str, msg: OutgoingMessage, thread_id: str | None = None
        ) -> MessageRef:
            if msg.title.startswith("This week in the group") and not hung:
                hung.append(cid)
                await release.wait()  # the platform hangs on the first digest post
            return await real_send(gid, cid, msg, thread_id)

        ws.send = slow_send  # type: ignore[method-assign]
        first = asyncio.create_task(two.schedulers[0].tick())
        await asyncio.sleep(0.5)
        ws.clock.advance(timedelta(minutes=11))  # past the old 10-minute claim
        for _ in range(3):
            await two.schedulers[1].tick()
            await asyncio.sleep(0.1)
        release.set()
        await first
        for _ in range(2):
            await two.schedulers[1].tick()
        assert len(titled(ws, "announcements", "This week in the group")) == 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_graduation_and_the_other_processes_grant_queue_apply_each_change_once(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with two_processes(backend, tmp_path, pg_url) as two:
        ws = two.ws
        names = [f"s{i:02d}" for i in range(20)]
        emails = ", ".join(f"{n}@example.com" for n in names)
        await two.terminal.line("/alumni setup")
        await two.terminal.line(COHORT)
        await two.terminal.line(f'/alumni invite cohort:"Fashion 2026" emails:"{emails}"')
        for n in names:
            await two.terminal.line(f"!join {n} {n}@example.com")
        assert all(ws.role_names(n) == ["Fashion 2026", "student"] for n in names)

        calls: dict[str, int] = {}
        started = asyncio.Event()
        real = ws.set_roles

        async def slow_set_roles(
            gid: str, uid: str, add: Sequence[str], remove: Sequence[str]
        ) -> None:
            calls[uid] = calls.get(uid, 0) + 1
            started.set()
            await asyncio.sleep(0.02)  # a platform paced at 50 requests a second
            await real(gid, uid, add, remove)

        ws.set_roles = slow_set_roles  # type: ignore[method-assign]
        # 2026-12-15 09:00 in Oslo: graduation day, and the top of an hour.
        ws.clock.advance(timedelta(days=120, hours=1))
        graduation = asyncio.create_task(two.schedulers[0].tick())
        await started.wait()
        await two.schedulers[1].tick()  # the other process's hourly grant queue
        await graduation
        await two.schedulers[1].tick()
        assert all(ws.role_names(n) == ["Fashion 2026", "alumni"] for n in names)
        assert calls == {n: 1 for n in names}, calls
        posts = titled(ws, "announcements", "Congratulations, Fashion 2026")
        assert len(posts) == 1
        assert "roles updated for 20 members" in str(posts[0]["text"])


class SlowPost(Cog):
    """A job that waits (a slow platform, a stalled process) and then posts once per period."""

    name = "slow-post"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.seconds = 0.0
        self.posted: list[str] = []

    def _due(self, group: Group, now: datetime) -> str | None:
        return "2026-W34"

    @job("slow-post", period=_due)
    async def run(self, group: Group, period: str) -> None:
        """Wait, then post through `post_once`."""
        self.started.set()
        if self.seconds:
            await asyncio.sleep(self.seconds)
        else:
            await self.gate.wait()

        async def send() -> MessageRef:
            self.posted.append(self.bot.config.instance_id)
            return MessageRef("C1", str(len(self.posted)))

        await post_once(self.bot, group.id, f"slow:{period}", send)


@asynccontextmanager
async def slow_pair(
    backend: str, tmp_path: Path, pg_url: str, args: Sequence[dict[str, float]]
) -> AsyncIterator[tuple[list[Scheduler], list[SlowPost], list[str]]]:
    """Two processes running only SlowPost, with posts shared in one list."""
    url = pg_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/slow.db"
    engines = [create_engine(url), create_engine(url)]
    try:
        await upgrade(engines[0])
        ws = LocalWorkspace(None, out=lambda _: None, start=START)
        posted: list[str] = []
        bots, cogs = [], []
        for i, e in enumerate(engines):
            bot = Bot(ws, UnitOfWorkFactory(e), ws.clock, CoreConfig(instance_id=f"proc-{i}"))
            cog = SlowPost(bot)
            cog.posted = posted
            bot.add_cog(cog)
            bots.append(bot)
            cogs.append(cog)
        await bots[0].group("G")  # the group both serve
        schedulers = [Scheduler(b, **a) for b, a in zip(bots, args, strict=True)]
        yield schedulers, cogs, posted
    finally:
        for e in engines:
            await e.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_job_slower_than_its_lease_keeps_its_claim_by_heartbeat(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    short = {"lease_seconds": 1.5, "heartbeat_seconds": 0.1}
    async with slow_pair(backend, tmp_path, pg_url, [short, short]) as (schedulers, cogs, posted):
        cogs[0].seconds = cogs[1].seconds = 3.5  # more than two leases of real time
        first = asyncio.create_task(schedulers[0].tick())
        await cogs[0].started.wait()
        for _ in range(10):
            assert await schedulers[1].tick() == []
            await asyncio.sleep(0.3)
        assert [r[1] for r in await first] == ["slow-post"]
        assert posted == ["proc-0"] and not cogs[1].started.is_set()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_stalled_process_loses_its_claim_and_its_late_post_is_fenced_off(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    # Process 0 stalls (no heartbeat within its lease: a frozen VM, a long GC pause).
    stalled = {"lease_seconds": 0.5, "heartbeat_seconds": 30.0}
    alive = {"lease_seconds": 3.0, "heartbeat_seconds": 0.1}
    async with slow_pair(backend, tmp_path, pg_url, [stalled, alive]) as (
        schedulers,
        cogs,
        posted,
    ):
        first = asyncio.create_task(schedulers[0].tick())
        await cogs[0].started.wait()
        await asyncio.sleep(0.7)  # its lease lapsed
        second = asyncio.create_task(schedulers[1].tick())  # the other process takes over
        await cogs[1].started.wait()
        cogs[0].gate.set()  # the stalled process wakes up first and tries to post: fenced off
        assert await first == []
        cogs[1].gate.set()
        assert [r[1] for r in await second] == ["slow-post"]
        assert posted == ["proc-1"]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_stop_hands_the_running_jobs_claim_back_at_once(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with slow_pair(backend, tmp_path, pg_url, [{}, {}]) as (schedulers, cogs, posted):
        loop = asyncio.create_task(schedulers[0].run_forever(interval=0.05))
        await cogs[0].started.wait()
        assert await schedulers[1].tick() == []  # claimed (a 10-minute lease)
        await schedulers[0].stop()  # SIGTERM: the job stops and its claim is handed back
        assert loop.done() and posted == []
        cogs[1].gate.set()
        assert [r[1] for r in await schedulers[1].tick()] == ["slow-post"]
        assert posted == ["proc-1"]
        assert await schedulers[0].tick() == []  # a stopped scheduler runs nothing more
