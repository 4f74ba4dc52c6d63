"""The use cases behind the Members page: a search paged by the database, and a member's
role history as every grant path records it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.cogs.members.service import SEARCH_PAGE, MembersService
from bot.cogs.onboarding.cohorts import CohortService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.records import RoleChange, cohort_key
from bot.cogs.onboarding.roles import RoleService
from bot.domain import Member
from bot.errors import UserError
from tests.features.helpers import STAFF, World, world


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group of its own."""
    async with world() as it:
        yield it


async def _members(w: World, names: list[str], group: str | None = None) -> None:
    now = w.ws.clock.now()
    if group is None:
        for name in names:
            w.ws.add_member(name, None)  # on the platform, so roles can be given
    async with w.uow() as uow:
        for name in names:
            await uow.members.save(Member(group or w.group.id, name.lower(), name, joined_at=now))


async def test_search_pages_by_name_in_the_database_and_counts_all(w: World) -> None:
    names = [f"Student {i:03}" for i in range(SEARCH_PAGE + 5)] + ["Åse 100%_ok"]
    await _members(w, names)
    await w.bot.group("other")
    await _members(w, ["Student 999"], group="other")
    svc = w.bot.service(MembersService)
    first = await svc.search(w.group.id, "student")
    assert first.total == SEARCH_PAGE + 5 and first.pages == 2
    assert [m.name for m in first.members] == names[:SEARCH_PAGE]
    second = await svc.search(w.group.id, "STUDENT", page=2)
    assert [m.name for m in second.members] == names[SEARCH_PAGE:-1]
    # Past the end (a list that shrank since the link was made): the last page.
    beyond = await svc.search(w.group.id, "student", page=40)
    assert beyond.page == 2 and len(beyond.members) == 5
    # LIKE's wildcards in what is typed are only characters.
    assert [m.name for m in (await svc.search(w.group.id, "%_")).members] == ["Åse 100%_ok"]
    assert (await svc.search(w.group.id, "_")).total == 1
    # Any case, æøå too (SQLite's own lower() folds only A-Z).
    await _members(w, ["Øyvind Ås"])
    assert [m.name for m in (await svc.search(w.group.id, "øyvind ås")).members] == ["Øyvind Ås"]
    # Another group's member is never found here.
    assert (await svc.search(w.group.id, "999")).total == 0


async def test_search_by_role_and_cohort_needs_both(w: World) -> None:
    await _members(w, ["Kari", "Ola", "Per"])
    cohort = (
        await w.bot.service(CohortService).create(w.group, STAFF, "Fashion", 2026, None)
    ).cohort
    key = cohort_key(cohort.id)
    grants = w.bot.service(GrantService)
    await grants.apply(w.group.id, RoleChange("kari", ("student", key)))
    await grants.apply(w.group.id, RoleChange("ola", ("alumni", key)))
    await grants.apply(w.group.id, RoleChange("per", ("student",)))
    svc = w.bot.service(MembersService)
    in_cohort = await svc.search(w.group.id, "", [key])
    assert [m.user_id for m in in_cohort.members] == ["kari", "ola"]
    assert in_cohort.members[0].roles == {"student", key}
    both = await svc.search(w.group.id, "", ["student", key])
    assert [m.user_id for m in both.members] == ["kari"]


async def test_every_grant_and_revocation_is_kept_with_who_and_how(w: World) -> None:
    await _members(w, ["Ingrid"])
    roles = w.bot.service(RoleService)
    await roles.grant(w.group, STAFF, "ingrid", "alumni")
    await w.bot.service(GrantService).apply(
        w.group.id, RoleChange("ingrid", ("student",), (), "code:cohort", "owner")
    )
    await roles.revoke(w.group, STAFF, "ingrid", "alumni")
    # A revocation of a role not held records nothing.
    await w.bot.service(GrantService).apply(w.group.id, RoleChange("ingrid", (), ("industry",)))
    history = await roles.history(w.group, "ingrid")
    assert [(e.role_key, e.granted, e.source, e.by) for e in history.events] == [
        ("alumni", False, "staff", "owner"),
        ("student", True, "code:cohort", "owner"),
        ("alumni", True, "staff", "owner"),
    ]
    assert [(e.role_key, e.source) for e in history.held] == [("student", "code:cohort")]
    assert history.whois.member.name == "Ingrid"


async def test_history_is_only_of_this_groups_recorded_members(w: World) -> None:
    await w.bot.group("other")
    await _members(w, ["Eve"], group="other")
    with pytest.raises(UserError) as refused:
        await w.bot.service(RoleService).history(w.group, "eve")
    assert refused.value.key == "members.member_unknown"
