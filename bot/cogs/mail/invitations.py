"""InvitationService: personal invitations of a roster by email, reminders, and their status.

Each roster entry gets one join code of its own (kind "roster", one use, bound to the
entry): it carries the entry's role and cohort, and redeeming it marks the entry joined
(onboarding's redeem asks `may_redeem` and calls `joined` in its own unit of work). The
emails go through the outbox (MailService), so the teacher's command answers at once; where
no mail server is set up on Discord or Slack, nothing is queued and the teacher gets the codes
in a CSV file to hand out. Returns records; the cog and onboarding turn them into text.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bot.cogs.mail.records import (
    INVITATION,
    PERSONAL_CODE_DAYS,
    REMIND_EVERY,
    AddressState,
    Delivery,
    Invitee,
    InviteeStatus,
    InviteReport,
    QueueStatus,
)
from bot.cogs.mail.service import MailService, normalise
from bot.cogs.mail.views import codes_csv, invitation_email
from bot.domain import Actor, Cohort, Group
from bot.errors import PlatformError, UserError
from bot.i18n import t
from bot.ports import Clock, UnitOfWorkFactory, Workspace

log = logging.getLogger(__name__)

# Codes are random (32^8); a clash with an existing code is retried with new ones.
CODE_TRIES = 3
_STATE_OF_QUEUE = {
    QueueStatus.QUEUED: Delivery.QUEUED,
    QueueStatus.DUPLICATE: Delivery.QUEUED,  # the same email was queued by a parallel run
    QueueStatus.OPTED_OUT: Delivery.OPTED_OUT,
    QueueStatus.BOUNCED: Delivery.BOUNCED,
    QueueStatus.INVALID: Delivery.BOUNCED,
}


class InvitationService:
    """Use cases of personal invitations: invite a roster, remind it, show where it is."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        workspace: Workspace,
        mail: MailService,
        files: Path,
        *,
        new_code: Callable[[], str],
        link_days: int,
    ) -> None:
        self._uow = uow
        # Onboarding's join codes: how they are made, and how long a link is asked to last.
        self._new_code = new_code
        self._link_days = link_days
        self._clock = clock
        self._workspace = workspace
        self._mail = mail
        self.files = files

    def emails_go(self, group: Group) -> bool:
        """True if invitations are emailed: through SMTP, or into the local workspace's
        outbox folder (where whoever tries the bot reads them); on Discord and Slack without
        a mail server the codes go to the teacher instead."""
        return self._mail.delivers or group.platform == "local"

    async def invite(
        self, group: Group, cohort: Cohort, teacher: Actor, *, send: bool = True
    ) -> InviteReport:
        """Email every roster entry of the cohort that has no personal code yet and has not
        joined (those just imported); `send=False` only reports them as imported."""
        async with self._uow() as uow:
            invitees = await uow.mail_invitations.invitees(group.id, cohort.id)
        fresh = [i for i in invitees if i.joined_user_id is None and i.code is None]
        if not send:
            return InviteReport(
                tuple((i.email, Delivery.IMPORTED, None) for i in fresh), self._mail.delivers
            )
        return await self._deliver(group, cohort, teacher, fresh, [])

    async def remind(self, group: Group, cohort: Cohort, teacher: Actor) -> InviteReport:
        """Email those who have not joined: the invitation to entries that never had one, a
        reminder to the others, none to an address emailed less than three days ago."""
        now = self._clock.now()
        async with self._uow() as uow:
            invitees = await uow.mail_invitations.invitees(group.id, cohort.id)
        waiting = [i for i in invitees if i.joined_user_id is None]
        joined = tuple((i.email, Delivery.JOINED, None) for i in invitees if i.joined_user_id)
        if not self.emails_go(group):
            # No email goes: the teacher gets every code still waiting, made where missing.
            fresh = [i for i in waiting if i.code is None]
            again = [i for i in waiting if i.code is not None]
            report = await self._deliver(group, cohort, teacher, fresh, again)
            return InviteReport(report.deliveries + joined, report.delivers, file=report.file)
        recent = [
            i for i in waiting if i.emailed_at is not None and now - i.emailed_at < REMIND_EVERY
        ]
        due = [i for i in waiting if i not in recent]
        report = await self._deliver(
            group,
            cohort,
            teacher,
            [i for i in due if i.code is None],
            [i for i in due if i.code is not None],
        )
        late = tuple((i.email, Delivery.RECENT, i.emailed_at) for i in recent)
        return InviteReport(report.deliveries + late + joined, report.delivers, report.rate)

    async def status(self, group: Group, cohort: Cohort) -> list[InviteeStatus]:
        """Per roster address: when it was emailed, what the outbox says, whether it joined."""
        async with self._uow() as uow:
            invitees = await uow.mail_invitations.invitees(group.id, cohort.id)
        found = await self._mail.status(group.id, [i.email for i in invitees])
        rows = []
        for i in invitees:
            address = normalise(i.email) or i.email
            state = found.get(address)
            rows.append(
                InviteeStatus(
                    i.email,
                    i.name,
                    i.emailed_at,
                    i.emails,
                    state.state if state is not None else AddressState.NONE,
                    i.joined_user_id is not None,
                    i.code is not None,
                )
            )
        return rows

    async def inviter(self, group_id: str, address: str) -> str | None:
        """The teacher who invited an address last (told once when its invitation bounced)."""
        async with self._uow() as uow:
            return await uow.mail_invitations.inviter(group_id, address)

    # -- the work ---------------------------------------------------------------------------

    async def _deliver(
        self,
        group: Group,
        cohort: Cohort,
        teacher: Actor,
        fresh: Sequence[Invitee],
        again: Sequence[Invitee],
    ) -> InviteReport:
        """Make codes for `fresh`, then email (or hand the teacher) the invitation to `fresh`
        and a reminder to `again`."""
        now = self._clock.now()
        expires = now + timedelta(days=PERSONAL_CODE_DAYS)
        codes = {i.entry_id: i.code for i in again if i.code}
        codes.update(await self._make_codes(group, cohort, teacher, fresh, expires, now))
        # A parallel run made the code of an entry first: that run emails it.
        fresh = [i for i in fresh if i.entry_id in codes]
        targets = [(i, False) for i in fresh] + [(i, True) for i in again]
        if not targets:
            return InviteReport((), self._mail.delivers)
        if not self.emails_go(group):
            handed = [(i, codes[i.entry_id]) for i, _ in targets]
            path = await self._write_codes(group, cohort, handed)
            return InviteReport(
                tuple((i.email, Delivery.HANDED, None) for i, _ in targets),
                self._mail.delivers,
                file=str(path),
            )
        lang = group.language
        async with self._uow() as uow:
            roles = {r.key: r.name for r in await uow.roles.for_group(group.id)}
        link, days = await self._link(group)
        reply_to = await self._address_of(group, teacher)
        emails = []
        for invitee, reminder in targets:
            # The cohort's role is named after the cohort (onboarding creates it so).
            labels = [roles.get(invitee.role_key) or t(lang, f"roles.{invitee.role_key}")]
            labels.append(cohort.name)
            emails.append(
                invitation_email(
                    lang,
                    invitee,
                    codes[invitee.entry_id],
                    teacher=teacher.name,
                    cohort=cohort.name,
                    roles=labels,
                    link=link,
                    link_days=days,
                    reply_to=reply_to,
                    reminder=reminder,
                    key=f"{INVITATION}:{invitee.entry_id}:{invitee.emails + 1}",
                )
            )
        results = await self._mail.enqueue(group, INVITATION, emails)
        deliveries = tuple(
            (invitee.email, _STATE_OF_QUEUE[r.status], None)
            for (invitee, _), r in zip(targets, results, strict=True)
        )
        queued = [
            invitee.entry_id
            for (invitee, _), r in zip(targets, results, strict=True)
            if r.status is QueueStatus.QUEUED
        ]
        async with self._uow() as uow:
            await uow.mail_invitations.emailed(queued, now, expires)
        return InviteReport(deliveries, self._mail.delivers, self._mail.config.rate_per_minute)

    async def _make_codes(
        self,
        group: Group,
        cohort: Cohort,
        teacher: Actor,
        invitees: Sequence[Invitee],
        expires: datetime,
        now: datetime,
    ) -> dict[int, str]:
        made: dict[int, str] = {}
        left = list(invitees)
        for _ in range(CODE_TRIES):
            if not left:
                break
            async with self._uow() as uow:
                stored = await uow.mail_invitations.create(
                    group.id,
                    cohort.id,
                    [(i, self._new_code()) for i in left],
                    teacher.id,
                    expires,
                    now,
                )
                # Entries a parallel run gave a code first are theirs: read what it stored.
                taken = [i for i in left if i.entry_id not in stored]
                if taken:
                    current = {
                        i.entry_id: i
                        for i in await uow.mail_invitations.invitees(group.id, cohort.id)
                    }
                    left = [i for i in taken if current[i.entry_id].code is None]
                else:
                    left = []
            made.update(stored)
        return made

    async def _link(self, group: Group) -> tuple[str | None, int | None]:
        """The group's link for the emails (a fresh Discord invite, Slack's workspace link,
        the local join link) and how many days it lasts; None where there is none."""
        try:
            link = await self._workspace.create_invite(
                group.id, max_uses=0, max_age_seconds=self._link_days * 86400
            )
        except (UserError, PlatformError) as exc:
            log.warning("no invite link for the invitations of %s: %s", group.id, exc)
            return None, None
        days = self._workspace.capabilities.invite_days
        return link, days if days is not None and days < self._link_days else None

    async def _address_of(self, group: Group, teacher: Actor) -> str | None:
        """The teacher's address where the platform gives one (Slack does, Discord never)."""
        try:
            info = await self._workspace.member_info(group.id, teacher.id)
        except PlatformError:
            return None
        email = info.email if info is not None else None
        return normalise(email) if email else None

    async def _write_codes(
        self, group: Group, cohort: Cohort, rows: Sequence[tuple[Invitee, str]]
    ) -> Path:
        text = codes_csv(group.language, [(i.name, i.email, code) for i, code in rows])
        return await self.save_csv(f"codes-{cohort.id}", text)

    async def save_csv(self, stem: str, text: str) -> Path:
        """Write a CSV for a teacher under an unguessable name (deleted once sent)."""
        path = self.files / f"{stem}-{secrets.token_hex(6)}.csv"
        await asyncio.to_thread(_write, path, text)
        return path

    async def forget_file(self, path: str | None) -> None:
        """Delete a file made for a teacher once they have it."""
        if path:
            await asyncio.to_thread(Path(path).unlink, True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Excel opens a UTF-8 CSV with its BOM in the right encoding.
    path.write_text(text, encoding="utf-8-sig")
