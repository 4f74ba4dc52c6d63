"""Records of onboarding: join codes, roster entries, role requests and queued grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
