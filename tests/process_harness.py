"""The real `alumnibot` entry point in a subprocess, and a TCP proxy that can stop answering.

    bot = await BotProcess.start(["run"], env)     # env from clean_env(tmp_path, ...)
    await bot.wait_for_output("created")           # stdout so far contains the text
    status, body = await health(port)              # GET /healthz over a real socket
    rc, seconds = await bot.terminate()            # a real SIGTERM; exit code and time taken

The subprocess sees only the environment given (no tokens or settings of the developer's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

ALUMNIBOT = str(Path(sys.executable).parent / "alumnibot")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What a host would set: a PATH, a HOME, a database and data folder in tmp_path."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONUNBUFFERED": "1",  # the terminal's output arrives as it is printed
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        "ALUMNIBOT_DATA_DIR": str(tmp_path / "data"),
        # The dashboard's server on a free port: parallel runs never fight over 8750.
        "ALUMNIBOT_WEB_PORT": "0",
    }
    env.update(extra)
    return env


class BotProcess:
    """One `alumnibot ...` process; stdout and stderr collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out = ""
        self.err = ""
        self._changed = asyncio.Event()
        assert proc.stdout is not None and proc.stderr is not None
        self._readers = [
            asyncio.ensure_future(self._read(proc.stdout, "out")),
            asyncio.ensure_future(self._read(proc.stderr, "err")),
        ]

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str], cwd: Path) -> BotProcess:
        """Start `alumnibot <args>` in `cwd` (where it looks for .env) with exactly `env`."""
        proc = await asyncio.create_subprocess_exec(
            ALUMNIBOT,
            *args,
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(proc)

    async def _read(self, stream: asyncio.StreamReader, which: str) -> None:
        while chunk := await stream.read(4096):
            setattr(self, which, getattr(self, which) + chunk.decode(errors="replace"))
            self._changed.set()

    def type(self, *lines: str) -> None:
        """Write lines to the bot's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())

    async def wait_for_output(self, text: str, within: float = 15.0) -> None:
        """Until stdout contains `text`; fails with what the bot printed."""
        deadline = time.monotonic() + within
        while text not in self.out:
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in output:\n{self.out}\n--- stderr:\n{self.err}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.1)

    async def terminate(self, within: float = 15.0) -> tuple[int, float]:
        """Send SIGTERM; the exit code and the seconds until the process was gone."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait(within), time.monotonic() - started

    async def wait(self, within: float = 15.0) -> int:
        """The exit code (the process is killed if it outlives `within`)."""
        try:
            code = await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"still running after {within} s; stderr:\n{self.err}") from None
        await asyncio.gather(*self._readers)
        return code

    async def kill(self) -> None:
        """End the process if it still runs (test clean-up)."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for reader in self._readers:
            reader.cancel()


async def health(port: int, within: float = 5.0) -> tuple[int, dict[str, Any]]:
    """GET /healthz on 127.0.0.1:port: the status and the JSON body."""
    client_timeout = aiohttp.ClientTimeout(total=within)
    async with (
        aiohttp.ClientSession(timeout=client_timeout) as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as resp,
    ):
        return resp.status, json.loads(await resp.text())


async def wait_healthy(bot: BotProcess, port: int, within: float = 20.0) -> dict[str, Any]:
    """Until /healthz answers 200; its body."""
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        if bot.proc.returncode is not None:
            raise AssertionError(f"the bot exited ({bot.proc.returncode}):\n{bot.err}")
        try:
            status, body = await health(port, within=3.0)
            if status == 200:
                return body
            last = body
        except (aiohttp.ClientError, OSError) as exc:
            last = exc
        await asyncio.sleep(0.1)
    raise AssertionError(f"not healthy within {within} s: {last}\n--- stderr:\n{bot.err}")


class PausableProxy:
    """A TCP proxy on 127.0.0.1 in front of a server; `pause()` makes the server go silent.

    While paused no byte moves either way and new connections are accepted but never
    answered: what a client sees when a database host hangs or the network drops packets.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> PausableProxy:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def pause(self) -> None:
        """Stop forwarding (connections stay open, silent)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Forward again."""
        self._flowing.set()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._connect(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self._flowing.wait()
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._writers.add(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        """Close every connection and the listener."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
