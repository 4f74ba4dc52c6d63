"""Scheduled work: graduation, and resuming the grant queue after a crash."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.cog import job
from bot.cogs.onboarding.base import DrainResult, OnboardingBase, name_list
from bot.cogs.onboarding.codes import (
    cohort_key,
)
from bot.cogs.onboarding.records import RoleChange
from bot.domain import Cohort, Group
from bot.errors import PlatformError
from bot.events import MessageRef
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.ports import UnitOfWork
from bot.scheduler import Sent, daily_period, post_once

log = logging.getLogger(__name__)


def _graduation_period(cog: OnboardingBase, group: Group, now: datetime) -> str | None:
    return daily_period(group, now)


def _hourly_period(cog: OnboardingBase, group: Group, now: datetime) -> str | None:
    local = now.astimezone(ZoneInfo(group.timezone))
    return local.strftime("%Y-%m-%dT%H")


class Graduation(OnboardingBase):
    """Scheduled work: graduation, and resuming the grant queue after a crash."""

    # -- scheduled work ---------------------------------------------------------------------

    @job("graduation", period=_graduation_period)
    async def graduation(self, group: Group, period: str) -> None:
        """Students of cohorts whose graduation date has passed become alumni, once."""
        today = date.fromisoformat(period)
        async with self.bot.uow() as uow:
            cohorts = await uow.cohorts.for_group(group.id)
        for c in cohorts:
            if c.graduates_on is None or c.graduates_on > today:
                continue
            batch = f"graduation:{c.id}"
            if c.graduated_at is None:
                now = self.bot.clock.now()
                async with self.bot.uow() as uow:
                    if not await uow.cohorts.mark_graduated(group.id, c.id, now):
                        continue
                    students = set(await uow.roles.holders(group.id, "student"))
                    ids = [u for u in await uow.cohorts.member_ids(group.id, c.id) if u in students]
                    changes = [
                        RoleChange(u, ("alumni",), ("student",), "graduation", None) for u in ids
                    ]
                    await uow.grants.enqueue(group.id, batch, changes, now)
            result = await self.drain(group.id, batch)
            await self._graduation_post(group, c)
            title = t(
                group.language,
                "onboarding.graduation_failed",
                cohort=c.name,
                count=len(result.first_failures),
            )
            await self._after_drain(group, result, title)

    async def _graduation_post(self, group: Group, cohort: Cohort) -> None:
        """One congratulation per cohort, counting only the role changes that took effect.

        It waits until the first change took effect (a class should not read "0 members"
        because a permission was missing), and is edited as the hourly job finishes the rest.
        The post is reserved before it is sent and confirmed after (`post_once`), so the
        graduation job and another process's grant queue finishing the same class post once.
        """
        key = f"graduation-announced:{cohort.id}"
        async with self.bot.uow() as uow:
            done, total = await uow.grants.progress(group.id, f"graduation:{cohort.id}")
            stored = await uow.kv.get(group.id, key)
            role = await uow.roles.get(group.id, cohort_key(cohort.id))
        posted = _posted(stored)
        if stored is not None and (posted is None or posted[2] >= done):
            return  # announced (before counts were kept), or the count has not grown
        if stored is None and done == 0 and total > 0:
            return
        message = OutgoingMessage(
            t(group.language, "onboarding.graduation_text", cohort=cohort.name, count=done),
            title=t(group.language, "onboarding.graduation_title", cohort=cohort.name),
            ping_roles=(role.platform_id,) if role and role.platform_id and not posted else (),
        )

        def record(ref: MessageRef | None) -> str:
            value: dict[str, object] = {"at": self.bot.clock.now().isoformat(), "count": done}
            if ref is not None:
                value.update(channel=ref.channel_id, message=ref.id)
            return json.dumps(value)

        if posted is not None:
            ref = MessageRef(posted[0], posted[1])
            try:
                await self.bot.workspace.edit(group.id, ref, message)
            except PlatformError:
                log.warning("could not update the graduation post of %s", cohort.id, exc_info=True)
            async with self.bot.uow() as uow:
                await uow.kv.set(group.id, key, record(ref))
            return
        channel = await self._channel(group.id, "announcements")
        if channel is None:
            async with self.bot.uow() as uow:
                await uow.kv.set(group.id, key, record(None))
            return

        async def send() -> MessageRef:
            assert channel is not None
            return await self.bot.workspace.send(group.id, channel, message)

        async def confirm(uow: UnitOfWork, ref: MessageRef) -> None:
            await uow.kv.set(group.id, key, record(ref))

        sent, _ = await post_once(self.bot, group.id, f"graduation:{cohort.id}", send, confirm)
        if sent is Sent.SENT:
            # Checked after: rows another process finished while this one was posting.
            await self._graduation_post(group, cohort)

    @job("grant-queue", period=_hourly_period)
    async def resume_queue(self, group: Group, period: str) -> None:
        """Finish queued role changes a crash or a missing permission left behind."""
        result = await self.drain(group.id)
        title = t(group.language, "onboarding.grants_failed", count=len(result.first_failures))
        await self._after_drain(group, result, title)

    async def _after_drain(self, group: Group, result: DrainResult, title: str) -> None:
        """Tell staff of new refusals, of changes given up, and of changes that took effect
        after failing (each row once), and bring graduation posts up to date."""
        await self.tell_staff(
            group, await self.report_failures(group, result.first_failures, title)
        )
        if result.given_up:
            names = await self._member_names(group.id)
            who = [names.get(f.item.change.user_id, f.item.change.user_id) for f in result.given_up]
            text = t(group.language, "onboarding.grants_given_up", members=name_list(group, who))
            await self.tell_staff(group, OutgoingMessage(text))
        if result.recovered:
            names = await self._member_names(group.id)
            who = [names.get(i.change.user_id, i.change.user_id) for i in result.recovered]
            text = t(
                group.language,
                "onboarding.grants_recovered",
                count=len(who),
                members=name_list(group, who),
            )
            await self.tell_staff(group, OutgoingMessage(text))
        graduations = {i.batch for i in result.applied if i.batch.startswith("graduation:")}
        if graduations:
            async with self.bot.uow() as uow:
                cohorts = {c.id: c for c in await uow.cohorts.for_group(group.id)}
            for batch in sorted(graduations):
                cohort = cohorts.get(int(batch.split(":", 1)[1]))
                if cohort is not None:
                    await self._graduation_post(group, cohort)


def _posted(stored: str | None) -> tuple[str, str, int] | None:
    """(channel, message, count) of a stored graduation post, if known."""
    if not stored or not stored.startswith("{"):
        return None
    value = json.loads(stored)
    if "message" not in value:
        return None
    return str(value["channel"]), str(value["message"]), int(value.get("count", 0))
