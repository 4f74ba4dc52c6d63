"""README's command table, `/alumni help` and the command tree name the same commands."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.manifest import commands as all_commands
from bot.commands import ROOT
from bot.domain import Permission
from tests.conftest import make_group

README = Path(__file__).resolve().parent.parent / "README.md"
# A command as README and help write it: `/alumni cohort create program: [graduates:]`;
# `a\|b` in README's table is "a or b" (`/alumni pairs join\|leave\|status`).
_CODE = re.compile(r"`(/" + ROOT + r" [^`]*)`")


def _paths_and_options(usage: str) -> list[tuple[tuple[str, ...], set[str]]]:
    """Every command a `/alumni ...` text names, with the options it names."""
    words = usage.replace("\\|", "|").split()[1:]
    path: list[str] = []
    for word in words:
        if re.match(r"^[a-z][a-z0-9_|-]*$", word) and len(path) < 2:
            path.append(word)
        else:
            break
    options = set(re.findall(r"(?:^|[\s\[])([a-z_]+):", usage))
    heads = path[0].split("|") if path else []
    tails = path[1].split("|") if len(path) == 2 else [""]
    return [((h, t) if t else (h,), options) for h in heads for t in tails]


def _readme_table() -> list[str]:
    """The first cell of each row of README's Commands table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [re.split(r"(?<!\\)\|", row)[1] for row in rows]


def _tree() -> dict[tuple[str, ...], set[str]]:
    return {c.path: {o.name for o in c.options} for c in all_commands()}


def test_readme_names_every_command_and_only_commands_that_exist() -> None:
    tree = _tree()
    named: dict[tuple[str, ...], str] = {}
    for cell in _readme_table():
        for usage in _CODE.findall(cell):
            for path, options in _paths_and_options(usage):
                assert path in tree, f"README names `/alumni {' '.join(path)}`: no such command"
                unknown = options - tree[path]
                assert not unknown, f"README: `/alumni {' '.join(path)}` has no {unknown}"
                named[path] = cell
    missing = sorted(" ".join(p) for p in set(tree) - set(named))
    assert not missing, f"README's Commands table lacks: {missing}"


def _help_paths(lines: list[str]) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for line in "\n".join(lines).splitlines():
        for usage in _CODE.findall(line.split("`: ", 1)[0] + "`"):
            found.update(path for path, _ in _paths_and_options(usage))
    return found


async def test_help_lists_the_same_commands_by_the_same_names(engine: AsyncEngine) -> None:
    g = make_group(engine)
    tree = _tree()
    # The owner (an admin) may run everything: help lists the whole tree, by its names.
    start = len(g.lines)
    await g.run("/alumni help")
    assert _help_paths(g.lines[start:]) == set(tree)
    # A member sees exactly the member commands.
    await g.run("!join ola", "!as ola")
    start = len(g.lines)
    await g.run("/alumni help")
    members = {c.path for c in all_commands() if c.permission is Permission.MEMBER}
    assert _help_paths(g.lines[start:]) == members
