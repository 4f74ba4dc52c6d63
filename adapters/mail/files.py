"""The embedded default transport: each email an RFC 5322 .eml file in the outbox folder.

Nothing leaves the machine (`delivers` is False), so features can tell people their emails
were not sent; any mail program opens the files, and `email.message_from_bytes` parses them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

from bot.cogs.mail.records import Outcome, SendResult


def _write(folder: Path, message: bytes) -> Path:
    """Write atomically (a reader never sees half a file), readable only by the bot's user."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(message)
    final = folder / name
    tmp.replace(final)
    return final


class FileMailer:
    """Writes each email to `<folder>/<time>-<id>.eml`; `on_write(to, subject)` hears of each."""

    delivers = False

    def __init__(self, folder: Path, on_write: Callable[[str, str], None] | None = None) -> None:
        self.folder = folder
        self.on_write = on_write
        self.description = f"files in {folder}/"

    async def check(self) -> str | None:
        """The folder is made at the first email; only an unusable path is a problem now."""
        if self.folder.exists() and not self.folder.is_dir():
            return f"{self.folder} is not a folder"
        return None

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """Write the file; a full or read-only disk makes every email wait."""
        try:
            path = await asyncio.to_thread(_write, self.folder, message)
        except OSError as exc:
            return SendResult(Outcome.UNAVAILABLE, None, f"cannot write to {self.folder}: {exc}")
        if self.on_write is not None:
            subject = BytesHeaderParser(policy=default).parsebytes(message)["Subject"]
            self.on_write(recipient, str(subject or ""))
        return SendResult(Outcome.SENT, None, path.name)

    async def close(self) -> None:
        """Nothing is held open."""
