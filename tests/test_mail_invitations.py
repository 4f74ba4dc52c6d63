"""Personal invitations on the local workspace (issue 16, items 1 and 2): a teacher invites a
roster, each address gets one email with its own single-use code, a student redeems it, a
reminder waits three days, and `/alumni cohort status` shows each address."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.mail.invitations import InvitationService
from bot.cogs.onboarding.codes import LOCK_ATTEMPTS
from bot.domain import Language
from storage.models import InvitationRow, MailInvitationRow, RosterEntryRow
from tests.mail_server import MailServer, eventually
from tests.test_mail import mail_group, outbox, settle
from tests.test_mail_invitations_platforms import use_smtp

COHORT = "/alumni cohort create program:Fashion year:2026"
THREE = (
    '/alumni invite cohort:"Fashion 2026" '
    'emails:"Kari Nordmann <kari@example.com>; Ola Hansen,ola@example.com; per@example.com"'
)
_CODE = re.compile(r"code:([A-Z0-9]{8})")


async def codes_in_db(engine: AsyncEngine) -> dict[str, str]:
    """Address -> the personal code the database holds for it."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(RosterEntryRow.email, InvitationRow.code)
            .join(MailInvitationRow, MailInvitationRow.roster_entry_id == RosterEntryRow.id)
            .join(InvitationRow, InvitationRow.id == MailInvitationRow.invitation_id)
        )
        return {email: code for email, code in rows}


def body(message: EmailMessage) -> str:
    """The plain-text part of an email."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


async def test_a_teacher_invites_three_and_each_gets_their_own_code(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    await group.run("/alumni setup", "!join tina tina@school.no")
    await group.run("!as owner", "/alumni role grant member:tina role:staff", "!as tina", COHORT)
    out = await group.run(THREE)
    assert "Personal invitations: 3 emails written to the outbox folder" in out
    assert "reach nobody's inbox" in out
    await settle(group)
    out = "\n".join(group.lines)
    for address in ("kari@example.com", "ola@example.com", "per@example.com"):
        assert f"(email to {address}: tina invites you to the alumni group of Fashion 2026)" in out
    emails = outbox(tmp_path)
    assert len(emails) == 3
    held = await codes_in_db(engine)
    for message in emails:
        to = str(message["To"])
        plain = body(message)
        # The code in the email is the one the database holds for that address, and no other.
        assert _CODE.findall(plain) == [held[to]]
        assert "local://join/" in plain
        assert str(message["Reply-To"]) == "tina@school.no"
        assert message["Message-ID"] and message["Date"] and message["List-Unsubscribe"]
        html_part = message.get_body(("html",))
        assert html_part is not None and held[to] in str(html_part.get_content())  # type: ignore[attr-defined]
        assert "<img" not in str(html_part.get_content())  # type: ignore[attr-defined]
    kari = next(m for m in emails if str(m["To"]) == "kari@example.com")
    assert body(kari).startswith("Hi Kari,")
    assert "you get the roles student and Fashion 2026" in body(kari)
    assert len(set(held.values())) == 3

    # Kari joins without the roster address and redeems her emailed code: student + cohort.
    out = await group.run("!join kari", "!as kari", f"/alumni join code:{held['kari@example.com']}")
    assert "Fashion 2026" in out
    out = await group.run("!show roles kari")
    assert "kari: Fashion 2026, student" in out
    # Someone else entering the same code is refused as used, and gets nothing.
    out = await group.run(
        "!join mallory", "!as mallory", f"/alumni join code:{held['kari@example.com']}"
    )
    assert "personal invitation, and it has been used" in out
    assert "student" not in await group.run("!show roles mallory")
    # Kari's entry is marked joined: status says so, per address.
    out = await group.run("!as tina", '/alumni cohort status cohort:"Fashion 2026"')
    assert re.search(r"kari@example\.com\s+\S.*\s+sent\s+yes", out), out
    assert re.search(r"ola@example\.com\s+\S.*\s+sent\s+no", out), out

    # Inviting the same roster again emails nobody twice.
    out = await group.run(THREE)
    assert "Nobody on the roster is waiting for an invitation." in out
    await settle(group)
    assert len(outbox(tmp_path)) == 3


async def test_reminders_wait_three_days_and_say_when_the_last_went(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    await group.run("/alumni setup", COHORT, THREE)
    await settle(group)
    # A member can neither remind the class nor read its addresses.
    await group.run("!join mia", "!as mia")
    for command in ("remind", "status"):
        out = await group.run(f'/alumni cohort {command} cohort:"Fashion 2026"')
        assert f"Only staff can run `/alumni cohort {command}`" in out
        assert "kari@example.com" not in out
    await group.run("!as owner")
    out = await group.run('/alumni cohort remind cohort:"Fashion 2026"')
    assert "3 addresses not reminded, emailed less than 3 days ago" in out
    assert "kari@example.com (last on 17 Aug 2026)" in out
    await group.run("!join ola ola@example.com")  # matched by the roster address
    # Ola's emailed code is now nobody's to use: a forwarded copy is refused.
    held = await codes_in_db(engine)
    out = await group.run("!join eve", "!as eve", f"/alumni join code:{held['ola@example.com']}")
    assert "personal invitation, and it has been used" in out
    assert "student" not in await group.run("!show roles eve")
    await group.run("!as owner")
    out = await group.run("!clock +3d", '/alumni cohort remind cohort:"Fashion 2026"')
    assert "Personal invitations: 2 emails" in out
    assert "1 person on the roster has joined already." in out
    await settle(group)
    reminders = [m for m in outbox(tmp_path) if str(m["Subject"]).startswith("Reminder")]
    assert sorted(str(m["To"]) for m in reminders) == ["kari@example.com", "per@example.com"]
    held = await codes_in_db(engine)
    for message in reminders:  # the same personal code as in the invitation
        assert _CODE.findall(body(message)) == [held[str(message["To"])]]


async def test_send_no_imports_and_remind_sends_later_in_norwegian(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path, Language.NB)
    await group.run("/alumni setup", COHORT)
    out = await group.run(THREE + " send:no")
    assert "3 adresser lagt inn uten e-post (send:no)" in out
    await settle(group)
    assert outbox(tmp_path) == []
    assert await codes_in_db(engine) == {}
    out = await group.run('/alumni cohort status cohort:"Fashion 2026"')
    assert re.search(r"Adresse\s+E-post sendt\s+E-post\s+Med", out), out
    assert re.search(r"per@example\.com\s+ikke ennå\s+-\s+nei", out), out
    out = await group.run('/alumni cohort remind cohort:"Fashion 2026"')
    assert "Personlige invitasjoner: 3 e-poster er lagt i utboks-mappen" in out
    await settle(group)
    emails = outbox(tmp_path)
    assert len(emails) == 3
    assert all(
        str(m["Subject"]).endswith("inviterer deg til alumnigruppen for Fashion 2026")
        for m in emails
    )
    assert "Skriv så inn den personlige koden din" in body(emails[0])


async def test_an_opted_out_address_gets_no_invitation(engine: AsyncEngine, tmp_path: Path) -> None:
    group = mail_group(engine, tmp_path)
    await group.run("/alumni setup", COHORT, "/alumni mail stop address:per@example.com")
    out = await group.run(THREE)
    assert "2 emails written to the outbox folder" in out
    assert "1 not sent, the address asked for no more email from this group: per@example.com" in out
    await settle(group)
    assert sorted(str(m["To"]) for m in outbox(tmp_path)) == [
        "kari@example.com",
        "ola@example.com",
    ]


async def test_120_addresses_show_20_rows_and_attach_the_rest(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    roster = tmp_path / "big.csv"
    roster.write_text(
        "navn;e-post\n" + "".join(f"Student {i};s{i}@example.com\n" for i in range(120))
    )
    await group.run("/alumni setup", COHORT)
    await group.run(f'/alumni invite cohort:"Fashion 2026" roster:"file:{roster}" send:no')
    out = await group.run('/alumni cohort status cohort:"Fashion 2026"')
    assert "The first 20 of 120 addresses; all of them are in the attached file." in out
    assert "s19@example.com" in out and "s20@example.com" not in out
    # The file went to the teacher and is not left on disk.
    assert list((tmp_path / "invitations").glob("*.csv")) == []
    service = group.bot.service(InvitationService)
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM roster_entries"))).scalar()
    assert count == 120
    assert service.emails_go(await group.bot.group("local"))


async def test_a_bounce_is_told_to_the_teacher_once_and_shows_in_status(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    server = MailServer(tmp_path).start()
    server.handler.always["per@example.com"] = "550 5.1.1 No such user"
    try:
        group = mail_group(engine, tmp_path)
        use_smtp(group.bot, server)
        await group.run("/alumni setup", "!join tina tina@school.no")
        await group.run("!as owner", "/alumni role grant member:tina role:staff", "!as tina")
        out = await group.run(COHORT, THREE)
        assert "Personal invitations: 3 emails queued" in out
        await eventually(lambda: len(server.received) == 2)
        await settle(group)
        dm = await group.run("!show dm tina")
        assert dm.count("The invitation email to per@example.com could not be delivered") == 1
        assert "550 No such user" in dm or "550 5.1.1 No such user" in dm
        out = await group.run('/alumni cohort status cohort:"Fashion 2026"')
        assert re.search(r"per@example\.com\s+.+\s+bounced\s+no", out), out
        # A reminder three days on skips the dead address and says why; no second DM.
        out = await group.run("!clock +3d", '/alumni cohort remind cohort:"Fashion 2026"')
        assert "1 not sent, an earlier email to the address bounced: per@example.com" in out
        await eventually(lambda: len(server.received) == 4)
        await settle(group)
        dm = await group.run("!show dm tina")
        assert dm.count("could not be delivered") == 1
    finally:
        server.stop()


async def test_a_forwarded_used_code_is_told_never_locks_out_and_codes_list_keeps_to_shared_codes(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    out = await group.run("/alumni setup", COHORT, THREE)
    shared = re.search(r"`([A-Z0-9]{8})`", out)
    assert shared, out
    held = await codes_in_db(engine)
    kari = held["kari@example.com"]
    await group.run("!join kari", "!as kari", f"/alumni join code:{kari}")
    # Mallory enters Kari's forwarded code more often than the lockout allows: it was a real
    # code, so each time she is told it was used, and no wrong guess is counted.
    await group.run("!join mallory", "!as mallory")
    for _ in range(LOCK_ATTEMPTS + 1):
        out = await group.run(f"/alumni join code:{kari}")
        assert "personal invitation, and it has been used" in out, out
    out = await group.run("/alumni join code:NOSUCHCODE")
    assert f"{LOCK_ATTEMPTS - 1} tries left" in out, out
    assert "student" not in await group.run("!show roles mallory")
    # Staff's list of codes that work names the cohort's code, not each address's own.
    out = await group.run("!as owner", "/alumni codes list")
    assert shared.group(1) in out, out
    assert not any(code in out for code in held.values()), out
    assert out.count("uses left") == 1 and "codes_line" not in out, out
    # A personal code is still ended at once if one leaks.
    out = await group.run(f"/alumni codes revoke code:{held['ola@example.com']}")
    assert "no longer works" in out
