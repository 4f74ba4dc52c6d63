"""Engines with timeouts, migrations at start under a lock, and a clear answer when the database
is unreachable."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import StorageUnavailable

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"

# A database that stops answering is reported to the member within a few seconds: connecting
# gives up after CONNECT_SECONDS, a statement after STATEMENT_SECONDS (server side too, so a
# statement stuck behind a lock is cancelled by PostgreSQL itself), a pool checkout after
# CONNECT_SECONDS. The bot's statements take milliseconds; migrations get their own engine.
CONNECT_SECONDS = 3.0
STATEMENT_SECONDS = 3.0
# SQLite waits this long for another writer's lock before "database is locked". Longer than a
# server's limits: the file is local, so a lock is another writer on this machine (a class
# of 120 redeeming codes in the same minute queues behind each other), never a silent server.
SQLITE_BUSY_SECONDS = 10.0
# Two processes starting together: the second waits for the first's migrations this long.
MIGRATION_LOCK_SECONDS = 120.0
# pg_advisory_xact_lock key: any bigint; this one spells "alumnibt" in ASCII.
MIGRATION_LOCK_KEY = 0x616C756D6E696274


def unicode_lower(value: object) -> object:
    """SQLite's lower() in full Unicode, as PostgreSQL's: SQLite's own folds only A-Z, so a
    search for "øyvind" would miss "Øyvind" (installed over the built-in on every connection)."""
    return value.lower() if isinstance(value, str) else value


def create_engine(url: str, *, statement_seconds: float | None = STATEMENT_SECONDS) -> AsyncEngine:
    """An async engine with connect and statement timeouts (None: no statement timeout).

    SQLite gets a busy timeout, WAL and foreign keys; PostgreSQL (asyncpg) a connect timeout,
    a client-side command timeout (a server that stops answering) and a server-side
    statement_timeout (a statement waiting on a lock).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        busy = SQLITE_BUSY_SECONDS if statement_seconds is not None else MIGRATION_LOCK_SECONDS
        engine = create_async_engine(url, connect_args={"timeout": busy})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + synchronous=NORMAL stays consistent after a crash, without an fsync per commit.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            dbapi_conn.create_function("lower", 1, unicode_lower, deterministic=True)

        return engine
    connect_args: dict[str, Any] = {"timeout": CONNECT_SECONDS}
    if statement_seconds is not None:
        connect_args["command_timeout"] = statement_seconds
        # The server cancels first (a clean error, the connection stays usable); the client's
        # own timeout, a little later, covers a server or network that no longer answers.
        server_ms = int(statement_seconds * 1000 * 0.9)
        connect_args["server_settings"] = {"statement_timeout": str(server_ms)}
    return create_async_engine(
        url, pool_pre_ping=True, pool_timeout=CONNECT_SECONDS, connect_args=connect_args
    )


def migration_engine(url: str) -> AsyncEngine:
    """An engine for migrations: no statement timeout (a migration may rewrite a big table)."""
    return create_engine(url, statement_seconds=None)


def alembic_config(url: str) -> Config:
    """Alembic configured in code (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _revision(sync_conn: Connection) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> bool:
    """Apply migrations up to `revision`; True if this call changed the schema.

    On PostgreSQL the whole upgrade holds a transaction-scoped advisory lock: a second process
    starting at the same moment waits, then finds the schema current and changes nothing.
    """

    def run(sync_conn: Connection) -> bool:
        if sync_conn.dialect.name == "postgresql":
            _lock(sync_conn)
        before = _revision(sync_conn)
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)
        after = _revision(sync_conn)
        if after != before:
            log.info("database upgraded from %s to %s", before or "empty", after)
        return after != before

    async with engine.begin() as conn:
        return await conn.run_sync(run)


def _lock(sync_conn: Connection) -> None:
    """Wait for the migration lock, polling so no statement blocks for long."""
    waited = 0.0
    while not sync_conn.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
    ):
        if waited == 0.0:
            log.info("another process is migrating the database; waiting for it")
        if waited >= MIGRATION_LOCK_SECONDS:
            raise StorageUnavailable(f"another process held the migration lock for {int(waited)} s")
        # run_sync runs on the event loop's thread through greenlets: sleep on the database.
        sync_conn.execute(text("SELECT pg_sleep(0.2)"))
        waited += 0.2


async def open_database(url: str) -> AsyncEngine:
    """Check the database, migrate it (once across processes), return the bot's engine.

    Migrations run on an engine of their own without a statement timeout; the bot's engine
    has the timeouts that keep a member from waiting on a database that does not answer.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        engine = create_engine(url)  # in memory: one engine, or the tables would vanish
        await check(engine)
        await upgrade(engine)
        return engine
    migrator = migration_engine(url)
    try:
        await check(migrator)
        await upgrade(migrator)
    finally:
        await migrator.dispose()
    return create_engine(url)


async def check(engine: AsyncEngine, seconds: float = 10.0) -> None:
    """Raise StorageUnavailable if the database does not answer `SELECT 1` within `seconds`."""
    try:
        async with asyncio.timeout(seconds), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc
