"""MailService: the outbox and its paced sender, opt-outs, and the weekly digest by email.

Every feature that emails calls this service (`bot.service(MailService)`); it returns records,
never message text. An email is a row first: `enqueue` answers at once and a background
sender hands the rows, one claim each, to the Mailer at the configured pace, so each email
goes once across restarts and processes. What a transport answers decides what happens:
accepted -> sent; 4xx -> retried with doubling waits for a day; 5xx -> the address is marked
bounced and the feature that sent it hears about it once; server down -> everything waits.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from typing import Literal

from bot.cogs.mail.messages import (
    build,
    digest_parts,
    one_line,
    sender_address,
    unsubscribe_url,
)
from bot.cogs.mail.ports import Mailer
from bot.cogs.mail.records import (
    CONFIRM,
    DIGEST,
    AddressState,
    AddressStatus,
    Bounce,
    Claimed,
    DigestAnswer,
    DigestOutcome,
    Email,
    MailConfig,
    NewEmail,
    OutboxStatus,
    Outcome,
    Queued,
    QueueStatus,
    SendResult,
    Subscription,
)
from bot.domain import Actor, Group, Language
from bot.errors import StorageUnavailable
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory
from bot.safety import email_address

log = logging.getLogger(__name__)

BounceHandler = Callable[[Bounce], Awaitable[None]]

# A confirmation code for a typed address: valid an hour, five tries, one per ten minutes.
CODE_VALID = timedelta(hours=1)
CODE_EVERY = timedelta(minutes=10)
CODE_TRIES = 5
# The longest the sender sleeps while something is queued (other processes add rows too).
LONGEST_SLEEP = 60.0
# The local pace waits this much longer than the interval, so the shared check never loses
# to a rounding of the stored claim time.
PACE_MARGIN = 0.001
_DOWN: Literal["down"] = "down"


def normalise(address: str) -> str | None:
    """The address as the outbox keeps it (lower case, checked), or None if it is not one."""
    return email_address(address)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MailService:
    """Use cases of email: queue, send (paced, once), report bounces, opt out, the digest."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        owner: str = "mail",
        mailer: Mailer | None = None,
        config: MailConfig | None = None,
        wall: Callable[[], datetime] | None = None,
        background: bool = True,
    ) -> None:
        self._uow = uow
        # False: emails go only when send_due() is called (service tests on one connection).
        self._background = background
        self._clock = clock
        self._owner = owner
        self._mailer = mailer
        self.config = config or MailConfig()
        # The pace and the claims' leases are about the real SMTP server: real time, even
        # when the group's clock is the local workspace's (which tests freeze).
        self._wall = wall or (lambda: datetime.now(UTC))
        self._key: bytes | None = None
        self._handlers: dict[str, BounceHandler] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()
        self._settled.set()
        self._last_claim = float("-inf")
        self._down = False

    # -- wiring -----------------------------------------------------------------------------

    def use(self, mailer: Mailer | None, config: MailConfig | None = None) -> None:
        """Set the transport and the settings (the composition root does this at start)."""
        self._mailer = mailer
        if config is not None:
            self.config = config

    @property
    def delivers(self) -> bool:
        """True only if emails really reach inboxes (SMTP); an outbox folder or no transport
        is False, so a feature can hand things out another way and say so."""
        return self._mailer is not None and self._mailer.delivers

    @property
    def transport(self) -> str:
        """Where emails go, for staff ("smtp://smtp.example.com:587"); never a password."""
        return self._mailer.description if self._mailer is not None else "-"

    def on_bounce(self, kind: str, handler: BounceHandler) -> None:
        """Call `handler` once for each bounce of this kind (features that report to people)."""
        self._handlers[kind] = handler

    async def check(self) -> str | None:
        """None if the transport is ready, else the one line that says why not."""
        if self._mailer is None:
            return "no mail transport is configured"
        return await self._mailer.check()

    # -- addresses and opt-outs -------------------------------------------------------------

    async def _secret(self) -> bytes:
        if self._key is None:
            async with self._uow() as uow:
                self._key = await uow.outbox.secret(self._clock.now())
        return self._key

    async def address_hash(self, address: str) -> str:
        """HMAC-SHA256 of the normalised address under the installation's key: the only form
        in which an opt-out is kept (see README, Email)."""
        return hmac.new(await self._secret(), address.encode(), hashlib.sha256).hexdigest()

    async def unsubscribe_token(self, group_id: str, address: str) -> str:
        """An opaque token naming (group, address hash), signed so nobody can forge one."""
        return self._token(await self._secret(), group_id, await self.address_hash(address))

    async def unsubscribe(self, token: str) -> bool:
        """Record the opt-out a token names (the dashboard's one-click endpoint calls this);
        False if the token is not one of ours."""
        try:
            data, sig = token.split(".", 1)
            payload = _unb64(data)
            group_id, address_hash = payload.decode().split("\n")
            given = _unb64(sig)
        except (ValueError, UnicodeDecodeError, binascii.Error):
            return False
        expected = hmac.new(await self._secret(), b"unsubscribe\n" + payload, hashlib.sha256)
        if not hmac.compare_digest(expected.digest()[:16], given):
            return False
        async with self._uow() as uow:
            await uow.outbox.add_opt_out(group_id, address_hash, "link", self._clock.now())
        log.info("an address opted out of %s's email by link", group_id)
        return True

    async def opt_out(self, group_id: str, address: str, source: str = "staff") -> bool:
        """No more email from the group to this address; False if it had opted out already."""
        normal = normalise(address)
        if normal is None:
            return False
        digest = await self.address_hash(normal)
        async with self._uow() as uow:
            return await uow.outbox.add_opt_out(group_id, digest, source, self._clock.now())

    async def status(self, group_id: str, addresses: Sequence[str]) -> dict[str, AddressStatus]:
        """Per (normalised) address: queued, sent, bounced, failed or opted out, and when the
        last email went; addresses never emailed are NONE (invalid ones are left out)."""
        normal = {a: n for a in addresses if (n := normalise(a)) is not None}
        hashes = {n: await self.address_hash(n) for n in normal.values()}
        async with self._uow() as uow:
            found = await uow.outbox.statuses(group_id, list(hashes))
            opted = await uow.outbox.opted_out(group_id, list(hashes.values()))
        out: dict[str, AddressStatus] = {}
        for address, digest in hashes.items():
            status = found.get(address, AddressStatus(address, AddressState.NONE))
            if digest in opted:
                status = AddressStatus(
                    address, AddressState.OPTED_OUT, status.at, status.last_sent_at
                )
            out[address] = status
        return out

    async def take_bounces(self, group_id: str, kind: str) -> list[Bounce]:
        """Bounces of a kind not reported yet, each handed out once (for features that poll)."""
        now = self._clock.now()
        async with self._uow() as uow:
            bounces = await uow.outbox.unreported_bounces(group_id, kind)
            return [b for b in bounces if await uow.outbox.claim_report(b.outbox_id, now)]

    async def counts(self, group_id: str) -> dict[OutboxStatus, int]:
        """Emails of the group per status (staff's overview)."""
        async with self._uow() as uow:
            return await uow.outbox.counts(group_id)

    # -- queueing ---------------------------------------------------------------------------

    async def enqueue(
        self,
        group: Group,
        kind: str,
        emails: Sequence[Email],
        *,
        retry_bounced: bool = False,
    ) -> list[Queued]:
        """Queue emails (written in the group's language) and return at once, one answer per
        email in order; opted-out and bounced addresses and repeated keys are skipped."""
        now = self._clock.now()
        secret = await self._secret()
        results: list[Queued | None] = [None] * len(emails)
        candidates: list[tuple[int, Email, str, str, str, str | None]] = []
        keys: set[str] = set()
        for i, email in enumerate(emails):
            address = normalise(email.to)
            reply_to = normalise(email.reply_to) if email.reply_to else None
            if address is None or (email.reply_to and reply_to is None):
                results[i] = Queued(email.to, QueueStatus.INVALID)
                continue
            key = email.key or f"{kind}:{uuid.uuid4().hex}"
            if key in keys:
                results[i] = Queued(address, QueueStatus.DUPLICATE)
                continue
            keys.add(key)
            digest = hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()
            candidates.append((i, email, address, digest, key, reply_to))
        rows: list[NewEmail] = []
        slots: list[tuple[int, str]] = []
        domain = sender_address(self.config.sender).rpartition("@")[2] or "localhost"
        async with self._uow() as uow:
            opted = await uow.outbox.opted_out(group.id, [c[3] for c in candidates])
            bounced: set[str] = set()
            if not retry_bounced:
                found = await uow.outbox.statuses(group.id, [c[2] for c in candidates])
                bounced = {a for a, s in found.items() if s.state is AddressState.BOUNCED}
            for i, email, address, digest, key, reply_to in candidates:
                if digest in opted:
                    results[i] = Queued(address, QueueStatus.OPTED_OUT)
                    continue
                if address in bounced:
                    results[i] = Queued(address, QueueStatus.BOUNCED)
                    continue
                # The parts are kept, the MIME is built when it goes: queueing 500 emails
                # stays a fraction of a second, and a retry sends the same Message-ID.
                draft = {
                    "lang": group.language.value,
                    "subject": one_line(email.subject),
                    "text": email.text,
                    "html": email.html,
                    "why": email.why,
                    "reply_to": reply_to,
                    "message_id": make_msgid(domain=domain),
                    "date": now.isoformat(),
                }
                rows.append(
                    NewEmail(
                        group_id=group.id,
                        kind=kind,
                        address=address,
                        address_hash=digest,
                        subject=draft["subject"] or "",
                        message=json.dumps(draft, ensure_ascii=False),
                        user_id=email.user_id,
                        key=key,
                        created_at=now,
                    )
                )
                slots.append((i, address))
            ids = await uow.outbox.add(rows)
        for j, (i, address) in enumerate(slots):
            results[i] = (
                Queued(address, QueueStatus.QUEUED, ids[j])
                if j in ids
                else Queued(address, QueueStatus.DUPLICATE)
            )
        if ids:
            self.wake()
        return [r for r in results if r is not None]

    @staticmethod
    def _token(secret: bytes, group_id: str, digest: str) -> str:
        payload = f"{group_id}\n{digest}".encode()
        signature = hmac.new(secret, b"unsubscribe\n" + payload, hashlib.sha256)
        return f"{_b64(payload)}.{_b64(signature.digest()[:16])}"

    # -- the sender -------------------------------------------------------------------------

    def wake(self) -> None:
        """Have the sender look at the outbox now, starting it if it is not running; it stops
        by itself once nothing is queued."""
        if self._mailer is None or not self._background:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._settled.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="mail-sender")

    async def resume(self) -> bool:
        """Start the sender if an earlier run left emails queued (a read, no write lock);
        True if there were any."""
        async with self._uow() as uow:
            queued, sending = await uow.outbox.next_due()
        if queued is None and sending is None:
            return False
        self.wake()
        return True

    async def settled(self) -> None:
        """Wait until the sender has nothing it could send now (tests, the bench)."""
        await self._settled.wait()

    async def stop(self) -> None:
        """Stop the background sender (at shutdown); queued emails stay for the next start."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def send_due(self) -> int:
        """Send, in this task and at the pace, what is due now; returns how many were sent."""
        sent = 0
        while True:
            status = await self._send_next()
            if status is None or status == _DOWN:
                return sent
            sent += status is OutboxStatus.SENT

    def _interval(self) -> float | None:
        rate = self.config.rate_per_minute
        return 60.0 / rate if rate else None

    async def _run(self) -> None:
        pause = self.config.pause_first
        try:
            while True:
                delay: float | None = 0.0
                try:
                    status = await self._send_next()
                    if status is None:
                        delay = await self._until_due()
                except StorageUnavailable:
                    log.warning("mail sender: database unavailable; trying again shortly")
                    status = _DOWN
                except Exception:
                    log.exception("mail sender failed; trying again shortly")
                    status = _DOWN
                if status == _DOWN:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, self.config.pause_longest)
                    continue
                pause = self.config.pause_first
                if status is not None:
                    continue
                if delay is None:
                    return
                if delay < 0:
                    # Due now but held by another sender (its pace or its claim): not settled.
                    delay = -delay
                else:
                    self._settled.set()
                self._wake.clear()
                with suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            self._settled.set()
            if self._mailer is not None:
                with suppress(Exception):
                    await self._mailer.close()

    async def _until_due(self) -> float | None:
        """Seconds until something may be claimed, negative when something is due now that
        another sender holds; None when nothing is queued or being sent at all."""
        async with self._uow() as uow:
            queued, sending = await uow.outbox.next_due()
        if queued is None and sending is None:
            return None
        waits = []
        if queued is not None:
            waits.append((queued - self._clock.now()).total_seconds())
        if sending is not None:
            waits.append((sending + self.config.lease - self._wall()).total_seconds())
        delay = min(waits)
        if delay <= 0:
            # Due, yet not ours: another process holds the pace or the row. Look again soon.
            return -(self._interval() or 0.1)
        return min(delay, LONGEST_SLEEP)

    async def _send_next(self) -> OutboxStatus | Literal["down"] | None:
        """Claim one due email and send it: its new status, "down", or None if none was due."""
        if self._mailer is None:
            return None
        interval = self._interval()
        if interval is not None:
            wait = self._last_claim + interval + PACE_MARGIN - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        wall = self._wall()
        # The pace runs from claim to claim: the time the claim's own round trip takes is
        # inside the interval, not added to it.
        started = time.monotonic()
        async with self._uow() as uow:
            claimed = await uow.outbox.claim(
                self._owner,
                self._clock.now(),
                wall,
                wall - self.config.lease,
                wall - timedelta(seconds=interval) if interval is not None else None,
            )
        if claimed is None:
            return None
        self._last_claim = started
        self._settled.clear()
        if claimed.opted_out:
            # Checked again at sending: an opt-out after queueing still stops the email.
            skipped = SendResult(Outcome.SENT, None, "opted out before sending")
            return await self._finish(claimed, OutboxStatus.SKIPPED, skipped)
        try:
            message = await self._message(claimed)
            result = await self._mailer.send(
                sender_address(self.config.sender), claimed.address, message
            )
        except Exception:
            log.exception("mail transport failed on email %s", claimed.id)
            result = SendResult(Outcome.RETRY, None, "internal error")
        if result.outcome is Outcome.UNAVAILABLE:
            async with self._uow() as uow:
                await uow.outbox.release(claimed.id, self._owner)
            if not self._down:
                log.warning(
                    "mail: cannot send through %s (%s); emails stay queued",
                    self.transport,
                    result.detail,
                )
                self._down = True
            return _DOWN
        if self._down:
            log.info("mail: %s answers again", self.transport)
            self._down = False
        if result.outcome is Outcome.SENT:
            return await self._finish(claimed, OutboxStatus.SENT, result)
        if result.outcome is Outcome.BOUNCED:
            await self._finish(claimed, OutboxStatus.BOUNCED, result)
            await self._report(claimed, result)
            return OutboxStatus.BOUNCED
        now = self._clock.now()
        if now - claimed.created_at >= self.config.retry_for:
            log.info("mail: email %s given up after a day of %s", claimed.id, result.code)
            return await self._finish(claimed, OutboxStatus.FAILED, result)
        wait = min(
            self.config.first_retry * 2 ** max(claimed.attempts - 1, 0),
            self.config.longest_retry,
        )
        await self._finish(claimed, OutboxStatus.QUEUED, result, retry_at=now + wait)
        return OutboxStatus.QUEUED

    async def _message(self, claimed: Claimed) -> bytes:
        """The RFC 5322 bytes of a claimed email, built from the parts kept at queueing."""
        draft = json.loads(claimed.message)
        link = None
        if self.config.public_url:
            digest = await self.address_hash(claimed.address)
            link = unsubscribe_url(
                self.config.public_url,
                self._token(await self._secret(), claimed.group_id, digest),
            )
        message = build(
            Email(
                to=claimed.address,
                subject=draft["subject"],
                text=draft["text"],
                why=draft["why"],
                html=draft["html"],
                reply_to=draft["reply_to"],
            ),
            lang=Language(draft["lang"]),
            sender=self.config.sender,
            now=datetime.fromisoformat(draft["date"]),
            unsubscribe_link=link,
            message_id=draft["message_id"],
        )
        return message.as_bytes()

    async def _finish(
        self,
        claimed: Claimed,
        status: OutboxStatus,
        result: SendResult,
        retry_at: datetime | None = None,
    ) -> OutboxStatus:
        async with self._uow() as uow:
            await uow.outbox.finish(
                claimed.id,
                self._owner,
                status,
                self._clock.now(),
                result.code,
                result.detail,
                retry_at,
            )
        return status

    async def _report(self, claimed: Claimed, result: SendResult) -> None:
        """Tell the feature of this kind about a bounce, once across processes."""
        handler = self._handlers.get(claimed.kind)
        if handler is None:
            return  # the feature asks take_bounces() itself
        now = self._clock.now()
        async with self._uow() as uow:
            first = await uow.outbox.claim_report(claimed.id, now)
        if not first:
            return
        bounce = Bounce(
            claimed.id,
            claimed.group_id,
            claimed.kind,
            claimed.address,
            claimed.user_id,
            result.code,
            result.detail,
            now,
        )
        try:
            await handler(bounce)
        except Exception:
            log.exception("reporting bounce %s failed", claimed.id)

    async def prune(self, group: Group) -> int:
        """Delete the group's finished rows past the keeping time, and start the sender if
        anything waits (emails a previous run left, retries another process gave up on)."""
        async with self._uow() as uow:
            gone = await uow.outbox.prune(group.id, self._clock.now() - self.config.keep_rows)
        await self.resume()
        return gone

    # -- the weekly digest by email ---------------------------------------------------------

    async def digest(
        self,
        group: Group,
        actor: Actor,
        on: bool,
        *,
        platform_email: str | None = None,
        address: str | None = None,
        code: str | None = None,
    ) -> DigestAnswer:
        """Turn a member's weekly digest by email on or off.

        The address is the member's own known one (their record, the roster entry they
        matched, or what the platform says); an address the member types is used only after
        they enter the code emailed to it, so nobody can sign a stranger up.
        """
        now = self._clock.now()
        delivered = self.delivers
        if not on:
            async with self._uow() as uow:
                dropped = await uow.mail_preferences.drop_subscription(group.id, actor.id, DIGEST)
            return DigestAnswer(DigestOutcome.OFF if dropped else DigestOutcome.WAS_OFF)
        if code:
            return await self._confirm(group, actor, code.strip(), now)
        async with self._uow() as uow:
            current = await uow.mail_preferences.subscription(group.id, actor.id, DIGEST)
            known = await uow.mail_preferences.known_address(group.id, actor.id)
        known_address = normalise(known) if known else None
        platform = normalise(platform_email) if platform_email else None
        chosen: str | None
        if address:
            typed = normalise(address)
            if typed is None:
                return DigestAnswer(DigestOutcome.INVALID, address.strip()[:100])
            if typed not in (known_address, platform):
                return await self._send_code(group, actor, typed, current, now)
            chosen = typed
        else:
            chosen = known_address or platform
        if chosen is None:
            return DigestAnswer(DigestOutcome.NO_ADDRESS, delivered=delivered)
        if current is not None and current.confirmed and current.address == chosen:
            async with self._uow() as uow:
                found = (await uow.outbox.statuses(group.id, [chosen])).get(chosen)
            bounced = found is not None and found.state is AddressState.BOUNCED
            if not (bounced and found is not None and found.at and found.at >= current.since):
                return DigestAnswer(DigestOutcome.ALREADY_ON, chosen, delivered)
            # It bounced since: asking again means "try this address again".
        await self._turn_on(group, actor, chosen, now)
        return DigestAnswer(DigestOutcome.ON, chosen, delivered)

    async def _turn_on(self, group: Group, actor: Actor, address: str, now: datetime) -> None:
        # The member asked for email at their own address: that lifts an earlier opt-out of
        # it, and `since` lets digests go again after an old bounce.
        digest = await self.address_hash(address)
        async with self._uow() as uow:
            await uow.mail_preferences.save_subscription(
                Subscription(group.id, actor.id, DIGEST, address, True, now)
            )
            await uow.outbox.remove_opt_out(group.id, digest)

    def _code_hash(self, group_id: str, user_id: str, code: str) -> str:
        assert self._key is not None
        text = f"digest-code\n{group_id}\n{user_id}\n{code}".encode()
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()

    async def _send_code(
        self,
        group: Group,
        actor: Actor,
        address: str,
        current: Subscription | None,
        now: datetime,
    ) -> DigestAnswer:
        if (
            current is not None
            and current.code_sent_at is not None
            and now - current.code_sent_at < CODE_EVERY
        ):
            return DigestAnswer(DigestOutcome.CODE_WAIT, current.address, self.delivers)
        await self._secret()
        code = f"{secrets.randbelow(10**6):06d}"
        lang = group.language
        command = f"/alumni digest email:on code:{code}"
        [queued] = await self.enqueue(
            group,
            CONFIRM,
            [
                Email(
                    to=address,
                    subject=t(lang, "mail.confirm.subject"),
                    text=t(lang, "mail.confirm.text", code=code, command=command),
                    why=t(lang, "mail.confirm.why"),
                    user_id=actor.id,
                )
            ],
        )
        # Opted out or bounced before: no code goes there (the owner said stop, or it is dead).
        if queued.status is not QueueStatus.QUEUED:
            return DigestAnswer(DigestOutcome.UNREACHABLE, address)
        # Waiting for the code; a confirmed digest at another address pauses until then.
        async with self._uow() as uow:
            await uow.mail_preferences.save_subscription(
                Subscription(
                    group.id,
                    actor.id,
                    DIGEST,
                    address,
                    False,
                    now,
                    code_hash=self._code_hash(group.id, actor.id, code),
                    code_sent_at=now,
                    code_tries=0,
                )
            )
        return DigestAnswer(DigestOutcome.CODE_SENT, address, self.delivers)

    async def _confirm(self, group: Group, actor: Actor, code: str, now: datetime) -> DigestAnswer:
        await self._secret()
        async with self._uow() as uow:
            current = await uow.mail_preferences.subscription(group.id, actor.id, DIGEST)
            if (
                current is None
                or current.confirmed
                or current.code_hash is None
                or current.code_sent_at is None
                or now - current.code_sent_at > CODE_VALID
                or current.code_tries >= CODE_TRIES
            ):
                return DigestAnswer(DigestOutcome.CODE_NONE)
            given = self._code_hash(group.id, actor.id, code)
            if not hmac.compare_digest(given, current.code_hash):
                await uow.mail_preferences.save_subscription(
                    Subscription(
                        **{**current.__dict__, "code_tries": current.code_tries + 1},
                    )
                )
                return DigestAnswer(DigestOutcome.CODE_WRONG, current.address)
        await self._turn_on(group, actor, current.address, now)
        return DigestAnswer(DigestOutcome.ON, current.address, self.delivers)

    async def queue_digest(self, group: Group, period: str, message: OutgoingMessage) -> int:
        """Queue this week's digest (the post the group sees) for every member who turned it
        on: at most one per member per week, whatever runs twice. Returns how many."""
        async with self._uow() as uow:
            subscribers = await uow.mail_preferences.subscribers(group.id, DIGEST)
            found = await uow.outbox.statuses(group.id, [s.address for s in subscribers])
        # A bounce stops the digest until the member turns it on again (`since` moves on).
        wanted = [
            s
            for s in subscribers
            if (status := found.get(s.address)) is None
            or status.state is not AddressState.BOUNCED
            or (status.at is not None and status.at < s.since)
        ]
        if not wanted:
            return 0
        text, markup = digest_parts(message)
        why = t(group.language, "mail.digest.why")
        results = await self.enqueue(
            group,
            DIGEST,
            [
                Email(
                    to=s.address,
                    subject=message.title or t(group.language, "mail.digest.subject"),
                    text=text,
                    why=why,
                    html=markup,
                    user_id=s.user_id,
                    key=f"digest:{period}:{s.user_id}",
                )
                for s in wanted
            ],
            retry_bounced=True,
        )
        queued = sum(r.status is QueueStatus.QUEUED for r in results)
        log.info("digest %s for %s: %d emails queued", period, group.id, queued)
        return queued
