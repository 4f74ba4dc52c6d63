"""Shared helpers for repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _count(result: Any) -> bool:
    """True if a DML statement touched a row (CursorResult.rowcount, typed loosely by SQLA)."""
    return bool(result.rowcount)


class Repository:
    """A repository works inside the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def insert_ignore(self, table: Any) -> Any:
        """`INSERT ... ON CONFLICT DO NOTHING` for the session's dialect."""
        dialect = self.session.get_bind().dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        return module.insert(table)
