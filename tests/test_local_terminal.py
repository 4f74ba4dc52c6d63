"""The local workspace as a person uses it: `make run` with piped lines, state across restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import make_group

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env["DATA_DIR"] = str(tmp_path / "data")
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/data/alumnibot.db"
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input=script,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_piped_session_prints_the_created_channels(tmp_path: Path) -> None:
    proc = _run(tmp_path, "/alumni setup\n!show channels\n")
    assert proc.returncode == 0, proc.stderr
    assert "#discussion [Alumni group]" in proc.stdout
    assert "#announcements [Alumni group] (staff post)" in proc.stdout


def test_state_and_clock_survive_a_restart(tmp_path: Path) -> None:
    _run(tmp_path, "/alumni setup\n!join kari\n!clock +3d\n")
    proc = _run(tmp_path, "!as kari\n/alumni setup\n!clock +1h\n")
    assert "Only staff" in proc.stdout  # kari is still a member
    assert "Created" not in proc.stdout
    assert "(the clock is now" in proc.stdout
    state = (tmp_path / "data" / "local_workspace.json").read_text()
    assert '"offset_seconds": 262800.0' in state  # 3 days + 1 hour, kept across two runs


async def test_terminal_bang_lines(engine: AsyncEngine) -> None:
    g = make_group(engine)
    out = await g.run("/alumni setup", "!in #discussion", "hello everyone", "!show #discussion")
    assert "#discussion owner: hello everyone" in out
    out = await g.run("!as nobody", "!in #nowhere", "!show roles owner", "!bogus")
    assert "no such member" in out and "no such channel" in out and "unknown: !bogus" in out
