"""Fake Slack (Web API + Socket Mode) and request-signing driver for tests."""

from .driver import Delivery, SlackDriver, sign
from .server import ApiCall, FakeSlack, OAuthCode, RateLimit
from .state import Channel, SlackError, User
from .team import FakeTeam

__all__ = [
    "ApiCall",
    "Channel",
    "Delivery",
    "FakeSlack",
    "FakeTeam",
    "OAuthCode",
    "RateLimit",
    "SlackDriver",
    "SlackError",
    "User",
    "sign",
]
