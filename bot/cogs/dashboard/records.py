"""Records of the dashboard: sign-in links, sessions, who is looking, and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.cogs.onboarding.records import RoleRequest
from bot.domain import Actor, Group


class Refusal(StrEnum):
    """Why a sign-in link did not sign anybody in (each has its page, in the group's language)."""

    UNKNOWN = "unknown"  # no such link (mistyped, or never issued)
    USED = "used"  # the link signed someone in already: single use
    EXPIRED = "expired"  # older than the link's lifetime
    OTHER_GROUP = "other_group"  # the link was issued in another group than the URL names
    NOT_STAFF = "not_staff"  # the member is no longer staff
    TOO_MANY = "too_many"  # too many failed attempts from this address


@dataclass(frozen=True)
class Link:
    """A sign-in link as stored: only the hash of its token, bound to a group and a member."""

    token_hash: str
    group_id: str
    user_id: str
    user_name: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class Session:
    """A signed-in browser: only the hash of its cookie's token is stored."""

    token_hash: str
    group_id: str
    user_id: str
    user_name: str
    csrf: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class SignedIn:
    """A sign-in that worked: the cookie's token (shown once, never stored) and the session."""

    token: str
    session: Session


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: the group, the staff member as services see them, the session."""

    group: Group
    actor: Actor
    session: Session


@dataclass(frozen=True)
class AuditEntry:
    """One change made in the dashboard: who, what, when, and the change's details."""

    id: int
    group_id: str
    user_id: str | None  # None once the member was erased
    author_name: str
    action: str
    detail: str
    at: datetime


@dataclass(frozen=True)
class Waiting:
    """The onboarding figures the overview shows: requests waiting, cohorts graduating soon."""

    approvals: int
    graduating: tuple[tuple[str, date], ...]


@dataclass(frozen=True)
class WaitingRequest:
    """A role request waiting for staff, with the names a page shows for it."""

    request: RoleRequest
    member: str
    cohort: str | None


@dataclass(frozen=True)
class Outcome:
    """What deciding one request gave: the answer staff would have seen after the button."""

    request_id: int
    text: str


@dataclass(frozen=True)
class Answered:
    """What a command run from the dashboard answered: its texts and the files it attached
    (name, content), read before the command deleted them."""

    texts: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...] = ()
