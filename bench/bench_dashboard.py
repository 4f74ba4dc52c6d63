"""The dashboard's server time per page for a big group, against /healthz on the same server.

A group with 2,000 members, 100 cohorts, a year of weekly questions and 1,000,000 activity rows
(fewer with ALUMNIBOT_BENCH_ROWS=N, printed either way) in SQLite; the real aiohttp server on
loopback, signed in with a real link; each page requested 40 times after one warm-up.
Goal: p95 under 100 ms (the chart is drawn once, then served while its figures are unchanged).
Run: .venv/bin/python bench/bench_dashboard.py
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import ClientSession, CookieJar, FormData, web
from yarl import URL

from adapters.local.app import build
from adapters.web.server import web_app
from bot.cogs.dashboard.service import DashboardService
from bot.cogs.setup.service import SetupService
from bot.core import CoreConfig
from bot.domain import Actor, Permission
from bot.lifecycle import Lifecycle
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory

ROWS = int(os.environ.get("ALUMNIBOT_BENCH_ROWS", "1000000"))
MEMBERS = 2000
COHORTS = 100
REQUESTS = int(os.environ.get("ALUMNIBOT_BENCH_REQUESTS", "40"))
NOW = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)
GROUP = "local"
CATEGORIES = ["discussion", "jobs", "rentals", "events", "marketplace", "borrow", "showcase"]
ROLES = ["student", "student", "student", "alumni", "alumni", "staff", "industry", "member"]
PAGES = (
    "/dashboard/",
    "/dashboard/questions",
    "/dashboard/numbers?weeks=52",
    "/dashboard/numbers/weekly.csv?weeks=52",
    "/dashboard/chart.png?weeks=8",
    "/dashboard/audit",
    "/dashboard/members?q=a",
    "/dashboard/codes",
    "/dashboard/cohorts",
    "/dashboard/cohorts/50",
)


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def load(db: Path) -> float:
    """Members, cohorts, questions and activity in one transaction; returns seconds."""
    rng = random.Random(11)
    began = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    start = NOW - timedelta(weeks=52)
    span = int((NOW - start).total_seconds())
    with conn:
        conn.executemany(
            "INSERT INTO members (group_id, user_id, name, joined_at) VALUES (?, ?, ?, ?)",
            [(GROUP, f"u{i}", f"Member {i}", _ts(start)) for i in range(MEMBERS)],
        )
        conn.executemany(
            "INSERT INTO cohorts (group_id, program, year, name, graduates_on, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    GROUP,
                    f"Programme {i % 10}",
                    2000 + i // 10,
                    f"Programme {i % 10} {2000 + i // 10}",
                    (NOW + timedelta(days=30 * (i - 90))).date().isoformat(),
                    _ts(start),
                )
                for i in range(COHORTS)
            ],
        )
        # Each member in a cohort, and a roster of 30 per cohort, two thirds of it joined:
        # the Cohorts page counts them all.
        conn.executemany(
            "UPDATE members SET cohort_id = ? WHERE group_id = ? AND user_id = ?",
            [(i % COHORTS + 1, GROUP, f"u{i}") for i in range(MEMBERS)],
        )
        conn.executemany(
            "INSERT INTO roster_entries (group_id, cohort_id, email, name, role_key,"
            " matched_user_id) VALUES (?, ?, ?, ?, 'student', ?)",
            [
                (GROUP, c + 1, f"s{c}-{n}@example.no", f"Student {n}", None if n % 3 else f"u{c}")
                for c in range(COHORTS)
                for n in range(30)
            ],
        )
        conn.executemany(
            "INSERT INTO prompts (id, group_id, theme, text, status, created_at, score)"
            " VALUES (?, ?, 'open', ?, ?, ?, 0)",
            [
                (i + 1, GROUP, f"Question {i}?", "posted" if i < 52 else "accepted", _ts(start))
                for i in range(80)
            ],
        )
        conn.executemany(
            "INSERT INTO prompt_runs (group_id, prompt_id, period, channel_id, message_id,"
            " thread_id, posted_at) VALUES (?, ?, ?, 'C1', ?, ?, ?)",
            [
                (GROUP, i + 1, f"W{i}", f"M{i}", f"T{i}", _ts(start + timedelta(weeks=i)))
                for i in range(52)
            ],
        )
        threads = [f"T{i}" for i in range(2000)]
        moments = sorted(rng.randrange(span) for _ in range(ROWS))
        conn.executemany(
            "INSERT INTO activity (group_id, user_id, author_role, category_key, channel_id,"
            " thread_id, is_reply, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    GROUP,
                    f"u{rng.randrange(MEMBERS)}",
                    rng.choice(ROLES),
                    rng.choice(CATEGORIES),
                    "C1",
                    rng.choice(threads) if (reply := rng.random() < 0.55) else None,
                    reply,
                    _ts(start + timedelta(seconds=offset)),
                )
                for offset in moments
            ),
        )
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def timed(client: ClientSession, url: URL) -> list[float]:
    """Milliseconds per request, after one warm-up (which draws the chart, rolls up weeks)."""
    async with client.get(url) as warm:
        assert warm.status == 200, (url, warm.status, await warm.text())
        await warm.read()
    times = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        async with client.get(url) as response:
            await response.read()
            assert response.status == 200
        times.append((time.perf_counter() - began) * 1000)
    return times


ROSTER_LINES = 500
ROSTER_ROUNDS = 20


def roster_file(lines: int, batch: int) -> bytes:
    """A class list as a school exports it: a header, `lines` students, one line without a
    valid address (so the preview has a refusal to show); new addresses for each batch, so
    no round reads from the address check's cache."""
    rows = ["Navn;E-post"]
    rows += [f"Student {n} Nordmann;s{batch}.{n}@example.no" for n in range(1, lines)]
    rows.append("Per Hansen;per(at)example.no")
    return ("\n".join(rows) + "\n").encode("utf-8")


async def roster_preview(client: ClientSession, base: URL) -> list[float]:
    """Milliseconds to upload a 500-line roster and see its preview (parsed by the command's
    parser, kept for its confirm): the post and the preview page it leads to, one after the
    other, as a teacher's browser does. Goal: under 300 ms."""
    page = URL(f"{base}/dashboard/cohorts/1")
    times = []
    for batch in range(ROSTER_ROUNDS + 1):
        body = roster_file(ROSTER_LINES, batch)
        async with client.get(page) as got:
            html = await got.text()
        form = re.search(r'action="/dashboard/cohorts/1/roster"[^>]*>(.*?)</form>', html, re.S)
        assert form is not None, html[:500]
        data = FormData()
        for name, value in re.findall(r'name="(csrf|nonce|back)" value="([^"]*)"', form[1]):
            data.add_field(name, value)
        data.add_field("roster", body, filename="class.csv", content_type="text/csv")
        began = time.perf_counter()
        async with client.post(f"{page}/roster", data=data) as shown:
            text = await shown.text()
            assert shown.status == 200 and "Line" in text, (shown.status, text[:300])
        times.append((time.perf_counter() - began) * 1000)
    return times[1:]  # the first warms up


async def main() -> None:
    """Load, serve, sign in, time every page and the floor."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        config = CoreConfig(instance_id="bench", data_dir=Path(tmp))
        _, bot, _ = build(uow, state_path=None, start=NOW, config=config)
        group = await bot.group(GROUP)
        await bot.service(SetupService).run(group)
        loaded = await asyncio.to_thread(load, db)
        print(
            f"loaded {MEMBERS:,} members, {COHORTS} cohorts, 52 weekly questions and"
            f" {ROWS:,} activity rows in {loaded:.1f} s"
            + ("" if ROWS >= 1_000_000 else " (scaled down from 1,000,000)")
        )
        runner = web.AppRunner(web_app(bot, Lifecycle(), "http://127.0.0.1"), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = URL(f"http://127.0.0.1:{runner.addresses[0][1]}")
        service = bot.service(DashboardService)
        service.serve_at(str(base))
        link = URL(await service.link(group, Actor("owner", "owner", Permission.ADMIN)))
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as client:
            async with client.get(link) as page:
                check = re.search(r'name="check" value="([^"]+)"', await page.text())
            assert check is not None
            async with client.post(link, data={"check": check[1]}) as signed:
                assert signed.status == 200, signed.status
            floor = await timed(client, base / "healthz")
            print(
                f"{'floor: /healthz':44} p50 {pct(floor, 50):6.1f} ms  p95 {pct(floor, 95):6.1f} ms"
            )
            for path in PAGES:
                times = await timed(client, URL(str(base) + path))
                over = statistics.median(times) - statistics.median(floor)
                print(
                    f"{path:44} p50 {pct(times, 50):6.1f} ms  p95 {pct(times, 95):6.1f} ms"
                    f"  (median over the floor {over:+.1f} ms)"
                )
            roster = await roster_preview(client, base)
            print(
                f"{'roster preview, 500 lines (upload + page)':44} p50 {pct(roster, 50):6.1f} ms"
                f"  p95 {pct(roster, 95):6.1f} ms  (goal: under 300 ms)"
            )
        print("goal: p95 under 100 ms per page")
        await runner.cleanup()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
