"""The models and the migrations describe one schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.database import create_engine, upgrade
from storage.models import Base


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: list(compare_metadata(MigrationContext.configure(sync), Base.metadata))
            )
    finally:
        await engine.dispose()


async def test_models_match_the_migrations_on_sqlite(tmp_path: Path) -> None:
    assert await _differences(f"sqlite+aiosqlite:///{tmp_path}/schema.db") == []


async def test_models_match_the_migrations_on_postgres(pg_url: str) -> None:
    assert await _differences(pg_url) == []


async def test_rows_from_before_0002_are_spent_uses_and_old_claims(tmp_path: Path) -> None:
    """A code used before the upgrade counts as granted (never finished again), and a claim
    left running by the old version is taken over once its old ten minutes passed."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    then = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)
    try:
        await upgrade(engine, "0001")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO groups (id, platform, language, timezone, settings, created_at)"
                    " VALUES ('g', 'local', 'en', 'Europe/Oslo', '{}', :at)"
                ),
                {"at": then},
            )
            await conn.execute(
                text(
                    "INSERT INTO invitations (id, group_id, code, kind, role_key, max_uses, uses,"
                    " created_at, revoked) VALUES (1, 'g', 'STAFF1', 'cohort', 'staff', 1, 1,"
                    " :at, false)"
                ),
                {"at": then},
            )
            await conn.execute(
                text(
                    "INSERT INTO invitation_uses (invitation_id, group_id, user_id, used_at) "
                    "VALUES (1, 'g', 'kari', :at)"
                ),
                {"at": then},
            )
            await conn.execute(
                text(
                    "INSERT INTO job_runs (group_id, job, period, status, owner, claimed_at) "
                    "VALUES ('g', 'digest', '2026-W34', 'running', 'old', :at)"
                ),
                {"at": then},
            )
        await upgrade(engine)
        from storage.uow import UnitOfWorkFactory

        async with UnitOfWorkFactory(engine)() as uow:
            assert await uow.invitations.redemption(1, "kari") == "granted"
            late = then + timedelta(minutes=11)
            assert await uow.jobs.claim("g", "digest", "2026-W34", "new", late, 600) == 1
    finally:
        await engine.dispose()
