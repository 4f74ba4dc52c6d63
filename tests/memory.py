"""An in-memory unit of work for service tests: the real repositories on an SQLite database
that lives in memory, cloned per test from a schema built once.

Why not a hand-written fake: the repositories' guarantees (unique keys, ON CONFLICT, conditional
updates that make codes single-use and jobs run once) are what the services rely on; a fake that
re-implements them would accept what the real database refuses. Cloning a serialized schema costs
about 5 ms a test, so service tests stay fast.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import Any

import aiosqlite
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from storage.database import unicode_lower
from storage.models import Base


@cache
def _schema() -> bytes:
    conn = sqlite3.connect(":memory:")
    engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    Base.metadata.create_all(engine)
    data = conn.serialize()
    engine.dispose()
    return data


def memory_engine(data: bytes | None = None) -> AsyncEngine:
    """A fresh in-memory database with the whole schema (or a copy of `data`), foreign keys on."""
    data = data or _schema()

    async def connect() -> Any:
        conn = await aiosqlite.connect(":memory:")
        await conn._execute(conn._conn.deserialize, data)
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.create_function("lower", 1, unicode_lower, deterministic=True)
        return conn

    return create_async_engine("sqlite+aiosqlite://", async_creator=connect, poolclass=StaticPool)


async def snapshot(engine: AsyncEngine) -> bytes:
    """The whole in-memory database as bytes, to clone it for other tests."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        data: bytes = await driver._execute(driver._conn.serialize)
        return data
