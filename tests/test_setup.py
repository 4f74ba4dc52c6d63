"""`/alumni setup`, categories and settings through the local workspace."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import Language
from bot.i18n import t
from tests.conftest import LocalGroup, make_group

EXPECTED_EN = [
    "welcome",
    "announcements",
    "introductions",
    "discussion",
    "jobs",
    "studio-rentals",
    "events",
    "marketplace",
    "borrow-and-lend",
    "showcase",
    "articles",
    "staff-review",
]


async def test_setup_creates_exactly_the_channels_and_roles(group: LocalGroup) -> None:
    out = await group.run("/alumni setup")
    assert group.channel_names() == EXPECTED_EN
    roles = sorted(r["name"] for r in group.ws.state["roles"].values())
    assert roles == ["alumni", "discussion", "industry", "staff", "student"]
    assert "Created: @student" in out and "#staff-review" in out
    announcements = group.ws.state["channels"][group.ws.channel_by_name("announcements")]
    assert announcements["posting"] == "staff"
    assert announcements["topic"].startswith("Recommendations")
    review = group.ws.state["channels"][group.ws.channel_by_name("staff-review")]
    assert review["visibility"] == "staff"
    assert all(c["topic"] for c in group.ws.state["channels"].values())


async def test_second_run_creates_nothing(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    before = dict(group.ws.state["channels"]), dict(group.ws.state["roles"])
    out = await group.run("/alumni setup")
    assert (group.ws.state["channels"], group.ws.state["roles"]) == before
    assert "Created" not in out
    assert "Already there" in out


async def test_deleted_channel_is_recreated_and_renamed_one_is_not_duplicated(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "!delete #articles", "!rename #jobs job-board")
    out = await group.run("/alumni setup")
    names = group.channel_names()
    assert names.count("articles") == 1
    assert "job-board" in names and "jobs" not in names
    assert len(names) == len(EXPECTED_EN)
    assert "Created: #articles" in out


async def test_drifted_permissions_are_repaired(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    cid = group.ws.channel_by_name("announcements")
    group.ws.state["channels"][cid]["posting"] = "members"
    out = await group.run("/alumni setup")
    assert "Repaired (description, permissions or mentions): #announcements" in out
    assert group.ws.state["channels"][cid]["posting"] == "staff"


async def test_a_student_cannot_run_setup(group: LocalGroup) -> None:
    out = await group.run("!join lise", "!as lise", "/alumni setup")
    assert "Only staff can run `/alumni setup`" in out
    assert group.channel_names() == []


async def test_norwegian_names_when_the_group_speaks_nb(engine: AsyncEngine) -> None:
    nb = make_group(engine, Language.NB)
    out = await nb.run("/alumni setup")
    assert "Oppsettet er ferdig" in out
    assert nb.channel_names()[:4] == ["velkommen", "kunngjøringer", "presentasjoner", "diskusjon"]
    assert "ansatt" in [r["name"] for r in nb.ws.state["roles"].values()]


async def test_language_switch_names_new_channels_in_norwegian(group: LocalGroup) -> None:
    out = await group.run("/alumni settings language:nb", "/alumni setup")
    assert "Språk: nb" in out
    assert "velkommen" in group.channel_names()
    out = await group.run("/alumni settings language:de")
    assert "`language` må være en av en eller nb" in out


async def test_categories_add_rename_remove(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    out = await group.run('/alumni categories add name:"Sustainability Talk" description:"Repair"')
    assert "#sustainability-talk" in out
    assert "sustainability-talk" in group.channel_names()
    out = await group.run("/alumni categories rename category:sustainability-talk name:circular")
    assert "circular" in group.channel_names()
    out = await group.run("/alumni categories remove category:circular")
    assert "no longer a category" in out
    assert "circular" in group.channel_names()  # the channel and its messages stay
    out = await group.run("/alumni categories list")
    assert "circular" not in out
    out = await group.run("/alumni categories remove category:discussion")
    assert "can't be removed" in out


async def test_bad_input_gets_a_clear_message(group: LocalGroup) -> None:
    out = await group.run("/alumni categories add")
    assert "The option `name` is required" in out
    out = await group.run('/alumni categories add name:"!!!"')
    assert "can't be a channel name" in out
    out = await group.run("/alumni frobnicate")
    assert "I don't know the command `frobnicate`" in out
    out = await group.run("/alumni categories")
    assert "needs one more word" in out
    out = await group.run("/alumni categories add name:x colour:red")
    assert "no option `colour`" in out
    out = await group.run('/alumni categories add name:"unterminated')
    assert "quotation mark" in out
    out = await group.run("/alumni settings timezone:Mars/Olympus")
    assert "I don't know the timezone" in out
    out = await group.run("/alumni categories add name:" + "x" * 81)
    assert "at most 80 characters" in out


async def test_help_lists_only_what_the_caller_may_run(group: LocalGroup) -> None:
    owner = await group.run("/alumni help")
    assert "/alumni setup" in owner
    member = await group.run("!join kari", "!as kari", "/alumni help")
    assert "/alumni setup" not in member and "/alumni help" in member


async def test_member_text_cannot_ping_everyone(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    out = await group.run('/alumni categories add name:topic description:"@everyone look <!here>"')
    assert "@everyone" not in str(group.ws.state["channels"])
    assert "#topic" in out


async def test_switching_language_offers_translate_which_renames_once_and_keeps_own_names(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "/alumni categories rename category:jobs name:job-board")
    out = await group.run("/alumni settings language:nb")
    assert "botens navn eller beskrivelser fra det andre språket: #welcome, #announcements" in out
    assert "@staff" in out and "#job-board" in out  # its name is theirs, its description ours
    assert "Kjør `/alumni translate` for å gi dem navn på norsk bokmål" in out
    out = await group.run("!join kari", "!as kari", "/alumni translate", "!as owner")
    assert "translate" in out and "Bare ansatte" in out
    assert "introductions" in group.channel_names()
    out = await group.run("/alumni translate")
    assert "Nye navn på norsk bokmål:" in out
    assert "- #introductions → #presentasjoner (og beskrivelsen)" in out
    assert "- @staff → @ansatt" in out and "- @industry → @bransje" in out
    assert "- #job-board: ny beskrivelse" in out
    # The section the channels sit in follows: no "Alumni group" left in a Norwegian group.
    assert "- Alumni group → Alumnigruppe" in out
    assert {c["section"] for c in group.ws.state["channels"].values()} == {"Alumnigruppe"}
    assert "Beholdt slik dere navnga dem: #job-board" in out
    names = group.channel_names()
    assert "presentasjoner" in names and "kunngjøringer" in names and "job-board" in names
    assert "introductions" not in names and "jobb" not in names
    presentations = group.ws.state["channels"][group.ws.channel_by_name("presentasjoner")]
    assert presentations["topic"] == t(Language.NB, "categories.introductions.description")
    roles = sorted(r["name"] for r in group.ws.state["roles"].values())
    assert roles == ["alumni", "ansatt", "bransje", "diskusjon", "student"]
    out = await group.run("/alumni categories list")
    assert "#presentasjoner" in out and "#introductions" not in out
    before = (dict(group.ws.state["channels"]), dict(group.ws.state["roles"]))
    out = await group.run("/alumni translate")
    assert "Alt boten har navngitt, er allerede på norsk bokmål: ingenting fikk nytt navn." in out
    assert (dict(group.ws.state["channels"]), dict(group.ws.state["roles"])) == before
    out = await group.run("/alumni setup")  # setup keeps the new names: nothing made twice
    assert "Opprettet" not in out and len(group.channel_names()) == len(EXPECTED_EN)
    out = await group.run("/alumni settings language:en")
    assert "#presentasjoner" in out and "`/alumni translate`" in out
    out = await group.run("/alumni translate")
    assert "- #presentasjoner → #introductions (and its description)" in out
    assert "introductions" in group.channel_names()
