"""Renames on the real discord.py client against the fake Discord: a cohort and its role, and
the group's channels and roles into its language after a switch (`/alumni translate`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.onboarding.records import cohort_key
from bot.domain import Language
from bot.i18n import t
from tests.discord_harness import ALICE_ID, STAFF_ID, answer_text, discord_harness
from tests.test_discord_features import command, role_id, setup_group

ROLE_PATCH = "PATCH /guilds/{}/roles/{}"


async def test_a_cohort_rename_reaches_discord_and_a_refusal_changes_nothing(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await command(h, STAFF_ID, "cohort create", {"program": "Fashion", "year": 2026})
        fashion = role_id(h, "Fashion 2026")
        done = await command(
            h, STAFF_ID, "cohort edit", {"cohort": "Fashion 2026", "name": "Mote 2026"}
        )
        assert "now called Mote 2026" in answer_text(done)
        assert h.fake.role(h.guild.id, fashion)["name"] == "Mote 2026"
        sent = [r.body for r in h.fake.requests_to(ROLE_PATCH) if r.status == 200]
        assert {"name": "Mote 2026"} in sent

        # A member is refused before anything reaches Discord.
        h.fake.allow_command(h.guild.id, "alumni", ("cohort", "edit"), h.guild.id)
        patches = len(h.fake.requests_to(ROLE_PATCH))
        refused = await command(h, ALICE_ID, "cohort edit", {"cohort": "Mote 2026", "name": "X"})
        assert refused.ephemeral and "Only staff" in answer_text(refused)

        # An admin drags the cohort role above the bot's: Discord would refuse (50013).
        h.fake.set_role_position(h.guild.id, fashion, 99)
        guild = h.bot.workspace.client.get_guild(h.guild.id)  # type: ignore[attr-defined]
        await h.fake.wait_for(lambda: guild.get_role(fashion).position == 99)
        failed = await command(
            h, STAFF_ID, "cohort edit", {"cohort": "Mote 2026", "name": "Design 2026"}
        )
        assert 'missing the permission "Manage Roles above "Mote 2026"' in answer_text(failed)
        assert len(h.fake.requests_to(ROLE_PATCH)) == patches
        assert h.fake.role(h.guild.id, fashion)["name"] == "Mote 2026"
        async with h.uow() as uow:
            cohorts = await uow.cohorts.for_group(str(h.guild.id))
            record = await uow.roles.get(str(h.guild.id), cohort_key(cohorts[0].id))
        assert [c.name for c in cohorts] == ["Mote 2026"]
        assert record is not None and record.name == "Mote 2026"


async def test_translate_after_a_language_switch_renames_on_discord(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await command(h, STAFF_ID, "categories rename", {"category": "jobs", "name": "job-board"})
        staff = role_id(h, "staff")
        switched = await command(h, STAFF_ID, "settings", {"language": "nb"})
        assert "#introductions" in answer_text(switched) and "/alumni translate" in answer_text(
            switched
        )
        done = await command(h, STAFF_ID, "translate")
        text = answer_text(done)
        assert "- #introductions → #presentasjoner (og beskrivelsen)" in text
        assert "- @staff → @ansatt" in text and "Beholdt slik dere navnga dem: #job-board" in text
        names = {c["name"] for c in h.guild.channels.values()}
        assert {"presentasjoner", "kunngjøringer", "job-board"} <= names
        assert not {"introductions", "announcements", "jobs"} & names
        presentations = next(c for c in h.guild.channels.values() if c["name"] == "presentasjoner")
        assert presentations["topic"] == t(Language.NB, "categories.introductions.description")
        assert h.fake.role(h.guild.id, staff)["name"] == "ansatt"
        assert h.fake.role_named(h.guild.id, "bransje") is not None
        assert "- Alumni group → Alumnigruppe" in text
        sections = {c["name"] for c in h.guild.channels.values() if c["type"] == 4}
        assert sections == {"Alumnigruppe"}, sections
        again = await command(h, STAFF_ID, "translate")
        assert "ingenting fikk nytt navn" in answer_text(again)
