"""What the dashboard needs from storage: links, sessions, the audit, its signing key."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.cogs.dashboard.records import AuditEntry, Link, Session


class DashboardRepository(Protocol):
    """Sign-in links and sessions (by token hash), the audit of changes, the cookie key."""

    async def add_link(self, link: Link) -> None:
        """Store a new sign-in link."""

    async def link(self, token_hash: str) -> Link | None:
        """A link by its token's hash."""

    async def use_link(self, token_hash: str, now: datetime) -> bool:
        """Mark a link used; False if it already was (atomic: one sign-in per link)."""

    async def add_session(self, session: Session) -> None:
        """Store a new session."""

    async def find_session(self, token_hash: str) -> Session | None:
        """A session by its token's hash."""

    async def end_session(self, token_hash: str, now: datetime) -> None:
        """End a session (sign-out, or its member is no longer staff)."""

    async def end_sessions_of(self, group_id: str, user_id: str, now: datetime) -> int:
        """End every open session of a member; how many were open."""

    async def prune(self, before: datetime) -> int:
        """Forget links and sessions that expired before a time; how many went."""

    async def add_audit(
        self, group_id: str, user_id: str, user_name: str, action: str, detail: str, now: datetime
    ) -> AuditEntry:
        """Record a change made in the dashboard."""

    async def audit(self, group_id: str, limit: int) -> list[AuditEntry]:
        """The group's latest changes, newest first."""

    async def key(self, candidate: str, now: datetime) -> str:
        """The installation's cookie-signing key, stored once (the first caller's candidate)."""
