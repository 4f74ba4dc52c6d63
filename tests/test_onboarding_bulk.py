"""Bulk onboarding: the paced, resumable grant queue, and graduation exactly once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.terminal import Terminal
from adapters.local.workspace import LocalWorkspace
from bot.core import Bot, CoreConfig
from bot.domain import Language
from bot.errors import PlatformError
from bot.features import load_all
from bot.scheduler import Scheduler
from storage.models import GrantQueueRow, MemberRoleRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import START, LocalGroup

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
    assert "Granting roles: 120 of 120 done." in out
    assert all(group.ws.role_names(n) == ["Fashion 2026", "student"] for n in names)
    # Each is told by DM what the roster gave them (they were here: no welcome says it).
    told = [
        n
        for n in names
        if "You are on the roster of Fashion 2026" in str(group.ws.state["dms"][n][-1]["text"])
    ]
    assert told == names
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
    assert "Fashion 2026: 15 June 2029 (graduated)" in out


ANNOUNCEMENTS, REVIEW = "kunngjøringer", "godkjenning"  # the Norwegian group's channels


class RefusingWorkspace(LocalWorkspace):
    """A local workspace whose platform refuses role changes of some members, as Discord does
    when the bot lost Manage Roles."""

    refuse: set[str]

    async def set_roles(
        self, group_id: str, user_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """Refuse for the members in `refuse`, with the permission named."""
        if user_id in getattr(self, "refuse", set()):
            raise PlatformError("missing Manage Roles", missing_permission="manage_roles")
        await super().set_roles(group_id, user_id, add, remove)


def _refusing_group(
    engine: AsyncEngine, language: Language
) -> tuple[LocalGroup, RefusingWorkspace]:
    lines: list[str] = []
    uow = UnitOfWorkFactory(engine)
    ws = RefusingWorkspace(None, out=lines.append, start=START)
    bot = load_all(Bot(ws, uow, ws.clock, CoreConfig(default_language=language, instance_id="t")))
    return LocalGroup(Terminal(bot, ws, Scheduler(bot)), bot, ws, uow, lines), ws


async def _queue_statuses(group: LocalGroup) -> list[str]:
    async with group.uow() as uow:
        rows = await uow.session.scalars(
            select(GrantQueueRow.status).where(GrantQueueRow.batch.like("graduation:%"))
        )
        return sorted(rows)


async def test_a_graduation_the_platform_partly_refuses_is_reported_and_finished_later(
    engine: AsyncEngine,
) -> None:
    group, ws = _refusing_group(engine, Language.NB)
    await group.run(
        "/alumni setup",
        COHORT,
        '/alumni invite cohort:"Fashion 2026" emails:"kari@example.com, ola@example.com"',
        "!join kari kari@example.com",
        "!join ola ola@example.com",
    )
    ws.refuse = {"ola"}
    await group.run("!clock +1033d")  # 2029-06-15 09:00 Oslo: past the graduation date
    assert group.ws.role_names("kari") == ["Fashion 2026", "alumni"]
    assert group.ws.role_names("ola") == ["Fashion 2026", "student"]
    posts = [m for m in group.messages(ANNOUNCEMENTS) if "Fashion 2026" in str(m["title"])]
    assert len(posts) == 1 and "roller oppdatert for 1 medlem)" in str(posts[0]["text"])
    review = [str(m["text"]) for m in group.messages(REVIEW)]
    report = next(r for r in review if "Uteksaminering av Fashion 2026" in r)
    assert "rolleendringen for 1 medlem ble ikke gjennomført" in report
    assert "Jeg mangler tillatelsen «Administrer roller»: ola" in report and "kari" not in report
    assert await _queue_statuses(group) == ["done", "pending"]

    # Still refused an hour later: tried again, not reported again.
    await group.run("!clock +1h")
    assert len(group.messages(REVIEW)) == len(review)
    assert await _queue_statuses(group) == ["done", "pending"]

    # The permission is back: the hourly job finishes it, tells staff, and the post is updated.
    ws.refuse = set()
    await group.run("!clock +1h")
    assert group.ws.role_names("ola") == ["Fashion 2026", "alumni"]
    assert await _queue_statuses(group) == ["done", "done"]
    done = str(group.messages(REVIEW)[-1]["text"])
    assert "er nå gjennomført for 1 medlem: ola" in done
    posts = [m for m in group.messages(ANNOUNCEMENTS) if "Fashion 2026" in str(m["title"])]
    assert len(posts) == 1 and "roller oppdatert for 2 medlemmer" in str(posts[0]["text"])
    await group.run("!clock +2d")
    assert len(group.messages(REVIEW)) == len(review) + 1


async def test_a_teacher_whose_roster_grants_are_refused_is_told_who_and_why(
    engine: AsyncEngine,
) -> None:
    group, ws = _refusing_group(engine, Language.EN)
    await group.run("/alumni setup", COHORT, "!join kari kari@example.com", "!join ola ola@ex.no")
    ws.refuse = {"ola"}
    out = await group.run(
        '/alumni invite cohort:"Fashion 2026" emails:"kari@example.com, ola@ex.no"'
    )
    assert "Granting roles: 1 of 2 done." in out
    assert "The role change for 1 member did not take effect." in out
    assert 'I am missing the permission "Manage Roles": ola' in out
    assert group.ws.role_names("ola") == []
    ws.refuse = set()
    await group.run("!clock +1h")
    assert group.ws.role_names("ola") == ["Fashion 2026", "student"]
    told = str(group.messages("staff-review")[-1]["text"])
    assert "has now taken effect for 1 member: ola" in told
