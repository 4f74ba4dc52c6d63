"""Composition root: reads Settings, opens storage, picks the workspace, runs it until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.domain import Language
from bot.errors import StorageUnavailable
from bot.lifecycle import Lifecycle
from bot.settings import Settings, problems

log = logging.getLogger("alumnibot")

# Names .env files used before the ALUMNIBOT_ prefix (LANGUAGE is gettext's on a desktop).
_RENAMED = ("LANGUAGE", "TIMEZONE", "LOG_LEVEL", "DATA_DIR")
# What each Procfile process runs, for the refusal when the settings say otherwise.
_ROLE_HELP = {
    "web": "Slack over HTTP (SLACK_BOT_TOKEN or OAuth, without SLACK_APP_TOKEN)",
    "worker": "Discord (DISCORD_TOKEN) or Slack Socket Mode (SLACK_APP_TOKEN)",
}


def _logging(settings: Settings, command: str | None) -> None:
    """Servers log to stderr; the terminal and the demo keep stderr for warnings only."""
    level = settings.log_level_number
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
    from storage.database import open_database
    from storage.uow import UnitOfWorkFactory

    engine = await open_database(settings.database_url)
    return engine, UnitOfWorkFactory(engine)


async def _close_storage(engine, life: Lifecycle | None = None) -> None:  # type: ignore[no-untyped-def]
    """Close the pool; a database that does not answer is not waited on past the deadline."""
    try:
        async with asyncio.timeout(max(1.0, life.remaining()) if life else 5.0):
            await engine.dispose()
    except TimeoutError:
        log.warning("the database did not close its connections in time")


async def _run(settings: Settings) -> int:
    life = Lifecycle()
    life.handle_signals()
    try:
        engine, uow = await _open_storage(settings)
        try:
            from storage.database import check

            life.add_check("database", lambda: _ping(check, engine))
            if settings.platform == "local":
                from adapters.local.app import run_terminal

                return await run_terminal(settings, uow, life)
            if settings.platform == "discord":
                from adapters.discord.app import run_discord  # type: ignore[import-not-found,unused-ignore]

                return int(await run_discord(settings, uow, life=life))
            from adapters.slack.app import run_slack

            return int(await run_slack(settings, uow, life))
        finally:
            await _close_storage(engine, life)
    finally:
        life.restore_signals()


async def _ping(check, engine) -> None:  # type: ignore[no-untyped-def]
    """SELECT 1, well inside the health check's own bound."""
    await check(engine, seconds=1.5)


async def _discord(settings: Settings, action: str) -> int:
    from adapters.discord.app import invite_url, run_discord  # type: ignore[import-not-found,unused-ignore]

    if action == "invite-url":
        return int(await invite_url(settings))
    engine, uow = await _open_storage(settings)
    try:
        return int(await run_discord(settings, uow, sync_only=True))
    finally:
        await _close_storage(engine)


async def _demo(language: Language) -> int:
    import tempfile

    from adapters.local.demo import play

    with tempfile.TemporaryDirectory() as tmp:
        engine, uow = await _open_storage(
            Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp}/demo.db")  # type: ignore[call-arg]
        )
        try:
            return await play(uow, language)
        finally:
            await _close_storage(engine)


async def _db_upgrade(settings: Settings) -> int:
    from storage.database import migration_engine, upgrade

    engine = migration_engine(settings.database_url)
    try:
        from storage.database import check

        await check(engine)
        changed = await upgrade(engine)
    finally:
        await _close_storage(engine)
    print("database upgraded" if changed else "database is up to date")
    return 0


def _role_problem(settings: Settings, role: str) -> str | None:
    """Why this process must not run as `role` (web or worker), or None."""
    if settings.role == role:
        return None
    if settings.role is None:
        return (
            f"the {role} process runs {_ROLE_HELP[role]}, and no platform token is set; "
            "without one, start the local workspace with `alumnibot run`"
        )
    return (
        f"this bot runs as the {settings.role} process ({_ROLE_HELP[settings.role]}), "
        f"not as {role}: scale {role} to 0 so the same bot never runs twice"
    )


def _renamed_in_dotenv() -> list[str]:
    """Old unprefixed names still in ./.env (ignored now: the desktop's LANGUAGE is not ours)."""
    path = Path(".env")
    if not path.is_file():
        return []
    from dotenv import dotenv_values

    keys = {k.upper() for k in dotenv_values(path)}
    return [name for name in _RENAMED if name in keys and f"ALUMNIBOT_{name}" not in keys]


_DESCRIPTION = """\
alumnibot hosts a university alumni group: onboarding a class, weekly questions, posts for jobs
and rentals, profiles and coffee pairs, and numbers for staff.

Without a platform token it runs a local workspace in this terminal, so you can try everything
first. With DISCORD_TOKEN or SLACK_BOT_TOKEN (in the environment or ./.env) it joins that
platform instead. Settings are read from the environment and ./.env (see README.md)."""

_EPILOG = """\
examples:
  alumnibot run                    start the bot (a local workspace if no token is set)
  alumnibot demo --language nb     watch a whole semester played in Norwegian
  alumnibot db upgrade             bring the database up to date before a new version starts
  alumnibot discord invite-url     print the link that adds the bot to a Discord server
  alumnibot slack manifest         print the app manifest to paste at api.slack.com/apps

Each command has its own help: alumnibot <command> --help"""


def _version() -> str:
    """The installed package's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alumnibot")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    """The command line, with help written for the person running it."""
    parser = argparse.ArgumentParser(
        prog="alumnibot",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"alumnibot {_version()}")
    sub = parser.add_subparsers(dest="cmd", metavar="<command>", title="commands")
    run = sub.add_parser(
        "run",
        help="start the bot (the default; a local workspace unless a token is set)",
        description="Start the bot and keep it running until Ctrl-C or SIGTERM. Without "
        "DISCORD_TOKEN or SLACK_BOT_TOKEN it opens the local workspace in this terminal.",
    )
    run.add_argument(
        "--role",
        choices=["web", "worker"],
        help="the Procfile process: refuse to start unless the settings make this bot that one",
    )
    demo = sub.add_parser(
        "demo",
        help="play a scripted semester on a fresh local group and print it",
        description="Play a whole semester on a fresh local group (setup, a class invited, "
        "introductions, weekly questions, posts, stats, graduation) and print what members "
        "see. Nothing is saved.",
    )
    demo.add_argument(
        "--language",
        choices=["en", "nb"],
        default=None,
        help="the group's language: en (English) or nb (Norwegian bokmål); "
        "default: ALUMNIBOT_LANGUAGE, else en",
    )
    db = sub.add_parser(
        "db",
        help="database tools: bring the schema up to date (db upgrade)",
        description="Bring the database at DATABASE_URL up to the schema this version needs.",
    )
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply pending migrations")
    slack = sub.add_parser(
        "slack",
        help="Slack tools: print the app manifest",
        description="Print the Slack app manifest to paste when you create the app.",
    )
    slack.add_argument("action", choices=["manifest"], help="manifest: print the app manifest")
    slack.add_argument(
        "--format", choices=["yaml", "json"], default="yaml", help="yaml (default) or json"
    )
    slack.add_argument("--url", help="public base URL of the bot (HTTP mode)")
    slack.add_argument("--socket", action="store_true", help="a Socket Mode manifest (no URLs)")
    slack.add_argument(
        "--language", choices=["en", "nb"], default="en", help="the language of its texts"
    )
    dc = sub.add_parser(
        "discord",
        help="Discord tools: sync the commands, print the invite URL",
        description="sync: register /alumni with Discord now; invite-url: print the link "
        "that adds the bot to a server with the permissions it needs.",
    )
    dc.add_argument("action", choices=["sync", "invite-url"], help="sync or invite-url")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run what it asks for; the exit status of that."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.cmd == "slack":
        from adapters.slack.manifest import render

        print(render(args.format, args.url, args.socket, Language(args.language)), end="")
        return 0
    try:
        settings = Settings()
    except ValidationError as exc:
        # One line per bad value, naming its variable: nothing has started yet.
        for line in problems(exc):
            print(f"alumnibot: {line}", file=sys.stderr)
        return 1
    for name in _renamed_in_dotenv():
        print(f"alumnibot: .env sets {name}, which is now ALUMNIBOT_{name}", file=sys.stderr)
    role = getattr(args, "role", None)
    if role is not None and (problem := _role_problem(settings, role)):
        print(f"alumnibot: {problem}", file=sys.stderr)
        return 1
    _logging(settings, args.cmd)
    try:
        if args.cmd == "demo":
            return asyncio.run(_demo(Language(args.language or settings.language)))
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
