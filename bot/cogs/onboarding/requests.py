"""Claims of a role: industry at once; trusted roles as requests that staff decide."""

from __future__ import annotations

import logging

from bot.cogs.members.service import MembersService
from bot.cogs.onboarding import views
from bot.cogs.onboarding.cohorts import CohortService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.records import (
    Decision,
    Granted,
    RequestSent,
    RoleChange,
    Verdict,
)
from bot.domain import TRUSTED_ROLES, Actor, Cohort, Group
from bot.errors import UserError
from bot.events import MessageRef, UserRef
from bot.ports import Clock, UnitOfWorkFactory, Workspace

log = logging.getLogger(__name__)


class RequestService:
    """A member says who they are; staff confirm the roles that carry trust."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        cohorts: CohortService,
        grants: GrantService,
        members: MembersService,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.cohorts = cohorts
        self.grants = grants
        self.members = members

    async def claim(self, group: Group, user: UserRef, role: str) -> Granted | None:
        """A role that needs nobody's approval is given at once (returned); a trusted one is
        checked for a request still waiting (None: ask which cohort, then `request`)."""
        gid, uid = group.id, user.id
        member = await self.members.ensure(gid, user)
        roles = await self.grants.roles(gid)
        if role in member.roles:
            raise UserError(
                "onboarding.already_have", role=views.role_label(group.language, role, roles)
            )
        if role not in TRUSTED_ROLES:
            await self.grants.apply(
                gid, RoleChange(uid, (role,), (), "self", uid), roles=roles, member=member
            )
            return Granted((role,), roles)
        async with self.uow() as uow:
            pending = await uow.requests.pending_of(gid, uid)
        if pending is not None:
            raise UserError(
                "onboarding.request_pending",
                role=views.role_label(group.language, pending.role_key, roles),
            )
        return None

    async def request(self, group: Group, user: UserRef, role: str, typed: str) -> RequestSent:
        """Store the request and post it for staff with Approve and Deny; a cohort typed that
        matches none is shown to staff as typed, and they decide anyway."""
        if role not in TRUSTED_ROLES:
            raise UserError("core.form_unknown")
        gid, uid = group.id, user.id
        typed = typed.strip()
        cohort: Cohort | None = None
        if typed:
            try:
                cohort = await self.cohorts.find(group, typed)
            except UserError:
                cohort = None
        now = self.clock.now()
        async with self.uow() as uow:
            if await uow.requests.pending_of(gid, uid) is not None:
                raise UserError("onboarding.request_pending", role=role)
            request = await uow.requests.add(gid, uid, role, cohort.id if cohort else None, now)
            roles = {r.key: r for r in await uow.roles.for_group(gid)}
        channel = await self.grants.channel(gid, "review")
        if channel is None:
            log.warning("role request %s stored, but %s has no review channel", request.id, gid)
            return RequestSent(request, cohort, posted=False)
        post = views.request_post(group.language, user.name or uid, request, cohort, typed, roles)
        ref = await self.workspace.send(gid, channel, post)
        async with self.uow() as uow:
            await uow.requests.set_message(request.id, ref.channel_id, ref.id)
        return RequestSent(request, cohort, posted=True)

    async def decide(
        self, group: Group, actor: Actor, request_id: int, verdict: Verdict
    ) -> Decision:
        """Staff approve or deny a request: never their own; decided once. The review post
        shows the verdict and the member hears it by DM."""
        gid = group.id
        async with self.uow() as uow:
            request = await uow.requests.get(gid, request_id)
        if request is None:
            raise UserError("core.button_unknown")
        if request.user_id == actor.id:
            raise UserError("onboarding.decide_own")
        now, status = self.clock.now(), verdict.status
        async with self.uow() as uow:
            decided = await uow.requests.decide(gid, request.id, status, actor.id, now)
            if decided and verdict is Verdict.APPROVE and request.cohort_id is not None:
                await uow.cohorts.enter_cohort(gid, request.user_id, request.cohort_id)
            requester = await uow.members.get(gid, request.user_id)
            roles = {r.key: r for r in await uow.roles.for_group(gid)}
        if not decided:
            raise UserError(
                "onboarding.decide_already",
                status=views.request_status(group.language, request.status),
            )
        # Someone who left is told apart (records and platform both asked): the roles are
        # recorded and come back if they return, but nothing happens on the platform now.
        gone = requester is None or requester.left_at is not None
        if not gone:
            gone = await self.workspace.member_info(gid, request.user_id) is None
        if verdict is Verdict.APPROVE:
            change = RoleChange(request.user_id, request.role_keys, (), "approval", actor.id)
            await self.grants.apply(gid, change, roles=roles, member=requester)
        decision = Decision(
            request,
            status,
            requester.name if requester else request.user_id,
            Granted(request.role_keys, roles),
            gone=gone,
        )
        if request.review_channel_id and request.review_message_id:
            await self.workspace.edit(
                gid,
                MessageRef(request.review_channel_id, request.review_message_id),
                views.decided(group.language, decision, actor.name),
            )
        if not gone:
            await self.workspace.send_dm(
                gid, request.user_id, views.outcome(group.language, decision)
            )
        return decision
