"""A real SMTP server on 127.0.0.1 for tests and the bench: aiosmtpd with STARTTLS (or TLS
from the start) on a certificate made here with openssl, AUTH required after TLS, and
answers a test can script per address ("421 then 250", "550 always").

It refuses what a real submission server refuses: AUTH before STARTTLS, mail before AUTH
(RFC 4954 sec. 4 and 5; aiosmtpd's auth_require_tls and auth_required), a wrong password (535).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from functools import cache
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "alumnibot@school.example", "p4ss:w@rd/!"


@cache
def certificate(folder: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (an IP SAN, so hostname checks pass)."""
    cert, key = Path(folder) / "smtp-cert.pem", Path(folder) / "smtp-key.pem"
    if not cert.exists():
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return cert, key


@dataclass(frozen=True)
class Received:
    """One email the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> Message:
        """The email as Python's email package reads it."""
        return message_from_bytes(self.data, policy=default)


@dataclass
class Handler:
    """Accepts mail, unless a scripted answer for the recipient says otherwise."""

    received: list[Received] = field(default_factory=list)
    # address -> answers to give at RCPT, one per attempt ("421 ..." then nothing: 250).
    rcpt: dict[str, deque[str]] = field(default_factory=dict)
    # address -> an answer given at RCPT every time ("550 5.1.1 ...").
    always: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        """Refuse as scripted, else take the recipient."""
        with self.lock:
            self.attempts[address] = self.attempts.get(address, 0) + 1
            if address in self.always:
                return self.always[address]
            script = self.rcpt.get(address)
            if script:
                return script.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the email."""
        data = envelope.original_content or envelope.content
        with self.lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), data))
        return "250 2.0.0 Ok: queued"


class MailServer:
    """aiosmtpd in a thread on 127.0.0.1, the way a submission server behaves."""

    def __init__(self, folder: Path, *, implicit_tls: bool = False) -> None:
        self.cert, self.key = certificate(str(folder))
        self.implicit_tls = implicit_tls
        self.handler = Handler()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller: Controller | None = None

    def _server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and checks the name)."""
        return ssl.create_default_context(cafile=str(self.cert))

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USER
            and data.password.decode() == PASSWORD
        )
        self.handler.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)

    def start(self) -> MailServer:
        """Listen (again, on the same port after stop())."""
        # aiosmtpd counts only STARTTLS as TLS for auth_require_tls; on smtps:// every byte,
        # AUTH included, is inside TLS from the start, so the check is left to the socket.
        tls: dict[str, Any] = (
            {"ssl_context": self._server_context(), "auth_require_tls": False}
            if self.implicit_tls
            else {
                "tls_context": self._server_context(),
                "require_starttls": True,
                "auth_require_tls": True,
            }
        )
        self._controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_required=True,
            **tls,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: the server is down."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def url(self, user: str = USER, password: str = PASSWORD) -> str:
        """ALUMNIBOT_SMTP_URL for this server (user and password percent-encoded)."""
        from urllib.parse import quote

        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        """Every email accepted so far."""
        with self.handler.lock:
            return list(self.handler.received)


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait until `check()` holds (another thread or task makes it true), or fail."""
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (the server runs in its own thread)
            await asyncio.sleep(0.02)
