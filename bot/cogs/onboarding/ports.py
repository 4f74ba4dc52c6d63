"""What onboarding needs from storage, by concern: cohorts, codes, rosters, requests, the queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from bot.cogs.onboarding.records import (
    CodeKind,
    Invitation,
    QueuedGrant,
    RequestStatus,
    RoleChange,
    RoleEvent,
    RoleRequest,
    RosterEntry,
    RosterMatch,
    UseState,
)
from bot.domain import Cohort, Member


class CohortRepository(Protocol):
    """Cohorts and which cohort each member belongs to."""

    async def add(
        self,
        group_id: str,
        program: str,
        year: int,
        name: str,
        graduates_on: date | None,
        by: str | None,
        now: datetime,
    ) -> Cohort | None:
        """Store a new cohort; None if the group already has one for that programme and year."""

    async def for_group(self, group_id: str) -> list[Cohort]:
        """Every cohort of the group, oldest first."""

    async def get(self, group_id: str, cohort_id: int) -> Cohort | None:
        """One cohort."""

    async def set_graduation(self, group_id: str, cohort_id: int, graduates_on: date) -> bool:
        """Set or change the graduation date of a cohort that has not graduated; False if
        it has."""

    async def archive(self, group_id: str, cohort_id: int, now: datetime) -> bool:
        """Hide a cohort from lists; False if it was archived already."""

    async def rename(self, group_id: str, cohort_id: int, name: str) -> bool:
        """Give a cohort a new display name (programme and year stay); False if another
        cohort of the group has it."""

    async def mark_graduated(self, group_id: str, cohort_id: int, now: datetime) -> bool:
        """Record the graduation; False if it was already recorded (exactly once)."""

    async def set_member_cohort(self, group_id: str, user_id: str, cohort_id: int) -> None:
        """Put a member in a cohort (staff moved them)."""

    async def enter_cohort(self, group_id: str, user_id: str, cohort_id: int) -> int | None:
        """Put a member in a cohort unless they are in another already (their first cohort
        decides when they graduate); returns that other cohort's id, else None."""

    async def member_cohort(self, group_id: str, user_id: str) -> int | None:
        """The member's cohort id."""

    async def member_ids(self, group_id: str, cohort_id: int) -> list[str]:
        """User ids of the cohort's members (including those who left)."""

    async def present_by_cohort(self, group_id: str) -> dict[int, int]:
        """Members of each cohort still in the group, in one read."""


class InvitationRepository(Protocol):
    """Join codes, their uses, and the code entries that count toward the lockout."""

    async def add(
        self,
        group_id: str,
        code: str,
        kind: CodeKind,
        cohort_id: int | None,
        role_key: str,
        max_uses: int,
        expires_at: datetime | None,
        by: str | None,
        now: datetime,
    ) -> Invitation:
        """Store a new join code."""

    async def by_code(self, group_id: str, code: str) -> Invitation | None:
        """A code of the group (case-insensitive)."""

    async def get(self, group_id: str, invitation_id: int) -> Invitation | None:
        """A code by id."""

    async def live(self, group_id: str, now: datetime) -> list[Invitation]:
        """The group's shared codes that still work (not revoked, not expired, uses left),
        newest first; a roster's personal codes are not listed (`/alumni cohort status` shows
        each address)."""

    async def revoke(self, group_id: str, invitation_id: int) -> bool:
        """End a code at once; False if it was revoked already."""

    async def revoke_cohort(self, group_id: str, cohort_id: int, now: datetime) -> int:
        """End every code of a cohort that still works, class and personal; how many."""

    async def retire(self, group_id: str, invitation_id: int) -> None:
        """Free a dead code's name for a new code: it is renamed (so nobody can enter it) and
        revoked; its uses and history stay."""

    async def redemption(self, invitation_id: int, user_id: str) -> UseState | None:
        """The state of the member's use of a code; None if never used."""

    async def use(self, group_id: str, invitation_id: int, user_id: str, now: datetime) -> bool:
        """Count one use (as "granting") if any are left and the member never used the code;
        False otherwise. Atomic against parallel redemptions."""

    async def claim_redemption(
        self, invitation_id: int, user_id: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take a use the platform refused (or whose granting was cut off before
        `stale_before`) to finish it; False if granted, revoked or being granted now."""

    async def redemption_done(self, invitation_id: int, user_id: str, accepted: bool) -> None:
        """The platform answered: granting -> granted, or -> pending-platform if it refused."""

    async def revoke_pending_redemptions(
        self, group_id: str, user_id: str, role_keys: Sequence[str]
    ) -> int:
        """Uses still pending that carry one of these roles can no longer be finished."""

    async def set_invited_by(self, group_id: str, user_id: str, inviter: str) -> None:
        """Record who invited a member, unless someone already is."""

    async def cohort_uses(self, group_id: str, cohort_id: int) -> int:
        """How many times codes of a cohort were redeemed."""

    async def uses_by_cohort(self, group_id: str) -> dict[int, int]:
        """`cohort_uses` of every cohort of the group, in one read."""

    async def lock_member(self, group_id: str, user_id: str) -> None:
        """Serialise the member's code entries until the unit of work ends (call it first)."""

    async def record_attempt(self, group_id: str, user_id: str, ok: bool, now: datetime) -> None:
        """Remember a code entry."""

    async def failed_attempts_since(self, group_id: str, user_id: str, since: datetime) -> int:
        """Wrong codes entered by the member since a time."""


class RosterRepository(Protocol):
    """Class lists: who is expected in a cohort, matched by email when they join."""

    async def add(
        self,
        group_id: str,
        cohort_id: int,
        entries: Sequence[tuple[str, str]],
        role_key: str,
        invitation_id: int | None,
    ) -> int:
        """Store (name, email) entries; returns how many were new."""

    async def entries(self, group_id: str, cohort_id: int) -> list[RosterEntry]:
        """A cohort's roster."""

    async def tallies(self, group_id: str) -> dict[int, tuple[int, list[str]]]:
        """Each cohort's roster size and the addresses not joined yet, in one read."""

    async def members_by_email(self, group_id: str, emails: Sequence[str]) -> dict[str, str]:
        """Lower-cased email -> user id, for members currently in the group."""

    async def match_email(
        self, group_id: str, email: str, user_id: str, now: datetime
    ) -> RosterMatch | None:
        """Match the newest cohort's unmatched entry for this email to the member, once, with
        who made the code it was imported with and the roles it gives; None when no entry
        waits for it."""

    async def admit(self, member: Member, cohort_id: int | None) -> bool:
        """Record a newcomer with their cohort in one statement; False if the member is
        recorded already (a replay, a return, or a first command that came first)."""

    async def match(self, entry_id: int, user_id: str, now: datetime) -> bool:
        """Mark an entry matched; False if it already was."""


class RequestRepository(Protocol):
    """Requests for a trusted role, waiting for staff."""

    async def add(
        self, group_id: str, user_id: str, role_key: str, cohort_id: int | None, now: datetime
    ) -> RoleRequest:
        """Store a pending role request."""

    async def get(self, group_id: str, request_id: int) -> RoleRequest | None:
        """One role request."""

    async def pending_of(self, group_id: str, user_id: str) -> RoleRequest | None:
        """The member's pending request, if any."""

    async def pending_count(self, group_id: str, cohort_id: int | None = None) -> int:
        """Pending requests for a cohort (None: all of the group's)."""

    async def pending_by_cohort(self, group_id: str) -> dict[int, int]:
        """`pending_count` of every cohort of the group, in one read."""

    async def pending(self, group_id: str, limit: int) -> list[RoleRequest]:
        """The group's pending requests, oldest first (the dashboard's approvals page)."""

    async def set_message(self, request_id: int, channel_id: str, message_id: str) -> None:
        """Remember where the request was posted for review."""

    async def decide(
        self, group_id: str, request_id: int, status: RequestStatus, by: str, now: datetime
    ) -> bool:
        """Approve or deny a pending request; False if it was already decided."""


class GrantRepository(Protocol):
    """Role grants recorded, and the paced, resumable queue of bulk role changes (a roster,
    a graduation)."""

    async def record(
        self,
        group_id: str,
        user_id: str,
        keys: Sequence[str],
        source: str,
        by: str | None,
        now: datetime,
    ) -> list[str]:
        """Record grants the platform took, in one statement; returns the keys the member did
        not hold yet."""

    async def log(self, group_id: str, events: Sequence[RoleEvent]) -> None:
        """Keep grants and revocations in the member's role history."""

    async def held(self, group_id: str, user_id: str) -> list[RoleEvent]:
        """The roles a member holds, each with where it came from, by whom, when."""

    async def history(self, group_id: str, user_id: str, limit: int) -> list[RoleEvent]:
        """A member's grants and revocations, newest first."""

    async def enqueue(
        self, group_id: str, batch: str, changes: Sequence[RoleChange], now: datetime
    ) -> None:
        """Add role changes to the queue."""

    async def claim(
        self,
        group_id: str,
        batch: str | None,
        limit: int,
        owner: str,
        now: datetime,
        lease_now: datetime,
        lease_until: datetime,
    ) -> list[QueuedGrant]:
        """Claim the oldest free, due pending changes (of one batch, or of all) for `owner`:
        a row is held by one drain at a time; a lease (real time) frees a dead drain's rows."""

    async def renew(self, owner: str, lease_until: datetime) -> None:
        """Extend the lease of the rows `owner` still holds."""

    async def release(self, owner: str) -> None:
        """Give back the rows `owner` holds but did not finish."""

    async def finish(self, grant_id: int, owner: str, now: datetime) -> bool:
        """Mark a queued change done, if `owner` still holds it."""

    async def fail(self, grant_id: int, owner: str, retry_at: datetime | None) -> None:
        """Count a failed attempt: due again at `retry_at`, or given up when it is None."""

    async def progress(self, group_id: str, batch: str) -> tuple[int, int]:
        """(done, total) rows of a batch: those that took effect, and all."""
