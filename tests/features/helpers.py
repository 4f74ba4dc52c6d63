"""A set-up group for service tests: the real repositories in memory, the local workspace."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.local.workspace import GROUP_ID, LocalClock, LocalWorkspace
from bot.cogs.setup.service import SetupService
from bot.core import Bot
from bot.domain import Actor, Group, Permission
from bot.features import load_all
from bot.ports import UnitOfWorkFactory as UowFactory
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.memory import memory_engine, snapshot


@dataclass
class World:
    """A group after `/alumni setup`, with the bot, its workspace and a few actors."""

    bot: Bot
    ws: LocalWorkspace
    group: Group
    seen: list[str] = field(default_factory=list)

    @property
    def uow(self) -> UowFactory:
        """The unit of work factory."""
        return self.bot.uow

    async def fresh(self) -> Group:
        """The group as stored now (settings a use case changed)."""
        return await self.bot.group(self.group.id)

    def channel(self, name: str) -> list[dict[str, object]]:
        """The messages of a channel by name, oldest first."""
        cid = self.ws.channel_by_name(name)
        assert cid is not None, f"no channel {name}"
        return list(self.ws.state["channels"][cid]["messages"])

    def later(self, **delta: float) -> None:
        """Move the clock forward."""
        self.ws.clock.advance(timedelta(**delta))


STAFF = Actor("owner", "owner", Permission.ADMIN)
INGRID = Actor("ingrid", "Ingrid", Permission.MEMBER)
OLA = Actor("ola", "Ola", Permission.MEMBER)


_TEMPLATE: tuple[bytes, str] | None = None


async def _template() -> tuple[bytes, str]:
    """A group right after `/alumni setup`, made once: the database and the workspace state."""
    global _TEMPLATE
    if _TEMPLATE is None:
        engine = memory_engine()
        ws = LocalWorkspace(None, out=lambda _: None, start=START)
        bot = load_all(Bot(ws, UnitOfWorkFactory(engine), ws.clock))
        await bot.service(SetupService).run(await bot.group(GROUP_ID))
        _TEMPLATE = (await snapshot(engine), json.dumps(ws.state))
        await engine.dispose()
    return _TEMPLATE


@asynccontextmanager
async def world() -> AsyncIterator[World]:
    """A set-up local group on its own in-memory database (a copy of one set up once)."""
    data, state = await _template()
    engine = memory_engine(data)
    seen: list[str] = []
    ws = LocalWorkspace(None, out=seen.append, start=START)
    ws.state = json.loads(state)
    ws.clock = LocalClock(ws.state)
    bot = load_all(Bot(ws, UnitOfWorkFactory(engine), ws.clock))
    try:
        yield World(bot, ws, await bot.group(GROUP_ID), seen)
    finally:
        await engine.dispose()
