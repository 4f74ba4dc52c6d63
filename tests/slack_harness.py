"""A reusable Slack test harness: the real app over real sockets against the fake Slack.

async with slack_harness(engine) as h:          # or mode="socket"
    fake, driver, bot, uow = h
    await driver.slash_command(h.admin, fake.general_id, "/alumni", "setup")
    await h.settle()                            # listeners finish after the ack
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener_completion_handler import AsyncListenerCompletionHandler
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.app import HttpLimits, SlackApp, build_app, serve_http
from bot.cog import Cog
from bot.core import Bot, CoreConfig
from bot.ports import Clock
from bot.scheduler import Scheduler
from bot.settings import Settings
from storage.uow import UnitOfWorkFactory
from tests.fakes.slack_fake import Delivery, FakeSlack, SlackDriver

SECRET = "harness-signing-secret"


def request_kind(body: dict[str, Any]) -> str:
    """ "command", "button", "view" or the event's type (what a listener ran for)."""
    if body.get("command"):
        return "command"
    kind = str(body.get("type", ""))
    if kind == "event_callback":
        return str((body.get("event") or {}).get("type", ""))
    return {"block_actions": "button", "view_submission": "view"}.get(kind, kind)


@dataclass
class Listeners:
    """Test-only: Bolt's own listener start/completion hooks count what runs after the ack.

    The app keeps nothing of its requests; tests that need to wait for the work a delivery
    started (it runs after the HTTP response) watch the listeners from outside.
    """

    received: Counter[str] = field(default_factory=Counter)
    running: int = 0

    def attach(self, app: AsyncApp) -> Listeners:
        """Wrap the app's listener runner hooks."""
        runner = app.listener_runner
        start, done = runner.listener_start_handler, runner.listener_completion_handler
        tracker = self

        class Started(AsyncListenerStartHandler):
            """Counts a listener in as it starts (then Bolt's own start handler runs)."""

            async def handle(self, request: AsyncBoltRequest, response: BoltResponse) -> None:
                """Count the run."""
                tracker.running += 1
                tracker.received[request_kind(request.body)] += 1
                await start.handle(request=request, response=response)

        class Finished(AsyncListenerCompletionHandler):
            """Counts a listener out when it is done, whatever the outcome."""

            async def handle(
                self, request: AsyncBoltRequest, response: BoltResponse | None
            ) -> None:
                """Uncount the run."""
                try:
                    await done.handle(request=request, response=response)
                finally:
                    tracker.running -= 1

        runner.listener_start_handler = Started()
        runner.listener_completion_handler = Finished()
        return self

    async def settle(self, within: float = 5.0) -> None:
        """Wait until no listener runs (the HTTP response comes before the work)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        quiet = 0
        while quiet < 3:
            await asyncio.sleep(0.01)
            quiet = quiet + 1 if self.running == 0 else 0
            if loop.time() > deadline:
                raise TimeoutError(f"{self.running} Slack listeners still running")


def listen(sa: SlackApp) -> Listeners:
    """Watch a SlackApp's listeners (see Listeners)."""
    return Listeners().attach(sa.app)


@dataclass
class SlackHarness:
    """The fake, a driver for the app, the core bot and storage; unpacks as those four."""

    fake: FakeSlack
    driver: SlackDriver
    bot: Bot
    uow: UnitOfWorkFactory
    app: SlackApp
    admin: str
    listeners: Listeners
    url: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.fake, self.driver, self.bot, self.uow))

    @property
    def received(self) -> Counter[str]:
        """Listener runs by kind ("command", "button", "view", "team_join", "message", ...)."""
        return self.listeners.received

    async def settle(self, within: float = 5.0) -> None:
        """Wait until every listener the deliveries started has finished."""
        await self.listeners.settle(within)

    def modal(self, delivery: Delivery) -> dict[str, Any]:
        """The modal a view_submission came from as the member sees it now (with `errors`
        an ack showed, and `closed` when the member no longer sees it)."""
        view_id = str((delivery.payload.get("view") or {}).get("id", ""))
        view = dict(self.fake.views.get(view_id) or {})
        view["errors"] = self.fake.view_errors.get(view_id, {})
        view["closed"] = view_id in self.fake.closed_views
        return view

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
    limits: HttpLimits | None = None,
    team_id: str = "T0FAKE0001",
) -> AsyncIterator[SlackHarness]:
    """Start the fake Slack and the real app (HTTP on 127.0.0.1:0, or Socket Mode)."""
    fake = await FakeSlack(team_id=team_id, plan=plan).start()
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
        s,
        uow,
        config=CoreConfig(instance_id="test"),
        extra_cogs=extra_cogs,
        clock=clock,
        limits=limits,
    )
    listeners = listen(sa)
    runner = None
    handler = None
    try:
        if mode == "socket":
            handler = AsyncSocketModeHandler(sa.app, app_token=fake.app_token)
            await handler.connect_async()
            await fake.wait_for_socket()
            yield SlackHarness(fake, SlackDriver(fake), sa.bot, uow, sa, admin, listeners)
        else:
            runner, port = await serve_http(sa, "127.0.0.1", 0)
            url = f"http://127.0.0.1:{port}/slack/events"
            driver = SlackDriver(fake, url, SECRET)
            yield SlackHarness(fake, driver, sa.bot, uow, sa, admin, listeners, url)
        await listeners.settle()
    finally:
        if handler is not None:
            await handler.close_async()
        if runner is not None:
            await runner.cleanup()
        await sa.aclose()
        await fake.stop()
