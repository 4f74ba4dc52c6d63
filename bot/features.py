"""Every feature of the bot, in the order they hear events; `load_all` adds them to a Bot."""

from __future__ import annotations

from bot.cogs.members import MembersCog
from bot.cogs.onboarding import OnboardingCog
from bot.cogs.pairs import PairsCog
from bot.cogs.posts.cog import PostsCog
from bot.cogs.privacy import PrivacyCog
from bot.cogs.profiles import ProfilesCog
from bot.cogs.prompts.cog import PromptsCog
from bot.cogs.setup import SetupCog
from bot.cogs.stats.cog import StatsCog
from bot.core import Bot

# Onboarding sees a join before MembersCog records it, to tell a newcomer from a replay.
COGS = (
    SetupCog,
    OnboardingCog,
    MembersCog,
    PromptsCog,
    PostsCog,
    StatsCog,
    ProfilesCog,
    PairsCog,
    PrivacyCog,
)


def load_all(bot: Bot) -> Bot:
    """Add every feature to the bot."""
    for cog in COGS:
        bot.add_cog(cog(bot))
    return bot
