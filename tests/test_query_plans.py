"""The heaviest reads of a big group are answered from an index, as planned in SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import START

ROOT = Path(__file__).resolve().parent.parent


async def test_the_weekly_questions_replies_are_counted_from_a_covering_index(
    engine: AsyncEngine,
) -> None:
    """A year of question threads is counted without reading the activity table (28 ms for
    a 1,000,000-row year with the thread index alone; under 1 ms from this one)."""
    await upgrade(engine)
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("SELECT count(*)") and "prompt_runs.thread_id" in statement:
            seen.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    async with UnitOfWorkFactory(engine)() as uow:
        starts = [START + timedelta(weeks=i) for i in range(52)]
        await uow.activity.summary("g", starts[0], starts[-1] + timedelta(weeks=1), starts)
    event.remove(engine.sync_engine, "before_cursor_execute", keep)
    assert len(seen) == 1
    statement, params = seen[0]
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        plan = await conn.run_sync(
            lambda _: raw.driver_connection._conn.execute(  # type: ignore[union-attr]
                "EXPLAIN QUERY PLAN " + statement, params
            ).fetchall()
        )
    searches = [row[-1] for row in plan if "activity" in row[-1]]
    assert searches and all("COVERING INDEX ix_activity_thread" in s for s in searches), plan


def test_the_dashboard_bench_still_runs_on_a_small_group(tmp_path: Path) -> None:
    """bench/bench_dashboard.py, scaled down: every page answers (a bench that no longer runs
    measures nothing; the reshape once broke it unnoticed)."""
    env = {**os.environ, "ALUMNIBOT_BENCH_ROWS": "2000", "ALUMNIBOT_BENCH_REQUESTS": "3"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_dashboard.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "scaled down from 1,000,000" in done.stdout
    assert done.stdout.count(" p95 ") >= 7, done.stdout
