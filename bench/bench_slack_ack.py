"""Time to ack on Slack: 200 concurrent signed `/alumni help` commands, alumnibot vs a bare app.

Four processes, so that no one's event loop stands in another's way:
- the fake Slack (Web API, response_urls), answering every Web API call after 1 s;
- a bare AsyncApp that only acks;
- alumnibot's app (every cog, SQLite), which acks and then does the work;
- this one, the load: it signs the requests and times each HTTP answer (Slack's ack).
Both apps run side by side (the same aiohttp listen queue) and get their bursts at the same
moment, ROUNDS times, so that what else the machine does slows both alike; the figures are over
all rounds. Slack allows 3000 ms from the request's arrival.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SECRET = "bench-secret"
N = 200
ROUNDS = 6
LATENCY = 1.0  # seconds every Web API call takes at the fake Slack


async def _until(stop: Any) -> None:
    while not stop.is_set():  # noqa: ASYNC110 (a multiprocessing event)
        await asyncio.sleep(0.1)


def run_fake(ready: Any, stop: Any, count: int) -> None:
    """The fake Slack: hands out its URL, token, user and pre-issued interaction ids."""
    from tests.fakes.slack_fake import FakeSlack

    async def main() -> None:
        fake = await FakeSlack().start()
        fake.latency = LATENCY
        user = fake.add_user("bench", is_admin=True)
        ready.put(
            {
                "api_url": fake.api_url,
                "token": fake.bot_token,
                "team": fake.team["id"],
                "channel": fake.general_id,
                "user": user,
                "response_urls": [
                    fake.new_response_url("command", user, fake.general_id) for _ in range(count)
                ],
                "trigger_ids": [fake.issue_trigger_id() for _ in range(count)],
            }
        )
        await _until(stop)
        await fake.stop()

    asyncio.run(main())


def run_bare(ready: Any, stop: Any, api_url: str, token: str) -> None:
    """A bare AsyncApp whose only listener acks."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack.app import LISTEN_BACKLOG, freeze_heap

    async def main() -> None:
        app = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url), signing_secret=SECRET)

        @app.command("/alumni")
        async def only_ack(ack: Any) -> None:
            await ack()

        runner = web.AppRunner(app.web_app(path="/slack/events"), handle_signals=False)
        await runner.setup()
        # The same listen queue as alumnibot's server: the apps are compared, not the servers.
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        # Bolt calls auth.test on the first request; pay it now, not in the measurement.
        await app.client.auth_test()
        freeze_heap()  # the same treatment as alumnibot's process
        ready.put(f"http://127.0.0.1:{port}/slack/events")
        await _until(stop)
        await runner.cleanup()

    asyncio.run(main())


def run_alumnibot(ready: Any, stop: Any, api_url: str, token: str) -> None:
    """alumnibot's Slack app with every cog, on a fresh SQLite database."""
    from adapters.slack.app import build_app, freeze_heap, serve_http
    from bot.core import CoreConfig
    from bot.settings import Settings
    from storage.database import create_engine, upgrade
    from storage.uow import UnitOfWorkFactory

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
            await upgrade(engine)
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                slack_bot_token=token,
                slack_signing_secret=SECRET,
                slack_api_url=api_url,
            )
            sa = build_app(settings, UnitOfWorkFactory(engine), config=CoreConfig(instance_id="b"))
            runner, port = await serve_http(sa, "127.0.0.1", 0)
            freeze_heap()  # as run_slack does once it serves
            ready.put(f"http://127.0.0.1:{port}/slack/events")
            await _until(stop)
            await runner.cleanup()
            await engine.dispose()

    asyncio.run(main())


def signed(body: str) -> dict[str, str]:
    """Slack's headers for a body signed now."""
    from tests.fakes.slack_fake import sign

    ts = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SECRET, ts, body),
    }


async def fire(session: aiohttp.ClientSession, url: str, body: str) -> float:
    """One signed slash command; seconds until its ack (the HTTP answer) arrived."""
    headers = signed(body)
    start = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    return time.perf_counter() - start


async def burst(url: str, bodies: list[str]) -> list[float]:
    """All bodies at once, each on its own connection."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(fire(session, url, b) for b in bodies)))


def pct(samples: list[float], q: float) -> float:
    """A percentile in milliseconds."""
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Start the three processes, load both apps and print p50/p99 time to ack."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    queues = [ctx.Queue() for _ in range(3)]
    count = (N + 1) * ROUNDS * 2
    fake = ctx.Process(target=run_fake, args=(queues[0], stop, count))
    fake.start()
    info = queues[0].get(timeout=60)
    apps = [
        ctx.Process(target=target, args=(q, stop, info["api_url"], info["token"]))
        for target, q in ((run_bare, queues[1]), (run_alumnibot, queues[2]))
    ]
    for p in apps:
        p.start()
    urls = {"bare AsyncApp": queues[1].get(timeout=60), "alumnibot": queues[2].get(timeout=120)}
    ids = iter(zip(info["response_urls"], info["trigger_ids"], strict=True))

    def bodies(n: int) -> list[str]:
        out = []
        for response_url, trigger_id in (next(ids) for _ in range(n)):
            fields = {
                "team_id": info["team"],
                "channel_id": info["channel"],
                "user_id": info["user"],
                "user_name": "bench",
                "command": "/alumni",
                "text": "help",
                "response_url": response_url,
                "trigger_id": trigger_id,
            }
            out.append(urlencode(fields))
        return out

    pids = {"bare AsyncApp": apps[0].pid, "alumnibot": apps[1].pid}

    def cpu(name: str) -> float:
        """The app process's CPU seconds so far (Linux /proc; 0 elsewhere)."""
        stat = Path(f"/proc/{pids[name]}/stat")
        if not stat.exists():
            return 0.0
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    cpu_used: dict[str, float] = {name: 0.0 for name in urls}

    async def load() -> dict[str, list[float]]:
        results: dict[str, list[float]] = {name: [] for name in urls}
        for url in urls.values():
            await burst(url, bodies(1))  # warm-up: first connection, first group row
        await asyncio.sleep(2 * LATENCY + 1)
        names = list(urls)
        for _ in range(ROUNDS):
            # Both apps get their burst at the same moment, so whatever else the machine is
            # doing slows both alike; each burst's requests are sent interleaved.
            before = {name: cpu(name) for name in names}
            rounds = await asyncio.gather(*(burst(urls[name], bodies(N)) for name in names))
            for name, got in zip(names, rounds, strict=True):
                results[name] += got
                cpu_used[name] += cpu(name) - before[name]
            # Let alumnibot finish the round's work (1 s Web API calls) before the next.
            await asyncio.sleep(4 * LATENCY + 2)
        return results

    try:
        results = asyncio.run(load())
    finally:
        stop.set()
        for p in apps:
            p.join(30)
        fake.join(30)
    print(
        f"{N} concurrent signed slash commands over HTTP, {ROUNDS} rounds, load from its own "
        f"process, {LATENCY * 1000:.0f} ms Web API latency; time to ack:"
    )
    for name, samples in results.items():
        print(
            f"  {name:14s} p50 {pct(samples, 0.5):7.1f} ms   p99 {pct(samples, 0.99):7.1f} ms"
            f"   mean {1000 * statistics.mean(samples):7.1f} ms   max {max(samples) * 1000:7.1f} ms"
        )
    bare, ours = results["bare AsyncApp"], results["alumnibot"]
    print(
        f"  ratio alumnibot / bare: p50 {pct(ours, 0.5) / pct(bare, 0.5):.2f}x, "
        f"p99 {pct(ours, 0.99) / pct(bare, 0.99):.2f}x (goal: at most 1.2x; Slack's limit 3000 ms)"
    )
    for name, used in cpu_used.items():
        print(f"  {name}: {1000 * used / (N * ROUNDS):.2f} ms of CPU per request during the bursts")
    late = sum(1 for samples in results.values() for s in samples if s > 3.0)
    print(f"  acks after Slack's 3 s: {late}")


if __name__ == "__main__":
    main()
