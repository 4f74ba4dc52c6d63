"""MailService on the in-memory unit of work: queueing, messages, opt-outs and unsubscribe
tokens, the digest choice with its confirmation code, and once-per-week digests."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.mail.files import FileMailer
from bot.cogs.mail.records import (
    DigestOutcome,
    Email,
    MailConfig,
    QueueStatus,
)
from bot.cogs.mail.service import MailService
from bot.domain import Actor, Group, Language, Member, Permission
from bot.messages import OutgoingMessage
from storage.models import MailOptOutRow, MailOutboxRow, MailSubscriptionRow, RosterEntryRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.test_mail_smtp import Clock

EN = Group("g1", "local", Language.EN, "Europe/Oslo", {}, START)
NB = Group("g2", "local", Language.NB, "Europe/Oslo", {}, START)
KARI = Actor("kari", "Kari", Permission.MEMBER)


async def _setup(
    memory: UnitOfWorkFactory, tmp_path: Path, clock: Clock | None = None, **config: object
) -> MailService:
    settings = {"sender": "Alumni <alumni@school.example>", "rate_per_minute": None, **config}
    service = MailService(
        memory,
        clock or Clock(),
        mailer=FileMailer(tmp_path / "outbox"),
        config=MailConfig(**settings),  # type: ignore[arg-type]
        background=False,
    )
    async with memory() as uow:
        for group in (EN, NB):
            await uow.groups.add(group)
    return service


def _outbox(tmp_path: Path) -> list[EmailMessage]:
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    return [message_from_bytes(f.read_bytes(), policy=default) for f in files]  # type: ignore[misc]


async def _member(memory: UnitOfWorkFactory, group: Group, user: str, email: str | None) -> None:
    async with memory() as uow:
        await uow.members.save(Member(group.id, user, user.title(), email=email, joined_at=START))


def _email(to: str, **kw: object) -> Email:
    base: dict[str, object] = {
        "to": to,
        "subject": "Hello",
        "text": "Body",
        "why": "Because you asked.",
    }
    return Email(**{**base, **kw})  # type: ignore[arg-type]


async def test_enqueue_answers_per_email(memory: UnitOfWorkFactory, tmp_path: Path) -> None:
    service = await _setup(memory, tmp_path)
    results = await service.enqueue(
        EN,
        "invitation",
        [
            _email("kari@example.com", key="k1"),
            _email("not an address"),
            _email("ola@example.com", reply_to="teacher at school"),
            _email("KARI@example.com", key="k1"),
            _email("nina@example.com"),
        ],
    )
    assert [(r.address, r.status) for r in results] == [
        ("kari@example.com", QueueStatus.QUEUED),
        ("not an address", QueueStatus.INVALID),
        ("ola@example.com", QueueStatus.INVALID),  # a Reply-To that is no address
        ("kari@example.com", QueueStatus.DUPLICATE),
        ("nina@example.com", QueueStatus.QUEUED),
    ]
    # A key is once per group, ever: a second call (a retried job) queues nothing.
    [again] = await service.enqueue(EN, "invitation", [_email("kari@example.com", key="k1")])
    assert again.status is QueueStatus.DUPLICATE
    assert await service.send_due() == 2
    assert sorted(str(m["To"]) for m in _outbox(tmp_path)) == [
        "kari@example.com",
        "nina@example.com",
    ]


async def test_member_text_cannot_inject_headers_markup_or_links(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    await service.enqueue(
        EN,
        "invitation",
        [
            _email(
                "kari@example.com",
                subject="Hi\r\nBcc: everyone@example.com",
                text='<img src="https://track.example/p.gif"> <script>x</script> **bold**',
            )
        ],
    )
    await service.send_due()
    [msg] = _outbox(tmp_path)
    assert msg["Bcc"] is None and msg["Subject"] == "Hi Bcc: everyone@example.com"
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<img" not in html and "<script>" not in html
    assert "&lt;img src=&quot;https://track.example/p.gif&quot;&gt;" in html
    assert "<strong>bold</strong>" in html


async def test_one_click_unsubscribe_with_a_public_url(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path, public_url="https://alumni.school.example/")
    await service.enqueue(EN, "invitation", [_email("Kari@Example.com")])
    await service.send_due()
    [msg] = _outbox(tmp_path)
    https, mailto = (part.strip(" <>") for part in str(msg["List-Unsubscribe"]).split(","))
    assert https.startswith("https://alumni.school.example/mail/unsubscribe?t=")
    assert mailto == "mailto:alumni@school.example?subject=unsubscribe"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert https in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    from urllib.parse import parse_qs, urlsplit

    token = parse_qs(urlsplit(https).query)["t"][0]
    # A forged or altered token does nothing; the real one opts the address out.
    assert not await service.unsubscribe(token[:-2] + "xx")
    assert not await service.unsubscribe("nonsense")
    assert await service.unsubscribe(token)
    [again] = await service.enqueue(EN, "invitation", [_email("kari@example.com")])
    assert again.status is QueueStatus.OPTED_OUT
    # Only this group: the same address in another group still gets its email.
    [other] = await service.enqueue(NB, "invitation", [_email("kari@example.com")])
    assert other.status is QueueStatus.QUEUED


async def test_opt_outs_are_kept_only_as_a_keyed_hash(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    assert await service.opt_out("g1", " Kari@Example.COM ")
    assert not await service.opt_out("g1", "kari@example.com")  # the same address
    async with memory() as uow:
        [row] = list(await uow.session.scalars(select(MailOptOutRow)))  # type: ignore[attr-defined]
    assert "kari" not in row.address_hash and len(row.address_hash) == 64
    # Keyed: not the plain SHA-256 a list of guessed school addresses could be checked against.
    assert row.address_hash != hashlib.sha256(b"kari@example.com").hexdigest()
    assert row.address_hash == await service.address_hash("kari@example.com")


async def test_digest_uses_the_members_known_address(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    await _member(memory, EN, "kari", "Kari@Example.com")
    answer = await service.digest(EN, KARI, True)
    assert answer.outcome is DigestOutcome.ON and answer.address == "kari@example.com"
    assert not answer.delivered  # files only: the cog says so
    assert (await service.digest(EN, KARI, True)).outcome is DigestOutcome.ALREADY_ON
    assert (await service.digest(EN, KARI, False)).outcome is DigestOutcome.OFF
    assert (await service.digest(EN, KARI, False)).outcome is DigestOutcome.WAS_OFF


async def test_digest_address_from_the_roster_or_the_platform(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    await _member(memory, EN, "kari", None)
    await _member(memory, EN, "ola", None)
    async with memory() as uow:
        cohort = await uow.cohorts.add("g1", "Fashion", 2026, "Fashion 2026", None, None, START)
        assert cohort is not None
        uow.session.add(  # type: ignore[attr-defined]
            RosterEntryRow(
                group_id="g1",
                cohort_id=cohort.id,
                email="kari@school.example",
                matched_user_id="kari",
            )
        )
    assert (await service.digest(EN, KARI, True)).address == "kari@school.example"
    ola = Actor("ola", "Ola", Permission.MEMBER)
    assert (await service.digest(EN, ola, True)).outcome is DigestOutcome.NO_ADDRESS
    answer = await service.digest(EN, ola, True, platform_email="ola@slack.example")
    assert answer.outcome is DigestOutcome.ON and answer.address == "ola@slack.example"


async def test_a_typed_address_needs_the_emailed_code(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    clock = Clock()
    service = await _setup(memory, tmp_path, clock)
    await _member(memory, EN, "kari", None)
    bad = await service.digest(EN, KARI, True, address="kari at example")
    assert bad.outcome is DigestOutcome.INVALID
    sent = await service.digest(EN, KARI, True, address="Kari@Example.com")
    assert sent.outcome is DigestOutcome.CODE_SENT and sent.address == "kari@example.com"
    # Not confirmed yet: no digest goes there.
    async with memory() as uow:
        assert await uow.mail_preferences.subscribers("g1", "digest") == []
    await service.send_due()
    [msg] = _outbox(tmp_path)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    code = text.split("Your code is ")[1][:6]
    assert f"/alumni digest email:on code:{code}" in text
    assert "If it wasn't you, ignore this email" in text
    # No second code within ten minutes (nobody can flood a stranger's inbox).
    again = await service.digest(EN, KARI, True, address="kari@example.com")
    assert again.outcome is DigestOutcome.CODE_WAIT
    wrong = "000000" if code != "000000" else "111111"
    assert (await service.digest(EN, KARI, True, code=wrong)).outcome is DigestOutcome.CODE_WRONG
    ok = await service.digest(EN, KARI, True, code=code)
    assert ok.outcome is DigestOutcome.ON and ok.address == "kari@example.com"
    async with memory() as uow:
        [sub] = await uow.mail_preferences.subscribers("g1", "digest")
    assert sub.address == "kari@example.com" and sub.confirmed and sub.code_hash is None
    # A used code is gone.
    assert (await service.digest(EN, KARI, True, code=code)).outcome is DigestOutcome.CODE_NONE


async def test_codes_expire_and_run_out_of_tries(
    memory: UnitOfWorkFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.cogs.mail.service.secrets.randbelow", lambda _: 123456)
    clock = Clock()
    service = await _setup(memory, tmp_path, clock)
    await _member(memory, EN, "kari", None)
    await service.digest(EN, KARI, True, address="kari@example.com")
    for _ in range(5):
        wrong = await service.digest(EN, KARI, True, code="999999")
        assert wrong.outcome is DigestOutcome.CODE_WRONG
    # Five tries used: even the right code is refused now (no guessing a million codes).
    assert (await service.digest(EN, KARI, True, code="123456")).outcome is DigestOutcome.CODE_NONE
    clock.advance(timedelta(minutes=11))
    assert (
        await service.digest(EN, KARI, True, address="kari@example.com")
    ).outcome is DigestOutcome.CODE_SENT
    clock.advance(timedelta(hours=1, seconds=1))
    # An hour later the code has expired.
    assert (await service.digest(EN, KARI, True, code="123456")).outcome is DigestOutcome.CODE_NONE


def _digest(title: str = "This week in the alumni group (2026-W35)") -> OutgoingMessage:
    return OutgoingMessage(
        "What's on this week.",
        title=title,
        fields=(("New jobs", "Pattern cutter (Studio <Nord>)"), ("Coming events", "none")),
    )


async def test_digest_goes_once_per_member_per_week_in_the_groups_language(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    for user in ("kari", "ola", "nina"):
        await _member(memory, NB, user, f"{user}@example.com")
        await service.digest(NB, Actor(user, user, Permission.MEMBER), True)
    async with memory() as uow:
        nina = await uow.members.get("g2", "nina")
        assert nina is not None
        from dataclasses import replace

        await uow.members.save(replace(nina, left_at=START))  # left the group
    assert await service.queue_digest(NB, "2026-W35", _digest()) == 2
    # The job ran again (a retry, a second process): nothing more this week.
    assert await service.queue_digest(NB, "2026-W35", _digest()) == 0
    assert await service.send_due() == 2
    messages = _outbox(tmp_path)
    assert sorted(str(m["To"]) for m in messages) == ["kari@example.com", "ola@example.com"]
    text = messages[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = messages[0].get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Pattern cutter (Studio <Nord>)" in text
    assert "Pattern cutter (Studio &lt;Nord&gt;)" in html and "<h2>New jobs</h2>" in html
    assert "Du får denne e-posten fordi du slo på ukeoppsummeringen" in text
    assert "Vil du ikke ha mer e-post fra denne gruppen" in text
    assert '<html lang="nb">' in html
    # Next week: one each again.
    assert await service.queue_digest(NB, "2026-W36", _digest()) == 2


async def test_a_bounce_stops_the_digest_until_it_is_turned_on_again(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    clock = Clock()
    service = await _setup(memory, tmp_path, clock)
    await _member(memory, EN, "kari", "kari@example.com")
    await service.digest(EN, KARI, True)
    await service.queue_digest(EN, "2026-W35", _digest())
    async with memory() as uow:
        [claimed] = [await uow.outbox.claim("x", clock.now(), clock.now(), clock.now(), None)]
        assert claimed is not None
        from bot.cogs.mail.records import OutboxStatus

        await uow.outbox.finish(claimed.id, "x", OutboxStatus.BOUNCED, clock.now(), 550, "gone")
    clock.advance(timedelta(days=7))
    assert await service.queue_digest(EN, "2026-W36", _digest()) == 0
    assert (await service.digest(EN, KARI, True)).outcome is DigestOutcome.ON
    assert await service.queue_digest(EN, "2026-W37", _digest()) == 1


@pytest.mark.parametrize("rows", [1, 500])
async def test_enqueue_is_one_insert_for_many(
    memory: UnitOfWorkFactory, tmp_path: Path, rows: int
) -> None:
    service = await _setup(memory, tmp_path)
    results = await service.enqueue(
        EN, "invitation", [_email(f"s{i}@example.com") for i in range(rows)]
    )
    assert all(r.status is QueueStatus.QUEUED for r in results)
    async with memory() as uow:
        count = len(list(await uow.session.scalars(select(MailOutboxRow.id))))  # type: ignore[attr-defined]
    assert count == rows


async def test_subscriptions_table_holds_only_the_digest_choice(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    await _member(memory, EN, "kari", "kari@example.com")
    await service.digest(EN, KARI, True)
    async with memory() as uow:
        [row] = list(await uow.session.scalars(select(MailSubscriptionRow)))  # type: ignore[attr-defined]
    assert (row.user_id, row.kind, row.address, row.confirmed) == (
        "kari",
        "digest",
        "kari@example.com",
        True,
    )


async def test_no_code_goes_to_an_address_that_opted_out(
    memory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    service = await _setup(memory, tmp_path)
    await _member(memory, EN, "kari", None)
    await service.opt_out("g1", "stranger@example.com", "link")
    answer = await service.digest(EN, KARI, True, address="stranger@example.com")
    assert answer.outcome is DigestOutcome.UNREACHABLE
    assert await service.send_due() == 0 and _outbox(tmp_path) == []
