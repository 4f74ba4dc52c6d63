"""The posts feature's per-group settings."""

from __future__ import annotations

from pydantic import Field

from bot.group_settings import FeatureSettings


class PostsSettings(FeatureSettings):
    """How long rentals, sales and borrow requests stay open."""

    namespace = "posts"
    listing_days: int = Field(default=30, ge=1, le=365)
