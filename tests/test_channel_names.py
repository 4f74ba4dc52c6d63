"""Messages name the channel the bot really posts in (issue 15 item 4): after a rename, in
Norwegian, and never a name baked into a catalogue string."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.render import message_parts
from adapters.slack.blocks import fallback_text, message_blocks
from bot.cogs.setup.defaults import DEFAULT_CATEGORIES
from bot.domain import Language
from bot.i18n import catalogue
from bot.messages import OutgoingMessage, link_channels
from tests.conftest import LocalGroup, make_group

INTRO = ('!form name="Ida Berg" programme="Fashion 2019" work="Pattern maker" looking="Interns"',)


def _default_names() -> set[str]:
    """Every built-in channel name, in both languages."""
    return {
        catalogue(lang)[f"categories.{c.key}.name"].lower().replace(" ", "-")
        for lang in Language
        for c in DEFAULT_CATEGORIES
    }


def _baked(lang: Language) -> dict[str, str]:
    """Catalogue strings that write a default channel's name after a "#"."""
    names = sorted(_default_names(), key=len, reverse=True)
    pattern = re.compile(r"#(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])")
    return {key: text for key, text in catalogue(lang).items() if pattern.search(text)}


@pytest.mark.parametrize("lang", list(Language))
def test_no_catalogue_bakes_in_a_channel_name(lang: Language) -> None:
    assert _baked(lang) == {}


def test_the_scan_finds_a_baked_name(monkeypatch: pytest.MonkeyPatch) -> None:
    baked = {**catalogue(Language.NB), "x.y": "Lagt ut i #presentasjoner."}
    monkeypatch.setattr("tests.test_channel_names.catalogue", lambda lang: baked)
    assert _baked(Language.NB) == {"x.y": "Lagt ut i #presentasjoner."}


async def test_after_a_rename_the_bot_names_the_new_channel(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        "/alumni categories rename category:introductions name:hello-class",
        "/alumni categories rename category:discussion name:talk",
        "/alumni categories rename category:showcase name:our-work",
        "/alumni prompt schedule day:wednesday time:18:30",
    )
    out = await group.run("/alumni prompt schedule")
    assert "A question goes to #talk every Wednesday" in out, out
    out = await group.run("/alumni prompt now")
    assert "Posted in #talk:" in out, out
    out = await group.run("!join ida", "!as ida", "!press Introduce yourself", *INTRO)
    assert "Your introduction is posted in #hello-class." in out, out
    assert group.messages("hello-class")[-1]["title"] == "Ida Berg"
    out = await group.run("/alumni update text:Started at Studio Nord")
    assert "Posted in #our-work" in out, out
    out = await group.run(
        "!as owner",
        "/alumni categories rename category:jobs name:careers-board",
        "!as ida",
        "/alumni post job",
        '!form title=Cutter employer=Nord place=Oslo deadline="1. oktober 2026"',
        "/alumni listings show",
    )
    assert "Posted in #careers-board (post 1)" in out, out
    assert "- #1 Job: Cutter (last day 1 October 2026) in #careers-board (ida)" in out, out


async def test_a_norwegian_group_names_its_own_channels(engine: AsyncEngine) -> None:
    group = make_group(engine, Language.NB)
    await group.run("/alumni setup", "!join ida", "!as ida", "!press Presenter deg")
    out = await group.run(*INTRO)
    assert "Presentasjonen din er lagt ut i #presentasjoner." in out, out
    out = await group.run("!as owner", "/alumni prompt schedule")
    assert "Et spørsmål legges ut i #diskusjon hver" in out, out


async def test_a_missing_channel_is_named_as_the_group_has_it(group: LocalGroup) -> None:
    out = await group.run("/alumni update text:Hello")  # before setup: no channel yet
    assert "The #showcase channel isn't set up yet" in out, out
    out = await group.run("/alumni prompt now")
    assert "either #discussion is missing" in out, out


def test_discord_and_slack_link_the_channel_a_message_names() -> None:
    said = OutgoingMessage(
        "Posted in #hello-class (not #hello). <#999> typed by a member stays text",
        fields=(("Where", "#hello-class"),),
        channels=(("hello-class", "123"), ("hello", "456")),
    )
    embed = message_parts(said)[0]["embed"].to_dict()
    assert embed["description"].startswith("Posted in <#123> (not <#456>).")
    assert [f["value"] for f in embed["fields"]] == ["<#123>"]
    blocks = message_blocks(replace(said, fields=()))
    assert blocks[0]["text"]["text"].startswith("Posted in <#123> (not <#456>). &lt;#999&gt;")
    assert fallback_text(said).startswith("Posted in <#123> (not <#456>). &lt;#999&gt;")
    # A name that only starts like a linked one is left alone; no channels, nothing changes.
    assert link_channels("#hello-world", (("hello", "1"),), lambda c: f"<#{c}>") == "#hello-world"
    assert message_parts(OutgoingMessage("in #jobs"))[0]["content"] == "in #jobs"


async def test_the_terminal_shows_the_name_the_platforms_link(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ida", "!as ida", "!press Introduce yourself")
    out = await group.run(*INTRO)
    assert "Your introduction is posted in #introductions." in out, out


async def test_a_channel_renamed_behind_the_bots_back_is_named_as_it_is_now(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "!rename #introductions hei-alle", "!join ida", "!as ida")
    out = await group.run("!press Introduce yourself", *INTRO)
    assert "Your introduction is posted in #hei-alle." in out, out
