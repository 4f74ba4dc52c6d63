"""Features of the bot, one package each (see docs/ARCHITECTURE.md); bot.features loads them."""
