"""Approvals in the dashboard go through the onboarding buttons: the role is granted on the
platform, the member is told, and another group's request cannot be decided."""

from __future__ import annotations

import pytest

from bot.domain import Member
from tests.web.helpers import Dash, dashboard

pytestmark = pytest.mark.asyncio


async def _request(
    d: Dash, user_id: str, name: str, role: str = "student", group: str = "local"
) -> int:
    now = d.world.ws.clock.now()
    if group == "local":
        d.world.ws.add_member(name, None)  # on the platform, so a role can be given
    async with d.world.uow() as uow:
        await uow.members.save(Member(group, user_id, name, joined_at=now))
        request = await uow.requests.add(group, user_id, role, None, now)
    return request.id


async def test_approve_one_and_deny_many_and_the_members_are_told() -> None:
    async with dashboard() as d:
        first = await _request(d, "ingrid", "Ingrid")
        second = await _request(d, "ola", "Ola")
        third = await _request(d, "per", "Per", role="alumni")
        await d.sign_in()
        page = await (await d.client.get("/dashboard/approvals")).text()
        assert "Ingrid" in page and "Ola" in page and "alumni" in page
        done = await d.post(
            "/dashboard/approvals", "/dashboard/approvals/decide", one=f"{first}:approve"
        )
        assert done.status == 303
        async with d.world.uow() as uow:
            ingrid = await uow.members.get("local", "ingrid")
            decided = await uow.requests.get("local", first)
        assert ingrid is not None and "student" in ingrid.roles
        assert "student" in d.world.ws.role_names("ingrid")
        assert (
            decided is not None and decided.status == "approved" and decided.decided_by == "owner"
        )
        assert any("direct message to ingrid" in line for line in d.world.seen), d.world.seen[-5:]
        many = await d.post(
            "/dashboard/approvals",
            "/dashboard/approvals/decide",
            verdict="deny",
            **{f"req_{second}": "on", f"req_{third}": "on"},
        )
        assert many.status == 303
        async with d.world.uow() as uow:
            statuses = [(await uow.requests.get("local", i)).status for i in (second, third)]  # type: ignore[union-attr]
        assert statuses == ["denied", "denied"]
        after = await (await d.client.get("/dashboard/approvals")).text()
        assert "No role requests are waiting." in after
        audit = await (await d.client.get("/dashboard/audit")).text()
        assert audit.count("Decided role requests") == 2


async def test_another_groups_request_is_not_decided() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        theirs = await _request(d, "eve", "Eve", group="other")
        mine = await _request(d, "ola", "Ola")
        await d.sign_in()
        await d.post("/dashboard/approvals", "/dashboard/approvals/decide", one=f"{theirs}:approve")
        async with d.world.uow() as uow:
            still = await uow.requests.get("other", theirs)
            eve = await uow.members.get("other", "eve")
        assert still is not None and still.status == "pending"
        assert eve is not None and "student" not in eve.roles
        # A forged verdict is refused before anything is asked of onboarding.
        bad = await d.post(
            "/dashboard/approvals", "/dashboard/approvals/decide", one=f"{mine}:promote"
        )
        assert bad.status == 400
        empty = await d.post(
            "/dashboard/approvals", "/dashboard/approvals/decide", verdict="approve"
        )
        assert empty.status == 400 and "Choose at least one request" in await empty.text()
