"""Onboarding's texts written for the people who read them: the group's own programme in a
friend's invitation, a staff code's paste message for staff, classmates only for students."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import Language
from tests.conftest import LocalGroup, make_group

COHORT = "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15"


def code_in(text: str) -> str:
    match = re.search(r"`([A-Z0-9]{8})`", text)
    assert match, text
    return match.group(1)


def paste(text: str) -> str:
    """The ready-to-paste message: the line after "Ready to paste:" (or its translation)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "paste" in line or "lime inn" in line)
    return lines[at + 1]


async def test_a_friend_invitation_names_the_groups_own_programme(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join kari")
    out = await group.run("!as kari", "/alumni invite friend")
    # No programme set: the group is not called "Fashion and Production" (nor anything else).
    assert "Fashion and Production" not in out
    assert "Join me in our alumni group" in paste(out)
    out = await group.run("!as owner", '/alumni settings programme:"Textile Design"')
    assert "Programme: Textile Design" in out
    out = await group.run("!as kari", "/alumni invite friend")
    assert "the alumni group for Textile Design" in paste(out)
    # Only staff name the programme; a mention in it is defused.
    out = await group.run('/alumni settings programme:"Hacked"')
    assert "Only staff" in out
    out = await group.run("!as owner", '/alumni settings programme:"@everyone Design"')
    assert "@everyone" not in out
    out = await group.run("/alumni settings")
    assert "Programme:" in out


async def test_a_staff_code_paste_message_is_written_for_staff(group: LocalGroup) -> None:
    out = await group.run(
        "/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026" role:staff'
    )
    text = paste(out)
    assert "staff" in text and "only for you" in text, text
    assert "Welcome to the alumni group for Fashion 2026" not in text
    out = await group.run('/alumni invite cohort:"Fashion 2026"')
    assert "Welcome to the alumni group for Fashion 2026" in paste(out)


async def test_only_students_are_told_about_classmates(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026"')
    student = code_in(out)
    out = await group.run('/alumni invite cohort:"Fashion 2026" role:staff')
    staff = code_in(out)
    friend = code_in(await group.run("!join kari", "!as kari", "/alumni invite friend"))
    out = await group.run("!join ola", "!as ola", f"/alumni join code:{student}")
    assert "classmates can put a face to a name" in out
    out = await group.run("!join tina", "!as tina", f"/alumni join code:{staff}")
    assert "You now have" in out and "classmates" not in out
    out = await group.run("!join nils", "!as nils", f"/alumni join code:{friend}")
    assert "You now have" in out and "classmates" not in out
    # A roster welcome: classmates for a student on it, not for staff.
    await group.run(
        "!as owner",
        '/alumni invite cohort:"Fashion 2026" emails:"per@example.com"',
        '/alumni invite cohort:"Fashion 2026" role:staff emails:"lise@example.com"',
    )
    await group.run("!join per per@example.com", "!join lise lise@example.com")
    per = str(group.ws.state["dms"]["per"][-1]["text"])
    lise = str(group.ws.state["dms"]["lise"][-1]["text"])
    assert "classmates can put a face to a name" in per, per
    assert "roster" in lise and "classmates" not in lise, lise


async def test_the_texts_in_norwegian(engine: AsyncEngine) -> None:
    group = make_group(engine, Language.NB)
    await group.run("/alumni setup", "!join kari", '/alumni settings programme:"Tekstildesign"')
    out = await group.run("!as kari", "/alumni invite friend")
    assert "alumnigruppen for Tekstildesign" in out, out
    out = await group.run("!as owner", COHORT, '/alumni invite cohort:"Fashion 2026" role:staff')
    assert "bare til deg" in out, out
