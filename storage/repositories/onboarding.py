"""Cohorts, join codes, rosters, role requests, code attempts and the paced grant queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

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
    cohort_key,
)
from bot.domain import Cohort, Member, RoleRecord
from storage.models import (
    CodeAttemptRow,
    CohortRow,
    GrantQueueRow,
    InvitationRow,
    InvitationUseRow,
    MemberRoleRow,
    MemberRow,
    RoleEventRow,
    RoleRequestRow,
    RoleRow,
    RosterEntryRow,
)
from storage.repositories.base import Repository, _count, as_record


def _cohort(row: CohortRow) -> Cohort:
    return as_record(Cohort, row)


def _invitation(row: InvitationRow) -> Invitation:
    return replace(as_record(Invitation, row), kind=CodeKind(row.kind))


def _roster(row: RosterEntryRow) -> RosterEntry:
    return as_record(RosterEntry, row)


def _request(row: RoleRequestRow) -> RoleRequest:
    return replace(as_record(RoleRequest, row), status=RequestStatus(row.status))


class SqlCohortRepository(Repository):
    """Cohorts and which cohort a member is in."""

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

    async def for_group(self, group_id: str) -> list[Cohort]:
        """Every cohort, oldest first."""
        rows = await self.session.scalars(
            select(CohortRow).where(CohortRow.group_id == group_id).order_by(CohortRow.id)
        )
        return [_cohort(r) for r in rows]

    async def get(self, group_id: str, cohort_id: int) -> Cohort | None:
        """One cohort."""
        row = await self.session.get(CohortRow, cohort_id)
        return _cohort(row) if row is not None and row.group_id == group_id else None

    async def set_graduation(self, group_id: str, cohort_id: int, graduates_on: date) -> bool:
        """Conditional on graduated_at being unset, so a graduation that ran is never undone."""
        return await self._while_unset(
            group_id, cohort_id, CohortRow.graduated_at, graduates_on=graduates_on
        )

    async def archive(self, group_id: str, cohort_id: int, now: datetime) -> bool:
        """Compare-and-set on archived_at."""
        return await self._while_unset(group_id, cohort_id, CohortRow.archived_at, archived_at=now)

    async def rename(self, group_id: str, cohort_id: int, name: str) -> bool:
        """A new display name; False if another cohort of the group has it (the unique name
        decides a race: the unit of work is then rolled back by the caller's refusal)."""
        try:
            await self.session.execute(
                update(CohortRow)
                .where(CohortRow.group_id == group_id, CohortRow.id == cohort_id)
                .values(name=name)
            )
        except IntegrityError:
            return False
        return True

    async def mark_graduated(self, group_id: str, cohort_id: int, now: datetime) -> bool:
        """Compare-and-set on graduated_at, so a graduation happens exactly once."""
        return await self._while_unset(
            group_id, cohort_id, CohortRow.graduated_at, graduated_at=now
        )

    async def _while_unset(
        self, group_id: str, cohort_id: int, unset: Any, **values: object
    ) -> bool:
        """Update one cohort only while `unset` is still NULL (one statement, so two processes
        doing it at once change it once); True if this call did."""
        result = await self.session.execute(
            update(CohortRow)
            .where(CohortRow.group_id == group_id, CohortRow.id == cohort_id, unset.is_(None))
            .values(**values)
        )
        return _count(result)

    async def set_member_cohort(self, group_id: str, user_id: str, cohort_id: int) -> None:
        """Put a member in a cohort."""
        await self.session.execute(
            update(MemberRow)
            .where(MemberRow.group_id == group_id, MemberRow.user_id == user_id)
            .values(cohort_id=cohort_id)
        )

    async def enter_cohort(self, group_id: str, user_id: str, cohort_id: int) -> int | None:
        """Put a member in a cohort unless they are in another; returns that other one."""
        result = await self.session.execute(
            update(MemberRow)
            .where(
                MemberRow.group_id == group_id,
                MemberRow.user_id == user_id,
                MemberRow.cohort_id.is_(None),
            )
            .values(cohort_id=cohort_id)
        )
        if _count(result):
            return None
        current = await self.member_cohort(group_id, user_id)
        return current if current != cohort_id else None

    async def member_cohort(self, group_id: str, user_id: str) -> int | None:
        """The member's cohort id."""
        return await self.session.scalar(
            select(MemberRow.cohort_id).where(
                MemberRow.group_id == group_id, MemberRow.user_id == user_id
            )
        )

    async def member_ids(self, group_id: str, cohort_id: int) -> list[str]:
        """User ids in a cohort, including members who left."""
        rows = await self.session.scalars(
            select(MemberRow.user_id)
            .where(MemberRow.group_id == group_id, MemberRow.cohort_id == cohort_id)
            .order_by(MemberRow.user_id)
        )
        return list(rows)

    async def present_by_cohort(self, group_id: str) -> dict[int, int]:
        """Members of each cohort still in the group, in one read."""
        rows = await self.session.execute(
            select(MemberRow.cohort_id, func.count())
            .where(
                MemberRow.group_id == group_id,
                MemberRow.cohort_id.is_not(None),
                MemberRow.left_at.is_(None),
            )
            .group_by(MemberRow.cohort_id)
        )
        return {cohort_id: int(n) for cohort_id, n in rows if cohort_id is not None}


class SqlInvitationRepository(Repository):
    """Join codes, their uses and the code entries counted for the lockout."""

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

    async def by_code(self, group_id: str, code: str) -> Invitation | None:
        """A code of the group (codes are stored upper case)."""
        row = await self.session.scalar(
            select(InvitationRow).where(
                InvitationRow.group_id == group_id, InvitationRow.code == code.upper()
            )
        )
        return _invitation(row) if row else None

    async def get(self, group_id: str, invitation_id: int) -> Invitation | None:
        """A code by id."""
        row = await self.session.get(InvitationRow, invitation_id)
        return _invitation(row) if row is not None and row.group_id == group_id else None

    async def live(self, group_id: str, now: datetime) -> list[Invitation]:
        """Shared codes that still work, newest first."""
        rows = await self.session.scalars(
            select(InvitationRow)
            .where(
                InvitationRow.group_id == group_id,
                InvitationRow.kind != CodeKind.PERSONAL,
                InvitationRow.revoked.is_(False),
                InvitationRow.uses < InvitationRow.max_uses,
                or_(InvitationRow.expires_at.is_(None), InvitationRow.expires_at > now),
            )
            .order_by(InvitationRow.id.desc())
        )
        return [_invitation(r) for r in rows]

    async def revoke_cohort(self, group_id: str, cohort_id: int, now: datetime) -> int:
        """End every code of a cohort that still works, class and personal; how many."""
        result = await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.group_id == group_id,
                InvitationRow.cohort_id == cohort_id,
                InvitationRow.revoked.is_(False),
                InvitationRow.uses < InvitationRow.max_uses,
                or_(InvitationRow.expires_at.is_(None), InvitationRow.expires_at > now),
            )
            .values(revoked=True)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def revoke(self, group_id: str, invitation_id: int) -> bool:
        """Compare-and-set, so a code is revoked once."""
        result = await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.group_id == group_id,
                InvitationRow.id == invitation_id,
                InvitationRow.revoked.is_(False),
            )
            .values(revoked=True)
        )
        return _count(result)

    async def retire(self, group_id: str, invitation_id: int) -> None:
        """Rename a dead code "~<id>~<code>" (codes are letters and digits only, so nobody
        types it; the id keeps it unique within the column's 32 characters) and revoke it."""
        row = await self.session.get(InvitationRow, invitation_id)
        if row is None or row.group_id != group_id or row.code.startswith("~"):
            return
        row.code = f"~{row.id}~{row.code}"[:32]
        row.revoked = True
        await self.session.flush()

    async def redemption(self, invitation_id: int, user_id: str) -> UseState | None:
        """The state of the member's use of a code (None: never used)."""
        state = await self.session.scalar(
            select(InvitationUseRow.state).where(
                InvitationUseRow.invitation_id == invitation_id,
                InvitationUseRow.user_id == user_id,
            )
        )
        return UseState(state) if state is not None else None

    async def use(self, group_id: str, invitation_id: int, user_id: str, now: datetime) -> bool:
        """Count one use for a member who never used the code; False if used up or used.

        The use row goes first: its unique (invitation, member) key makes parallel redemptions
        by one member count once; then a conditional increment, so two members racing for the
        last use cannot both win. The use is "granting" until the platform answered.
        """
        inserted = await self.session.execute(
            self.insert_ignore(InvitationUseRow)
            .values(
                invitation_id=invitation_id,
                group_id=group_id,
                user_id=user_id,
                used_at=now,
                state=UseState.GRANTING,
            )
            .on_conflict_do_nothing()
        )
        if not _count(inserted):
            return False
        counted = await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.id == invitation_id,
                InvitationRow.uses < InvitationRow.max_uses,
                InvitationRow.revoked.is_(False),
            )
            .values(uses=InvitationRow.uses + 1)
        )
        if _count(counted):
            return True
        await self.session.execute(
            delete(InvitationUseRow).where(
                InvitationUseRow.invitation_id == invitation_id,
                InvitationUseRow.user_id == user_id,
            )
        )
        return False

    async def claim_redemption(
        self, invitation_id: int, user_id: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take a use the platform refused (or one whose granting was cut off before
        `stale_before`) to finish it now; False if it is granted, revoked or being granted."""
        result = await self.session.execute(
            update(InvitationUseRow)
            .where(
                InvitationUseRow.invitation_id == invitation_id,
                InvitationUseRow.user_id == user_id,
                or_(
                    InvitationUseRow.state == UseState.PENDING_PLATFORM,
                    and_(
                        InvitationUseRow.state == UseState.GRANTING,
                        InvitationUseRow.used_at < stale_before,
                    ),
                ),
            )
            .values(state=UseState.GRANTING, used_at=now)
        )
        return _count(result)

    async def redemption_done(self, invitation_id: int, user_id: str, accepted: bool) -> None:
        """The platform answered: the use is spent ("granted") or waits ("pending-platform")."""
        await self.session.execute(
            update(InvitationUseRow)
            .where(
                InvitationUseRow.invitation_id == invitation_id,
                InvitationUseRow.user_id == user_id,
                InvitationUseRow.state == UseState.GRANTING,
            )
            .values(state=UseState.GRANTED if accepted else UseState.PENDING_PLATFORM)
        )

    async def revoke_pending_redemptions(
        self, group_id: str, user_id: str, role_keys: Sequence[str]
    ) -> int:
        """Staff took a role away: a use still waiting for the platform can no longer be
        finished for it (pending -> revoked)."""
        keys = set(role_keys)
        rows = await self.session.execute(
            select(InvitationUseRow.id, InvitationRow.role_key, InvitationRow.cohort_id)
            .join(InvitationRow, InvitationRow.id == InvitationUseRow.invitation_id)
            .where(
                InvitationUseRow.group_id == group_id,
                InvitationUseRow.user_id == user_id,
                InvitationUseRow.state.in_((UseState.PENDING_PLATFORM, UseState.GRANTING)),
            )
        )
        ids = [
            use_id
            for use_id, role_key, cohort_id in rows
            if role_key in keys or (cohort_id is not None and cohort_key(cohort_id) in keys)
        ]
        if not ids:
            return 0
        await self.session.execute(
            update(InvitationUseRow)
            .where(InvitationUseRow.id.in_(ids))
            .values(state=UseState.REVOKED)
        )
        return len(ids)

    async def set_invited_by(self, group_id: str, user_id: str, inviter: str) -> None:
        """Record who invited a member, unless someone already is."""
        await self.session.execute(
            update(MemberRow)
            .where(
                MemberRow.group_id == group_id,
                MemberRow.user_id == user_id,
                MemberRow.invited_by.is_(None),
            )
            .values(invited_by=inviter)
        )

    async def cohort_uses(self, group_id: str, cohort_id: int) -> int:
        """Redemptions of a cohort's codes."""
        count = await self.session.scalar(
            select(func.count(InvitationUseRow.id))
            .join(InvitationRow, InvitationRow.id == InvitationUseRow.invitation_id)
            .where(InvitationRow.group_id == group_id, InvitationRow.cohort_id == cohort_id)
        )
        return int(count or 0)

    async def uses_by_cohort(self, group_id: str) -> dict[int, int]:
        """`cohort_uses` of every cohort of the group, in one read."""
        rows = await self.session.execute(
            select(InvitationRow.cohort_id, func.count(InvitationUseRow.id))
            .join(InvitationRow, InvitationRow.id == InvitationUseRow.invitation_id)
            .where(InvitationRow.group_id == group_id, InvitationRow.cohort_id.is_not(None))
            .group_by(InvitationRow.cohort_id)
        )
        return {cohort_id: int(n) for cohort_id, n in rows if cohort_id is not None}

    async def lock_member(self, group_id: str, user_id: str) -> None:
        """Serialise this member's code entries until the unit of work ends.

        A no-op UPDATE of the member's row, as the unit's first statement: PostgreSQL holds
        the row lock and SQLite its write lock until commit, so counting the member's wrong
        codes and recording this attempt cannot interleave with a parallel attempt.
        """
        await self.session.execute(
            update(MemberRow)
            .where(MemberRow.group_id == group_id, MemberRow.user_id == user_id)
            .values(user_id=MemberRow.user_id)
        )

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


class SqlRosterRepository(Repository):
    """Class lists, matched by email when members join."""

    async def add(
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
        before = await self._size(group_id, cohort_id)
        # Parameters apart from the statement (executemany): a 500-line roster is not compiled
        # into one 3,000-placeholder statement on every import.
        await self.session.execute(
            self.insert_ignore(RosterEntryRow).on_conflict_do_nothing(),
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
            ],
        )
        return await self._size(group_id, cohort_id) - before

    async def _size(self, group_id: str, cohort_id: int) -> int:
        count = await self.session.scalar(
            select(func.count(RosterEntryRow.id)).where(
                RosterEntryRow.group_id == group_id, RosterEntryRow.cohort_id == cohort_id
            )
        )
        return int(count or 0)

    async def entries(self, group_id: str, cohort_id: int) -> list[RosterEntry]:
        """A cohort's roster in import order."""
        rows = await self.session.scalars(
            select(RosterEntryRow)
            .where(RosterEntryRow.group_id == group_id, RosterEntryRow.cohort_id == cohort_id)
            .order_by(RosterEntryRow.id)
        )
        return [_roster(r) for r in rows]

    async def tallies(self, group_id: str) -> dict[int, tuple[int, list[str]]]:
        """Each cohort's roster size and the addresses not joined yet, in one read (columns,
        not entries: 3,000 entries as objects took 80 ms)."""
        rows = await self.session.execute(
            select(RosterEntryRow.cohort_id, RosterEntryRow.email, RosterEntryRow.matched_user_id)
            .where(RosterEntryRow.group_id == group_id)
            .order_by(RosterEntryRow.id)
        )
        sizes: dict[int, int] = {}
        missing: dict[int, list[str]] = {}
        for cohort_id, email, matched in rows:
            sizes[cohort_id] = sizes.get(cohort_id, 0) + 1
            waiting = missing.setdefault(cohort_id, [])
            if matched is None:
                waiting.append(email)
        return {c: (n, missing[c]) for c, n in sizes.items()}

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

    async def match_email(
        self, group_id: str, email: str, user_id: str, now: datetime
    ) -> RosterMatch | None:
        """The newest cohort's entry waiting for this email, matched to the member once, with
        who made its code and the two roles it gives: one UPDATE ... RETURNING (SQLite 3.35+,
        PostgreSQL), so a class joining costs no extra round trips for the look-ups.

        The newest entry is chosen inside the statement and the update is conditional on it
        being unmatched still, so two joins with one address match it once.
        """
        newest = (
            select(RosterEntryRow.id)
            .where(
                RosterEntryRow.group_id == group_id,
                RosterEntryRow.email == email.lower(),
                RosterEntryRow.matched_user_id.is_(None),
            )
            .order_by(RosterEntryRow.cohort_id.desc(), RosterEntryRow.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        inviter = (
            select(InvitationRow.created_by)
            .where(InvitationRow.id == RosterEntryRow.invitation_id)
            .scalar_subquery()
        )
        cohort_role = literal(cohort_key(0)[:-1]) + cast(RosterEntryRow.cohort_id, String)

        def role(key: Any, column: Any) -> Any:
            return (
                select(column)
                .where(RoleRow.group_id == RosterEntryRow.group_id, RoleRow.key == key)
                .scalar_subquery()
            )

        row = (
            await self.session.execute(
                update(RosterEntryRow)
                .where(RosterEntryRow.id == newest, RosterEntryRow.matched_user_id.is_(None))
                .values(matched_user_id=user_id, matched_at=now)
                .returning(
                    *RosterEntryRow.__table__.c,
                    inviter.label("inviter"),
                    role(RosterEntryRow.role_key, RoleRow.name).label("role_name"),
                    role(RosterEntryRow.role_key, RoleRow.platform_id).label("role_pid"),
                    role(cohort_role, RoleRow.name).label("cohort_name"),
                    role(cohort_role, RoleRow.platform_id).label("cohort_pid"),
                )
                .execution_options(synchronize_session=False)
            )
        ).first()
        if row is None:
            return None
        v = row._mapping
        entry = RosterEntry(**{f.name: v[f.name] for f in fields(RosterEntry)})
        role_key, cohort = entry.role_keys
        roles = {
            key: RoleRecord(group_id, key, name, pid)
            for key, name, pid in (
                (role_key, v["role_name"], v["role_pid"]),
                (cohort, v["cohort_name"], v["cohort_pid"]),
            )
            if name is not None
        }
        return RosterMatch(entry, v["inviter"], roles)

    async def admit(self, member: Member, cohort_id: int | None) -> bool:
        """Record a newcomer with their cohort in one statement; False if the member is
        recorded already (a replay, a return, or a first command that came first)."""
        result = await self.session.execute(
            self.insert_ignore(MemberRow)
            .values(
                group_id=member.group_id,
                user_id=member.user_id,
                name=member.name,
                email=member.email,
                joined_at=member.joined_at,
                left_at=None,
                invited_by=member.invited_by,
                cohort_id=cohort_id,
            )
            .on_conflict_do_nothing()
        )
        return _count(result)

    async def match(self, entry_id: int, user_id: str, now: datetime) -> bool:
        """Mark an entry matched, once."""
        result = await self.session.execute(
            update(RosterEntryRow)
            .where(RosterEntryRow.id == entry_id, RosterEntryRow.matched_user_id.is_(None))
            .values(matched_user_id=user_id, matched_at=now)
        )
        return _count(result)


class SqlRequestRepository(Repository):
    """Requests for a trusted role."""

    async def add(
        self, group_id: str, user_id: str, role_key: str, cohort_id: int | None, now: datetime
    ) -> RoleRequest:
        """Store a pending request."""
        row = RoleRequestRow(
            group_id=group_id,
            user_id=user_id,
            role_key=role_key,
            cohort_id=cohort_id,
            status=RequestStatus.PENDING,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return _request(row)

    async def get(self, group_id: str, request_id: int) -> RoleRequest | None:
        """One request."""
        row = await self.session.get(RoleRequestRow, request_id)
        return _request(row) if row is not None and row.group_id == group_id else None

    async def pending_of(self, group_id: str, user_id: str) -> RoleRequest | None:
        """The member's pending request."""
        row = await self.session.scalar(
            select(RoleRequestRow).where(
                RoleRequestRow.group_id == group_id,
                RoleRequestRow.user_id == user_id,
                RoleRequestRow.status == RequestStatus.PENDING,
            )
        )
        return _request(row) if row else None

    async def pending_count(self, group_id: str, cohort_id: int | None = None) -> int:
        """Pending requests naming a cohort (None: all of the group's)."""
        query = select(func.count(RoleRequestRow.id)).where(
            RoleRequestRow.group_id == group_id, RoleRequestRow.status == RequestStatus.PENDING
        )
        if cohort_id is not None:
            query = query.where(RoleRequestRow.cohort_id == cohort_id)
        count = await self.session.scalar(query)
        return int(count or 0)

    async def pending_by_cohort(self, group_id: str) -> dict[int, int]:
        """`pending_count` of every cohort of the group, in one read."""
        rows = await self.session.execute(
            select(RoleRequestRow.cohort_id, func.count(RoleRequestRow.id))
            .where(
                RoleRequestRow.group_id == group_id,
                RoleRequestRow.status == RequestStatus.PENDING,
                RoleRequestRow.cohort_id.is_not(None),
            )
            .group_by(RoleRequestRow.cohort_id)
        )
        return {cohort_id: int(n) for cohort_id, n in rows if cohort_id is not None}

    async def pending(self, group_id: str, limit: int) -> list[RoleRequest]:
        """Pending requests, oldest first."""
        rows = await self.session.scalars(
            select(RoleRequestRow)
            .where(
                RoleRequestRow.group_id == group_id,
                RoleRequestRow.status == RequestStatus.PENDING,
            )
            .order_by(RoleRequestRow.id)
            .limit(limit)
        )
        return [_request(r) for r in rows]

    async def set_message(self, request_id: int, channel_id: str, message_id: str) -> None:
        """Remember the review post."""
        await self.session.execute(
            update(RoleRequestRow)
            .where(RoleRequestRow.id == request_id)
            .values(review_channel_id=channel_id, review_message_id=message_id)
        )

    async def decide(
        self, group_id: str, request_id: int, status: RequestStatus, by: str, now: datetime
    ) -> bool:
        """Compare-and-set from pending, so two staff pressing at once decide once."""
        result = await self.session.execute(
            update(RoleRequestRow)
            .where(
                RoleRequestRow.group_id == group_id,
                RoleRequestRow.id == request_id,
                RoleRequestRow.status == RequestStatus.PENDING,
            )
            .values(status=status, decided_by=by, decided_at=now)
        )
        return _count(result)


class SqlGrantRepository(Repository):
    """Role grants recorded, and the paced queue of bulk changes."""

    async def record(
        self,
        group_id: str,
        user_id: str,
        keys: Sequence[str],
        source: str,
        by: str | None,
        now: datetime,
    ) -> list[str]:
        """Record grants in one statement; returns the keys the member did not hold yet."""
        if not keys:
            return []
        rows = await self.session.scalars(
            self.insert_ignore(MemberRoleRow)
            .values(
                [
                    {
                        "group_id": group_id,
                        "user_id": user_id,
                        "role_key": key,
                        "source": source,
                        "granted_by": by,
                        "granted_at": now,
                    }
                    for key in dict.fromkeys(keys)
                ]
            )
            .on_conflict_do_nothing()
            .returning(MemberRoleRow.role_key)
        )
        new = set(rows)
        return [k for k in dict.fromkeys(keys) if k in new]

    async def log(self, group_id: str, events: Sequence[RoleEvent]) -> None:
        """Keep grants and revocations in the member's role history, in one statement."""
        if events:
            await self.session.execute(
                insert(RoleEventRow).values(
                    [
                        {
                            "group_id": group_id,
                            "user_id": e.user_id,
                            "role_key": e.role_key,
                            "granted": e.granted,
                            "source": e.source,
                            "by": e.by,
                            "at": e.at,
                        }
                        for e in events
                    ]
                )
            )

    async def held(self, group_id: str, user_id: str) -> list[RoleEvent]:
        """The roles a member holds, each with where it came from, by whom, when."""
        rows = await self.session.scalars(
            select(MemberRoleRow)
            .where(MemberRoleRow.group_id == group_id, MemberRoleRow.user_id == user_id)
            .order_by(MemberRoleRow.granted_at, MemberRoleRow.role_key)
        )
        return [
            RoleEvent(r.user_id, r.role_key, True, r.source, r.granted_by, r.granted_at)
            for r in rows
        ]

    async def history(self, group_id: str, user_id: str, limit: int) -> list[RoleEvent]:
        """A member's grants and revocations, newest first."""
        rows = await self.session.scalars(
            select(RoleEventRow)
            .where(RoleEventRow.group_id == group_id, RoleEventRow.user_id == user_id)
            .order_by(RoleEventRow.id.desc())
            .limit(limit)
        )
        return [RoleEvent(r.user_id, r.role_key, r.granted, r.source, r.by, r.at) for r in rows]

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
        """Claim up to `limit` of the oldest pending changes that are due, for one drain.

        A row is free when nobody holds it or its holder's lease (real time) ran out. On
        PostgreSQL rows another drain is claiming right now are skipped (`FOR UPDATE SKIP
        LOCKED`); on SQLite the claim is a conditional UPDATE, which SQLite's single writer
        makes atomic. Either way two processes never hold one row.
        """
        free = [
            GrantQueueRow.group_id == group_id,
            GrantQueueRow.status == "pending",
            or_(GrantQueueRow.claimed_until.is_(None), GrantQueueRow.claimed_until < lease_now),
            or_(GrantQueueRow.next_attempt_at.is_(None), GrantQueueRow.next_attempt_at <= now),
        ]
        if batch is not None:
            free.append(GrantQueueRow.batch == batch)
        oldest = select(GrantQueueRow.id).where(*free).order_by(GrantQueueRow.id).limit(limit)
        claim = update(GrantQueueRow).values(claimed_by=owner, claimed_until=lease_until)
        if self.session.get_bind().dialect.name == "postgresql":
            ids = list(await self.session.scalars(oldest.with_for_update(skip_locked=True)))
            if not ids:
                return []
            await self.session.execute(claim.where(GrantQueueRow.id.in_(ids)))
        else:
            await self.session.execute(claim.where(GrantQueueRow.id.in_(oldest), *free))
        rows = await self.session.scalars(
            select(GrantQueueRow)
            .where(GrantQueueRow.claimed_by == owner, GrantQueueRow.status == "pending")
            .order_by(GrantQueueRow.id)
        )
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
            out.append(QueuedGrant(r.id, r.batch, change, r.attempts, r.created_at))
        return out

    async def renew(self, owner: str, lease_until: datetime) -> None:
        """Extend the lease of the rows a drain still holds."""
        await self.session.execute(
            update(GrantQueueRow)
            .where(GrantQueueRow.claimed_by == owner, GrantQueueRow.status == "pending")
            .values(claimed_until=lease_until)
        )

    async def release(self, owner: str) -> None:
        """Give back the rows a drain holds but did not finish (it was stopped or failed)."""
        await self.session.execute(
            update(GrantQueueRow)
            .where(GrantQueueRow.claimed_by == owner, GrantQueueRow.status == "pending")
            .values(claimed_by=None, claimed_until=None)
        )

    async def finish(self, grant_id: int, owner: str, now: datetime) -> bool:
        """Mark a change done, if this drain still holds it."""
        result = await self.session.execute(
            update(GrantQueueRow)
            .where(
                GrantQueueRow.id == grant_id,
                GrantQueueRow.claimed_by == owner,
                GrantQueueRow.status == "pending",
            )
            .values(status="done", done_at=now, claimed_by=None, claimed_until=None)
        )
        return _count(result)

    async def fail(self, grant_id: int, owner: str, retry_at: datetime | None) -> None:
        """Count a failed attempt and give the row back: due again at `retry_at`, or given up
        for good when that is None."""
        values: dict[str, object] = {
            "attempts": GrantQueueRow.attempts + 1,
            "claimed_by": None,
            "claimed_until": None,
            "next_attempt_at": retry_at,
        }
        if retry_at is None:
            values["status"] = "failed"
        await self.session.execute(
            update(GrantQueueRow)
            .where(GrantQueueRow.id == grant_id, GrantQueueRow.claimed_by == owner)
            .values(**values)
        )

    async def progress(self, group_id: str, batch: str) -> tuple[int, int]:
        """(done, total) of a batch: rows that took effect, and all its rows."""
        rows = await self.session.execute(
            select(GrantQueueRow.status, func.count(GrantQueueRow.id))
            .where(GrantQueueRow.group_id == group_id, GrantQueueRow.batch == batch)
            .group_by(GrantQueueRow.status)
        )
        counts = {status: int(n) for status, n in rows}
        total = sum(counts.values())
        return counts.get("done", 0), total
