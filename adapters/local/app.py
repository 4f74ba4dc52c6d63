"""Wires the core to the local workspace and runs the terminal over stdin."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from adapters.compose import compose
from adapters.local.terminal import Terminal, help_text
from adapters.local.workspace import LocalWorkspace
from adapters.mail import connect_mail
from adapters.web.server import serve_web
from bot.core import Bot, CoreConfig
from bot.i18n import t
from bot.lifecycle import Lifecycle, stop_in_order
from bot.ports import UnitOfWorkFactory
from bot.scheduler import Scheduler
from bot.settings import Settings


def build(
    uow: UnitOfWorkFactory,
    *,
    state_path: Path | None,
    out: Callable[[str], None] = print,
    start: datetime | None = None,
    config: CoreConfig | None = None,
    mail: Settings | None = None,
) -> tuple[Terminal, Bot, LocalWorkspace]:
    """A bot on a local workspace, with its terminal; `mail` settings give it a mail transport
    (emails stay queued without)."""
    ws = LocalWorkspace(state_path, out=out, start=start)
    bot = compose(config or CoreConfig(), ws, uow, ws.clock)
    if mail is not None:
        # Each email written to the outbox shows as one line in the terminal.
        connect_mail(
            bot,
            mail,
            on_write=lambda to, subject: ws.out(ws.say("email_to", to=to, subject=subject)),
        )
    return Terminal(bot, ws, Scheduler(bot)), bot, ws


async def run_terminal(
    settings: Settings, uow: UnitOfWorkFactory, life: Lifecycle | None = None
) -> int:
    """Read lines until EOF or SIGTERM; interactive when stdin is a terminal."""
    life = life or Lifecycle()
    terminal, bot, _ = build(
        uow,
        state_path=settings.data_dir / "local_workspace.json",
        config=settings.core(),
        mail=settings,
    )
    life.attach(bot)
    # The local workspace listens on loopback only (there is no platform in front of it).
    web = settings.web
    local = dataclasses.replace(web, web_host=web.web_host or "127.0.0.1")
    server = await serve_web(bot, life, local)
    interactive = sys.stdin.isatty()
    # Read once, so the banner, the dashboard line and the first prompt are in the group's
    # language (the group is cached; a database that is down gives the default language).
    language = await terminal.language()
    if interactive:
        print(t(language, "local.banner"))
        print(help_text(language))
    if server is not None:
        # A new user can try the dashboard at once: `/alumni dashboard` gives the sign-in link.
        print(t(language, "local.dashboard", url=f"{server.url}/dashboard/"), flush=True)
    lines = _stdin_lines()
    stopping = asyncio.ensure_future(life.wait())
    try:
        while not life.stopping.is_set():
            if interactive:
                print(terminal.prompt(), end="", flush=True)
            reading = asyncio.ensure_future(lines.get())
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                reading.cancel()
                break
            line = reading.result()
            if line is None:
                break  # EOF
            work = asyncio.ensure_future(terminal.line(line))
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                # Stopped mid-line: the line may finish within the deadline (it saves either way).
                await life.step("the current line", work, leave=1.5)
                break
            work.result()
        if interactive and life.stopping.is_set():
            print()  # the prompt (and a ^C) stay on their own line
        await stop_in_order(life, bot, scheduler=terminal.scheduler)
        return 0
    finally:
        stopping.cancel()
        if server is not None:
            await server.close()


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines from stdin, read by a daemon thread so Ctrl-C never waits for a pending read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    return queue
