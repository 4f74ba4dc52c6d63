"""Fake Slack (Web API + Socket Mode) and request-signing driver for tests."""

from .driver import Delivery, SlackDriver, sign
from .server import FakeSlack, RateLimit
from .state import Channel, SlackError, User

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
