"""Graduation: a cohort's students become alumni once, announced once; the hourly queue run."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from bot.cogs.members.service import MembersService
from bot.cogs.onboarding import views
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.records import (
    DrainResult,
    RoleChange,
    cohort_key,
    graduating_cohort,
    graduation_batch,
)
from bot.domain import Cohort, Group
from bot.errors import PlatformError
from bot.events import MessageRef
from bot.i18n import t
from bot.ports import Clock, UnitOfWork, UnitOfWorkFactory, Workspace
from bot.scheduler import Sent

log = logging.getLogger(__name__)

# `bot.scheduler.post_once` bound to the bot: send once, confirm in the reservation's unit.
PostOnce = Callable[
    [
        str,
        str,
        Callable[[], Awaitable[MessageRef]],
        Callable[[UnitOfWork, MessageRef], Awaitable[None]],
    ],
    Awaitable[tuple[Sent, MessageRef | None]],
]


class GraduationService:
    """Students of cohorts whose date has passed become alumni; refusals reach staff."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        grants: GrantService,
        members: MembersService,
        post_once: PostOnce,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.grants = grants
        self.members = members
        self.post_once = post_once

    async def graduate(self, group: Group, today: date) -> list[Cohort]:
        """Graduate every cohort whose date is today or past, once; returns those drained."""
        async with self.uow() as uow:
            cohorts = await uow.cohorts.for_group(group.id)
        done: list[Cohort] = []
        for c in cohorts:
            if c.graduates_on is None or c.graduates_on > today:
                continue
            batch = graduation_batch(c.id)
            if c.graduated_at is None:
                now = self.clock.now()
                async with self.uow() as uow:
                    if not await uow.cohorts.mark_graduated(group.id, c.id, now):
                        continue
                    students = set(await uow.roles.holders(group.id, "student"))
                    ids = [u for u in await uow.cohorts.member_ids(group.id, c.id) if u in students]
                    changes = [
                        RoleChange(u, ("alumni",), ("student",), "graduation", None) for u in ids
                    ]
                    await uow.grants.enqueue(group.id, batch, changes, now)
            result = await self.grants.drain(group.id, batch)
            await self.announce(group, c)
            title = t(
                group.language,
                "onboarding.graduation_failed",
                cohort=c.name,
                count=len(result.first_failures),
            )
            await self.after_drain(group, result, title)
            done.append(c)
        return done

    async def announce(self, group: Group, cohort: Cohort) -> None:
        """One congratulation per cohort, counting only the role changes that took effect.

        It waits until the first change took effect (a class should not read "0 members"
        because a permission was missing), and is edited as the hourly job finishes the rest.
        The post is reserved before it is sent and confirmed after (`post_once`), so the
        graduation job and another process's grant queue finishing the same class post once.
        """
        key = f"graduation-announced:{cohort.id}"
        async with self.uow() as uow:
            done, total = await uow.grants.progress(group.id, graduation_batch(cohort.id))
            stored = await uow.kv.get(group.id, key)
            role = await uow.roles.get(group.id, cohort_key(cohort.id))
        posted = _posted(stored)
        if stored is not None and (posted is None or posted[2] >= done):
            return  # announced (before counts were kept), or the count has not grown
        if stored is None and done == 0 and total > 0:
            return
        ping = role.platform_id if role and role.platform_id and not posted else None
        message = views.graduation(group.language, cohort, done, ping)

        def record(ref: MessageRef | None) -> str:
            value: dict[str, object] = {"at": self.clock.now().isoformat(), "count": done}
            if ref is not None:
                value.update(channel=ref.channel_id, message=ref.id)
            return json.dumps(value)

        if posted is not None:
            ref = MessageRef(posted[0], posted[1])
            try:
                await self.workspace.edit(group.id, ref, message)
            except PlatformError:
                log.warning("could not update the graduation post of %s", cohort.id, exc_info=True)
            async with self.uow() as uow:
                await uow.kv.set(group.id, key, record(ref))
            return
        channel = await self.grants.channel(group.id, "announcements")
        if channel is None:
            async with self.uow() as uow:
                await uow.kv.set(group.id, key, record(None))
            return

        async def send() -> MessageRef:
            assert channel is not None
            return await self.workspace.send(group.id, channel, message)

        async def confirm(uow: UnitOfWork, ref: MessageRef) -> None:
            await uow.kv.set(group.id, key, record(ref))

        sent, _ = await self.post_once(group.id, graduation_batch(cohort.id), send, confirm)
        if sent is Sent.SENT:
            # Checked after: rows another process finished while this one was posting.
            await self.announce(group, cohort)

    async def resume_queue(self, group: Group) -> DrainResult:
        """Finish queued role changes a crash or a missing permission left behind."""
        result = await self.grants.drain(group.id)
        title = t(group.language, "onboarding.grants_failed", count=len(result.first_failures))
        await self.after_drain(group, result, title)
        return result

    async def after_drain(self, group: Group, result: DrainResult, title: str) -> None:
        """Tell staff of new refusals, of changes given up, and of changes that took effect
        after failing (each row once), and bring graduation posts up to date."""
        lang = group.language
        await self.grants.tell_rostered(group, result.applied)
        names = await self.members.names(group.id) if result.failed or result.recovered else {}
        await self.grants.tell_staff(
            group.id, views.grant_failures(lang, result.first_failures, names, title)
        )
        if result.given_up:
            who = [names.get(f.item.change.user_id, f.item.change.user_id) for f in result.given_up]
            await self.grants.tell_staff(group.id, views.grants_given_up(lang, who))
        if result.recovered:
            who = [names.get(i.change.user_id, i.change.user_id) for i in result.recovered]
            await self.grants.tell_staff(group.id, views.grants_recovered(lang, who))
        graduated = sorted(
            {c for c in (graduating_cohort(i.batch) for i in result.applied) if c is not None}
        )
        if graduated:
            async with self.uow() as uow:
                cohorts = {c.id: c for c in await uow.cohorts.for_group(group.id)}
            for cohort_id in graduated:
                if cohort_id in cohorts:
                    await self.announce(group, cohorts[cohort_id])


def _posted(stored: str | None) -> tuple[str, str, int] | None:
    """(channel, message, count) of a stored graduation post, if known."""
    if not stored or not stored.startswith("{"):
        return None
    value = json.loads(stored)
    if "message" not in value:
        return None
    return str(value["channel"]), str(value["message"]), int(value.get("count", 0))
