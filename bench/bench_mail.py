"""Email 500 addresses through a local SMTP server (STARTTLS + AUTH) at the configured rate.

Prints: how long the enqueueing call took (goal: under 1 s, sending happens behind it), the
wall time from the first to the last email against the floor the rate allows ((n - 1) x 60 /
rate; goal within 10%), and database statements per email (goal at most 3, counted with a
before_cursor_execute listener over enqueueing and sending together).

The documented run is the default rate, 30 emails a minute: 500 emails take about 1000 s.
`--rate 3000` runs the same code in about 10 s and is the stricter test of overhead (each
email's own cost is a bigger share of a 20 ms interval than of a 2 s one); statements per
email and the enqueueing time do not depend on the rate.

Run: `.venv/bin/python bench/bench_mail.py [--rate 30] [--emails 500]`. SQLite in a temp dir.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.mail.smtp import SmtpMailer, SmtpTarget
from bot.cogs.mail.records import Email, MailConfig, QueueStatus
from bot.cogs.mail.service import MailService
from bot.domain import Group, Language
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.mail_server import MailServer

START = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


async def main(rate: float, emails: int) -> int:
    """Queue `emails` personal emails, let the paced sender deliver them, print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        server = MailServer(Path(tmp)).start()
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        group = Group("bench", "local", Language.NB, "Europe/Oslo", {}, START)
        async with uow() as u:
            await u.groups.add(group)
        mailer = SmtpMailer(
            SmtpTarget.parse(server.url()), tls_context=server.client_context(), timeout=10
        )
        service = MailService(
            uow,
            SystemClock(),
            owner="bench",
            mailer=mailer,
            config=MailConfig(sender="Alumni <alumni@school.example>", rate_per_minute=rate),
        )
        statements = 0

        def count(*_: Any) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        batch = [
            Email(
                to=f"student{i:03d}@school.example",
                subject="Invitasjon til alumnigruppen",
                text=f"Hei student {i}!\n\nDin personlige kode er FP26-{i:04d}.",
                why="Du får denne e-posten fordi læreren din satte deg på klasselista.",
                reply_to="teacher@school.example",
                key=f"bench:{i}",
            )
            for i in range(emails)
        ]
        began = time.perf_counter()
        results = await service.enqueue(group, "invitation", batch)
        enqueue_s = time.perf_counter() - began
        assert all(r.status is QueueStatus.QUEUED for r in results)
        print(f"enqueue of {emails} emails answered in {enqueue_s:.3f} s (goal < 1 s)")
        first: float | None = None
        seen = shown = 0
        while seen < emails:
            await asyncio.sleep(0.01)
            seen = len(server.received)
            if seen and first is None:
                first = time.perf_counter()
            if rate < 600 and seen // 50 > shown:
                shown = seen // 50
                print(f"  {seen} sent after {time.perf_counter() - began:.0f} s", flush=True)
        last = time.perf_counter()
        await service.settled()
        await service.stop()
        server.stop()
        await engine.dispose()
        assert first is not None
        wall = last - first
        floor = (emails - 1) * 60 / rate
        over = (wall / floor - 1) * 100 if floor else 0.0
        print(f"{emails} emails at {rate:g}/min: {wall:.1f} s first to last; floor {floor:.1f} s")
        print(f"  {over:+.1f}% over the floor (goal within 10%)")
        print(f"database statements per email: {statements / emails:.2f} (goal at most 3)")
        ids = {r.message["Message-ID"] for r in server.received}
        print(f"distinct emails received: {len(ids)} of {emails}")
        return 0 if len(ids) == emails and enqueue_s < 1 and abs(over) <= 10 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=float(os.environ.get("RATE", 30)))
    parser.add_argument("--emails", type=int, default=500)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.rate, args.emails)))
