"""The coffee-pairs feature's per-group settings."""

from __future__ import annotations

from pydantic import Field

from bot.group_settings import FeatureSettings

# The range `/alumni pairs every` accepts.
MIN_WEEKS = 1
MAX_WEEKS = 8


class PairsSettings(FeatureSettings):
    """How many weeks pass between rounds (`/alumni pairs every`)."""

    namespace = "pairs"
    every_weeks: int = Field(default=2, ge=MIN_WEEKS, le=MAX_WEEKS)
