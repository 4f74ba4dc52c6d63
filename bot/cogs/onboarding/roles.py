"""Role commands for staff, whois, and the App Home notes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.cog import command
from bot.cogs.onboarding.base import OnboardingBase
from bot.cogs.onboarding.records import RoleChange
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Permission, RoleRecord
from bot.errors import UserError
from bot.messages import OutgoingMessage
from bot.safety import neutralise


class RoleCommands(OnboardingBase):
    """Role commands for staff, whois, and the App Home notes."""

    # -- roles ------------------------------------------------------------------------------

    async def _find_role(self, ctx: Context, wanted: str) -> RoleRecord:
        wanted_l = wanted.strip().lstrip("@").lower()
        async with self.bot.uow() as uow:
            roles = await uow.roles.for_group(ctx.group.id)
        for r in roles:
            if wanted_l in (r.key.lower(), r.name.lower()):
                return r
        raise UserError(
            "onboarding.role_unknown",
            role=neutralise(wanted),
            choices=", ".join(r.name for r in roles) or "-",
        )

    @command(
        "role grant",
        permission=Permission.STAFF,
        help_key="onboarding.role_grant_help",
        options=(
            Option("member", OptionType.USER, required=True),
            Option("role", required=True, max_length=120),
        ),
    )
    async def role_grant(self, ctx: Context, member: str, role: str) -> None:
        """Give a member a role (staff only), recorded with who granted it.

        "Already has" is the platform's word, not only the database's: a role the records
        have but the platform lacks (a failed batch, an admin's edit) is granted again.
        """
        m = await self._find_member(ctx, member)
        r = await self._find_role(ctx, role)
        repair = False
        if r.key in m.roles:
            held = await self._platform_has(ctx, m.user_id, r)
            if held is not False:
                raise UserError("onboarding.role_had", member=neutralise(m.name), role=r.name)
            repair = True
        if r.key.startswith("cohort:"):
            async with self.bot.uow() as uow:
                await uow.cohorts.set_member_cohort(ctx.group.id, m.user_id, int(r.key[7:]))
        await self.apply_change(
            ctx.group.id, RoleChange(m.user_id, (r.key,), (), "staff", ctx.user.id), member=m
        )
        key = "onboarding.role_repaired" if repair else "onboarding.role_granted"
        await ctx.say(key, member=neutralise(m.name), role=r.name)

    async def _platform_has(self, ctx: Context, user_id: str, role: RoleRecord) -> bool | None:
        """Whether the platform gives the member the role now; None when it cannot be told
        (the member left, or the role has no platform id)."""
        if not role.platform_id:
            return None
        held = await self.bot.workspace.member_roles(ctx.group.id, user_id)
        return None if held is None else role.platform_id in held

    @command(
        "role revoke",
        permission=Permission.STAFF,
        help_key="onboarding.role_revoke_help",
        options=(
            Option("member", OptionType.USER, required=True),
            Option("role", required=True, max_length=120),
        ),
    )
    async def role_revoke(self, ctx: Context, member: str, role: str) -> None:
        """Take a role from a member (staff only); a code still waiting to give it is spent."""
        m = await self._find_member(ctx, member)
        r = await self._find_role(ctx, role)
        if r.key not in m.roles:
            async with self.bot.uow() as uow:
                spent = await uow.invitations.revoke_pending_redemptions(
                    ctx.group.id, m.user_id, [r.key]
                )
            if not spent:
                raise UserError("onboarding.role_not_had", member=neutralise(m.name), role=r.name)
            await ctx.say("onboarding.role_revoked", member=neutralise(m.name), role=r.name)
            return
        await self.apply_change(
            ctx.group.id, RoleChange(m.user_id, (), (r.key,), "staff", ctx.user.id), member=m
        )
        await ctx.say("onboarding.role_revoked", member=neutralise(m.name), role=r.name)

    @command(
        "whois",
        permission=Permission.STAFF,
        help_key="onboarding.whois_help",
        options=(Option("member", OptionType.USER, required=True),),
    )
    async def whois(self, ctx: Context, member: str) -> None:
        """Roles, cohort, who invited them, when they joined."""
        m = await self._find_member(ctx, member)
        async with self.bot.uow() as uow:
            cohort_id = await uow.cohorts.member_cohort(ctx.group.id, m.user_id)
            cohort = await uow.cohorts.get(ctx.group.id, cohort_id) if cohort_id else None
            inviter = await uow.members.get(ctx.group.id, m.invited_by) if m.invited_by else None
        tz = ZoneInfo(ctx.group.timezone)
        joined = m.joined_at.astimezone(tz).date().isoformat() if m.joined_at else "-"
        invited = (inviter.name if inviter else m.invited_by) or "-"
        fields = [
            (ctx.t("onboarding.whois_roles"), await self._labels(ctx.group, sorted(m.roles))),
            (ctx.t("onboarding.whois_cohort"), cohort.name if cohort else "-"),
            (ctx.t("onboarding.whois_invited"), neutralise(invited)),
            (ctx.t("onboarding.whois_joined"), joined),
        ]
        if m.left_at is not None:
            fields.append(
                (ctx.t("onboarding.whois_left"), m.left_at.astimezone(tz).date().isoformat())
            )
        await ctx.reply(OutgoingMessage("", title=neutralise(m.name), fields=tuple(fields)))

    async def home_notes(self, ctx: Context) -> list[str]:
        """Lines for a member's home view: their cohort; for staff, requests waiting."""
        notes: list[str] = []
        async with self.bot.uow() as uow:
            cohort_id = await uow.cohorts.member_cohort(ctx.group.id, ctx.user.id)
            cohort = await uow.cohorts.get(ctx.group.id, cohort_id) if cohort_id else None
            staff = ctx.permission is not None and ctx.permission.rank >= Permission.STAFF.rank
            pending = await uow.requests.pending_count(ctx.group.id) if staff else 0
        if cohort is not None:
            notes.append(ctx.t("onboarding.home_cohort", cohort=cohort.name))
        if pending:
            key = "onboarding.home_pending_one" if pending == 1 else "onboarding.home_pending"
            notes.append(ctx.t(key, count=pending))
        return notes
