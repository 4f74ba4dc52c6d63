"""`alumnibot demo`: a scripted semester on a fresh local group, printed as a transcript."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.local.app import build
from bot.ports import UnitOfWorkFactory

SCRIPTS = Path(__file__).parent / "demo"
# A Monday morning at the start of the autumn semester, so the story's dates are stable.
START = datetime(2026, 8, 17, 7, 0, tzinfo=UTC)


def script_lines() -> list[str]:
    """Every demo script, in file-name order (each feature adds its own file)."""
    lines: list[str] = []
    for path in sorted(SCRIPTS.glob("*.txt")):
        lines.extend(path.read_text(encoding="utf-8").splitlines())
    return lines


async def play(uow: UnitOfWorkFactory) -> int:
    """Play the scripts on a fresh group and print what a member would see."""
    terminal, _, _ = build(uow, state_path=None, start=START)
    for line in script_lines():
        if line.startswith("# "):
            print("\n" + line)
            continue
        if not line.strip():
            continue
        print(f"{terminal.prompt()}{line}")
        await terminal.line(line)
    return 0
