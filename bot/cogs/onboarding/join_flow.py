"""The join flow: the welcome DM, claims of a role for staff to decide, introductions."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from bot.cog import button, form, listen
from bot.cogs.onboarding.codes import (
    CLAIMABLE,
    cohort_key,
)
from bot.cogs.onboarding.invites import Invitations
from bot.cogs.onboarding.records import (
    WELCOME_FALLBACKS_KEY,
    RequestStatus,
    RoleChange,
    count_fallback,
)
from bot.cogs.privacy.service import PrivacyService
from bot.core import Context
from bot.domain import TRUSTED_ROLES, Cohort, Group, Member, Permission
from bot.errors import DirectMessagesClosed, UserError
from bot.events import ButtonPressed, FormSubmitted, MemberJoined, MessageRef
from bot.i18n import t
from bot.messages import Button, ButtonStyle, FormField, FormSpec, OutgoingMessage
from bot.safety import clip, neutralise

log = logging.getLogger(__name__)


class JoinFlow(Invitations):
    """The join flow: the welcome DM, claims of a role for staff to decide, introductions."""

    # -- the join flow ----------------------------------------------------------------------

    @listen(MemberJoined)
    async def member_joined(self, ctx: Context, event: MemberJoined) -> None:
        """Welcome a newcomer once: roster match by email, else the welcome DM with choices.

        A member recorded as gone who joins again is back: `left_at` is cleared, the roles the
        database keeps are given back on the platform (platforms drop them on leaving) and they
        get one "welcome back". Replays are told apart from returns by the event key and the
        time they left: the same key after a leave is a return, not a duplicate.
        """
        gid, uid = event.group_id, event.user.id
        now = self.bot.clock.now()
        entry = None
        async with self.bot.uow() as uow:
            member = await uow.members.get(gid, uid)
            rejoin = member is not None and member.left_at is not None
            if event.returning and not rejoin:
                ctx.handled.add("member-recorded")  # an active account changed: no join
                return
            key = event.event_key
            if key and member is not None and member.left_at is not None:
                key += f":back:{member.left_at.isoformat()}"
            if key and not await uow.events.first_time(gid, "joined:" + key, now):
                ctx.handled.add("member-recorded")  # a replay: the first time recorded it
                return
            if member is not None and member.left_at is None and member.joined_at is not None:
                ctx.handled.add("member-recorded")
                return  # already here: a replay under another key
            if member is None:
                member = Member(gid, uid, event.user.name or uid, email=event.email, joined_at=now)
            else:
                member = replace(
                    member,
                    left_at=None,
                    joined_at=now if rejoin or member.joined_at is None else member.joined_at,
                    email=event.email or member.email,
                )
            matched = (
                await uow.roster.match_email(gid, event.email, uid, now) if event.email else None
            )
            if matched is not None:
                entry, inv = matched
                if member.invited_by is None and inv is not None:
                    member = replace(member, invited_by=inv.created_by)
            await uow.members.save(member)
            if entry is not None:
                await uow.cohorts.set_member_cohort(gid, uid, entry.cohort_id)
            held = sorted(member.roles)
            # Read here, in the same unit of work, for the grants and labels below.
            roles = {r.key: r for r in await uow.roles.for_group(gid)} if entry or rejoin else {}
        ctx.handled.add("member-recorded")
        group = ctx.group
        if rejoin:
            # Platforms drop roles when a member leaves; the database still has them.
            change = RoleChange(uid, tuple(held), (), "rejoin", None)
            await self.apply_change(gid, change, roles=roles, member=member)
        if entry is not None:
            keys = (entry.role_key, cohort_key(entry.cohort_id))
            change = RoleChange(uid, keys, (), "roster", None)
            await self.apply_change(gid, change, roles=roles, member=member)
            cohort_name = await self._role_label(group, cohort_key(entry.cohort_id), roles)
            text = t(
                group.language,
                "onboarding.welcome_roster",
                cohort=cohort_name,
                roles=await self._labels(group, list(keys), roles),
            )
            await self.send_welcome(
                group, uid, OutgoingMessage(text, buttons=(self._intro_button(group),))
            )
            return
        if rejoin and held:
            text = t(
                group.language,
                "onboarding.welcome_back",
                roles=await self._labels(group, held, roles),
            )
            await self.send_welcome(group, uid, OutgoingMessage(text))
            return
        await self.send_welcome(group, uid, self.welcome_message(group))

    async def send_welcome(self, group: Group, user_id: str, message: OutgoingMessage) -> None:
        """The welcome by DM; to a member who closed their DMs (Discord's 50007) a post in
        #welcome that mentions only them, with the same buttons, counted for `/alumni stats`."""
        try:
            await self.bot.workspace.send_dm(group.id, user_id, message)
            return
        except DirectMessagesClosed:
            log.info("DMs closed for %s in %s: welcome posted in #welcome", user_id, group.id)
        channel = await self._channel(group.id, "welcome")
        if channel is None:
            log.warning("DMs closed for %s and %s has no #welcome: no welcome", user_id, group.id)
            return
        note = t(group.language, "onboarding.welcome_fallback")
        await self.bot.workspace.send(
            group.id,
            channel,
            replace(message, text=f"{note}\n\n{message.text}", ping_users=(user_id,)),
        )
        async with self.bot.uow() as uow:
            raw = await uow.kv.get(group.id, WELCOME_FALLBACKS_KEY)
            await uow.kv.set(
                group.id, WELCOME_FALLBACKS_KEY, count_fallback(raw, self._today(group))
            )

    def _today(self, group: Group) -> date:
        return self.bot.clock.now().astimezone(ZoneInfo(group.timezone)).date()

    def welcome_message(self, group: Group) -> OutgoingMessage:
        """The welcome DM: a code, a claimed role, or an introduction."""
        lang = group.language
        buttons = [Button(t(lang, "onboarding.btn_code"), "onb:code", style=ButtonStyle.PRIMARY)]
        buttons += [Button(t(lang, f"onboarding.btn_{k}"), "onb:claim", k) for k in CLAIMABLE]
        buttons.append(self._intro_button(group))
        return OutgoingMessage(
            t(lang, "onboarding.welcome_text"),
            title=t(lang, "onboarding.welcome_title"),
            buttons=tuple(buttons),
        )

    @button("onb:code")
    async def press_code(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Open the code form."""
        if ctx.responder is None:
            return
        await ctx.responder.open_form(
            FormSpec(
                "onb_code",
                ctx.t("onboarding.code_form_title"),
                (FormField("code", ctx.t("onboarding.code_form_label"), max_length=40),),
            )
        )

    @form("onb_code")
    async def code_form(self, ctx: Context, event: FormSubmitted) -> None:
        """A code typed into the form."""
        await self.redeem(ctx, event.values.get("code", ""))

    @button("onb:claim")
    async def press_claim(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Industry at once; trusted roles ask which cohort, then go to staff."""
        role = event.value
        if role not in CLAIMABLE:
            raise UserError("core.button_unknown")
        gid, uid = ctx.group.id, ctx.user.id
        member = await self._ensure_member(gid, ctx.user)
        if role in member.roles:
            raise UserError("onboarding.already_have", role=await self._role_label(ctx.group, role))
        if role not in TRUSTED_ROLES:
            await self.apply_change(gid, RoleChange(uid, (role,), (), "self", uid))
            await ctx.reply(
                OutgoingMessage(
                    ctx.t(
                        "onboarding.industry_granted", role=await self._role_label(ctx.group, role)
                    ),
                    buttons=(self._intro_button(ctx.group),),
                )
            )
            return
        async with self.bot.uow() as uow:
            pending = await uow.requests.pending_of(gid, uid)
        if pending is not None:
            raise UserError(
                "onboarding.request_pending",
                role=await self._role_label(ctx.group, pending.role_key),
            )
        if ctx.responder is None:
            return
        await ctx.responder.open_form(
            FormSpec(
                "onb_claim",
                ctx.t("onboarding.claim_form_title", role=await self._role_label(ctx.group, role)),
                (
                    FormField(
                        "cohort",
                        ctx.t("onboarding.claim_form_cohort"),
                        required=False,
                        max_length=120,
                        placeholder="Fashion 2026",
                    ),
                ),
                context=role,
            )
        )

    @form("onb_claim")
    async def claim_form(self, ctx: Context, event: FormSubmitted) -> None:
        """Store the request and post it for staff with Approve and Deny buttons."""
        role = event.context
        if role not in TRUSTED_ROLES:
            raise UserError("core.form_unknown")
        gid, uid = ctx.group.id, ctx.user.id
        wanted = event.values.get("cohort", "").strip()
        cohort: Cohort | None = None
        if wanted:
            try:
                cohort = await self._find_cohort(ctx, wanted)
            except UserError:
                cohort = None  # staff see what was typed and decide anyway
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            if await uow.requests.pending_of(gid, uid) is not None:
                raise UserError("onboarding.request_pending", role=role)
            request = await uow.requests.add(gid, uid, role, cohort.id if cohort else None, now)
        role_name = await self._role_label(ctx.group, role)
        channel = await self._channel(gid, "review")
        if channel is not None:
            fields = [(ctx.t("onboarding.field_role"), role_name)]
            if cohort is not None:
                fields.append((ctx.t("onboarding.field_cohort"), cohort.name))
            elif wanted:
                fields.append(
                    (ctx.t("onboarding.field_cohort_typed"), neutralise(clip(wanted, 120)))
                )
            ref = await self.bot.workspace.send(
                gid,
                channel,
                OutgoingMessage(
                    ctx.t(
                        "onboarding.request_post",
                        member=neutralise(ctx.user.name or uid),
                        role=role_name,
                    ),
                    fields=tuple(fields),
                    buttons=(
                        Button(
                            ctx.t("onboarding.btn_approve"),
                            "onb:decide",
                            f"{request.id}:approve",
                            ButtonStyle.SUCCESS,
                        ),
                        Button(
                            ctx.t("onboarding.btn_deny"),
                            "onb:decide",
                            f"{request.id}:deny",
                            ButtonStyle.DANGER,
                        ),
                    ),
                ),
            )
            async with self.bot.uow() as uow:
                await uow.requests.set_message(request.id, ref.channel_id, ref.id)
        else:
            log.warning("role request %s stored, but %s has no review channel", request.id, gid)
        await ctx.say("onboarding.request_sent", role=role_name)

    @button("onb:decide")
    async def press_decide(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Staff approve or deny a request; never their own; decided once."""
        request_id_text, _, verdict = event.value.partition(":")
        if not request_id_text.isdigit() or verdict not in ("approve", "deny"):
            raise UserError("core.button_unknown")
        permission = await self.bot.permission_of(ctx.group, ctx.user)
        if permission.rank < Permission.STAFF.rank:
            raise UserError("onboarding.decide_staff_only")
        gid = ctx.group.id
        async with self.bot.uow() as uow:
            request = await uow.requests.get(gid, int(request_id_text))
        if request is None:
            raise UserError("core.button_unknown")
        if request.user_id == ctx.user.id:
            raise UserError("onboarding.decide_own")
        now = self.bot.clock.now()
        status = RequestStatus.APPROVED if verdict == "approve" else RequestStatus.DENIED
        async with self.bot.uow() as uow:
            decided = await uow.requests.decide(gid, request.id, status, ctx.user.id, now)
            if decided and status == "approved" and request.cohort_id is not None:
                await uow.cohorts.set_member_cohort(gid, request.user_id, request.cohort_id)
            requester = await uow.members.get(gid, request.user_id)
        if not decided:
            raise UserError(
                "onboarding.decide_already", status=ctx.t(f"onboarding.status_{request.status}")
            )
        keys = [request.role_key]
        if request.cohort_id is not None:
            keys.append(cohort_key(request.cohort_id))
        if status == "approved":
            await self.apply_change(
                gid, RoleChange(request.user_id, tuple(keys), (), "approval", ctx.user.id)
            )
        role_name = await self._role_label(ctx.group, request.role_key)
        who = neutralise(requester.name if requester else request.user_id)
        verdict_text = ctx.t(
            f"onboarding.decided_{status}",
            member=who,
            role=role_name,
            by=neutralise(ctx.user.name or ctx.user.id),
        )
        if request.review_channel_id and request.review_message_id:
            await self.bot.workspace.edit(
                gid,
                MessageRef(request.review_channel_id, request.review_message_id),
                OutgoingMessage(verdict_text),
            )
        await ctx.reply(OutgoingMessage(verdict_text))
        labels = await self._labels(ctx.group, keys)
        outcome = ctx.t(f"onboarding.outcome_{status}", role=role_name, roles=labels)
        await self.bot.workspace.send_dm(gid, request.user_id, OutgoingMessage(outcome))

    # -- introductions ----------------------------------------------------------------------

    @button("onb:intro")
    async def press_intro(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Open the introduction form."""
        if ctx.responder is None:
            return
        await ctx.responder.open_form(
            FormSpec(
                "onb_intro",
                ctx.t("onboarding.intro_title"),
                (
                    FormField("name", ctx.t("onboarding.intro_name"), max_length=80),
                    FormField("programme", ctx.t("onboarding.intro_programme"), max_length=120),
                    FormField("work", ctx.t("onboarding.intro_work"), long=True, max_length=600),
                    FormField(
                        "looking", ctx.t("onboarding.intro_looking"), long=True, max_length=600
                    ),
                ),
            )
        )

    @form("onb_intro")
    async def intro_form(self, ctx: Context, event: FormSubmitted) -> None:
        """Post the introduction in #introductions."""
        channel = await self._channel(ctx.group.id, "introductions")
        if channel is None:
            raise UserError("onboarding.no_introductions")
        v = {
            k: neutralise(clip(event.values.get(k, "").strip(), 600))
            for k in ("name", "programme", "work", "looking")
        }
        if not v["name"]:
            raise UserError("onboarding.intro_name_missing")
        fields = tuple(
            (ctx.t(f"onboarding.intro_{k}_short"), v[k])
            for k in ("programme", "work", "looking")
            if v[k]
        )
        ref = await self.bot.workspace.send(
            ctx.group.id,
            channel,
            OutgoingMessage(
                ctx.t("onboarding.intro_post", member=neutralise(ctx.user.name or ctx.user.id)),
                title=v["name"],
                fields=fields,
            ),
        )
        # Erasing the member replaces their introduction with a short note.
        await self.bot.service(PrivacyService).remember(ctx.group.id, ref, [ctx.user.id])
        await ctx.say("onboarding.intro_posted")
