"""Email as members and staff meet it on the local workspace: `/alumni digest`, the weekly
digest in their inbox (here: the outbox folder), staff's overview, erasure, bounces."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.app import build
from bot.cogs.mail.service import MailService
from bot.core import CoreConfig
from bot.domain import Language
from bot.settings import Settings
from storage.models import MailOptOutRow, MailOutboxRow, MailSubscriptionRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import START, LocalGroup
from tests.mail_server import MailServer, eventually

JOB = '!form title="Pattern cutter" employer="Studio Nord" place=Oslo deadline=2026-09-20'
# From Monday 13:00 to next Monday 09:00 (Oslo): a new job, then the digest at 12:00.
NEXT_WEEK = ("!clock +6d", "!clock +20h", "/alumni post job", JOB, "!clock +4h")


def mail_group(
    engine: AsyncEngine,
    tmp_path: Path,
    language: Language = Language.EN,
    **env: str,
) -> LocalGroup:
    """A local group whose emails go to tmp_path/outbox (or to ALUMNIBOT_SMTP_URL)."""
    lines: list[str] = []
    uow = UnitOfWorkFactory(engine)
    settings = Settings(data_dir=tmp_path, **env)  # type: ignore[arg-type]
    terminal, bot, ws = build(
        uow,
        state_path=None,
        out=lines.append,
        start=START,
        config=CoreConfig(default_language=language, instance_id="test"),
        mail=settings,
    )
    return LocalGroup(terminal, bot, ws, uow, lines)


def outbox(tmp_path: Path) -> list[EmailMessage]:
    """The emails written so far, parsed as any mail program would."""
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    return [message_from_bytes(f.read_bytes(), policy=default) for f in files]  # type: ignore[misc]


def msg_subject(tmp_path: Path) -> str:
    """The subject of the first email in the outbox."""
    return str(outbox(tmp_path)[0]["Subject"])


def channel_digests(group: LocalGroup) -> int:
    """How many weekly digests were posted in #announcements."""
    return sum("This week" in str(m["title"]) for m in group.messages("announcements"))


async def settle(group: LocalGroup) -> None:
    """Let the background sender finish what is due."""
    await group.bot.service(MailService).settled()


async def test_digest_by_email_from_the_terminal(engine: AsyncEngine, tmp_path: Path) -> None:
    group = mail_group(engine, tmp_path)
    await group.run("/alumni setup", "!join kari kari@example.com", "!join ola")
    out = await group.run("!as kari", "/alumni digest email:on")
    assert "the weekly digest now also comes by email to kari@example.com" in out
    # No SMTP server: the member is told that emails reach nobody's inbox.
    assert "no mail server is set up" in out
    # A job posted on Monday morning; after 12:00 the weekly digest goes out.
    await group.run("!clock +7d", "/alumni post job", JOB, "!clock +4h")
    await settle(group)
    lines = [line for line in group.lines if line.startswith("(email to")]
    assert lines == [f"(email to kari@example.com: {msg_subject(tmp_path)})"]
    [msg] = outbox(tmp_path)
    assert msg["To"] == "kari@example.com" and msg["From"] == "alumnibot@localhost"
    assert msg["Message-ID"] and msg["Date"] and msg["List-Unsubscribe"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Pattern cutter (Studio Nord)" in text and "Pattern cutter (Studio Nord)" in html
    assert "`/alumni digest email:off` turns it off" in text
    # The same week again (a retried job, a second process): no second email.
    await group.bot.cogs["stats"].digest(await group.bot.group("local"), "2026-W35")  # type: ignore[attr-defined]
    await settle(group)
    assert len(outbox(tmp_path)) == 1
    # Ola never asked: he gets nothing; off means off.
    await group.run("/alumni digest email:off")
    await group.run(*NEXT_WEEK)
    await settle(group)
    # Two posts: the week called again by hand posts nothing twice (reserved before it is
    # sent), then next week's; still the one email.
    assert channel_digests(group) == 2 and len(outbox(tmp_path)) == 1


async def test_norwegian_member_and_email(engine: AsyncEngine, tmp_path: Path) -> None:
    group = mail_group(engine, tmp_path, Language.NB)
    await group.run("/alumni setup", "!join kari kari@example.com", "!as kari")
    out = await group.run("/alumni digest email:on")
    assert "ukeoppsummeringen kommer nå også på e-post til kari@example.com" in out
    assert "boten har ingen e-postserver ennå" in out
    await group.run("!clock +7d", "/alumni post job", JOB, "!clock +4h")
    await settle(group)
    [msg] = outbox(tmp_path)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Du får denne e-posten fordi du slo på ukeoppsummeringen" in text
    assert "send en e-post med emnet «unsubscribe» til alumnibot@localhost" in text
    assert "Denne uken" in str(msg["Subject"])


async def test_a_member_without_an_address_is_told_how_to_add_one(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    await group.run("/alumni setup", "!join ola", "!as ola")
    out = await group.run("/alumni digest email:on")
    assert "I don't know an email address for you" in out
    assert "`/alumni digest email:on address:you@example.com`" in out
    out = await group.run("/alumni digest email:on address:ola@example.com")
    assert "I emailed a 6-digit code to ola@example.com" in out
    await settle(group)
    [msg] = outbox(tmp_path)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    code = re.search(r"Your code is (\d{6})", text)
    assert code is not None
    assert "code:" in text and "ignore this email" in text
    out = await group.run(f"/alumni digest email:on code:{code.group(1)}")
    assert "the weekly digest now also comes by email to ola@example.com" in out


async def test_staff_see_where_emails_go_and_can_stop_an_address(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    await group.run("/alumni setup", "!join kari kari@example.com")
    out = await group.run("!as kari", "/alumni mail status")
    assert "Only staff can run `/alumni mail status`" in out
    await group.run("/alumni digest email:on", "!clock +7d", "/alumni post job", JOB, "!clock +4h")
    await settle(group)
    out = await group.run("!as owner", "/alumni mail status")
    assert f"Emails go to: files in {tmp_path / 'outbox'}/" in out
    assert "They reach nobody's inbox" in out and "Sent: 1." in out
    out = await group.run("/alumni mail status address:Kari@example.com")
    assert "kari@example.com: sent, last email sent" in out
    out = await group.run("/alumni mail stop address:kari@example.com")
    assert "no more email from this group to kari@example.com" in out
    assert "had already asked" in await group.run("/alumni mail stop address:kari@example.com")
    assert "asked for no more email" in await group.run(
        "/alumni mail status address:kari@example.com"
    )
    assert "is not an email address" in await group.run("/alumni mail stop address:kari")
    # Stopped means stopped: next week's digest does not go to her.
    await group.run(*NEXT_WEEK)
    await settle(group)
    assert channel_digests(group) == 2 and len(outbox(tmp_path)) == 1


async def test_erasure_removes_emails_and_the_opt_in_but_keeps_the_opt_out_hash(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    group = mail_group(engine, tmp_path)
    await group.run(
        "/alumni setup",
        "!join vilde Vilde.Berg@example.com",
        "!join kari kari@example.com",
        "!as vilde",
        "/alumni digest email:on",
        "!as kari",
        "/alumni digest email:on",
        "!clock +7d",
        "/alumni post job",
        JOB,
        "!clock +4h",
    )
    await settle(group)
    service = group.bot.service(MailService)
    await service.opt_out("local", "vilde.berg@example.com", "link")
    out = await group.run("!as vilde", "/alumni privacy export")
    assert "I sent you a file" in out
    out = await group.run("/alumni privacy delete", "!press erase my data")
    assert "emails to you (1)" in out and "digest by email (1)" in out
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        outbox_rows = list(await s.scalars(select(MailOutboxRow)))
        subscriptions = list(await s.scalars(select(MailSubscriptionRow)))
        opt_outs = list(await s.scalars(select(MailOptOutRow)))
    assert [r.address for r in outbox_rows] == ["kari@example.com"]
    assert [s.user_id for s in subscriptions] == ["kari"]
    # The opt-out stays, as a hash that names nobody, and still blocks the address.
    assert len(opt_outs) == 1 and "vilde" not in opt_outs[0].address_hash
    status = await service.status("local", ["vilde.berg@example.com"])
    assert status["vilde.berg@example.com"].state.value == "opted_out"


async def test_a_bounced_digest_is_told_to_the_member_once(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = MailServer(tmp_path).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
    server.handler.always["kari@example.com"] = "550 5.1.1 <kari@example.com>: no such user"
    try:
        group = mail_group(
            engine,
            tmp_path,
            ALUMNIBOT_SMTP_URL=server.url(),
            ALUMNIBOT_MAIL_FROM="Alumni <alumni@school.example>",
            ALUMNIBOT_MAIL_RATE="600",
        )
        await group.run(
            "/alumni setup",
            "!join kari kari@example.com",
            "!join ola ola@example.com",
            "!as kari",
            "/alumni digest email:on",
            "!as ola",
            "/alumni digest email:on",
        )
        assert "no mail server" not in "\n".join(group.lines)
        await group.run("!clock +7d", "/alumni post job", JOB, "!clock +4h")
        await eventually(lambda: len(server.received) == 1)
        await settle(group)
        assert server.received[0].rcpt_tos == ("ola@example.com",)

        def bounce_dms() -> list[str]:
            dms = group.ws.state["dms"].get("kari", [])
            return [m["text"] for m in dms if "could not be delivered" in m["text"]]

        await eventually(lambda: bool(bounce_dms()))
        [dm] = bounce_dms()
        assert "The digest email to kari@example.com could not be delivered (550 5.1.1" in dm
        assert "run `/alumni digest email:on` again" in dm
        # Next week nothing goes to the bounced address (and no second DM) ...
        await group.run(*NEXT_WEEK)
        await eventually(lambda: len(server.received) == 2)
        await settle(group)
        assert [r.rcpt_tos for r in server.received][1] == ("ola@example.com",)
        assert server.handler.attempts["kari@example.com"] == 1
        assert len(bounce_dms()) == 1
        # ... until Kari turns it on again.
        out = await group.run("!as kari", "/alumni digest email:on")
        assert "now also comes by email to kari@example.com" in out
    finally:
        server.stop()
        await group.bot.service(MailService).stop()
