"""Weekly discussion questions (the bank in questions.toml ships as package data).

The cog is `bot.cogs.prompts.cog.PromptsCog`; this package imports nothing, so the core's
ports can import the feature's port without loading the cog.
"""
