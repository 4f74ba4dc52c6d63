"""Shared helpers for repositories."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


def as_record(cls: type[T], row: Any) -> T:
    """A core record from an ORM row whose columns carry the record's field names."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


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
