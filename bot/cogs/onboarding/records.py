"""Records of onboarding: join codes, roster entries, role requests, queued grants and the
results its use cases return."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.domain import Cohort, Member, RoleRecord

# Welcomes posted in #welcome because the member's DMs were closed, counted per day (a JSON
# object "YYYY-MM-DD" -> count in the group's kv), for staff in `/alumni stats`.
WELCOME_FALLBACKS_KEY = "onboarding.welcome_fallbacks"

_COHORT_PREFIX = "cohort:"
_GRADUATION_PREFIX = "graduation:"


def fallbacks_between(raw: str | None, start: date, end: date) -> int:
    """Welcomes that fell back to #welcome on days in [start, end)."""
    days: dict[str, int] = json.loads(raw) if raw else {}
    return sum(n for d, n in days.items() if start <= date.fromisoformat(d) < end)


def count_fallback(raw: str | None, day: date) -> str:
    """The stored counts with one more welcome on `day`."""
    days: dict[str, int] = json.loads(raw) if raw else {}
    days[day.isoformat()] = days.get(day.isoformat(), 0) + 1
    return json.dumps(days, sort_keys=True)


def cohort_key(cohort_id: int) -> str:
    """The roles-table key of a cohort's role."""
    return f"{_COHORT_PREFIX}{cohort_id}"


def cohort_of(role_key: str) -> int | None:
    """The cohort whose role this key names; None for any other role."""
    rest = role_key.removeprefix(_COHORT_PREFIX)
    return int(rest) if rest != role_key and rest.isdigit() else None


def graduation_batch(cohort_id: int) -> str:
    """The grant-queue batch of a cohort's graduation."""
    return f"{_GRADUATION_PREFIX}{cohort_id}"


def graduating_cohort(batch: str) -> int | None:
    """The cohort a graduation batch graduates; None for any other batch."""
    rest = batch.removeprefix(_GRADUATION_PREFIX)
    return int(rest) if rest != batch and rest.isdigit() else None


class CodeKind(StrEnum):
    """Who a join code is for: a cohort (made by staff), a member's friends, or one roster
    entry (its personal invitation by email, made by bot/cogs/mail/invitations.py)."""

    COHORT = "cohort"
    FRIEND = "friend"
    PERSONAL = "roster"


class UseState(StrEnum):
    """A member's use of a code (invitation_uses.state).

    "granting" while the platform is being told, "pending-platform" once it refused (the only
    state in which entering the code again finishes it), "granted" once it accepted, "revoked"
    when staff took the roles away first.
    """

    GRANTING = "granting"
    PENDING_PLATFORM = "pending-platform"
    GRANTED = "granted"
    REVOKED = "revoked"


class RequestStatus(StrEnum):
    """Where a role request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class Verdict(StrEnum):
    """What staff pressed on a role request (the value of its buttons)."""

    APPROVE = "approve"
    DENY = "deny"

    @property
    def status(self) -> RequestStatus:
        """The request's status once decided so."""
        return RequestStatus.APPROVED if self is Verdict.APPROVE else RequestStatus.DENIED


@dataclass(frozen=True)
class Invitation:
    """A join code: for a cohort (from staff) or personal (from a member)."""

    id: int
    group_id: str
    code: str
    kind: CodeKind
    cohort_id: int | None
    role_key: str
    max_uses: int
    uses: int
    expires_at: datetime | None
    created_by: str | None
    created_at: datetime
    revoked: bool = False

    @property
    def role_keys(self) -> tuple[str, ...]:
        """The roles the code gives: its role, and its cohort's."""
        return (self.role_key,) + ((cohort_key(self.cohort_id),) if self.cohort_id else ())


@dataclass(frozen=True)
class RosterEntry:
    """An expected member of a cohort, recognised by email when they join."""

    id: int
    group_id: str
    cohort_id: int
    email: str
    name: str
    role_key: str
    invitation_id: int | None
    matched_user_id: str | None
    matched_at: datetime | None

    @property
    def role_keys(self) -> tuple[str, ...]:
        """The roles a matched member gets: the entry's role and the cohort's."""
        return (self.role_key, cohort_key(self.cohort_id))


@dataclass(frozen=True)
class RosterMatch:
    """A roster entry matched to a member who joined, who made its code, and the group's
    records of the roles it gives (those that exist)."""

    entry: RosterEntry
    inviter: str | None
    roles: dict[str, RoleRecord]


@dataclass(frozen=True)
class RoleRequest:
    """A self-chosen trusted role waiting for (or decided by) staff."""

    id: int
    group_id: str
    user_id: str
    role_key: str
    cohort_id: int | None
    status: RequestStatus
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    review_channel_id: str | None = None
    review_message_id: str | None = None

    @property
    def role_keys(self) -> tuple[str, ...]:
        """The roles an approval gives: the role asked for, and the cohort's if one was named."""
        return (self.role_key,) + ((cohort_key(self.cohort_id),) if self.cohort_id else ())


@dataclass(frozen=True)
class RoleChange:
    """Roles (by key) to add and remove for one member, and where the change came from."""

    user_id: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    source: str = "staff"
    by: str | None = None


@dataclass(frozen=True)
class QueuedGrant:
    """One pending row of the paced grant queue."""

    id: int
    batch: str
    change: RoleChange
    attempts: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class FailedGrant:
    """A queued role change the platform refused in this drain."""

    item: QueuedGrant
    missing_permission: str | None
    detail: str
    role: str | None = None
    transient: bool = False  # the platform failed on its side; retried with backoff
    gave_up: bool = False  # retried for as long as the queue says: given up now


@dataclass
class DrainResult:
    """What one drain of the grant queue did."""

    applied: list[QueuedGrant] = field(default_factory=list)
    failed: list[FailedGrant] = field(default_factory=list)

    @property
    def first_failures(self) -> list[FailedGrant]:
        """Refusals of rows that had not failed before (staff hear of each row once)."""
        return [f for f in self.failed if f.item.attempts == 0]

    @property
    def recovered(self) -> list[QueuedGrant]:
        """Rows that took effect after failing before."""
        return [i for i in self.applied if i.attempts > 0]

    @property
    def given_up(self) -> list[FailedGrant]:
        """Rows retried for as long as the queue retries, and given up in this drain."""
        return [f for f in self.failed if f.gave_up and f.item.attempts > 0]


@dataclass(frozen=True)
class CohortCreated:
    """A cohort made (or, when it existed without its role, its role made again)."""

    cohort: Cohort
    role_repaired: bool = False


@dataclass(frozen=True)
class Archived:
    """A cohort archived, and how many of its codes that still worked were ended with it."""

    cohort: Cohort
    codes_ended: int = 0


@dataclass(frozen=True)
class CohortStatus:
    """How a cohort's onboarding is going."""

    cohort: Cohort
    invited: int
    code_uses: int
    joined: int
    waiting: int
    missing: tuple[str, ...]  # roster emails not joined yet


@dataclass(frozen=True)
class Link:
    """An invite link into the group, or why there is none right now."""

    url: str | None
    failed: bool = False  # the platform refused to make one (the code works with any link)
    refusal: tuple[str, dict[str, Any]] | None = None  # a refusal to show as it is worded
    missing_permission: str | None = None
    role: str | None = None
    days: int | None = None  # how long the link lasts, when shorter than the code


@dataclass(frozen=True)
class InvitePlan:
    """A checked cohort invitation, before anything is stored: the cohort and a chosen code."""

    cohort: Cohort
    code: str | None


@dataclass(frozen=True)
class RosterImport:
    """What a pasted or attached class list gave."""

    added: int
    given: int
    present: int  # already in the group: their roles go through the grant queue now
    invalid: tuple[tuple[int, str], ...]  # (line, text) of lines that are no address


@dataclass(frozen=True)
class CohortInvite:
    """A cohort's code, its link and the roster that came with it."""

    cohort: Cohort
    invitation: Invitation
    link: Link
    roster: RosterImport | None
    batch: str | None  # the grant-queue batch of members already here, if any
    roles: dict[str, RoleRecord]


@dataclass(frozen=True)
class LiveCodes:
    """The codes that still work, and what is needed to name their cohorts, roles and
    makers."""

    codes: tuple[Invitation, ...]
    cohorts: dict[int, Cohort]
    names: dict[str, str]
    roles: dict[str, RoleRecord]
    cohort: Cohort | None = None  # the cohort asked about, if one was


@dataclass(frozen=True)
class FriendInvite:
    """A member's personal code and link."""

    invitation: Invitation
    link: Link


@dataclass(frozen=True)
class Granted:
    """Roles a member now has (from a code, a claim or an approval), and the group's roles to
    name them by."""

    keys: tuple[str, ...]
    roles: dict[str, RoleRecord]


@dataclass(frozen=True)
class RequestSent:
    """A trusted role asked for and posted for staff (when there is a review channel)."""

    request: RoleRequest
    cohort: Cohort | None
    posted: bool


@dataclass(frozen=True)
class Decision:
    """A role request decided by staff."""

    request: RoleRequest
    status: RequestStatus
    requester: str  # their name, as the records have it
    granted: Granted
    gone: bool = False  # the requester has left the group: nothing changed on the platform


@dataclass(frozen=True)
class RoleGrant:
    """A role given or taken by staff."""

    member: Member
    role: RoleRecord
    repaired: bool = False  # the records had it, the platform did not
    kept: Cohort | None = None  # the member's first cohort, kept: staff may move them


@dataclass(frozen=True)
class Whois:
    """What staff see about a member."""

    member: Member
    cohort: Cohort | None
    inviter: str | None
    roles: dict[str, RoleRecord]


@dataclass(frozen=True)
class RoleEvent:
    """A role given (`granted`) or taken from a member: where from, by whom, when."""

    user_id: str
    role_key: str
    granted: bool
    source: str
    by: str | None
    at: datetime


@dataclass(frozen=True)
class RoleHistory:
    """A member's page for staff: who they are, the roles they hold (how each came), and every
    grant and revocation recorded, newest first, with the names to show them by."""

    whois: Whois
    held: tuple[RoleEvent, ...]
    events: tuple[RoleEvent, ...]
    names: dict[str, str]
    # The roles of archived cohorts: no longer given (RoleService.grant refuses them).
    archived: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HomeFacts:
    """Onboarding's lines on a member's home view: their cohort; for staff, requests waiting."""

    cohort: Cohort | None
    pending: int


class JoinKind(StrEnum):
    """How a join was welcomed."""

    ROSTER = "roster"  # recognised by email: roles at once
    BACK = "back"  # returned: the roles they had are given back
    NEW = "new"  # the welcome with its choices


@dataclass(frozen=True)
class Joined:
    """A join recorded and welcomed (None is returned for replays and account changes)."""

    member: Member
    kind: JoinKind
    granted: Granted | None = None
