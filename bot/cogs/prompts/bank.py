"""The question bank shipped with the bot (questions.toml, English and Norwegian bokmål)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

THEMES: tuple[str, ...] = ("making", "studying", "careers", "industry", "critique", "group")
# Questions staff write themselves are tagged "open" unless they pick a theme.
OPEN_THEME = "open"


@dataclass(frozen=True)
class BankQuestion:
    """One question of the bank."""

    id: str
    theme: str
    en: str
    nb: str


@cache
def load_bank() -> tuple[BankQuestion, ...]:
    """Every question of the bank in file order."""
    with (Path(__file__).parent / "questions.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return tuple(
        BankQuestion(q["id"], q["theme"], q["en"].strip(), q["nb"].strip())
        for q in data["question"]
    )
