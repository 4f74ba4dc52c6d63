"""SMTP through aiosmtplib: smtp:// with STARTTLS (required, never plain), smtps:// with TLS
from the first byte, AUTH when the URL has a user. One connection is kept while emails flow.

What the server answers is sorted, not raised: 2xx sent; 4xx about this email (RCPT, DATA)
retried later; 5xx about the recipient or the message bounced; no connection, TLS failure,
refused login or refused sender (our configuration) make every email wait.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.cogs.mail.records import Outcome, SendResult

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP server from ALUMNIBOT_SMTP_URL; the password never appears in its repr."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """Parse smtp://user:pass@host:port or smtps://...; ValueError says what is wrong
        (without repeating the URL, which holds the password)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"it is not a URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError("it must start with smtp:// (STARTTLS) or smtps:// (TLS)")
        if not parts.hostname:
            raise ValueError("it names no server (smtp://user:password@host:587)")
        if parts.password is not None and not parts.username:
            raise ValueError("it has a password but no user name")
        return cls(
            host=parts.hostname,
            port=port or DEFAULT_PORTS[scheme],
            implicit_tls=scheme == "smtps",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    @property
    def description(self) -> str:
        """The URL without the password."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def _answer(exc: aiosmtplib.SMTPResponseException) -> str:
    return " ".join(str(exc.message).split())[:200]


class SmtpMailer:
    """The Mailer over SMTP."""

    delivers = True

    def __init__(
        self,
        target: SmtpTarget,
        *,
        tls_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        self.target = target
        self.description = target.description
        self._tls = tls_context or ssl.create_default_context()
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> aiosmtplib.SMTP:
        """Connect, secure the connection (STARTTLS is required on smtp://) and log in."""
        client = aiosmtplib.SMTP(
            hostname=self.target.host,
            port=self.target.port,
            use_tls=self.target.implicit_tls,
            start_tls=not self.target.implicit_tls,
            username=self.target.username,
            password=self.target.password,
            tls_context=self._tls,
            timeout=self._timeout,
            local_hostname=self._local_hostname,
        )
        await client.connect()
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    async def check(self) -> str | None:
        """Connect and log in once, to say at start whether sending can work."""
        try:
            client = await self._connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            return f"{self.description} refused the login ({exc.code} {_answer(exc)})"
        except aiosmtplib.SMTPException as exc:
            return f"cannot use {self.description}: {type(exc).__name__}: {exc}"[:300]
        except (OSError, ssl.SSLError) as exc:
            return f"cannot reach {self.description}: {type(exc).__name__}: {exc}"[:300]
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
        return None

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """One email over the kept connection; a connection the server closed while we were
        idle is opened again once."""
        async with self._lock:
            for fresh in (False, True):
                try:
                    if self._client is None or not self._client.is_connected:
                        self._client = await self._connect()
                        fresh = True
                    _, text = await self._client.sendmail(sender, [recipient], message)
                    return SendResult(Outcome.SENT, 250, " ".join(text.split())[:200])
                except aiosmtplib.SMTPServerDisconnected as exc:
                    await self._drop()
                    if fresh:
                        return SendResult(Outcome.UNAVAILABLE, None, f"disconnected: {exc}")
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    await self._drop()
                    refused = exc.recipients[0]
                    return self._about_email(refused.code, _answer(refused))
                except aiosmtplib.SMTPAuthenticationError as exc:
                    await self._drop()
                    return SendResult(
                        Outcome.UNAVAILABLE, exc.code, f"login refused: {_answer(exc)}"
                    )
                except aiosmtplib.SMTPSenderRefused as exc:
                    # MAIL FROM refused: our From address, not the recipient's fault.
                    await self._drop()
                    return SendResult(
                        Outcome.UNAVAILABLE, exc.code, f"sender refused: {_answer(exc)}"
                    )
                except aiosmtplib.SMTPDataError as exc:
                    await self._drop()
                    return self._about_email(exc.code, _answer(exc))
                except aiosmtplib.SMTPResponseException as exc:
                    # Greeting, EHLO, STARTTLS: the server as a whole says no for now.
                    await self._drop()
                    return SendResult(Outcome.UNAVAILABLE, exc.code, _answer(exc))
                except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
                    await self._drop()
                    detail = f"{type(exc).__name__}: {exc}"[:200]
                    return SendResult(Outcome.UNAVAILABLE, None, detail)
            return SendResult(Outcome.UNAVAILABLE, None, "disconnected")

    @staticmethod
    def _about_email(code: int, detail: str) -> SendResult:
        """4xx: this email again later; 5xx: refused for good (the address bounced)."""
        if 400 <= code < 500:
            return SendResult(Outcome.RETRY, code, detail)
        if 500 <= code < 600:
            return SendResult(Outcome.BOUNCED, code, detail)
        return SendResult(Outcome.UNAVAILABLE, code, detail)

    async def close(self) -> None:
        """Say goodbye to the server (when the sender has nothing more to send)."""
        async with self._lock:
            await self._drop()
