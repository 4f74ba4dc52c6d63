"""Invitations and join codes: cohort invites with rosters, friend codes, redeeming, lockout."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from bot.cog import command
from bot.cogs.onboarding.base import OnboardingBase
from bot.cogs.onboarding.codes import (
    _CUSTOM_CODE,
    CODE_DAYS,
    COHORT_CODE_USES,
    FRIEND_CODE_USES,
    GRANTING_STALE,
    LOCK_ATTEMPTS,
    LOCK_WINDOW,
    cohort_key,
    new_code,
    parse_roster,
)
from bot.cogs.onboarding.records import CodeKind, RoleChange
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Group, Permission
from bot.errors import PlatformError, UserError
from bot.events import UserRef
from bot.i18n import permission_label, t
from bot.messages import OutgoingMessage
from bot.safety import neutralise

log = logging.getLogger(__name__)


class Invitations(OnboardingBase):
    """Invitations and join codes: cohort invites with rosters, friend codes, redeeming, lockout."""

    # -- invitations ------------------------------------------------------------------------

    @command(
        "invite cohort",
        permission=Permission.STAFF,
        help_key="onboarding.invite_cohort_help",
        default_of_group=True,
        options=(
            Option("cohort", required=True, max_length=120),
            Option("role", OptionType.CHOICE, choices=("student", "alumni", "staff")),
            Option("emails", max_length=50_000),
            Option("code", max_length=32),
            Option("roster", OptionType.ATTACHMENT, max_length=500_000),
        ),
    )
    async def invite_cohort(
        self,
        ctx: Context,
        cohort: str,
        role: str = "student",
        emails: str = "",
        code: str | None = None,
        roster: str = "",
    ) -> None:
        """A code, the invite link and a ready-to-paste message; a roster is matched by email."""
        c = await self._find_cohort(ctx, cohort)
        chosen = re.sub(r"[\s-]+", "", code or "").upper()
        if code is not None and not _CUSTOM_CODE.match(chosen):
            raise UserError("onboarding.code_invalid", code=neutralise(code))
        if chosen:
            async with self.bot.uow() as uow:
                if await uow.invitations.by_code(ctx.group.id, chosen) is not None:
                    raise UserError("onboarding.code_taken", code=chosen)
        await self._ensure_cohort_role(ctx.group, c)
        if ctx.responder is not None:
            await ctx.responder.defer()
        # A roster file (CSV: name,email per line) and typed emails make one list.
        valid, invalid = parse_roster("\n".join(x for x in (roster, emails) if x))
        gid = ctx.group.id
        now = self.bot.clock.now()
        # A staff code hands out the highest trust there is: one person, one use.
        max_uses = 1 if role == "staff" else max(COHORT_CODE_USES, len(valid))
        batch = f"roster:{c.id}:{secrets.token_hex(4)}"
        changes: list[RoleChange] = []
        async with self.bot.uow() as uow:
            inv = await uow.invitations.add(
                gid,
                chosen or new_code(),
                CodeKind.COHORT,
                c.id,
                role,
                max_uses,
                now + timedelta(days=CODE_DAYS),
                ctx.user.id,
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
                        await uow.cohorts.set_member_cohort(gid, user_id, c.id)
                        changes.append(
                            RoleChange(
                                user_id,
                                (entry.role_key, cohort_key(c.id)),
                                (),
                                "roster",
                                ctx.user.id,
                            )
                        )
                await uow.grants.enqueue(gid, batch, changes, now)
        link_text, link_notes = await self._link(ctx, max_uses)
        role_name = await self._role_label(ctx.group, role)
        lines = [
            ctx.t("onboarding.invite_title", cohort=c.name, role=role_name),
            ctx.t("onboarding.invite_link", link=link_text),
            *link_notes,
            ctx.t("onboarding.invite_code", code=inv.code, uses=max_uses, days=CODE_DAYS),
        ]
        if role == "staff":
            lines.append(ctx.t("onboarding.invite_staff_single"))
        if valid or invalid:
            lines.append(
                ctx.t(
                    "onboarding.roster_imported",
                    added=added,
                    given=len(valid),
                    present=len(changes),
                )
            )
        for n, text in invalid:
            lines.append(ctx.t("onboarding.roster_invalid_line", line=n, value=neutralise(text)))
        paste = ctx.t("onboarding.invite_paste", cohort=c.name, link=link_text, code=inv.code)
        lines.append(ctx.t("onboarding.invite_paste_intro"))
        lines.append(paste)
        await ctx.reply(OutgoingMessage("\n".join(lines)))
        if changes and ctx.responder is not None:
            await ctx.responder.reply(
                OutgoingMessage(ctx.t("onboarding.progress", done=0, total=len(changes)))
            )
        if changes:
            result = await self.drain(gid, batch, ctx.responder)
            title = ctx.t("onboarding.grants_failed", count=len(result.failed))
            report = await self.report_failures(ctx.group, result.failed, title)
            if report is not None and ctx.responder is not None:
                await ctx.responder.reply(report)

    @command(
        "invite friend", permission=Permission.MEMBER, help_key="onboarding.invite_friend_help"
    )
    async def invite_friend(self, ctx: Context) -> None:
        """A personal code: newcomers on it get the industry role unless staff approve more."""
        await self._ensure_member(ctx.group.id, ctx.user)
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            inv = await uow.invitations.add(
                ctx.group.id,
                new_code(),
                CodeKind.FRIEND,
                None,
                "industry",
                FRIEND_CODE_USES,
                now + timedelta(days=CODE_DAYS),
                ctx.user.id,
                now,
            )
        link_text, link_notes = await self._link(ctx, FRIEND_CODE_USES)
        text = "\n".join(
            [
                ctx.t(
                    "onboarding.friend_code",
                    code=inv.code,
                    uses=FRIEND_CODE_USES,
                    days=CODE_DAYS,
                ),
                ctx.t("onboarding.invite_link", link=link_text),
                *link_notes,
                ctx.t("onboarding.invite_paste_intro"),
                ctx.t("onboarding.friend_paste", link=link_text, code=inv.code),
            ]
        )
        await ctx.reply(OutgoingMessage(text))

    @command("invite link", permission=Permission.MEMBER, help_key="onboarding.invite_link_help")
    async def invite_link(self, ctx: Context) -> None:
        """A fresh link into the group, for when the one handed out has expired."""
        link_text, link_notes = await self._link(ctx, 0)
        await ctx.reply(
            OutgoingMessage(
                "\n".join([ctx.t("onboarding.invite_link", link=link_text), *link_notes])
            )
        )

    async def _link(self, ctx: Context, max_uses: int) -> tuple[str, list[str]]:
        """The invite link (or why there is none) and notes on how long it lasts.

        A link the platform refuses to make never loses the code made just before it: the
        refusal is shown in place of the link, and the code works with any link to the group.
        """
        try:
            link = await self.bot.workspace.create_invite(
                ctx.group.id, max_uses=max_uses, max_age_seconds=CODE_DAYS * 86400
            )
        except UserError as exc:
            return ctx.t("onboarding.no_link_now"), [ctx.t(exc.key, **exc.params)]
        except PlatformError as exc:
            log.warning("no invite link for %s: %s", ctx.group.id, exc)
            label = permission_label(ctx.lang, exc.missing_permission or "", exc.role)
            key = "core.platform_missing_permission" if exc.missing_permission else None
            note = ctx.t(key, permission=label) if key else ctx.t("onboarding.no_link_now")
            return ctx.t("onboarding.no_link_now"), [note]
        if link is None:
            return ctx.t("onboarding.no_link"), []
        days = self.bot.workspace.capabilities.invite_days
        if days is not None and days < CODE_DAYS:
            return link, [ctx.t("onboarding.invite_link_days", count=days)]
        return link, []

    # -- codes ------------------------------------------------------------------------------

    @command(
        "join",
        permission=Permission.MEMBER,
        help_key="onboarding.join_help",
        options=(Option("code", required=True, max_length=40),),
    )
    async def join(self, ctx: Context, code: str) -> None:
        """Redeem a join code from anywhere."""
        await self.redeem(ctx, code)

    async def redeem(self, ctx: Context, code: str) -> None:
        """Check a code (with lockout against guessing) and grant what it carries.

        One member's entries are serialised (`lock_member`), so parallel guesses are counted
        one after the other and never pass the lockout together. A code's use is recorded as
        waiting for the platform and spent once the platform accepted its roles: only a use the
        platform refused (and nobody revoked since) may be finished by entering it again.
        """
        gid, uid = ctx.group.id, ctx.user.id
        await self._ensure_member(gid, ctx.user)
        code = re.sub(r"[\s-]+", "", code).upper()
        now = self.bot.clock.now()
        problem: str | None = None
        inv = None
        async with self.bot.uow() as uow:
            await uow.invitations.lock_member(gid, uid)
            fails = await uow.invitations.failed_attempts_since(gid, uid, now - LOCK_WINDOW)
            if fails >= LOCK_ATTEMPTS:
                problem = "locked"
            else:
                inv = await uow.invitations.by_code(gid, code) if code else None
                if inv is None or inv.revoked:
                    problem = "onboarding.code_unknown"
                elif inv.expires_at is not None and inv.expires_at <= now:
                    problem = "onboarding.code_expired"
                elif await uow.invitations.redemption(inv.id, uid) is None:
                    if not await uow.invitations.use(gid, inv.id, uid, now):
                        problem = "onboarding.code_used_up"
                elif not await uow.invitations.claim_redemption(
                    inv.id, uid, now, now - GRANTING_STALE
                ):
                    # Granted, revoked, or being granted by a parallel entry right now. Only a
                    # use the platform refused is finished by entering the code again.
                    problem = "already"
                if problem is None or problem == "already":
                    await uow.invitations.record_attempt(gid, uid, True, now)
                else:
                    await uow.invitations.record_attempt(gid, uid, False, now)
                    fails += 1
                if problem is None and inv is not None:
                    if inv.cohort_id is not None:
                        await uow.cohorts.set_member_cohort(gid, uid, inv.cohort_id)
                    if inv.created_by is not None and inv.created_by != uid:
                        await uow.invitations.set_invited_by(gid, uid, inv.created_by)
            member = await uow.members.get(gid, uid)
        if problem == "locked":
            raise UserError("onboarding.code_locked", minutes=int(LOCK_WINDOW.seconds / 60))
        if problem == "already" and inv is not None:
            wanted = {inv.role_key} | ({cohort_key(inv.cohort_id)} if inv.cohort_id else set())
            if member is not None and wanted <= member.roles:
                raise UserError("onboarding.code_already_used")
            raise UserError("onboarding.code_already_used_missing")
        if problem is not None:
            if fails >= LOCK_ATTEMPTS:
                await self._alert_lockout(ctx.group, ctx.user)
                raise UserError("onboarding.code_locked", minutes=int(LOCK_WINDOW.seconds / 60))
            raise UserError(problem, left=LOCK_ATTEMPTS - fails)
        assert inv is not None
        keys = [inv.role_key] + ([cohort_key(inv.cohort_id)] if inv.cohort_id else [])
        change = RoleChange(uid, tuple(keys), (), f"code:{inv.kind}", inv.created_by)
        try:
            await self.apply_change(gid, change, member=member)
        except PlatformError:
            # Refused (a missing permission): the member is told; the use waits to be finished.
            async with self.bot.uow() as uow:
                await uow.invitations.redemption_done(inv.id, uid, accepted=False)
            raise
        async with self.bot.uow() as uow:
            await uow.invitations.redemption_done(inv.id, uid, accepted=True)
        labels = await self._labels(ctx.group, keys)
        await ctx.reply(
            OutgoingMessage(
                ctx.t("onboarding.code_ok", roles=labels),
                buttons=(self._intro_button(ctx.group),),
            )
        )

    async def _alert_lockout(self, group: Group, user: UserRef) -> None:
        channel = await self._channel(group.id, "review")
        if channel is None:
            log.warning("code lockout for %s in %s; no review channel to tell", user.id, group.id)
            return
        text = t(
            group.language,
            "onboarding.lockout_alert",
            member=neutralise(user.name or user.id),
            attempts=LOCK_ATTEMPTS,
            minutes=int(LOCK_WINDOW.seconds / 60),
        )
        await self.bot.workspace.send(group.id, channel, OutgoingMessage(text))
