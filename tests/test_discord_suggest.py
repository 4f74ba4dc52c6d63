"""Discord suggests cohorts, categories and roles as staff type them: the group's own values,
at most 25, within the 3 s, and nothing to a member the bot does not trust."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.translate import MANAGE_GUILD
from bot.ports import UnitOfWork
from tests.conftest import START
from tests.discord_harness import ALICE_ID, STAFF_ID, Harness, discord_harness
from tests.fakes.discord_fake import FakeInteraction
from tests.test_discord_features import setup_group


async def typing(
    h: Harness, user_id: int, words: str, option: str, text: str, **others: Any
) -> FakeInteraction:
    """A member has typed `text` into `option` of `/alumni <words>`; the bot's answer."""
    iid = await h.fake.slash_command(
        h.guild.id, user_id, "alumni", words.split(), {**others, option: text}, typing=option
    )
    return await h.fake.wait_for_response(iid, timeout=5)


def choices(inter: FakeInteraction) -> list[tuple[str, str]]:
    """What the picker shows: (name, value) of each suggestion."""
    assert inter.response_type == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    return [(c["name"], c["value"]) for c in inter.callbacks[0]["data"]["choices"]]


async def add_cohorts(h: Harness, count: int) -> None:
    async with h.uow() as uow:
        for year in range(2000, 2000 + count):
            await uow.cohorts.add(
                str(h.guild.id), "Fashion", year, f"Fashion {year}", None, None, START
            )
        await uow.cohorts.add(str(h.guild.id), "Knitwear", 2026, "Knitwear 2026", None, None, START)


async def test_staff_are_offered_the_groups_cohorts_categories_and_roles(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await add_cohorts(h, 30)
        # 31 cohorts: Discord takes at most 25 suggestions (the strict fake refuses more).
        every = choices(await typing(h, STAFF_ID, "cohort status", "cohort", ""))
        assert len(every) == 25 and every[0] == ("Knitwear 2026", "Knitwear 2026")
        knit = choices(await typing(h, STAFF_ID, "invite cohort", "cohort", "knit"))
        assert knit == [("Knitwear 2026", "Knitwear 2026")]
        # A category by the name members see; the command receives its key.
        found = choices(await typing(h, STAFF_ID, "categories rename", "category", "jo"))
        assert found and all("jo" in name.lower() for name, _ in found)
        picked = dict(found)
        answer = await h.fake.slash_command(
            h.guild.id,
            STAFF_ID,
            "alumni",
            ["categories", "rename"],
            {"category": next(iter(picked.values())), "name": "Work"},
        )
        assert (await h.fake.wait_for_response(answer)).response_type in (4, 5)
        roles = {
            name.lower() for name, _ in choices(await typing(h, STAFF_ID, "role grant", "role", ""))
        }
        assert {"student", "alumni", "staff", "industry"} <= roles


async def test_a_member_discord_lets_through_learns_no_cohort_names(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await add_cohorts(h, 2)
        managers = h.fake.add_role(h.guild.id, "Managers", MANAGE_GUILD)
        h.guild.members[ALICE_ID]["roles"].append(managers["id"])
        # Discord shows her the staff command (Manage Server); the bot does not trust her.
        assert choices(await typing(h, ALICE_ID, "cohort status", "cohort", "")) == []


async def test_a_slow_database_gets_an_empty_list_in_time_not_a_dead_picker(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)

        async def slow(uow: UnitOfWork, group_id: str) -> list[tuple[str, str]]:
            await asyncio.sleep(5)
            return [("Fashion 2026", "Fashion 2026")]

        h.bot.suggestions["cohort"] = slow
        inter = await typing(h, STAFF_ID, "cohort status", "cohort", "fa")
        assert choices(inter) == [] and inter.refused == []
