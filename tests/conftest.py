"""Shared fixtures: a fresh database per test, a local group driven like a terminal."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.local.app import build
from adapters.local.terminal import Terminal
from adapters.local.workspace import LocalWorkspace
from bot.core import Bot, CoreConfig
from bot.domain import Language
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.memory import memory_engine

# A Monday, 09:00 in Oslo: the first day of the autumn semester.
START = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get(
    "ALUMNIBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class LocalGroup:
    """A local group driven line by line, with everything it printed."""

    terminal: Terminal
    bot: Bot
    ws: LocalWorkspace
    uow: UnitOfWorkFactory
    lines: list[str] = field(default_factory=list)

    async def run(self, *script: str) -> str:
        """Type lines; returns what they printed."""
        start = len(self.lines)
        for line in script:
            await self.terminal.line(line)
        return "\n".join(self.lines[start:])

    def channel_names(self) -> list[str]:
        """Live channel names."""
        return [c["name"] for c in self.ws.state["channels"].values() if not c["deleted"]]

    def messages(self, channel: str) -> list[dict[str, object]]:
        """Messages in a channel by name."""
        cid = self.ws.channel_by_name(channel)
        assert cid is not None, f"no channel {channel}"
        return list(self.ws.state["channels"][cid]["messages"])


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite database in a temporary folder."""
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/test.db")
    await upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
async def memory() -> AsyncIterator[UnitOfWorkFactory]:
    """The real repositories on an in-memory database (service tests)."""
    eng = memory_engine()
    yield UnitOfWorkFactory(eng)
    await eng.dispose()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database; fails (never skips) when the server is down."""
    name = f"alumnibot_test_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        base = POSTGRES_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def make_group(
    engine: AsyncEngine,
    language: Language = Language.EN,
    path: Path | None = None,
    data_dir: Path | None = None,
) -> LocalGroup:
    """A local group on an engine; `path` makes the workspace persistent, `data_dir` is the
    bot's folder (a fresh one of its own by default, next to `path` when that is given)."""
    lines: list[str] = []
    uow = UnitOfWorkFactory(engine)
    if data_dir is None and path is not None:
        data_dir = path.parent
    elif data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="alumnibot-test-"))
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    terminal, bot, ws = build(
        uow,
        state_path=path,
        out=lines.append,
        start=START,
        config=CoreConfig(default_language=language, instance_id="test", data_dir=data_dir),
    )
    return LocalGroup(terminal, bot, ws, uow, lines)


@pytest.fixture
async def group(engine: AsyncEngine, tmp_path: Path) -> LocalGroup:
    """A fresh local group in English, its data folder in the test's temporary folder."""
    return make_group(engine, data_dir=tmp_path / "data")
