"""Shared by the parts of onboarding: applying role changes, the grant queue, look-ups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from bot.cog import Cog
from bot.cogs.members import find_member
from bot.cogs.onboarding.codes import (
    CLAIMABLE,
    PERMISSION_RETRIES,
    PROGRESS_EVERY,
    QUEUE_MAX_ATTEMPTS,
    cohort_key,
)
from bot.core import Bot, Context
from bot.domain import Cohort, Group, Member, RoleRecord
from bot.errors import PlatformError, UserError
from bot.events import UserRef
from bot.i18n import permission_label, t
from bot.messages import Button, OutgoingMessage, RoleSpec
from bot.onboarding_records import QueuedGrant, RoleChange
from bot.ports import BatchesRoles, Responder
from bot.safety import clip, neutralise

log = logging.getLogger(__name__)


class OnboardingBase(Cog):
    """What every part of onboarding shares: role changes, the grant queue, look-ups."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self._locks: dict[str, asyncio.Lock] = {}

    # -- helpers ----------------------------------------------------------------------------

    async def apply_change(
        self,
        group_id: str,
        change: RoleChange,
        *,
        roles: dict[str, RoleRecord] | None = None,
        member: Member | None = None,
    ) -> list[str]:
        """Record grants and revocations, then tell the platform in one call; idempotent.

        A caller that already read the group's roles and the member (in its own unit of work)
        passes both, and nothing is read again. Returns the role keys newly granted.
        """
        now = self.bot.clock.now()
        if member is not None and member.user_id != change.user_id:
            member = None
        if roles is None or member is None:
            async with self.bot.uow() as uow:
                if roles is None:
                    roles = {r.key: r for r in await uow.roles.for_group(group_id)}
                if member is None:
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
    ) -> DrainResult:
        """Apply pending queued changes, paced; each row is marked done after it took effect,
        so a crash resumes where it stopped and nothing is applied twice to the database.

        A change the platform refuses stays pending for the hourly job; it is tried once per
        drain (a refusal now is a refusal a second later) and given up only after many tries
        when a permission is missing (an admin can give it back), after a few otherwise.
        """
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        rate = self.bot.workspace.capabilities.role_updates_per_second
        delay = 1.0 / rate if rate else 0.0
        result = DrainResult()
        after = 0
        async with lock:
            while True:
                async with self.bot.uow() as uow:
                    items = await uow.onboarding.pending_grants(group_id, batch, 100, after)
                    # The roles once per page, not once per member.
                    roles = {r.key: r for r in await uow.roles.for_group(group_id)}
                if not items:
                    break
                after = items[-1].id
                done: list[QueuedGrant] = []
                failed: list[tuple[QueuedGrant, PlatformError]] = []
                try:
                    # A platform that sends many members' changes together (Slack invites a
                    # whole page of members to a channel in one call) does so when this exits.
                    async with self._role_batch(group_id):
                        for item in items:
                            try:
                                await self.apply_change(group_id, item.change, roles=roles)
                            except PlatformError as exc:
                                log.warning("queued role change %s failed: %s", item.id, exc)
                                failed.append((item, exc))
                                continue
                            done.append(item)
                            if delay:
                                await asyncio.sleep(delay)
                except PlatformError as batch_error:
                    # The batched calls failed: the page stays pending (changes are idempotent).
                    log.warning("role changes for %s failed as a batch: %s", group_id, batch_error)
                    failed += [(item, batch_error) for item in done]
                    done = []
                if failed:
                    async with self.bot.uow() as uow:
                        for item, error in failed:
                            limit = PERMISSION_RETRIES if error.missing_permission else None
                            await uow.onboarding.fail_grant(item.id, limit or QUEUE_MAX_ATTEMPTS)
                    result.failed += [
                        FailedGrant(item, error.missing_permission, str(error), error.role)
                        for item, error in failed
                    ]
                for item in done:
                    async with self.bot.uow() as uow:
                        await uow.onboarding.finish_grant(item.id, self.bot.clock.now())
                    result.applied.append(item)
                    if (
                        responder is not None
                        and batch
                        and len(result.applied) % PROGRESS_EVERY == 0
                    ):
                        await self._progress(group_id, batch, responder)
            if responder is not None and batch:
                await self._progress(group_id, batch, responder)
        return result

    async def report_failures(
        self, group: Group, failures: list[FailedGrant], title: str
    ) -> OutgoingMessage | None:
        """Which members' role changes did not take effect and why, in the group's language;
        None when there is nothing to report."""
        if not failures:
            return None
        names = await self._member_names(group.id)
        by_reason: dict[tuple[str | None, str], list[str]] = {}
        for f in failures:
            permission = (
                permission_label(group.language, f.missing_permission, f.role)
                if f.missing_permission
                else None
            )
            reason = (permission, "" if permission else f.detail)
            by_reason.setdefault(reason, []).append(
                names.get(f.item.change.user_id, f.item.change.user_id)
            )
        lines = [title]
        for (permission, detail), who in by_reason.items():
            members = name_list(group, who)
            if permission:
                lines.append(
                    t(
                        group.language,
                        "onboarding.grants_failed_permission",
                        permission=permission,
                        members=members,
                    )
                )
            else:
                lines.append(
                    t(
                        group.language,
                        "onboarding.grants_failed_other",
                        detail=clip(detail, 200),
                        members=members,
                    )
                )
        lines.append(t(group.language, "onboarding.grants_retry"))
        return OutgoingMessage("\n".join(lines))

    async def tell_staff(self, group: Group, message: OutgoingMessage | None) -> None:
        """Post in the staff-only review channel (logged when there is none)."""
        if message is None:
            return
        channel = await self._channel(group.id, "review")
        if channel is None:
            log.warning("no review channel in %s to tell staff: %s", group.id, message.text)
            return
        await self.bot.workspace.send(group.id, channel, message)

    async def _member_names(self, group_id: str) -> dict[str, str]:
        async with self.bot.uow() as uow:
            return {m.user_id: m.name for m in await uow.members.for_group(group_id)}

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

    async def _role_label(
        self, group: Group, key: str, roles: dict[str, RoleRecord] | None = None
    ) -> str:
        if roles is not None:
            role = roles.get(key)
        else:
            async with self.bot.uow() as uow:
                role = await uow.roles.get(group.id, key)
        if role is not None:
            return role.name
        return t(group.language, f"roles.{key}") if key in CLAIMABLE else key

    async def _labels(
        self, group: Group, keys: list[str], roles: dict[str, RoleRecord] | None = None
    ) -> str:
        if roles is None and len(keys) > 1:
            async with self.bot.uow() as uow:  # one read for all of them
                roles = {r.key: r for r in await uow.roles.for_group(group.id)}
        return ", ".join([await self._role_label(group, k, roles) for k in keys]) or "-"

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


@dataclass(frozen=True)
class FailedGrant:
    """A queued role change the platform refused in this drain."""

    item: QueuedGrant
    missing_permission: str | None
    detail: str
    role: str | None = None


@dataclass
class DrainResult:
    """What one drain of the grant queue did."""

    applied: list[QueuedGrant] = field(default_factory=list)
    failed: list[FailedGrant] = field(default_factory=list)

    @property
    def first_failures(self) -> list[FailedGrant]:
        """Refusals of rows that had not failed before (staff hear of each row once)."""
        return [f for f in self.failed if f.item.attempts == 0]

    @property
    def recovered(self) -> list[QueuedGrant]:
        """Rows that took effect after failing before."""
        return [i for i in self.applied if i.attempts > 0]


def name_list(group: Group, names: list[str], shown: int = 20) -> str:
    """Member names for a staff message, the first `shown` of them."""
    text = ", ".join(neutralise(n) for n in names[:shown])
    if len(names) > shown:
        text += " " + t(group.language, "onboarding.and_more", count=len(names) - shown)
    return text


def _pid(roles: dict[str, RoleRecord], key: str) -> str | None:
    role = roles.get(key)
    return role.platform_id if role else None
