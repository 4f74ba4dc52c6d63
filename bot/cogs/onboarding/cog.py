"""Onboarding's commands, buttons, forms, the join listener and its jobs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from functools import partial
from zoneinfo import ZoneInfo

from bot.channels import links
from bot.cog import Cog, button, command, form, job, listen
from bot.cogs.mail.invitations import InvitationService as PersonalInvitations
from bot.cogs.mail.views import invite_lines
from bot.cogs.members.service import MembersService
from bot.cogs.onboarding import views
from bot.cogs.onboarding.codes import CLAIMABLE
from bot.cogs.onboarding.cohorts import NAME_MAX, CohortService
from bot.cogs.onboarding.graduation import GraduationService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.invitations import InvitationService
from bot.cogs.onboarding.join import JoinService
from bot.cogs.onboarding.records import Verdict
from bot.cogs.onboarding.requests import RequestService
from bot.cogs.onboarding.roles import RoleService
from bot.cogs.privacy.service import PrivacyService
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.events import ButtonPressed, FormSubmitted, MemberJoined
from bot.group_settings import GroupProfile
from bot.messages import OutgoingMessage
from bot.safety import neutralise
from bot.scheduler import daily_period, post_once


def _hourly(cog: OnboardingCog, group: Group, now: datetime) -> str | None:
    return now.astimezone(ZoneInfo(group.timezone)).strftime("%Y-%m-%dT%H")


def _claimable(value: str) -> str:
    """A claim button's role; anything else is a forged press."""
    if value not in CLAIMABLE:
        raise ValueError(value)
    return value


def _decision(value: str) -> tuple[int, Verdict]:
    """A decide button's value: "<request id>:approve|deny"."""
    request_id, _, verdict = value.partition(":")
    if not request_id.isdigit():
        raise ValueError(value)
    return int(request_id), Verdict(verdict)


def _move(value: str) -> tuple[str, int]:
    """A move button's value: "<user id>:<cohort id>"."""
    user_id, _, cohort_id = value.rpartition(":")
    if not user_id or not cohort_id.isdigit():
        raise ValueError(value)
    return user_id, int(cohort_id)


class OnboardingCog(Cog):
    """Cohorts, codes and rosters, the welcome, role requests, graduation."""

    name = "onboarding"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        uow, ws, clock = bot.uow, bot.workspace, bot.clock
        members = bot.service(MembersService)
        # Personal invitations by email of a roster (the mail feature): invite, status, remind.
        self.personal = bot.service(PersonalInvitations)
        self.grants = GrantService(uow, ws, clock, bot.config.instance_id)
        self.cohorts = CohortService(uow, ws, clock)
        self.invitations = InvitationService(uow, ws, clock, self.cohorts, self.grants, members)
        self.requests = RequestService(uow, ws, clock, self.cohorts, self.grants, members)
        self.roles = RoleService(uow, ws, self.grants, members)
        self.join_service = JoinService(uow, ws, clock, self.grants, bot.service(PrivacyService))
        self.graduation_service = GraduationService(
            uow, ws, clock, self.grants, members, partial(post_once, bot)
        )
        for service in (
            self.grants,
            self.cohorts,
            self.invitations,
            self.requests,
            self.roles,
            self.join_service,
            self.graduation_service,
        ):
            bot.provide(service)

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
        """Create a cohort and its platform role."""
        made = await self.cohorts.create(ctx.group, ctx.actor, program, year, graduates)
        c = made.cohort
        if made.role_repaired:
            await ctx.say("onboarding.cohort_role_repaired", cohort=c.name)
        elif c.graduates_on is None:
            await ctx.say("onboarding.cohort_created_open", cohort=c.name)
        else:
            await ctx.say("onboarding.cohort_created", cohort=c.name, date=c.graduates_on)

    @command(
        "cohort edit",
        permission=Permission.STAFF,
        help_key="onboarding.cohort_edit_help",
        options=(
            Option("cohort", required=True, max_length=120, complete="cohort"),
            Option("graduates", OptionType.DATE),
            Option("name", max_length=NAME_MAX),
        ),
    )
    async def cohort_edit(
        self, ctx: Context, cohort: str, graduates: date | None = None, name: str | None = None
    ) -> None:
        """Set or change a cohort's graduation date, or rename it and its role."""
        c = await self.cohorts.edit(ctx.group, cohort, graduates, name)
        if name is not None:
            await ctx.say("onboarding.cohort_renamed", cohort=c.name)
        if graduates is not None:
            assert c.graduates_on is not None
            await ctx.say("onboarding.cohort_edited", cohort=c.name, date=c.graduates_on)

    @command(
        "cohort archive",
        permission=Permission.STAFF,
        help_key="onboarding.cohort_archive_help",
        options=(Option("cohort", required=True, max_length=120, complete="cohort"),),
    )
    async def cohort_archive(self, ctx: Context, cohort: str) -> None:
        """Hide a finished cohort from lists."""
        done = await self.cohorts.archive(ctx.group, cohort)
        said = ctx.t("onboarding.cohort_archived", cohort=done.cohort.name)
        if done.codes_ended:
            said += " " + ctx.t("onboarding.cohort_archived_codes", count=done.codes_ended)
        await ctx.reply(OutgoingMessage(said))

    @command("cohort list", permission=Permission.STAFF, help_key="onboarding.cohort_list_help")
    async def cohort_list(self, ctx: Context) -> None:
        """List cohorts with their graduation dates."""
        await ctx.reply(views.cohorts(ctx.lang, await self.cohorts.all(ctx.group)))

    @command(
        "cohort status",
        permission=Permission.STAFF,
        help_key="onboarding.cohort_status_help",
        options=(Option("cohort", required=True, max_length=120, complete="cohort"),),
    )
    async def cohort_status(self, ctx: Context, cohort: str) -> None:
        """Invited, joined, waiting for approval, and per roster address where its
        invitation is (the whole table as a CSV when it is long)."""
        status = await self.cohorts.status(ctx.group, cohort)
        invitees = await self.personal.status(ctx.group, status.cohort)
        message, sheet = views.cohort_status(ctx.lang, status, invitees)
        path = None
        if sheet:
            path = str(await self.personal.save_csv(f"status-{status.cohort.id}", sheet))
        await self._reply_with_file(ctx, replace(message, file_path=path))

    @command(
        "cohort remind",
        permission=Permission.STAFF,
        help_key="mail.invitation.remind_help",
        options=(Option("cohort", required=True, max_length=120),),
    )
    async def cohort_remind(self, ctx: Context, cohort: str) -> None:
        """Email who has not joined yet: at most once every three days per address."""
        c = await self.cohorts.find(ctx.group, cohort)
        if ctx.responder is not None:
            await ctx.responder.defer()
        report = await self.personal.remind(ctx.group, c, ctx.actor)
        text = "\n".join(invite_lines(ctx.lang, report, c.name))
        await self._reply_with_file(ctx, OutgoingMessage(text, file_path=report.file))

    async def _reply_with_file(self, ctx: Context, message: OutgoingMessage) -> None:
        """Answer with a file made for the teacher, deleted once sent (or refused)."""
        try:
            await ctx.reply(message)
        finally:
            await self.personal.forget_file(message.file_path)

    # -- invitations and codes --------------------------------------------------------------

    @command(
        "invite cohort",
        permission=Permission.STAFF,
        help_key="onboarding.invite_cohort_help",
        default_of_group=True,
        options=(
            Option("cohort", required=True, max_length=120, complete="cohort"),
            Option(
                "role", OptionType.CHOICE, choices=("student", "alumni", "staff"), words="roles"
            ),
            Option("emails", max_length=50_000),
            Option("code", max_length=32),
            Option("roster", OptionType.ATTACHMENT, max_length=500_000),
            Option("send", OptionType.CHOICE, choices=("yes", "no")),
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
        send: str = "yes",
    ) -> None:
        """A code, the invite link and a ready-to-paste message; a roster is matched by email,
        and each new address on it gets its own code by email (`send:no` only imports)."""
        plan = await self.invitations.plan_cohort_invite(ctx.group, cohort, code)
        if ctx.responder is not None:
            await ctx.responder.defer()
        invite = await self.invitations.invite_cohort(
            ctx.group, ctx.actor, plan, role, roster, emails
        )
        emailed = None
        if invite.roster is not None and invite.roster.given:
            emailed = await self.personal.invite(
                ctx.group, invite.cohort, ctx.actor, send=send == "yes"
            )
        await self._reply_with_file(ctx, views.cohort_invite(ctx.lang, invite, emailed))
        if invite.batch is None or invite.roster is None:
            return
        responder = ctx.responder
        if responder is not None:
            await responder.reply(views.progress(ctx.lang, 0, invite.roster.present))

        async def shown(done: int, total: int) -> None:
            assert responder is not None
            await responder.edit_reply(views.progress(ctx.lang, done, total))

        result = await self.grants.drain(ctx.group.id, invite.batch, shown if responder else None)
        await self.grants.tell_rostered(ctx.group, result.applied)
        if responder is not None and result.failed:
            names = await self.bot.service(MembersService).names(ctx.group.id)
            title = ctx.t("onboarding.grants_failed", count=len(result.failed))
            report = views.grant_failures(ctx.lang, result.failed, names, title)
            if report is not None:
                await responder.reply(report)

    @command(
        "invite friend", permission=Permission.MEMBER, help_key="onboarding.invite_friend_help"
    )
    async def invite_friend(self, ctx: Context) -> None:
        """A personal code: newcomers on it get the industry role unless staff approve more."""
        invite = await self.invitations.invite_friend(ctx.group, ctx.user)
        programme = GroupProfile.of(ctx.group).programme
        await ctx.reply(views.friend_invite(ctx.lang, invite, programme))

    @command("invite link", permission=Permission.MEMBER, help_key="onboarding.invite_link_help")
    async def invite_link(self, ctx: Context) -> None:
        """A fresh link into the group, for when the one handed out has expired."""
        await ctx.reply(views.link_only(ctx.lang, await self.invitations.link(ctx.group, 0)))

    @command(
        "join",
        permission=Permission.MEMBER,
        help_key="onboarding.join_help",
        options=(Option("code", required=True, max_length=40),),
    )
    async def join(self, ctx: Context, code: str) -> None:
        """Redeem a join code from anywhere."""
        await self._redeem(ctx, code)

    async def _redeem(self, ctx: Context, code: str) -> None:
        granted = await self.invitations.redeem(ctx.group, ctx.user, code)
        await ctx.reply(views.code_ok(ctx.lang, granted))

    @command(
        "codes list",
        permission=Permission.STAFF,
        help_key="onboarding.codes_list_help",
        options=(Option("cohort", max_length=120, complete="cohort"),),
    )
    async def codes_list(self, ctx: Context, cohort: str | None = None) -> None:
        """The group's codes that still work."""
        found = await self.invitations.live_codes(ctx.group, cohort)
        await ctx.reply(views.live_codes(ctx.lang, found, ctx.group.timezone))

    @command(
        "codes revoke",
        permission=Permission.STAFF,
        help_key="onboarding.codes_revoke_help",
        options=(Option("code", required=True, max_length=40),),
    )
    async def codes_revoke(self, ctx: Context, code: str) -> None:
        """End a code at once."""
        inv = await self.invitations.revoke(ctx.group, code)
        await ctx.say("onboarding.code_revoked_now", code=inv.code)

    # -- roles ------------------------------------------------------------------------------

    @command(
        "role grant",
        permission=Permission.STAFF,
        help_key="onboarding.role_grant_help",
        options=(
            Option("member", OptionType.USER, required=True),
            Option("role", required=True, max_length=120, complete="role"),
        ),
    )
    async def role_grant(self, ctx: Context, member: str, role: str) -> None:
        """Give a member a role, recorded with who granted it."""
        done = await self.roles.grant(ctx.group, ctx.actor, member, role)
        await ctx.reply(views.role_granted(ctx.lang, done))

    @button(views.MOVE_ACTION, permission=Permission.STAFF, value=_move)
    async def press_move(self, ctx: Context, event: ButtonPressed, value: tuple[str, int]) -> None:
        """Staff move a member to the second cohort they were given (their graduation too)."""
        moved = await self.roles.move_cohort(ctx.group, *value)
        assert moved.cohort is not None
        name = neutralise(moved.member.name)
        await ctx.say("onboarding.cohort_moved", member=name, cohort=moved.cohort.name)

    @command(
        "role revoke",
        permission=Permission.STAFF,
        help_key="onboarding.role_revoke_help",
        options=(
            Option("member", OptionType.USER, required=True),
            Option("role", required=True, max_length=120, complete="role"),
        ),
    )
    async def role_revoke(self, ctx: Context, member: str, role: str) -> None:
        """Take a role from a member; a code still waiting to give it is spent."""
        done = await self.roles.revoke(ctx.group, ctx.actor, member, role)
        await ctx.say(
            "onboarding.role_revoked", member=neutralise(done.member.name), role=done.role.name
        )

    @command(
        "whois",
        permission=Permission.STAFF,
        help_key="onboarding.whois_help",
        options=(Option("member", OptionType.USER, required=True),),
    )
    async def whois(self, ctx: Context, member: str) -> None:
        """Roles, cohort, who invited them, when they joined."""
        found = await self.roles.whois(ctx.group, member)
        await ctx.reply(views.whois(ctx.lang, found, ctx.group.timezone))

    async def home_notes(self, ctx: Context) -> list[str]:
        """Lines for a member's home view: their cohort; for staff, requests waiting."""
        return views.home_notes(ctx.lang, await self.roles.home(ctx.group, ctx.actor))

    # -- the join flow ----------------------------------------------------------------------

    @listen(MemberJoined)
    async def member_joined(self, ctx: Context, event: MemberJoined) -> None:
        """Record and welcome a newcomer once."""
        await self.join_service.joined(ctx.group, event)

    @button(views.CODE_ACTION)
    async def press_code(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Open the code form."""
        if ctx.responder is not None:
            await ctx.responder.open_form(views.code_form(ctx.lang))

    @form(views.CODE_FORM)
    async def code_form(self, ctx: Context, event: FormSubmitted) -> None:
        """A code typed into the form."""
        await self._redeem(ctx, event.values.get("code", ""))

    @button(views.CLAIM_ACTION, value=_claimable)
    async def press_claim(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Industry at once; trusted roles ask which cohort, then go to staff."""
        granted = await self.requests.claim(ctx.group, ctx.user, value)
        if granted is not None:
            await ctx.reply(views.industry_granted(ctx.lang, granted))
            return
        if ctx.responder is not None:
            roles = await self.grants.roles(ctx.group.id)
            await ctx.responder.open_form(views.claim_form(ctx.lang, value, roles))

    @form(views.CLAIM_FORM)
    async def claim_form(self, ctx: Context, event: FormSubmitted) -> None:
        """Store the request and post it for staff with Approve and Deny buttons."""
        sent = await self.requests.request(
            ctx.group, ctx.user, event.context, event.values.get("cohort", "")
        )
        roles = await self.grants.roles(ctx.group.id)
        role = views.role_label(ctx.lang, sent.request.role_key, roles)
        await ctx.say("onboarding.request_sent", role=role)

    @button(views.DECIDE_ACTION, permission=Permission.STAFF, value=_decision)
    async def press_decide(
        self, ctx: Context, event: ButtonPressed, value: tuple[int, Verdict]
    ) -> None:
        """Staff approve or deny a request; never their own; decided once."""
        decision = await self.requests.decide(ctx.group, ctx.actor, *value)
        await ctx.reply(views.decided(ctx.lang, decision, ctx.actor.name))

    @button(views.INTRO_ACTION)
    async def press_intro(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Open the introduction form."""
        if ctx.responder is not None:
            await ctx.responder.open_form(views.intro_form(ctx.lang))

    @form(views.INTRO_FORM)
    async def intro_form(self, ctx: Context, event: FormSubmitted) -> None:
        """Post the introduction in #introductions."""
        where = await self.join_service.introduce(ctx.group, ctx.actor, event.values)
        channels = links(where.name, where.channel_id)
        await ctx.say("onboarding.intro_posted", channel=where.name, channels=channels)

    # -- scheduled work ---------------------------------------------------------------------

    @job("graduation", period=lambda cog, group, now: daily_period(group, now))
    async def graduation(self, group: Group, period: str) -> None:
        """Students of cohorts whose graduation date has passed become alumni, once."""
        await self.graduation_service.graduate(group, date.fromisoformat(period))

    @job("grant-queue", period=_hourly)
    async def resume_queue(self, group: Group, period: str) -> None:
        """Finish queued role changes a crash or a missing permission left behind."""
        await self.graduation_service.resume_queue(group)
