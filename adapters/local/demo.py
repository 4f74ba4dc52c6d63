"""`alumnibot demo`: a scripted semester on a fresh local group, printed as a transcript."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from adapters.local.app import build
from bot.core import CoreConfig
from bot.domain import Language
from bot.ports import UnitOfWorkFactory

SCRIPTS = Path(__file__).parent / "demo"
# A Monday morning at the start of the autumn semester, so the story's dates are stable.
START = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)


def script_lines(language: Language = Language.EN) -> list[str]:
    """Every demo script of a language, in file-name order (each feature adds its own file):
    English in demo/, Norwegian in demo/nb/ (the same story, with the group's own words)."""
    folder = SCRIPTS if language is Language.EN else SCRIPTS / language.value
    lines: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    return lines


async def play(
    uow: UnitOfWorkFactory,
    language: Language = Language.EN,
    out: Callable[[str], None] = print,
) -> int:
    """Play the scripts on a fresh group in `language` and print what a member would see."""
    config = CoreConfig(default_language=language)
    terminal, _, _ = build(uow, state_path=None, out=out, start=START, config=config)
    for line in script_lines(language):
        if line.startswith("# "):
            out("\n" + line)
            continue
        if not line.strip():
            continue
        out(f"{terminal.prompt()}{line}")
        await terminal.line(line)
    return 0
