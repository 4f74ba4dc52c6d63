"""A database that stops answering, or is locked, is told to the member within seconds; two
processes starting together migrate once."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import SQLITE_BUSY_SECONDS, create_engine, upgrade
from tests.conftest import LocalGroup, make_group
from tests.process_harness import PausableProxy

STORAGE_DOWN = "I can't reach my database right now, so nothing was changed"
# What "within a few seconds" means here: connect and statement timeouts are 3 s each.
FEW_SECONDS = 8.0


def through(proxy: PausableProxy, url: str) -> str:
    """The same database, reached through the proxy."""
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


async def told(group: LocalGroup, line: str) -> tuple[str, float]:
    """Type a line; (what it printed, seconds until the member read the first answer).

    The line itself may go on (the terminal then runs due jobs); a hang fails the test after
    30 s instead of blocking the suite.
    """
    start, started = len(group.lines), time.monotonic()
    work = asyncio.ensure_future(group.run(line))
    while len(group.lines) == start and not work.done():
        await asyncio.sleep(0.01)
        if time.monotonic() - started > 30:
            work.cancel()
            raise AssertionError(f"no answer within 30 s to {line}")
    seconds = time.monotonic() - started
    print(f"{line}: first answer after {seconds:.2f} s")
    out = await asyncio.wait_for(work, 30)
    return out, seconds


async def test_a_postgres_that_stops_answering_is_told_within_seconds(pg_url: str) -> None:
    proxy = await PausableProxy(make_url(pg_url).port or 5432).start()
    engine = create_engine(through(proxy, pg_url))
    try:
        await upgrade(engine)
        group = make_group(engine)
        assert "Commands you can use" in await group.run("/alumni help")
        proxy.pause()  # the server hangs: connections open, no byte comes back
        out, seconds = await told(group, "/alumni help")
        assert STORAGE_DOWN in out and seconds < FEW_SECONDS, (seconds, out)
        # A second command does not wait longer (no pile-up behind the first).
        out, seconds = await told(group, "/alumni settings language:nb")
        assert STORAGE_DOWN in out and seconds < FEW_SECONDS, (seconds, out)
        proxy.resume()
        out, _ = await told(group, "/alumni help")
        assert "Commands you can use" in out  # back without a restart
    finally:
        proxy.resume()
        await engine.dispose()
        await proxy.stop()


async def test_a_locked_postgres_table_is_told_within_seconds(pg_url: str) -> None:
    engine = create_engine(pg_url)
    locker = create_async_engine(pg_url)
    try:
        await upgrade(engine)
        group = make_group(engine)
        await group.run("/alumni help")
        async with locker.connect() as conn:
            # A migration or a hand-run maintenance statement holds the table.
            await conn.execute(text("LOCK TABLE groups IN ACCESS EXCLUSIVE MODE"))
            out, seconds = await told(group, "/alumni help")
            await conn.rollback()
        assert STORAGE_DOWN in out and seconds < FEW_SECONDS, (seconds, out)
        assert "Commands you can use" in await group.run("/alumni help")
    finally:
        await engine.dispose()
        await locker.dispose()


async def test_a_locked_sqlite_file_is_told_within_seconds(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process writing, for a long time
        group = make_group(engine)
        out, seconds = await told(group, "/alumni help")  # the first sight writes the group
        # SQLite waits SQLITE_BUSY_SECONDS (10 s) for a local writer, then says so.
        assert STORAGE_DOWN in out and seconds < SQLITE_BUSY_SECONDS + 3, (seconds, out)
        other.execute("ROLLBACK")
        assert "Commands you can use" in await group.run("/alumni help")
    finally:
        other.close()
        await engine.dispose()


async def test_two_processes_migrating_a_fresh_postgres_upgrade_it_once(pg_url: str) -> None:
    first, second = create_engine(pg_url), create_engine(pg_url)
    try:
        changed = await asyncio.gather(upgrade(first), upgrade(second))
        assert sorted(changed) == [False, True]  # one upgraded, the other found it current
        async with first.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert len(versions) == 1
        assert await upgrade(first) is False
    finally:
        await first.dispose()
        await second.dispose()
