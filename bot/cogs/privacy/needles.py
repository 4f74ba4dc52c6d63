"""What names a member in stored text and JSON: their ids (as any platform's mention) and
emails. Pure logic: export and erasure search and scrub with it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.cogs.privacy.records import ERASED


class Needles:
    """What names a member (or several): their user ids and their emails, in any case.

    An id counts as a whole token ("kari", not "karin" or "kari@uni.no"), and as a mention in
    any platform's form: `<@id>`, `<@!id>`, Slack's `<@id|name>`, `@id`, and the same forms
    defused by `bot.safety.neutralise` (a zero-width space after `<` or `@`).
    """

    def __init__(self, user_id: str, email: str | None) -> None:
        self._pattern = _pattern([user_id], [email] if email else [])
        self.user_id = user_id
        self.email = email.lower() if email else None

    @classmethod
    def of(cls, user_ids: Iterable[str], emails: Iterable[str | None]) -> Needles:
        """Needles for many people at once (everyone but the member, in an export)."""
        needles = cls.__new__(cls)
        needles.user_id = ""
        needles.email = None
        needles._pattern = _pattern(user_ids, [e for e in emails if e])
        return needles

    def in_text(self, text: str) -> bool:
        """True if the text names the member."""
        return self._pattern is not None and self._pattern.search(text) is not None

    def in_value(self, value: Any) -> bool:
        """True if a value (text, or JSON nested any deep) names the member."""
        if isinstance(value, str):
            return self.in_text(value)
        if isinstance(value, dict):
            return any(self.in_text(str(k)) or self.in_value(v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return any(self.in_value(v) for v in value)
        return False

    def redact(self, value: Any, replacement: str = ERASED) -> Any:
        """The value with every mention replaced (and keys naming the member dropped)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(replacement, value)
        if isinstance(value, dict):
            return {
                k: self.redact(v, replacement) for k, v in value.items() if not self.in_text(str(k))
            }
        if isinstance(value, list | tuple):
            return [self.redact(v, replacement) for v in value]
        return value

    def scrub(self, value: Any) -> Any:
        """The value as erasure leaves it: every mention replaced by "[erased]"."""
        return self.redact(value, ERASED)


def _pattern(user_ids: Iterable[str], emails: Iterable[str]) -> re.Pattern[str] | None:
    ids = sorted({i for i in user_ids if i}, key=len, reverse=True)
    mails = sorted({e.lower() for e in emails if e}, key=len, reverse=True)
    parts = []
    if ids:
        alt = "|".join(re.escape(i) for i in ids)
        parts += [
            # <@id>, <@!id>, <@id|name>, and neutralised <\u200b@id>.
            rf"<\u200b?@!?(?:{alt})(?:\|[^>]*)?>",
            # @id as a word (not the domain of an email: "x@kari.no" has a word before it).
            rf"(?<![\w.])@\u200b?(?:{alt})(?![\w@]|\.\w)",
        ]
    if mails:
        parts.append("|".join(re.escape(e) for e in mails))
    if ids:
        # The bare id as a whole token; "kari.berg@x" and "kari@x" are someone's email.
        parts.append(rf"(?<![\w@.])(?:{alt})(?![\w@]|\.\w)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None
