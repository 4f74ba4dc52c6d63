"""Attacks on the bot, each kept as a test so that it keeps holding."""
