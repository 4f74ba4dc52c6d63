"""Every place the bot keeps data has a privacy rule: each table in the database (the bot's
own and slack_sdk's) and each kind of file in the bot's data folder."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.workspace import DATA_FILES as LOCAL_FILES
from adapters.slack.oauth import InstallationStore
from bot.cogs.privacy.files import DATA_FILES
from bot.cogs.stats.service import DATA_FILES as STATS_FILES
from storage.repositories.privacy import uncovered_tables
from tests.conftest import make_group


async def test_every_table_in_the_database_has_a_rule(engine: AsyncEngine) -> None:
    # slack_sdk creates its tables in the same database when Slack runs with OAuth.
    await InstallationStore("client-1", engine).create_tables()  # type: ignore[no-untyped-call]
    await AsyncSQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine).create_tables()  # type: ignore[no-untyped-call]
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= set(names)
    assert uncovered_tables(names) == []
    # A table someone adds later without a rule is caught.
    assert uncovered_tables([*names, "new_feature_notes"]) == ["new_feature_notes"]


async def test_every_file_in_the_data_folder_has_a_rule(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    group = make_group(engine, path=data / "local_workspace.json", data_dir=data)
    await group.run(
        "/alumni setup",
        "!join vilde vilde@example.com",
        "!as vilde",
        "!in #discussion",
        "hello",
        "/alumni privacy export",
        "!as owner",
        "/alumni stats",
    )
    files = sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())
    assert "local_workspace.json" in files
    rules = {**DATA_FILES, **STATS_FILES, **LOCAL_FILES}
    assert all(text for text in rules.values())
    uncovered = [f for f in files if not any(fnmatch(f, pattern) for pattern in rules)]
    assert uncovered == [], uncovered
