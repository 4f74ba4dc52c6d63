"""Cohorts' use cases: create, find, list, status, and the cohort's platform role."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.cogs.onboarding.records import CohortCreated, CohortStatus, cohort_key
from bot.domain import Actor, Cohort, Group, RoleRecord
from bot.errors import UserError
from bot.messages import RoleSpec
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import clip, neutralise


class CohortService:
    """A class of students: its name, graduation date and role."""

    def __init__(self, uow: UnitOfWorkFactory, workspace: Workspace, clock: Clock) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock

    async def find(self, group: Group, wanted: str) -> Cohort:
        """A cohort by name, id or "programme year"; refused with the group's cohorts."""
        wanted_l = " ".join(wanted.split()).lower()
        async with self.uow() as uow:
            cohorts = await uow.cohorts.for_group(group.id)
        for c in cohorts:
            if wanted_l in (c.name.lower(), str(c.id), f"{c.program} {c.year}".lower()):
                return c
        raise UserError(
            "onboarding.cohort_unknown",
            cohort=neutralise(wanted),
            choices=", ".join(c.name for c in cohorts) or "-",
        )

    async def all(self, group: Group) -> list[Cohort]:
        """Every cohort not archived, oldest first."""
        async with self.uow() as uow:
            return [c for c in await uow.cohorts.for_group(group.id) if c.archived_at is None]

    async def of_member(self, group_id: str, user_id: str) -> Cohort | None:
        """The member's cohort."""
        async with self.uow() as uow:
            cohort_id = await uow.cohorts.member_cohort(group_id, user_id)
            return await uow.cohorts.get(group_id, cohort_id) if cohort_id else None

    async def create(
        self, group: Group, actor: Actor, program: str, year: int, graduates: date | None
    ) -> CohortCreated:
        """Create a cohort and its platform role (named absolutely, never renamed).

        The same programme and year again is refused, unless its role went missing: then the
        role is made again.
        """
        program = " ".join(neutralise(program).split())
        if not program:
            raise UserError("onboarding.program_empty")
        if graduates is not None:
            self._future(group, graduates)
        name = clip(f"{program} {year}", 100)
        async with self.uow() as uow:
            cohort = await uow.cohorts.add(
                group.id, program, year, name, graduates, actor.id, self.clock.now()
            )
        if cohort is None:
            existing = await self.find(group, name)
            if await self.ensure_role(group, existing):
                return CohortCreated(existing, role_repaired=True)
            raise UserError("onboarding.cohort_exists", cohort=existing.name)
        await self.ensure_role(group, cohort)
        return CohortCreated(cohort)

    async def edit(self, group: Group, wanted: str, graduates: date | None) -> Cohort:
        """Set or change a cohort's graduation date (a cohort made without one graduates once
        it has one); refused for a date not in the future and for a cohort that graduated."""
        c = await self.find(group, wanted)
        if graduates is None:
            raise UserError("onboarding.cohort_edit_nothing", cohort=c.name)
        self._future(group, graduates)
        async with self.uow() as uow:
            if not await uow.cohorts.set_graduation(group.id, c.id, graduates):
                raise UserError("onboarding.cohort_graduated_already", cohort=c.name)
            edited = await uow.cohorts.get(group.id, c.id)
        assert edited is not None
        return edited

    async def archive(self, group: Group, wanted: str) -> Cohort:
        """Hide a finished cohort from lists (its members and history stay); refused while it
        is still to graduate."""
        c = await self.find(group, wanted)
        if c.graduates_on is not None and c.graduated_at is None:
            raise UserError("onboarding.cohort_not_finished", cohort=c.name, date=c.graduates_on)
        async with self.uow() as uow:
            if not await uow.cohorts.archive(group.id, c.id, self.clock.now()):
                raise UserError("onboarding.cohort_archived_already", cohort=c.name)
        return c

    def _future(self, group: Group, graduates: date) -> None:
        today = self.clock.now().astimezone(ZoneInfo(group.timezone)).date()
        if graduates <= today:
            raise UserError("onboarding.graduates_past", date=graduates)

    async def ensure_role(self, group: Group, cohort: Cohort) -> bool:
        """Create the cohort's platform role if it is missing; True if it was created."""
        key = cohort_key(cohort.id)
        async with self.uow() as uow:
            role = await uow.roles.get(group.id, key)
        ws = self.workspace
        if role and role.platform_id and await ws.role_exists(group.id, role.platform_id):
            return False
        platform_id = await ws.create_role(group.id, RoleSpec(name=cohort.name, mentionable=True))
        async with self.uow() as uow:
            await uow.roles.save(RoleRecord(group.id, key, cohort.name, platform_id))
        return True

    async def status(self, group: Group, wanted: str) -> CohortStatus:
        """Invited, joined, waiting for approval, and who on the roster has not joined yet."""
        c = await self.find(group, wanted)
        gid = group.id
        async with self.uow() as uow:
            roster = await uow.roster.entries(gid, c.id)
            ids = await uow.cohorts.member_ids(gid, c.id)
            members = {m.user_id: m for m in await uow.members.for_group(gid)}
            waiting = await uow.requests.pending_count(gid, c.id)
            code_uses = await uow.invitations.cohort_uses(gid, c.id)
        joined = [u for u in ids if u in members and members[u].left_at is None]
        return CohortStatus(
            cohort=c,
            invited=len(roster),
            code_uses=code_uses,
            joined=len(joined),
            waiting=waiting,
            missing=tuple(e.email for e in roster if e.matched_user_id is None),
        )
