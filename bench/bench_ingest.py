"""Push 10,000 MessagePosted events through `bot.handle` on SQLite and print messages per second.

Goal: at least 2,000 messages/s. Each message costs one short transaction: a single INSERT
whose author role and category are looked up inside the statement.
Run: .venv/bin/python bench/bench_ingest.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from adapters.local.app import build
from bot.core import CoreConfig
from bot.events import ChannelRef, MessagePosted, MessageRef, UserRef
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
NOW = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)
TEXTS = [
    "Does anyone know a good supplier of deadstock wool?",
    "Congratulations on the show!",
    "I think the brief is about repair as much as design.",
    "Vi ses på fredag!",
]


async def main() -> None:
    """Set up a group, then time the messages."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        terminal, bot, ws = build(
            uow, state_path=None, out=lambda _: None, start=NOW, config=CoreConfig(instance_id="b")
        )
        await terminal.line("/alumni setup")
        for i in range(50):
            await terminal.line(f"!join member{i}")
        discussion = ws.channel_by_name("discussion")
        assert discussion is not None
        channel = ChannelRef(discussion, "discussion")
        events = [
            MessagePosted(
                "local",
                UserRef(f"member{i % 50}", f"member{i % 50}"),
                channel,
                MessageRef(discussion, f"M{i}", "T1" if i % 3 else None),
                TEXTS[i % len(TEXTS)],
                "T1" if i % 3 else None,
            )
            for i in range(MESSAGES)
        ]
        began = time.perf_counter()
        for event in events:
            await bot.handle(event)
        await bot.activity.flush()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - began
        async with engine.connect() as conn:
            counted = (await conn.execute(text("SELECT count(*) FROM activity"))).scalar_one()
        assert counted == MESSAGES, counted
        print(
            f"ingest: {MESSAGES:,} messages in {elapsed:.2f} s"
            f" = {MESSAGES / elapsed:,.0f} messages/s"
            f" (goal >= 2,000/s); {counted:,} activity rows"
        )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
