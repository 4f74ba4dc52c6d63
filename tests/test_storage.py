"""Migrations from empty on SQLite and PostgreSQL; scheduler claims; an unreachable database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import inspect

from storage.database import create_engine, upgrade
from storage.models import Base
from storage.uow import UnitOfWorkFactory
from tests.conftest import START

TABLES = set(Base.metadata.tables)


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await upgrade(engine)  # a second upgrade is a no-op
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return names


async def test_sqlite_upgrades_from_empty(tmp_path: Path) -> None:
    assert await _tables(f"sqlite+aiosqlite:///{tmp_path}/m.db") >= TABLES


async def test_postgres_upgrades_from_empty(pg_url: str) -> None:
    assert await _tables(pg_url) >= TABLES


async def _race(url: str) -> list[bool]:
    engine = create_engine(url)
    await upgrade(engine)
    uow = UnitOfWorkFactory(engine)
    async with uow() as u:
        from bot.domain import Group, Language

        await u.groups.add(Group("g", "local", Language.EN, "Europe/Oslo", {}, START))

    async def claim(owner: str) -> bool:
        async with uow() as u:
            return await u.jobs.claim("g", "weekly", "2026-W34", owner, START, 600) is not None

    results = await asyncio.gather(*(claim(f"p{i}") for i in range(8)))
    async with uow() as u:
        await u.jobs.finish("g", "weekly", "2026-W34")
        assert await u.jobs.done("g", "weekly", "2026-W34")
        # A finished period is never claimed again, however old.
        late = START + timedelta(days=30)
        assert await u.jobs.claim("g", "weekly", "2026-W34", "late", late, 600) is None
    await engine.dispose()
    return list(results)


async def test_claims_are_exclusive_on_postgres(pg_url: str) -> None:
    assert sorted(await _race(pg_url)) == [False] * 7 + [True]


async def test_claims_are_exclusive_on_sqlite(tmp_path: Path) -> None:
    assert sorted(await _race(f"sqlite+aiosqlite:///{tmp_path}/r.db")) == [False] * 7 + [True]


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "DATABASE_URL" in proc.stderr
    assert "secret" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


async def test_first_sight_of_a_group_from_concurrent_events_creates_it_once(pg_url: str) -> None:
    from adapters.local.workspace import LocalWorkspace
    from bot.core import Bot
    from bot.features import load_all

    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        ws = LocalWorkspace(None, out=lambda _: None, start=START)
        bot = load_all(Bot(ws, UnitOfWorkFactory(engine), ws.clock))
        groups = await asyncio.gather(*(bot.group("T-new") for _ in range(6)))
        assert {g.id for g in groups} == {"T-new"}
        async with UnitOfWorkFactory(engine)() as uow:
            assert [g.id for g in await uow.groups.all()] == ["T-new"]
    finally:
        await engine.dispose()


async def test_member_search_and_role_history_on_postgres(pg_url: str) -> None:
    """The Members page's query on PostgreSQL: any case (æøå too), LIKE's characters typed
    taken literally, a role filter, a page; and grants kept in the role history."""
    from bot.cogs.onboarding.records import RoleEvent
    from bot.domain import Group, Language, Member

    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        async with UnitOfWorkFactory(engine)() as uow:
            await uow.groups.add(Group("g", "local", Language.NB, "Europe/Oslo", created_at=START))
            for i, name in enumerate(["Åse Ødegård", "åse 100%", "Per", "Pål_x"]):
                await uow.members.save(Member("g", f"u{i}", name))
            await uow.roles.grant("g", "u0", "student", "staff", "u2", START)
            await uow.grants.log("g", [RoleEvent("u0", "student", True, "staff", "u2", START)])
        async with UnitOfWorkFactory(engine)() as uow:
            found, total = await uow.members.search("g", "ÅSE", [], 0, 10)
            assert total == 2 and {m.name for m in found} == {"åse 100%", "Åse Ødegård"}
            assert (await uow.members.search("g", "%", [], 0, 10))[1] == 1
            assert (await uow.members.search("g", "_", [], 0, 10))[1] == 1
            student, count = await uow.members.search("g", "", ["student"], 0, 10)
            assert count == 1 and student[0].roles == {"student"}
            # The order is the database's collation of the names; a page is a slice of it.
            everyone, _ = await uow.members.search("g", "", [], 0, 10)
            page, count = await uow.members.search("g", "", [], 1, 2)
            assert count == 4 and page == everyone[1:3]
            history = await uow.grants.history("g", "u0", 10)
            assert [(e.role_key, e.granted, e.by) for e in history] == [("student", True, "u2")]
    finally:
        await engine.dispose()


async def test_the_cohorts_lists_grouped_reads_on_postgres(pg_url: str) -> None:
    """The dashboard's Cohorts list reads every cohort's counts at once: the same figures on
    PostgreSQL as cohort by cohort (members who left not counted, requests only pending)."""
    from bot.domain import Group, Language, Member

    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        async with UnitOfWorkFactory(engine)() as uow:
            await uow.groups.add(Group("g", "local", Language.NB, "Europe/Oslo", created_at=START))
            a = await uow.cohorts.add("g", "Mote", 2026, "Mote 2026", None, "u0", START)
            b = await uow.cohorts.add("g", "Design", 2027, "Design 2027", None, "u0", START)
            assert a is not None and b is not None
            await uow.roster.add(
                "g", a.id, [("Kari", "kari@x.no"), ("Ola", "ola@x.no")], "student", None
            )
            await uow.roster.add("g", b.id, [("Per", "per@x.no")], "student", None)
            for i, left in enumerate((None, START, None)):
                await uow.members.save(Member("g", f"u{i}", f"M{i}", left_at=left))
                await uow.cohorts.enter_cohort("g", f"u{i}", a.id if i < 2 else b.id)
            await uow.requests.add("g", "u2", "student", b.id, START)
        async with UnitOfWorkFactory(engine)() as uow:
            assert await uow.cohorts.present_by_cohort("g") == {a.id: 1, b.id: 1}
            assert await uow.roster.tallies("g") == {
                a.id: (2, ["kari@x.no", "ola@x.no"]),
                b.id: (1, ["per@x.no"]),
            }
            assert await uow.requests.pending_by_cohort("g") == {b.id: 1}
            assert await uow.invitations.uses_by_cohort("g") == {}
    finally:
        await engine.dispose()
