"""The categories and roles a new group starts with; names and descriptions live in i18n."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Posting, Visibility


@dataclass(frozen=True)
class DefaultCategory:
    """A built-in category; `required` ones other features post into and cannot be removed."""

    key: str
    posting: Posting = Posting.MEMBERS
    visibility: Visibility = Visibility.EVERYONE
    listing: bool = False
    required: bool = False


DEFAULT_CATEGORIES: tuple[DefaultCategory, ...] = (
    DefaultCategory("welcome", required=True),
    DefaultCategory("announcements", posting=Posting.STAFF, required=True),
    DefaultCategory("introductions", required=True),
    DefaultCategory("discussion", required=True),
    DefaultCategory("jobs", listing=True),
    DefaultCategory("rentals", listing=True),
    DefaultCategory("events", listing=True),
    DefaultCategory("marketplace", listing=True),
    DefaultCategory("borrow", listing=True),
    DefaultCategory("showcase"),
    DefaultCategory("articles"),
    DefaultCategory("review", visibility=Visibility.STAFF, required=True),
)
REQUIRED_CATEGORIES = frozenset(c.key for c in DEFAULT_CATEGORIES if c.required)

# student, alumni, staff come only from a code, a roster match or staff approval.
DEFAULT_ROLES: tuple[str, ...] = ("student", "alumni", "staff", "industry", "discussion")
# Roles the bot pings (the weekly question pings the opt-in discussion role): they must be
# mentionable, or the ping notifies nobody on Discord (cohort roles, pinged at graduation, are
# created mentionable too). Setup creates them so and repairs them when they drift.
PINGED_ROLES: frozenset[str] = frozenset({"discussion"})
COHORT_ROLE_PREFIX = "cohort:"
