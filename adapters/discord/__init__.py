"""Discord adapter: the Workspace port and event translation on discord.py."""
