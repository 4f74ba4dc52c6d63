"""The Members and Codes forms over a real socket: what they change, and the forged fields,
other groups' ids and replays they refuse (shown on the page, logged, nothing changed)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.cogs.onboarding.records import CodeKind
from bot.cogs.prompts.records import Prompt, PromptStatus
from bot.domain import Member
from tests.web.helpers import Dash, dashboard, make_staff, revoke_staff

pytestmark = pytest.mark.asyncio


async def _member(d: Dash, user_id: str, name: str, group: str = "local") -> None:
    if group == "local":
        d.world.ws.add_member(name, None)  # on the platform, so a role can be given
    async with d.world.uow() as uow:
        await uow.members.save(Member(group, user_id, name, joined_at=d.world.ws.clock.now()))


async def _roles(d: Dash, user_id: str, group: str = "local") -> frozenset[str]:
    async with d.world.uow() as uow:
        member = await uow.members.get(group, user_id)
    assert member is not None
    return member.roles


async def _events(d: Dash) -> list[tuple[str, str, bool]]:
    async with d.world.uow() as uow:
        rows = await uow.session.execute(  # type: ignore[attr-defined]
            text("SELECT user_id, role_key, granted FROM role_events ORDER BY id")
        )
    return [(u, k, bool(g)) for u, k, g in rows]


async def _audit(d: Dash) -> str:
    return await (await d.client.get("/dashboard/audit")).text()


async def test_grant_and_revoke_reach_the_platform_and_the_history() -> None:
    async with dashboard() as d:
        await _member(d, "ingrid", "Ingrid")
        await d.sign_in()
        page = "/dashboard/members/ingrid"
        done = await d.post(page, "/dashboard/members/grant", user="ingrid", role="alumni")
        assert done.status == 303 and done.headers["Location"] == page
        assert "alumni" in await _roles(d, "ingrid")
        assert "alumni" in d.world.ws.role_names("ingrid")
        shown = await (await d.client.get(page)).text()
        assert "Ingrid now has the role alumni." in shown
        assert "alumni given (given by staff) by owner" in shown
        gone = await d.post(page, "/dashboard/members/revoke", user="ingrid", role="alumni")
        assert gone.status == 303
        assert "alumni" not in await _roles(d, "ingrid")
        assert "alumni" not in d.world.ws.role_names("ingrid")
        assert await _events(d) == [("ingrid", "alumni", True), ("ingrid", "alumni", False)]
        audit = await _audit(d)
        assert "Gave a member a role" in audit and "Took a role from a member" in audit


async def test_a_forged_role_key_is_refused_and_logged() -> None:
    async with dashboard() as d:
        await _member(d, "ingrid", "Ingrid")
        await d.sign_in()
        page = "/dashboard/members/ingrid"
        for forged in ("superuser", "Staff", "cohort:999", ""):
            refused = await d.post(page, "/dashboard/members/grant", user="ingrid", role=forged)
            assert refused.status == 400
            assert "There is no role" in await refused.text()
        assert await _roles(d, "ingrid") == frozenset()
        assert await _events(d) == []
        audit = await _audit(d)
        assert audit.count("Gave a member a role (refused, nothing changed)") == 4
        assert "superuser" in audit


async def test_another_groups_member_id_is_refused_and_left_alone() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        await _member(d, "eve", "Eve", group="other")
        await _member(d, "ingrid", "Ingrid")
        await d.sign_in()
        # Their member's page is no page here, and a form naming them changes nobody.
        assert (await d.client.get("/dashboard/members/eve")).status == 404
        refused = await d.post(
            "/dashboard/members/ingrid", "/dashboard/members/grant", user="eve", role="staff"
        )
        assert refused.status == 400 and "There is no member" in await refused.text()
        assert await _roles(d, "eve", group="other") == frozenset()
        async with d.world.uow() as uow:
            assert await uow.members.get("local", "eve") is None  # not recorded here either
        assert "refused, nothing changed" in await _audit(d)


async def test_staff_who_lost_the_role_cannot_give_themselves_staff_again() -> None:
    async with dashboard() as d:
        now = d.world.ws.clock.now()
        d.world.ws.add_member("Kari", None)
        kari = await make_staff(d.world, "kari", "Kari", now)
        await d.sign_in(kari)
        form = await d.form("/dashboard/members/kari", "/dashboard/members/grant")
        await revoke_staff(d.world, "kari")
        refused = await d.client.post(
            "/dashboard/members/grant",
            data=form | {"user": "kari", "role": "staff"},
            allow_redirects=False,
        )
        assert refused.status == 401 and "no longer staff" in await refused.text()
        assert "staff" not in await _roles(d, "kari")
        assert await _events(d) == []


async def test_a_replayed_grant_is_refused_and_recorded_once() -> None:
    async with dashboard() as d:
        await _member(d, "ingrid", "Ingrid")
        await d.sign_in()
        form = await d.form("/dashboard/members/ingrid", "/dashboard/members/grant")
        data = form | {"user": "ingrid", "role": "industry"}
        first = await d.client.post("/dashboard/members/grant", data=data, allow_redirects=False)
        assert first.status == 303
        # Taken away in between: a replay of the old form must not give it back.
        await d.post(
            "/dashboard/members/ingrid",
            "/dashboard/members/revoke",
            **{
                "user": "ingrid",
                "role": "industry",
            },
        )
        again = await d.client.post("/dashboard/members/grant", data=data, allow_redirects=False)
        assert again.status == 409 and "sent already" in await again.text()
        assert "industry" not in await _roles(d, "ingrid")
        assert await _events(d) == [("ingrid", "industry", True), ("ingrid", "industry", False)]


async def test_codes_are_listed_and_another_groups_code_is_not_revoked() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        now = d.world.ws.clock.now()
        await _member(d, "kari", "Kari Nordmann")
        async with d.world.uow() as uow:
            mine = await uow.invitations.add(
                "local", "MINE2345", CodeKind.FRIEND, None, "industry", 5, None, "kari", now
            )
            theirs = await uow.invitations.add(
                "other", "THEIRS23", CodeKind.FRIEND, None, "industry", 5, None, "eve", now
            )
        await d.sign_in()
        page = await (await d.client.get("/dashboard/codes")).text()
        assert "MINE2345" in page and "THEIRS23" not in page
        assert "5 of 5" in page and "No end date" in page and "Kari Nordmann" in page
        refused = await d.post("/dashboard/codes", "/dashboard/codes/revoke", code=theirs.code)
        assert refused.status == 400
        async with d.world.uow() as uow:
            still = await uow.invitations.get("other", theirs.id)
        assert still is not None and not still.revoked
        done = await d.post("/dashboard/codes", "/dashboard/codes/revoke", code=mine.code)
        assert done.status == 303 and done.headers["Location"] == "/dashboard/codes"
        after = await (await d.client.get("/dashboard/codes")).text()
        assert "The code MINE2345 no longer works." in after
        assert "No join codes work right now." in after
        # Twice: it had stopped already, said so, nothing else.
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        twice = await d.client.post(
            "/dashboard/codes/revoke", data=form | {"code": mine.code}, allow_redirects=False
        )
        assert twice.status == 400 and "had already stopped working" in await twice.text()


async def test_another_groups_question_is_not_moved() -> None:
    async with dashboard() as d:
        await d.world.bot.group("other")
        async with d.world.uow() as uow:
            theirs = await uow.prompts.add(
                Prompt(0, "other", "open", "Theirs?", PromptStatus.ACCEPTED, d.world.ws.clock.now())
            )
        await d.sign_in()
        form = await d.form("/dashboard/questions", "/dashboard/questions/add")
        refused = await d.client.post(
            f"/dashboard/questions/{theirs.id}/up", data=form, allow_redirects=False
        )
        assert refused.status == 400 and "not in the queue" in await refused.text()
        async with d.world.uow() as uow:
            still = await uow.prompts.get("other", theirs.id)
        assert still is not None and still.position is None
