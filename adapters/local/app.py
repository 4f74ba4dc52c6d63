"""Wires the core to the local workspace and runs the terminal over stdin."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from adapters.charts import MatplotlibCharts
from adapters.local.terminal import HELP, Terminal
from adapters.local.workspace import LocalWorkspace
from adapters.mail import connect_mail
from bot.cogs import load_all
from bot.core import Bot, CoreConfig
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
    bot = load_all(Bot(ws, uow, ws.clock, config, charts=MatplotlibCharts()))
    if mail is not None:
        # Each email written to the outbox shows as one line in the terminal.
        connect_mail(bot, mail, on_write=lambda to, subject: ws.out(f"(email to {to}: {subject})"))
    return Terminal(bot, ws, Scheduler(bot)), bot, ws


async def run_terminal(settings: Settings, uow: UnitOfWorkFactory) -> int:
    """Read lines until EOF; interactive when stdin is a terminal."""
    config = CoreConfig(default_language=settings.language, default_timezone=settings.timezone)
    terminal, _, _ = build(
        uow, state_path=settings.data_dir / "local_workspace.json", config=config, mail=settings
    )
    interactive = sys.stdin.isatty()
    if interactive:
        print("alumnibot local workspace. " + HELP.splitlines()[0])
        print(HELP)
    lines = _stdin_lines()
    while True:
        if interactive:
            print(terminal.prompt(), end="", flush=True)
        line = await lines.get()
        if line is None:
            return 0
        await terminal.line(line)


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
