"""The profile form's fields and checking what members typed: pure logic, no I/O."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.errors import UserError
from bot.safety import clip, neutralise


@dataclass(frozen=True)
class ProfileField:
    """One field of the profile form: its key, its length limit, and how it is asked."""

    key: str
    limit: int
    long: bool = False
    required: bool = False


# The form's fields. Five, so the form fits every platform (a Discord modal holds at most 5
# inputs; see Capabilities.form_fields): "open to mentoring" is a yes/no of its own, set with
# `/alumni profile mentoring` or the buttons under the saved profile, so no edit resets it.
PROFILE_FIELDS: tuple[ProfileField, ...] = (
    ProfileField("headline", 100, required=True),
    ProfileField("programme", 100),
    ProfileField("work", 150),
    ProfileField("skills", 300, long=True),
    ProfileField("link", 200),
)
# Kept on the profile beside the form's fields; no form submission can set them.
MENTORING = "mentoring"
UPDATES = "updates"
# Fields searched by /alumni find (besides the member's name and cohort).
SEARCHED = ("headline", "programme", "work", "skills")
# Letters that are not a base letter plus an accent, folded as an English keyboard types them.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th"})
# How many career updates a profile keeps (the posts stay in #showcase), and their length.
KEEP_UPDATES = 5
UPDATE_LIMIT = 500


def folded(text: str) -> str:
    """Text as /alumni find compares it: no capitals, no accents ("Åse i Tromsø" is "ase i
    tromso"). Folded here, not in SQL: SQLite's lower() and LIKE fold only ASCII letters."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def valid_link(link: str) -> bool:
    """An http(s) address with a host and no spaces; anything else could be a trap or a typo."""
    if any(c.isspace() for c in link):
        return False
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and "." in parts.netloc and not parts.username


def check(values: dict[str, str], saved: dict[str, Any]) -> dict[str, Any]:
    """The submitted fields, cleaned; UserError names the field (its key) and its limit, or the
    bad link. A field the submission does not carry keeps its `saved` value (a field sent
    empty is cleared); anything else submitted (mentoring, updates, unknown names) is ignored.
    """
    out: dict[str, Any] = {}
    for f in PROFILE_FIELDS:
        if f.key not in values:
            if f.required and not saved.get(f.key):
                raise UserError("profiles.required", field=f.key)
            continue
        value = (values.get(f.key) or "").strip()
        if len(value) > f.limit:
            raise UserError("profiles.too_long", field=f.key, limit=f.limit, length=len(value))
        if f.required and not value:
            raise UserError("profiles.required", field=f.key)
        if f.key == "link" and value and not valid_link(value):
            raise UserError("profiles.link_invalid", link=clip(neutralise(value), 80))
        out[f.key] = neutralise(value)
    return out
