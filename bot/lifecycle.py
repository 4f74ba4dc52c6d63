"""A process as hosts run it: SIGTERM stops it in order within a deadline; health checks.

Heroku, Docker and systemd send SIGTERM and, after a grace period, SIGKILL (Docker and
`docker stop` wait 10 s, Heroku 30 s, systemd 90 s). The bot stops within STOP_SECONDS: it
stops taking events, lets the running job finish or hands it back, lets the events being
handled finish, writes the activity counts still in memory, and closes its connections.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.events import ButtonPressed, CommandInvoked, Event, FormSubmitted
from bot.scheduler import LEASE_SECONDS, Scheduler

if TYPE_CHECKING:
    from bot.core import Bot, Context

log = logging.getLogger(__name__)

# Under Docker's 10 s between SIGTERM and SIGKILL, with room for closing the database pool
# and the interpreter's exit (measured: about a second, more on a loaded machine).
STOP_SECONDS = 7.0
# How often the scheduler looks for due jobs.
TICK_SECONDS = 60.0
# A health check that takes longer than this is failing (a load balancer waits a few seconds).
CHECK_SECONDS = 2.0

# None when the part is fine, else a short description of what is wrong.
Check = Callable[[], Awaitable[str | None]]
# Events a member waits on: during the stop they are answered "restarting", not started.
_INTERACTIONS = (CommandInvoked, ButtonPressed, FormSubmitted)


class Lifecycle:
    """One process's stop signal, its health checks, and the events it is handling."""

    def __init__(self, stop_seconds: float = STOP_SECONDS) -> None:
        self.stop_seconds = stop_seconds
        self.stopping = asyncio.Event()
        self._forced = asyncio.Event()
        self._deadline: float | None = None
        self._checks: dict[str, Check] = {}
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._signals: list[signal.Signals] = []

    # -- stopping ----------------------------------------------------------------------------
    def handle_signals(self) -> None:
        """SIGTERM and SIGINT stop the process in order; a second one cuts the waiting short."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
            self._signals.append(sig)

    def restore_signals(self) -> None:
        """Give the signals back to Python's defaults (the loop is about to close)."""
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals.clear()

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.stopping.is_set():
            log.warning("%s again: stopping without waiting", sig.name)
            self._forced.set()
            return
        log.info("%s: stopping", sig.name)
        self.stop()

    def stop(self) -> None:
        """Begin the stop: the deadline starts now."""
        if not self.stopping.is_set():
            self._deadline = time.monotonic() + self.stop_seconds
            self.stopping.set()

    async def wait(self) -> None:
        """Until the process is asked to stop."""
        await self.stopping.wait()

    def remaining(self) -> float:
        """Seconds left before the stop deadline (the whole budget before the stop began)."""
        if self._forced.is_set():
            return 0.0
        if self._deadline is None:
            return self.stop_seconds
        return max(0.0, self._deadline - time.monotonic())

    async def step(
        self, name: str, work: Callable[[], Awaitable[object]] | Awaitable[object], leave: float
    ) -> None:
        """Run one stop step until it ends, the deadline less `leave` s, or a second signal.

        A step that fails or overruns is logged and the stop goes on: the next steps (closing
        the connections) matter more than a perfect earlier one. At least half a second is
        given even past the deadline, so connections are always closed.
        """
        budget = max(0.5, self.remaining() - leave)
        task = asyncio.ensure_future(work if inspect.isawaitable(work) else work())
        forced = asyncio.ensure_future(self._forced.wait())
        try:
            done, _ = await asyncio.wait(
                {task, forced}, timeout=budget, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            forced.cancel()
        if task not in done:
            log.warning("stop: %s did not finish within %.1f s", name, budget)
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        elif not task.cancelled() and task.exception() is not None:
            log.warning("stop: %s failed: %r", name, task.exception())

    # -- events ------------------------------------------------------------------------------
    def attach(self, bot: Bot) -> None:
        """Count the events the bot handles, and refuse interactions once stopping."""
        bot.middleware.append(self._gate)

    async def _gate(
        self, ctx: Context, event: Event, call_next: Callable[[], Awaitable[None]]
    ) -> None:
        if self.stopping.is_set() and isinstance(event, _INTERACTIONS):
            # The member is answered in the group's language by the error middleware.
            raise UserError("core.restarting")
        self._inflight += 1
        self._idle.clear()
        try:
            await call_next()
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    @property
    def inflight(self) -> int:
        """Events being handled now."""
        return self._inflight

    async def drain(self) -> None:
        """Until no event is being handled."""
        await self._idle.wait()

    # -- health ------------------------------------------------------------------------------
    def add_check(self, name: str, check: Check) -> None:
        """A part of the process the health endpoint checks (database, gateway, scheduler)."""
        self._checks[name] = check

    async def health(self) -> dict[str, str]:
        """Every part's state: "ok" or what is wrong; checks run together, each bounded."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_check(n, self._checks[n]) for n in names))
        report = dict(zip(names, results, strict=True))
        if self.stopping.is_set():
            report["process"] = "stopping"
        return report

    @staticmethod
    async def _run_check(name: str, check: Check) -> str:
        # /healthz is often public: it names the state, the log keeps the error's details.
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                problem = await check()
        except TimeoutError:
            return f"no answer within {CHECK_SECONDS:g} s"
        except Exception as exc:
            log.warning("health: %s failed: %s: %s", name, type(exc).__name__, exc)
            return "unavailable"
        return problem or "ok"


def start_scheduler(
    life: Lifecycle, bot: Bot, interval: float = TICK_SECONDS
) -> tuple[Scheduler, asyncio.Task[None]]:
    """Run the bot's scheduler in the background; health fails if its loop ends or stalls."""
    scheduler = Scheduler(bot)
    task = asyncio.create_task(scheduler.run_forever(interval), name="scheduler")
    # A tick that runs longer than a claim's lease is stuck: other processes take its job over.
    stale = max(3 * interval, LEASE_SECONDS)
    life.add_check("scheduler", scheduler_check(lambda: scheduler.last_tick, task.done, stale))
    return scheduler, task


async def stop_in_order(
    life: Lifecycle,
    bot: Bot,
    *,
    intake: Callable[[], Awaitable[object]] | None = None,
    scheduler: Scheduler | None = None,
) -> None:
    """After the stop signal: take no more events, let the running job finish or hand it back,
    let the events being handled finish, write the activity counts. Each step gets what is
    left of the deadline, less what the later steps need; the adapter closes its connections
    (and the composition root the database) afterwards."""
    if intake is not None:
        await life.step("taking events", intake, leave=6.0)
    if scheduler is not None:
        # The job may use what the later steps do not need (about a second each); handing it
        # back (one short transaction) gets a second more.
        job_grace = max(0.5, life.remaining() - 4.0)
        leave = life.remaining() - job_grace - 1.0
        await life.step("the running job", lambda: scheduler.stop(job_grace), leave=leave)
    await life.step("events being handled", life.drain, leave=2.0)
    await life.step("activity counts", bot.activity.flush, leave=1.0)


def scheduler_check(
    last_tick: Callable[[], float | None], ended: Callable[[], bool], stale_after: float
) -> Check:
    """The scheduler is healthy while its loop runs and it ticked within `stale_after` s."""

    async def check() -> str | None:
        if ended():
            return "not running"
        tick = last_tick()
        if tick is None:
            return None  # the first tick is under way
        age = time.monotonic() - tick
        return f"no tick for {int(age)} s" if age > stale_after else None

    return check
