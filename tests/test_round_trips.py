"""The join path and the scheduler stay cheap in database round-trips (SQL statements)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scheduler import Scheduler
from tests.conftest import make_group


async def test_a_roster_join_is_one_unit_of_work_and_repeated_ticks_skip_finished_jobs(
    engine: AsyncEngine,
) -> None:
    group = make_group(engine)
    await group.run(
        "/alumni setup",
        "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15",
        '/alumni invite cohort:"Fashion 2026" emails:"kari@example.com, ola@example.com"',
        "!join kari kari@example.com",
    )
    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()[:8]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await group.run("!join ola ola@example.com")
        # The join (with the terminal's scheduler tick after it): matched, recorded, granted,
        # the grants' history (one insert for both roles), and the tick's read of the group.
        assert group.ws.role_names("ola") == ["Fashion 2026", "student"]
        assert len(statements) <= 5, "\n".join(statements)
        assert not [s for s in statements if "job_runs" in s]  # every job's period is done

        statements.clear()
        scheduler = Scheduler(group.bot)  # a new process: it asks the database, runs nothing
        assert await scheduler.tick() == []
        assert [s for s in statements if "job_runs" in s]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
