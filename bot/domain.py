"""Domain records the repositories return: plain frozen dataclasses, no ORM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.messages import Posting, Visibility


class Language(StrEnum):
    """Languages a group can choose."""

    EN = "en"
    NB = "nb"


class Permission(StrEnum):
    """Who may run a command; ordered member < staff < admin."""

    MEMBER = "member"
    STAFF = "staff"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Order for comparisons."""
        return ("member", "staff", "admin").index(self.value)


class TrustedRole(StrEnum):
    """Roles with meaning to the bot; student, alumni and staff are trusted."""

    STUDENT = "student"
    ALUMNI = "alumni"
    STAFF = "staff"
    INDUSTRY = "industry"
    DISCUSSION = "discussion"


def known_timezone(name: str) -> str:
    """The name if it is an IANA timezone ("Europe/Oslo"); ValueError if not."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a timezone; use a name like Europe/Oslo") from exc
    return name


@dataclass(frozen=True)
class Actor:
    """Who asks a service to act: the platform's user id and name, and the level the core
    established for them (from the platform's admin flag and the bot's own records)."""

    id: str
    name: str
    permission: Permission

    @property
    def is_staff(self) -> bool:
        """Staff or admin."""
        return self.permission.rank >= Permission.STAFF.rank


TRUSTED_ROLES = frozenset({TrustedRole.STUDENT, TrustedRole.ALUMNI, TrustedRole.STAFF})


@dataclass(frozen=True)
class Group:
    """One community: a Discord guild, a Slack workspace or the local workspace."""

    id: str
    platform: str
    language: Language
    timezone: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)
    created_at: datetime | None = None


@dataclass(frozen=True)
class Category:
    """A kind of post with its channel."""

    group_id: str
    key: str
    name: str
    description: str
    channel_id: str | None
    posting: Posting = Posting.MEMBERS
    visibility: Visibility = Visibility.EVERYONE
    listing: bool = False
    position: int = 0
    removed: bool = False
    builtin: bool = True


@dataclass(frozen=True)
class RoleRecord:
    """A role the bot manages and its platform id."""

    group_id: str
    key: str
    name: str
    platform_id: str | None


@dataclass(frozen=True)
class Member:
    """A member of a group as the bot knows them."""

    group_id: str
    user_id: str
    name: str
    email: str | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None
    invited_by: str | None = None
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cohort:
    """A class of students: "Fashion and Production 2026"."""

    id: int
    group_id: str
    program: str
    year: int
    name: str
    graduates_on: date | None
    graduated_at: datetime | None = None
    archived_at: datetime | None = None
