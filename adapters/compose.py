"""compose(): the one place a Bot is built, for every platform (and the Slack manifest)."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.charts import MatplotlibCharts
from bot.core import Bot, CoreConfig
from bot.errors import StorageUnavailable
from bot.features import load_all
from bot.ports import Clock, UnitOfWork, UnitOfWorkFactory, Workspace
from bot.settings import Settings


class SystemClock:
    """Real time (UTC)."""

    def now(self) -> datetime:
        """Now."""
        return datetime.now(UTC)


def compose(
    settings: Settings | CoreConfig,
    workspace: Workspace,
    uow: UnitOfWorkFactory,
    clock: Clock | None = None,
) -> Bot:
    """The bot with every feature on a workspace, its storage and a clock (real time if None).

    `settings` is the process's Settings, or the core's part of them (tests give a CoreConfig
    with a fixed instance id).
    """
    config = settings.core() if isinstance(settings, Settings) else settings
    bot = Bot(workspace, uow, clock or SystemClock(), config, charts=MatplotlibCharts())
    return load_all(bot)


def no_storage() -> UnitOfWork:
    """A unit-of-work factory for a bot that is only read (the manifest's command tree)."""
    raise StorageUnavailable("this bot has no database: it only lists its commands")
