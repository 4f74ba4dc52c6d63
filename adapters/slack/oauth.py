"""Many workspaces: Slack's OAuth v2 install flow, installations kept on DATABASE_URL."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.slack.manifest import BOT_SCOPES
from bot.settings import Settings

log = logging.getLogger(__name__)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# The state an admin's browser carries from /slack/install to Slack and back (Slack: 10 minutes).
STATE_SECONDS = 600
SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# Bolt looks a workspace's installation up on every request, before the listener and so before
# the ack (Slack allows 3 s). Answers are kept this long in the process; its own saves and
# deletes drop them at once, another process's show within CACHE_SECONDS (a workspace not
# found, e.g. installed a moment ago through another process, within MISS_SECONDS).
CACHE_SECONDS = 30.0
MISS_SECONDS = 5.0
_MISSING = object()


class InstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy store, read through a short cache, that tells the app when a
    workspace's token changes."""

    def __init__(self, client_id: str, engine: AsyncEngine) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.listeners: list[Callable[[str], None]] = []
        self._cache: dict[tuple[Any, ...], tuple[float, Any]] = {}

    def _changed(self, team_id: str | None) -> None:
        self._cache.clear()
        for listener in self.listeners:
            listener(team_id or "")

    def _cached(self, key: tuple[Any, ...]) -> Any:
        hit = self._cache.get(key)
        if hit is None:
            return _MISSING
        age = time.monotonic() - hit[0]
        if age > (CACHE_SECONDS if hit[1] is not None else MISS_SECONDS):
            return _MISSING
        # A copy: Bolt edits the installation it gets (it drops another user's token).
        return copy.copy(hit[1])

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's (or a user's) installation, from the cache when fresh."""
        key = ("installation", enterprise_id, team_id, user_id, is_enterprise_install)
        hit = self._cached(key)
        if hit is not _MISSING:
            return hit  # type: ignore[no-any-return]
        found = await super().async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        self._cache[key] = (time.monotonic(), copy.copy(found))
        return found

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The workspace's bot token, from the cache when fresh."""
        key = ("bot", enterprise_id, team_id, is_enterprise_install)
        hit = self._cached(key)
        if hit is not _MISSING:
            return hit  # type: ignore[no-any-return]
        found = await super().async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        self._cache[key] = (time.monotonic(), copy.copy(found))
        return found

    async def async_save(self, installation: Installation) -> None:
        """Store an installation; a reinstall's new token replaces the cached one."""
        await super().async_save(installation)
        self._changed(installation.team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace (app uninstalled)."""
        await super().async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self._changed(team_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot token (tokens revoked)."""
        await super().async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self._changed(team_id)


def authorization_url(settings: Settings) -> str:
    """Slack's authorize page; beside SLACK_API_URL when that is set (`…/api/` -> `…/oauth/…`)."""
    if not settings.slack_api_url:
        return SLACK_AUTHORIZE_URL
    base = settings.slack_api_url.rstrip("/")
    base = base.removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


def store_engine(url: str) -> AsyncEngine:
    """An engine of its own for slack_sdk's tables, with the bot's timeouts.

    The same seconds as storage.database (which adapters may not import): a database that
    stops answering fails a request within a few seconds instead of hanging it.
    """
    if make_url(url).get_backend_name() == "sqlite":
        # The bot writes the same file: wait for its lock instead of failing at once.
        return create_async_engine(url, connect_args={"timeout": 3.0})
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=3.0,
        connect_args={"timeout": 3.0, "command_timeout": 3.0},
    )


@dataclass
class SlackInstallations:
    """The installation and OAuth-state stores on one engine, closed together at shutdown."""

    engine: AsyncEngine
    installations: InstallationStore
    states: AsyncSQLAlchemyOAuthStateStore
    settings: AsyncOAuthSettings
    closed: bool = field(default=False)

    async def create_tables(self) -> None:
        """slack_sdk's tables (slack_installations, slack_bots, slack_oauth_states), if absent."""
        await self.installations.create_tables()  # type: ignore[no-untyped-call]
        await self.states.create_tables()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the engine's connections."""
        if not self.closed:
            self.closed = True
            await self.engine.dispose()


def installations(settings: Settings) -> SlackInstallations:
    """The OAuth settings for AsyncApp and the stores behind them, on DATABASE_URL."""
    assert settings.slack_client_id and settings.slack_client_secret
    engine = store_engine(settings.database_url)
    store = InstallationStore(settings.slack_client_id, engine)
    states = AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        # /slack/install sends the admin straight to Slack's consent page.
        install_page_rendering_enabled=False,
        redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorization_url(settings),
        installation_store=store,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
    )
    if isinstance(oauth.authorize, AsyncInstallationStoreAuthorize):
        # Installations come through the store's short cache (CACHE_SECONDS); auth.test runs
        # once per token rather than once per request.
        oauth.authorize.cache_enabled = True
    return SlackInstallations(engine, store, states, oauth)
