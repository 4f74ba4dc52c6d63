"""The outbox and members' mail choices (bot/cogs/mail/ports.py) on SQLite and PostgreSQL.

Claiming is one statement per email on both databases, and it never hands one email to two
senders: PostgreSQL picks the row with FOR UPDATE SKIP LOCKED; SQLite runs one writer at a
time, so the conditional UPDATE (status still 'queued') is the claim. The pace across
processes is part of the same statement: on SQLite "no claim anywhere since `pace_before`"
(exact, writers are serialised); on PostgreSQL a one-row slot upserted in a CTE, whose row
lock makes a second process wait and then see the slot taken.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, exists, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.cogs.mail.records import (
    DONE,
    AddressState,
    AddressStatus,
    Bounce,
    Claimed,
    Invitee,
    NewEmail,
    OutboxStatus,
    Subscription,
)
from bot.cogs.onboarding.records import CodeKind
from storage.models import (
    InvitationRow,
    MailInvitationRow,
    MailKeyRow,
    MailOptOutRow,
    MailOutboxRow,
    MailPacerRow,
    MailSubscriptionRow,
    MemberRow,
    RosterEntryRow,
)
from storage.repositories.base import Repository, _count, as_record

_OUTBOX = cast(Table, MailOutboxRow.__table__)
_O = _OUTBOX.c
_STATE = {
    OutboxStatus.QUEUED: AddressState.QUEUED,
    OutboxStatus.SENDING: AddressState.QUEUED,
    OutboxStatus.SENT: AddressState.SENT,
    OutboxStatus.BOUNCED: AddressState.BOUNCED,
    OutboxStatus.FAILED: AddressState.FAILED,
    OutboxStatus.SKIPPED: AddressState.OPTED_OUT,
}
_DONE = [s.value for s in DONE]


class SqlOutboxRepository(Repository):
    """Emails as rows, claimed one at a time."""

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    async def secret(self, now: datetime) -> bytes:
        """The key of address hashes; two processes starting at once agree on the first."""
        await self.session.execute(
            self.insert_ignore(MailKeyRow)
            .values(name="address_hash", value=secrets.token_hex(32), created_at=now)
            .on_conflict_do_nothing()
        )
        value = await self.session.scalar(
            select(MailKeyRow.value).where(MailKeyRow.name == "address_hash")
        )
        assert value is not None
        return bytes.fromhex(value)

    async def add(self, rows: Sequence[NewEmail]) -> dict[int, int]:
        """One multi-row INSERT; a key queued before is skipped: index in `rows` -> id."""
        if not rows:
            return {}
        result = await self.session.execute(
            self.insert_ignore(MailOutboxRow)
            .on_conflict_do_nothing()
            .returning(MailOutboxRow.id, MailOutboxRow.key),
            [
                {
                    "group_id": r.group_id,
                    "kind": r.kind,
                    "key": r.key,
                    "user_id": r.user_id,
                    "address": r.address,
                    "address_hash": r.address_hash,
                    "subject": r.subject[:300],
                    "message": r.message,
                    "status": OutboxStatus.QUEUED.value,
                    "attempts": 0,
                    "next_attempt_at": r.created_at,
                    "created_at": r.created_at,
                    "detail": "",
                }
                for r in rows
            ],
        )
        ids = {key: id_ for id_, key in result.all()}
        return {i: ids[r.key] for i, r in enumerate(rows) if r.key in ids}

    async def claim(
        self,
        owner: str,
        now: datetime,
        wall: datetime,
        stale_before: datetime,
        pace_before: datetime | None,
    ) -> Claimed | None:
        """The next due email, claimed for `owner` in one statement (see the module doc)."""
        due = or_(
            and_(_O.status == OutboxStatus.QUEUED.value, _O.next_attempt_at <= now),
            and_(_O.status == OutboxStatus.SENDING.value, _O.claimed_at < stale_before),
        )
        pick = select(_O.id).where(due).order_by(_O.next_attempt_at, _O.id).limit(1)
        conditions: list[Any] = [due]
        statement = update(_OUTBOX)
        if self._postgres():
            # SKIP LOCKED: a second sender takes the next row instead of waiting for this one.
            conditions.append(_O.id == pick.with_for_update(skip_locked=True).scalar_subquery())
            if pace_before is not None:
                slot = (
                    pg_insert(MailPacerRow)
                    .values(name="send", next_at=wall)
                    .on_conflict_do_update(
                        index_elements=["name"],
                        set_={"next_at": wall},
                        where=MailPacerRow.next_at <= pace_before,
                    )
                    .returning(MailPacerRow.name)
                    .cte("slot")
                )
                statement = statement.add_cte(slot)
                conditions.append(exists(select(slot.c.name)))
        else:
            conditions.append(_O.id == pick.scalar_subquery())
            if pace_before is not None:
                last = select(func.max(_O.claimed_at)).scalar_subquery()
                conditions.append(or_(last.is_(None), last <= pace_before))
        # Qualified by hand: SQLite's RETURNING is rendered with bare column names, and a bare
        # `group_id` inside the subquery is the opt-out table's own (any opt-out would match).
        opted_out = exists().where(
            MailOptOutRow.group_id == literal_column("mail_outbox.group_id"),
            MailOptOutRow.address_hash == literal_column("mail_outbox.address_hash"),
        )
        result = await self.session.execute(
            statement.where(*conditions)
            .values(
                status=OutboxStatus.SENDING.value,
                claimed_by=owner,
                claimed_at=wall,
                attempts=_O.attempts + 1,
            )
            .returning(
                _O.id,
                _O.group_id,
                _O.kind,
                _O.address,
                _O.user_id,
                _O.message,
                _O.attempts,
                _O.created_at,
                opted_out.label("opted_out"),
            )
        )
        row = result.first()
        if row is None:
            return None
        return Claimed(
            id=row.id,
            group_id=row.group_id,
            kind=row.kind,
            address=row.address,
            user_id=row.user_id,
            message=row.message,
            attempts=row.attempts,
            created_at=row.created_at,
            opted_out=bool(row.opted_out),
        )

    async def finish(
        self,
        outbox_id: int,
        owner: str,
        status: OutboxStatus,
        now: datetime,
        code: int | None,
        detail: str,
        retry_at: datetime | None = None,
    ) -> None:
        """Record the outcome of this sender's claim; a done email loses its body."""
        values: dict[str, Any] = {"status": status.value, "code": code, "detail": detail[:300]}
        if status is OutboxStatus.QUEUED:
            values["next_attempt_at"] = retry_at or now
        else:
            values.update(finished_at=now, message="")
        if status is OutboxStatus.SENT:
            values["sent_at"] = now
        await self.session.execute(
            update(MailOutboxRow)
            .where(
                _O.id == outbox_id,
                _O.status == OutboxStatus.SENDING.value,
                _O.claimed_by == owner,
            )
            .values(values)
        )

    async def release(self, outbox_id: int, owner: str) -> None:
        """Back to queued as it was; the attempt does not count (the server never answered)."""
        await self.session.execute(
            update(MailOutboxRow)
            .where(
                _O.id == outbox_id,
                _O.status == OutboxStatus.SENDING.value,
                _O.claimed_by == owner,
            )
            .values(status=OutboxStatus.QUEUED.value, attempts=_O.attempts - 1)
        )

    async def next_due(self) -> tuple[datetime | None, datetime | None]:
        """Earliest due time of a queued email, and the oldest claim of one being sent."""
        row = (
            await self.session.execute(
                select(
                    func.min(_O.next_attempt_at).filter(_O.status == OutboxStatus.QUEUED.value),
                    func.min(_O.claimed_at).filter(_O.status == OutboxStatus.SENDING.value),
                )
            )
        ).one()
        return row[0], row[1]

    async def opted_out(self, group_id: str, hashes: Sequence[str]) -> set[str]:
        """Which of these address hashes opted out of the group's email."""
        if not hashes:
            return set()
        found = await self.session.scalars(
            select(MailOptOutRow.address_hash).where(
                MailOptOutRow.group_id == group_id,
                MailOptOutRow.address_hash.in_(sorted(set(hashes))),
            )
        )
        return set(found)

    async def add_opt_out(
        self, group_id: str, address_hash: str, source: str, now: datetime
    ) -> bool:
        """Record an opt-out; False if it was there already."""
        result = await self.session.execute(
            self.insert_ignore(MailOptOutRow)
            .values(group_id=group_id, address_hash=address_hash, source=source, created_at=now)
            .on_conflict_do_nothing()
        )
        return _count(result)

    async def remove_opt_out(self, group_id: str, address_hash: str) -> bool:
        """Forget an opt-out; False if there was none."""
        result = await self.session.execute(
            delete(MailOptOutRow).where(
                MailOptOutRow.group_id == group_id, MailOptOutRow.address_hash == address_hash
            )
        )
        return _count(result)

    async def statuses(self, group_id: str, addresses: Sequence[str]) -> dict[str, AddressStatus]:
        """The latest email to each address (one query), and the last time one was sent."""
        if not addresses:
            return {}
        rows = await self.session.execute(
            select(
                _O.address,
                _O.status,
                _O.created_at,
                _O.finished_at,
                _O.sent_at,
                _O.code,
                _O.detail,
            )
            .where(_O.group_id == group_id, _O.address.in_(sorted(set(addresses))))
            .order_by(_O.id)
        )
        out: dict[str, AddressStatus] = {}
        last_sent: dict[str, datetime] = {}
        for row in rows.mappings():
            status = OutboxStatus(row["status"])
            if row["sent_at"] is not None:
                last_sent[row["address"]] = row["sent_at"]
            out[row["address"]] = AddressStatus(
                address=row["address"],
                state=_STATE[status],
                at=row["finished_at"] or row["created_at"],
                last_sent_at=last_sent.get(row["address"]),
                code=row["code"],
                detail=row["detail"] or "",
            )
        return out

    async def claim_report(self, outbox_id: int, now: datetime) -> bool:
        """Mark a bounce reported; False if somebody reported it already."""
        result = await self.session.execute(
            update(MailOutboxRow)
            .where(_O.id == outbox_id, _O.reported_at.is_(None))
            .values(reported_at=now)
        )
        return _count(result)

    async def unreported_bounces(self, group_id: str, kind: str) -> list[Bounce]:
        """Bounces of a kind nobody reported yet, oldest first."""
        rows = await self.session.scalars(
            select(MailOutboxRow)
            .where(
                _O.group_id == group_id,
                _O.kind == kind,
                _O.status == OutboxStatus.BOUNCED.value,
                _O.reported_at.is_(None),
            )
            .order_by(_O.id)
        )
        return [
            Bounce(
                outbox_id=r.id,
                group_id=r.group_id,
                kind=r.kind,
                address=r.address,
                user_id=r.user_id,
                code=r.code,
                detail=r.detail,
                at=r.finished_at or r.created_at,
            )
            for r in rows
        ]

    async def counts(self, group_id: str) -> dict[OutboxStatus, int]:
        """Emails of the group per status."""
        rows = await self.session.execute(
            select(_O.status, func.count()).where(_O.group_id == group_id).group_by(_O.status)
        )
        return {OutboxStatus(status): n for status, n in rows.all()}

    async def prune(self, group_id: str, before: datetime) -> int:
        """Delete the group's finished rows older than `before`."""
        result = await self.session.execute(
            delete(MailOutboxRow).where(
                _O.group_id == group_id, _O.status.in_(_DONE), _O.finished_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlMailPreferences(Repository):
    """Members' opt-ins and the addresses the bot knows for them."""

    async def subscription(self, group_id: str, user_id: str, kind: str) -> Subscription | None:
        """One member's opt-in."""
        row = await self.session.get(MailSubscriptionRow, (group_id, user_id, kind))
        return as_record(Subscription, row) if row is not None else None

    async def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace an opt-in."""
        await self.session.merge(MailSubscriptionRow(**subscription.__dict__))
        await self.session.flush()

    async def drop_subscription(self, group_id: str, user_id: str, kind: str) -> bool:
        """Remove an opt-in."""
        result = await self.session.execute(
            delete(MailSubscriptionRow).where(
                MailSubscriptionRow.group_id == group_id,
                MailSubscriptionRow.user_id == user_id,
                MailSubscriptionRow.kind == kind,
            )
        )
        return _count(result)

    async def subscribers(self, group_id: str, kind: str) -> list[Subscription]:
        """Confirmed opt-ins of members still in the group."""
        rows = await self.session.scalars(
            select(MailSubscriptionRow)
            .join(
                MemberRow,
                and_(
                    MemberRow.group_id == MailSubscriptionRow.group_id,
                    MemberRow.user_id == MailSubscriptionRow.user_id,
                ),
            )
            .where(
                MailSubscriptionRow.group_id == group_id,
                MailSubscriptionRow.kind == kind,
                MailSubscriptionRow.confirmed.is_(True),
                MemberRow.left_at.is_(None),
            )
            .order_by(MailSubscriptionRow.user_id)
        )
        return [as_record(Subscription, r) for r in rows]

    async def known_address(self, group_id: str, user_id: str) -> str | None:
        """The member's record's address, else the roster entry they were matched to."""
        email = await self.session.scalar(
            select(MemberRow.email).where(
                MemberRow.group_id == group_id, MemberRow.user_id == user_id
            )
        )
        if email:
            return email
        return await self.session.scalar(
            select(RosterEntryRow.email)
            .where(RosterEntryRow.group_id == group_id, RosterEntryRow.matched_user_id == user_id)
            .order_by(RosterEntryRow.id.desc())
            .limit(1)
        )


class SqlMailInvitationRepository(Repository):
    """Personal codes of roster entries: join codes (CodeKind.PERSONAL, one use) plus a link row."""

    async def invitees(self, group_id: str, cohort_id: int) -> list[Invitee]:
        """One statement: the roster left-joined to its links and codes."""
        rows = await self.session.execute(
            select(
                RosterEntryRow.id,
                RosterEntryRow.email,
                RosterEntryRow.name,
                RosterEntryRow.role_key,
                RosterEntryRow.matched_user_id,
                InvitationRow.code,
                MailInvitationRow.emailed_at,
                MailInvitationRow.emails,
            )
            .outerjoin(MailInvitationRow, MailInvitationRow.roster_entry_id == RosterEntryRow.id)
            .outerjoin(InvitationRow, InvitationRow.id == MailInvitationRow.invitation_id)
            .where(RosterEntryRow.group_id == group_id, RosterEntryRow.cohort_id == cohort_id)
            .order_by(RosterEntryRow.id)
        )
        return [
            Invitee(entry_id, email, name, role, user, code, emailed_at, emails or 0)
            for entry_id, email, name, role, user, code, emailed_at, emails in rows
        ]

    async def create(
        self,
        group_id: str,
        cohort_id: int,
        items: Sequence[tuple[Invitee, str]],
        by: str | None,
        expires_at: datetime,
        now: datetime,
    ) -> dict[int, str]:
        """Two multi-row INSERTs: the codes (one use each), then the entry -> code links."""
        if not items:
            return {}
        result = await self.session.execute(
            self.insert_ignore(InvitationRow)
            .on_conflict_do_nothing()
            .returning(InvitationRow.id, InvitationRow.code),
            [
                {
                    "group_id": group_id,
                    "code": code,
                    "kind": CodeKind.PERSONAL,
                    "cohort_id": cohort_id,
                    "role_key": invitee.role_key,
                    "max_uses": 1,
                    "uses": 0,
                    "expires_at": expires_at,
                    "created_by": by,
                    "created_at": now,
                    "revoked": False,
                }
                for invitee, code in items
            ],
        )
        ids = {code: id_ for id_, code in result.all()}
        made = {invitee.entry_id: code for invitee, code in items if code in ids}
        if not made:
            return {}
        linked = await self.session.execute(
            self.insert_ignore(MailInvitationRow)
            .on_conflict_do_nothing()
            .returning(MailInvitationRow.roster_entry_id),
            [
                {
                    "group_id": group_id,
                    "roster_entry_id": entry_id,
                    "invitation_id": ids[code],
                    "invited_by": by,
                    "created_at": now,
                    "emailed_at": None,
                    "emails": 0,
                }
                for entry_id, code in made.items()
            ],
        )
        bound = set(linked.scalars().all())
        # An entry a parallel run linked first keeps that code; ours would be nobody's.
        orphans = [ids[code] for entry_id, code in made.items() if entry_id not in bound]
        if orphans:
            await self.session.execute(delete(InvitationRow).where(InvitationRow.id.in_(orphans)))
        return {entry_id: code for entry_id, code in made.items() if entry_id in bound}

    async def emailed(self, entry_ids: Sequence[int], now: datetime, expires_at: datetime) -> None:
        """Count the email on the links; the codes stay valid a semester from the last one."""
        if not entry_ids:
            return
        await self.session.execute(
            update(MailInvitationRow)
            .where(MailInvitationRow.roster_entry_id.in_(entry_ids))
            .values(emailed_at=now, emails=MailInvitationRow.emails + 1)
        )
        await self.session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.id.in_(
                    select(MailInvitationRow.invitation_id).where(
                        MailInvitationRow.roster_entry_id.in_(entry_ids)
                    )
                ),
                InvitationRow.uses == 0,
            )
            .values(expires_at=expires_at)
        )

    async def may_redeem(self, invitation_id: int, user_id: str) -> bool:
        """The entry behind a personal code is free, or already this member's; a personal
        code bound to no entry (erased) is refused."""
        row = (
            await self.session.execute(
                select(RosterEntryRow.matched_user_id)
                .join(MailInvitationRow, MailInvitationRow.roster_entry_id == RosterEntryRow.id)
                .where(MailInvitationRow.invitation_id == invitation_id)
            )
        ).first()
        return row is not None and row[0] in (None, user_id)

    async def joined(self, invitation_id: int, user_id: str, now: datetime) -> None:
        """Match the code's roster entry to the member who redeemed it (if nobody has it)."""
        entry = select(MailInvitationRow.roster_entry_id).where(
            MailInvitationRow.invitation_id == invitation_id
        )
        await self.session.execute(
            update(RosterEntryRow)
            .where(RosterEntryRow.id.in_(entry), RosterEntryRow.matched_user_id.is_(None))
            .values(matched_user_id=user_id, matched_at=now)
        )

    async def inviter(self, group_id: str, address: str) -> str | None:
        """The teacher behind the newest invitation to this address."""
        return await self.session.scalar(
            select(MailInvitationRow.invited_by)
            .join(RosterEntryRow, RosterEntryRow.id == MailInvitationRow.roster_entry_id)
            .where(RosterEntryRow.group_id == group_id, RosterEntryRow.email == address.lower())
            .order_by(MailInvitationRow.id.desc())
            .limit(1)
        )
