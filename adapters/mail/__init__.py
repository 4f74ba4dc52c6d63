"""Transports for email (SMTP, or .eml files), and wiring them to the mail feature at start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from email.utils import parseaddr

from adapters.mail.files import FileMailer
from adapters.mail.smtp import SmtpMailer, SmtpTarget
from bot.cogs.mail.ports import Mailer
from bot.cogs.mail.records import MailConfig
from bot.cogs.mail.service import MailService
from bot.core import Bot
from bot.settings import Settings

log = logging.getLogger(__name__)
_starting: set[asyncio.Task[None]] = set()
# Emails an earlier run left queued go this long after start: the platform connection and the
# first events come first, and a bot that stops at once never touches the outbox.
RESUME_AFTER = 5.0


def transport(
    settings: Settings, *, on_write: Callable[[str, str], None] | None = None
) -> tuple[Mailer | None, MailConfig]:
    """The Mailer and the outbox settings from ALUMNIBOT_*; None (emails wait in the outbox)
    when the SMTP settings cannot work, after one log line saying why."""
    base = MailConfig(public_url=settings.public_url or None)
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value().strip():
        folder = settings.data_dir / "outbox"
        sender = settings.mail_from or "alumnibot@localhost"
        # Files need no pace: the rate protects an SMTP server.
        return FileMailer(folder, on_write), _config(base, sender, None)
    try:
        target = SmtpTarget.parse(settings.smtp_url.get_secret_value())
    except ValueError as exc:
        log.error("mail: ALUMNIBOT_SMTP_URL cannot be used: %s; emails stay queued", exc)
        return None, base
    username = target.username or ""
    sender = settings.mail_from or (username if "@" in username else "")
    if not sender or "@" not in parseaddr(sender)[1]:
        log.error(
            "mail: ALUMNIBOT_MAIL_FROM must be an address (Alumni <alumni@example.no>); "
            "emails stay queued"
        )
        return None, base
    return SmtpMailer(target), _config(base, sender, settings.mail_rate)


def _config(base: MailConfig, sender: str, rate: float | None) -> MailConfig:
    return MailConfig(
        sender=sender,
        rate_per_minute=rate,
        public_url=base.public_url,
    )


def connect_mail(
    bot: Bot, settings: Settings, *, on_write: Callable[[str, str], None] | None = None
) -> MailService:
    """Give the mail feature its transport; once running, say in one line whether the server
    takes our login, and send what an earlier run left queued."""
    service = bot.service(MailService)
    mailer, config = transport(settings, on_write=on_write)
    service.use(mailer, config)
    if mailer is None:
        return service  # the reason is logged; emails stay queued until the settings work
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return service  # the sender starts with the first email or the hourly sweep
    task = loop.create_task(_start(service), name="mail-start")
    _starting.add(task)
    task.add_done_callback(_starting.discard)
    return service


async def _start(service: MailService) -> None:
    try:
        problem = await service.check()
        if problem is not None:
            log.error("mail: %s; emails stay queued and are retried", problem)
        else:
            log.info("mail: emails go to %s", service.transport)
        await asyncio.sleep(RESUME_AFTER)
        await service.resume()
    except Exception:
        log.exception("mail: start-up check failed")
