"""A database that goes away: the member is told, nothing half-done, the bot keeps running."""

from __future__ import annotations

from storage.database import create_engine
from tests.conftest import make_group


async def test_database_down_gives_a_clear_message_and_the_terminal_survives() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
    try:
        group = make_group(engine)
        out = await group.run("/alumni setup", "!show channels", "hello")
        assert "I can't reach my database right now, so nothing was changed" in out
        assert group.channel_names() == []  # nothing created behind the member's back
        assert "(no channels yet" in out  # and the next line still ran
    finally:
        await engine.dispose()
