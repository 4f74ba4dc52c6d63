"""Message catalogues: every member-facing string, in English and Norwegian bokmål.

Plurals follow CLDR (Babel's rules): a key that takes a count has `.one` and `.other` forms
(`[members] one = "{count} member"  other = "{count} members"`) and `t(lang, "x.members",
count=n)` picks one. Numbers, dates, weeks and lists are formatted for the language by the
helpers below, never with f-strings.
"""

from __future__ import annotations

import logging
import string
import tomllib
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from bot.domain import Language

log = logging.getLogger(__name__)
_ROOT = Path(__file__).parent
PLURAL_FORMS = ("one", "other")
# British English: "9 Nov", "a, b and c", dates day first, as readers in Norway expect.
_LOCALES = {Language.EN: "en_GB", Language.NB: "nb_NO"}


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


def catalogue_files(language: Language) -> dict[str, Path]:
    """Namespace -> file: the core's `bot/i18n/<lang>/<ns>.toml` and each feature's
    `bot/cogs/<feature>/locales/<lang>.toml` (its namespace is the feature's folder name)."""
    files = {path.stem: path for path in (_ROOT / language.value).glob("*.toml")}
    for path in (_ROOT.parent / "cogs").glob(f"*/locales/{language.value}.toml"):
        namespace = path.parent.parent.name
        if namespace in files:
            raise RuntimeError(f"two catalogues for {namespace}: {files[namespace]} and {path}")
        files[namespace] = path
    return dict(sorted(files.items()))


@cache
def catalogue(language: Language) -> dict[str, str]:
    """All strings of one language, keyed `namespace.section.key`."""
    out: dict[str, str] = {}
    for namespace, path in catalogue_files(language).items():
        with path.open("rb") as fh:
            _flatten(namespace, tomllib.load(fh), out)
    return out


@cache
def locale(language: Language | str) -> Locale:
    """The Babel locale of a language (bokmål formats as nb_NO)."""
    return Locale.parse(_LOCALES[Language(language)])


def placeholders(text: str) -> set[str]:
    """Names used as {placeholders} in a catalogue string."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def permission_label(language: Language | str, permission: str, role: str | None = None) -> str:
    """A permission as the platform's settings name it, in the language; unknown ones as given."""
    key = f"permissions.{permission}"
    if key not in catalogue(Language.EN):
        return permission
    return t(language, key, role=role or "?")


def plural_form(language: Language | str, count: float) -> str:
    """The CLDR plural category of a count in the language: 'one' or 'other'."""
    form = locale(language).plural_form(abs(count))
    return form if form in PLURAL_FORMS else "other"


def _lookup(lang: Language, key: str) -> str | None:
    return catalogue(lang).get(key) or catalogue(Language.EN).get(key)


def t(language: Language | str, key: str, /, **params: Any) -> str:
    """The string for key in the language, formatted; falls back to English, then the key.

    With a `count` param and a key that has plural forms, the form the count takes; an int
    count is shown formatted for the language ("1 500" in bokmål). A date param reads
    "15 June 2029" / "15. juni 2029", a datetime adds its time of day in its own zone (convert
    it to the group's first): people never see an ISO date.
    """
    lang = Language(language)
    text = _lookup(lang, key)
    count = params.get("count")
    if text is None and isinstance(count, int | float):
        text = _lookup(lang, f"{key}.{plural_form(lang, count)}")
    if text is None:
        log.error("missing catalogue key %s", key)
        return key
    if isinstance(count, int | float) and not isinstance(count, bool):
        params = {**params, "count": number(lang, count)}
    params = {name: _shown(lang, value) for name, value in params.items()}
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.exception("catalogue key %s could not be formatted", key)
        return text


def _shown(lang: Language, value: Any) -> Any:
    if isinstance(value, datetime):
        return moment(lang, value)
    if isinstance(value, date):
        return day(lang, value, "long")
    return value


def number(language: Language | str, value: float, digits: int = 1) -> str:
    """A number as the language writes it: 1,500.5 in English, 1 500,5 in bokmål."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale(language))


def percent(language: Language | str, share: float) -> str:
    """A share (0..1) as a whole percentage: 36% in English, 36 % in bokmål."""
    return format_percent(share, locale=locale(language))


def day(language: Language | str, when: date | datetime, form: str = "medium") -> str:
    """A date as the language writes it ("9 Nov 2026" / "9. nov. 2026")."""
    return format_date(when, format=form, locale=locale(language))


def moment(language: Language | str, when: datetime, timezone: str | None = None) -> str:
    """A day and time as the language writes them ("20 September 2029, 18:00" /
    "20. september 2029, 18:00"), in the timezone when given."""
    if timezone is not None and when.tzinfo is not None:
        when = when.astimezone(ZoneInfo(timezone))
    # Naive from here: Babel would otherwise move an aware time into the machine's own zone.
    when = when.replace(tzinfo=None)
    loc = locale(language)
    pattern = str(loc.datetime_formats["long"]).replace("'", "")
    return pattern.format(format_time(when, "short", locale=loc), day(language, when, "long"))


def short_day(language: Language | str, when: date | datetime) -> str:
    """Day and month without the year ("9 Nov" / "9. nov.")."""
    return format_skeleton("MMMd", when, locale=locale(language))


def week(language: Language | str, when: date | datetime, with_year: bool = False) -> str:
    """The ISO week of a date, as people say it ("week 46" / "uke 46"; with its year "week 46
    of 2026" / "uke 46 i 2026"), never as the key machines use ("2026-W46")."""
    year, number, _ = when.isocalendar()
    if with_year:
        return t(language, "core.week_of_year", number=number, year=str(year))
    return t(language, "core.week", number=number)


def join(language: Language | str, items: Sequence[str]) -> str:
    """A list as the language writes it: "a, b and c" / "a, b og c"."""
    return format_list(list(items), locale=locale(language)) if items else ""


def either(language: Language | str, items: Sequence[str]) -> str:
    """Alternatives as the language writes them: "a, b or c" / "a, b eller c"."""
    return format_list(list(items), style="or", locale=locale(language)) if items else ""
