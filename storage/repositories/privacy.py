"""Everything the bot stores about one member, table by table: export it, or erase it.

Every table of `storage.models` has an entry in RULES saying how it names a member and what
erasure does there. A table added later without an entry is still searched: any row that
mentions the member is exported, and deleted on erasure (safe by default; add a rule to keep
anonymised rows instead). `tests/test_privacy*.py` walks the whole schema after an erasure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Table, and_, cast, delete, func, or_, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Base, MemberRow
from storage.repositories.base import Repository

ERASED = "[erased]"


@dataclass(frozen=True)
class Rule:
    """How one column names a member, and what erasure does about it.

    delete: rows whose column is the member's id are deleted.
    null: the column is set to NULL where it is the member's id (the row stays, anonymised).
    disown: invitations they created lose their author; personal ones are revoked too.
    delete_email: rows whose column is the member's email are deleted.
    delete_mentions: rows whose (text or JSON) column mentions the member are deleted.
    scrub: mentions inside a JSON column are replaced by "[erased]" (the row stays).
    """

    column: str
    action: str


RULES: dict[str, tuple[Rule, ...]] = {
    "groups": (Rule("settings", "scrub"),),
    "categories": (),
    "roles": (),
    "members": (Rule("user_id", "delete"), Rule("invited_by", "null")),
    "member_roles": (Rule("user_id", "delete"), Rule("granted_by", "null")),
    "cohorts": (Rule("created_by", "null"),),
    "invitations": (Rule("created_by", "disown"),),
    "invitation_uses": (Rule("user_id", "delete"),),
    "roster_entries": (Rule("matched_user_id", "delete"), Rule("email", "delete_email")),
    "role_requests": (Rule("user_id", "delete"), Rule("decided_by", "null")),
    "code_attempts": (Rule("user_id", "delete"),),
    "grant_queue": (Rule("user_id", "delete"),),
    "prompts": (Rule("suggested_by", "null"), Rule("decided_by", "null")),
    "prompt_runs": (),
    "posts": (Rule("author_id", "null"), Rule("fields", "scrub")),
    "activity": (Rule("user_id", "null"),),
    "profiles": (Rule("user_id", "delete"),),
    "pair_opt_ins": (Rule("user_id", "delete"),),
    "pairs": (Rule("user_ids", "delete_mentions"), Rule("answers", "delete_mentions")),
    # The owner of a claim is a process id, never a member.
    "job_runs": (),
    "processed_events": (Rule("key", "delete_mentions"),),
    "kv": (Rule("key", "delete_mentions"), Rule("value", "delete_mentions")),
    # -- mail (bot/cogs/mail): emails to or about the member and their opt-in go; an
    # opt-out stays, as it is kept only as a keyed hash that names nobody.
    "mail_outbox": (Rule("user_id", "delete"), Rule("address", "delete_email")),
    "mail_subscriptions": (Rule("user_id", "delete"), Rule("address", "delete_email")),
    "mail_opt_outs": (),
    "mail_keys": (),
    "mail_pacer": (),
}


def uncovered_tables() -> list[str]:
    """Tables of the schema that have no rule (they fall back to search-and-delete)."""
    return sorted(set(Base.metadata.tables) - set(RULES))


class Needles:
    """What names a member: their user id (as a whole token) and their email (any case)."""

    def __init__(self, user_id: str, email: str | None) -> None:
        self.user_id = user_id
        self.email = email.lower() if email else None
        self._token = re.compile(r"(?<![\w@.])" + re.escape(user_id) + r"(?![\w@])")

    def in_text(self, text: str) -> bool:
        """True if the text names the member."""
        if self._token.search(text):
            return True
        return bool(self.email) and self.email in text.lower()  # type: ignore[operator]

    def in_value(self, value: Any) -> bool:
        """True if a value (text, or JSON nested any deep) names the member."""
        if isinstance(value, str):
            return self.in_text(value)
        if isinstance(value, dict):
            return any(self.in_text(str(k)) or self.in_value(v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return any(self.in_value(v) for v in value)
        return False

    def scrub(self, value: Any) -> Any:
        """The value with every mention replaced (and keys naming the member dropped)."""
        if isinstance(value, str):
            return ERASED if self.in_text(value) else value
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items() if not self.in_text(str(k))}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _own_part(table: str, row: dict[str, Any], user_id: str) -> dict[str, Any]:
    """A shared row as its member may see it: a pair's answers are each member's own."""
    if table == "pairs" and isinstance(row.get("answers"), dict):
        answers = dict(row["answers"])
        replies = answers.get("replies") or {}
        answers["replies"] = {k: v for k, v in replies.items() if k == user_id}
        return {**row, "answers": answers}
    return row


class SqlPrivacyRepository(Repository):
    """Export and erasure over every table of the schema."""

    def _tables(self) -> list[Table]:
        return list(Base.metadata.sorted_tables)

    @staticmethod
    def _in_group(table: Table, group_id: str) -> ColumnElement[bool]:
        column = table.c.get("group_id")
        if column is None:
            return table.c.id == group_id if table.name == "groups" else true()
        return column == group_id

    async def _email(self, group_id: str, user_id: str) -> str | None:
        return await self.session.scalar(
            select(MemberRow.email).where(
                MemberRow.group_id == group_id, MemberRow.user_id == user_id
            )
        )

    def _rules(self, table: Table) -> tuple[Rule, ...]:
        rules = RULES.get(table.name)
        if rules is not None:
            return rules
        # Unknown table: search every text or JSON column, delete what mentions the member.
        return tuple(
            Rule(c.name, "delete_mentions")
            for c in table.columns
            if isinstance(c.type, String) or c.type.__class__.__name__ in {"JSON", "Text"}
        )

    def _candidates(self, table: Table, rule: Rule, needles: Needles) -> ColumnElement[bool] | None:
        """A WHERE clause for rows the rule may concern (mentions are then checked in Python)."""
        col = table.c[rule.column]
        if rule.action in {"delete", "null", "disown"}:
            return col == needles.user_id
        if rule.action == "delete_email":
            return func.lower(col) == needles.email if needles.email else None
        text = cast(col, String)
        clauses = [text.contains(needles.user_id, autoescape=True)]
        if needles.email:
            clauses.append(func.lower(text).contains(needles.email, autoescape=True))
        return or_(*clauses)

    def _exact(self, rule: Rule) -> bool:
        return rule.action in {"delete", "null", "disown", "delete_email"}

    async def _matching_rows(
        self, table: Table, group_id: str, rule: Rule, needles: Needles
    ) -> list[dict[str, Any]]:
        where = self._candidates(table, rule, needles)
        if where is None:
            return []
        result = await self.session.execute(
            select(table).where(self._in_group(table, group_id), where)
        )
        rows = [dict(r) for r in result.mappings()]
        if self._exact(rule):
            return rows
        return [r for r in rows if needles.in_value(r[rule.column])]

    async def export(self, group_id: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
        """Rows naming the member, by table (only tables with any), JSON-ready."""
        needles = Needles(user_id, await self._email(group_id, user_id))
        out: dict[str, list[dict[str, Any]]] = {}
        for table in self._tables():
            keys = [c.name for c in table.primary_key.columns]
            seen: dict[tuple[Any, ...], dict[str, Any]] = {}
            for rule in self._rules(table):
                for row in await self._matching_rows(table, group_id, rule, needles):
                    seen.setdefault(tuple(row[k] for k in keys), row)
            if seen:
                out[table.name] = [
                    {k: _jsonable(v) for k, v in _own_part(table.name, row, user_id).items()}
                    for row in seen.values()
                ]
        return out

    async def erase(self, group_id: str, user_id: str) -> dict[str, int]:
        """Delete or anonymise every row naming the member; counts of rows touched by table."""
        needles = Needles(user_id, await self._email(group_id, user_id))
        touched: dict[str, int] = {}
        for table in reversed(self._tables()):
            keys = [c.name for c in table.primary_key.columns]
            for rule in self._rules(table):
                rows = await self._matching_rows(table, group_id, rule, needles)
                for row in rows:
                    by_key = and_(*(table.c[k] == row[k] for k in keys))
                    await self.session.execute(self._erasure(table, rule, row, by_key, needles))
                if rows:
                    touched[table.name] = touched.get(table.name, 0) + len(rows)
        await self.session.flush()
        return touched

    def _erasure(
        self,
        table: Table,
        rule: Rule,
        row: dict[str, Any],
        by_key: ColumnElement[bool],
        needles: Needles,
    ) -> Any:
        if rule.action == "null":
            return update(table).where(by_key).values({rule.column: None})
        if rule.action == "disown":
            # A personal invitation dies with its author; a cohort code staff handed out lives on.
            values: dict[str, Any] = {rule.column: None}
            if row.get("kind") != "cohort":
                values["revoked"] = True
            return update(table).where(by_key).values(values)
        if rule.action == "scrub":
            return (
                update(table).where(by_key).values({rule.column: needles.scrub(row[rule.column])})
            )
        return delete(table).where(by_key)
