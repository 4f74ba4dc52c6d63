"""What export and erasure work with and report: plain Python, no ORM."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.events import MessageRef
from bot.messages import Button, ButtonStyle, OutgoingMessage

# What erasure leaves where a member was named in stored text; shown as "another member".
ERASED = "[erased]"


@dataclass(frozen=True)
class NamedMessage:
    """A message the bot posted that names a member, and what it should say without them
    (None: a short note that it was removed at a member's request)."""

    ref: MessageRef
    replacement: dict[str, Any] | None = None


def message_data(message: OutgoingMessage) -> dict[str, Any]:
    """A message as stored for erasure to send instead (no pings and no poll: an edit must
    never notify anyone, and a poll cannot be edited)."""
    return {
        "text": message.text,
        "title": message.title,
        "fields": [list(f) for f in message.fields],
        "buttons": [asdict(b) for b in message.buttons],
    }


def message_from_data(data: dict[str, Any]) -> OutgoingMessage:
    """The message `message_data` stored, to send as an edit."""
    return OutgoingMessage(
        str(data.get("text") or ""),
        title=data.get("title"),
        fields=tuple((str(a), str(b)) for a, b in data.get("fields") or []),
        buttons=tuple(
            Button(
                b["label"],
                b["action"],
                b.get("value", ""),
                ButtonStyle(b.get("style") or "secondary"),
            )
            for b in data.get("buttons") or []
        ),
    )


@dataclass(frozen=True)
class Exported:
    """What an export sent the member by DM: rows per table, and where the file was written
    (it is deleted once delivered)."""

    tables: dict[str, int] = field(hash=False)
    path: Path

    @property
    def rows(self) -> int:
        """Rows in the file, over every table."""
        return sum(self.tables.values())


@dataclass(frozen=True)
class RolesOff:
    """The roles erasure took off the member on the platform, or could not (and why)."""

    names: tuple[str, ...]
    removed: bool
    missing_permission: str | None = None
    role: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Erasure:
    """What erasure did: rows touched per table (export files counted as "export_files"),
    roles on the platform, and the bot's messages edited or out of reach."""

    touched: dict[str, int] = field(hash=False)
    roles: RolesOff | None = None
    edited: int = 0
    missed: int = 0

    @property
    def nothing(self) -> bool:
        """True when there was nothing left to erase (erasing twice)."""
        return not self.touched and not self.edited and self.roles is None


@dataclass(frozen=True)
class Retention:
    """What the daily clean-up deleted: rows per table, and old export files."""

    purged: dict[str, int] = field(hash=False)
    swept: int = 0
