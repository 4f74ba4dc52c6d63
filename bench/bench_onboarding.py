"""Onboard a 500-member roster through the local workspace; print wall time and round-trips.

Run with `make bench` (or `.venv/bin/python bench/bench_onboarding.py`). SQLite in a temp dir.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.local.app import build
from bot.core import CoreConfig
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory

MEMBERS = 500
START = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)


async def main() -> None:
    """Invite a roster, let everyone join by email, graduate the cohort; time each phase."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(engine)
        statements = 0

        def count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        out: list[str] = []
        terminal, _, ws = build(
            UnitOfWorkFactory(engine),
            state_path=None,
            out=out.append,
            start=START,
            config=CoreConfig(instance_id="bench"),
        )
        await terminal.line("/alumni setup")
        await terminal.line("/alumni cohort create program:Fashion year:2026 graduates:2029-06-15")
        names = [f"student{i:03d}" for i in range(MEMBERS)]
        emails = "; ".join(f"{n}@example.com" for n in names)

        async def phase(label: str, lines: list[str]) -> None:
            nonlocal statements
            statements = 0
            began = time.perf_counter()
            for line in lines:
                await terminal.line(line)
            wall = time.perf_counter() - began
            print(
                f"{label:<34} {wall:7.2f} s  {wall / MEMBERS * 1000:6.2f} ms/member  "
                f"{statements / MEMBERS:6.1f} round-trips/member"
            )

        print(f"onboarding {MEMBERS} members, local workspace, SQLite")
        await phase(
            "roster import (one command)",
            [f'/alumni invite cohort:"Fashion 2026" emails:"{emails}"'],
        )
        await phase("join + roster match + grant", [f"!join {n} {n}@example.com" for n in names])
        # The terminal also ticks the scheduler after each line; that is counted too.
        await phase("graduation (queue of 500)", ["!clock +1033d"])
        ok = sum(ws.role_names(n) == ["Fashion 2026", "alumni"] for n in names)
        print(f"members who ended as alumni of Fashion 2026: {ok}/{MEMBERS}")
        await engine.dispose()
        if ok != MEMBERS:
            raise SystemExit(1)


if __name__ == "__main__":
    asyncio.run(main())
