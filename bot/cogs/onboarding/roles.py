"""Staff's role commands, whois, and a member's home facts."""

from __future__ import annotations

from bot.cogs.members.service import MembersService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.records import (
    HomeFacts,
    RoleChange,
    RoleGrant,
    RoleHistory,
    Whois,
    cohort_key,
    cohort_of,
)
from bot.domain import Actor, Cohort, Group, RoleRecord
from bot.errors import UserError
from bot.ports import UnitOfWorkFactory, Workspace
from bot.safety import neutralise

HISTORY_PAGE = 200


class RoleService:
    """Roles given and taken by staff, recorded with who did it."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        grants: GrantService,
        members: MembersService,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.grants = grants
        self.members = members

    async def find(self, group: Group, wanted: str) -> RoleRecord:
        """A role by key or name; refused with the group's roles."""
        wanted_l = wanted.strip().lstrip("@").lower()
        roles = await self.grants.roles(group.id)
        for r in roles.values():
            if wanted_l in (r.key.lower(), r.name.lower()):
                return r
        raise UserError(
            "onboarding.role_unknown",
            role=neutralise(wanted),
            choices=", ".join(r.name for r in roles.values()) or "-",
        )

    async def grant(self, group: Group, actor: Actor, member: str, role: str) -> RoleGrant:
        """Give a member a role, recorded with who granted it.

        "Already has" is the platform's word, not only the database's: a role the records
        have but the platform lacks (a failed batch, an admin's edit) is granted again.
        """
        m = await self.members.resolve(group.id, member)
        r = await self.find(group, role)
        repair = False
        if r.key in m.roles:
            if await self._platform_has(group, m.user_id, r) is not False:
                raise UserError("onboarding.role_had", member=neutralise(m.name), role=r.name)
            repair = True
        cohort_id = cohort_of(r.key)
        kept: Cohort | None = None
        if cohort_id is not None:
            # A second cohort's role never moves the member's graduation by itself: staff are
            # asked (RoleGrant.kept) and move them with `move_cohort`.
            async with self.uow() as uow:
                cohort = await uow.cohorts.get(group.id, cohort_id)
                if cohort is not None and cohort.archived_at is not None:
                    # An archived cohort is finished: nobody new joins it.
                    raise UserError("onboarding.role_cohort_archived", cohort=cohort.name)
                first = await uow.cohorts.enter_cohort(group.id, m.user_id, cohort_id)
                kept = await uow.cohorts.get(group.id, first) if first else None
        change = RoleChange(m.user_id, (r.key,), (), "staff", actor.id)
        await self.grants.apply(group.id, change, member=m)
        return RoleGrant(m, r, repaired=repair, kept=kept)

    async def move_cohort(self, group: Group, user_id: str, cohort_id: int) -> Whois:
        """Staff move a member to another cohort whose role they hold; it decides when they
        graduate from now on."""
        async with self.uow() as uow:
            member = await uow.members.get(group.id, user_id)
            cohort = await uow.cohorts.get(group.id, cohort_id)
            if member is None or cohort is None or cohort_key(cohort_id) not in member.roles:
                raise UserError("core.button_unknown")
            await uow.cohorts.set_member_cohort(group.id, user_id, cohort_id)
        return Whois(member, cohort, None, {})

    async def _platform_has(self, group: Group, user_id: str, role: RoleRecord) -> bool | None:
        """Whether the platform gives the member the role now; None when it cannot be told
        (the member left, or the role has no platform id)."""
        if not role.platform_id:
            return None
        held = await self.workspace.member_roles(group.id, user_id)
        return None if held is None else role.platform_id in held

    async def revoke(self, group: Group, actor: Actor, member: str, role: str) -> RoleGrant:
        """Take a role from a member; a code still waiting to give it is spent."""
        m = await self.members.resolve(group.id, member)
        r = await self.find(group, role)
        if r.key not in m.roles:
            async with self.uow() as uow:
                spent = await uow.invitations.revoke_pending_redemptions(
                    group.id, m.user_id, [r.key]
                )
            if not spent:
                raise UserError("onboarding.role_not_had", member=neutralise(m.name), role=r.name)
            return RoleGrant(m, r)
        change = RoleChange(m.user_id, (), (r.key,), "staff", actor.id)
        await self.grants.apply(group.id, change, member=m)
        return RoleGrant(m, r)

    async def whois(self, group: Group, member: str) -> Whois:
        """Roles, cohort, who invited them, when they joined."""
        m = await self.members.resolve(group.id, member)
        async with self.uow() as uow:
            cohort_id = await uow.cohorts.member_cohort(group.id, m.user_id)
            cohort = await uow.cohorts.get(group.id, cohort_id) if cohort_id else None
            inviter = await uow.members.get(group.id, m.invited_by) if m.invited_by else None
            roles = {r.key: r for r in await uow.roles.for_group(group.id)}
        return Whois(m, cohort, inviter.name if inviter else m.invited_by, roles)

    async def history(self, group: Group, user_id: str) -> RoleHistory:
        """A recorded member of the group (by id only: nobody else's), the roles they hold and
        who gave or took which role when, newest first."""
        m = await self.members.get(group.id, user_id)
        async with self.uow() as uow:
            cohort_id = await uow.cohorts.member_cohort(group.id, m.user_id)
            cohort = await uow.cohorts.get(group.id, cohort_id) if cohort_id else None
            roles = {r.key: r for r in await uow.roles.for_group(group.id)}
            archived = frozenset(
                cohort_key(c.id)
                for c in await uow.cohorts.for_group(group.id)
                if c.archived_at is not None
            )
            held = await uow.grants.held(group.id, m.user_id)
            events = await uow.grants.history(group.id, m.user_id, HISTORY_PAGE)
            people = {e.by for e in (*held, *events) if e.by} | {m.invited_by or ""}
            names = {}
            for person in people - {""}:
                found = await uow.members.get(group.id, person)
                names[person] = neutralise(found.name) if found else person
        inviter = names.get(m.invited_by) if m.invited_by else None
        return RoleHistory(
            Whois(m, cohort, inviter, roles), tuple(held), tuple(events), names, archived
        )

    async def home(self, group: Group, actor: Actor) -> HomeFacts:
        """The member's cohort; for staff, how many requests wait."""
        async with self.uow() as uow:
            cohort_id = await uow.cohorts.member_cohort(group.id, actor.id)
            cohort = await uow.cohorts.get(group.id, cohort_id) if cohort_id else None
            pending = await uow.requests.pending_count(group.id) if actor.is_staff else 0
        return HomeFacts(cohort, pending)
