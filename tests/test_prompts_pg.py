"""Two workers on one PostgreSQL database post each week's question once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.local.terminal import Terminal
from adapters.local.workspace import LocalWorkspace
from bot.core import Bot, CoreConfig
from bot.features import load_all
from bot.scheduler import Scheduler
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import START


async def test_two_workers_racing_post_once(pg_url: str) -> None:
    engines = [create_engine(pg_url), create_engine(pg_url)]
    try:
        await upgrade(engines[0])
        lines: list[str] = []
        ws = LocalWorkspace(None, out=lines.append, start=START)
        bots = [
            load_all(Bot(ws, UnitOfWorkFactory(e), ws.clock, CoreConfig(instance_id=f"worker-{i}")))
            for i, e in enumerate(engines)
        ]
        schedulers = [Scheduler(b) for b in bots]
        await Terminal(bots[0], ws, schedulers[0]).line("/alumni setup")
        channel = ws.channel_by_name("discussion")
        assert channel is not None
        for week in range(1, 5):
            ws.clock.advance(timedelta(days=7))
            ran = await asyncio.gather(*(s.tick() for s in schedulers))
            weekly = [r for batch in ran for r in batch if r[1] == "prompts.weekly"]
            assert len(weekly) == 1
            posted = [m for m in ws.state["channels"][channel]["messages"] if m["title"]]
            assert len(posted) == week
        texts = [m["text"] for m in ws.state["channels"][channel]["messages"]]
        assert len(set(texts)) == len(texts) == 4
        # Each question's recap also went out once.
        for msg in ws.state["channels"][channel]["messages"][:-1]:
            thread = ws.state["threads"][msg["thread"]]["messages"]
            assert len([m for m in thread if m["author"] == "alumnibot"]) == 1
    finally:
        for e in engines:
            await e.dispose()
