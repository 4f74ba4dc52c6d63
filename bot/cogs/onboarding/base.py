"""Shared by the parts of onboarding: applying role changes, the grant queue, look-ups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.cog import Cog
from bot.cogs.members import find_member
from bot.cogs.onboarding.codes import (
    BACKOFF_CAP,
    CLAIMABLE,
    GRANT_PAGE,
    PROGRESS_EVERY,
    QUEUE_MAX_ATTEMPTS,
    RETRY_AFTER,
    RETRY_FOR,
    cohort_key,
)
from bot.cogs.onboarding.records import QueuedGrant, RoleChange
from bot.core import Bot, Context
from bot.domain import Cohort, Group, Member, RoleRecord
from bot.errors import PlatformError, UserError
from bot.events import UserRef
from bot.i18n import permission_label, t
from bot.messages import Button, OutgoingMessage, RoleSpec
from bot.ports import BatchesRoles, Responder, UnitOfWork
from bot.safety import clip, neutralise
from bot.scheduler import LEASE_SECONDS, current_claim, wall_now

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
        """Tell the platform in one call, then record grants and revocations; idempotent.

        A caller that already read the group's roles and the member (in its own unit of work)
        passes both, and nothing is read again. Returns the role keys newly granted.
        """
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
        await self._tell_platform(group_id, change, roles, member)
        async with self.bot.uow() as uow:
            return await self._record(uow, group_id, change)

    async def _tell_platform(
        self,
        group_id: str,
        change: RoleChange,
        roles: dict[str, RoleRecord],
        member: Member | None,
    ) -> None:
        """One `set_roles` call for the change; members who left get theirs when they return."""
        if member is None or member.left_at is not None:
            return
        add = [p for p in (_pid(roles, k) for k in change.add) if p]
        remove = [p for p in (_pid(roles, k) for k in change.remove) if p]
        if add or remove:
            await self.bot.workspace.set_roles(group_id, change.user_id, add, remove)

    async def _record(self, uow: UnitOfWork, group_id: str, change: RoleChange) -> list[str]:
        """Record a change the platform accepted; returns the keys newly granted."""
        now = self.bot.clock.now()
        granted = [
            key
            for key in change.add
            if await uow.roles.grant(group_id, change.user_id, key, change.source, change.by, now)
        ]
        for key in change.remove:
            await uow.roles.revoke(group_id, change.user_id, key)
        if change.remove:
            # A code whose roles the platform refused so far is spent once staff take them away.
            await uow.invitations.revoke_pending_redemptions(
                group_id, change.user_id, change.remove
            )
        return granted

    async def drain(
        self, group_id: str, batch: str | None = None, responder: Responder | None = None
    ) -> DrainResult:
        """Apply pending queued changes, paced, each recorded only once the platform took it.

        Rows are claimed per row (one drain, in one process, holds a row), so a graduation and
        another process's hourly queue never apply a change twice; a claim is a lease, so the
        rows of a process that died are taken again once it lapsed. A change the platform
        refuses goes back to the queue: retried for a month when a permission is missing or the
        platform failed on its side (with backoff), a few times for other refusals.
        """
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        rate = self.bot.workspace.capabilities.role_updates_per_second
        delay = 1.0 / rate if rate else 0.0
        claim = current_claim()
        lease = timedelta(seconds=claim.lease_seconds if claim else LEASE_SECONDS)
        owner = f"{self.bot.config.instance_id}:{secrets.token_hex(4)}"
        result = DrainResult()
        async with lock:
            try:
                while True:
                    async with self.bot.uow() as uow:
                        items = await uow.grants.claim(
                            group_id,
                            batch,
                            GRANT_PAGE,
                            owner,
                            self.bot.clock.now(),
                            wall_now(),
                            wall_now() + lease,
                        )
                        # The roles once per page, not once per member.
                        roles = {r.key: r for r in await uow.roles.for_group(group_id)}
                    if not items:
                        break
                    progress = Progress(batch, responder) if responder and batch else None
                    await self._drain_page(
                        group_id, items, roles, owner, lease, delay, result, progress
                    )
                if responder is not None and batch:
                    await self._progress(group_id, batch, responder)
            finally:
                # Stopped or failed half-way: what this drain holds goes back at once (a process
                # killed outright cannot do this; its lease lapses instead).
                async with self.bot.uow() as uow:
                    await uow.grants.release(owner)
        return result

    async def _drain_page(
        self,
        group_id: str,
        items: list[QueuedGrant],
        roles: dict[str, RoleRecord],
        owner: str,
        lease: timedelta,
        delay: float,
        result: DrainResult,
        progress: Progress | None,
    ) -> None:
        """Tell the platform about a page of claimed rows, then record what it accepted.

        A platform that sends many members' changes together (Slack invites a page of members
        to a channel in one call) does so when the batch exits: only then is anything recorded.
        """
        batching = isinstance(self.bot.workspace, BatchesRoles)
        told: list[QueuedGrant] = []
        failed: list[tuple[QueuedGrant, PlatformError]] = []
        renewed = wall_now()
        try:
            async with self._role_batch(group_id):
                for item in items:
                    if wall_now() - renewed > lease / 2:
                        async with self.bot.uow() as uow:
                            await uow.grants.renew(owner, wall_now() + lease)
                        renewed = wall_now()
                    async with self.bot.uow() as uow:
                        member = await uow.members.get(group_id, item.change.user_id)
                    try:
                        await self._tell_platform(group_id, item.change, roles, member)
                    except PlatformError as exc:
                        log.warning("queued role change %s failed: %s", item.id, exc)
                        failed.append((item, exc))
                        continue
                    if batching:
                        told.append(item)
                    else:
                        await self._finish_item(group_id, item, owner, result, progress)
                    if delay:
                        await asyncio.sleep(delay)
        except PlatformError as batch_error:
            # The batched calls failed: for the members named, or (none named) for the whole
            # page. Their changes are not recorded and stay queued.
            log.warning("role changes for %s failed as a batch: %s", group_id, batch_error)
            hit = set(batch_error.users)
            failed += [(i, batch_error) for i in told if not hit or i.change.user_id in hit]
            told = [i for i in told if hit and i.change.user_id not in hit]
        for item in told:
            await self._finish_item(group_id, item, owner, result, progress)
        if failed:
            now = self.bot.clock.now()
            async with self.bot.uow() as uow:
                for item, error in failed:
                    retry_at = _retry_at(item, error, now)
                    await uow.grants.fail(item.id, owner, retry_at)
                    result.failed.append(
                        FailedGrant(
                            item,
                            error.missing_permission,
                            str(error),
                            error.role,
                            transient=error.transient,
                            gave_up=retry_at is None,
                        )
                    )

    async def _finish_item(
        self,
        group_id: str,
        item: QueuedGrant,
        owner: str,
        result: DrainResult,
        progress: Progress | None,
    ) -> None:
        """Record an accepted change and mark its row done, in one unit of work."""
        async with self.bot.uow() as uow:
            if not await uow.grants.finish(item.id, owner, self.bot.clock.now()):
                log.warning("queued role change %s was taken over by another drain", item.id)
            await self._record(uow, group_id, item.change)
        result.applied.append(item)
        if progress is not None and len(result.applied) % PROGRESS_EVERY == 0:
            await self._progress(group_id, progress.batch, progress.responder)

    async def report_failures(
        self, group: Group, failures: list[FailedGrant], title: str
    ) -> OutgoingMessage | None:
        """Which members' role changes did not take effect and why, in the group's language;
        None when there is nothing to report."""
        if not failures:
            return None
        names = await self._member_names(group.id)
        by_reason: dict[tuple[str, str], list[str]] = {}
        for f in failures:
            if f.missing_permission:
                permission = permission_label(group.language, f.missing_permission, f.role)
                reason = ("onboarding.grants_failed_permission", permission)
            elif f.transient:
                reason = ("onboarding.grants_failed_transient", f.detail)
            else:
                reason = ("onboarding.grants_failed_other", f.detail)
            by_reason.setdefault(reason, []).append(
                names.get(f.item.change.user_id, f.item.change.user_id)
            )
        lines = [title]
        for (key, detail), who in by_reason.items():
            lines.append(
                t(
                    group.language,
                    key,
                    permission=detail,
                    detail=clip(detail, 200),
                    members=name_list(group, who),
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
            done, total = await uow.grants.progress(group_id, batch)
            group = await uow.groups.get(group_id)
        lang = group.language if group else self.bot.config.default_language
        await responder.edit_reply(
            OutgoingMessage(t(lang, "onboarding.progress", done=done, total=total))
        )

    async def _ensure_member(self, group_id: str, user: UserRef) -> Member:
        """The member's record, created (once, however many commands race) for members who
        were there before the bot."""
        async with self.bot.uow() as uow:
            member = await uow.members.get(group_id, user.id)
            if member is None:
                member = await uow.members.add_if_absent(
                    Member(group_id, user.id, user.name or user.id)
                )
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
            cohorts = await uow.cohorts.for_group(ctx.group.id)
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
class Progress:
    """Where a drain shows its progress: the teacher's answer to the batch's command."""

    batch: str
    responder: Responder


@dataclass(frozen=True)
class FailedGrant:
    """A queued role change the platform refused in this drain."""

    item: QueuedGrant
    missing_permission: str | None
    detail: str
    role: str | None = None
    transient: bool = False  # the platform failed on its side; retried with backoff
    gave_up: bool = False  # retried for as long as the queue says: given up now


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

    @property
    def given_up(self) -> list[FailedGrant]:
        """Rows retried for as long as the queue retries, and given up in this drain."""
        return [f for f in self.failed if f.gave_up and f.item.attempts > 0]


def name_list(group: Group, names: list[str], shown: int = 20) -> str:
    """Member names for a staff message, the first `shown` of them."""
    text = ", ".join(neutralise(n) for n in names[:shown])
    if len(names) > shown:
        text += " " + t(group.language, "onboarding.and_more", count=len(names) - shown)
    return text


def _retry_at(item: QueuedGrant, error: PlatformError, now: datetime) -> datetime | None:
    """When a refused row is due again; None gives it up.

    A missing permission or a platform failing on its side (5xx) is retried until the row is
    RETRY_FOR old, temporary errors with backoff; other refusals QUEUE_MAX_ATTEMPTS times.
    """
    if error.transient or error.missing_permission:
        if item.created_at is not None and now - item.created_at >= RETRY_FOR:
            return None
        if error.transient:
            factor: int = 1 << min(item.attempts, 16)
            return now + min(RETRY_AFTER * factor, BACKOFF_CAP)
        return now + RETRY_AFTER
    return None if item.attempts + 1 >= QUEUE_MAX_ATTEMPTS else now + RETRY_AFTER


def _pid(roles: dict[str, RoleRecord], key: str) -> str | None:
    role = roles.get(key)
    return role.platform_id if role else None
