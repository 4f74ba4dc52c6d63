"""Two staff moving questions in one queue at the same moment, on PostgreSQL: both moves are
kept, each question has one place, and neither staff member gets an error (no deadlock)."""

from __future__ import annotations

import asyncio

from bot.cogs.prompts.records import Prompt, PromptStatus
from bot.cogs.prompts.service import PromptsService
from storage.database import create_engine, upgrade
from tests.conftest import make_group
from tests.features.helpers import STAFF


async def test_moves_at_once_are_all_kept(pg_url: str) -> None:
    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        group = make_group(engine)
        await group.run("/alumni setup")
        g = await group.bot.group("local")
        svc = group.bot.service(PromptsService)
        async with group.bot.uow() as uow:
            made = [
                await uow.prompts.add(
                    Prompt(
                        0, "local", "open", f"Q{i}?", PromptStatus.ACCEPTED, group.ws.clock.now()
                    )
                )
                for i in range(6)
            ]
        ids = [p.id for p in made]
        for _ in range(5):
            # Three disjoint swaps at once: (0 1), (2 3), (4 5) in queue order.
            async with group.bot.uow() as uow:
                queue = await uow.prompts.for_group("local", PromptStatus.ACCEPTED)
            order = [p.id for p in sorted(queue, key=lambda p: (p.position or 0, p.id))]
            await asyncio.gather(*(svc.move(g, STAFF, order[i], up=False) for i in (0, 2, 4)))
            async with group.bot.uow() as uow:
                queue = await uow.prompts.for_group("local", PromptStatus.ACCEPTED)
            after = [p.id for p in sorted(queue, key=lambda p: (p.position or 0, p.id))]
            assert sorted(p.position or 0 for p in queue) == list(range(1, len(queue) + 1))
            swapped = [order[1], order[0], order[3], order[2], order[5], order[4]]
            assert after == swapped + order[6:]
        assert set(ids) <= set(after)
    finally:
        await engine.dispose()
