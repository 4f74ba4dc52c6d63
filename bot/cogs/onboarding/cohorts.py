"""Cohorts' use cases: create, find, list, status, and the cohort's platform role."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from bot.cogs.onboarding.records import Archived, CohortCreated, CohortStatus, cohort_key
from bot.domain import Actor, Cohort, Group, Language, RoleRecord, TrustedRole
from bot.errors import PlatformError, UserError
from bot.i18n import t
from bot.messages import RoleSpec
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import channel_name, clip, neutralise

log = logging.getLogger(__name__)
# A cohort's name is its role's name too: Discord's role names are the shortest (Modify Guild
# Role, 1-100 characters, discord-api-docs resources/guild.mdx).
NAME_MAX = 100


def _same_name(a: str, b: str) -> bool:
    """Names a member could not tell apart: case, spacing and punctuation aside (on Slack they
    would be one role channel, `alumni-role-fashion-2026`)."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split()) or (
        channel_name(a) == channel_name(b)
    )


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
        # Names first: after a rename, another cohort's programme and year must not win.
        for c in cohorts:
            if wanted_l == c.name.lower():
                return c
        for c in cohorts:
            if wanted_l in (str(c.id), f"{c.program} {c.year}".lower()):
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
        """Create a cohort and its platform role, both named "programme year" (`edit` renames).

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
            # A renamed cohort may hold this name (any case): one name, one cohort.
            named = next(
                (c for c in await uow.cohorts.for_group(group.id) if _same_name(c.name, name)),
                None,
            )
            if named is not None and (named.program, named.year) != (program, year):
                raise UserError("onboarding.cohort_exists", cohort=named.name)
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

    async def edit(
        self,
        group: Group,
        wanted: str,
        graduates: date | None = None,
        name: str | None = None,
    ) -> Cohort:
        """Set or change a cohort's graduation date (a cohort made without one graduates once
        it has one) and/or rename it and its platform role; the cohort now.

        Refused, with nothing changed: no change asked, a date not in the future, a cohort
        that graduated (for a date), an empty or too long name, another cohort's name, a name
        the platform refuses. The platform role is renamed first, so a refusal there leaves
        the database as it was.
        """
        c = await self.find(group, wanted)
        if graduates is None and name is None:
            raise UserError("onboarding.cohort_edit_nothing", cohort=c.name)
        if graduates is not None:
            self._future(group, graduates)
            if c.graduated_at is not None:
                raise UserError("onboarding.cohort_graduated_already", cohort=c.name)
        new_name = c.name if name is None else await self._new_name(group, c, name)
        role = await self._rename_role(group, c, new_name) if new_name != c.name else None
        try:
            async with self.uow() as uow:
                if graduates is not None and not await uow.cohorts.set_graduation(
                    group.id, c.id, graduates
                ):
                    raise UserError("onboarding.cohort_graduated_already", cohort=c.name)
                if new_name != c.name:
                    if not await uow.cohorts.rename(group.id, c.id, new_name):
                        # Another rename took the name since it was checked.
                        raise UserError(
                            "onboarding.cohort_name_taken", name=new_name, other=new_name
                        )
                    if role is not None:
                        await uow.roles.save(replace(role, name=new_name))
                edited = await uow.cohorts.get(group.id, c.id)
        except BaseException:
            if role is not None and role.platform_id:
                await self._rename_back(group, role.platform_id, c.name)
            raise
        assert edited is not None
        if new_name != c.name and role is None:
            await self.ensure_role(group, edited)  # its role was missing: made, newly named
        return edited

    async def _rename_back(self, group: Group, role_id: str, name: str) -> None:
        """The database kept the old name: so does the platform (a refusal now is only logged:
        the member hears of the first problem, and the role's new name shows in the log)."""
        try:
            await self.workspace.rename_role(group.id, role_id, name)
        except PlatformError:
            log.exception("could not rename role %s back to %s in %s", role_id, name, group.id)

    async def _new_name(self, group: Group, cohort: Cohort, name: str) -> str:
        """The cleaned new name; refused if empty, too long or another cohort's."""
        cleaned = " ".join(neutralise(name).split())
        if not channel_name(cleaned):
            raise UserError("onboarding.cohort_name_empty", cohort=cohort.name)
        if len(cleaned) > NAME_MAX:
            raise UserError("onboarding.cohort_name_too_long", cohort=cohort.name)
        async with self.uow() as uow:
            others = [o for o in await uow.cohorts.for_group(group.id) if o.id != cohort.id]
            roles = [r.name for r in await uow.roles.for_group(group.id)]
        clash = next((o for o in others if _same_name(o.name, cleaned)), None)
        if clash is not None:
            raise UserError("onboarding.cohort_name_taken", name=cleaned, other=clash.name)
        # Students would hold a cohort role that reads as staff's or alumni's: a role's name
        # (the group's own, or the bot's default in any language) is never a cohort's.
        defaults = [t(lang, f"roles.{role.value}") for lang in Language for role in TrustedRole]
        taken = next((r for r in [*roles, *defaults] if _same_name(r, cleaned)), None)
        if taken is not None:
            raise UserError("onboarding.cohort_name_role", name=cleaned, role=taken)
        return cleaned

    async def _rename_role(self, group: Group, cohort: Cohort, name: str) -> RoleRecord | None:
        """Rename the cohort's platform role; None if it has none (yet). A refusal naming a
        missing permission goes on as it is; any other becomes the member's clear message."""
        async with self.uow() as uow:
            role = await uow.roles.get(group.id, cohort_key(cohort.id))
        ws = self.workspace
        if role is None or not role.platform_id:
            return None
        if not await ws.role_exists(group.id, role.platform_id):
            return None
        try:
            await ws.rename_role(group.id, role.platform_id, name)
        except PlatformError as exc:
            if exc.missing_permission or exc.transient:
                raise
            raise UserError(
                "onboarding.cohort_name_refused", cohort=cohort.name, name=name, detail=str(exc)
            ) from exc
        return role

    async def archive(self, group: Group, wanted: str) -> Archived:
        """Hide a finished cohort from lists (its members and history stay) and end its codes
        that still work (a class code left on a poster gives no one its student role after
        it); refused while it is still to graduate."""
        c = await self.find(group, wanted)
        if c.graduates_on is not None and c.graduated_at is None:
            raise UserError("onboarding.cohort_not_finished", cohort=c.name, date=c.graduates_on)
        async with self.uow() as uow:
            if not await uow.cohorts.archive(group.id, c.id, self.clock.now()):
                raise UserError("onboarding.cohort_archived_already", cohort=c.name)
            ended = await uow.invitations.revoke_cohort(group.id, c.id, self.clock.now())
        return Archived(c, ended)

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
            joined = await uow.cohorts.present_by_cohort(gid)
            return CohortStatus(
                cohort=c,
                invited=len(roster),
                code_uses=await uow.invitations.cohort_uses(gid, c.id),
                joined=joined.get(c.id, 0),
                waiting=await uow.requests.pending_count(gid, c.id),
                missing=tuple(e.email for e in roster if e.matched_user_id is None),
            )

    async def statuses(self, group: Group) -> list[CohortStatus]:
        """`status` of every cohort not archived, oldest first, in five reads whatever the
        number of cohorts (four a cohort took 240 ms for a group of 100)."""
        gid = group.id
        async with self.uow() as uow:
            cohorts = [c for c in await uow.cohorts.for_group(gid) if c.archived_at is None]
            rosters = await uow.roster.tallies(gid)
            joined = await uow.cohorts.present_by_cohort(gid)
            waiting = await uow.requests.pending_by_cohort(gid)
            uses = await uow.invitations.uses_by_cohort(gid)
        statuses = []
        for c in cohorts:
            invited, missing = rosters.get(c.id, (0, []))
            statuses.append(
                CohortStatus(
                    cohort=c,
                    invited=invited,
                    code_uses=uses.get(c.id, 0),
                    joined=joined.get(c.id, 0),
                    waiting=waiting.get(c.id, 0),
                    missing=tuple(missing),
                )
            )
        return statuses
