"""The process as hosts run it: SIGTERM, health, the Procfile's roles.

Each platform runs as the real `alumnibot` in a subprocess against the fakes (over real
sockets) and gets a real SIGTERM: it exits 0 within 10 s (Docker's default before SIGKILL),
its connection is closed and the activity counts it held in memory are written.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.health import serve_health
from bot.cog import Cog, command, job
from bot.core import Bot, Context, CoreConfig
from bot.domain import Group, Permission
from bot.lifecycle import Lifecycle, scheduler_check, start_scheduler, stop_in_order
from bot.messages import OutgoingMessage
from bot.scheduler import Scheduler
from storage.database import check, create_engine, upgrade
from storage.models import JobRunRow
from tests.conftest import make_group
from tests.fakes.discord_fake import running_fake_discord
from tests.fakes.slack_fake import FakeSlack, SlackDriver
from tests.process_harness import (
    BotProcess,
    PausableProxy,
    clean_env,
    free_port,
    health,
    wait_healthy,
)

ROOT = Path(__file__).resolve().parent.parent
# Docker and `docker stop` send SIGKILL 10 s after SIGTERM.
SIGKILL_AFTER = 10.0
OWNER_ID = 111_000_000_000_000_001
ALICE_ID = 333_000_000_000_000_003
SECRET = "process-test-signing-secret"


def activity_rows(tmp_path: Path) -> int:
    """Messages counted in the bot's SQLite database."""
    with sqlite3.connect(tmp_path / "bot.db") as db:
        return int(db.execute("SELECT count(*) FROM activity").fetchone()[0])


async def port_closed(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port any more."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


# -- SIGTERM, per platform -------------------------------------------------------------------


async def test_local_workspace_stops_on_sigterm_with_exit_0(tmp_path: Path) -> None:
    port = free_port()
    bot = await BotProcess.start(["run"], clean_env(tmp_path, PORT=str(port)), cwd=tmp_path)
    try:
        bot.type("/alumni setup")
        await bot.wait_for_output("#discussion")
        body = await wait_healthy(bot, port)
        assert body["checks"] == {"database": "ok"}
        code, seconds = await bot.terminate()  # stdin still open: it was waiting for a line
        print(f"local: stopped in {seconds:.2f} s")
        assert code == 0 and seconds < SIGKILL_AFTER, bot.err
        assert "Traceback" not in bot.err
        assert await port_closed(port)
    finally:
        await bot.kill()


async def test_discord_stops_on_sigterm_closes_the_gateway_and_writes_the_counts(
    tmp_path: Path,
) -> None:
    async with running_fake_discord() as fake:
        guild = fake.add_guild("Alumni", owner_id=OWNER_ID, community=True)
        fake.add_member(guild.id, ALICE_ID, "alice")
        port = free_port()
        env = clean_env(
            tmp_path,
            DISCORD_TOKEN=fake.token,
            DISCORD_API_URL=fake.base_url,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            PORT=str(port),
        )
        bot = await BotProcess.start(["run", "--role", "worker"], env, cwd=tmp_path)
        try:
            body = await wait_healthy(bot, port)
            assert body["checks"] == {"database": "ok", "gateway": "ok", "scheduler": "ok"}
            # The gateway drops and Discord holds the reconnect: health names the gateway.
            await fake.drop_connection(hold=True)
            status, body = await health(port)
            assert status == 503 and body["failing"] == ["gateway"], body
            fake.release_connection()
            await wait_healthy(bot, port)
            await fake.user_message(fake.text_channel_id(guild.id), ALICE_ID, "hello all")
            # Counts are written in batches, once a second: stop after the bot got the message
            # (milliseconds) but before the batch is due.
            await asyncio.sleep(0.5)
            code, seconds = await bot.terminate()
            print(f"discord: stopped in {seconds:.2f} s")
            assert code == 0 and seconds < SIGKILL_AFTER, bot.err
            assert not fake.connected
            assert activity_rows(tmp_path) == 1  # the count held in memory was written
            assert await port_closed(port)
        finally:
            await bot.kill()


async def test_slack_http_stops_on_sigterm_stops_listening_and_writes_the_counts(
    tmp_path: Path,
) -> None:
    async with FakeSlack() as fake:
        alice = fake.add_user("alice")
        port = free_port()
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.api_url,
            PORT=str(port),
        )
        bot = await BotProcess.start(["run", "--role", "web"], env, cwd=tmp_path)
        try:
            body = await wait_healthy(bot, port)  # /healthz on the same port as Slack's events
            assert body["checks"] == {"database": "ok", "scheduler": "ok"}
            driver = SlackDriver(fake, f"http://127.0.0.1:{port}/slack/events", SECRET)
            await driver.user_message(fake.general_id, alice, "hello all")
            await asyncio.sleep(0.5)
            code, seconds = await bot.terminate()
            print(f"slack http: stopped in {seconds:.2f} s")
            assert code == 0 and seconds < SIGKILL_AFTER, bot.err
            assert activity_rows(tmp_path) == 1
            assert await port_closed(port)  # Slack's retries go to the next process
        finally:
            await bot.kill()


async def test_slack_socket_mode_stops_on_sigterm_and_closes_the_socket(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        alice = fake.add_user("alice")
        port = free_port()
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_APP_TOKEN=fake.app_token,
            SLACK_API_URL=fake.api_url,
            PORT=str(port),
        )
        bot = await BotProcess.start(["run", "--role", "worker"], env, cwd=tmp_path)
        try:
            body = await wait_healthy(bot, port)
            assert body["checks"] == {"database": "ok", "socket": "ok", "scheduler": "ok"}
            await fake.wait_for_socket()
            await SlackDriver(fake).user_message(fake.general_id, alice, "hello all")
            await asyncio.sleep(0.5)
            code, seconds = await bot.terminate()
            print(f"socket mode: stopped in {seconds:.2f} s")
            assert code == 0 and seconds < SIGKILL_AFTER, bot.err
            assert not fake.socket_connected
            assert activity_rows(tmp_path) == 1
        finally:
            await bot.kill()


async def test_socket_mode_without_port_serves_no_http(tmp_path: Path) -> None:
    """Two workers on one host must not fight over a port nobody asked for."""
    async with FakeSlack() as fake:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_APP_TOKEN=fake.app_token,
            SLACK_API_URL=fake.api_url,
        )
        bot = await BotProcess.start(["run"], env, cwd=tmp_path)
        try:
            await fake.wait_for_socket(within=20)
            assert await port_closed(3000)
            code, _ = await bot.terminate()
            assert code == 0, bot.err
        finally:
            await bot.kill()


async def test_sigterm_while_the_database_hangs_still_stops_within_10_s(
    tmp_path: Path, pg_url: str
) -> None:
    from sqlalchemy.engine import make_url

    proxy = await PausableProxy(make_url(pg_url).port or 5432).start()
    url = make_url(pg_url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    async with FakeSlack() as fake:
        alice = fake.add_user("alice")
        port = free_port()
        env = clean_env(
            tmp_path,
            DATABASE_URL=url,
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.api_url,
            PORT=str(port),
        )
        bot = await BotProcess.start(["run"], env, cwd=tmp_path)
        try:
            await wait_healthy(bot, port)
            driver = SlackDriver(fake, f"http://127.0.0.1:{port}/slack/events", SECRET)
            await driver.user_message(fake.general_id, alice, "hello all")
            await asyncio.sleep(0.5)
            proxy.pause()  # the counts cannot be written, the pool cannot be closed politely
            code, seconds = await bot.terminate()
            print(f"stopped in {seconds:.2f} s with the database hanging")
            assert code == 0 and seconds < SIGKILL_AFTER, bot.err
            assert "could not write 1 activity counts" in bot.err  # said, not silent
        finally:
            proxy.resume()
            await bot.kill()
            await proxy.stop()


# -- the running job, handed back or finished ------------------------------------------------


class SlowJob(Cog):
    """A job that runs until told to finish (a long graduation, a paced roster)."""

    name = "slowjob"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.started = asyncio.Event()
        self.may_finish = asyncio.Event()
        self.runs = 0

    def _period(self, group: Group, now: object) -> str:
        return "2026-W34"

    @job("slow", _period)
    async def slow(self, group: Group, period: str) -> None:
        """Run until allowed to finish."""
        self.runs += 1
        self.started.set()
        await self.may_finish.wait()


async def job_status(engine: AsyncEngine) -> str | None:
    """The slow job's claim: running, done, or None (no claim)."""
    async with engine.connect() as conn:
        return await conn.scalar(select(JobRunRow.status).where(JobRunRow.job == "slow"))


def bot_with_slow_job(engine: AsyncEngine, instance: str) -> tuple[Bot, SlowJob]:
    """A local bot ("a process") with the slow job."""
    group = make_group(engine)
    bot = group.bot
    bot.config = CoreConfig(instance_id=instance)
    cog = SlowJob(bot)
    bot.add_cog(cog)
    return bot, cog


async def test_sigterm_mid_job_hands_the_job_back_to_the_next_process(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        await upgrade(engine)
        bot, cog = bot_with_slow_job(engine, "process-1")
        await bot.group("local")
        life = Lifecycle(stop_seconds=3.0)
        life.handle_signals()
        try:
            scheduler, loop = start_scheduler(life, bot, interval=0.05)
            await asyncio.wait_for(cog.started.wait(), 10)
            assert await job_status(engine) == "running"
            os.kill(os.getpid(), signal.SIGTERM)  # a real signal, to this process's handler
            await asyncio.wait_for(life.wait(), 2)
            started = time.monotonic()
            await stop_in_order(life, bot, scheduler=scheduler)
            assert time.monotonic() - started < 3.5 and loop.done()
        finally:
            life.restore_signals()
        assert await job_status(engine) == "released"  # handed back, not left for the lease
        # The next process (a deploy's new dyno) runs it at once, not 10 minutes later.
        successor, next_cog = bot_with_slow_job(engine, "process-2")
        next_cog.may_finish.set()
        ran = await Scheduler(successor).tick()
        assert ("local", "slow", "2026-W34") in ran and next_cog.runs == 1
        assert await job_status(engine) == "done"
    finally:
        await engine.dispose()


async def test_a_job_that_finishes_within_the_stop_is_done_and_not_run_again(
    engine: AsyncEngine,
) -> None:
    bot, cog = bot_with_slow_job(engine, "process-1")
    await bot.group("local")
    life = Lifecycle(stop_seconds=5.0)
    scheduler, _ = start_scheduler(life, bot, interval=0.05)
    await asyncio.wait_for(cog.started.wait(), 10)
    life.stop()
    asyncio.get_running_loop().call_later(0.3, cog.may_finish.set)
    await stop_in_order(life, bot, scheduler=scheduler)
    assert await job_status(engine) == "done" and cog.runs == 1
    successor, next_cog = bot_with_slow_job(engine, "process-2")
    assert ("local", "slow", "2026-W34") not in await Scheduler(successor).tick()
    assert next_cog.runs == 0


async def test_interactions_during_the_stop_are_answered_restarting(engine: AsyncEngine) -> None:
    group = make_group(engine)
    life = Lifecycle()
    life.attach(group.bot)
    await group.run("/alumni setup", "!in #discussion")
    life.stop()
    out = await group.run("/alumni help")
    assert "I am restarting right now, so nothing was changed" in out
    # Messages still count: the platform would not send them again.
    await group.run("hello")
    await group.bot.activity.flush()
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM activity")) == 1
    assert life.inflight == 0


class SlowCommand(Cog):
    """A command that takes a while (a roster import, a paced grant)."""

    name = "slowcommand"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.started = asyncio.Event()

    @command("slow", permission=Permission.MEMBER, help_key="core.restarting")
    async def slow(self, ctx: Context) -> None:
        """Answer after half a second."""
        self.started.set()
        await asyncio.sleep(0.5)
        await ctx.reply(OutgoingMessage("done slowly"))


async def test_the_stop_lets_an_event_being_handled_finish(engine: AsyncEngine) -> None:
    group = make_group(engine)
    cog = SlowCommand(group.bot)
    group.bot.add_cog(cog)
    life = Lifecycle()
    life.attach(group.bot)
    await group.run("/alumni help")
    running = asyncio.ensure_future(group.run("/alumni slow"))
    await asyncio.wait_for(cog.started.wait(), 5)
    assert life.inflight == 1
    life.stop()
    await stop_in_order(life, group.bot)
    assert any("done slowly" in line for line in group.lines)  # answered before the stop ended
    await running


# -- health over a real socket ---------------------------------------------------------------


async def test_health_names_the_database_when_it_stops_answering(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    proxy = await PausableProxy(make_url(pg_url).port or 5432).start()
    url = make_url(pg_url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    engine = create_engine(url)
    life = Lifecycle()

    async def database() -> None:
        await check(engine, seconds=1.5)

    life.add_check("database", database)
    runner, port = await serve_health(life, "127.0.0.1", 0)
    try:
        assert await health(port) == (200, {"ok": True, "checks": {"database": "ok"}})
        proxy.pause()
        started = time.monotonic()
        status, body = await health(port)
        assert status == 503 and body["failing"] == ["database"], body
        assert time.monotonic() - started < 3.0  # a load balancer does not wait long
        proxy.resume()
        assert (await health(port))[0] == 200
        life.stop()  # during the stop a load balancer takes the process out of rotation
        status, body = await health(port)
        assert status == 503 and body["checks"]["process"] == "stopping"
    finally:
        proxy.resume()
        await runner.cleanup()
        await engine.dispose()
        await proxy.stop()


async def test_health_names_a_scheduler_that_stalled_or_ended() -> None:
    life = Lifecycle()
    now = time.monotonic()
    life.add_check("fresh", scheduler_check(lambda: now - 30, lambda: False, 600))
    life.add_check("stalled", scheduler_check(lambda: now - 700, lambda: False, 600))
    life.add_check("ended", scheduler_check(lambda: now, lambda: True, 600))
    runner, port = await serve_health(life, "127.0.0.1", 0)
    try:
        status, body = await health(port)
    finally:
        await runner.cleanup()
    assert status == 503 and body["failing"] == ["ended", "stalled"]
    assert body["checks"]["stalled"].startswith("no tick for 70")
    assert body["checks"]["ended"] == "not running" and body["checks"]["fresh"] == "ok"


# -- the Procfile's roles --------------------------------------------------------------------


def procfile() -> dict[str, str]:
    """Process type -> command."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfile_runs_each_bot_in_one_process_type() -> None:
    types = {name: command.strip() for name, command in procfile().items()}
    assert types["web"] == "alumnibot run --role web"
    assert types["worker"] == "alumnibot run --role worker"
    assert types["release"] == "alumnibot db upgrade"


@pytest.mark.parametrize(
    ("role", "env", "expected"),
    [
        ("web", {"DISCORD_TOKEN": "x"}, "this bot runs as the worker process"),
        ("worker", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "runs as the web"),
        ("web", {"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "xapp-1"}, "runs as the worker"),
        ("worker", {}, "no platform token is set"),
    ],
)
async def test_a_process_type_refuses_a_bot_that_belongs_to_the_other(
    tmp_path: Path, role: str, env: dict[str, str], expected: str
) -> None:
    bot = await BotProcess.start(["run", "--role", role], clean_env(tmp_path, **env), tmp_path)
    try:
        code = await bot.wait(within=30)
    finally:
        await bot.kill()
    assert code == 1 and len(bot.err.strip().splitlines()) == 1
    assert expected in bot.err and not (tmp_path / "bot.db").exists()


async def test_health_answers_while_the_discord_bot_is_connecting(tmp_path: Path) -> None:
    """A Discord that does not let the bot in yet: health says which part waits."""
    async with running_fake_discord() as fake:
        fake.add_guild("Alumni", owner_id=OWNER_ID)
        await fake.drop_connection(hold=True)  # the gateway will not say hello
        port = free_port()
        env = clean_env(
            tmp_path,
            DISCORD_TOKEN=fake.token,
            DISCORD_API_URL=fake.base_url,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            PORT=str(port),
        )
        bot = await BotProcess.start(["run"], env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    status, body = await health(port)
                    break
                except (aiohttp.ClientError, OSError):
                    assert time.monotonic() < deadline, bot.err
                    await asyncio.sleep(0.1)
            assert status == 503 and body["failing"] == ["gateway"]
            assert body["checks"]["gateway"] == "connecting"
            code, seconds = await bot.terminate()
            assert code == 0 and seconds < SIGKILL_AFTER, bot.err
        finally:
            fake.release_connection()
            await bot.kill()
