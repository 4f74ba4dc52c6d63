"""Making member input safe to show: no mass pings, no hidden links, channel names the
platforms accept, uploaded text files read in the encodings people's programs write."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

_ZWSP = "\u200b"
_MASS = re.compile(r"@(everyone|here|channel)", re.IGNORECASE)
# Bidi embeddings, overrides and isolates: they reorder what a reader sees ("Trojan Source").
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Discord <@id>, <@&role>, <#chan>; Slack <!here>, <!subteam^ID>, <@U123>.
_ANGLE = re.compile(r"<([@#!][^>]*)>")
_ROLE_MENTION = re.compile(r"@&")
# `[label](url)` is a masked link on Discord (messages and embeds): the label can show one
# address while the link goes to another. Without `](` side by side it is plain text, so the
# real address shows (and is linked on its own).
_MASKED_LINK = re.compile(r"\](\s*)\(")
_CHANNEL_CHARS = re.compile(r"[^\w-]+", re.UNICODE)


def neutralise(text: str) -> str:
    """Defuse @everyone/@here, platform mention syntax, masked links and text-reordering
    characters in member text."""
    text = _BIDI.sub("", text)
    text = _MASS.sub(lambda m: "@" + _ZWSP + m.group(1), text)
    text = _ANGLE.sub(lambda m: "<" + _ZWSP + m.group(1) + ">", text)
    text = _MASKED_LINK.sub(lambda m: "]" + _ZWSP + m.group(1) + "(", text)
    return _ROLE_MENTION.sub("@" + _ZWSP + "&", text)


def channel_name(name: str, max_length: int = 80) -> str:
    """Lower-case, hyphenated, letters/digits only; '' if nothing usable is left."""
    name = unicodedata.normalize("NFC", name).strip().lower()
    name = _CHANNEL_CHARS.sub("-", name.replace("_", "-"))
    name = re.sub(r"-{2,}", "-", name).strip("-")
    return name[:max_length].rstrip("-")


def slug(text: str, max_length: int = 40) -> str:
    """An ASCII key made from a name: 'Studio rentals' -> 'studio-rentals'."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.replace("ø", "o").replace("æ", "ae").replace("Ø", "O"))
        .encode("ascii", "ignore")
        .decode()
    )
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")


def clip(text: str, limit: int) -> str:
    """Cut text to a limit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_upload(data: bytes) -> str:
    """An uploaded text file as text: UTF-8 (with or without Excel's BOM), UTF-16 with a BOM
    (Excel's "Unicode text"), else Windows-1252, what Excel on Windows writes for "CSV".

    Raises UnicodeDecodeError for what is no text file at all (NUL bytes: an image, a PDF).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; Latin-1 reads those as control characters.
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    if "\x00" in text:
        raise UnicodeDecodeError("text", data, 0, 1, "a NUL byte: not a text file")
    return text


@lru_cache(maxsize=4096)
def email_address(text: str) -> str | None:
    """The address lower-cased if its syntax is valid and it can be emailed without SMTPUTF8
    (email-validator, no DNS look-up), else None; rosters and the outbox share this check."""
    try:
        valid = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return (valid.ascii_email or valid.normalized).lower()


def spreadsheet_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one it would run as a formula (a roster name
    "=HYPERLINK(...)", a channel "@x") gets a leading apostrophe; numbers like -3 stay numbers."""
    if value[:1] not in ("=", "+", "-", "@", "\t", "\r"):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value
