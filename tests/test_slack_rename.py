"""Renames on the real Bolt app against the fake Slack: a cohort's projected role (its private
channel and user group), and the group's channels and roles after a language switch."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import Language
from bot.i18n import t
from tests.slack_harness import SlackHarness, slack_harness


def usergroup(h: SlackHarness, name: str) -> dict[str, Any]:
    """The fake's user group by name (exactly one)."""
    found = [g for g in h.fake.usergroups.values() if g["name"] == name]
    assert len(found) == 1, f"{len(found)} user groups named {name}"
    return found[0]


async def cohort_names(h: SlackHarness) -> list[str]:
    async with h.uow() as uow:
        return [c.name for c in await uow.cohorts.for_group(h.fake.team["id"])]


async def test_a_cohort_rename_renames_its_channel_and_user_group_or_nothing(
    engine: AsyncEngine,
) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, "cohort create program:Fashion year:2026")
        role_channel = h.fake.channel_by_name("alumni-role-fashion-2026")
        group = usergroup(h, "Alumni Fashion 2026")
        answer = await h.command(h.admin, 'cohort edit cohort:"Fashion 2026" name:"Mote 2026"')
        assert "now called Mote 2026" in answer[0]
        assert role_channel.name == "alumni-role-mote-2026"
        assert (group["name"], group["handle"]) == ("Alumni Mote 2026", "alumni-group-mote-2026")

        # Slack's names are unique: a channel someone made already holds the one we need.
        h.fake.add_channel("alumni-role-design-2026")
        answer = await h.command(h.admin, 'cohort edit cohort:"Mote 2026" name:"Design 2026"')
        assert "refused to rename the role of Mote 2026 to Design 2026" in answer[0]
        assert "name_taken" in answer[0] and "Nothing was changed" in answer[0]
        assert role_channel.name == "alumni-role-mote-2026"
        assert await cohort_names(h) == ["Mote 2026"]

        # A user group of that name exists: the channel, renamed first, is renamed back.
        h.fake.usergroups["S999"] = {
            **group,
            "id": "S999",
            "name": "Alumni Art 2026",
            "handle": "art",
        }
        answer = await h.command(h.admin, 'cohort edit cohort:"Mote 2026" name:"Art 2026"')
        assert "name_already_exists" in answer[0] and "Nothing was changed" in answer[0]
        assert role_channel.name == "alumni-role-mote-2026"
        assert (group["name"], group["handle"]) == ("Alumni Mote 2026", "alumni-group-mote-2026")
        assert await cohort_names(h) == ["Mote 2026"]

        kari = h.fake.add_user("kari", email="kari@example.com")
        answer = await h.command(kari, 'cohort edit cohort:"Mote 2026" name:"Kari 2026"')
        assert "Only staff" in answer[0]
        assert role_channel.name == "alumni-role-mote-2026"


async def test_translate_after_a_language_switch_renames_on_slack(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        introductions = h.fake.channel_by_name("alumni-introductions")
        staff_channel = h.fake.channel_by_name("alumni-role-staff")
        answer = await h.command(h.admin, "settings language:nb")
        assert "#introductions" in answer[0] and "/alumni translate" in answer[0]
        member = h.fake.add_user("kari", email="kari@example.com")
        refused = await h.command(member, "translate")
        assert "Bare ansatte" in refused[0]
        assert introductions.name == "alumni-introductions"
        answer = await h.command(h.admin, "translate")
        assert "- #introductions → #presentasjoner (og beskrivelsen)" in answer[0]
        assert introductions.name == "alumni-presentasjoner"
        description = t(Language.NB, "categories.introductions.description")
        assert introductions.topic == description[:250]
        assert staff_channel.name == "alumni-role-ansatt"
        group = usergroup(h, "Alumni ansatt")
        assert group["handle"] == "alumni-group-ansatt"
        again = await h.command(h.admin, "translate")
        assert "ingenting fikk nytt navn" in again[0]
