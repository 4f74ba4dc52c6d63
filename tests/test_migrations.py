"""The models and the Alembic head describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, upgrade
from storage.models import Base


async def _drift(engine: AsyncEngine) -> list[Any]:
    await upgrade(engine)

    def compare(conn: Any) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        # slack_sdk's OAuth stores live in the same database but are slack_sdk's own schema.
        return [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (d[0] == "remove_table" and d[1].name.startswith("slack_"))
        ]

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def test_models_match_the_migrations_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    try:
        assert await _drift(engine) == []
    finally:
        await engine.dispose()


async def test_models_match_the_migrations_on_postgresql(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        assert await _drift(engine) == []
    finally:
        await engine.dispose()
