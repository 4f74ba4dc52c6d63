"""Invitations and join codes: cohort invites with rosters, friend codes, links, redeeming."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import weakref
from datetime import datetime, timedelta

from bot.cogs.members.service import MembersService
from bot.cogs.onboarding import views
from bot.cogs.onboarding.codes import (
    _CUSTOM_CODE,
    CODE_DAYS,
    COHORT_CODE_USES,
    FRIEND_CODE_USES,
    GRANTING_STALE,
    LOCK_ATTEMPTS,
    LOCK_WINDOW,
    merge_rosters,
    new_code,
)
from bot.cogs.onboarding.cohorts import CohortService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.records import (
    CodeKind,
    CohortInvite,
    FriendInvite,
    Granted,
    Invitation,
    InvitePlan,
    Link,
    LiveCodes,
    RoleChange,
    RosterImport,
)
from bot.domain import Actor, Group
from bot.errors import PlatformError, UserError
from bot.events import UserRef
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import neutralise

log = logging.getLogger(__name__)

LOCK_MINUTES = int(LOCK_WINDOW.total_seconds() / 60)
# Refusals of a real code: told as they are, never counted as a wrong guess (a personal
# invitation's code someone else redeemed first is one, bot/cogs/mail/invitations.py).
_TOLD = frozenset(
    {
        "onboarding.code_expired",
        "onboarding.code_used_up",
        "onboarding.code_revoked",
        "mail.invitation.code_used",
    }
)


def _works(inv: Invitation, now: datetime) -> bool:
    """Whether a code can still be entered."""
    expired = inv.expires_at is not None and inv.expires_at <= now
    return not inv.revoked and not expired and inv.uses < inv.max_uses


def _normalised(code: str) -> str:
    """A code as stored: spaces and dashes out, upper case (codes are read aloud)."""
    return re.sub(r"[\s-]+", "", code).upper()


class InvitationService:
    """Codes and links into the group, and what entering a code gives."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        cohorts: CohortService,
        grants: GrantService,
        members: MembersService,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.cohorts = cohorts
        self.grants = grants
        self.members = members
        # Per member, the entry being checked: a weak map, so a member's lock goes with their
        # last waiting entry and the map never grows with the group.
        self._entering: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def plan_cohort_invite(self, group: Group, cohort: str, code: str | None) -> InvitePlan:
        """Check a cohort invitation before anything is stored: the cohort exists, a chosen
        code is well formed and free; the cohort's role is made if it went missing."""
        c = await self.cohorts.find(group, cohort)
        if c.archived_at is not None:
            # Finished: a roster would give its role to members already here.
            raise UserError("onboarding.invite_cohort_archived", cohort=c.name)
        chosen = _normalised(code or "")
        if code is not None and not _CUSTOM_CODE.match(chosen):
            raise UserError("onboarding.code_invalid", code=neutralise(code))
        if chosen:
            now = self.clock.now()
            async with self.uow() as uow:
                taken = await uow.invitations.by_code(group.id, chosen)
                if taken is not None and _works(taken, now):
                    raise UserError("onboarding.code_taken", code=chosen)
                if taken is not None:
                    # Expired, used up or revoked: the name is free for next year's class.
                    await uow.invitations.retire(group.id, taken.id)
        await self.cohorts.ensure_role(group, c)
        return InvitePlan(c, chosen or None)

    async def invite_cohort(
        self, group: Group, actor: Actor, plan: InvitePlan, role: str, *rosters: str
    ) -> CohortInvite:
        """A cohort's code and link; a roster (a file as schools export it and typed emails
        make one list) is stored, and members already in the group are queued for their roles
        at once."""
        valid, invalid = merge_rosters(*rosters)
        c, gid, now = plan.cohort, group.id, self.clock.now()
        # A staff code hands out the highest trust there is: one person, one use.
        max_uses = 1 if role == "staff" else max(COHORT_CODE_USES, len(valid))
        batch = f"roster:{c.id}:{secrets.token_hex(4)}"
        changes: list[RoleChange] = []
        async with self.uow() as uow:
            inv = await uow.invitations.add(
                gid,
                plan.code or new_code(),
                CodeKind.COHORT,
                c.id,
                role,
                max_uses,
                now + timedelta(days=CODE_DAYS),
                actor.id,
                now,
            )
            added = await uow.roster.add(gid, c.id, valid, role, inv.id)
            present = await uow.roster.members_by_email(gid, [e for _, e in valid])
            if present:
                for entry in await uow.roster.entries(gid, c.id):
                    user_id = present.get(entry.email)
                    if entry.matched_user_id is not None or user_id is None:
                        continue
                    if await uow.roster.match(entry.id, user_id, now):
                        await uow.cohorts.enter_cohort(gid, user_id, c.id)
                        changes.append(RoleChange(user_id, entry.role_keys, (), "roster", actor.id))
                await uow.grants.enqueue(gid, batch, changes, now)
            roles = {r.key: r for r in await uow.roles.for_group(gid)}
        imported = (
            RosterImport(added, len(valid), len(changes), tuple(invalid))
            if valid or invalid
            else None
        )
        return CohortInvite(
            cohort=c,
            invitation=inv,
            link=await self.link(group, max_uses),
            roster=imported,
            batch=batch if changes else None,
            roles=roles,
        )

    async def invite_friend(self, group: Group, user: UserRef) -> FriendInvite:
        """A member's personal code: newcomers on it get the industry role unless staff
        approve more."""
        await self.members.ensure(group.id, user)
        now = self.clock.now()
        async with self.uow() as uow:
            inv = await uow.invitations.add(
                group.id,
                new_code(),
                CodeKind.FRIEND,
                None,
                "industry",
                FRIEND_CODE_USES,
                now + timedelta(days=CODE_DAYS),
                user.id,
                now,
            )
        return FriendInvite(inv, await self.link(group, FRIEND_CODE_USES))

    async def link(self, group: Group, max_uses: int) -> Link:
        """An invite link, or why there is none; a refused link never loses the code made just
        before it (the code works with any link to the group)."""
        try:
            url = await self.workspace.create_invite(
                group.id, max_uses=max_uses, max_age_seconds=CODE_DAYS * 86400
            )
        except UserError as exc:
            return Link(None, failed=True, refusal=(exc.key, dict(exc.params)))
        except PlatformError as exc:
            log.warning("no invite link for %s: %s", group.id, exc)
            return Link(None, failed=True, missing_permission=exc.missing_permission, role=exc.role)
        days = self.workspace.capabilities.invite_days
        return Link(url, days=days if url and days is not None and days < CODE_DAYS else None)

    async def live_codes(self, group: Group, cohort: str | None) -> LiveCodes:
        """The group's codes that still work (of one cohort, when named), with the names of
        who made them and the cohorts they are for."""
        wanted = await self.cohorts.find(group, cohort) if cohort else None
        async with self.uow() as uow:
            codes = await uow.invitations.live(group.id, self.clock.now())
            cohorts = {c.id: c for c in await uow.cohorts.for_group(group.id)}
            roles = {r.key: r for r in await uow.roles.for_group(group.id)}
        if wanted is not None:
            codes = [c for c in codes if c.cohort_id == wanted.id]
        makers = [c.created_by for c in codes if c.created_by]
        names = await self.members.names(group.id, makers)
        return LiveCodes(tuple(codes), cohorts, names, roles, wanted)

    async def revoke(self, group: Group, code: str) -> Invitation:
        """End a code at once (a leaked code stops working); refused for codes that do not
        exist or no longer work."""
        async with self.uow() as uow:
            inv = await uow.invitations.by_code(group.id, _normalised(code))
            if inv is None:
                raise UserError("onboarding.code_not_found", code=neutralise(code))
            if not await uow.invitations.revoke(group.id, inv.id):
                raise UserError("onboarding.code_revoked_already", code=inv.code)
        return inv

    async def redeem(self, group: Group, user: UserRef, code: str) -> Granted:
        """Check a code (with lockout against guessing) and grant what it carries.

        One member's entries are serialised, first in this process (they wait for each other
        in memory, so a flood of guesses holds one database connection, not the pool) and
        then across processes (`lock_member`), so parallel guesses are counted one after the
        other and never pass the lockout together. A code's use is recorded as
        waiting for the platform and spent once the platform accepted its roles: only a use the
        platform refused (and nobody revoked since) may be finished by entering it again.
        """
        async with self._entry_lock(group.id, user.id):
            return await self._redeem(group, user, code)

    def _entry_lock(self, group_id: str, user_id: str) -> asyncio.Lock:
        """The lock one member's code entries queue on in this process (gone when unused)."""
        lock = self._entering.get((group_id, user_id))
        if lock is None:
            lock = self._entering[(group_id, user_id)] = asyncio.Lock()
        return lock

    async def _redeem(self, group: Group, user: UserRef, code: str) -> Granted:
        """`redeem` once the member's earlier entries are done."""
        gid, uid = group.id, user.id
        await self.members.ensure(gid, user)
        code = _normalised(code)
        now = self.clock.now()
        problem: str | None = None
        inv: Invitation | None = None
        async with self.uow() as uow:
            await uow.invitations.lock_member(gid, uid)
            fails = await uow.invitations.failed_attempts_since(gid, uid, now - LOCK_WINDOW)
            if fails >= LOCK_ATTEMPTS:
                problem = "locked"
            else:
                inv = await uow.invitations.by_code(gid, code) if code else None
                if inv is None:
                    problem = "onboarding.code_unknown"
                elif inv.revoked:
                    problem = "onboarding.code_revoked"
                elif inv.expires_at is not None and inv.expires_at <= now:
                    problem = "onboarding.code_expired"
                elif inv.kind is CodeKind.PERSONAL and not await uow.mail_invitations.may_redeem(
                    inv.id, uid
                ):
                    # A roster entry's own code: its person joined already, by this code or
                    # by their email.
                    problem = "mail.invitation.code_used"
                elif await uow.invitations.redemption(inv.id, uid) is None:
                    if not await uow.invitations.use(gid, inv.id, uid, now):
                        personal = inv.kind is CodeKind.PERSONAL
                        problem = (
                            "mail.invitation.code_used" if personal else "onboarding.code_used_up"
                        )
                elif not await uow.invitations.claim_redemption(
                    inv.id, uid, now, now - GRANTING_STALE
                ):
                    # Granted, revoked, or being granted by a parallel entry right now. Only a
                    # use the platform refused is finished by entering the code again.
                    problem = "already"
                # Only a code nobody made counts toward the lockout: one that expired or was
                # used up is told as such (it was real; guessing gains nothing from it).
                if problem not in _TOLD:
                    ok = problem is None or problem == "already"
                    await uow.invitations.record_attempt(gid, uid, ok, now)
                    fails += 0 if ok else 1
                if problem is None and inv is not None:
                    if inv.kind is CodeKind.PERSONAL:  # the roster entry is now this member's
                        await uow.mail_invitations.joined(inv.id, uid, now)
                    if inv.cohort_id is not None:
                        await uow.cohorts.enter_cohort(gid, uid, inv.cohort_id)
                    if inv.created_by is not None and inv.created_by != uid:
                        await uow.invitations.set_invited_by(gid, uid, inv.created_by)
            member = await uow.members.get(gid, uid)
        if problem == "locked":
            raise UserError("onboarding.code_locked", minutes=LOCK_MINUTES)
        if problem == "already" and inv is not None:
            if member is not None and set(inv.role_keys) <= member.roles:
                raise UserError("onboarding.code_already_used")
            raise UserError("onboarding.code_already_used_missing")
        if problem in _TOLD:
            raise UserError(problem)
        if problem is not None:
            if fails >= LOCK_ATTEMPTS:
                await self._alert_lockout(group, user)
                raise UserError("onboarding.code_locked", minutes=LOCK_MINUTES)
            raise UserError(problem, left=LOCK_ATTEMPTS - fails)
        assert inv is not None
        change = RoleChange(uid, inv.role_keys, (), f"code:{inv.kind}", inv.created_by)
        roles = await self.grants.roles(gid)  # outside the member's lock: it is held briefly
        try:
            await self.grants.apply(gid, change, roles=roles, member=member)
        except PlatformError:
            # Refused (a missing permission): the member is told; the use waits to be finished.
            async with self.uow() as uow:
                await uow.invitations.redemption_done(inv.id, uid, accepted=False)
            raise
        async with self.uow() as uow:
            await uow.invitations.redemption_done(inv.id, uid, accepted=True)
        return Granted(inv.role_keys, roles)

    async def _alert_lockout(self, group: Group, user: UserRef) -> None:
        channel = await self.grants.channel(group.id, "review")
        if channel is None:
            log.warning("code lockout for %s in %s; no review channel to tell", user.id, group.id)
            return
        message = views.lockout_alert(group.language, user.name or user.id, LOCK_MINUTES)
        await self.workspace.send(group.id, channel, message)
