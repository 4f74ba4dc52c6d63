"""Cohorts: create, list, status."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.cog import command
from bot.cogs.onboarding.base import OnboardingBase
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Permission
from bot.errors import UserError
from bot.messages import OutgoingMessage
from bot.safety import clip, neutralise


class CohortCommands(OnboardingBase):
    """Cohorts: create, list, status."""

    # -- cohorts ----------------------------------------------------------------------------

    @command(
        "cohort create",
        permission=Permission.STAFF,
        help_key="onboarding.cohort_create_help",
        options=(
            Option("program", required=True, max_length=80),
            Option("year", OptionType.INTEGER, required=True, min_value=1950, max_value=2100),
            Option("graduates", OptionType.DATE),
        ),
    )
    async def cohort_create(
        self, ctx: Context, program: str, year: int, graduates: date | None = None
    ) -> None:
        """Create a cohort and its platform role (named absolutely, never renamed)."""
        program = " ".join(neutralise(program).split())
        if not program:
            raise UserError("onboarding.program_empty")
        today = self.bot.clock.now().astimezone(ZoneInfo(ctx.group.timezone)).date()
        if graduates is not None and graduates <= today:
            raise UserError("onboarding.graduates_past", date=graduates.isoformat())
        name = clip(f"{program} {year}", 100)
        async with self.bot.uow() as uow:
            cohort = await uow.cohorts.add(
                ctx.group.id, program, year, name, graduates, ctx.user.id, self.bot.clock.now()
            )
        if cohort is None:
            existing = await self._find_cohort(ctx, name)
            if await self._ensure_cohort_role(ctx.group, existing):
                await ctx.say("onboarding.cohort_role_repaired", cohort=existing.name)
                return
            raise UserError("onboarding.cohort_exists", cohort=existing.name)
        await self._ensure_cohort_role(ctx.group, cohort)
        if graduates is None:
            await ctx.say("onboarding.cohort_created_open", cohort=name)
        else:
            await ctx.say("onboarding.cohort_created", cohort=name, date=graduates.isoformat())

    @command("cohort list", permission=Permission.STAFF, help_key="onboarding.cohort_list_help")
    async def cohort_list(self, ctx: Context) -> None:
        """List cohorts with their graduation dates."""
        async with self.bot.uow() as uow:
            cohorts = await uow.cohorts.for_group(ctx.group.id)
        if not cohorts:
            await ctx.say("onboarding.no_cohorts")
            return
        lines = [ctx.t("onboarding.cohorts_title")]
        for c in cohorts:
            when = c.graduates_on.isoformat() if c.graduates_on else "-"
            done = ctx.t("onboarding.graduated") if c.graduated_at else ""
            lines.append(f"- {c.name}: {when} {done}".rstrip())
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command(
        "cohort status",
        permission=Permission.STAFF,
        help_key="onboarding.cohort_status_help",
        options=(Option("cohort", required=True, max_length=120),),
    )
    async def cohort_status(self, ctx: Context, cohort: str) -> None:
        """Invited, joined, waiting for approval, and who on the roster has not joined yet."""
        c = await self._find_cohort(ctx, cohort)
        gid = ctx.group.id
        async with self.bot.uow() as uow:
            roster = await uow.roster.entries(gid, c.id)
            ids = await uow.cohorts.member_ids(gid, c.id)
            members = {m.user_id: m for m in await uow.members.for_group(gid)}
            waiting = await uow.requests.pending_count(gid, c.id)
            code_uses = await uow.invitations.cohort_uses(gid, c.id)
        joined = [u for u in ids if u in members and members[u].left_at is None]
        missing = [e for e in roster if e.matched_user_id is None]
        lines = [
            ctx.t("onboarding.status_title", cohort=c.name),
            ctx.t(
                "onboarding.status_counts",
                invited=len(roster),
                codes=code_uses,
                joined=len(joined),
                waiting=waiting,
                missing=len(missing),
            ),
        ]
        if missing:
            shown = ", ".join(e.email for e in missing[:20])
            more = len(missing) - 20
            lines.append(ctx.t("onboarding.status_missing", emails=shown))
            if more > 0:
                lines.append(ctx.t("onboarding.status_more", count=more))
        await ctx.reply(OutgoingMessage("\n".join(lines)))
