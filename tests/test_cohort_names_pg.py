"""Two staff renaming two cohorts to one name at the same moment, on PostgreSQL: one wins, the
other is told, and the group keeps one cohort and one role of that name."""

from __future__ import annotations

import asyncio

from bot.cogs.onboarding.cohorts import CohortService
from bot.errors import UserError
from storage.database import create_engine, upgrade
from tests.conftest import make_group
from tests.features.helpers import STAFF


async def test_two_renames_to_one_name_at_once_leave_one_cohort_with_it(pg_url: str) -> None:
    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        group = make_group(engine)
        await group.run("/alumni setup")
        svc = group.bot.service(CohortService)
        g = await group.bot.group("local")
        for program in ("Fashion", "Design"):
            await svc.create(g, STAFF, program, 2026, None)
        results = await asyncio.gather(
            svc.edit(g, "Fashion 2026", name="Mote 2026"),
            svc.edit(g, "Design 2026", name="Mote 2026"),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, UserError)]
        assert len(refused) == 1, results
        assert refused[0].key == "onboarding.cohort_name_taken"
        names = sorted(c.name for c in await svc.all(g))
        assert names.count("Mote 2026") == 1, names
        roles = [r["name"] for r in group.ws.state["roles"].values()]
        assert roles.count("Mote 2026") == 1, roles
        assert sorted(n for n in roles if n.endswith("2026")) == names
    finally:
        await engine.dispose()
