"""Profiles, the directory and career updates, through the local workspace."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.terminal import LocalResponder
from adapters.local.workspace import GROUP_ID
from bot.cogs.profiles import views
from bot.cogs.profiles.service import ProfilesService
from bot.domain import Language
from bot.events import FormSubmitted, UserRef
from storage.database import create_engine, upgrade
from tests.conftest import LocalGroup, make_group

KARI_FORM = (
    '!form headline="Knitwear designer" programme="Fashion and Production 2015" '
    'work="Designer at Holzweiler" skills="knitwear, natural dyes" '
    "link=https://kari.example.com"
)


async def _kari(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        "!join kari kari@example.com",
        "!join lise lise@example.com",
        "!as kari",
        "/alumni profile",
        KARI_FORM,
        "/alumni profile mentoring open:yes",
    )


async def _submit(group: LocalGroup, user: str, **values: str) -> str:
    """Submit the profile form as a platform would, without the terminal's own length check."""
    start = len(group.lines)
    await group.bot.handle(
        FormSubmitted(
            GROUP_ID,
            UserRef(user, user),
            "profile",
            values,
            "",
            LocalResponder(group.ws, user, None),
        )
    )
    return "\n".join(group.lines[start:])


async def test_the_form_is_stored_and_others_see_it_without_the_email(group: LocalGroup) -> None:
    await _kari(group)
    own = await group.run("/alumni profile show")
    assert "Headline: Knitwear designer" in own
    assert "Email (only you see this): kari@example.com" in own
    other = await group.run("!as lise", "/alumni profile show member:kari")
    assert "Current work: Designer at Holzweiler" in other
    assert "Portfolio: https://kari.example.com" in other
    assert "Open to mentoring: yes" in other
    assert "kari@example.com" not in other
    # The form opens again filled in with what was saved.
    form = await group.run("!as kari", "/alumni profile")
    assert group.ws.state["forms"]["kari"]["fields"][0]["default"] == "Knitwear designer"
    assert "Your profile" in form


async def test_profile_lines_for_whois_hide_private_fields(group: LocalGroup) -> None:
    await _kari(group)
    g = await group.bot.group(GROUP_ID)
    profiles = group.bot.service(ProfilesService)

    async def profile_lines(viewer: str, user_id: str) -> list[str]:
        [view] = await profiles.seen_by(g, viewer, [user_id])
        return views.lines(g.language, view)

    lines = await profile_lines("lise", "kari")
    assert "Headline: Knitwear designer" in lines
    assert not any("kari@example.com" in line for line in lines)
    assert "Email (only you see this): kari@example.com" in await profile_lines("kari", "kari")
    assert await profile_lines("kari", "lise") == []


async def test_overlong_field_is_refused_with_its_limit_and_nothing_changes(
    group: LocalGroup,
) -> None:
    await _kari(group)
    out = await _submit(group, "kari", headline="x" * 150, work="Somewhere else")
    assert "Headline is too long (150 characters): at most 100" in out
    shown = await group.run("/alumni profile show")
    assert "Designer at Holzweiler" in shown and "Somewhere else" not in shown


async def test_links_must_be_web_addresses(group: LocalGroup) -> None:
    await _kari(group)
    for bad in ("javascript:alert(1)", "kari.example.com", "ftp://files.example.com", "https://x"):
        out = await _submit(group, "kari", headline="New", link=bad)
        assert "is not a web address" in out, bad
    assert "Headline: Knitwear designer" in await group.run("/alumni profile show")
    out = await _submit(group, "kari", headline="New", link="http://portfolio.example.no/a?b=1")
    assert "Your profile is saved" in out
    assert "Portfolio: http://portfolio.example.no/a?b=1" in await group.run("/alumni profile show")


async def test_mentoring_is_its_own_yes_or_no_and_an_edit_keeps_every_saved_value(
    group: LocalGroup,
) -> None:
    await _kari(group)
    out = await group.run("/alumni profile mentoring open:maybe")
    assert '`open` must be yes or no, not "maybe"' in out
    # The form has five fields (it fits a Discord modal) and no mentoring field to reset.
    await group.run("/alumni profile")
    assert [f["name"] for f in group.ws.state["forms"]["kari"]["fields"]] == [
        "headline",
        "programme",
        "work",
        "skills",
        "link",
    ]
    await group.run("/alumni update text:Head of knit!")
    saved = await _submit(group, "kari", headline="Knitwear lead")
    assert "Open to mentoring: yes" in saved
    shown = await group.run("/alumni profile show")
    assert "Open to mentoring: yes" in shown and "Latest update: Head of knit!" in shown
    assert "Headline: Knitwear lead" in shown
    # The buttons under the saved profile change it, and the profile says so.
    await group.run("!press not open to mentoring")
    assert "Open to mentoring" not in await group.run("/alumni profile show")


async def test_find_searches_names_skills_employers_and_cohorts(group: LocalGroup) -> None:
    await _kari(group)
    await group.run(
        "!join marte",
        "!as marte",
        "/alumni profile",
        '!form headline="Pattern cutter" programme="Fashion and Production 2021" '
        'work="Freelance in Oslo" skills="pattern cutting, knitwear"',
    )
    both = await group.run("/alumni find knitwear")
    assert "2 members match" in both and "**kari**" in both and "**marte**" in both
    one = await group.run("/alumni find knitwear oslo")
    assert "1 member matches" in one and "**marte**" in one and "**kari**" not in one
    assert "**kari**" in await group.run("/alumni find holzweiler")
    assert "**kari**" in await group.run("/alumni find 2015")
    assert "**marte**" in await group.run("/alumni find MARTE")
    none = await group.run("/alumni find crochet")
    assert 'Nobody matches "crochet"' in none
    assert "The option `text` is required" in await group.run("/alumni find")


async def test_update_goes_to_showcase_and_stays_on_the_profile(group: LocalGroup) -> None:
    await _kari(group)
    out = await group.run("/alumni update I joined Holzweiler as head of knit @everyone")
    assert "Posted in #showcase" in out
    posted = group.messages("showcase")[-1]
    assert posted["title"] == "Career update from kari"
    assert "I joined Holzweiler as head of knit" in str(posted["text"])
    assert "@everyone" not in str(posted["text"])
    seen = await group.run("!as lise", "/alumni profile show member:kari")
    assert "Latest update: I joined Holzweiler as head of knit" in seen
    # An update before filling in the form still keeps a profile, and the form keeps the update.
    await group.run("/alumni update text:First internship!")
    await group.run("/alumni profile", '!form headline="Student"')
    assert "Latest update: First internship!" in await group.run("/alumni profile show")


async def test_update_needs_the_showcase_channel(group: LocalGroup) -> None:
    out = await group.run("!join kari", "!as kari", "/alumni update text:hello")
    assert "#showcase channel isn't set up yet" in out


async def test_unknown_member_and_missing_profile(group: LocalGroup) -> None:
    await _kari(group)
    assert 'I don\'t know a member called "nobody"' in await group.run(
        "/alumni profile show member:nobody"
    )
    assert "lise has not filled in a profile yet" in await group.run(
        "/alumni profile show member:lise"
    )


async def test_norwegian_group_gets_norwegian_profiles(engine: AsyncEngine) -> None:
    nb = make_group(engine, Language.NB)
    await nb.run("/alumni setup", "!join kari kari@example.com", "!as kari", "/alumni profile")
    out = await nb.run('!form headline="Strikkedesigner" link=nettside')
    assert "«nettside» er ikke en nettadresse" in out
    await nb.run(
        "/alumni profile", '!form headline="Strikkedesigner"', "!press åpen for mentoroppdrag"
    )
    shown = await nb.run("/alumni profile show")
    assert "Overskrift: Strikkedesigner" in shown and "Åpen for mentoroppdrag: ja" in shown


async def _directory(group: LocalGroup) -> None:
    """Kari (a profile, programme 2015), Åse (cohort Fashion 2026, no profile), René (Tromsø)."""
    await _kari(group)
    out = await group.run(
        "!as owner",
        "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15",
        '/alumni invite cohort:"Fashion 2026"',
    )
    code = re.search(r"`([A-Z0-9]{8})`", out)
    assert code, out
    out = await group.run("!join Åse", "!as åse", f"/alumni join code:{code.group(1)}")
    assert "Fashion 2026" in out or "student" in out, out
    await group.run(
        "!join René",
        "!as rené",
        "/alumni profile",
        '!form headline="Økologisk strikk" work="Eget studio i Tromsø" skills="Søm, tøy"',
    )


async def _find_finds_cohorts_names_and_letters_as_people_type_them(group: LocalGroup) -> None:
    await _directory(group)
    fashion = await group.run("/alumni find fashion")
    # The cohort finds Åse, who has no profile yet; Kari's programme finds her.
    assert "2 members match" in fashion and "**Åse**" in fashion and "**kari**" in fashion
    assert "Fashion 2026" in fashion  # what Åse's line says about her
    one = await group.run("/alumni find FASHION 2026")
    assert "1 member matches" in one and "**Åse**" in one and "**kari**" not in one
    # Case and accents as people type them on any keyboard.
    for typed, who in {
        "ase": "**Åse**",
        "ÅSE": "**Åse**",
        "rene": "**René**",
        "tromso": "**René**",
        "OKOLOGISK": "**René**",
        "søm": "**René**",
        "natural dyes": "**kari**",
    }.items():
        out = await group.run(f"/alumni find {typed}")
        assert who in out and "1 member matches" in out, (typed, out)
    gone = await group.run("!leave åse", "/alumni find fashion 2026")
    assert "Nobody" in gone


async def test_find_finds_cohorts_names_and_letters_as_people_type_them(
    group: LocalGroup,
) -> None:
    await _find_finds_cohorts_names_and_letters_as_people_type_them(group)


async def test_find_finds_the_same_on_postgresql(pg_url: str) -> None:
    eng = create_engine(pg_url)
    try:
        await upgrade(eng)
        await _find_finds_cohorts_names_and_letters_as_people_type_them(make_group(eng))
    finally:
        await eng.dispose()
