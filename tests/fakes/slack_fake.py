"""Fake Slack for tests; the implementation lives in the `tests.fakes.slack` package."""

from tests.fakes.slack import (
    Channel,
    Delivery,
    FakeSlack,
    RateLimit,
    SlackDriver,
    SlackError,
    User,
    sign,
)

__all__ = [
    "Channel",
    "Delivery",
    "FakeSlack",
    "RateLimit",
    "SlackDriver",
    "SlackError",
    "User",
    "sign",
]
