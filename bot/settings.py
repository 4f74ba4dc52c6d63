"""One Settings object, read from the environment and `.env` when the composition root asks.

The bot's own settings carry the prefix ALUMNIBOT_ (desktop sessions export LANGUAGE and
friends for gettext, which are not ours); platform credentials keep the names their docs use
(DISCORD_TOKEN, SLACK_BOT_TOKEN, ...), and so do DATABASE_URL and PORT, which hosts set.
Values are checked here, so a bad one is one line at start rather than errors later.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core import CoreConfig
from bot.domain import Language, known_timezone

PREFIX = "ALUMNIBOT_"
# The drivers this build installs; anything else would fail later with a driver error.
DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SLACK_HTTP_PORT = 3000
DASHBOARD_PORT = 8750


def _env(name: str) -> Any:
    """A field read from exactly this variable (no prefix), still settable by field name."""
    return Field(default=None, validation_alias=name)


@dataclass(frozen=True)
class DiscordSettings:
    """What the Discord adapter needs."""

    token: SecretStr | None
    api_url: str | None
    gateway_url: str | None


@dataclass(frozen=True)
class SlackSettings:
    """What the Slack adapter needs; `socket_mode` when an app-level token is set."""

    bot_token: SecretStr | None
    signing_secret: SecretStr | None
    app_token: SecretStr | None
    api_url: str | None
    client_id: str | None
    client_secret: SecretStr | None
    invite_link: str | None

    @property
    def socket_mode(self) -> bool:
        """Events over an outgoing websocket instead of HTTP requests."""
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        """Many workspaces: each installation brings its own bot token."""
        return bool(self.client_id) and self.client_secret is not None


@dataclass(frozen=True)
class WebSettings:
    """The HTTP side: Slack's events (HTTP mode), the health endpoint and the dashboard."""

    port: int | None
    host: str = "0.0.0.0"
    # The bot's own server when Slack's HTTP mode does not run one (ALUMNIBOT_WEB_HOST/PORT).
    web_host: str | None = None
    web_port: int = DASHBOARD_PORT
    public_url: str | None = None

    @property
    def slack_port(self) -> int:
        """Slack's HTTP mode always listens: on PORT, or 3000 without it."""
        return SLACK_HTTP_PORT if self.port is None else self.port

    @property
    def listen(self) -> tuple[str, int]:
        """Where the bot's own server listens: PORT on every interface when a host sets it
        (its router reaches /healthz there), else ALUMNIBOT_WEB_HOST:ALUMNIBOT_WEB_PORT."""
        if self.port is not None:
            return self.web_host or self.host, self.port
        return self.web_host or "127.0.0.1", self.web_port

    def base_url(self, host: str, port: int) -> str:
        """The address put in sign-in links: ALUMNIBOT_PUBLIC_URL, else where it listens."""
        if self.public_url:
            return self.public_url.rstrip("/")
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{shown}:{port}"


class Settings(BaseSettings):
    """Every setting of the bot; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_file=".env",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    # Unset: an SQLite file in `data_dir` (see `_database_in_data_dir`).
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    data_dir: Path = Path("data")
    language: Language = Language.EN
    timezone: str = "Europe/Oslo"
    log_level: str = "INFO"

    discord_token: SecretStr | None = _env("DISCORD_TOKEN")
    discord_api_url: str | None = _env("DISCORD_API_URL")
    discord_gateway_url: str | None = _env("DISCORD_GATEWAY_URL")

    slack_bot_token: SecretStr | None = _env("SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = _env("SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = _env("SLACK_APP_TOKEN")
    slack_api_url: str | None = _env("SLACK_API_URL")
    slack_client_id: str | None = _env("SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = _env("SLACK_CLIENT_SECRET")
    slack_invite_link: str | None = _env("SLACK_INVITE_LINK")
    # Unset: Slack's HTTP mode listens on 3000 and nothing else serves HTTP (see `web`).
    port: int | None = _env("PORT")

    @field_validator(
        "discord_token",
        "discord_api_url",
        "discord_gateway_url",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_api_url",
        "slack_client_id",
        "slack_client_secret",
        "slack_invite_link",
        "port",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """`DISCORD_TOKEN=` in .env means not set; stray spaces around a pasted token go."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        # Hosts (Heroku, Render, Fly) set DATABASE_URL as postgres:// or postgresql:// and do
        # not let it be changed; asyncpg is the only PostgreSQL driver the bot ships.
        for plain in ("postgres://", "postgresql://"):
            if value.startswith(plain):
                value = "postgresql+asyncpg://" + value.removeprefix(plain)
                # libpq's sslmode=require is asyncpg's ssl=require.
                value = value.replace("sslmode=", "ssl=")
        if not value.startswith(DATABASE_SCHEMES):
            scheme = value.split("://", 1)[0] + "://" if "://" in value else repr(value[:20])
            raise ValueError(
                f"{scheme} is not supported; use postgresql+asyncpg://user:password@host/db "
                "or sqlite+aiosqlite:///path/to/file.db"
            )
        if value.startswith("postgresql+asyncpg://") and "sslmode=" in value:
            # libpq's name; asyncpg would fail at the first connection with a TypeError.
            raise ValueError("sslmode= is libpq's; asyncpg takes ssl= (e.g. ?ssl=require)")
        return value

    @model_validator(mode="after")
    def _database_in_data_dir(self) -> Settings:
        """Without DATABASE_URL the SQLite file lives in the bot's own folder beside the rest
        of its state, so ALUMNIBOT_DATA_DIR moves all of it and a new folder is a new group
        (a database left behind in ./data would meet a fresh workspace state)."""
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'alumnibot.db'}"
        return self

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 65535:
            raise ValueError(f"{value} is not a TCP port (0-65535)")
        return value

    @property
    def discord(self) -> DiscordSettings:
        """The Discord adapter's settings."""
        return DiscordSettings(self.discord_token, self.discord_api_url, self.discord_gateway_url)

    @property
    def slack(self) -> SlackSettings:
        """The Slack adapter's settings."""
        return SlackSettings(
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.slack_api_url,
            self.slack_client_id,
            self.slack_client_secret,
            self.slack_invite_link,
        )

    @property
    def web(self) -> WebSettings:
        """The HTTP side's settings."""
        return WebSettings(
            self.port,
            web_host=self.web_host,
            web_port=self.web_port,
            public_url=self.public_url,
        )

    def core(self, **overrides: Any) -> CoreConfig:
        """What the core needs: the defaults of new groups (and, in tests, an instance id)."""
        params: dict[str, Any] = {
            "default_language": self.language,
            "default_timezone": self.timezone,
        }
        # A core setting named like one of ours (data_dir) takes its value from here.
        shared = {f.name for f in dataclasses.fields(CoreConfig)} & set(type(self).model_fields)
        params |= {name: getattr(self, name) for name in shared}
        return CoreConfig(**(params | overrides))

    # -- Email (bot/cogs/mail, adapters/mail) -------------------------------------------------
    # ALUMNIBOT_SMTP_URL: smtp://user:password@host:587 (STARTTLS) or smtps://...:465 (TLS from
    # the start); a SecretStr, as it carries the password. Unset: emails are written as .eml
    # files to <data_dir>/outbox/ and reach nobody.
    smtp_url: SecretStr | None = Field(default=None, validation_alias="ALUMNIBOT_SMTP_URL")
    mail_from: str | None = Field(default=None, validation_alias="ALUMNIBOT_MAIL_FROM")
    # Emails per minute through SMTP, across every process of the bot.
    mail_rate: float = Field(default=30.0, gt=0, validation_alias="ALUMNIBOT_MAIL_RATE")
    # The dashboard's public URL, put in its sign-in links (default: where it listens,
    # http://127.0.0.1:8750); an https one also gives emails a one-click unsubscribe link.
    public_url: str | None = Field(default=None, validation_alias="ALUMNIBOT_PUBLIC_URL")
    # The bot's own web server (dashboard and /healthz) when Slack's HTTP mode does not run
    # one; port 0 picks a free one.
    web_host: str | None = Field(default=None, validation_alias="ALUMNIBOT_WEB_HOST")
    web_port: int = Field(
        default=DASHBOARD_PORT, ge=0, le=65535, validation_alias="ALUMNIBOT_WEB_PORT"
    )

    @property
    def platform(self) -> str:
        """Which workspace to start: discord, slack, or local when no token is set."""
        if self.discord_token is not None:
            return "discord"
        if self.slack_bot_token is not None or self.slack.oauth:
            return "slack"
        return "local"

    @property
    def role(self) -> str | None:
        """The Procfile process this bot runs as: web (Slack over HTTP) or worker.

        Discord and Slack Socket Mode keep an outgoing connection and need no public port:
        worker. Slack's HTTP mode (and OAuth, whose install pages are HTTP) is web. The local
        workspace is neither.
        """
        if self.platform == "discord":
            return "worker"
        if self.platform == "slack":
            slack = self.slack
            return "worker" if slack.socket_mode and not slack.oauth else "web"
        return None

    @property
    def log_level_number(self) -> int:
        """The level for `logging`."""
        return int(getattr(logging, self.log_level))


def env_name(field: str) -> str:
    """The environment variable a field is read from."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else PREFIX + field.upper()


# Fields whose value must never be echoed, even when it is wrong.
_SECRET = {name for name, f in Settings.model_fields.items() if f.annotation == SecretStr | None}


def problems(error: ValidationError) -> list[str]:
    """One line per invalid setting, naming its variable; never a secret's value."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = env_name(field) if field in Settings.model_fields else field
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] != "value_error" and field not in _SECRET:
            # Our own checks quote the value where it is safe; pydantic's messages do not.
            message = f"{str(item['input'])[:40]!r} is invalid: {message}"
        lines.append(f"{name}: {message}")
    return lines
