"""Email through a real SMTP server on 127.0.0.1: STARTTLS and AUTH, 421 then 250, 550,
a server that is down, a wrong password, and two processes that never send one email twice."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.mail import connect_mail, transport
from adapters.mail.smtp import SmtpMailer, SmtpTarget
from bot.cogs.mail.records import (
    AddressState,
    Bounce,
    Email,
    MailConfig,
    OutboxStatus,
    QueueStatus,
)
from bot.cogs.mail.service import MailService
from bot.domain import Group, Language
from bot.settings import Settings
from storage.database import create_engine, upgrade
from storage.models import MailOutboxRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.mail_server import PASSWORD, USER, MailServer, eventually

GROUP = Group("g1", "local", Language.EN, "Europe/Oslo", {}, START)
FROM = "Alumni <alumni@school.example>"


class Clock:
    """The group's time, moved by the test (retries come due when it moves)."""

    def __init__(self, now: datetime = START) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def server(tmp_path: Path) -> MailServer:
    srv = MailServer(tmp_path).start()
    yield srv  # type: ignore[misc]
    srv.stop()


def _mailer(server: MailServer, password: str = PASSWORD) -> SmtpMailer:
    target = SmtpTarget.parse(server.url(password=password))
    return SmtpMailer(target, tls_context=server.client_context(), timeout=5)


async def _service(
    uow: UnitOfWorkFactory,
    server: MailServer,
    clock: Clock | None = None,
    owner: str = "p1",
    background: bool = False,
    **config: object,
) -> MailService:
    settings = {"sender": FROM, "rate_per_minute": None, "pause_first": 0.05, **config}
    service = MailService(
        uow,
        clock or Clock(),
        owner=owner,
        mailer=_mailer(server),
        config=MailConfig(**settings),  # type: ignore[arg-type]
        background=background,
    )
    async with uow() as u:
        if await u.groups.get(GROUP.id) is None:
            await u.groups.add(GROUP)
    return service


def _email(to: str, n: int = 0) -> Email:
    return Email(
        to=to,
        subject=f"Invitation {n} to the alumni group",
        text=f"Hello!\n\nYour code is ABC-{n}.",
        why="You get this email because your teacher put you on the class list.",
        reply_to="teacher@school.example",
        key=f"test:{to}:{n}",
    )


async def _rows(uow: UnitOfWorkFactory) -> list[MailOutboxRow]:
    async with uow() as u:
        s = u.session
        return list(await s.scalars(select(MailOutboxRow).order_by(MailOutboxRow.id)))


async def test_starttls_and_auth_deliver_a_complete_email(
    memory: UnitOfWorkFactory, server: MailServer
) -> None:
    service = await _service(memory, server)
    [queued] = await service.enqueue(GROUP, "invitation", [_email("Kari@Example.com")])
    assert queued.status is QueueStatus.QUEUED and queued.address == "kari@example.com"
    assert await service.send_due() == 1
    [got] = server.received
    # Logged in once, over TLS (the server refuses AUTH before STARTTLS).
    assert [ok for _, ok in server.handler.logins] == [True]
    assert got.mail_from == "alumni@school.example" and got.rcpt_tos == ("kari@example.com",)
    msg = got.message
    assert msg["To"] == "kari@example.com" and msg["From"] == FROM
    assert msg["Reply-To"] == "teacher@school.example"
    assert msg["Message-ID"].endswith("@school.example>")
    assert msg["Date"] and msg["Subject"] == "Invitation 0 to the alumni group"
    assert msg["List-Unsubscribe"] == "<mailto:alumni@school.example?subject=unsubscribe>"
    assert msg["List-Unsubscribe-Post"] is None  # no https form without a public URL
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Your code is ABC-0." in text and "Your code is ABC-0." in html
    assert "because your teacher put you on the class list" in text
    assert 'subject "unsubscribe" to alumni@school.example' in text
    assert "<img" not in html and "http" not in html  # no pixels, no links to elsewhere
    [row] = await _rows(memory)
    assert row.status == "sent" and row.message == "" and row.sent_at == START
    status = (await service.status("g1", ["kari@example.com"]))["kari@example.com"]
    assert status.state is AddressState.SENT and status.last_sent_at == START


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_smtps(memory: UnitOfWorkFactory, tmp_path: Path) -> None:
    server = MailServer(tmp_path, implicit_tls=True).start()
    try:
        service = await _service(memory, server)
        await service.enqueue(GROUP, "invitation", [_email("ola@example.com")])
        assert await service.send_due() == 1
        assert [r.rcpt_tos for r in server.received] == [("ola@example.com",)]
    finally:
        server.stop()


async def test_421_then_250_delivers_once(memory: UnitOfWorkFactory, server: MailServer) -> None:
    server.handler.rcpt["kari@example.com"] = deque(["421 4.7.0 Try again later"])
    clock = Clock()
    service = await _service(memory, server, clock)
    await service.enqueue(GROUP, "invitation", [_email("kari@example.com")])
    assert await service.send_due() == 0
    [row] = await _rows(memory)
    assert row.status == "queued" and row.code == 421
    assert row.next_attempt_at == START + timedelta(minutes=1)
    assert await service.send_due() == 0  # not due yet: nothing is hammered
    clock.advance(timedelta(minutes=1))
    assert await service.send_due() == 1
    assert await service.send_due() == 0
    assert len(server.received) == 1 and server.handler.attempts["kari@example.com"] == 2
    [row] = await _rows(memory)
    assert row.status == "sent" and row.attempts == 2


async def test_temporary_answers_for_a_day_give_up(
    memory: UnitOfWorkFactory, server: MailServer
) -> None:
    server.handler.always["full@example.com"] = "452 4.2.2 Mailbox full"
    clock = Clock()
    service = await _service(memory, server, clock)
    await service.enqueue(GROUP, "invitation", [_email("full@example.com")])
    waits = []
    for _ in range(40):
        await service.send_due()
        [row] = await _rows(memory)
        if row.status != "queued":
            break
        waits.append(row.next_attempt_at - clock.now())
        clock.at = row.next_attempt_at
    assert row.status == "failed" and row.code == 452
    # Doubling waits from a minute, never more than an hour apart, for a day.
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == timedelta(hours=1)
    assert clock.now() - START >= timedelta(days=1)
    assert server.received == []


async def test_550_bounces_the_address_and_is_reported_once(
    memory: UnitOfWorkFactory, server: MailServer
) -> None:
    server.handler.always["gone@example.com"] = "550 5.1.1 No such user here"
    service = await _service(memory, server)
    heard: list[Bounce] = []

    async def report(bounce: Bounce) -> None:
        heard.append(bounce)

    service.on_bounce("invitation", report)
    await service.enqueue(
        GROUP, "invitation", [_email("gone@example.com"), _email("kari@example.com")]
    )
    assert await service.send_due() == 1
    assert [r.rcpt_tos for r in server.received] == [("kari@example.com",)]
    assert [(b.address, b.code, b.detail) for b in heard] == [
        ("gone@example.com", 550, "5.1.1 No such user here")
    ]
    # Reported once: nothing is left for a feature that polls.
    assert await service.take_bounces("g1", "invitation") == []
    status = await service.status("g1", ["gone@example.com", "kari@example.com"])
    assert status["gone@example.com"].state is AddressState.BOUNCED
    assert status["gone@example.com"].code == 550
    # The bounced address gets nothing more, unless a caller asks to try it again.
    [again] = await service.enqueue(GROUP, "invitation", [_email("gone@example.com", 2)])
    assert again.status is QueueStatus.BOUNCED
    [forced] = await service.enqueue(
        GROUP, "invitation", [_email("gone@example.com", 3)], retry_bounced=True
    )
    assert forced.status is QueueStatus.QUEUED


async def test_a_feature_without_a_handler_polls_its_bounces_once(
    memory: UnitOfWorkFactory, server: MailServer
) -> None:
    server.handler.always["gone@example.com"] = "550 5.1.1 No such user here"
    service = await _service(memory, server)
    await service.enqueue(GROUP, "reminder", [_email("gone@example.com")])
    await service.send_due()
    [bounce] = await service.take_bounces("g1", "reminder")
    assert bounce.address == "gone@example.com" and bounce.code == 550
    assert await service.take_bounces("g1", "reminder") == []


async def test_server_down_keeps_emails_queued_until_it_is_back(
    engine: AsyncEngine, server: MailServer
) -> None:
    uow = UnitOfWorkFactory(engine)
    server.stop()
    service = await _service(uow, server, background=True)
    results = await service.enqueue(
        GROUP, "invitation", [_email(f"s{i}@example.com", i) for i in range(3)]
    )
    assert [r.status for r in results] == [QueueStatus.QUEUED] * 3
    # The background sender finds the server down: everything stays queued, nothing lost.
    await asyncio.sleep(0.3)
    rows = await _rows(uow)
    assert [r.status for r in rows] == ["queued"] * 3 and all(r.attempts == 0 for r in rows)
    server.start()
    await eventually(lambda: len(server.received) == 3)
    await service.settled()
    assert sorted(r.rcpt_tos[0] for r in server.received) == [
        "s0@example.com",
        "s1@example.com",
        "s2@example.com",
    ]
    assert [r.status for r in await _rows(uow)] == ["sent"] * 3
    await service.stop()


async def test_opt_out_is_checked_when_queueing_and_when_sending(
    memory: UnitOfWorkFactory, server: MailServer
) -> None:
    service = await _service(memory, server)
    await service.enqueue(GROUP, "invitation", [_email("kari@example.com")])
    # Kari opts out between queueing and sending: the email stays unsent.
    assert await service.opt_out("g1", "KARI@example.com", "link")
    assert await service.send_due() == 0
    assert server.received == []
    [row] = await _rows(memory)
    assert row.status == OutboxStatus.SKIPPED.value and row.message == ""
    [later] = await service.enqueue(GROUP, "invitation", [_email("kari@example.com", 1)])
    assert later.status is QueueStatus.OPTED_OUT
    assert (await service.status("g1", ["kari@example.com"]))[
        "kari@example.com"
    ].state is AddressState.OPTED_OUT


async def test_wrong_password_is_one_line_without_the_password(
    memory: UnitOfWorkFactory, server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    problem = await _mailer(server, password="wrong-secret-9").check()
    assert problem is not None and "refused the login (535" in problem
    assert "wrong-secret-9" not in problem
    service = MailService(
        memory,
        Clock(),
        mailer=_mailer(server, password="wrong-secret-9"),
        config=MailConfig(sender=FROM, rate_per_minute=None),
        background=False,
    )
    async with memory() as u:
        await u.groups.add(GROUP)
    await service.enqueue(GROUP, "invitation", [_email("kari@example.com")])
    with caplog.at_level(logging.INFO):
        assert await service.send_due() == 0
    [row] = await _rows(memory)
    assert row.status == "queued" and row.attempts == 0  # waits for the fix, loses nothing
    assert "wrong-secret-9" not in caplog.text and PASSWORD not in caplog.text
    assert "emails stay queued" in caplog.text


async def test_start_up_says_in_one_line_when_the_smtp_url_is_unusable(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    for url, reason in [
        ("http://u:hunter2@mail.example.com", "must start with smtp://"),
        ("smtp://u:hunter2@:587", "names no server"),
        ("smtp://u:hunter2@mail.example.com:99999", "not a URL"),
    ]:
        caplog.clear()
        settings = Settings(ALUMNIBOT_SMTP_URL=url, ALUMNIBOT_MAIL_FROM=FROM)  # type: ignore[call-arg]
        mailer, _ = transport(settings)
        assert mailer is None
        [line] = [r.getMessage() for r in caplog.records]
        assert reason in line and "emails stay queued" in line and "hunter2" not in line
    # A working URL without a From address that is an address: also one line.
    caplog.clear()
    settings = Settings(ALUMNIBOT_SMTP_URL="smtp://bot:x@mail.example.com")  # type: ignore[call-arg]
    assert transport(settings)[0] is None
    assert "ALUMNIBOT_MAIL_FROM must be an address" in caplog.text


async def test_connect_mail_says_at_start_that_the_server_refuses_the_login(
    memory: UnitOfWorkFactory,
    server: MailServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adapters.local.app import build

    # The machine trusts the test's certificate, as it would a real server's.
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
    _, bot, _ = build(memory, state_path=None, out=lambda _: None, start=START)
    settings = Settings(  # type: ignore[call-arg]
        ALUMNIBOT_SMTP_URL=server.url(password="nope-nope"), ALUMNIBOT_MAIL_FROM=FROM
    )
    with caplog.at_level(logging.INFO):
        service = connect_mail(bot, settings)
        await eventually(lambda: "mail:" in caplog.text)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("mail:")]
    assert len(lines) == 1, lines
    assert "refused the login (535" in lines[0] and "emails stay queued" in lines[0]
    assert "nope-nope" not in caplog.text
    assert service.delivers and service.transport == f"smtp://{USER}@127.0.0.1:{server.port}"
    await service.stop()


async def _two_processes(url: str, server: MailServer, emails: int, rate: float | None) -> None:
    """Two engines are two processes' worth: each its own pool, its own sender."""
    first, second = create_engine(url), create_engine(url)
    try:
        await upgrade(first)
        a = await _service(
            UnitOfWorkFactory(first), server, owner="a", background=True, rate_per_minute=rate
        )
        b = await _service(
            UnitOfWorkFactory(second), server, owner="b", background=True, rate_per_minute=rate
        )
        await a.enqueue(GROUP, "invitation", [_email(f"m{i}@x.example", i) for i in range(emails)])
        b.wake()
        await eventually(lambda: len(server.received) == emails, 30)
        await asyncio.gather(a.settled(), b.settled())
        ids = [r.message["Message-ID"] for r in server.received]
        assert len(ids) == emails and len(set(ids)) == emails
        async with UnitOfWorkFactory(first)() as u:
            rows = list(await u.session.scalars(select(MailOutboxRow)))
        assert {r.status for r in rows} == {"sent"} and all(r.attempts == 1 for r in rows)
        if rate is None:
            assert {r.claimed_by for r in rows} == {"a", "b"}  # both really took part
        else:
            # The pace holds across both processes: claims at least 60/rate s apart.
            times = sorted(r.claimed_at for r in rows if r.claimed_at is not None)
            gaps = [(y - x).total_seconds() for x, y in itertools.pairwise(times)]
            assert min(gaps) >= 60 / rate - 0.005, gaps
        await asyncio.gather(a.stop(), b.stop())
    finally:
        await first.dispose()
        await second.dispose()


async def test_two_processes_on_postgresql_never_send_one_email_twice(
    pg_url: str, server: MailServer
) -> None:
    await _two_processes(pg_url, server, 40, None)


async def test_two_processes_on_postgresql_share_the_pace(pg_url: str, server: MailServer) -> None:
    await _two_processes(pg_url, server, 8, 600.0)


async def test_two_processes_on_sqlite_share_the_pace(tmp_path: Path, server: MailServer) -> None:
    await _two_processes(f"sqlite+aiosqlite:///{tmp_path}/two.db", server, 8, 600.0)


async def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(
    memory: UnitOfWorkFactory, server: MailServer
) -> None:
    service = await _service(memory, server, owner="new")
    await service.enqueue(GROUP, "invitation", [_email("kari@example.com")])
    # Another process claimed it and died: its claim stands until the lease runs out.
    async with memory() as u:
        await u.session.execute(
            update(MailOutboxRow).values(
                status="sending", claimed_by="dead", claimed_at=datetime.now(UTC)
            )
        )
    assert await service.send_due() == 0
    async with memory() as u:
        await u.session.execute(
            update(MailOutboxRow).values(claimed_at=datetime.now(UTC) - timedelta(minutes=16))
        )
    assert await service.send_due() == 1
    [row] = await _rows(memory)
    assert row.status == "sent" and row.claimed_by == "new"


class FlakyDatabase:
    """A unit-of-work factory whose database stops answering while `down` is set."""

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self.inner, self.down = inner, False

    def __call__(self) -> object:
        if self.down:
            from bot.errors import StorageUnavailable

            class Down:
                async def __aenter__(self) -> None:
                    raise StorageUnavailable("connection refused")

                async def __aexit__(self, *exc: object) -> None:
                    return None

            return Down()
        return self.inner()


async def test_the_sender_waits_out_a_database_outage(
    engine: AsyncEngine, server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    db = FlakyDatabase(UnitOfWorkFactory(engine))
    service = await _service(db, server, background=True)  # type: ignore[arg-type]
    await service.enqueue(GROUP, "invitation", [_email(f"d{i}@example.com", i) for i in range(2)])
    db.down = True
    await asyncio.sleep(0.3)
    assert "database unavailable" in caplog.text
    db.down = False
    await eventually(lambda: len(server.received) == 2)
    await service.settled()
    assert [r.status for r in await _rows(UnitOfWorkFactory(engine))] == ["sent", "sent"]
    await service.stop()


async def test_emails_left_by_an_earlier_run_go_after_a_restart(
    engine: AsyncEngine,
    server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import adapters.mail

    uow = UnitOfWorkFactory(engine)
    first = await _service(uow, server)  # queued, then the process stopped before sending
    await first.enqueue(GROUP, "invitation", [_email("kari@example.com")])
    monkeypatch.setattr(adapters.mail, "RESUME_AFTER", 0.05)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
    from adapters.local.app import build

    _, bot, _ = build(uow, state_path=None, out=lambda _: None, start=START)
    settings = Settings(ALUMNIBOT_SMTP_URL=server.url(), ALUMNIBOT_MAIL_FROM=FROM)  # type: ignore[call-arg]
    service = connect_mail(bot, settings)
    await eventually(lambda: len(server.received) == 1)
    await service.settled()
    assert [r.status for r in await _rows(uow)] == ["sent"]
    await service.stop()
