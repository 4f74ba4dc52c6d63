"""Email: an outbox sent at a steady pace, opt-outs, and the weekly digest by email."""

from bot.cogs.mail.cog import MailCog

__all__ = ["MailCog"]
