"""The group's language and timezone, checked in one place before they are stored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from bot.domain import Language, known_timezone


class GroupBasics(BaseModel):
    """What `/alumni settings` changes: the language members read and the group's timezone."""

    model_config = ConfigDict(frozen=True)
    language: Language = Language.EN
    timezone: str = "Europe/Oslo"

    @field_validator("timezone")
    @classmethod
    def _known(cls, value: str) -> str:
        return known_timezone(value)
