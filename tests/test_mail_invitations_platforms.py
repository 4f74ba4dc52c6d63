"""Personal invitations end to end on the Discord and Slack fakes (issue 16, Proof): a teacher
invites three addresses through a real SMTP server on 127.0.0.1 (STARTTLS + AUTH), a student
redeems the emailed code and gets student + cohort, another member is refused the same code;
on Slack the email carries the workspace's invite link; without SMTP the teacher gets the
codes privately as a CSV file."""

from __future__ import annotations

import csv
import io
import re
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.mail.smtp import SmtpMailer, SmtpTarget
from bot.cogs.mail.records import MailConfig
from bot.cogs.mail.service import MailService
from bot.core import Bot
from tests.discord_harness import STAFF_ID, Harness, answer_text, discord_harness
from tests.fakes.discord_fake import FakeUpload
from tests.mail_server import MailServer, eventually
from tests.slack_harness import slack_harness
from tests.test_discord_features import (
    BOB_ID,
    CARA_ID,
    command,
    join,
    role_id,
    setup_group,
)
from tests.test_slack_features import COHORT, LINK, STUDENT, channel
from tests.test_slack_features import dms as slack_dms
from tests.test_slack_features import join as slack_join

THREE = "Kari Nordmann <kari@example.com>; Bob Berg,bob@example.com; per@example.com"
_CODE = re.compile(r"code:([A-Z0-9]{8})")


def use_smtp(bot: Bot, server: MailServer) -> MailService:
    """The bot's outbox sends through the test's SMTP server (STARTTLS, AUTH), unpaced."""
    service = bot.service(MailService)
    target = SmtpTarget.parse(server.url())
    mailer = SmtpMailer(target, tls_context=server.client_context(), timeout=5)
    service.use(mailer, MailConfig(sender="alumni@school.no", rate_per_minute=None))
    return service


def plain(message: EmailMessage) -> str:
    """The text/plain part of an email."""
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


async def invite_three(h: Harness) -> str:
    """Staff create Fashion 2026 and invite three addresses; returns the answer's text."""
    await command(h, STAFF_ID, "cohort create", {"program": "Fashion", "year": 2026})
    invited = await command(
        h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "emails": THREE}
    )
    assert invited.ephemeral
    return answer_text(invited)


async def test_discord_a_student_redeems_the_emailed_code_and_another_is_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    server = MailServer(tmp_path).start()
    try:
        async with discord_harness(engine) as h:
            service = use_smtp(h.bot, server)
            await setup_group(h)
            text = await invite_three(h)
            assert "Personal invitations: 3 emails queued" in text, text
            await eventually(lambda: len(server.received) == 3)
            await service.settled()
            assert sorted(r.rcpt_tos[0] for r in server.received) == [
                "bob@example.com",
                "kari@example.com",
                "per@example.com",
            ]
            [bob_mail] = [r.message for r in server.received if r.rcpt_tos == ("bob@example.com",)]
            body = plain(bob_mail)  # type: ignore[arg-type]
            assert "tove has invited you to the alumni group of Fashion 2026" in body
            # The group's link is a real invite Discord made; Discord never gives the teacher's
            # address, so there is no Reply-To.
            assert re.search(r"https://discord\.gg/\w+", body), body
            assert "(The link works for 7 days." in body
            assert bob_mail["Reply-To"] is None
            [code] = _CODE.findall(body)

            # Bob joins Discord and redeems the code from his email: student + Fashion 2026.
            await join(h, BOB_ID, "bob")
            answer = await command(h, BOB_ID, "join", {"code": code})
            assert "You now have" in answer_text(answer), answer_text(answer)
            student, cohort = role_id(h, "student"), role_id(h, "Fashion 2026")
            assert h.fake.member_role_ids(h.guild.id, BOB_ID) == {student, cohort}

            # Cara got the code forwarded: refused as used, no role.
            await join(h, CARA_ID, "cara")
            refused = await command(h, CARA_ID, "join", {"code": code})
            assert refused.ephemeral
            assert "personal invitation, and it has been used" in answer_text(refused)
            assert h.fake.member_role_ids(h.guild.id, CARA_ID) == set()

            # The roster entry is Bob's now.
            async with h.uow() as uow:
                roster = await uow.roster.entries(str(h.guild.id), 1)
            assert {e.email: e.matched_user_id for e in roster}["bob@example.com"] == str(BOB_ID)
            status = await command(h, STAFF_ID, "cohort status", {"cohort": "Fashion 2026"})
            table = answer_text(status)
            assert re.search(r"bob@example\.com\s+.+\s+sent\s+yes", table), table
            assert re.search(r"per@example\.com\s+.+\s+sent\s+no", table), table
    finally:
        server.stop()


async def test_discord_without_smtp_the_teacher_gets_the_codes_as_a_private_csv(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await command(h, STAFF_ID, "cohort create", {"program": "Fashion", "year": 2026})
        invited = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "emails": THREE}
        )
        text = answer_text(invited)
        assert invited.ephemeral
        assert "No emails were sent: no mail server is set up" in text
        assert "personal codes for 3 addresses are in the attached file" in text
        [attachment] = invited.messages[-1]["attachments"]
        assert attachment["filename"].endswith(".csv")
        rows = list(
            csv.reader(io.StringIO(h.fake.attachment_data[attachment["id"]].decode("utf-8-sig")))
        )
        assert rows[0] == ["Name", "Address", "Code"]
        by_address = {r[1]: r[2] for r in rows[1:]}
        assert set(by_address) == {"kari@example.com", "bob@example.com", "per@example.com"}
        # The handed-out code works once, as an emailed one would.
        await join(h, BOB_ID, "bob")
        answer = await command(h, BOB_ID, "join", {"code": by_address["bob@example.com"]})
        assert "You now have" in answer_text(answer)
        # Nothing was queued for an outbox nobody reads, and the file is not left on disk.
        async with h.uow() as uow:
            assert await uow.outbox.counts(str(h.guild.id)) == {}
        assert not list((h.bot.config.data_dir / "invitations").glob("*.csv"))


async def test_slack_the_email_carries_the_workspace_invite_link_and_the_teachers_reply_to(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    server = MailServer(tmp_path).start()
    try:
        settings = {"slack_invite_link": LINK, "data_dir": tmp_path}
        async with slack_harness(engine, settings=settings) as h:
            service = use_smtp(h.bot, server)
            await h.command(h.admin, "setup")
            await h.command(h.admin, "cohort create program:Fashion year:2026")
            [answer] = await h.command(h.admin, f'invite cohort:"Fashion 2026" emails:"{THREE}"')
            assert "Personal invitations: 3 emails queued" in answer, answer
            await eventually(lambda: len(server.received) == 3)
            await service.settled()
            kari_mail = next(
                r.message for r in server.received if r.rcpt_tos == ("kari@example.com",)
            )
            body = plain(kari_mail)  # type: ignore[arg-type]
            assert f"1. Join the group: {LINK}" in body
            assert body.startswith("Hi Kari,")
            # Slack gives the teacher's address: answers go to them, not to the bot.
            assert str(kari_mail["Reply-To"]) == "admin@example.org"
            html_part = kari_mail.get_body(("html",))  # type: ignore[attr-defined]
            assert f'<a href="{LINK}">' in str(html_part.get_content())
            [code] = _CODE.findall(body)

            # Kari joins with another address than the roster's and redeems her code.
            kari = await slack_join(h, "kari", "kari.n@gmail.com")
            [ok] = await h.command(kari, f"join code:{code}")
            assert "You now have: student, Fashion 2026" in ok
            assert kari in channel(h, STUDENT).members and kari in channel(h, COHORT).members
            ola = await slack_join(h, "ola", "ola@elsewhere.org")
            [refused] = await h.command(ola, f"join code:{code}")
            assert "personal invitation, and it has been used" in refused
            assert ola not in channel(h, STUDENT).members
    finally:
        server.stop()


async def test_slack_without_smtp_the_codes_go_to_the_teacher_by_dm_as_a_file(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    settings = {"slack_invite_link": LINK, "data_dir": tmp_path}
    async with slack_harness(engine, settings=settings) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, "cohort create program:Fashion year:2026")
        [answer] = await h.command(h.admin, f'invite cohort:"Fashion 2026" emails:"{THREE}"')
        assert "No emails were sent: no mail server is set up" in answer
        # Slack has no private files in an answer: the file goes to the teacher's DM.
        [shared] = [m for m in slack_dms(h, h.admin) if m.get("files")]
        [file] = shared["files"]
        assert file["name"].endswith(".csv")
        content = h.fake.files[file["id"]]["content"].decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        assert {r[1] for r in rows[1:]} == {
            "kari@example.com",
            "bob@example.com",
            "per@example.com",
        }
        assert list((tmp_path / "outbox").glob("*.eml")) == []


async def test_discord_status_of_120_addresses_fits_a_message_and_attaches_the_rest(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await command(h, STAFF_ID, "settings", {"language": "nb"})
        await command(h, STAFF_ID, "cohort create", {"program": "Mote", "year": 2026})
        sheet = "Navn;E-post\r\n" + "".join(
            f"Student Ødegård {i};student.odegard.{i:03d}@stud.oslomet.no\r\n" for i in range(120)
        )
        upload = FakeUpload("klasse.csv", sheet.encode("cp1252"))
        imported = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Mote 2026", "roster": upload, "send": "no"}
        )
        assert "120 adresser lagt inn uten e-post (send:no)" in answer_text(imported)
        status = await command(h, STAFF_ID, "cohort status", {"cohort": "Mote 2026"})
        shown = status.messages[-1]
        # The fake refuses content past Discord's 2,000 characters: this one was taken.
        assert status.ephemeral and len(answer_text(status)) <= 2000
        assert "De første 20 av 120 adresser; alle står i den vedlagte filen." in answer_text(
            status
        )
        [attachment] = shown["attachments"]
        rows = list(
            csv.reader(
                io.StringIO(h.fake.attachment_data[attachment["id"]].decode("utf-8-sig")),
                delimiter=";",
            )
        )
        assert rows[0] == ["Navn", "Adresse", "E-post sendt", "E-post", "Med"]
        assert len(rows) == 121 and rows[1][0] == "Student Ødegård 0"
