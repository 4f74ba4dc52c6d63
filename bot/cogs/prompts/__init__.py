"""Weekly discussion questions (the bank in questions.toml ships as package data)."""

from __future__ import annotations

from bot.cogs.prompts.cog import PromptsCog

__all__ = ["PromptsCog"]
