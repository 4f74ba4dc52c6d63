"""200 concurrent signed `/alumni` slash commands over HTTP: time to ack, alumnibot vs a bare app.

Both apps run in this process on 127.0.0.1, against the fake Slack Web API, in the same run.
The bare AsyncApp only acks; alumnibot's app acks and then runs the command in the background.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.slack.app import build_app, serve_http
from bot.core import CoreConfig
from bot.settings import Settings
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.fakes.slack_fake import FakeSlack, sign

SECRET = "bench-secret"
N = 200


async def fire(session: aiohttp.ClientSession, url: str, fake: FakeSlack, user: str) -> float:
    """One signed slash command; seconds until the ack (the HTTP response) arrived."""
    body = urlencode(
        {
            "team_id": fake.team["id"],
            "channel_id": fake.general_id,
            "user_id": user,
            "user_name": "bench",
            "command": "/alumni",
            "text": "help",
            "response_url": fake.new_response_url(),
            "trigger_id": fake.issue_trigger_id(),
        }
    )
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SECRET, ts, body),
    }
    start = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    return time.perf_counter() - start


async def burst(url: str, fake: FakeSlack, user: str) -> list[float]:
    """N commands at once over one connection pool."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await fire(session, url, fake, user)  # warm-up
        return list(await asyncio.gather(*(fire(session, url, fake, user) for _ in range(N))))


def pct(samples: list[float], q: float) -> float:
    """A percentile in milliseconds."""
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    """Run both apps and print p50/p99 time to ack."""
    fake = await FakeSlack().start()
    user = fake.add_user("bench", is_admin=True)
    bare = AsyncApp(
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
        signing_secret=SECRET,
    )

    @bare.command("/alumni")
    async def only_ack(ack):  # type: ignore[no-untyped-def]
        await ack()

    bare_runner = web.AppRunner(bare.web_app(path="/slack/events"), handle_signals=False)
    await bare_runner.setup()
    site = web.TCPSite(bare_runner, "127.0.0.1", 0)
    await site.start()
    bare_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events"  # type: ignore[union-attr]

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(engine)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=fake.bot_token,
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
        )
        sa = build_app(settings, UnitOfWorkFactory(engine), config=CoreConfig(instance_id="b"))
        runner, port = await serve_http(sa, "127.0.0.1", 0)
        ours_url = f"http://127.0.0.1:{port}/slack/events"
        results = {}
        for name, url in (("bare AsyncApp", bare_url), ("alumnibot", ours_url)):
            results[name] = await burst(url, fake, user)
            await sa.settle(within=120)
        print(f"{N} concurrent signed slash commands over HTTP, time to ack:")
        for name, samples in results.items():
            print(
                f"  {name:14s} p50 {pct(samples, 0.5):7.1f} ms   p99 {pct(samples, 0.99):7.1f} ms"
                f"   mean {1000 * statistics.mean(samples):7.1f} ms"
            )
        ratio = pct(results["alumnibot"], 0.99) / pct(results["bare AsyncApp"], 0.99)
        print(f"  p99 ratio alumnibot / bare: {ratio:.2f}x (Slack's limit is 3000 ms)")
        await runner.cleanup()
        await engine.dispose()
    await bare_runner.cleanup()
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
