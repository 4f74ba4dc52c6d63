"""Features of the bot; `load_all` adds every cog to a Bot."""

from __future__ import annotations

from bot.cogs.members import MembersCog
from bot.cogs.posts import PostsCog
from bot.cogs.setup import SetupCog
from bot.cogs.stats import StatsCog
from bot.core import Bot

COGS = (SetupCog, MembersCog, PostsCog, StatsCog)


def load_all(bot: Bot) -> Bot:
    """Add every feature to the bot."""
    for cog in COGS:
        bot.add_cog(cog(bot))
    return bot
