"""`/alumni digest email:on|off` for members, `/alumni mail status|stop` for staff, the hourly
outbox sweep, and telling a member once when their digest email bounced."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.cog import Cog, command, job
from bot.cogs.mail.invitations import InvitationService
from bot.cogs.mail.records import DIGEST, INVITATION, Bounce, DigestOutcome, OutboxStatus
from bot.cogs.mail.service import MailService, normalise
from bot.cogs.onboarding.codes import CODE_DAYS, new_code
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import Group, Permission
from bot.errors import PlatformError, UserError
from bot.i18n import day, t
from bot.messages import OutgoingMessage

log = logging.getLogger(__name__)


def _hourly(cog: MailCog, group: Group, now: datetime) -> str | None:
    return f"{now:%Y-%m-%dT%H}"


class MailCog(Cog):
    """Email: the outbox's owner; other features send through its MailService."""

    name = "mail"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.service = MailService(bot.uow, bot.clock, owner=bot.config.instance_id)
        self.service.on_bounce(DIGEST, self._digest_bounced)
        bot.provide(self.service)
        # Personal invitations of rosters: onboarding's invite, redeem and cohort commands
        # call this service; a bounce is told to the teacher who invited the address.
        self.invitations = InvitationService(
            bot.uow,
            bot.clock,
            bot.workspace,
            self.service,
            bot.config.data_dir / "invitations",
            new_code=new_code,
            link_days=CODE_DAYS,
        )
        self.service.on_bounce(INVITATION, self._invitation_bounced)
        bot.provide(self.invitations)

    @command(
        "digest",
        permission=Permission.MEMBER,
        help_key="mail.digest_help",
        options=(
            Option("email", OptionType.CHOICE, required=True, choices=("on", "off")),
            Option("address", max_length=254),
            Option("code", max_length=12),
        ),
    )
    async def digest(self, ctx: Context, email: str, address: str = "", code: str = "") -> None:
        """Turn the weekly digest by email on or off (a typed address is confirmed by a code)."""
        platform_email = None
        if email == "on" and not address and not code:
            info = await self.bot.workspace.member_info(ctx.group.id, ctx.user.id)
            platform_email = info.email if info is not None else None
        answer = await self.service.digest(
            ctx.group,
            ctx.actor,
            email == "on",
            platform_email=platform_email,
            address=address or None,
            code=code or None,
        )
        text = ctx.t(f"mail.digest.{answer.outcome.value}", address=answer.address or "")
        if not answer.delivered and answer.outcome in (DigestOutcome.ON, DigestOutcome.CODE_SENT):
            text += "\n" + ctx.t("mail.not_delivered")
        await ctx.reply(OutgoingMessage(text))

    @command(
        "mail status",
        permission=Permission.STAFF,
        help_key="mail.status_help",
        options=(Option("address", max_length=254),),
    )
    async def status(self, ctx: Context, address: str = "") -> None:
        """Where emails go, the outbox in numbers, or one address's latest email."""
        if address:
            normal = normalise(address)
            if normal is None:
                raise UserError("mail.invalid_address", address=address[:100])
            found = (await self.service.status(ctx.group.id, [normal]))[normal]
            when = ""
            if found.last_sent_at is not None:
                when = ctx.t("mail.status.last_sent", day=day(ctx.lang, found.last_sent_at))
            reason = f" ({found.code} {found.detail})".rstrip() if found.code else ""
            await ctx.say(
                "mail.status.address",
                address=normal,
                state=ctx.t(f"mail.state.{found.state.value}") + reason,
                when=when,
            )
            return
        counts = await self.service.counts(ctx.group.id)
        lines = [
            ctx.t("mail.status.transport", transport=self.service.transport),
            ctx.t(
                "mail.status.delivered" if self.service.delivers else "mail.status.not_delivered"
            ),
            ctx.t(
                "mail.status.counts",
                **{s.value: counts.get(s, 0) for s in OutboxStatus},
            ),
        ]
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command(
        "mail stop",
        permission=Permission.STAFF,
        help_key="mail.stop_help",
        options=(Option("address", required=True, max_length=254),),
    )
    async def stop(self, ctx: Context, address: str) -> None:
        """No more email from this group to an address (an unsubscribe email, a phone call)."""
        normal = normalise(address)
        if normal is None:
            raise UserError("mail.invalid_address", address=address[:100])
        added = await self.service.opt_out(ctx.group.id, normal, "staff")
        await ctx.say("mail.stopped" if added else "mail.already_stopped", address=normal)

    @job("mail_sweep", period=_hourly)
    async def sweep(self, group: Group, period: str) -> None:
        """Drop old finished rows and wake the sender (emails left from before a restart)."""
        await self.service.prune(group)

    async def _digest_bounced(self, bounce: Bounce) -> None:
        """Tell the member, once, that their digest address bounced and how to fix it."""
        if bounce.user_id is None:
            return
        group = await self.bot.group(bounce.group_id)
        reason = f"{bounce.code} {bounce.detail}".strip() if bounce.code else bounce.detail
        text = t(group.language, "mail.digest.bounced", address=bounce.address, reason=reason)
        try:
            await self.bot.workspace.send_dm(group.id, bounce.user_id, OutgoingMessage(text))
        except PlatformError as exc:
            log.info("could not tell %s about a bounce: %s", bounce.user_id, exc)

    async def _invitation_bounced(self, bounce: Bounce) -> None:
        """Tell the teacher who invited the address, once, that the invitation bounced."""
        teacher = await self.invitations.inviter(bounce.group_id, bounce.address)
        if teacher is None:
            return
        group = await self.bot.group(bounce.group_id)
        reason = f"{bounce.code} {bounce.detail}".strip() if bounce.code else bounce.detail
        text = t(group.language, "mail.invitation.bounced", address=bounce.address, reason=reason)
        try:
            await self.bot.workspace.send_dm(group.id, teacher, OutgoingMessage(text))
        except PlatformError as exc:
            log.info("could not tell %s about a bounced invitation: %s", teacher, exc)
