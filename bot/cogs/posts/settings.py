"""The posts feature's per-group settings."""

from __future__ import annotations

from pydantic import Field

from bot.group_settings import FeatureSettings


class PostsSettings(FeatureSettings):
    """How long sales, borrow requests and rentals without an end date stay open (a rental
    with one is open through its period)."""

    namespace = "posts"
    listing_days: int = Field(default=30, ge=1, le=365)
