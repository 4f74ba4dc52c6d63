"""The unit of work: one session, one transaction, every repository."""

from __future__ import annotations

import logging
from types import TracebackType

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.errors import StorageUnavailable
from storage.repositories.activity import SqlActivityRepository
from storage.repositories.dashboard import SqlDashboardRepository
from storage.repositories.groups import (
    SqlCategoryRepository,
    SqlGroupRepository,
    SqlMemberRepository,
    SqlRoleRepository,
)
from storage.repositories.mail import (
    SqlMailInvitationRepository,
    SqlMailPreferences,
    SqlOutboxRepository,
)
from storage.repositories.onboarding import (
    SqlCohortRepository,
    SqlGrantRepository,
    SqlInvitationRepository,
    SqlRequestRepository,
    SqlRosterRepository,
)
from storage.repositories.posts import SqlPostRepository
from storage.repositories.privacy import SqlPrivacyRepository
from storage.repositories.profiles import SqlPairRepository, SqlProfileRepository
from storage.repositories.prompts import SqlPromptRepository
from storage.repositories.runtime import SqlEventLog, SqlJobRepository, SqlKeyValue

log = logging.getLogger(__name__)

# Errors that mean "the database is not there", as opposed to a bug in a query. TimeoutError
# (asyncpg's command timeout: a server that stopped answering) is an OSError.
_UNAVAILABLE = (OperationalError, InterfaceError, ConnectionError, OSError)
# PostgreSQL SQLSTATEs of the same kind: connection exceptions (class 08), a statement cancelled
# by statement_timeout or waiting on a lock (57014, 55P03), a server shutting down or starting
# (57P01-57P03), too many connections (53300).
_UNAVAILABLE_STATES = ("08", "57014", "55P03", "57P01", "57P02", "57P03", "53300")


def unavailable(exc: BaseException | None) -> bool:
    """True if the error means the database cannot be used now (rather than a bad query)."""
    if isinstance(exc, _UNAVAILABLE):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or ""
    return bool(state) and state.startswith(_UNAVAILABLE_STATES)


class SqlUnitOfWork:
    """Commits on clean exit, rolls back on error; connection loss becomes StorageUnavailable."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> SqlUnitOfWork:
        """Open a session and bind the repositories to it."""
        self.session = self._sessions()
        s = self.session
        self.groups = SqlGroupRepository(s)
        self.categories = SqlCategoryRepository(s)
        self.roles = SqlRoleRepository(s)
        self.members = SqlMemberRepository(s)
        self.jobs = SqlJobRepository(s)
        self.events = SqlEventLog(s)
        self.kv = SqlKeyValue(s)
        self.cohorts = SqlCohortRepository(s)
        self.invitations = SqlInvitationRepository(s)
        self.roster = SqlRosterRepository(s)
        self.requests = SqlRequestRepository(s)
        self.grants = SqlGrantRepository(s)
        self.prompts = SqlPromptRepository(s)
        self.posts = SqlPostRepository(s)
        self.activity = SqlActivityRepository(s)
        self.profiles = SqlProfileRepository(s)
        self.pairs = SqlPairRepository(s)
        self.privacy = SqlPrivacyRepository(s)
        self.outbox = SqlOutboxRepository(s)
        self.mail_preferences = SqlMailPreferences(s)
        self.mail_invitations = SqlMailInvitationRepository(s)
        self.dashboard = SqlDashboardRepository(s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Commit or roll back, then close."""
        try:
            if exc_type is None:
                await self.session.commit()
            elif unavailable(exc):
                # A rollback would wait on a server that may not answer; the connection goes
                # and the server rolls the transaction back when it sees it closed.
                await self._abandon()
            else:
                await self.session.rollback()
        except Exception as err:
            if unavailable(err):
                await self._abandon()
                raise StorageUnavailable(str(err)) from err
            raise
        finally:
            await self.session.close()
        if unavailable(exc):
            raise StorageUnavailable(str(exc)) from exc

    async def _abandon(self) -> None:
        """Drop the session's connection without talking to the server (it may not answer)."""
        try:
            await self.session.invalidate()
        except Exception:
            log.debug("could not invalidate the session's connection", exc_info=True)

    async def commit(self) -> None:
        """Commit now; the unit stays usable."""
        await self.session.commit()


class UnitOfWorkFactory:
    """Makes units of work on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlUnitOfWork:
        """A new unit of work."""
        return SqlUnitOfWork(self._sessions)
