"""Shared by the parts of onboarding: applying role changes, the grant queue, look-ups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager

from bot.cog import Cog
from bot.cogs.members import find_member
from bot.cogs.onboarding.codes import (
    CLAIMABLE,
    PROGRESS_EVERY,
    QUEUE_MAX_ATTEMPTS,
    cohort_key,
)
from bot.core import Bot, Context
from bot.domain import Cohort, Group, Member, RoleRecord
from bot.errors import PlatformError, UserError
from bot.events import UserRef
from bot.i18n import t
from bot.messages import Button, OutgoingMessage, RoleSpec
from bot.onboarding_records import RoleChange
from bot.ports import BatchesRoles, Responder
from bot.safety import neutralise

log = logging.getLogger(__name__)


class OnboardingBase(Cog):
    """What every part of onboarding shares: role changes, the grant queue, look-ups."""

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


def _pid(roles: dict[str, RoleRecord], key: str) -> str | None:
    role = roles.get(key)
    return role.platform_id if role else None
