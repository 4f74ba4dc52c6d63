"""Bulk onboarding: the paced, resumable grant queue, and graduation exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from storage.models import GrantQueueRow, MemberRoleRow
from tests.conftest import LocalGroup

COHORT = "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15"


async def _join_many(group: LocalGroup, n: int) -> list[str]:
    names = [f"s{i:03d}" for i in range(n)]
    await group.run(*[f"!join {name} {name}@example.com" for name in names])
    return names


async def test_roster_of_members_already_here_goes_through_the_queue(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT)
    names = await _join_many(group, 120)
    emails = ", ".join(f"{n}@example.com" for n in names)
    out = await group.run(f'/alumni invite cohort:"Fashion 2026" emails:"{emails}"')
    assert "Roster: 120 valid addresses, 120 new; 120 already in the group" in out
    assert "Granting roles: 0 of 120 done." in out
    assert "Granting roles: 50 of 120 done." in out
    assert out.rstrip().endswith("Granting roles: 120 of 120 done.")
    assert all(group.ws.role_names(n) == ["Fashion 2026", "student"] for n in names)
    async with group.uow() as uow:
        pending = await uow.session.scalar(
            select(func.count()).select_from(GrantQueueRow).where(GrantQueueRow.status != "done")
        )
    assert pending == 0


async def test_a_crash_mid_queue_resumes_without_granting_twice(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT)
    names = await _join_many(group, 30)
    real = group.ws.set_roles
    calls: list[str] = []

    async def crashing(gid: str, uid: str, add: Sequence[str], remove: Sequence[str]) -> None:
        if len(calls) == 10:
            raise RuntimeError("process killed")
        calls.append(uid)
        await real(gid, uid, add, remove)

    group.ws.set_roles = crashing  # type: ignore[method-assign]
    emails = ", ".join(f"{n}@example.com" for n in names)
    out = await group.run(f'/alumni invite cohort:"Fashion 2026" emails:"{emails}"')
    assert "Something went wrong" in out
    granted = [n for n in names if group.ws.role_names(n)]
    assert len(granted) == 10
    # The next hourly tick resumes the queue where it stopped.
    group.ws.set_roles = real  # type: ignore[method-assign]
    await group.run("!clock +1h")
    assert all(group.ws.role_names(n) == ["Fashion 2026", "student"] for n in names)
    async with group.uow() as uow:
        rows = await uow.session.scalar(
            select(func.count())
            .select_from(MemberRoleRow)
            .where(MemberRoleRow.role_key == "student")
        )
        done = await uow.session.scalar(
            select(func.count()).select_from(GrantQueueRow).where(GrantQueueRow.status == "done")
        )
    assert rows == 30 and done == 30


async def test_graduation_turns_students_into_alumni_once(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        COHORT,
        '/alumni invite cohort:"Fashion 2026" emails:"kari@example.com, ola@example.com"',
        "!join kari kari@example.com",
        "!join ola ola@example.com",
        "!join ida",
        "!as ida",
        "!press I am from the industry",
        "!as owner",
    )
    await group.run("!clock +1000d")
    assert group.ws.role_names("kari") == ["Fashion 2026", "student"]  # 2029-05-13: not yet
    await group.run("!clock +33d")  # 2029-06-15 09:00 Oslo
    assert group.ws.role_names("kari") == ["Fashion 2026", "alumni"]
    assert group.ws.role_names("ola") == ["Fashion 2026", "alumni"]
    assert group.ws.role_names("ida") == ["industry"]
    await group.run("!clock +1d", "!clock +30d")
    posts = [m for m in group.messages("announcements") if "Fashion 2026" in str(m["title"])]
    assert len(posts) == 1
    assert "has graduated" in str(posts[0]["text"])
    out = await group.run("/alumni cohort list")
    assert "Fashion 2026: 2029-06-15 (graduated)" in out
