"""The weekly question's per-group schedule, stored under settings["prompts"]."""

from __future__ import annotations

import datetime as dt
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_serializer, field_validator

from bot.domain import Group
from bot.group_settings import FeatureSettings

DEFAULT_TIMEZONE = "Europe/Oslo"


class PromptsSettings(FeatureSettings):
    """When a group's question goes out: weekday (Monday 0), local time, timezone, paused.

    The JSON is the one the first version stored: `{"day": 0, "time": "10:00", "timezone":
    "Europe/Oslo", "paused": false, "not_before": "2026-08-17T07:00:00+00:00"}`.
    """

    namespace = "prompts"
    day: int = Field(default=0, ge=0, le=6)
    time: dt.time = dt.time(10, 0)
    # None: the group's own timezone (until staff set one for the question).
    timezone: str | None = None
    paused: bool = False
    # No slot before this counts (set when the schedule changes or resumes); None: the group's
    # creation, so setting up a group never posts a slot that passed before it existed.
    not_before: dt.datetime | None = None

    @field_validator("time")
    @classmethod
    def _whole_minutes(cls, value: dt.time) -> dt.time:
        return value.replace(second=0, microsecond=0, tzinfo=None)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_serializer("time")
    def _time_as_stored(self, value: dt.time) -> str:
        return f"{value:%H:%M}"

    @field_serializer("not_before")
    def _not_before_as_stored(self, value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    @classmethod
    def of(cls, group: Group) -> Self:
        """The group's schedule, with its timezone and creation filling what was never set."""
        stored = super().of(group)
        return stored.model_copy(
            update={
                "timezone": stored.timezone or group.timezone or DEFAULT_TIMEZONE,
                "not_before": stored.not_before or group.created_at,
            }
        )

    @property
    def zone(self) -> ZoneInfo:
        """The timezone the slot is in."""
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)

    def slot_in_week_of(self, now: dt.datetime) -> dt.datetime:
        """The slot in the (local) week that contains `now`."""
        local = now.astimezone(self.zone)
        monday = local.date() - dt.timedelta(days=local.weekday())
        return dt.datetime.combine(monday + dt.timedelta(days=self.day), self.time, self.zone)

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        """The next time a question is due."""
        slot = self.slot_in_week_of(now)
        if slot <= now:
            slot = self.slot_in_week_of(now + dt.timedelta(days=7))
        return slot
