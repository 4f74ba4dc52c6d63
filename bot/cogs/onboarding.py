"""Onboarding: cohorts, join codes, roster matching, the welcome flow, role requests, graduation.

The database is the truth about roles; the platform is told afterwards with one `set_roles`
call per member. Bulk changes (a matched roster, a graduating cohort) go through the grant
queue, which is paced, resumable and idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.cog import Cog, button, command, form, job, listen
from bot.cogs.members import find_member
from bot.commands import Option, OptionType
from bot.core import Bot, Context
from bot.domain import TRUSTED_ROLES, Cohort, Group, Member, Permission, RoleRecord
from bot.errors import PlatformError, UserError
from bot.events import ButtonPressed, FormSubmitted, MemberJoined, MessageRef, UserRef
from bot.i18n import t
from bot.messages import Button, ButtonStyle, FormField, FormSpec, OutgoingMessage, RoleSpec
from bot.onboarding_records import RoleChange
from bot.ports import BatchesRoles, Responder
from bot.safety import clip, neutralise
from bot.scheduler import daily_period

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud
CODE_LENGTH = 8
CODE_DAYS = 30
COHORT_CODE_USES = 250
FRIEND_CODE_USES = 5
LOCK_ATTEMPTS = 5
LOCK_WINDOW = timedelta(minutes=10)
QUEUE_MAX_ATTEMPTS = 3
PROGRESS_EVERY = 25
CLAIMABLE = ("student", "alumni", "staff", "industry")
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.]{2,}$")
_CUSTOM_CODE = re.compile(r"^[A-Z0-9]{6,32}$")
_SPLIT_LINES = re.compile(r"[\n;]+")


def cohort_key(cohort_id: int) -> str:
    """The roles-table key of a cohort's role."""
    return f"cohort:{cohort_id}"


def new_code() -> str:
    """A random, unambiguous join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def parse_roster(text: str) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(name, email) pairs and (line number, text) of lines that are not valid.

    Lines are separated by newlines or semicolons; a line is `name,email`, `email,name`, or one
    or more emails separated by commas or spaces (then each email counts as its own line).
    """
    valid: list[tuple[str, str]] = []
    invalid: list[tuple[int, str]] = []
    seen: set[str] = set()
    n = 0
    for raw_line in _SPLIT_LINES.split(text):
        line = raw_line.strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(",")]
        with_at = [f for f in fields if "@" in f]
        if n == 0 and not with_at and "email" in line.lower():
            continue  # a CSV header
        if len(fields) == 2 and len(with_at) == 1:
            items = [(next(f for f in fields if "@" not in f), with_at[0])]
        else:
            items = [("", word) for word in re.split(r"[,\s]+", line) if word]
        for name, email in items:
            n += 1
            if not _EMAIL.match(email):
                invalid.append((n, clip(name + " " + email if name else email, 80)))
                continue
            if email.lower() not in seen:
                seen.add(email.lower())
                valid.append((clip(name, 100), email.lower()))
    return valid, invalid


def _graduation_period(cog: OnboardingCog, group: Group, now: datetime) -> str | None:
    return daily_period(group, now)


def _hourly_period(cog: OnboardingCog, group: Group, now: datetime) -> str | None:
    local = now.astimezone(ZoneInfo(group.timezone))
    return local.strftime("%Y-%m-%dT%H")


class OnboardingCog(Cog):
    """Cohorts, invitations, the join flow, role requests, role commands and graduation."""

    name = "onboarding"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self._locks: dict[str, asyncio.Lock] = {}

    # -- helpers ----------------------------------------------------------------------------

    async def apply_change(self, group_id: str, change: RoleChange) -> list[str]:
        """Record grants and revocations, then tell the platform in one call; idempotent.

        Returns the role keys that were newly granted.
        """
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            roles = {r.key: r for r in await uow.roles.for_group(group_id)}
            member = await uow.members.get(group_id, change.user_id)
        # The platform first: when it refuses (a missing permission), nothing is recorded, so
        # the member is not left "having" a role they lack and the same command works again.
        # Members who left get theirs from the database when they come back.
        if member is not None and member.left_at is None:
            add = [p for p in (_pid(roles, k) for k in change.add) if p]
            remove = [p for p in (_pid(roles, k) for k in change.remove) if p]
            if add or remove:
                await self.bot.workspace.set_roles(group_id, change.user_id, add, remove)
        async with self.bot.uow() as uow:
            granted = [
                key
                for key in change.add
                if await uow.roles.grant(
                    group_id, change.user_id, key, change.source, change.by, now
                )
            ]
            for key in change.remove:
                await uow.roles.revoke(group_id, change.user_id, key)
        return granted

    async def drain(
        self, group_id: str, batch: str | None = None, responder: Responder | None = None
    ) -> int:
        """Apply pending queued changes, paced; each row is marked done after it took effect,
        so a crash resumes where it stopped and nothing is applied twice to the database."""
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        rate = self.bot.workspace.capabilities.role_updates_per_second
        delay = 1.0 / rate if rate else 0.0
        applied = 0
        async with lock:
            while True:
                async with self.bot.uow() as uow:
                    items = await uow.onboarding.pending_grants(group_id, batch, 100)
                if not items:
                    break
                done: list[int] = []
                try:
                    # A platform that sends many members' changes together (Slack invites a
                    # whole page of members to a channel in one call) does so when this exits.
                    async with self._role_batch(group_id):
                        for item in items:
                            try:
                                await self.apply_change(group_id, item.change)
                            except PlatformError:
                                log.warning("queued role change %s failed", item.id, exc_info=True)
                                async with self.bot.uow() as uow:
                                    await uow.onboarding.fail_grant(item.id, QUEUE_MAX_ATTEMPTS)
                                continue
                            done.append(item.id)
                            if delay:
                                await asyncio.sleep(delay)
                except PlatformError:
                    # The batched calls failed: the page is tried again (changes are idempotent).
                    log.warning("role changes for %s failed as a batch", group_id, exc_info=True)
                    async with self.bot.uow() as uow:
                        for item_id in done:
                            await uow.onboarding.fail_grant(item_id, QUEUE_MAX_ATTEMPTS)
                    continue
                for item_id in done:
                    async with self.bot.uow() as uow:
                        await uow.onboarding.finish_grant(item_id, self.bot.clock.now())
                    applied += 1
                    if responder is not None and batch and applied % PROGRESS_EVERY == 0:
                        await self._progress(group_id, batch, responder)
            if responder is not None and batch:
                await self._progress(group_id, batch, responder)
        return applied

    def _role_batch(self, group_id: str) -> AbstractAsyncContextManager[None]:
        ws = self.bot.workspace
        if isinstance(ws, BatchesRoles):
            return ws.role_batch(group_id)
        return contextlib.nullcontext()

    async def _progress(self, group_id: str, batch: str, responder: Responder) -> None:
        async with self.bot.uow() as uow:
            done, total = await uow.onboarding.batch_progress(group_id, batch)
            group = await uow.groups.get(group_id)
        lang = group.language if group else self.bot.config.default_language
        await responder.edit_reply(
            OutgoingMessage(t(lang, "onboarding.progress", done=done, total=total))
        )

    async def _ensure_member(self, group_id: str, user: UserRef) -> Member:
        """The member's record, created for members who were there before the bot."""
        async with self.bot.uow() as uow:
            member = await uow.members.get(group_id, user.id)
            if member is None:
                member = Member(group_id, user.id, user.name or user.id)
                await uow.members.save(member)
        return member

    async def _find_member(self, ctx: Context, wanted: str) -> Member:
        member = await find_member(self.bot, ctx.group.id, wanted)
        if member is None:
            info = await self.bot.workspace.member_info(ctx.group.id, wanted.strip().lstrip("@"))
            if info is None:
                raise UserError("onboarding.member_unknown", member=neutralise(wanted))
            member = await self._ensure_member(ctx.group.id, UserRef(info.id, info.name))
        return member

    async def _find_cohort(self, ctx: Context, wanted: str) -> Cohort:
        wanted_l = " ".join(wanted.split()).lower()
        async with self.bot.uow() as uow:
            cohorts = await uow.onboarding.cohorts(ctx.group.id)
        for c in cohorts:
            if wanted_l in (c.name.lower(), str(c.id), f"{c.program} {c.year}".lower()):
                return c
        raise UserError(
            "onboarding.cohort_unknown",
            cohort=neutralise(wanted),
            choices=", ".join(c.name for c in cohorts) or "-",
        )

    async def _channel(self, group_id: str, key: str) -> str | None:
        async with self.bot.uow() as uow:
            category = await uow.categories.get(group_id, key)
        if category is None or not category.channel_id:
            return None
        if await self.bot.workspace.channel_exists(group_id, category.channel_id) is None:
            return None
        return category.channel_id

    async def _role_label(self, group: Group, key: str) -> str:
        async with self.bot.uow() as uow:
            role = await uow.roles.get(group.id, key)
        if role is not None:
            return role.name
        return t(group.language, f"roles.{key}") if key in CLAIMABLE else key

    async def _labels(self, group: Group, keys: list[str]) -> str:
        return ", ".join([await self._role_label(group, k) for k in keys]) or "-"

    def _intro_button(self, group: Group) -> Button:
        return Button(t(group.language, "onboarding.btn_intro"), "onb:intro")

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
            cohort = await uow.onboarding.add_cohort(
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

    async def _ensure_cohort_role(self, group: Group, cohort: Cohort) -> bool:
        """Create the cohort's platform role if it is missing; True if it was created."""
        key = cohort_key(cohort.id)
        async with self.bot.uow() as uow:
            role = await uow.roles.get(group.id, key)
        ws = self.bot.workspace
        if role and role.platform_id and await ws.role_exists(group.id, role.platform_id):
            return False
        platform_id = await ws.create_role(group.id, RoleSpec(name=cohort.name, mentionable=True))
        async with self.bot.uow() as uow:
            await uow.roles.save(RoleRecord(group.id, key, cohort.name, platform_id))
        return True

    @command("cohort list", permission=Permission.STAFF, help_key="onboarding.cohort_list_help")
    async def cohort_list(self, ctx: Context) -> None:
        """List cohorts with their graduation dates."""
        async with self.bot.uow() as uow:
            cohorts = await uow.onboarding.cohorts(ctx.group.id)
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
            roster = await uow.onboarding.roster(gid, c.id)
            ids = await uow.onboarding.cohort_member_ids(gid, c.id)
            members = {m.user_id: m for m in await uow.members.for_group(gid)}
            waiting = await uow.onboarding.pending_count(gid, c.id)
            code_uses = await uow.onboarding.code_uses(gid, c.id)
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
                if await uow.onboarding.invitation(ctx.group.id, chosen) is not None:
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
            inv = await uow.onboarding.add_invitation(
                gid,
                chosen or new_code(),
                "cohort",
                c.id,
                role,
                max_uses,
                now + timedelta(days=CODE_DAYS),
                ctx.user.id,
                now,
            )
            added = await uow.onboarding.add_roster(gid, c.id, valid, role, inv.id)
            present = await uow.onboarding.members_by_email(gid, [e for _, e in valid])
            if present:
                for entry in await uow.onboarding.roster(gid, c.id):
                    user_id = present.get(entry.email)
                    if entry.matched_user_id is not None or user_id is None:
                        continue
                    if await uow.onboarding.match_roster(entry.id, user_id, now):
                        await uow.onboarding.set_member_cohort(gid, user_id, c.id)
                        changes.append(
                            RoleChange(
                                user_id,
                                (entry.role_key, cohort_key(c.id)),
                                (),
                                "roster",
                                ctx.user.id,
                            )
                        )
                await uow.onboarding.enqueue(gid, batch, changes, now)
        link = await self.bot.workspace.create_invite(
            gid, max_uses=max_uses, max_age_seconds=CODE_DAYS * 86400
        )
        link_text = link or ctx.t("onboarding.no_link")
        role_name = await self._role_label(ctx.group, role)
        lines = [
            ctx.t("onboarding.invite_title", cohort=c.name, role=role_name),
            ctx.t("onboarding.invite_link", link=link_text),
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
            await self.drain(gid, batch, ctx.responder)

    @command(
        "invite friend", permission=Permission.MEMBER, help_key="onboarding.invite_friend_help"
    )
    async def invite_friend(self, ctx: Context) -> None:
        """A personal code: newcomers on it get the industry role unless staff approve more."""
        await self._ensure_member(ctx.group.id, ctx.user)
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            inv = await uow.onboarding.add_invitation(
                ctx.group.id,
                new_code(),
                "friend",
                None,
                "industry",
                FRIEND_CODE_USES,
                now + timedelta(days=CODE_DAYS),
                ctx.user.id,
                now,
            )
        link = await self.bot.workspace.create_invite(
            ctx.group.id, max_uses=FRIEND_CODE_USES, max_age_seconds=CODE_DAYS * 86400
        )
        link_text = link or ctx.t("onboarding.no_link")
        text = "\n".join(
            [
                ctx.t(
                    "onboarding.friend_code",
                    code=inv.code,
                    uses=FRIEND_CODE_USES,
                    days=CODE_DAYS,
                ),
                ctx.t("onboarding.invite_link", link=link_text),
                ctx.t("onboarding.invite_paste_intro"),
                ctx.t("onboarding.friend_paste", link=link_text, code=inv.code),
            ]
        )
        await ctx.reply(OutgoingMessage(text))

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
        """Check a code (with lockout against guessing) and grant what it carries."""
        gid, uid = ctx.group.id, ctx.user.id
        member = await self._ensure_member(gid, ctx.user)
        code = re.sub(r"[\s-]+", "", code).upper()
        now = self.bot.clock.now()
        problem: str | None = None
        async with self.bot.uow() as uow:
            fails = await uow.onboarding.failed_attempts_since(gid, uid, now - LOCK_WINDOW)
            if fails >= LOCK_ATTEMPTS:
                problem = "locked"
            else:
                inv = await uow.onboarding.invitation(gid, code) if code else None
                if inv is None or inv.revoked:
                    problem = "onboarding.code_unknown"
                elif inv.expires_at is not None and inv.expires_at <= now:
                    problem = "onboarding.code_expired"
                elif await uow.onboarding.has_used(inv.id, uid):
                    problem = "already"
                elif not await uow.onboarding.use_invitation(gid, inv.id, uid, now):
                    problem = "onboarding.code_used_up"
                if problem is None or problem == "already":
                    await uow.onboarding.record_attempt(gid, uid, True, now)
                else:
                    await uow.onboarding.record_attempt(gid, uid, False, now)
                    fails += 1
                if problem is None and inv is not None:
                    if inv.cohort_id is not None:
                        await uow.onboarding.set_member_cohort(gid, uid, inv.cohort_id)
                    if member.invited_by is None and inv.created_by != uid:
                        await uow.members.save(replace(member, invited_by=inv.created_by))
        if problem == "already" and inv is not None:
            wanted = {inv.role_key} | ({cohort_key(inv.cohort_id)} if inv.cohort_id else set())
            if not wanted <= member.roles:
                problem = None  # used, but the platform refused the roles then: finish it now
        if problem == "locked":
            raise UserError("onboarding.code_locked", minutes=int(LOCK_WINDOW.seconds / 60))
        if problem == "already":
            raise UserError("onboarding.code_already_used")
        if problem is not None:
            if fails >= LOCK_ATTEMPTS:
                await self._alert_lockout(ctx.group, ctx.user)
                raise UserError("onboarding.code_locked", minutes=int(LOCK_WINDOW.seconds / 60))
            raise UserError(problem, left=LOCK_ATTEMPTS - fails)
        assert inv is not None
        keys = [inv.role_key] + ([cohort_key(inv.cohort_id)] if inv.cohort_id else [])
        await self.apply_change(
            gid, RoleChange(uid, tuple(keys), (), f"code:{inv.kind}", inv.created_by)
        )
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

    # -- the join flow ----------------------------------------------------------------------

    @listen(MemberJoined)
    async def member_joined(self, ctx: Context, event: MemberJoined) -> None:
        """Welcome a newcomer once: roster match by email, else the welcome DM with choices."""
        gid, uid = event.group_id, event.user.id
        now = self.bot.clock.now()
        entry = None
        async with self.bot.uow() as uow:
            if event.event_key and not await uow.events.first_time(
                gid, "joined:" + event.event_key, now
            ):
                return
            member = await uow.members.get(gid, uid)
            if member is not None and member.left_at is None and member.joined_at is not None:
                return  # already here: a replay under another key
            rejoin = member is not None and member.left_at is not None
            if member is None:
                member = Member(gid, uid, event.user.name or uid, email=event.email, joined_at=now)
            else:
                member = replace(
                    member,
                    left_at=None,
                    joined_at=now if rejoin or member.joined_at is None else member.joined_at,
                    email=event.email or member.email,
                )
            if event.email:
                for candidate in await uow.onboarding.unmatched_roster_for(gid, event.email):
                    if await uow.onboarding.match_roster(candidate.id, uid, now):
                        entry = candidate
                        break
            if entry is not None and member.invited_by is None and entry.invitation_id:
                inv = await uow.onboarding.invitation_by_id(gid, entry.invitation_id)
                member = replace(member, invited_by=inv.created_by if inv else None)
            await uow.members.save(member)
            if entry is not None:
                await uow.onboarding.set_member_cohort(gid, uid, entry.cohort_id)
            held = sorted(member.roles)
        group = ctx.group
        if rejoin:
            # Platforms drop roles when a member leaves; the database still has them.
            await self.apply_change(gid, RoleChange(uid, tuple(held), (), "rejoin", None))
        if entry is not None:
            keys = (entry.role_key, cohort_key(entry.cohort_id))
            await self.apply_change(gid, RoleChange(uid, keys, (), "roster", None))
            cohort_name = await self._role_label(group, cohort_key(entry.cohort_id))
            text = t(
                group.language,
                "onboarding.welcome_roster",
                cohort=cohort_name,
                roles=await self._labels(group, list(keys)),
            )
            await self.bot.workspace.send_dm(
                gid, uid, OutgoingMessage(text, buttons=(self._intro_button(group),))
            )
            return
        if rejoin and held:
            text = t(
                group.language, "onboarding.welcome_back", roles=await self._labels(group, held)
            )
            await self.bot.workspace.send_dm(gid, uid, OutgoingMessage(text))
            return
        await self.bot.workspace.send_dm(gid, uid, self.welcome_message(group))

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
    async def press_code(self, ctx: Context, event: ButtonPressed) -> None:
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
    async def press_claim(self, ctx: Context, event: ButtonPressed) -> None:
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
            pending = await uow.onboarding.pending_request(gid, uid)
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
            if await uow.onboarding.pending_request(gid, uid) is not None:
                raise UserError("onboarding.request_pending", role=role)
            request = await uow.onboarding.add_request(
                gid, uid, role, cohort.id if cohort else None, now
            )
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
                await uow.onboarding.set_request_message(request.id, ref.channel_id, ref.id)
        else:
            log.warning("role request %s stored, but %s has no review channel", request.id, gid)
        await ctx.say("onboarding.request_sent", role=role_name)

    @button("onb:decide")
    async def press_decide(self, ctx: Context, event: ButtonPressed) -> None:
        """Staff approve or deny a request; never their own; decided once."""
        request_id_text, _, verdict = event.value.partition(":")
        if not request_id_text.isdigit() or verdict not in ("approve", "deny"):
            raise UserError("core.button_unknown")
        permission = await self.bot.permission_of(ctx.group, ctx.user)
        if permission.rank < Permission.STAFF.rank:
            raise UserError("onboarding.decide_staff_only")
        gid = ctx.group.id
        async with self.bot.uow() as uow:
            request = await uow.onboarding.request(gid, int(request_id_text))
        if request is None:
            raise UserError("core.button_unknown")
        if request.user_id == ctx.user.id:
            raise UserError("onboarding.decide_own")
        now = self.bot.clock.now()
        status = "approved" if verdict == "approve" else "denied"
        async with self.bot.uow() as uow:
            decided = await uow.onboarding.decide_request(gid, request.id, status, ctx.user.id, now)
            if decided and status == "approved" and request.cohort_id is not None:
                await uow.onboarding.set_member_cohort(gid, request.user_id, request.cohort_id)
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
    async def press_intro(self, ctx: Context, event: ButtonPressed) -> None:
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
        await self.bot.workspace.send(
            ctx.group.id,
            channel,
            OutgoingMessage(
                ctx.t("onboarding.intro_post", member=neutralise(ctx.user.name or ctx.user.id)),
                title=v["name"],
                fields=fields,
            ),
        )
        await ctx.say("onboarding.intro_posted")

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
        """Give a member a role (staff only), recorded with who granted it."""
        m = await self._find_member(ctx, member)
        r = await self._find_role(ctx, role)
        if r.key in m.roles:
            raise UserError("onboarding.role_had", member=neutralise(m.name), role=r.name)
        if r.key.startswith("cohort:"):
            async with self.bot.uow() as uow:
                await uow.onboarding.set_member_cohort(ctx.group.id, m.user_id, int(r.key[7:]))
        await self.apply_change(
            ctx.group.id, RoleChange(m.user_id, (r.key,), (), "staff", ctx.user.id)
        )
        await ctx.say("onboarding.role_granted", member=neutralise(m.name), role=r.name)

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
        """Take a role from a member (staff only)."""
        m = await self._find_member(ctx, member)
        r = await self._find_role(ctx, role)
        if r.key not in m.roles:
            raise UserError("onboarding.role_not_had", member=neutralise(m.name), role=r.name)
        await self.apply_change(
            ctx.group.id, RoleChange(m.user_id, (), (r.key,), "staff", ctx.user.id)
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
            cohort_id = await uow.onboarding.member_cohort(ctx.group.id, m.user_id)
            cohort = await uow.onboarding.cohort(ctx.group.id, cohort_id) if cohort_id else None
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
            cohort_id = await uow.onboarding.member_cohort(ctx.group.id, ctx.user.id)
            cohort = await uow.onboarding.cohort(ctx.group.id, cohort_id) if cohort_id else None
            staff = ctx.permission is not None and ctx.permission.rank >= Permission.STAFF.rank
            pending = await uow.onboarding.pending_count(ctx.group.id) if staff else 0
        if cohort is not None:
            notes.append(ctx.t("onboarding.home_cohort", cohort=cohort.name))
        if pending:
            key = "onboarding.home_pending_one" if pending == 1 else "onboarding.home_pending"
            notes.append(ctx.t(key, count=pending))
        return notes

    # -- scheduled work ---------------------------------------------------------------------

    @job("graduation", period=_graduation_period)
    async def graduation(self, group: Group, period: str) -> None:
        """Students of cohorts whose graduation date has passed become alumni, once."""
        today = date.fromisoformat(period)
        async with self.bot.uow() as uow:
            cohorts = await uow.onboarding.cohorts(group.id)
        for c in cohorts:
            if c.graduates_on is None or c.graduates_on > today:
                continue
            batch = f"graduation:{c.id}"
            count = 0
            if c.graduated_at is None:
                now = self.bot.clock.now()
                async with self.bot.uow() as uow:
                    if not await uow.onboarding.mark_graduated(group.id, c.id, now):
                        continue
                    students = set(await uow.roles.holders(group.id, "student"))
                    ids = [
                        u
                        for u in await uow.onboarding.cohort_member_ids(group.id, c.id)
                        if u in students
                    ]
                    changes = [
                        RoleChange(u, ("alumni",), ("student",), "graduation", None) for u in ids
                    ]
                    await uow.onboarding.enqueue(group.id, batch, changes, now)
                count = len(changes)
            await self._announce_graduation(group, c, count)
            await self.drain(group.id, batch)

    async def _announce_graduation(self, group: Group, cohort: Cohort, count: int) -> None:
        """One congratulation post per cohort, however often this runs."""
        key = f"graduation-announced:{cohort.id}"
        async with self.bot.uow() as uow:
            if await uow.kv.get(group.id, key) is not None:
                return
            role = await uow.roles.get(group.id, cohort_key(cohort.id))
        channel = await self._channel(group.id, "announcements")
        if channel is not None:
            ping = (role.platform_id,) if role and role.platform_id else ()
            await self.bot.workspace.send(
                group.id,
                channel,
                OutgoingMessage(
                    t(
                        group.language,
                        "onboarding.graduation_text",
                        cohort=cohort.name,
                        count=count,
                    ),
                    title=t(group.language, "onboarding.graduation_title", cohort=cohort.name),
                    ping_roles=ping,
                ),
            )
        async with self.bot.uow() as uow:
            await uow.kv.set(group.id, key, self.bot.clock.now().isoformat())

    @job("grant-queue", period=_hourly_period)
    async def resume_queue(self, group: Group, period: str) -> None:
        """Finish queued role changes a crash left behind."""
        await self.drain(group.id)


def _pid(roles: dict[str, RoleRecord], key: str) -> str | None:
    role = roles.get(key)
    return role.platform_id if role else None
