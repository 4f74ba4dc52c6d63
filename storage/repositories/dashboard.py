"""The dashboard's sign-in links, sessions, audit trail and cookie key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from bot.cogs.dashboard.records import AuditEntry, Link, Session
from storage.models import DashboardAuditRow, DashboardKeyRow, DashboardLinkRow, DashboardSessionRow
from storage.repositories.base import Repository, _count, as_record

COOKIE_KEY = "cookie"


class SqlDashboardRepository(Repository):
    """Links and sessions by token hash; a link is used by one conditional update (single use)."""

    async def add_link(self, link: Link) -> None:
        """Store a new sign-in link."""
        self.session.add(DashboardLinkRow(**link.__dict__))
        await self.session.flush()

    async def link(self, token_hash: str) -> Link | None:
        """A link by its token's hash."""
        row = await self.session.get(DashboardLinkRow, token_hash)
        return as_record(Link, row) if row is not None else None

    async def use_link(self, token_hash: str, now: datetime) -> bool:
        """Mark a link used unless it already was: two tabs racing sign in once."""
        result = await self.session.execute(
            update(DashboardLinkRow)
            .where(DashboardLinkRow.token_hash == token_hash, DashboardLinkRow.used_at.is_(None))
            .values(used_at=now)
        )
        return _count(result)

    async def add_session(self, session: Session) -> None:
        """Store a new session."""
        self.session.add(DashboardSessionRow(**session.__dict__))
        await self.session.flush()

    async def find_session(self, token_hash: str) -> Session | None:
        """A session by its token's hash."""
        row = await self.session.get(DashboardSessionRow, token_hash)
        return as_record(Session, row) if row is not None else None

    async def end_session(self, token_hash: str, now: datetime) -> None:
        """End a session (kept, ended, for the record)."""
        await self.session.execute(
            update(DashboardSessionRow)
            .where(
                DashboardSessionRow.token_hash == token_hash, DashboardSessionRow.ended_at.is_(None)
            )
            .values(ended_at=now)
        )

    async def end_sessions_of(self, group_id: str, user_id: str, now: datetime) -> int:
        """End every open session of a member."""
        result = await self.session.execute(
            update(DashboardSessionRow)
            .where(
                DashboardSessionRow.group_id == group_id,
                DashboardSessionRow.user_id == user_id,
                DashboardSessionRow.ended_at.is_(None),
            )
            .values(ended_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def prune(self, before: datetime) -> int:
        """Delete links and sessions that expired before `before` (used or not)."""
        gone = 0
        for table in (DashboardLinkRow, DashboardSessionRow):
            result = await self.session.execute(delete(table).where(table.expires_at < before))
            gone += int(getattr(result, "rowcount", 0) or 0)
        return gone

    async def add_audit(
        self, group_id: str, user_id: str, user_name: str, action: str, detail: str, now: datetime
    ) -> AuditEntry:
        """Record a change."""
        row = DashboardAuditRow(
            group_id=group_id,
            user_id=user_id,
            author_name=user_name,
            action=action,
            detail=detail,
            at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return as_record(AuditEntry, row)

    async def audit(self, group_id: str, limit: int) -> list[AuditEntry]:
        """The latest changes, newest first."""
        rows = await self.session.scalars(
            select(DashboardAuditRow)
            .where(DashboardAuditRow.group_id == group_id)
            .order_by(DashboardAuditRow.id.desc())
            .limit(limit)
        )
        return [as_record(AuditEntry, r) for r in rows]

    async def key(self, candidate: str, now: datetime) -> str:
        """The stored key; the first process to ask stores its candidate (ON CONFLICT)."""
        await self.session.execute(
            self.insert_ignore(DashboardKeyRow)
            .values(name=COOKIE_KEY, value=candidate, created_at=now)
            .on_conflict_do_nothing()
        )
        value = await self.session.scalar(
            select(DashboardKeyRow.value).where(DashboardKeyRow.name == COOKIE_KEY)
        )
        return str(value)
