"""Records of the mail feature: what callers queue, what the outbox says, what a send returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Kinds of email this package sends itself; other features name their own (e.g. "invitation").
DIGEST = "digest"
CONFIRM = "confirm"


class OutboxStatus(StrEnum):
    """Where one email of the outbox is."""

    QUEUED = "queued"  # waiting (new, or retried after a temporary answer)
    SENDING = "sending"  # claimed by one sender
    SENT = "sent"  # the server (or the outbox folder) accepted it
    BOUNCED = "bounced"  # refused for good (5xx): the address is marked bounced
    FAILED = "failed"  # only temporary answers for a whole day: given up
    SKIPPED = "skipped"  # the address opted out between queueing and sending


DONE = frozenset(
    {OutboxStatus.SENT, OutboxStatus.BOUNCED, OutboxStatus.FAILED, OutboxStatus.SKIPPED}
)


class Outcome(StrEnum):
    """What one attempt to send gave."""

    SENT = "sent"
    RETRY = "retry"  # a 4xx answer about this email: try it again later
    BOUNCED = "bounced"  # a 5xx answer about the recipient or the message
    UNAVAILABLE = "unavailable"  # the server is down or refuses us: every email waits


@dataclass(frozen=True)
class SendResult:
    """The answer of the Mailer to one email: the SMTP code and text where there was one."""

    outcome: Outcome
    code: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Email:
    """An email a feature wants sent, in the group's language; the mail package adds the
    headers, the why-and-how-to-stop footer, and an HTML part when `html` is None."""

    to: str
    subject: str
    text: str
    # One sentence in the group's language: why this person gets this email.
    why: str
    # Paragraphs of HTML the caller escaped itself (None: made from `text`).
    html: str | None = None
    reply_to: str | None = None
    # The member the email is about, so their erasure removes it.
    user_id: str | None = None
    # At most one email per key in a group, ever ("digest:2026-W35:kari"): exactly once.
    key: str | None = None


class QueueStatus(StrEnum):
    """What happened to one email handed to MailService.enqueue."""

    QUEUED = "queued"
    DUPLICATE = "duplicate"  # its key was queued before: not again
    OPTED_OUT = "opted_out"  # the address asked for no more email
    BOUNCED = "bounced"  # the address bounced before (pass retry_bounced to try anyway)
    INVALID = "invalid"  # not an email address


@dataclass(frozen=True)
class Queued:
    """The answer for one email of an enqueue call."""

    address: str
    status: QueueStatus
    outbox_id: int | None = None


@dataclass(frozen=True)
class NewEmail:
    """A row for the outbox: the built message and where it goes."""

    group_id: str
    kind: str
    address: str
    address_hash: str
    subject: str
    message: str
    user_id: str | None
    key: str | None
    created_at: datetime


@dataclass(frozen=True)
class Claimed:
    """An email one sender claimed; `opted_out` is read in the same statement as the claim."""

    id: int
    group_id: str
    kind: str
    address: str
    user_id: str | None
    message: str
    attempts: int
    created_at: datetime
    opted_out: bool


class AddressState(StrEnum):
    """What a caller may tell a teacher about one address."""

    NONE = "none"  # never emailed
    QUEUED = "queued"
    SENT = "sent"
    BOUNCED = "bounced"
    FAILED = "failed"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class AddressStatus:
    """The latest email to one address and when the last one went out."""

    address: str
    state: AddressState
    # When the latest email reached its state (queued, sent, bounced...).
    at: datetime | None = None
    last_sent_at: datetime | None = None
    code: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Bounce:
    """An email refused for good, for its feature to report once."""

    outbox_id: int
    group_id: str
    kind: str
    address: str
    user_id: str | None
    code: int | None
    detail: str
    at: datetime


@dataclass(frozen=True)
class Subscription:
    """A member's opt-in to a kind of email (the weekly digest)."""

    group_id: str
    user_id: str
    kind: str
    address: str
    confirmed: bool
    since: datetime
    code_hash: str | None = None
    code_sent_at: datetime | None = None
    code_tries: int = 0


class DigestOutcome(StrEnum):
    """What `/alumni digest` did."""

    ON = "on"
    ALREADY_ON = "already_on"
    OFF = "off"
    WAS_OFF = "was_off"
    NO_ADDRESS = "no_address"
    CODE_SENT = "code_sent"
    CODE_WAIT = "code_wait"  # a code went out a moment ago: not another one yet
    CODE_WRONG = "code_wrong"
    CODE_NONE = "code_none"  # no code is waiting (expired, used up, or never asked)
    INVALID = "invalid"
    UNREACHABLE = "unreachable"  # the typed address takes no email from the group


@dataclass(frozen=True)
class DigestAnswer:
    """The result of a digest choice; `address` is the one used (shown only to its owner)."""

    outcome: DigestOutcome
    address: str | None = None
    delivered: bool = True


@dataclass(frozen=True)
class MailConfig:
    """How the outbox sends: From, pace, retries, and the public URL for one-click unsubscribe."""

    sender: str = "alumnibot@localhost"
    # Emails per minute across every process (None: as fast as the transport takes them).
    rate_per_minute: float | None = 30.0
    public_url: str | None = None
    # 4xx answers are retried with doubling waits, for a day; then the email is given up.
    retry_for: timedelta = timedelta(days=1)
    first_retry: timedelta = timedelta(minutes=1)
    longest_retry: timedelta = timedelta(hours=1)
    # A server that is down or refuses our login: wait, doubling, between these (seconds).
    pause_first: float = 5.0
    pause_longest: float = 300.0
    # A claim older than this is taken back: its process died while sending.
    lease: timedelta = timedelta(minutes=15)
    # Sent emails lose their body at once; their rows (address, kind, status) go after this.
    keep_rows: timedelta = timedelta(days=400)


# -- personal invitations (bot/cogs/mail/invitations.py) ------------------------------------

# Invitations and reminders are one kind of email: a bounce of either tells the teacher.
INVITATION = "invitation"
# A reminder goes to an address at most this often; a personal code lasts a semester.
REMIND_EVERY = timedelta(days=3)
PERSONAL_CODE_DAYS = 120


@dataclass(frozen=True)
class Invitee:
    """A roster entry as invitations see it: its address, its personal code, its emails."""

    entry_id: int
    email: str
    name: str
    role_key: str
    joined_user_id: str | None
    code: str | None = None  # None: no personal code made yet (imported with send:no)
    emailed_at: datetime | None = None
    emails: int = 0


class Delivery(StrEnum):
    """What happened to one address of an invitation or reminder run."""

    QUEUED = "queued"  # in the outbox, going at the pace
    HANDED = "handed"  # no mail server on this platform: the code is in the teacher's file
    IMPORTED = "imported"  # send:no: on the roster, no email, no code yet
    RECENT = "recent"  # a reminder went less than REMIND_EVERY ago
    OPTED_OUT = "opted_out"
    BOUNCED = "bounced"
    JOINED = "joined"  # already in the group: nothing to send


@dataclass(frozen=True)
class InviteReport:
    """The teacher's answer in records: per address what happened, and the codes' file."""

    deliveries: tuple[tuple[str, Delivery, datetime | None], ...]
    # Emails reach inboxes (SMTP); False: kept in the outbox folder or not sent at all.
    delivers: bool
    # Emails per minute the outbox sends at (None: as fast as the transport takes them).
    rate: float | None = None
    # A CSV of name, email and code for the teacher, where emails cannot go.
    file: str | None = None

    def count(self, delivery: Delivery) -> int:
        """How many addresses got this outcome."""
        return sum(d is delivery for _, d, _ in self.deliveries)


@dataclass(frozen=True)
class InviteeStatus:
    """One row of `/alumni cohort status`: an address and where its invitation is."""

    email: str
    name: str
    emailed_at: datetime | None
    emails: int
    state: AddressState
    joined: bool
    has_code: bool
