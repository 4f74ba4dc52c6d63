"""Role changes: one `set_roles` call per member, recorded once the platform took it; the paced
grant queue for bulk changes; and the staff channel that hears what did not take effect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from bot.channels import CategoryChannels
from bot.cogs.onboarding import views
from bot.cogs.onboarding.codes import (
    BACKOFF_CAP,
    GRANT_PAGE,
    PROGRESS_EVERY,
    QUEUE_MAX_ATTEMPTS,
    RETRY_AFTER,
    RETRY_FOR,
)
from bot.cogs.onboarding.records import (
    DrainResult,
    FailedGrant,
    Granted,
    QueuedGrant,
    RoleChange,
    RoleEvent,
    cohort_of,
)
from bot.domain import Group, Member, RoleRecord
from bot.errors import PlatformError
from bot.messages import OutgoingMessage
from bot.ports import BatchesRoles, Clock, UnitOfWork, UnitOfWorkFactory, Workspace
from bot.scheduler import LEASE_SECONDS, current_claim, wall_now

log = logging.getLogger(__name__)

# Told how far a batch is: (done, total).
OnProgress = Callable[[int, int], Awaitable[None]]


class GrantService:
    """Applies role changes, one member at a time or through the queue, and tells staff."""

    def __init__(
        self, uow: UnitOfWorkFactory, workspace: Workspace, clock: Clock, instance_id: str
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.instance_id = instance_id
        self._locks: dict[str, asyncio.Lock] = {}

    async def roles(self, group_id: str) -> dict[str, RoleRecord]:
        """The group's roles by key."""
        async with self.uow() as uow:
            return {r.key: r for r in await uow.roles.for_group(group_id)}

    async def apply(
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
            async with self.uow() as uow:
                if roles is None:
                    roles = {r.key: r for r in await uow.roles.for_group(group_id)}
                if member is None:
                    member = await uow.members.get(group_id, change.user_id)
        # The platform first: when it refuses (a missing permission), nothing is recorded, so
        # the member is not left "having" a role they lack and the same command works again.
        await self._tell_platform(group_id, change, roles, member)
        async with self.uow() as uow:
            return await self.record(uow, group_id, change)

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
            await self.workspace.set_roles(group_id, change.user_id, add, remove)

    async def record(self, uow: UnitOfWork, group_id: str, change: RoleChange) -> list[str]:
        """Record a change the platform accepted, in the caller's unit of work; returns the
        keys newly granted."""
        now = self.clock.now()
        granted = await uow.grants.record(
            group_id, change.user_id, change.add, change.source, change.by, now
        )
        revoked = [k for k in change.remove if await uow.roles.revoke(group_id, change.user_id, k)]
        # member_roles keeps only what is held: the history keeps what was given and taken.
        await uow.grants.log(
            group_id,
            [
                RoleEvent(change.user_id, key, key in granted, change.source, change.by, now)
                for key in (*granted, *revoked)
            ],
        )
        if change.remove:
            # A code whose roles the platform refused so far is spent once staff take them away.
            await uow.invitations.revoke_pending_redemptions(
                group_id, change.user_id, change.remove
            )
        return granted

    async def progress(self, group_id: str, batch: str) -> tuple[int, int]:
        """(done, total) of a batch."""
        async with self.uow() as uow:
            return await uow.grants.progress(group_id, batch)

    async def drain(
        self, group_id: str, batch: str | None = None, on_progress: OnProgress | None = None
    ) -> DrainResult:
        """Apply pending queued changes, paced, each recorded only once the platform took it.

        Rows are claimed per row (one drain, in one process, holds a row), so a graduation and
        another process's hourly queue never apply a change twice; a claim is a lease, so the
        rows of a process that died are taken again once it lapsed. A change the platform
        refuses goes back to the queue: retried for a month when a permission is missing or the
        platform failed on its side (with backoff), a few times for other refusals.
        """
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        rate = self.workspace.capabilities.role_updates_per_second
        delay = 1.0 / rate if rate else 0.0
        claim = current_claim()
        lease = timedelta(seconds=claim.lease_seconds if claim else LEASE_SECONDS)
        owner = f"{self.instance_id}:{secrets.token_hex(4)}"
        result = DrainResult()
        progress = _Progress(self, group_id, batch, on_progress) if batch and on_progress else None
        async with lock:
            try:
                while True:
                    async with self.uow() as uow:
                        items = await uow.grants.claim(
                            group_id,
                            batch,
                            GRANT_PAGE,
                            owner,
                            self.clock.now(),
                            wall_now(),
                            wall_now() + lease,
                        )
                        # The roles once per page, not once per member.
                        roles = {r.key: r for r in await uow.roles.for_group(group_id)}
                    if not items:
                        break
                    await self._drain_page(
                        group_id, items, roles, owner, lease, delay, result, progress
                    )
                if progress is not None:
                    await progress.tell()
            finally:
                # Stopped or failed half-way: what this drain holds goes back at once (a process
                # killed outright cannot do this; its lease lapses instead).
                async with self.uow() as uow:
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
        progress: _Progress | None,
    ) -> None:
        """Tell the platform about a page of claimed rows, then record what it accepted.

        A platform that sends many members' changes together (Slack invites a page of members
        to a channel in one call) does so when the batch exits: only then is anything recorded.
        """
        batching = isinstance(self.workspace, BatchesRoles)
        told: list[QueuedGrant] = []
        failed: list[tuple[QueuedGrant, PlatformError]] = []
        renewed = wall_now()
        try:
            async with self._role_batch(group_id):
                for item in items:
                    if wall_now() - renewed > lease / 2:
                        async with self.uow() as uow:
                            await uow.grants.renew(owner, wall_now() + lease)
                        renewed = wall_now()
                    async with self.uow() as uow:
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
            now = self.clock.now()
            async with self.uow() as uow:
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
        progress: _Progress | None,
    ) -> None:
        """Record an accepted change and mark its row done, in one unit of work."""
        async with self.uow() as uow:
            if not await uow.grants.finish(item.id, owner, self.clock.now()):
                log.warning("queued role change %s was taken over by another drain", item.id)
            await self.record(uow, group_id, item.change)
        result.applied.append(item)
        if progress is not None and len(result.applied) % PROGRESS_EVERY == 0:
            await progress.tell()

    def _role_batch(self, group_id: str) -> AbstractAsyncContextManager[None]:
        ws = self.workspace
        if isinstance(ws, BatchesRoles):
            return ws.role_batch(group_id)
        return contextlib.nullcontext()

    async def tell_rostered(self, group: Group, applied: list[QueuedGrant]) -> int:
        """Members a roster gave roles while they were in the group already hear what they
        received, by DM (closed DMs are logged: the roles are theirs either way); returns how
        many were told."""
        rostered = [i for i in applied if i.change.source == "roster"]
        if not rostered:
            return 0
        roles = await self.roles(group.id)
        told = 0
        for item in rostered:
            keys = item.change.add
            cohort = next((k for k in keys if cohort_of(k) is not None), None)
            message = views.roster_granted(group.language, cohort, Granted(keys, roles))
            try:
                await self.workspace.send_dm(group.id, item.change.user_id, message)
                told += 1
            except PlatformError as exc:
                log.info("roster DM to %s in %s failed: %s", item.change.user_id, group.id, exc)
        return told

    async def channel(self, group_id: str, key: str) -> str | None:
        """The channel of a category, if it still exists on the platform."""
        return await CategoryChannels(self.uow, self.workspace).channel(group_id, key)

    async def tell_staff(self, group_id: str, message: OutgoingMessage | None) -> None:
        """Post in the staff-only review channel (logged when there is none)."""
        if message is None:
            return
        channel = await self.channel(group_id, "review")
        if channel is None:
            log.warning("no review channel in %s to tell staff: %s", group_id, message.text)
            return
        await self.workspace.send(group_id, channel, message)


class _Progress:
    """Where a drain shows its progress: the teacher's answer to the batch's command."""

    def __init__(
        self, grants: GrantService, group_id: str, batch: str, on_progress: OnProgress
    ) -> None:
        self.grants = grants
        self.group_id = group_id
        self.batch = batch
        self.on_progress = on_progress

    async def tell(self) -> None:
        done, total = await self.grants.progress(self.group_id, self.batch)
        await self.on_progress(done, total)


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
