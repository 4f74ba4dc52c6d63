"""Every feature of the bot, in the order they hear events; `load_all` adds them to a Bot."""

from __future__ import annotations

from bot.cogs.dashboard.cog import DashboardCog
from bot.cogs.home.cog import HomeCog
from bot.cogs.mail.cog import MailCog
from bot.cogs.members.cog import MembersCog
from bot.cogs.onboarding.cog import OnboardingCog
from bot.cogs.pairs.cog import PairsCog
from bot.cogs.posts.cog import PostsCog
from bot.cogs.privacy.cog import PrivacyCog
from bot.cogs.profiles.cog import ProfilesCog
from bot.cogs.prompts.cog import PromptsCog
from bot.cogs.setup.cog import SetupCog
from bot.cogs.stats.cog import StatsCog
from bot.core import Bot

# A service handed to other features' services loads before them: privacy first (every
# feature records through it which of the bot's messages name whom), members before onboarding
# and profiles (they find members through it), mail before stats (the digest goes by email
# too), profiles before pairs.
COGS = (
    SetupCog,
    PrivacyCog,
    MailCog,
    MembersCog,
    OnboardingCog,
    PromptsCog,
    PostsCog,
    StatsCog,
    ProfilesCog,
    PairsCog,
    HomeCog,
    DashboardCog,
)


def load_all(bot: Bot) -> Bot:
    """Add every feature to the bot."""
    for cog in COGS:
        bot.add_cog(cog(bot))
    return bot
