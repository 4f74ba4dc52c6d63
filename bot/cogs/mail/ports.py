"""The mail feature's ports: its repositories (the outbox, members' choices) and the Mailer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.cogs.mail.records import (
    AddressStatus,
    Bounce,
    Claimed,
    Invitee,
    NewEmail,
    OutboxStatus,
    SendResult,
    Subscription,
)


class Mailer(Protocol):
    """Hands one finished email to the world: an SMTP server, or a folder of .eml files."""

    # True only if emails reach the recipients' inboxes (SMTP); an outbox folder does not.
    delivers: bool
    # Where emails go, for logs and for staff ("smtp://smtp.example.com:587"); never a password.
    description: str

    async def check(self) -> str | None:
        """None if the transport is ready, else one line saying what is wrong."""

    async def send(self, sender: str, recipient: str, message: bytes) -> SendResult:
        """Send one RFC 5322 message; never raises for what the server answers."""

    async def close(self) -> None:
        """Close any open connection."""


class OutboxRepository(Protocol):
    """Every email is a row: queued, claimed by one sender, then sent, bounced or given up."""

    async def secret(self, now: datetime) -> bytes:
        """The installation's key for address hashes, made once (the first caller wins)."""

    async def add(self, rows: Sequence[NewEmail]) -> dict[int, int]:
        """Insert rows in one statement, skipping keys already in the outbox: index -> id."""

    async def claim(
        self,
        owner: str,
        now: datetime,
        wall: datetime,
        stale_before: datetime,
        pace_before: datetime | None,
    ) -> Claimed | None:
        """Claim the next email due at `now` (or one whose sender died: claimed before
        `stale_before`) in one statement; with `pace_before`, only if no sender anywhere claimed
        one after it (the rate across processes). None if nothing was claimed."""

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
        """Record the outcome; a retry goes back to queued for `retry_at`; a done email
        loses its body."""

    async def release(self, outbox_id: int, owner: str) -> None:
        """Hand a claimed email back untouched (the server was not there to answer)."""

    async def next_due(self) -> tuple[datetime | None, datetime | None]:
        """The earliest queued email's due time, and the oldest claim still sending."""

    async def opted_out(self, group_id: str, hashes: Sequence[str]) -> set[str]:
        """Which of these address hashes opted out of the group's email."""

    async def add_opt_out(
        self, group_id: str, address_hash: str, source: str, now: datetime
    ) -> bool:
        """Record an opt-out; False if it was there already."""

    async def remove_opt_out(self, group_id: str, address_hash: str) -> bool:
        """The address's owner asked for email again; False if it had not opted out."""

    async def statuses(self, group_id: str, addresses: Sequence[str]) -> dict[str, AddressStatus]:
        """The latest email to each address that has any."""

    async def claim_report(self, outbox_id: int, now: datetime) -> bool:
        """Mark a bounce reported; False if it was reported already (reports go once)."""

    async def unreported_bounces(self, group_id: str, kind: str) -> list[Bounce]:
        """Bounces of a kind nobody reported yet."""

    async def counts(self, group_id: str) -> dict[OutboxStatus, int]:
        """How many emails of the group are in each status."""

    async def prune(self, group_id: str, before: datetime) -> int:
        """Delete the group's finished rows older than `before`; returns how many."""


class MailPreferences(Protocol):
    """Members' choices: the weekly digest by email, and the address it goes to."""

    async def subscription(self, group_id: str, user_id: str, kind: str) -> Subscription | None:
        """A member's opt-in (confirmed or waiting for its code)."""

    async def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace an opt-in."""

    async def drop_subscription(self, group_id: str, user_id: str, kind: str) -> bool:
        """Remove an opt-in; False if there was none."""

    async def subscribers(self, group_id: str, kind: str) -> list[Subscription]:
        """Confirmed opt-ins of a kind, of members still in the group."""

    async def known_address(self, group_id: str, user_id: str) -> str | None:
        """The member's address from their record, else from the roster entry they matched."""


class InvitationRepository(Protocol):
    """Personal invitations: one single-use code per roster entry, and its emails."""

    async def invitees(self, group_id: str, cohort_id: int) -> list[Invitee]:
        """The cohort's roster entries with their personal code and emails, in import order."""

    async def create(
        self,
        group_id: str,
        cohort_id: int,
        items: Sequence[tuple[Invitee, str]],
        by: str | None,
        expires_at: datetime,
        now: datetime,
    ) -> dict[int, str]:
        """Store a personal code per (entry, code) in one statement each for the codes and the
        links; a code already taken is skipped: entry id -> the code stored."""

    async def emailed(self, entry_ids: Sequence[int], now: datetime, expires_at: datetime) -> None:
        """Count an email for each entry and keep its code valid until `expires_at`."""

    async def may_redeem(self, invitation_id: int, user_id: str) -> bool:
        """False if the code is a personal one whose roster entry joined as someone else."""

    async def joined(self, invitation_id: int, user_id: str, now: datetime) -> None:
        """A personal code was redeemed: its roster entry is that member's, once."""

    async def inviter(self, group_id: str, address: str) -> str | None:
        """Who invited this address most recently (to tell them of a bounce)."""
