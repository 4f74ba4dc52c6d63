"""Fake Discord for tests: import FakeDiscord and running_fake_discord from here.

See tests/fakes/DISCORD_FAKE.md for usage.
"""

from __future__ import annotations

from tests.fakes.discord.core import FakeDiscord, running_fake_discord
from tests.fakes.discord.drivers import FakeChannelRef, FakeRoleRef, FakeUpload, FakeUser
from tests.fakes.discord.state import FakeGuild, FakeInteraction, RecordedRequest

__all__ = [
    "FakeChannelRef",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeRoleRef",
    "FakeUpload",
    "FakeUser",
    "RecordedRequest",
    "running_fake_discord",
]
