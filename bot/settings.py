"""One Settings object, read from the environment and `.env` when the composition root asks."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain import Language


class Settings(BaseSettings):
    """Every setting of the bot; secrets are SecretStr so they never print."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///data/alumnibot.db"
    data_dir: Path = Path("data")
    language: Language = Language.EN
    timezone: str = "Europe/Oslo"
    log_level: str = "INFO"

    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_invite_link: str | None = None
    port: int = 3000

    # -- Email (bot/cogs/mail, adapters/mail) -------------------------------------------------
    # ALUMNIBOT_SMTP_URL: smtp://user:password@host:587 (STARTTLS) or smtps://...:465 (TLS from
    # the start); a SecretStr, as it carries the password. Unset: emails are written as .eml
    # files to <data_dir>/outbox/ and reach nobody.
    smtp_url: SecretStr | None = Field(default=None, validation_alias="ALUMNIBOT_SMTP_URL")
    mail_from: str | None = Field(default=None, validation_alias="ALUMNIBOT_MAIL_FROM")
    # Emails per minute through SMTP, across every process of the bot.
    mail_rate: float = Field(default=30.0, gt=0, validation_alias="ALUMNIBOT_MAIL_RATE")
    # The dashboard's public https URL: emails then carry a one-click unsubscribe link.
    public_url: str | None = Field(default=None, validation_alias="ALUMNIBOT_PUBLIC_URL")

    @property
    def platform(self) -> str:
        """Which workspace to start: discord, slack, or local when no token is set."""
        if self.discord_token is not None and self.discord_token.get_secret_value():
            return "discord"
        if self.slack_bot_token is not None and self.slack_bot_token.get_secret_value():
            return "slack"
        if self.slack_client_id and self.slack_client_secret is not None:
            # Many workspaces (OAuth): each installation brings its own bot token.
            return "slack"
        return "local"
