"""Reading dates as people type them, in English or Norwegian: one parser for options and forms."""

from __future__ import annotations

import re
from datetime import date, datetime, time

# Month names and their usual abbreviations, bokmål and English (lower case, no dot).
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januar", "january", "jan"),
            ("februar", "february", "feb"),
            ("mars", "march", "mar"),
            ("april", "apr"),
            ("mai", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("desember", "december", "des", "dec"),
        ),
        start=1,
    )
    for name in names
}
_YEAR = r"(?P<y>\d{4})"
_NUMERIC = (
    re.compile(rf"^{_YEAR}-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})$"),  # 2029-06-15 (ISO)
    re.compile(rf"^(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.{_YEAR}$"),  # 15.06.2029
    re.compile(rf"^(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/{_YEAR}$"),  # 15/6/2029, day first
)
_NAMED = (
    # 15. juni 2029, 15 June 2029, 15th of June 2029, 15. jun. 2029
    re.compile(
        rf"^(?P<d>\d{{1,2}})(?:\.|st|nd|rd|th)?\s+(?:of\s+)?(?P<name>[^\W\d_]+)\.?,?\s+{_YEAR}$"
    ),
    # June 15, 2029 (as English speakers also write it)
    re.compile(rf"^(?P<name>[^\W\d_]+)\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}$"),
)
# A time after the date: 18:00, 18.00, kl. 18:00, at 18:00, or ISO's T18:00.
_WITH_TIME = re.compile(
    r"^(?P<day>.+?)(?:T|,?\s+(?:kl\.?\s*|klokka\s+|klokken\s+|at\s+)?)"
    r"(?P<h>\d{1,2})[:.](?P<min>\d{2})$",
    re.IGNORECASE,
)


def parse_date(text: str) -> date | None:
    """A date typed as 2029-06-15, 15.06.2029, 15/6/2029, "15. juni 2029" or "15 June 2029";
    None when it is none of these or no such day exists (31.02.2029)."""
    value = " ".join(text.split()).lower()
    for pattern in _NUMERIC:
        if match := pattern.match(value):
            return _day(match["y"], match["m"], match["d"])
    for pattern in _NAMED:
        if (match := pattern.match(value)) and match["name"] in _MONTHS:
            return _day(match["y"], _MONTHS[match["name"]], match["d"])
    return None


def parse_datetime(text: str) -> datetime | None:
    """A naive date and time: any date parse_date reads, then 18:00 (or 18.00, kl. 18:00)."""
    match = _WITH_TIME.match(" ".join(text.split()))
    if match is None:
        return None
    day = parse_date(match["day"])
    hour, minute = int(match["h"]), int(match["min"])
    if day is None or hour > 23 or minute > 59:
        return None
    return datetime.combine(day, time(hour, minute))


def _day(year: str | int, month: str | int, day: str | int) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
