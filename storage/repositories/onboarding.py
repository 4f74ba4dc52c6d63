"""Cohorts, join codes, rosters, role requests, code attempts and the paced grant queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, insert, select, update

from bot.domain import Cohort
from bot.onboarding_records import Invitation, QueuedGrant, RoleChange, RoleRequest, RosterEntry
from storage.models import (
    CodeAttemptRow,
    CohortRow,
    GrantQueueRow,
    InvitationRow,
    InvitationUseRow,
    MemberRow,
    RoleRequestRow,
    RosterEntryRow,
)
from storage.repositories.base import Repository, _count, as_record


def _cohort(row: CohortRow) -> Cohort:
    return as_record(Cohort, row)


def _invitation(row: InvitationRow) -> Invitation:
    return as_record(Invitation, row)


def _roster(row: RosterEntryRow) -> RosterEntry:
    return as_record(RosterEntry, row)


def _request(row: RoleRequestRow) -> RoleRequest:
    return as_record(RoleRequest, row)


class SqlOnboardingRepository(Repository):
    """Everything onboarding stores, over the unit of work's session."""

    # -- cohorts ----------------------------------------------------------------------------

    async def add_cohort(
        self,
        group_id: str,
        program: str,
        year: int,
        name: str,
        graduates_on: date | None,
        by: str | None,
        now: datetime,
    ) -> Cohort | None:
        """Store a new cohort; None if that programme and year exist already."""
        result = await self.session.execute(
            self.insert_ignore(CohortRow)
            .values(
                group_id=group_id,
                program=program,
                year=year,
                name=name,
                graduates_on=graduates_on,
                created_by=by,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        if not _count(result):
            return None
        row = await self.session.scalar(
            select(CohortRow).where(
                CohortRow.group_id == group_id, CohortRow.program == program, CohortRow.year == year
            )
        )
        return _cohort(row) if row else None

    async def cohorts(self, group_id: str) -> list[Cohort]:
        """Every cohort, oldest first."""
        rows = await self.session.scalars(
            select(CohortRow).where(CohortRow.group_id == group_id).order_by(CohortRow.id)
        )
        return [_cohort(r) for r in rows]

    async def cohort(self, group_id: str, cohort_id: int) -> Cohort | None:
        """One cohort."""
        row = await self.session.get(CohortRow, cohort_id)
        return _cohort(row) if row is not None and row.group_id == group_id else None

    async def mark_graduated(self, group_id: str, cohort_id: int, now: datetime) -> bool:
        """Compare-and-set on graduated_at, so a graduation happens exactly once."""
        result = await self.session.execute(
            update(CohortRow)
            .where(
                CohortRow.group_id == group_id,
                CohortRow.id == cohort_id,
                CohortRow.graduated_at.is_(None),
            )
            .values(graduated_at=now)
        )
        return _count(result)

    async def set_member_cohort(self, group_id: str, user_id: str, cohort_id: int) -> None:
        """Put a member in a cohort."""
        await self.session.execute(
            update(MemberRow)
            .where(MemberRow.group_id == group_id, MemberRow.user_id == user_id)
            .values(cohort_id=cohort_id)
        )

    async def member_cohort(self, group_id: str, user_id: str) -> int | None:
        """The member's cohort id."""
        return await self.session.scalar(
            select(MemberRow.cohort_id).where(
                MemberRow.group_id == group_id, MemberRow.user_id == user_id
            )
        )

    async def cohort_member_ids(self, group_id: str, cohort_id: int) -> list[str]:
        """User ids in a cohort, including members who left."""
        rows = await self.session.scalars(
            select(MemberRow.user_id)
            .where(MemberRow.group_id == group_id, MemberRow.cohort_id == cohort_id)
            .order_by(MemberRow.user_id)
        )
        return list(rows)

    async def members_by_email(self, group_id: str, emails: Sequence[str]) -> dict[str, str]:
        """Lower-cased email -> user id of members in the group now."""
        wanted = {e.lower() for e in emails}
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(MemberRow.email, MemberRow.user_id).where(
                MemberRow.group_id == group_id,
                MemberRow.left_at.is_(None),
                func.lower(MemberRow.email).in_(wanted),
            )
        )
        return {str(email).lower(): user_id for email, user_id in rows}

    # -- invitations ------------------------------------------------------------------------

    async def add_invitation(
        self,
        group_id: str,
        code: str,
        kind: str,
        cohort_id: int | None,
        role_key: str,
        max_uses: int,
        expires_at: datetime | None,
        by: str | None,
        now: datetime,
    ) -> Invitation:
        """Store a new code."""
        row = InvitationRow(
            group_id=group_id,
            code=code,
            kind=kind,
            cohort_id=cohort_id,
            role_key=role_key,
            max_uses=max_uses,
            uses=0,
            expires_at=expires_at,
            created_by=by,
            created_at=now,
            revoked=False,
        )
        self.session.add(row)
        await self.session.flush()
        return _invitation(row)

    async def invitation(self, group_id: str, code: str) -> Invitation | None:
        """A code of the group (codes are stored upper case)."""
        row = await self.session.scalar(
            select(InvitationRow).where(
                InvitationRow.group_id == group_id, InvitationRow.code == code.upper()
            )
        )
        return _invitation(row) if row else None

    async def invitation_by_id(self, group_id: str, invitation_id: int) -> Invitation | None:
        """A code by id."""
        row = await self.session.get(InvitationRow, invitation_id)
        return _invitation(row) if row is not None and row.group_id == group_id else None

    async def has_used(self, invitation_id: int, user_id: str) -> bool:
        """True if the member already redeemed the code."""
        found = await self.session.scalar(
            select(InvitationUseRow.id).where(
                InvitationUseRow.invitation_id == invitation_id,
                InvitationUseRow.user_id == user_id,
            )
        )
        return found is not None

    async def use_invitation(
        self, group_id: str, invitation_id: int, user_id: str, now: datetime
    ) -> bool:
        """Conditional increment, so two members racing for the last use cannot both win."""
        result = await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.id == invitation_id,
                InvitationRow.uses < InvitationRow.max_uses,
                InvitationRow.revoked.is_(False),
            )
            .values(uses=InvitationRow.uses + 1)
        )
        if not _count(result):
            return False
        await self.session.execute(
            self.insert_ignore(InvitationUseRow)
            .values(invitation_id=invitation_id, group_id=group_id, user_id=user_id, used_at=now)
            .on_conflict_do_nothing()
        )
        return True

    async def code_uses(self, group_id: str, cohort_id: int) -> int:
        """Redemptions of a cohort's codes."""
        count = await self.session.scalar(
            select(func.count(InvitationUseRow.id))
            .join(InvitationRow, InvitationRow.id == InvitationUseRow.invitation_id)
            .where(InvitationRow.group_id == group_id, InvitationRow.cohort_id == cohort_id)
        )
        return int(count or 0)

    # -- roster -----------------------------------------------------------------------------

    async def add_roster(
        self,
        group_id: str,
        cohort_id: int,
        entries: Sequence[tuple[str, str]],
        role_key: str,
        invitation_id: int | None,
    ) -> int:
        """Insert entries in one statement; duplicates of earlier imports are ignored."""
        if not entries:
            return 0
        before = await self._roster_count(group_id, cohort_id)
        await self.session.execute(
            self.insert_ignore(RosterEntryRow)
            .values(
                [
                    {
                        "group_id": group_id,
                        "cohort_id": cohort_id,
                        "email": email.lower(),
                        "name": name,
                        "role_key": role_key,
                        "invitation_id": invitation_id,
                    }
                    for name, email in entries
                ]
            )
            .on_conflict_do_nothing()
        )
        return await self._roster_count(group_id, cohort_id) - before

    async def _roster_count(self, group_id: str, cohort_id: int) -> int:
        count = await self.session.scalar(
            select(func.count(RosterEntryRow.id)).where(
                RosterEntryRow.group_id == group_id, RosterEntryRow.cohort_id == cohort_id
            )
        )
        return int(count or 0)

    async def roster(self, group_id: str, cohort_id: int) -> list[RosterEntry]:
        """A cohort's roster in import order."""
        rows = await self.session.scalars(
            select(RosterEntryRow)
            .where(RosterEntryRow.group_id == group_id, RosterEntryRow.cohort_id == cohort_id)
            .order_by(RosterEntryRow.id)
        )
        return [_roster(r) for r in rows]

    async def unmatched_roster_for(self, group_id: str, email: str) -> list[RosterEntry]:
        """Entries waiting for this email, newest cohort first."""
        rows = await self.session.scalars(
            select(RosterEntryRow)
            .where(
                RosterEntryRow.group_id == group_id,
                RosterEntryRow.email == email.lower(),
                RosterEntryRow.matched_user_id.is_(None),
            )
            .order_by(RosterEntryRow.cohort_id.desc())
        )
        return [_roster(r) for r in rows]

    async def match_roster(self, entry_id: int, user_id: str, now: datetime) -> bool:
        """Mark an entry matched, once."""
        result = await self.session.execute(
            update(RosterEntryRow)
            .where(RosterEntryRow.id == entry_id, RosterEntryRow.matched_user_id.is_(None))
            .values(matched_user_id=user_id, matched_at=now)
        )
        return _count(result)

    # -- code attempts ----------------------------------------------------------------------

    async def record_attempt(self, group_id: str, user_id: str, ok: bool, now: datetime) -> None:
        """Remember a code entry."""
        self.session.add(CodeAttemptRow(group_id=group_id, user_id=user_id, ok=ok, at=now))
        await self.session.flush()

    async def failed_attempts_since(self, group_id: str, user_id: str, since: datetime) -> int:
        """Wrong codes since a time."""
        count = await self.session.scalar(
            select(func.count(CodeAttemptRow.id)).where(
                CodeAttemptRow.group_id == group_id,
                CodeAttemptRow.user_id == user_id,
                CodeAttemptRow.ok.is_(False),
                CodeAttemptRow.at >= since,
            )
        )
        return int(count or 0)

    # -- role requests ----------------------------------------------------------------------

    async def add_request(
        self, group_id: str, user_id: str, role_key: str, cohort_id: int | None, now: datetime
    ) -> RoleRequest:
        """Store a pending request."""
        row = RoleRequestRow(
            group_id=group_id,
            user_id=user_id,
            role_key=role_key,
            cohort_id=cohort_id,
            status="pending",
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _request(row)

    async def request(self, group_id: str, request_id: int) -> RoleRequest | None:
        """One request."""
        row = await self.session.get(RoleRequestRow, request_id)
        return _request(row) if row is not None and row.group_id == group_id else None

    async def pending_request(self, group_id: str, user_id: str) -> RoleRequest | None:
        """The member's pending request."""
        row = await self.session.scalar(
            select(RoleRequestRow).where(
                RoleRequestRow.group_id == group_id,
                RoleRequestRow.user_id == user_id,
                RoleRequestRow.status == "pending",
            )
        )
        return _request(row) if row else None

    async def pending_count(self, group_id: str, cohort_id: int | None = None) -> int:
        """Pending requests naming a cohort (None: all of the group's)."""
        query = select(func.count(RoleRequestRow.id)).where(
            RoleRequestRow.group_id == group_id, RoleRequestRow.status == "pending"
        )
        if cohort_id is not None:
            query = query.where(RoleRequestRow.cohort_id == cohort_id)
        count = await self.session.scalar(query)
        return int(count or 0)

    async def set_request_message(self, request_id: int, channel_id: str, message_id: str) -> None:
        """Remember the review post."""
        await self.session.execute(
            update(RoleRequestRow)
            .where(RoleRequestRow.id == request_id)
            .values(review_channel_id=channel_id, review_message_id=message_id)
        )

    async def decide_request(
        self, group_id: str, request_id: int, status: str, by: str, now: datetime
    ) -> bool:
        """Compare-and-set from pending, so two staff pressing at once decide once."""
        result = await self.session.execute(
            update(RoleRequestRow)
            .where(
                RoleRequestRow.group_id == group_id,
                RoleRequestRow.id == request_id,
                RoleRequestRow.status == "pending",
            )
            .values(status=status, decided_by=by, decided_at=now)
        )
        return _count(result)

    # -- grant queue ------------------------------------------------------------------------

    async def enqueue(
        self, group_id: str, batch: str, changes: Sequence[RoleChange], now: datetime
    ) -> None:
        """Insert every change in one statement."""
        if not changes:
            return
        await self.session.execute(
            insert(GrantQueueRow),
            [
                {
                    "group_id": group_id,
                    "batch": batch,
                    "user_id": c.user_id,
                    "add_roles": {
                        "add": list(c.add),
                        "remove": list(c.remove),
                        "source": c.source,
                        "by": c.by,
                    },
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for c in changes
            ],
        )

    async def pending_grants(
        self, group_id: str, batch: str | None, limit: int, after: int = 0
    ) -> list[QueuedGrant]:
        """The oldest pending changes with an id above `after`."""
        query = select(GrantQueueRow).where(
            GrantQueueRow.group_id == group_id,
            GrantQueueRow.status == "pending",
            GrantQueueRow.id > after,
        )
        if batch is not None:
            query = query.where(GrantQueueRow.batch == batch)
        rows = await self.session.scalars(query.order_by(GrantQueueRow.id).limit(limit))
        out = []
        for r in rows:
            spec = r.add_roles or {}
            change = RoleChange(
                user_id=r.user_id,
                add=tuple(spec.get("add", ())),
                remove=tuple(spec.get("remove", ())),
                source=str(spec.get("source", "queue")),
                by=spec.get("by"),
            )
            out.append(QueuedGrant(r.id, r.batch, change, r.attempts))
        return out

    async def finish_grant(self, grant_id: int, now: datetime) -> None:
        """Mark a change done."""
        await self.session.execute(
            update(GrantQueueRow)
            .where(GrantQueueRow.id == grant_id)
            .values(status="done", done_at=now)
        )

    async def fail_grant(self, grant_id: int, max_attempts: int) -> None:
        """Count a failure; a row that keeps failing stops blocking the queue."""
        row = await self.session.get(GrantQueueRow, grant_id)
        if row is None:
            return
        row.attempts += 1
        if row.attempts >= max_attempts:
            row.status = "failed"
        await self.session.flush()

    async def batch_progress(self, group_id: str, batch: str) -> tuple[int, int]:
        """(done, total) of a batch: rows that took effect, and all its rows."""
        rows = await self.session.execute(
            select(GrantQueueRow.status, func.count(GrantQueueRow.id))
            .where(GrantQueueRow.group_id == group_id, GrantQueueRow.batch == batch)
            .group_by(GrantQueueRow.status)
        )
        counts = {status: int(n) for status, n in rows}
        total = sum(counts.values())
        return counts.get("done", 0), total
