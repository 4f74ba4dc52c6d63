"""Fake Discord (REST + gateway) package; import from tests.fakes.discord_fake."""
