"""The real `alumnibot run` on the local workspace in a subprocess, typed into like a terminal."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

BIN = Path(sys.executable).with_name("alumnibot")
_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/dashboard/signin/\S+)")


class LocalBot:
    """One bot process: lines go to its stdin, what it prints is read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._seen = 0

    @classmethod
    async def start(cls, folder: Path) -> LocalBot:
        """Start in `folder` (its data folder is `folder/data`), the web server on a free port."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ALUMNIBOT_", "DISCORD_", "SLACK_"))
            and k not in ("PORT", "DATABASE_URL")
        }
        env |= {"ALUMNIBOT_WEB_PORT": "0", "ALUMNIBOT_DATA_DIR": str(folder / "data")}
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/bot.db"
        proc = await asyncio.create_subprocess_exec(
            str(BIN),
            "run",
            cwd=folder,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(proc)

    async def type(self, line: str) -> None:
        """Type one line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def expect(self, pattern: str, seconds: float = 30.0) -> re.Match[str]:
        """The first line printed from now on (or already unread) that matches."""
        wanted = re.compile(pattern)
        assert self.proc.stdout is not None
        async with asyncio.timeout(seconds):
            while True:
                while self._seen < len(self.lines):
                    line = self.lines[self._seen]
                    self._seen += 1
                    if found := wanted.search(line):
                        return found
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"the bot exited; it printed:\n{''.join(self.lines)}")
                self.lines.append(raw.decode())

    async def link(self) -> str:
        """Run `/alumni dashboard` and return the sign-in link it printed."""
        await self.type("/alumni dashboard")
        return (await self.expect(_LINK.pattern))[1]

    async def stop(self) -> None:
        """Close stdin (EOF stops the terminal) and wait."""
        if self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                async with asyncio.timeout(15):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
