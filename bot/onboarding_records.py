"""Records of onboarding: join codes, roster entries, role requests and queued grants."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

# Welcomes posted in #welcome because the member's DMs were closed, counted per day (a JSON
# object "YYYY-MM-DD" -> count in the group's kv), for staff in `/alumni stats`.
WELCOME_FALLBACKS_KEY = "onboarding.welcome_fallbacks"


def fallbacks_between(raw: str | None, start: date, end: date) -> int:
    """Welcomes that fell back to #welcome on days in [start, end)."""
    days: dict[str, int] = json.loads(raw) if raw else {}
    return sum(n for d, n in days.items() if start <= date.fromisoformat(d) < end)


def count_fallback(raw: str | None, day: date) -> str:
    """The stored counts with one more welcome on `day`."""
    days: dict[str, int] = json.loads(raw) if raw else {}
    days[day.isoformat()] = days.get(day.isoformat(), 0) + 1
    return json.dumps(days, sort_keys=True)


# The states of a code's use (invitation_uses.state): "granting" while the platform is being
# told, "pending-platform" once it refused (the only state in which entering the code again
# finishes it), "granted" once it accepted, "revoked" when staff took the roles away first.
GRANTING = "granting"
PENDING_PLATFORM = "pending-platform"


@dataclass(frozen=True)
class Invitation:
    """A join code: for a cohort (from staff) or personal (from a member)."""

    id: int
    group_id: str
    code: str
    kind: str
    cohort_id: int | None
    role_key: str
    max_uses: int
    uses: int
    expires_at: datetime | None
    created_by: str | None
    created_at: datetime
    revoked: bool = False


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


@dataclass(frozen=True)
class RoleRequest:
    """A self-chosen trusted role waiting for (or decided by) staff."""

    id: int
    group_id: str
    user_id: str
    role_key: str
    cohort_id: int | None
    status: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    review_channel_id: str | None = None
    review_message_id: str | None = None


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
