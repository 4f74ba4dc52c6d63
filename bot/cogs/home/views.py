"""A home as a message: the title, the member's lines, and the commands as one field."""

from __future__ import annotations

from bot.cogs.home.records import Home
from bot.domain import Language
from bot.i18n import t
from bot.messages import OutgoingMessage


def home_message(lang: Language, home: Home) -> OutgoingMessage:
    """The home as the platforms draw it (Slack: a header, a section, the commands below)."""
    lines = [
        t(lang, "home.roles", roles=", ".join(home.roles))
        if home.roles
        else t(lang, "home.no_roles"),
        t(lang, "home.level", level=t(lang, f"home.levels.{home.level.value}")),
        *home.notes,
    ]
    usage = "\n".join(f"`{c.usage}`: {t(lang, c.help_key)}" for c in home.commands)
    return OutgoingMessage(
        "\n".join(lines), title=t(lang, "home.title"), fields=((t(lang, "home.commands"), usage),)
    )
