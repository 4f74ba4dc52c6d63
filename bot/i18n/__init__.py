"""Message catalogues: every member-facing string, in English and Norwegian bokmal."""

from __future__ import annotations

import logging
import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from bot.domain import Language

log = logging.getLogger(__name__)
_ROOT = Path(__file__).parent


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(language: Language) -> dict[str, str]:
    """All strings of one language, keyed `file.section.key`; one TOML file per feature."""
    out: dict[str, str] = {}
    for path in sorted((_ROOT / language.value).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(path.stem, tomllib.load(fh), out)
    return out


def placeholders(text: str) -> set[str]:
    """Names used as {placeholders} in a catalogue string."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def permission_label(language: Language | str, permission: str, role: str | None = None) -> str:
    """A permission as the platform's settings name it, in the language; unknown ones as given."""
    key = f"permissions.{permission}"
    if key not in catalogue(Language.EN):
        return permission
    return t(language, key, role=role or "?")


def t(language: Language | str, key: str, /, **params: Any) -> str:
    """The string for key in the language, formatted; falls back to English, then the key."""
    lang = Language(language)
    text = catalogue(lang).get(key) or catalogue(Language.EN).get(key)
    if text is None:
        log.error("missing catalogue key %s", key)
        return key
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        log.exception("catalogue key %s could not be formatted", key)
        return text
