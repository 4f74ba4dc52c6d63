"""The join: a newcomer recorded and welcomed once (the roster's roles, their roles back, or the
welcome with its choices), and introductions posted in #introductions."""

from __future__ import annotations

import logging
from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.channels import CategoryChannels
from bot.cogs.onboarding import views
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.records import (
    WELCOME_FALLBACKS_KEY,
    Granted,
    Joined,
    JoinKind,
    RoleChange,
    RosterEntry,
    RosterMatch,
    cohort_key,
    count_fallback,
)
from bot.cogs.privacy.service import PrivacyService
from bot.domain import Actor, Category, Group, Member, RoleRecord
from bot.errors import DirectMessagesClosed, UserError
from bot.events import MemberJoined
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import clip, neutralise

log = logging.getLogger(__name__)


class _Recorded(Exception):
    """The member was recorded already: the newcomer's unit of work is rolled back."""


class JoinService:
    """Who joined, and the first thing they hear."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        grants: GrantService,
        privacy: PrivacyService,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.grants = grants
        self.privacy = privacy

    async def joined(self, group: Group, event: MemberJoined) -> Joined | None:
        """Record and welcome a newcomer once: roster match by email, else the welcome DM with
        choices; None for a replay or an account that changed.

        A newcomer costs one unit of work of two statements (the roster match, and the member
        inserted unless recorded already) and one read of the roles when the roster knew them.
        Anyone recorded already (a replay, a return, a first command that came first) takes
        the path that tells these apart.
        """
        if not event.returning:
            admitted = await self._admit(event)
            if admitted is not None:
                member, matched = admitted
                entry, roles = (matched.entry, matched.roles) if matched else (None, {})
                return await self._welcome(group, member, entry, roles, rejoin=False)
        return await self._joined_again(group, event)

    async def _admit(self, event: MemberJoined) -> tuple[Member, RosterMatch | None] | None:
        """A newcomer recorded, matched to the roster; None (nothing changed) if the member
        was recorded already."""
        gid, uid, now = event.group_id, event.user.id, self.clock.now()
        member = Member(gid, uid, event.user.name or uid, email=event.email, joined_at=now)
        try:
            async with self.uow() as uow:
                matched = None
                if event.email:
                    matched = await uow.roster.match_email(gid, event.email, uid, now)
                if matched is not None:
                    member = replace(member, invited_by=matched.inviter)
                cohort_id = matched.entry.cohort_id if matched else None
                if not await uow.roster.admit(member, cohort_id):
                    raise _Recorded  # rolls the match back
        except _Recorded:
            return None
        return member, matched

    async def _joined_again(self, group: Group, event: MemberJoined) -> Joined | None:
        """A join of someone recorded already: a return, a replay, or a member who used the
        bot before the platform said they joined.

        A member recorded as gone who joins again is back: `left_at` is cleared, the roles the
        database keeps are given back on the platform (platforms drop them on leaving) and they
        get one "welcome back". Replays are told apart from returns by the event key and the
        time they left: the same key after a leave is a return, not a duplicate.
        """
        gid, uid = event.group_id, event.user.id
        now = self.clock.now()
        entry: RosterEntry | None = None
        async with self.uow() as uow:
            member = await uow.members.get(gid, uid)
            rejoin = member is not None and member.left_at is not None
            if event.returning and not rejoin:
                return None  # an active account changed: nobody joined
            key = event.event_key
            if key and member is not None and member.left_at is not None:
                key += f":back:{member.left_at.isoformat()}"
            if key and not await uow.events.first_time(gid, "joined:" + key, now):
                return None  # a replay: the first time recorded it
            if member is not None and member.left_at is None and member.joined_at is not None:
                return None  # already here: a replay under another key
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
                entry = matched.entry
                if member.invited_by is None:
                    member = replace(member, invited_by=matched.inviter)
            await uow.members.save(member)
            if entry is not None:
                await uow.cohorts.enter_cohort(gid, uid, entry.cohort_id)
            roles = {r.key: r for r in await uow.roles.for_group(gid)} if entry or rejoin else {}
        return await self._welcome(group, member, entry, roles, rejoin=rejoin)

    async def _welcome(
        self,
        group: Group,
        member: Member,
        entry: RosterEntry | None,
        roles: dict[str, RoleRecord],
        *,
        rejoin: bool,
    ) -> Joined:
        """Give the roles a join brings and send the welcome that says so."""
        gid, uid, lang = group.id, member.user_id, group.language
        held = tuple(sorted(member.roles))
        if rejoin:
            change = RoleChange(uid, held, (), "rejoin", None)
            await self.grants.apply(gid, change, roles=roles, member=member)
        if entry is not None:
            granted = Granted(entry.role_keys, roles)
            change = RoleChange(uid, entry.role_keys, (), "roster", None)
            await self.grants.apply(gid, change, roles=roles, member=member)
            cohort = cohort_key(entry.cohort_id)
            await self.welcome(group, uid, views.welcome_roster(lang, cohort, granted))
            return Joined(member, JoinKind.ROSTER, granted)
        if rejoin and held:
            granted = Granted(held, roles)
            await self.welcome(group, uid, views.welcome_back(lang, granted))
            return Joined(member, JoinKind.BACK, granted)
        await self.welcome(group, uid, views.welcome(lang))
        return Joined(member, JoinKind.NEW)

    async def welcome(self, group: Group, user_id: str, message: OutgoingMessage) -> None:
        """The welcome by DM; to a member who closed their DMs (Discord's 50007) a post in
        #welcome that mentions only them, with the same buttons, counted for `/alumni stats`."""
        try:
            await self.workspace.send_dm(group.id, user_id, message)
            return
        except DirectMessagesClosed:
            log.info("DMs closed for %s in %s: welcome posted in #welcome", user_id, group.id)
        channel = await self.grants.channel(group.id, "welcome")
        if channel is None:
            log.warning("DMs closed for %s and %s has no #welcome: no welcome", user_id, group.id)
            return
        await self.workspace.send(
            group.id, channel, views.welcome_in_channel(group.language, message, user_id)
        )
        today = self.clock.now().astimezone(ZoneInfo(group.timezone)).date()
        async with self.uow() as uow:
            raw = await uow.kv.get(group.id, WELCOME_FALLBACKS_KEY)
            await uow.kv.set(group.id, WELCOME_FALLBACKS_KEY, count_fallback(raw, today))

    async def introduce(self, group: Group, actor: Actor, values: dict[str, str]) -> Category:
        """Post a member's introduction in #introductions; erasing the member later replaces
        it with a short note. Returns the category it went to, so the answer names its channel."""
        where = await CategoryChannels(self.uow, self.workspace).live(group.id, "introductions")
        if where is None or where.channel_id is None:
            raise UserError("onboarding.no_introductions")
        channel = where.channel_id
        checked = {k: neutralise(clip(values.get(k, "").strip(), 600)) for k in views.INTRO_FIELDS}
        if not checked["name"]:
            raise UserError("onboarding.intro_name_missing")
        post = views.intro_post(group.language, actor.name, checked)
        ref = await self.workspace.send(group.id, channel, post)
        await self.privacy.remember(group.id, ref, [actor.id])
        return where
