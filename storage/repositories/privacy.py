"""Everything the bot stores about one member, table by table: export it, or erase it.

Every table of `storage.models` has an entry in RULES saying how it names a member and what
erasure does there; tables that libraries create in the same database (slack_sdk's OAuth
tables, Alembic's version) have one in EXTERNAL. A table added later without an entry is still
searched: any row that mentions the member is exported, and deleted on erasure (safe by
default; add a rule to keep anonymised rows instead). `tests/security/test_privacy_rules.py`
fails while a table has no rule.

An export holds the member's own data only: where a row involves someone else (a member they
invited, a role they granted, a week's list of who wrote), the other person shows as "another
member" in the group's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    String,
    Table,
    and_,
    cast,
    column,
    delete,
    func,
    inspect,
    or_,
    select,
    table,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import TableClause

from bot.cogs.posts.records import Post
from bot.cogs.privacy.needles import Needles
from bot.cogs.privacy.records import ERASED, NamedMessage
from bot.events import MessageRef
from storage.models import (
    Base,
    CodeAttemptRow,
    MemberMessageRow,
    MemberRow,
    PostRow,
    ProcessedEventRow,
    RoleRequestRow,
    RosterEntryRow,
)
from storage.repositories.base import Repository
from storage.repositories.posts import post_record

__all__ = ["ERASED", "EXTERNAL", "RULES", "Needles", "SqlPrivacyRepository", "uncovered_tables"]


@dataclass(frozen=True)
class Rule:
    """How one column names a member, and what erasure does about it.

    delete: rows whose column is the member's id are deleted.
    null: the column is set to NULL where it is the member's id (the row stays, anonymised).
    null_author: like null, and the display name kept beside it (`author_name`) is erased.
    disown: invitations they created lose their author; personal ones are revoked too.
    delete_email: rows whose column is the member's email are deleted.
    delete_mentions: rows whose (text or JSON) column mentions the member are deleted.
    scrub: mentions inside a text or JSON column are replaced by "[erased]" (the row stays).
    replace: the column, where it is the member's id, becomes "[erased]" (a column that may
        not be NULL, in a table the bot does not own).
    """

    column: str
    action: str


RULES: dict[str, tuple[Rule, ...]] = {
    "groups": (Rule("settings", "scrub"),),
    "categories": (Rule("description", "scrub"),),
    "roles": (),
    "members": (Rule("user_id", "delete"), Rule("invited_by", "null")),
    "member_roles": (Rule("user_id", "delete"), Rule("granted_by", "null")),
    # A member's role history goes with them; the roles they gave others stay, anonymised.
    "role_events": (Rule("user_id", "delete"), Rule("by", "null")),
    "cohorts": (Rule("created_by", "null"),),
    "invitations": (Rule("created_by", "disown"),),
    "invitation_uses": (Rule("user_id", "delete"),),
    "roster_entries": (Rule("matched_user_id", "delete"), Rule("email", "delete_email")),
    "role_requests": (Rule("user_id", "delete"), Rule("decided_by", "null")),
    "code_attempts": (Rule("user_id", "delete"),),
    "grant_queue": (Rule("user_id", "delete"),),
    "prompts": (
        Rule("suggested_by", "null"),
        Rule("decided_by", "null"),
        Rule("text", "scrub"),
        Rule("text_nb", "scrub"),
    ),
    "prompt_runs": (),
    "posts": (Rule("author_id", "null_author"), Rule("fields", "scrub")),
    "activity": (Rule("user_id", "null"),),
    "profiles": (Rule("user_id", "delete"), Rule("fields", "scrub")),
    "pair_opt_ins": (Rule("user_id", "delete"),),
    "pairs": (Rule("user_ids", "delete_mentions"), Rule("answers", "delete_mentions")),
    # The owner of a claim is a process id, never a member.
    "job_runs": (),
    "processed_events": (Rule("key", "delete_mentions"),),
    "kv": (Rule("key", "delete_mentions"), Rule("value", "delete_mentions")),
    # A message in the member's own DM ("D:<id>") is theirs too, whoever it names.
    "member_messages": (
        Rule("user_id", "delete"),
        Rule("channel_id", "delete_mentions"),
        Rule("replacement", "scrub"),
    ),
    # -- mail (bot/cogs/mail): emails to or about the member and their opt-in go; an
    # opt-out stays, as it is kept only as a keyed hash that names nobody.
    "mail_outbox": (Rule("user_id", "delete"), Rule("address", "delete_email")),
    "mail_subscriptions": (Rule("user_id", "delete"), Rule("address", "delete_email")),
    "mail_opt_outs": (),
    "mail_keys": (),
    "mail_pacer": (),
    # A roster entry's personal invitation goes with the entry; the teacher is forgotten.
    "mail_invitations": (Rule("invited_by", "null"),),
    # -- dashboard (bot/cogs/dashboard): their sign-in links and sessions go; the changes they
    # made stay in the audit, anonymised.
    "dashboard_links": (Rule("user_id", "delete"),),
    "dashboard_sessions": (Rule("user_id", "delete"),),
    "dashboard_audit": (Rule("user_id", "null_author"), Rule("detail", "scrub")),
    "dashboard_keys": (),
}


@dataclass(frozen=True)
class External:
    """A table a library keeps in the bot's database: its group column, rules, and the only
    columns an export may show (never a token)."""

    group_column: str | None
    rules: tuple[Rule, ...] = ()
    columns: tuple[str, ...] = ()


EXTERNAL: dict[str, External] = {
    "alembic_version": External(None),
    # slack_sdk's AsyncSQLAlchemyInstallationStore: `user_id` is who installed the app (it may
    # not be NULL). `slack_bots` holds tokens and bot ids only; `slack_oauth_states` a random
    # state per install in progress, deleted when used.
    "slack_installations": External(
        "team_id",
        (Rule("user_id", "replace"),),
        ("team_id", "team_name", "user_id", "installed_at"),
    ),
    "slack_bots": External("team_id"),
    "slack_oauth_states": External(None),
}

# Columns that hold a person: "id" (a user id), "email", or "name:<column>" (a name that
# belongs to whoever that column of the row names). In an export, a person other than the
# member shows as "another member".
PEOPLE: dict[str, dict[str, str]] = {
    "members": {"user_id": "id", "invited_by": "id", "name": "name:user_id", "email": "email"},
    "member_roles": {"user_id": "id", "granted_by": "id"},
    "role_events": {"user_id": "id", "by": "id"},
    "cohorts": {"created_by": "id"},
    "invitations": {"created_by": "id"},
    "invitation_uses": {"user_id": "id"},
    "roster_entries": {"matched_user_id": "id", "email": "email", "name": "name:email"},
    "role_requests": {"user_id": "id", "decided_by": "id"},
    "code_attempts": {"user_id": "id"},
    "grant_queue": {"user_id": "id"},
    "prompts": {"suggested_by": "id", "decided_by": "id"},
    "posts": {"author_id": "id"},
    "activity": {"user_id": "id"},
    "profiles": {"user_id": "id"},
    "pair_opt_ins": {"user_id": "id"},
    "member_messages": {"user_id": "id"},
    "slack_installations": {"user_id": "id"},
    "mail_invitations": {"invited_by": "id"},
    "dashboard_links": {"user_id": "id", "user_name": "name:user_id"},
    "dashboard_sessions": {"user_id": "id", "user_name": "name:user_id"},
    "dashboard_audit": {"user_id": "id", "author_name": "name:user_id"},
}


def uncovered_tables(names: Iterable[str] | None = None) -> list[str]:
    """Tables (of the schema, or the names given) with no rule; they fall back to search."""
    names = Base.metadata.tables if names is None else names
    return sorted(set(names) - set(RULES) - set(EXTERNAL))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _Person:
    """Who the member is, to tell their values from other people's in an export."""

    def __init__(self, user_id: str, email: str | None) -> None:
        self.user_id = user_id
        self.email = email.lower() if email else None

    def owns(self, kind: str, value: Any) -> bool:
        if kind == "email":
            return isinstance(value, str) and value.lower() == self.email
        return bool(value == self.user_id)


class SqlPrivacyRepository(Repository):
    """Export and erasure over every table of the schema and the libraries' tables."""

    def _tables(self) -> list[Table]:
        return list(Base.metadata.sorted_tables)

    @staticmethod
    def _in_group(tbl: Table | TableClause, group_id: str, group_column: str = "group_id") -> Any:
        col = tbl.c.get(group_column)
        if col is None:
            return tbl.c.id == group_id if tbl.name == "groups" else true()
        return col == group_id

    async def _email(self, group_id: str, user_id: str) -> str | None:
        return await self.session.scalar(
            select(MemberRow.email).where(
                MemberRow.group_id == group_id, MemberRow.user_id == user_id
            )
        )

    def _rules(self, tbl: Table) -> tuple[Rule, ...]:
        rules = RULES.get(tbl.name)
        if rules is not None:
            return rules
        # Unknown table: search every text or JSON column, delete what mentions the member.
        return tuple(
            Rule(c.name, "delete_mentions")
            for c in tbl.columns
            if isinstance(c.type, String) or c.type.__class__.__name__ in {"JSON", "Text"}
        )

    def _candidates(
        self, tbl: Table | TableClause, rule: Rule, needles: Needles
    ) -> ColumnElement[bool] | None:
        """A WHERE clause for rows the rule may concern (mentions are then checked in Python)."""
        col = tbl.c[rule.column]
        if rule.action in {"delete", "null", "null_author", "disown", "replace"}:
            return col == needles.user_id
        if rule.action == "delete_email":
            return func.lower(col) == needles.email if needles.email else None
        # Ids are matched in any case (a local id is a lower-cased name), like the needles do.
        as_text = func.lower(cast(col, String))
        clauses = [as_text.contains(needles.user_id.lower(), autoescape=True)]
        if needles.email:
            clauses.append(as_text.contains(needles.email, autoescape=True))
        return or_(*clauses)

    @staticmethod
    def _exact(rule: Rule) -> bool:
        return rule.action in {"delete", "null", "null_author", "disown", "delete_email", "replace"}

    async def _matching_rows(
        self,
        tbl: Table | TableClause,
        group_id: str,
        rule: Rule,
        needles: Needles,
        group_column: str = "group_id",
    ) -> list[dict[str, Any]]:
        where = self._candidates(tbl, rule, needles)
        if where is None:
            return []
        result = await self.session.execute(
            select(tbl).where(self._in_group(tbl, group_id, group_column), where)
        )
        rows = [dict(r) for r in result.mappings()]
        if self._exact(rule):
            return rows
        return [r for r in rows if needles.in_value(r[rule.column])]

    async def _external(self) -> list[tuple[TableClause, External]]:
        """The libraries' tables with rules that exist in this database, as light tables."""

        def present(sync_session: Any) -> set[str]:
            names = inspect(sync_session.connection()).get_table_names()
            return set(names)

        wanted = {name: ext for name, ext in EXTERNAL.items() if ext.rules}
        existing = await self.session.run_sync(present) if wanted else set()
        out = []
        for name, ext in wanted.items():
            if name in existing:
                cols = {*ext.columns, *(r.column for r in ext.rules), "id"}
                if ext.group_column:
                    cols.add(ext.group_column)
                out.append((table(name, *(column(c) for c in sorted(cols))), ext))
        return out

    # -- export -----------------------------------------------------------------------------

    async def export(
        self, group_id: str, user_id: str, another: str = "another member"
    ) -> dict[str, list[dict[str, Any]]]:
        """Rows naming the member, by table (only tables with any), JSON-ready; every other
        person in them shows as `another`."""
        email = await self._email(group_id, user_id)
        needles = Needles(user_id, email)
        person = _Person(user_id, email)
        others = await self._others(group_id, user_id, email)
        out: dict[str, list[dict[str, Any]]] = {}
        for tbl in self._tables():
            keys = [c.name for c in tbl.primary_key.columns]
            seen: dict[tuple[Any, ...], dict[str, Any]] = {}
            for rule in self._rules(tbl):
                for row in await self._matching_rows(tbl, group_id, rule, needles):
                    seen.setdefault(tuple(row[k] for k in keys), row)
            if seen:
                out[tbl.name] = [
                    self._shown(tbl.name, row, person, others, another) for row in seen.values()
                ]
        for light, ext in await self._external():
            rows: list[dict[str, Any]] = []
            for rule in ext.rules:
                rows += await self._matching_rows(
                    light, group_id, rule, needles, ext.group_column or "group_id"
                )
            if rows:
                out[light.name] = [
                    self._shown(light.name, {c: r[c] for c in ext.columns}, person, others, another)
                    for r in rows
                ]
        return out

    async def _others(self, group_id: str, user_id: str, email: str | None) -> Needles:
        """Everyone else the group knows, by id and email."""
        rows = await self.session.execute(
            select(MemberRow.user_id, MemberRow.email).where(MemberRow.group_id == group_id)
        )
        ids: list[str] = []
        emails: list[str | None] = []
        for uid, mail in rows.all():
            if uid != user_id:
                ids.append(uid)
                emails.append(
                    mail if mail and (not email or mail.lower() != email.lower()) else None
                )
        roster = await self.session.scalars(
            select(RosterEntryRow.email).where(RosterEntryRow.group_id == group_id)
        )
        emails += [e for e in roster if not email or e.lower() != email.lower()]
        return Needles.of(ids, emails)

    @staticmethod
    def _shown(
        name: str, row: dict[str, Any], person: _Person, others: Needles, another: str
    ) -> dict[str, Any]:
        """A row as its member may see it: other people replaced, others' answers left out."""
        people = PEOPLE.get(name, {})
        shown: dict[str, Any] = {}
        for col, value in row.items():
            kind = people.get(col)
            if kind is not None and value is not None:
                if kind.startswith("name:"):
                    owner_col = kind[5:]
                    owner_kind = people.get(owner_col, "id")
                    mine = person.owns(owner_kind, row.get(owner_col))
                else:
                    mine = person.owns(kind, value)
                shown[col] = value if mine else another
                continue
            shown[col] = _jsonable(others.redact(value, another))
        if name == "pairs" and isinstance(shown.get("answers"), dict):
            answers = dict(shown["answers"])
            replies = answers.get("replies") or {}
            answers["replies"] = {k: v for k, v in replies.items() if k == person.user_id}
            shown["answers"] = answers
        if name == "posts" and row.get("author_id") != person.user_id:
            shown["author_name"] = another
        return shown

    # -- erasure ----------------------------------------------------------------------------

    async def erase(self, group_id: str, user_id: str) -> dict[str, int]:
        """Delete or anonymise every row naming the member; counts of rows touched by table."""
        needles = Needles(user_id, await self._email(group_id, user_id))
        touched: dict[str, int] = {}
        for tbl in reversed(self._tables()):
            keys = [c.name for c in tbl.primary_key.columns]
            for rule in self._rules(tbl):
                rows = await self._matching_rows(tbl, group_id, rule, needles)
                for row in rows:
                    by_key = and_(*(tbl.c[k] == row[k] for k in keys))
                    await self.session.execute(self._erasure(tbl, rule, row, by_key, needles))
                if rows:
                    touched[tbl.name] = touched.get(tbl.name, 0) + len(rows)
        for light, ext in await self._external():
            for rule in ext.rules:
                rows = await self._matching_rows(
                    light, group_id, rule, needles, ext.group_column or "group_id"
                )
                for row in rows:
                    await self.session.execute(
                        self._erasure(light, rule, row, light.c.id == row["id"], needles)
                    )
                if rows:
                    touched[light.name] = touched.get(light.name, 0) + len(rows)
        await self.session.flush()
        return touched

    def _erasure(
        self,
        tbl: Table | TableClause,
        rule: Rule,
        row: dict[str, Any],
        by_key: ColumnElement[bool],
        needles: Needles,
    ) -> Any:
        if rule.action == "null":
            return update(tbl).where(by_key).values({rule.column: None})
        if rule.action == "replace":
            return update(tbl).where(by_key).values({rule.column: ERASED})
        if rule.action == "null_author":
            return update(tbl).where(by_key).values({rule.column: None, "author_name": ERASED})
        if rule.action == "disown":
            # A friend code dies with its author; a cohort code staff handed out lives on, and
            # so do the personal codes a teacher emailed to a roster (they are the students').
            values: dict[str, Any] = {rule.column: None}
            if row.get("kind") not in ("cohort", "roster"):
                values["revoked"] = True
            return update(tbl).where(by_key).values(values)
        if rule.action == "scrub":
            return update(tbl).where(by_key).values({rule.column: needles.scrub(row[rule.column])})
        return delete(tbl).where(by_key)

    # -- what erasure must reach on the platform ---------------------------------------------

    async def remember(
        self,
        group_id: str,
        ref: MessageRef,
        user_ids: Sequence[str],
        replacement: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """Record who a bot message names now (replacing what was recorded for it before)."""
        await self.session.execute(
            delete(MemberMessageRow).where(
                MemberMessageRow.group_id == group_id,
                MemberMessageRow.channel_id == ref.channel_id,
                MemberMessageRow.message_id == ref.id,
            )
        )
        for uid in dict.fromkeys(user_ids):
            self.session.add(
                MemberMessageRow(
                    group_id=group_id,
                    user_id=uid,
                    channel_id=ref.channel_id,
                    message_id=ref.id,
                    thread_id=ref.thread_id,
                    replacement=replacement,
                    created_at=now,
                )
            )
        await self.session.flush()

    async def named_messages(self, group_id: str, user_id: str) -> list[NamedMessage]:
        """The bot's messages that name the member: those recorded, and review posts of role
        requests they made or decided."""
        rows = await self.session.scalars(
            select(MemberMessageRow)
            .where(MemberMessageRow.group_id == group_id, MemberMessageRow.user_id == user_id)
            .order_by(MemberMessageRow.id)
        )
        found = {
            (r.channel_id, r.message_id): NamedMessage(
                MessageRef(r.channel_id, r.message_id, r.thread_id), r.replacement
            )
            for r in rows
        }
        requests = await self.session.execute(
            select(RoleRequestRow.review_channel_id, RoleRequestRow.review_message_id).where(
                RoleRequestRow.group_id == group_id,
                or_(RoleRequestRow.user_id == user_id, RoleRequestRow.decided_by == user_id),
                RoleRequestRow.review_message_id.is_not(None),
            )
        )
        for channel_id, message_id in requests.all():
            if channel_id and message_id:
                found.setdefault(
                    (channel_id, message_id), NamedMessage(MessageRef(channel_id, message_id))
                )
        return list(found.values())

    async def authored_posts(self, group_id: str, user_id: str) -> list[Post]:
        """Listings the member posted (their cards name them)."""
        rows = await self.session.scalars(
            select(PostRow)
            .where(PostRow.group_id == group_id, PostRow.author_id == user_id)
            .order_by(PostRow.id)
        )
        return [post_record(r) for r in rows]

    async def purge(
        self, group_id: str, attempts_before: datetime, events_before: datetime
    ) -> dict[str, int]:
        """Delete code attempts and handled-event keys older than their stated time."""
        attempts = await self.session.execute(
            delete(CodeAttemptRow).where(
                CodeAttemptRow.group_id == group_id, CodeAttemptRow.at < attempts_before
            )
        )
        events = await self.session.execute(
            delete(ProcessedEventRow).where(
                ProcessedEventRow.group_id == group_id, ProcessedEventRow.at < events_before
            )
        )
        return {
            "code_attempts": int(getattr(attempts, "rowcount", 0) or 0),
            "processed_events": int(getattr(events, "rowcount", 0) or 0),
        }
