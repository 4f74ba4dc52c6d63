"""The dashboard's use cases: a sign-in link, signing in, who is looking, sign-out, the audit.

The bot is the identity provider: whoever the platform says ran `/alumni dashboard` gets a
link bound to their group and themselves. Tokens are stored only as SHA-256 hashes, so a copy
of the database signs nobody in. Staff status is read again on every request: a member whose
staff role is revoked loses the dashboard at their next click.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

from bot.cogs.dashboard.records import (
    Answered,
    AuditEntry,
    Link,
    Outcome,
    Refusal,
    Session,
    SignedIn,
    Viewer,
    Waiting,
    WaitingRequest,
)
from bot.domain import Actor, Group, Permission, TrustedRole
from bot.errors import PermissionDenied, UserError
from bot.events import ButtonPressed, CommandInvoked, Event, UserRef
from bot.messages import FormSpec, OutgoingMessage
from bot.ports import Clock, UnitOfWork, UnitOfWorkFactory, Workspace
from bot.safety import neutralise

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
# Failed sign-ins from one address within the window before it is refused outright: a
# mistyped link or two, never enough to guess a 256-bit token.
MAX_FAILURES = 10
FAILURE_WINDOW = 600.0
# Cohorts graduating within this many days are listed on the overview.
GRADUATING_WITHIN = timedelta(days=120)
AUDIT_PAGE = 200
REQUESTS_PAGE = 200
# The onboarding feature's Approve/Deny buttons (bot/cogs/onboarding/views.py).
DECIDE_ACTION = "onb:decide"
SIGNIN_PATH = "/dashboard/signin"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_NONCE = re.compile(r"^[0-9a-f]{32}$")


class SignInRefused(UserError):
    """A sign-in link that signs nobody in; `group` names the language of the page, if known."""

    def __init__(self, reason: Refusal, group: Group | None) -> None:
        super().__init__(f"dashboard.refused.{reason.value}")
        self.reason = reason
        self.group = group


class NotSignedIn(Exception):
    """No live session (none, ended, expired, or its member is no longer staff)."""

    def __init__(self, group: Group | None = None, revoked: bool = False) -> None:
        super().__init__("not signed in")
        self.group = group
        self.revoked = revoked


def digest(token: str) -> str:
    """The hash a token is stored as."""
    return hashlib.sha256(token.encode()).hexdigest()


class DashboardService:
    """Sign-in links, sessions and the audit of changes; every page and form goes through it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        dispatch: Callable[[Event], Awaitable[None]] | None = None,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        # The core's event entry (Bot.handle): approvals go through the onboarding buttons.
        self.dispatch = dispatch
        # Where the web server answers (set when it starts); None: no dashboard served here.
        self.base_url: str | None = None
        self._key: bytes | None = None
        # Failed sign-ins per client address (monotonic times): in memory, as the dashboard is
        # served by the one process that holds the web server.
        self._failures: dict[str, deque[float]] = {}

    def serve_at(self, base_url: str) -> None:
        """The web server is up: links point here."""
        self.base_url = base_url.rstrip("/")

    # -- signing in ---------------------------------------------------------------------------

    async def link(self, group: Group, actor: Actor) -> str:
        """A single-use sign-in link for the staff member, valid LINK_LIFETIME."""
        # The command declares staff and the core checked it; checked again so that no other
        # caller can hand a member a link (fails closed).
        if not actor.is_staff:
            raise PermissionDenied("dashboard.denied")
        if self.base_url is None:
            raise UserError("dashboard.not_served")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.uow() as uow:
            # Expired links and sessions go (a day late, so a refusal can still say why).
            await uow.dashboard.prune(now - timedelta(days=1))
            await uow.dashboard.add_link(
                Link(
                    digest(token),
                    group.id,
                    actor.id,
                    neutralise(actor.name)[:120],
                    now,
                    now + LINK_LIFETIME,
                )
            )
        log.info("dashboard link issued to %s in %s", actor.id, group.id)
        return f"{self.base_url}{SIGNIN_PATH}/{quote(group.id, safe='')}/{token}"

    def _throttled(self, client: str) -> bool:
        seen = self._failures.get(client)
        if seen is None:
            return False
        cutoff = time.monotonic() - FAILURE_WINDOW
        while seen and seen[0] < cutoff:
            seen.popleft()
        return len(seen) >= MAX_FAILURES

    def _fail(self, client: str, reason: Refusal, group: Group | None) -> SignInRefused:
        self._failures.setdefault(client, deque()).append(time.monotonic())
        log.warning("dashboard sign-in refused for %s: %s", client, reason.value)
        return SignInRefused(reason, group)

    async def sign_in(self, group_id: str, token: str, client: str) -> SignedIn:
        """Use a link: a new session for its member, or SignInRefused saying why not."""
        if self._throttled(client):
            log.warning("dashboard sign-in from %s: too many attempts", client)
            async with self.uow() as uow:
                group = await uow.groups.get(group_id)
            raise SignInRefused(Refusal.TOO_MANY, group)
        now = self.clock.now()
        async with self.uow() as uow:
            named = await uow.groups.get(group_id)
            link = await uow.dashboard.link(digest(token)) if _TOKEN.match(token) else None
            if link is None:
                raise self._fail(client, Refusal.UNKNOWN, named)
            if link.group_id != group_id:
                # The page speaks the language of the group the URL names; nothing of the
                # link's own group is shown.
                raise self._fail(client, Refusal.OTHER_GROUP, named)
            if link.used_at is not None:
                raise self._fail(client, Refusal.USED, named)
            if now >= link.expires_at:
                raise self._fail(client, Refusal.EXPIRED, named)
            assert named is not None  # the link's group exists: the row refers to it
            if not (await self._level(uow, named, link.user_id)).rank >= Permission.STAFF.rank:
                raise self._fail(client, Refusal.NOT_STAFF, named)
            if not await uow.dashboard.use_link(link.token_hash, now):
                raise self._fail(client, Refusal.USED, named)
            session_token = secrets.token_urlsafe(32)
            session = Session(
                digest(session_token),
                group_id,
                link.user_id,
                link.user_name,
                secrets.token_hex(16),
                now,
                now + SESSION_LIFETIME,
            )
            await uow.dashboard.add_session(session)
        log.info("dashboard sign-in of %s in %s", link.user_id, group_id)
        return SignedIn(session_token, session)

    async def _level(self, uow: UnitOfWork, group: Group, user_id: str) -> Permission:
        """As the core decides for commands: staff from the bot's records, admin from the
        platform (asked now, as a browser carries no platform event); member otherwise."""
        member = await uow.members.get(group.id, user_id)
        if member is not None and TrustedRole.STAFF.value in member.roles:
            return Permission.STAFF
        try:
            info = await self.workspace.member_info(group.id, user_id)
        except Exception:
            log.warning("could not ask the platform whether %s is an admin", user_id)
            return Permission.MEMBER  # fails closed
        return Permission.ADMIN if info is not None and info.is_admin else Permission.MEMBER

    # -- every request ------------------------------------------------------------------------

    async def viewer(self, token: str | None) -> Viewer:
        """The staff member a session token belongs to, checked now; NotSignedIn otherwise."""
        if not token or not _TOKEN.match(token):
            raise NotSignedIn()
        now = self.clock.now()
        async with self.uow() as uow:
            session = await uow.dashboard.find_session(digest(token))
            if session is None:
                raise NotSignedIn()
            group = await uow.groups.get(session.group_id)
            if group is None or session.ended_at is not None or now >= session.expires_at:
                raise NotSignedIn(group)
            level = await self._level(uow, group, session.user_id)
            if level.rank < Permission.STAFF.rank:
                await uow.dashboard.end_session(session.token_hash, now)
        if level.rank < Permission.STAFF.rank:
            log.warning("dashboard session of %s ended: no longer staff", session.user_id)
            raise NotSignedIn(group, revoked=True)
        return Viewer(group, Actor(session.user_id, session.user_name, level), session)

    async def sign_out(self, token: str | None) -> None:
        """End the session (a token that is no session's is ignored)."""
        if token and _TOKEN.match(token):
            async with self.uow() as uow:
                await uow.dashboard.end_session(digest(token), self.clock.now())

    async def accept_form(self, viewer: Viewer, csrf: str, nonce: str) -> str | None:
        """Check a form post: the session's CSRF token and a nonce never used before; None if
        it may go on, else the catalogue key of why not (nothing is done)."""
        if not csrf or not hmac.compare_digest(csrf, viewer.session.csrf):
            log.warning("dashboard post without a valid CSRF token from %s", viewer.actor.id)
            return "dashboard.web.csrf_refused"
        if not _NONCE.match(nonce):
            log.warning("dashboard post without a form nonce from %s", viewer.actor.id)
            return "dashboard.web.csrf_refused"
        async with self.uow() as uow:
            fresh = await uow.events.first_time(
                viewer.group.id, f"dashboard-form:{nonce}", self.clock.now()
            )
        if not fresh:
            log.warning("dashboard form replayed by %s (%s)", viewer.actor.id, nonce)
            return "dashboard.web.replayed"
        return None

    # -- cookies ------------------------------------------------------------------------------

    async def _signing_key(self) -> bytes:
        if self._key is None:
            async with self.uow() as uow:
                stored = await uow.dashboard.key(secrets.token_hex(32), self.clock.now())
            self._key = bytes.fromhex(stored)
        return self._key

    async def cookie(self, token: str) -> str:
        """The cookie's value: the session token and its signature."""
        mac = hmac.new(await self._signing_key(), token.encode(), hashlib.sha256).hexdigest()
        return f"{token}.{mac}"

    async def token_of(self, cookie: str | None) -> str | None:
        """The session token of a cookie whose signature holds, else None."""
        if not cookie or "." not in cookie:
            return None
        token, _, mac = cookie.rpartition(".")
        good = hmac.new(await self._signing_key(), token.encode(), hashlib.sha256).hexdigest()
        return token if hmac.compare_digest(mac, good) else None

    # -- audit --------------------------------------------------------------------------------

    async def record(self, viewer: Viewer, action: str, detail: str = "") -> AuditEntry:
        """Record a change made in the dashboard (who, what, when)."""
        async with self.uow() as uow:
            entry = await uow.dashboard.add_audit(
                viewer.group.id,
                viewer.actor.id,
                viewer.actor.name,
                action,
                neutralise(detail)[:2000],
                self.clock.now(),
            )
        log.info("dashboard: %s by %s in %s", action, viewer.actor.id, viewer.group.id)
        return entry

    async def refused(self, viewer: Viewer, action: str, why: str) -> AuditEntry:
        """Record an attempt the dashboard refused (a forged id, a replay): nothing changed."""
        return await self.record(viewer, f"refused:{action}", why)

    async def audit(self, group: Group, limit: int = AUDIT_PAGE) -> list[AuditEntry]:
        """The group's latest dashboard changes, newest first."""
        async with self.uow() as uow:
            return await uow.dashboard.audit(group.id, limit)

    # -- onboarding figures -------------------------------------------------------------------

    async def waiting(self, group: Group) -> Waiting:
        """Role requests waiting for staff and cohorts graduating soon (read-only: onboarding's
        ports, a dependency named in pyproject's independence contract)."""
        today = self.clock.now().date()
        async with self.uow() as uow:
            approvals = await uow.requests.pending_count(group.id)
            cohorts = await uow.cohorts.for_group(group.id)
        soon: list[tuple[str, date]] = sorted(
            (
                (c.name, c.graduates_on)
                for c in cohorts
                if c.graduates_on is not None
                and c.graduated_at is None
                and today <= c.graduates_on <= today + GRADUATING_WITHIN
            ),
            key=lambda pair: pair[1],
        )
        return Waiting(approvals, tuple(soon))

    # -- approvals (through the onboarding feature) -------------------------------------------

    async def requests(self, group: Group) -> list[WaitingRequest]:
        """The role requests waiting for staff, oldest first, with who asked and for what
        (read-only, through onboarding's ports)."""
        async with self.uow() as uow:
            pending = await uow.requests.pending(group.id, REQUESTS_PAGE)
            cohorts = {c.id: c.name for c in await uow.cohorts.for_group(group.id)}
            names = {}
            for r in pending:
                member = await uow.members.get(group.id, r.user_id)
                names[r.user_id] = neutralise(member.name if member else r.user_id)
        return [
            WaitingRequest(r, names[r.user_id], cohorts.get(r.cohort_id) if r.cohort_id else None)
            for r in pending
        ]

    async def decide(
        self, viewer: Viewer, request_ids: Sequence[int], approve: bool
    ) -> list[Outcome]:
        """Approve or deny requests one by one exactly as staff pressing the buttons would:
        the core checks the level, onboarding grants the role, edits the review post and
        tells the member. Each outcome is what the button would have answered.

        Through the button rather than `RequestService.decide`: the handler also edits the
        review post and DMs the member, and one path keeps the dashboard from copying that.
        """
        user, dispatch = self._caller(viewer)
        verdict = "approve" if approve else "deny"
        outcomes = []
        for request_id in dict.fromkeys(request_ids):  # each once, in the order given
            answer = _Answer()
            await dispatch(
                ButtonPressed(
                    viewer.group.id,
                    user=user,
                    action=DECIDE_ACTION,
                    value=f"{request_id}:{verdict}",
                    responder=answer,
                )
            )
            outcomes.append(Outcome(request_id, " ".join(answer.said)))
        return outcomes

    def _caller(self, viewer: Viewer) -> tuple[UserRef, Callable[[Event], Awaitable[None]]]:
        """The viewer as the core sees a member pressing or typing (it checks the level
        again), and the core's entry to hand the event to."""
        if self.dispatch is None:
            raise UserError("dashboard.not_served")
        if not viewer.actor.is_staff:
            raise PermissionDenied("dashboard.denied")
        user = UserRef(
            viewer.actor.id,
            viewer.actor.name,
            is_admin=viewer.actor.permission is Permission.ADMIN,
        )
        return user, self.dispatch

    # -- commands (through the core) ------------------------------------------------------------

    async def run(
        self,
        viewer: Viewer,
        words: tuple[str, ...],
        options: dict[str, str],
        files: dict[str, str] | None = None,
    ) -> Answered:
        """Run a command exactly as the staff member typing it would (the core checks the
        level and options; the cog does the rest): what it answered, and the files it sent.
        `files` holds the text of each attachment option, by the reference given in options.

        Through the command rather than its services: `/alumni invite cohort` imports the
        roster, emails the invitations and grants the roles of members already here, and
        one path keeps the dashboard from copying that.
        """
        user, dispatch = self._caller(viewer)
        answer = _Answer(files or {})
        await dispatch(
            CommandInvoked(
                viewer.group.id,
                user=user,
                channel=None,
                words=words,
                options=options,
                responder=answer,
            )
        )
        return Answered(tuple(answer.said), tuple(answer.sent))


class _Answer:
    """Keeps what a button's or command's handler answered (the outcome, or why it refused),
    and the files it attached (read at once: the cog deletes them after sending)."""

    def __init__(self, files: dict[str, str] | None = None) -> None:
        self.said: list[str] = []
        self.sent: list[tuple[str, bytes]] = []
        self.files = files or {}

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        self.said.append(message.text)
        if message.file_path:
            path = Path(message.file_path)
            self.sent.append((path.name, await asyncio.to_thread(path.read_bytes)))

    async def edit_reply(self, message: OutgoingMessage) -> None:
        self.said.append(message.text)

    async def open_form(self, form: FormSpec) -> None:
        raise UserError("core.form_unknown")  # deciding opens no form

    async def defer(self) -> None:
        return None

    async def read_attachment(self, ref: str, option: str) -> str:
        if ref not in self.files:
            raise UserError("core.attachment_unreadable", option=option)
        return self.files[ref]
