"""A whole semester in one language shows no word of the other: the demo, played in each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.demo import play, script_lines
from bot.domain import Language
from storage.uow import UnitOfWorkFactory


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


# Words that give English away in a Norwegian group (and the other way round): the terminal's
# own words, the bot's, permission levels, kinds, themes, markers. Whole words, any case.
ENGLISH = _words(
    """
    you are now, answer with, optional, required, buttons, button, in #, erased, posted by,
    members, member, staff, students, the, and, with, your, you, yes, week, weeks, only,
    must, characters, please, thread, form for, direct message, edited in, pressed, no such, usage,
    joined, clock, careers, industry, critique, making, studying, open, job, rental, sale,
    event, showcase, article, borrow, filled, approved, approve, accept, accepted, cohort,
    roster, welcome, done, nothing, image, file, poll, sees, left the group, admins,
    question, replies, of
"""
)
NORWEGIAN = _words(
    """
    og, ikke, du, er, med, kanal, knapper, knapp, svar med, valgfritt, må fylles ut, ansatte,
    ansatt, uke, uken, uka, medlem, medlemmer, til, på, det, bare, nå, trykket, skjema, tråd,
    tråden, ingen, slettet, kull, klasseliste, velkommen, spørsmål, svar, jobb, salg, ja,
    nei, fra, lagt ut, bransjen, studenter, godkjent, ser, innlegg, fil, bilde, direktemelding
"""
)
# What a person typed (the prompt echo), what the narrator says (script comments), code spans
# (command words stay as they are), links, file names and the people's own values are not the
# bot's words.
_ECHO = re.compile(r"^\S+@(?:#\S+|\(.*?\))(?: > \S+)?> .*$", re.MULTILINE)
_NARRATOR = re.compile(r"^# .*$", re.MULTILINE)
_CODE = re.compile(r"`[^`\n]*`")
# A form's field names are what `!form` is typed with (like option names): keys, not words.
_FORM_KEYS = re.compile(r"^ {4}[a-z_]+: (?=.*\d (?:tegn|characters?)\)$)|!form .*$", re.MULTILINE)
_LINK = re.compile(r"\b(?:https?|javascript|local)://?\S*|\S+\.(?:png|json|csv)\b|\S+@\S+")
# Names and values the story's people typed, which the bot shows back as given.
_TYPED = {
    Language.EN: ("Studio Nord", "Kunstnernes Hus", "Holzweiler"),
    Language.NB: (
        "Studio Nord",
        "Holzweiler",
        "Kunstnernes Hus",
        "@\u200beveryone",
        "owner",
        "alumnibot",
        "local",
    ),
}


def _bot_words(transcript: str, language: Language) -> str:
    text = _ECHO.sub("", transcript)
    text = _NARRATOR.sub("", text)
    text = _CODE.sub("", text)
    text = _FORM_KEYS.sub("", text)
    text = _LINK.sub("", text)
    for typed in _TYPED[language]:
        text = text.replace(typed, "")
    return text


def _giveaways(text: str, words: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for word in words:
        end = r"(?![\w-])" if word[-1].isalnum() else ""
        pattern = re.compile(rf"(?<![\w#@-]){re.escape(word)}{end}", re.IGNORECASE)
        lines = [line.strip() for line in text.splitlines() if pattern.search(line)]
        if lines:
            found[word] = lines[:3]
    return found


async def _semester(engine: AsyncEngine, language: Language) -> str:
    lines: list[str] = []
    await play(UnitOfWorkFactory(engine), language, out=lines.append)
    return "\n".join(lines)


def test_both_languages_tell_the_same_story() -> None:
    en, nb = script_lines(Language.EN), script_lines(Language.NB)

    def shape(lines: list[str]) -> list[str]:
        """Commands and who types them; messages, moves and labels are the language's own."""
        skip = ("# ", "!press", "!show #", "!in #", "!delete", "!rename")
        return [
            " ".join(line.split()[:2] if line.startswith("/") else line.split()[:1])
            if line.startswith(("!", "/"))
            else "text"
            for line in lines
            if line and not line.startswith(skip)
        ]

    assert shape(en) == shape(nb)


# Milestones of the story in each language: each part of the semester was really played.
MILESTONES = {
    Language.NB: (
        "Oppsettet er ferdig.",
        "Du står på klasselisten til Mote 2026",
        "per fikk rollen student (godkjent av owner)",
        "Presentasjonen din er lagt ut i #presentasjoner.",
        "En uke er gått: 3 svar",
        "Lagt ut i #jobb-og-praksis",
        "Gratulerer, Mote 2026!",
        "1 medlem passer til «strikk holzweiler»",
        "Møtte du kaffeparet ditt?",
        "Ferdig: dataene dine er slettet.",
    ),
    Language.EN: (
        "Setup finished.",
        "You are on the roster of Fashion 2026",
        "per got the role student (approved by owner)",
        "Your introduction is posted in #introductions.",
        "A week of answers: 3 replies",
        "Posted in #jobs-and-internships",
        "Congratulations, Fashion 2026!",
        '1 member matches "knitwear holzweiler"',
        "Did you meet your coffee pair?",
        "Done: your data is erased.",
    ),
}


@pytest.mark.parametrize(
    ("language", "giveaways"), [(Language.NB, ENGLISH), (Language.EN, NORWEGIAN)]
)
async def test_a_whole_semester_speaks_only_the_groups_language(
    engine: AsyncEngine,
    language: Language,
    giveaways: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo's exports and charts land in ./data
    transcript = await _semester(engine, language)
    assert [m for m in MILESTONES[language] if m not in transcript] == []
    assert _giveaways(_bot_words(transcript, language), giveaways) == {}
    assert _raw_dates(_bot_words(transcript, language)) == []


# What machines read (ISO dates, week and period keys) never reaches a person: the bot writes
# "15. juni 2029" / "15 June 2029" and "uke 46" / "week 46".
_RAW_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}")


def _raw_dates(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if _RAW_DATE.search(line)]


def test_raw_dates_are_caught() -> None:
    said = "Kull Mote 2026 er laget: uteksamineres 2029-06-15.\nRunde 2029-W27: 3 par"
    assert _raw_dates(said) == [
        "Kull Mote 2026 er laget: uteksamineres 2029-06-15.",
        "Runde 2029-W27: 3 par",
    ]
    shown = _bot_words("data/export-2029-06-15.json er klar\nuke 46, 15. juni 2029", Language.NB)
    assert _raw_dates(shown) == []
