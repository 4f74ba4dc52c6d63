"""A reusable Slack test harness: the real app over real sockets against the fake Slack.

async with slack_harness(engine) as h:          # or mode="socket"
    fake, driver, bot, uow = h
    await driver.slash_command(h.admin, fake.general_id, "/alumni", "setup")
    await h.settle()                            # listeners finish after the ack
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.app import SlackApp, build_app, serve_http
from bot.cog import Cog
from bot.core import Bot, CoreConfig
from bot.ports import Clock
from bot.scheduler import Scheduler
from bot.settings import Settings
from storage.uow import UnitOfWorkFactory
from tests.fakes.slack_fake import FakeSlack, SlackDriver

SECRET = "harness-signing-secret"


@dataclass
class SlackHarness:
    """The fake, a driver for the app, the core bot and storage; unpacks as those four."""

    fake: FakeSlack
    driver: SlackDriver
    bot: Bot
    uow: UnitOfWorkFactory
    app: SlackApp
    admin: str
    url: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.fake, self.driver, self.bot, self.uow))

    async def settle(self, within: float = 5.0) -> None:
        """Wait until every listener the deliveries started has finished."""
        await self.app.settle(within)

    async def command(self, user: str, text: str, channel: str | None = None) -> list[str]:
        """Run `/alumni <text>` and return the texts the app answered on the response_url."""
        d = await self.driver.slash_command(user, channel or self.fake.general_id, "/alumni", text)
        await self.settle()
        return [r.get("text", "") for r in self.fake.responses(d.response_url or "")]

    async def tick(self) -> list[tuple[str, str, str]]:
        """One scheduler tick at the bot's clock (weekly questions, recaps, queues)."""
        ran = await Scheduler(self.bot).tick()
        await self.settle()
        return ran


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        """The clock's time."""
        return self.moment

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.moment += delta


@asynccontextmanager
async def slack_harness(
    engine: AsyncEngine,
    *,
    mode: str = "http",
    plan: str = "pro",
    extra_cogs: Iterable[type[Cog]] = (),
    settings: dict[str, Any] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[SlackHarness]:
    """Start the fake Slack and the real app (HTTP on 127.0.0.1:0, or Socket Mode)."""
    fake = await FakeSlack(plan=plan).start()
    admin = fake.add_user("admin", email="admin@example.org", is_admin=True)
    uow = UnitOfWorkFactory(engine)
    s = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=fake.bot_token,
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        slack_app_token=fake.app_token if mode == "socket" else None,
        **(settings or {}),
    )
    sa = build_app(
        s, uow, config=CoreConfig(instance_id="test"), extra_cogs=extra_cogs, clock=clock
    )
    runner = None
    handler = None
    try:
        if mode == "socket":
            handler = AsyncSocketModeHandler(sa.app, app_token=fake.app_token)
            await handler.connect_async()
            await fake.wait_for_socket()
            yield SlackHarness(fake, SlackDriver(fake), sa.bot, uow, sa, admin)
        else:
            runner, port = await serve_http(sa, "127.0.0.1", 0)
            url = f"http://127.0.0.1:{port}/slack/events"
            yield SlackHarness(fake, SlackDriver(fake, url, SECRET), sa.bot, uow, sa, admin, url)
        await sa.settle()
    finally:
        if handler is not None:
            await handler.close_async()
        if runner is not None:
            await runner.cleanup()
        await sa.aclose()
        await fake.stop()
