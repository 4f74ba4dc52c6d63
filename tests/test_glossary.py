"""The catalogues use one word for each thing: bot/i18n/GLOSSARY.md, checked in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain import Language
from bot.i18n import catalogue

GLOSSARY = Path(__file__).resolve().parents[1] / "bot" / "i18n" / "GLOSSARY.md"


def _rows() -> list[dict[str, str]]:
    """The glossary table's rows by column name."""
    lines = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line[:1] == "|"]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]


def _words(cell: str) -> list[str]:
    return [word.strip() for word in cell.split(",") if word.strip()]


def _pattern(word: str, inflected: bool = False) -> re.Pattern[str]:
    """The word on its own (not inside another), any case; `#vis-fram` counts as `vis-fram`.
    `inflected` also finds its forms ("annonse" in "annonser", "listing" in "listings")."""
    end = r"(?:s|es|r|n|ne|er|en|ene|et)?" if inflected else ""
    return re.compile(rf"(?<![\w-]){re.escape(word)}{end}(?![\w-])", re.IGNORECASE)


def _text(language: Language) -> str:
    return "\n".join(catalogue(language).values())


def test_the_glossary_names_the_concepts_the_issue_lists() -> None:
    concepts = {(row["en"], row["nb"]) for row in _rows()}
    for pair in [("showcase", "vis frem"), ("cohort", "kull"), ("week", "uke")]:
        assert pair in concepts
    assert {"alumni", "karrierenytt", "godkjenning", "tidligere student"} <= {
        row["nb"] for row in _rows()
    }


@pytest.mark.parametrize("language", list(Language))
def test_every_term_is_the_one_the_catalogues_use(language: Language) -> None:
    text = _text(language)
    # `vis frem` is written `vis-frem` in a channel name; both spell the same term.
    unused = [
        row[language.value]
        for row in _rows()
        if not _pattern(row[language.value], inflected=True).search(text)
        and not _pattern(row[language.value].replace(" ", "-"), inflected=True).search(text)
    ]
    assert unused == []


@pytest.mark.parametrize("language", list(Language))
def test_no_catalogue_uses_a_word_the_glossary_avoids(language: Language) -> None:
    found: dict[str, list[str]] = {}
    for row in _rows():
        for word in _words(row[f"avoid ({language.value})"]):
            keys = [k for k, v in catalogue(language).items() if _pattern(word).search(v)]
            if keys:
                found[f"{word} (say {row[language.value]!r})"] = keys
    assert found == {}
