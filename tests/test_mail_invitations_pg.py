"""Personal invitations on PostgreSQL: two processes inviting the same roster at once make one
code and one email per address, and the code is redeemed once."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from adapters.local.terminal import Terminal
from adapters.local.workspace import LocalWorkspace
from bot.cogs.mail.invitations import InvitationService
from bot.core import Bot, CoreConfig
from bot.domain import Actor, Permission
from bot.features import load_all
from bot.scheduler import Scheduler
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.conftest import START


async def test_two_processes_inviting_at_once_make_one_code_and_one_email_each(
    pg_url: str,
) -> None:
    engines = [create_engine(pg_url), create_engine(pg_url)]
    try:
        await upgrade(engines[0])
        lines: list[str] = []
        ws = LocalWorkspace(None, out=lines.append, start=START)
        bots = [
            load_all(Bot(ws, UnitOfWorkFactory(e), ws.clock, CoreConfig(instance_id=f"p{i}")))
            for i, e in enumerate(engines)
        ]
        terminal = Terminal(bots[0], ws, Scheduler(bots[0]))
        emails = "; ".join(f"s{i}@example.com" for i in range(40))
        for line in (
            "/alumni setup",
            "/alumni cohort create program:Fashion year:2026",
            f'/alumni invite cohort:"Fashion 2026" emails:"{emails}" send:no',
        ):
            await terminal.line(line)
        group = await bots[0].group("local")
        async with bots[0].uow() as uow:
            [cohort] = await uow.cohorts.for_group(group.id)
        owner = Actor("owner", "owner", Permission.ADMIN)
        reports = await asyncio.gather(
            *(
                b.service(InvitationService).remind(group, cohort, owner)
                for b in bots
                for _ in range(2)
            )
        )
        # A run that read the roster while another was queueing reports those emails as
        # queued too; one that came after reports them as sent moments ago ("recent", the
        # three days between reminders). Either way the outbox's keys let each go once.
        told = {d.value for r in reports for _, d, _ in r.deliveries}
        assert "queued" in told and told <= {"queued", "recent"}, told
        assert len({a for r in reports for a, _, _ in r.deliveries}) == 40
        async with engines[0].connect() as conn:
            one = "SELECT count(*) FROM {}"
            assert (await conn.execute(text(one.format("mail_invitations")))).scalar() == 40
            kinds = "SELECT count(*) FROM invitations WHERE kind = 'roster'"
            assert (await conn.execute(text(kinds))).scalar() == 40  # no orphan code is left
            assert (await conn.execute(text(one.format("mail_outbox")))).scalar() == 40
            code = (
                await conn.execute(
                    text(
                        "SELECT i.code FROM invitations i JOIN mail_invitations m"
                        " ON m.invitation_id = i.id JOIN roster_entries r"
                        " ON r.id = m.roster_entry_id WHERE r.email = 's7@example.com'"
                    )
                )
            ).scalar()
        # Kari redeems the code; Mallory, given it too, is refused.
        start = len(lines)
        for line in ("!join kari", "!join mallory", "!as kari", f"/alumni join code:{code}"):
            await terminal.line(line)
        await terminal.line("!as mallory")
        await terminal.line(f"/alumni join code:{code}")
        out = "\n".join(lines[start:])
        assert out.count("You now have") == 1
        assert "personal invitation, and it has been used" in out
        async with engines[0].connect() as conn:
            matched = await conn.execute(
                text("SELECT matched_user_id FROM roster_entries WHERE email = 's7@example.com'")
            )
            assert matched.scalar() == "kari"
    finally:
        for e in engines:
            await e.dispose()
