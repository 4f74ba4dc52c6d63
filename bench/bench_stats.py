"""Load 1,000,000 activity rows into SQLite and time `/alumni stats` over 52 weeks.

Goal: the stats query (aggregated by the database over ix_activity_group_time) under 200 ms.
Run: .venv/bin/python bench/bench_stats.py
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.charts import MatplotlibCharts
from adapters.local.app import build
from bot.cogs.stats.service import StatsService
from bot.cogs.stats.views import weekly_chart
from bot.core import CoreConfig
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory

ROWS = 1_000_000
NOW = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)
GROUP = "local"
CATEGORIES = ["discussion", "jobs", "rentals", "events", "marketplace", "borrow", "showcase"]
ROLES = ["student", "student", "student", "alumni", "alumni", "staff", "industry", "member"]


def load(db: Path) -> float:
    """Bulk insert with the stdlib driver in one transaction; returns seconds."""
    rng = random.Random(7)
    start = NOW - timedelta(weeks=52)
    span = int((NOW - start).total_seconds())
    began = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    threads = [f"T{i}" for i in range(2000)]

    # Messages arrive in time order, as they do in a live group.
    moments = sorted(rng.randrange(span) for _ in range(ROWS))

    def rows():  # type: ignore[no-untyped-def]
        for offset in moments:
            at = start + timedelta(seconds=offset)
            reply = rng.random() < 0.55
            yield (
                GROUP,
                f"u{rng.randrange(800)}",
                rng.choice(ROLES),
                rng.choice(CATEGORIES),
                "C1",
                rng.choice(threads) if reply else None,
                reply,
                at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            )

    with conn:
        conn.executemany(
            "INSERT INTO activity (group_id, user_id, author_role, category_key, channel_id,"
            " thread_id, is_reply, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        # A year of weekly questions whose threads are among the reply threads.
        conn.execute(
            "INSERT INTO prompts (id, group_id, theme, text, status, created_at, score)"
            " VALUES (1, ?, 'x', 'q', 'posted', ?, 0)",
            (GROUP, NOW.strftime("%Y-%m-%d %H:%M:%S.%f")),
        )
        conn.executemany(
            "INSERT INTO prompt_runs (group_id, prompt_id, period, channel_id, message_id,"
            " thread_id, posted_at) VALUES (?, 1, ?, 'C1', ?, ?, ?)",
            [
                (GROUP, f"W{i}", f"M{i}", f"T{i}", NOW.strftime("%Y-%m-%d %H:%M:%S.%f"))
                for i in range(52)
            ],
        )
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


async def main() -> None:
    """Load, then time the stats query and the chart separately."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        _, bot, _ = build(uow, state_path=None, start=NOW, config=CoreConfig(instance_id="b"))
        group = await bot.group(GROUP)
        loaded = await asyncio.to_thread(load, db)
        print(f"loaded {ROWS:,} activity rows in {loaded:.1f} s")
        service = bot.service(StatsService)
        began = time.perf_counter()
        await service.compute(group, 52, NOW)
        cold = (time.perf_counter() - began) * 1000
        print(f"stats over 52 weeks, cold (rolls up 51 finished weeks once): {cold:.0f} ms")
        times = []
        stats = None
        for _ in range(5):
            began = time.perf_counter()
            stats = await service.compute(group, 52, NOW)
            times.append((time.perf_counter() - began) * 1000)
        assert stats is not None
        counted = stats.top_level + stats.replies
        print(
            f"stats over 52 weeks, warm: median {statistics.median(times):.0f} ms,"
            f" best {min(times):.0f} ms (goal < 200 ms); {counted:,} messages,"
            f" ratio {stats.ratio:.2f}, {stats.question_replies:,} question replies"
        )
        began = time.perf_counter()
        chart = weekly_chart(stats, group.language)
        await asyncio.to_thread(MatplotlibCharts().render, chart, Path(tmp) / "chart.png")
        print(
            "chart (matplotlib, first in this process):"
            f" {(time.perf_counter() - began) * 1000:.0f} ms"
        )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
