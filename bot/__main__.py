"""Composition root: reads Settings, opens storage, picks the workspace, starts the bot."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys

from bot.errors import StorageUnavailable
from bot.settings import Settings

log = logging.getLogger("alumnibot")


def _logging(settings: Settings, command: str | None) -> None:
    """Servers log to stderr; the terminal and the demo keep stderr for warnings only."""
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    if command == "demo" or (command in (None, "run") and settings.platform == "local"):
        console.setLevel(logging.WARNING)
        if command != "demo":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            to_file = logging.FileHandler(settings.data_dir / "alumnibot.log", encoding="utf-8")
            to_file.setFormatter(fmt)
            root.addHandler(to_file)
    root.addHandler(console)
    # Third-party loggers can echo request URLs and headers; keep them at warnings.
    for noisy in ("alembic", "discord", "slack_bolt", "slack_sdk", "aiohttp", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


async def _open_storage(settings: Settings):  # type: ignore[no-untyped-def]
    from storage.database import check, create_engine, upgrade
    from storage.uow import UnitOfWorkFactory

    engine = create_engine(settings.database_url)
    await check(engine)
    await upgrade(engine)
    return engine, UnitOfWorkFactory(engine)


async def _run(settings: Settings) -> int:
    engine, uow = await _open_storage(settings)
    try:
        if settings.platform == "local":
            from adapters.local.app import run_terminal

            return await run_terminal(settings, uow)
        if settings.platform == "discord":
            from adapters.discord.app import run_discord  # type: ignore[import-not-found,unused-ignore]

            return int(await run_discord(settings, uow))
        from adapters.slack.app import run_slack

        return int(await run_slack(settings, uow))
    finally:
        await engine.dispose()


async def _discord(settings: Settings, action: str) -> int:
    from adapters.discord.app import invite_url, run_discord  # type: ignore[import-not-found,unused-ignore]

    if action == "invite-url":
        return int(await invite_url(settings))
    engine, uow = await _open_storage(settings)
    try:
        return int(await run_discord(settings, uow, sync_only=True))
    finally:
        await engine.dispose()


async def _demo() -> int:
    import tempfile

    from adapters.local.demo import play

    with tempfile.TemporaryDirectory() as tmp:
        engine, uow = await _open_storage(
            Settings(database_url=f"sqlite+aiosqlite:///{tmp}/demo.db")
        )
        try:
            return await play(uow)
        finally:
            await engine.dispose()


async def _db_upgrade(settings: Settings) -> int:
    engine, _ = await _open_storage(settings)
    await engine.dispose()
    print("database is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`alumnibot [run|demo|db upgrade|slack manifest|discord sync|discord invite-url]`."""
    parser = argparse.ArgumentParser(prog="alumnibot", description=__doc__)
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("run", help="start the bot (local workspace unless a token is configured)")
    sub.add_parser("demo", help="play a scripted semester on a fresh local group")
    db = sub.add_parser("db", help="database tools")
    db.add_argument("action", choices=["upgrade"])
    slack = sub.add_parser("slack", help="Slack tools")
    slack.add_argument("action", choices=["manifest"])
    slack.add_argument("--format", choices=["yaml", "json"], default="yaml")
    slack.add_argument("--url", help="public base URL of the bot (HTTP mode)")
    slack.add_argument("--socket", action="store_true", help="a Socket Mode manifest (no URLs)")
    dc = sub.add_parser("discord", help="Discord tools: sync the commands, print the invite URL")
    dc.add_argument("action", choices=["sync", "invite-url"])
    args = parser.parse_args(argv)
    if args.cmd == "slack":
        from adapters.slack.manifest import render

        print(render(args.format, args.url, args.socket), end="")
        return 0
    settings = Settings()
    _logging(settings, args.cmd)
    try:
        if args.cmd == "demo":
            return asyncio.run(_demo())
        if args.cmd == "db":
            return asyncio.run(_db_upgrade(settings))
        if args.cmd == "discord":
            return asyncio.run(_discord(settings, args.action))
        return asyncio.run(_run(settings))
    except StorageUnavailable as exc:
        # One line, no traceback wall: the fix is almost always the URL or the server.
        print(
            "alumnibot: cannot reach the database at DATABASE_URL "
            f"({_redact(settings.database_url)}): {str(exc).splitlines()[0][:200]}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 0


def _redact(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


if __name__ == "__main__":
    sys.exit(main())
