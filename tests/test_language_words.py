"""Choices, kinds, themes and markers in the group's language: typed and shown."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.posts.views import shown
from bot.cogs.privacy.records import ERASED
from bot.domain import Language
from bot.messages import OutgoingMessage
from tests.conftest import LocalGroup, make_group


async def _norwegian_group_with_a_sale(engine: AsyncEngine) -> LocalGroup:
    g = make_group(engine, Language.NB)
    await g.run("/alumni setup", "!join ingrid", "!as ingrid", "/alumni post sale")
    await g.run('!form what="Juki symaskin" price="2500 kr"')
    return g


async def test_listings_salg_works_and_says_where_in_norwegian(engine: AsyncEngine) -> None:
    g = await _norwegian_group_with_a_sale(engine)
    out = await g.run("/alumni listings salg")
    assert "Til salgs: Juki symaskin" in out and "i #markedsplass" in out
    assert " in #" not in out
    # The English word works too (a bilingual staff), and a wrong one lists the Norwegian words.
    assert "Juki symaskin" in await g.run("/alumni listings sale")
    out = await g.run("/alumni listings sykkel")
    assert "jobb, utleie, arrangement, salg, lån, vis-frem eller artikkel" in out
    assert "rental" not in out


async def test_themes_are_typed_and_shown_in_norwegian(engine: AsyncEngine) -> None:
    g = make_group(engine, Language.NB)
    await g.run("/alumni setup")
    out = await g.run('/alumni prompt add theme:karriere text:"Hva var din første jobb?"')
    assert "Lagt i køen (karriere)" in out
    out = await g.run("/alumni prompt list")
    assert "[karriere] Hva var din første jobb?" in out and "[careers]" not in out
    out = await g.run('/alumni prompt add theme:sport text:"Ski eller fotball?"')
    assert "håndverk, studier, karriere, bransjen, kritikk, gruppen eller åpent" in out


async def test_an_invite_role_in_norwegian(engine: AsyncEngine) -> None:
    g = make_group(engine, Language.NB)
    await g.run("/alumni setup", "/alumni cohort create program:Mote year:2026")
    out = await g.run('/alumni invite cohort:"Mote 2026" role:ansatt code:ANSATT26')
    assert "(rolle: ansatt)" in out, out


def test_the_erasure_marker_in_the_groups_language() -> None:
    assert shown(Language.NB, f"Spør {ERASED} om nøkkelen") == "Spør [slettet] om nøkkelen"
    assert shown(Language.EN, f"Ask {ERASED}") == "Ask [erased]"


async def test_an_edited_dm_is_named_as_a_dm(engine: AsyncEngine) -> None:
    g = make_group(engine, Language.NB)
    await g.run("/alumni setup", "!join lise")
    ref = await g.ws.send_dm("local", "lise", OutgoingMessage("x"))
    start = len(g.lines)
    await g.ws.edit("local", ref, OutgoingMessage("y"))
    assert g.lines[start:] == ["[endret i direktemeldingen til lise] alumnibot: y"]
