"""Fake Slack for tests; the implementation lives in the `tests.fakes.slack` package."""

from tests.fakes.slack import (
    ApiCall,
    Channel,
    Delivery,
    FakeSlack,
    FakeTeam,
    RateLimit,
    SlackDriver,
    SlackError,
    User,
    sign,
)

__all__ = [
    "ApiCall",
    "Channel",
    "Delivery",
    "FakeSlack",
    "FakeTeam",
    "RateLimit",
    "SlackDriver",
    "SlackError",
    "User",
    "sign",
]
