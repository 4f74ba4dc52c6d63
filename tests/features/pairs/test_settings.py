"""The interval a group chose before settings had namespaces is kept by the reshape migration."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from bot.cogs.pairs.settings import PairsSettings
from bot.cogs.posts.settings import PostsSettings
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import START


async def test_the_flat_interval_moves_under_the_pairs_namespace(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    try:
        await upgrade(engine, "0003")
        flat = {"pairs_every_weeks": 3, "listing_days": 14, "other": "kept"}
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO groups (id, platform, language, timezone, settings, created_at)"
                    " VALUES ('g1', 'local', 'nb', 'Europe/Oslo', :settings, :at)"
                ),
                {"settings": json.dumps(flat), "at": START},
            )
        await upgrade(engine)
        async with UnitOfWorkFactory(engine)() as uow:
            group = await uow.groups.get("g1")
        assert group is not None
        assert PairsSettings.of(group).every_weeks == 3
        assert PostsSettings.of(group).listing_days == 14
        assert "pairs_every_weeks" not in group.settings and group.settings["other"] == "kept"
    finally:
        await engine.dispose()
