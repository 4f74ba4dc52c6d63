"""Scheduled work: graduation, and resuming the grant queue after a crash."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.cog import job
from bot.cogs.onboarding.base import OnboardingBase
from bot.cogs.onboarding.codes import (
    cohort_key,
)
from bot.domain import Cohort, Group
from bot.i18n import t
from bot.messages import OutgoingMessage
from bot.onboarding_records import RoleChange
from bot.scheduler import daily_period


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
