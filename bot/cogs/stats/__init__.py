"""Numbers that show whether the group talks: message counts, `/alumni stats`, a weekly digest.

The cog is `bot.cogs.stats.cog.StatsCog`; this package imports nothing, so the core's ports
can import the feature's port without loading the cog.
"""
