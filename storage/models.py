"""Tables for the whole domain; later features add behaviour, not a rewrite."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        date: Date,
    }


class GroupRow(Base):
    """A community on one platform."""

    __tablename__ = "groups"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]


class CategoryRow(Base):
    """A kind of post and its channel (tracked by platform id, never by name)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("group_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    posting: Mapped[str] = mapped_column(String(16), default="members")
    visibility: Mapped[str] = mapped_column(String(16), default="everyone")
    listing: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    builtin: Mapped[bool] = mapped_column(Boolean, default=True)


class RoleRow(Base):
    """A role the bot manages: student, alumni, staff, industry, discussion, cohort roles."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("group_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    platform_id: Mapped[str | None] = mapped_column(String(64))


class MemberRow(Base):
    """A member; kept after they leave so cohort and history survive a rejoin."""

    __tablename__ = "members"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    invited_by: Mapped[str | None] = mapped_column(String(64))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))


class MemberRoleRow(Base):
    """Who holds which role, and where the grant came from (trust is auditable)."""

    __tablename__ = "member_roles"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str | None] = mapped_column(String(64))
    granted_at: Mapped[datetime]


class RoleEventRow(Base):
    """A role granted or taken, kept after a revocation (member_roles keeps only what is held):
    a member's history of who gave or took what, when."""

    __tablename__ = "role_events"
    __table_args__ = (Index("ix_role_events_member", "group_id", "user_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    role_key: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]


class CohortRow(Base):
    """A class: programme and start year; its name (and its role's) changes only by staff."""

    __tablename__ = "cohorts"
    __table_args__ = (
        UniqueConstraint("group_id", "program", "year"),
        # A name is one cohort's (and its role's): a rename racing another loses here.
        UniqueConstraint("group_id", "name", name="uq_cohorts_group_name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    program: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    graduates_on: Mapped[date | None]
    graduated_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    archived_at: Mapped[datetime | None]  # hidden from lists; members and history stay


class InvitationRow(Base):
    """A join code: for a cohort (from staff) or personal (from a member)."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    role_key: Mapped[str] = mapped_column(String(64))
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class InvitationUseRow(Base):
    """One redemption of a code: who invited whom."""

    __tablename__ = "invitation_uses"
    __table_args__ = (UniqueConstraint("invitation_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime]
    # "granting" while the platform is told, "pending-platform" if it refused, "granted" once
    # it accepted, "revoked" if staff took the roles first: only a refused use may be finished.
    state: Mapped[str] = mapped_column(String(16), default="granted", server_default="granted")


class RosterEntryRow(Base):
    """An expected member of a cohort, matched by email when they join."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("group_id", "cohort_id", "email"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role_key: Mapped[str] = mapped_column(String(64), default="student")
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id"))
    matched_user_id: Mapped[str | None] = mapped_column(String(64))
    matched_at: Mapped[datetime | None]


class RoleRequestRow(Base):
    """A self-chosen trusted role waiting for a staff decision."""

    __tablename__ = "role_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    role_key: Mapped[str] = mapped_column(String(64))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    review_channel_id: Mapped[str | None] = mapped_column(String(64))
    review_message_id: Mapped[str | None] = mapped_column(String(64))


class CodeAttemptRow(Base):
    """A code entry, kept briefly to lock out guessing."""

    __tablename__ = "code_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    ok: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]
    __table_args__ = (Index("ix_code_attempts_who", "group_id", "user_id", "at"),)


class GrantQueueRow(Base):
    """A paced, resumable role change for one member (bulk onboarding)."""

    __tablename__ = "grant_queue"
    __table_args__ = (Index("ix_grant_queue_pending", "group_id", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    batch: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    add_roles: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # A drain claims a row before touching the platform (one process per row); the claim is a
    # lease, so a row of a process that died is taken again once `claimed_until` passed.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    # After a temporary platform error: not before this time (backoff).
    next_attempt_at: Mapped[datetime | None]


class PromptRow(Base):
    """A discussion question: suggested -> accepted -> posted (or rejected)."""

    __tablename__ = "prompts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    bank_id: Mapped[str | None] = mapped_column(String(32))
    theme: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    text_nb: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    suggested_by: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_posted_at: Mapped[datetime | None]
    score: Mapped[int] = mapped_column(Integer, default=0)
    # The queue order staff chose (None: after those, staff's own before the bank's, oldest
    # first); cleared when the question is posted, so it comes back at the end.
    position: Mapped[int | None] = mapped_column(Integer)


class PromptRunRow(Base):
    """One posting of a question: its message, its thread, and when the recap went out."""

    __tablename__ = "prompt_runs"
    __table_args__ = (UniqueConstraint("group_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64), index=True)
    posted_at: Mapped[datetime]
    recap_at: Mapped[datetime | None]


class PostRow(Base):
    """A listing posted through a form (job, rental, event, sale, ...), kept after it closes."""

    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(String(64))
    # The name the card credits, as it was when posted (erasure replaces it).
    author_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    close_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    event_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class ActivityRow(Base):
    """One message counted (never its text): who by role, where, reply or not, when."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_group_time", "group_id", "created_at"),
        # Covers the count of a weekly question's replies without reading the table.
        Index("ix_activity_thread", "thread_id", "group_id", "is_reply", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    author_role: Mapped[str] = mapped_column(String(16))
    category_key: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    is_reply: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class ProfileRow(Base):
    """A member's own profile."""

    __tablename__ = "profiles"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class PairOptInRow(Base):
    """A member who wants coffee pairs."""

    __tablename__ = "pair_opt_ins"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    joined_at: Mapped[datetime]


class PairRow(Base):
    """One pair (or three) in one round, and whether they met."""

    __tablename__ = "pairs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    round: Mapped[str] = mapped_column(String(32))
    user_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobRunRow(Base):
    """A claim on one period of one job: the database makes scheduled work happen once."""

    __tablename__ = "job_runs"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # The fencing token: raised by every claim and takeover; renewals, finishing and the
    # job's fenced writes name it, so a process that lost the claim cannot write.
    token: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The lease: renewed by the running process's heartbeat (real time, not the group's clock).
    lease_until: Mapped[datetime | None]


class ProcessedEventRow(Base):
    """A platform event already handled (Slack retries, gateway replays)."""

    __tablename__ = "processed_events"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime]


class KeyValueRow(Base):
    """Small per-group facts: a command hash, an alert already sent."""

    __tablename__ = "kv"
    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MemberMessageRow(Base):
    """A message the bot posted that names a member, so their erasure can edit it."""

    __tablename__ = "member_messages"
    __table_args__ = (
        Index("ix_member_messages_who", "group_id", "user_id"),
        Index("ix_member_messages_where", "group_id", "channel_id", "message_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    # What the message says without the member (text, title, fields, buttons); None: a note.
    replacement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


# -- mail (bot/cogs/mail) -------------------------------------------------------------------


class MailOutboxRow(Base):
    """One email: queued, claimed by one sender, then sent, bounced, given up or skipped.

    The body goes (message = "") once the email is done; the row stays for the address's
    status and the once-only keys, until the daily prune.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("group_id", "key"),
        Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        Index("ix_mail_outbox_address", "group_id", "address"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(254))
    address_hash: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    # Wall-clock time of the last claim: the pace between emails is kept on it (SQLite).
    claimed_at: Mapped[datetime | None] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(300), default="")
    reported_at: Mapped[datetime | None]


class MailSubscriptionRow(Base):
    """A member's opt-in to a kind of email, and the address it goes to."""

    __tablename__ = "mail_subscriptions"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime]
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_sent_at: Mapped[datetime | None]
    code_tries: Mapped[int] = mapped_column(Integer, default=0)


class MailOptOutRow(Base):
    """An address that asked for no more email from a group, kept only as a keyed hash
    (HMAC-SHA256), so it outlives the member's erasure without keeping the address."""

    __tablename__ = "mail_opt_outs"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class MailKeyRow(Base):
    """Per-installation secrets of the mail feature (the key of the address hashes)."""

    __tablename__ = "mail_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class MailPacerRow(Base):
    """The shared sending slot on PostgreSQL: when the next email may go, across processes."""

    __tablename__ = "mail_pacer"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[datetime]


class MailInvitationRow(Base):
    """A roster entry's personal invitation: its single-use code, who invited, and when the
    last invitation or reminder email was queued for it (reminders wait three days)."""

    __tablename__ = "mail_invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    roster_entry_id: Mapped[int] = mapped_column(
        ForeignKey("roster_entries.id", ondelete="CASCADE"), unique=True
    )
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    invited_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    emailed_at: Mapped[datetime | None]
    emails: Mapped[int] = mapped_column(Integer, default=0)


# -- dashboard (bot/cogs/dashboard) ---------------------------------------------------------


class DashboardLinkRow(Base):
    """A sign-in link: the SHA-256 of its token (never the token), its group and member."""

    __tablename__ = "dashboard_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DashboardSessionRow(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, its CSRF token, its lifetime."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index("ix_dashboard_sessions_member", "group_id", "user_id"),)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(120))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class DashboardAuditRow(Base):
    """One change made in the dashboard: who, what, when."""

    __tablename__ = "dashboard_audit"
    __table_args__ = (Index("ix_dashboard_audit_group", "group_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    # NULL once the member was erased (their name then reads "[erased]").
    user_id: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class DashboardKeyRow(Base):
    """The installation's key that signs the dashboard's cookies (made once)."""

    __tablename__ = "dashboard_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
