"""The kinds of post, their forms, and checking what members typed: pure logic, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bot.cogs.posts.records import CloseReason, Expiry
from bot.dates import parse_date, parse_datetime
from bot.errors import UserError
from bot.safety import neutralise


class FieldType(StrEnum):
    """How a form field is checked (and which hint the form shows)."""

    TEXT = "text"
    LONG = "long"
    DATE = "date"
    DATETIME = "datetime"
    URL = "url"
    PRICE = "price"


@dataclass(frozen=True)
class FieldDef:
    """One field of a post form; `type` says how it is checked."""

    name: str
    type: FieldType = FieldType.TEXT
    required: bool = True
    max_length: int = 100


@dataclass(frozen=True)
class Kind:
    """A kind of post: its form, its category, how it closes and when it expires."""

    key: str
    category: str
    fields: tuple[FieldDef, ...]
    close_reason: CloseReason
    expires: Expiry
    title_field: str = "title"


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind(
            "job",
            "jobs",
            (
                FieldDef("title"),
                FieldDef("employer"),
                FieldDef("place"),
                FieldDef("deadline", FieldType.DATE, max_length=20),
                FieldDef("link", FieldType.URL, required=False, max_length=300),
            ),
            CloseReason.FILLED,
            Expiry.DEADLINE,
        ),
        Kind(
            "rental",
            "rentals",
            (
                FieldDef("what"),
                FieldDef("where"),
                FieldDef("price", FieldType.PRICE, max_length=40),
                FieldDef("from", FieldType.DATE, max_length=20),
                FieldDef("to", FieldType.DATE, required=False, max_length=20),
            ),
            CloseReason.RENTED,
            Expiry.DAYS,
            title_field="what",
        ),
        Kind(
            "event",
            "events",
            (
                FieldDef("title"),
                FieldDef("when", FieldType.DATETIME, max_length=30),
                FieldDef("place"),
                FieldDef("link", FieldType.URL, required=False, max_length=300),
            ),
            CloseReason.CANCELLED,
            Expiry.EVENT,
        ),
        Kind(
            "sale",
            "marketplace",
            (
                FieldDef("what"),
                FieldDef("price", FieldType.PRICE, max_length=40),
                FieldDef("details", FieldType.LONG, required=False, max_length=500),
            ),
            CloseReason.SOLD,
            Expiry.DAYS,
            title_field="what",
        ),
        Kind(
            "borrow",
            "borrow",
            (
                FieldDef("what"),
                FieldDef("when", required=False, max_length=60),
                FieldDef("details", FieldType.LONG, required=False, max_length=500),
            ),
            CloseReason.RETURNED,
            Expiry.DAYS,
            title_field="what",
        ),
        Kind(
            "showcase",
            "showcase",
            (
                FieldDef("title"),
                FieldDef("description", FieldType.LONG, max_length=1000),
                FieldDef("link", FieldType.URL, required=False, max_length=300),
            ),
            CloseReason.ARCHIVED,
            Expiry.NEVER,
        ),
        Kind(
            "article",
            "articles",
            (
                FieldDef("title"),
                FieldDef("link", FieldType.URL, max_length=300),
                FieldDef("summary", FieldType.LONG, required=False, max_length=500),
            ),
            CloseReason.ARCHIVED,
            Expiry.NEVER,
        ),
    )
}

_PRICE = re.compile(
    r"^(?:(?:nok|kr\.?)\s*)?(\d[\d\s.,]{0,12})\s*(?:kr\.?|nok|,-)?\s*(?:/\s*[a-zæøå.]{1,12})?$",
    re.IGNORECASE,
)
_FREE = {"free", "gratis", "0"}


@dataclass(frozen=True)
class Checked:
    """Cleaned values and the times derived from them."""

    values: dict[str, str]
    expires_at: datetime | None
    event_at: datetime | None
    dates: dict[str, date]


def end_of(day: date, tz: ZoneInfo) -> datetime:
    """The moment a day ends where the group lives: the next day's first moment there."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)


def last_open_day(expires_at: datetime, timezone: str) -> date:
    """The last day a post is open, in the group's timezone (one that closes at midnight
    is open through the day before, not until the day it closes)."""
    return (expires_at.astimezone(ZoneInfo(timezone)) - timedelta(microseconds=1)).date()


def expiry(
    kind: Kind,
    dates: dict[str, date],
    event_day: date | None,
    posted_at: datetime,
    timezone: str,
    listing_days: int,
) -> datetime | None:
    """When a post closes by itself: after its deadline day, after its event's day, or, for
    listings, `listing_days` after posting but never before the end of the period it offers
    (a rental from March to June posted in December is open until June ends)."""
    tz = ZoneInfo(timezone)
    if kind.expires is Expiry.DEADLINE and "deadline" in dates:
        return end_of(dates["deadline"], tz)
    if kind.expires is Expiry.EVENT and event_day is not None:
        return end_of(event_day, tz)
    if kind.expires is not Expiry.DAYS:
        return None
    if "to" in dates:
        return end_of(dates["to"], tz)
    expires = posted_at + timedelta(days=listing_days)
    if "from" in dates:
        # A period with a start and no end: open at least through its first day.
        expires = max(expires, end_of(dates["from"], tz))
    return expires


def stored_dates(kind: Kind, fields: dict[str, object]) -> dict[str, date]:
    """The date fields of a stored post (kept in ISO form), for `expiry`."""
    return {
        f.name: date.fromisoformat(str(fields[f.name]))
        for f in kind.fields
        if f.type is FieldType.DATE and fields.get(f.name)
    }


def valid_link(value: str) -> bool:
    """Only http and https links with a host and no spaces."""
    if any(c.isspace() for c in value):
        return False
    parsed = urlparse(value)
    return parsed.scheme.lower() in ("http", "https") and bool(parsed.hostname)


def valid_price(value: str) -> bool:
    """A non-negative amount, optionally in kr/NOK and per period; or free/gratis."""
    if value.strip().lower() in _FREE:
        return True
    match = _PRICE.match(value.strip())
    if match is None:
        return False
    digits = re.sub(r"[\s.,]", "", match.group(1))
    return digits.isdigit() and int(digits) <= 100_000_000


def check(
    kind: Kind,
    raw: dict[str, str],
    now: datetime,
    timezone: str,
    listing_days: int,
) -> Checked:
    """Check a submitted form; raises UserError naming the first field that is wrong."""
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    known = {f.name for f in kind.fields}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError("posts.field_unknown", field=unknown[0])
    values: dict[str, str] = {}
    dates: dict[str, date] = {}
    event_at: datetime | None = None
    for f in kind.fields:
        value = (raw.get(f.name) or "").strip()
        if not value:
            if f.required:
                raise UserError("posts.field_required", field=f.name)
            continue
        if len(value) > f.max_length:
            raise UserError("posts.field_too_long", field=f.name, limit=f.max_length)
        if f.type is FieldType.DATE:
            parsed = parse_date(value)
            if parsed is None:
                raise UserError("posts.field_not_date", field=f.name, value=neutralise(value))
            if parsed < today:
                raise UserError("posts.field_date_past", field=f.name, value=parsed)
            dates[f.name] = parsed
            value = parsed.isoformat()
        elif f.type is FieldType.DATETIME:
            moment = parse_datetime(value)
            day = parse_date(value) if moment is None else None
            if day is not None:
                # An all-day event: it starts with its day and is on until the day ends.
                if day < today:
                    raise UserError("posts.field_date_past", field=f.name, value=day)
                event_at = datetime.combine(day, time(0, 0), tzinfo=tz)
                value = day.isoformat()
            elif moment is None:
                raise UserError("posts.field_not_datetime", field=f.name, value=neutralise(value))
            else:
                aware = moment.replace(tzinfo=tz)
                if aware < now:
                    raise UserError("posts.field_date_past", field=f.name, value=moment)
                event_at = aware
                value = f"{moment:%Y-%m-%d %H:%M}"
        elif f.type is FieldType.URL:
            if not valid_link(value):
                raise UserError("posts.field_not_link", field=f.name)
        elif f.type is FieldType.PRICE and not valid_price(value):
            raise UserError("posts.field_not_price", field=f.name, value=neutralise(value))
        # Line breaks only where a long answer is expected; mentions defused everywhere.
        if f.type is not FieldType.LONG:
            value = " ".join(value.split())
        values[f.name] = neutralise(value)
    if "from" in dates and "to" in dates and dates["to"] < dates["from"]:
        raise UserError("posts.range_backwards", start="from", end="to")

    event_day = event_at.astimezone(tz).date() if event_at is not None else None
    expires_at = expiry(kind, dates, event_day, now, timezone, listing_days)
    return Checked(values, expires_at, event_at, dates)


_JOB_CUES = re.compile(
    r"\b(we(?:'re| are) hiring|hiring|job opening|vacanc(?:y|ies)|apply (?:by|before|now)|"
    r"position available|internship|ledig stilling|ledige stillinger|vi ansetter|vi søker|"
    r"søknadsfrist|stillingsannonse|praksisplass|deltidsjobb|sommerjobb)\b",
    re.IGNORECASE,
)
_SALE_STRONG = re.compile(r"\b(for sale|til salgs|selges|gis bort)\b", re.IGNORECASE)
_SALE_WEAK = re.compile(r"\b(selling|sell|selger)\b", re.IGNORECASE)
_MONEY = re.compile(r"(\b\d[\d .]*\s?(?:kr|nok|,-)|\b(?:kr|nok)\.?\s?\d)", re.IGNORECASE)


def looks_like_listing(text: str) -> str | None:
    """'job' or 'sale' when a message reads like an ad (English or Norwegian cues), else None."""
    if _JOB_CUES.search(text):
        return "job"
    if _SALE_STRONG.search(text) or (_SALE_WEAK.search(text) and _MONEY.search(text)):
        return "sale"
    return None
