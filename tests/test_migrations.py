"""The models and the Alembic head describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, upgrade
from storage.models import Base
from tests.conftest import START


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


async def test_cohorts_clipped_to_one_name_upgrade_with_the_later_one_renamed(
    tmp_path: Path, pg_url: str
) -> None:
    """Before 0015 two long programmes could clip to one cohort name; the upgrade to one name
    per group keeps the first and gives the later one its id, on SQLite and PostgreSQL."""
    for url in (f"sqlite+aiosqlite:///{tmp_path}/c.db", pg_url):
        engine = create_engine(url)
        try:
            await upgrade(engine, "0014")
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO groups (id, platform, language, timezone, settings,"
                        " created_at) VALUES ('g', 'local', 'en', 'UTC', '{}', :t)"
                    ),
                    {"t": START},
                )
                for program in ("A" * 99 + "x", "A" * 99 + "y"):
                    await conn.execute(
                        text(
                            "INSERT INTO cohorts (group_id, program, year, name, created_at)"
                            " VALUES ('g', :p, 2026, :n, :t)"
                        ),
                        {"p": program, "n": "A" * 99 + "…", "t": START},
                    )
            await upgrade(engine)
            async with engine.connect() as conn:
                names = (await conn.execute(text("SELECT name FROM cohorts ORDER BY id"))).all()
            assert [n for (n,) in names] == ["A" * 99 + "…", "A" * 90 + " #2"]
        finally:
            await engine.dispose()
