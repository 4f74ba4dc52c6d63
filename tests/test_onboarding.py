"""Onboarding through the local workspace: cohorts, invitations, codes, roster, requests, roles."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.app import build
from bot.core import CoreConfig
from bot.domain import Language
from bot.events import MemberJoined, UserRef
from storage.models import MemberRoleRow
from storage.uow import UnitOfWorkFactory
from tests.conftest import LocalGroup, make_group

COHORT = "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15"


def code_in(text: str) -> str:
    """The join code the bot printed."""
    match = re.search(r"`([A-Z0-9]{8})`", text)
    assert match, text
    return match.group(1)


def dms(group: LocalGroup, user: str) -> list[dict[str, object]]:
    return list(group.ws.state["dms"].get(user, []))


async def grants(group: LocalGroup, user: str) -> list[str]:
    async with group.uow() as uow:
        rows = await uow.session.scalars(
            select(MemberRoleRow.role_key).where(MemberRoleRow.user_id == user)
        )
        return sorted(rows)


async def test_the_issue_script_works_exactly(engine: AsyncEngine) -> None:
    # The issue was written on 2026-11-29; from there, +1000 days passes 2029-06-15.
    lines: list[str] = []
    terminal, _, _ = build(
        UnitOfWorkFactory(engine),
        state_path=None,
        out=lines.append,
        start=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
        config=CoreConfig(instance_id="test"),
    )
    for line in (
        "/alumni setup",
        COHORT,
        '/alumni invite cohort:"Fashion 2026" emails:kari@example.com',
        "!join kari kari@example.com",
    ):
        await terminal.line(line)
    start = len(lines)
    await terminal.line("!show roles kari")
    assert lines[start:] == ["kari: Fashion 2026, student"]
    await terminal.line("!clock +1000d")
    start = len(lines)
    await terminal.line("!show roles kari")
    assert lines[start:] == ["kari: Fashion 2026, alumni"]


async def test_graduation_date_in_the_past_and_duplicates_are_refused(group: LocalGroup) -> None:
    out = await group.run(
        "/alumni setup", "/alumni cohort create program:Fashion year:2020 graduates:2023-06-15"
    )
    assert "is not in the future" in out
    assert "Fashion 2020" not in [r["name"] for r in group.ws.state["roles"].values()]
    out = await group.run(COHORT, COHORT)
    assert out.count("Created the cohort Fashion 2026") == 1
    assert "already exists" in out
    names = [r["name"] for r in group.ws.state["roles"].values()]
    assert names.count("Fashion 2026") == 1


async def test_members_cannot_create_cohorts_or_invite_cohorts(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", COHORT, "!join kari", "!as kari", COHORT)
    assert "Only staff" in out
    out = await group.run('/alumni invite cohort:"Fashion 2026"')
    assert "Only staff" in out
    assert "Join code" not in out


async def test_newcomer_with_a_code_from_the_welcome_dm(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026"')
    code = code_in(out)
    assert "Ready to paste" in out and "local://join/" in out
    await group.run("!join ola")
    welcome = dms(group, "ola")[-1]
    labels = [b["label"] for b in welcome["buttons"]]  # type: ignore[union-attr]
    assert labels[:2] == ["I have a code", "I am a student"]
    assert "I am from the industry" in labels
    out = await group.run("!as ola", "!press I have a code")
    assert "[form for ola] Enter your join code" in out
    out = await group.run(f"!form code={code.lower()}")
    assert "You now have: student, Fashion 2026" in out
    assert group.ws.role_names("ola") == ["Fashion 2026", "student"]
    out = await group.run("!as owner", "/alumni whois member:ola")
    assert "Cohort: Fashion 2026" in out and "Invited by: owner" in out
    assert "Joined: 17 August 2026" in out


async def test_wrong_codes_lock_out_after_five_and_tell_staff(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026"')
    code = code_in(out)
    await group.run("!join ola", "!as ola")
    for n in range(4):
        out = await group.run("/alumni join code:WRONG123")
        assert f"({4 - n} tries left" in out
    out = await group.run("/alumni join code:WRONG123")
    assert "Code entry is locked" in out
    review = group.messages("staff-review")
    assert any("ola entered 5 wrong join codes" in str(m["text"]) for m in review)
    out = await group.run(f"/alumni join code:{code}")
    assert "Code entry is locked" in out
    assert group.ws.role_names("ola") == []
    # The lock lifts once the window has passed; the right code then works.
    out = await group.run("!clock +11m", f"/alumni join code:{code}")
    assert "You now have" in out


async def test_staff_code_is_single_use_and_codes_expire(group: LocalGroup) -> None:
    out = await group.run(
        "/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026" role:staff'
    )
    assert "works once" in out
    code = code_in(out)
    out = await group.run("!join tina", "!as tina", f"/alumni join code:{code}")
    assert "You now have: staff, Fashion 2026" in out
    out = await group.run("!join mallory", "!as mallory", f"/alumni join code:{code}")
    assert "used as often as it may" in out
    assert group.ws.role_names("mallory") == []
    out = await group.run("!as owner", '/alumni invite cohort:"Fashion 2026"')
    student_code = code_in(out)
    out = await group.run("!clock +31d", "!as mallory", f"/alumni join code:{student_code}")
    assert "has expired" in out
    assert group.ws.role_names("mallory") == []


async def test_used_code_again_changes_nothing(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026"')
    code = code_in(out)
    await group.run("!join ola", "!as ola", f"/alumni join code:{code}")
    out = await group.run(f"/alumni join code:{code}")
    assert "already used that code" in out
    assert await grants(group, "ola") == ["cohort:1", "student"]


async def test_friend_code_gives_industry_and_records_who_invited(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", "!join kari", "!as kari", "/alumni invite friend")
    assert "industry role" in out
    code = code_in(out)
    out = await group.run("!join nils", "!as nils", f"/alumni join code:{code}")
    assert "You now have: industry" in out
    assert group.ws.role_names("nils") == ["industry"]
    out = await group.run("!as owner", "/alumni whois member:nils")
    assert "Invited by: kari" in out


async def test_industry_is_granted_at_once(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", "!join ida", "!as ida", "!press I am from the industry")
    assert "You now have the role industry" in out
    assert group.ws.role_names("ida") == ["industry"]
    assert group.messages("staff-review") == []


async def test_student_request_goes_to_staff_and_requester_hears_the_outcome(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", COHORT, "!join per", "!as per", "!press I am a student")
    assert group.ws.role_names("per") == []
    out = await group.run('!form cohort="Fashion 2026"')
    assert "Staff will look at your request" in out
    assert group.ws.role_names("per") == []  # self-chosen trust never takes effect alone
    post = group.messages("staff-review")[-1]
    assert "per asks for the role student" in str(post["text"])
    assert [b["label"] for b in post["buttons"]] == ["Approve", "Deny"]  # type: ignore[union-attr]
    # A member who is not staff cannot approve, even with the button in hand.
    await group.run("!join kari", "!as kari")
    group.ws.state["buttons"]["kari"] = group.ws.state["buttons"]["*"]
    out = await group.run("!press Approve")
    # The button declares who may press it (`@button(permission=STAFF)`): the core refuses.
    assert "Only staff can use this button" in out
    assert group.ws.role_names("per") == []
    out = await group.run("!as owner", "!press Approve")
    assert "per got the role student (approved by owner)" in out
    assert group.ws.role_names("per") == ["Fashion 2026", "student"]
    assert "staff approved your request" in str(dms(group, "per")[-1]["text"])
    assert "approved by owner" in str(group.messages("staff-review")[-1]["text"])
    out = await group.run("!press Deny")
    assert "already decided" in out or "no such button" in out
    assert group.ws.role_names("per") == ["Fashion 2026", "student"]


async def test_denied_request_and_nobody_decides_their_own(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join tina", "/alumni role grant member:tina role:staff")
    # tina (staff) asks for alumni herself, from her welcome DM, and cannot approve it.
    await group.run("!as tina", "!press I am a graduate", "!form")
    group.ws.state["buttons"]["tina"] = group.ws.state["buttons"]["*"]
    out = await group.run("!press Approve")
    assert "can't decide your own request" in out
    assert "alumni" not in group.ws.role_names("tina")
    # per asks for alumni; tina denies it, and per is told.
    await group.run("!join per", "!as per", "!press I am a graduate", "!form")
    await group.run("!as tina")
    group.ws.state["buttons"]["tina"] = group.ws.state["buttons"]["*"]
    out = await group.run("!press Deny")
    assert "per's request for the role alumni was denied by tina" in out
    assert "did not approve" in str(dms(group, "per")[-1]["text"])
    assert group.ws.role_names("per") == []


async def test_roster_reports_invalid_lines_and_keeps_valid_ones(group: LocalGroup) -> None:
    out = await group.run(
        "/alumni setup",
        COHORT,
        '/alumni invite cohort:"Fashion 2026" '
        'emails:"name,email; Kari Nordmann,kari@example.com; not-an-email; '
        'ola@example.com, bad@@x; per@example"',
    )
    # Entries are numbered as typed, the header being the first.
    assert 'Line 3: "not-an-email" is not a valid email address' in out
    assert 'Line 4: "bad@@x"' in out and 'Line 5: "per@example"' in out
    assert "Roster: 2 valid addresses, 2 new" in out
    out = await group.run('/alumni cohort status cohort:"fashion 2026"')
    assert "On the roster: 2" in out and "Not joined yet: 2" in out
    assert "kari@example.com" in out and "ola@example.com" in out


async def test_duplicate_join_events_give_one_welcome_and_one_grant(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026" emails:k@x.no')
    group.ws.add_member("kari", "k@x.no")
    calls: list[tuple[str, ...]] = []
    real = group.ws.set_roles

    async def counting(gid: str, uid: str, add: object, remove: object) -> None:
        calls.append((uid,))
        await real(gid, uid, add, remove)  # type: ignore[arg-type]

    group.ws.set_roles = counting  # type: ignore[method-assign]
    event = MemberJoined("local", UserRef("kari", "kari"), "k@x.no", event_key="team_join:1")
    for _ in range(3):
        await group.bot.handle(event)
    again = MemberJoined("local", UserRef("kari", "kari"), "k@x.no", event_key="gateway:2")
    await group.bot.handle(again)
    assert len(dms(group, "kari")) == 1
    assert calls == [("kari",)]
    assert await grants(group, "kari") == ["cohort:1", "student"]


async def test_leaving_and_rejoining_keeps_cohort_and_history(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        COHORT,
        '/alumni invite cohort:"Fashion 2026" emails:"kari@example.com, ola@example.com"',
        "!join kari kari@example.com",
        "!join ola ola@example.com",
        "!leave kari",
    )
    out = await group.run('/alumni cohort status cohort:"Fashion 2026"')
    assert "In the group now: 1" in out
    group.ws.state["members"]["kari"]["roles"] = []  # platforms drop roles on leave
    out = await group.run("!join kari kari@example.com")
    assert "Welcome back! Your roles are restored: Fashion 2026, student" in out
    assert group.ws.role_names("kari") == ["Fashion 2026", "student"]
    out = await group.run(
        '/alumni cohort status cohort:"Fashion 2026"', "/alumni whois member:kari"
    )
    assert "In the group now: 2" in out
    assert "Cohort: Fashion 2026" in out and "Invited by: owner" in out


async def test_role_grant_and_revoke_are_staff_only(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT, "!join kari", "!join ola")
    out = await group.run("/alumni role grant member:kari role:student")
    assert "kari now has the role student" in out
    out = await group.run('/alumni role grant member:kari role:"Fashion 2026"')
    assert group.ws.role_names("kari") == ["Fashion 2026", "student"]
    out = await group.run("!as kari", "/alumni role grant member:ola role:staff")
    assert "Only staff" in out
    assert group.ws.role_names("ola") == []
    out = await group.run("!as owner", "/alumni role revoke member:kari role:student")
    assert "no longer has the role student" in out
    assert group.ws.role_names("kari") == ["Fashion 2026"]
    out = await group.run("/alumni role revoke member:kari role:student")
    assert "does not have the role" in out
    out = await group.run("/alumni role grant member:nobody role:student")
    assert 'There is no member "nobody"' in out
    out = await group.run("/alumni role grant member:kari role:wizard")
    assert 'There is no role "wizard"' in out


async def test_introduction_form_posts_in_introductions(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ida", "!as ida", "!press Introduce yourself")
    out = await group.run(
        '!form name="Ida Berg" programme="Fashion 2019" work="Pattern maker @everyone" '
        'looking="Interns"'
    )
    assert "posted in #introductions" in out
    post = group.messages("introductions")[-1]
    assert post["title"] == "Ida Berg"
    values = dict(tuple(f) for f in post["fields"])  # type: ignore[union-attr]
    assert values["Looking for"] == "Interns"
    assert "@everyone" not in values["What I do"]


async def test_welcome_in_norwegian(engine: AsyncEngine) -> None:
    group = make_group(engine, Language.NB)
    await group.run("/alumni setup", "!join kari")
    welcome = dms(group, "kari")[-1]
    assert welcome["title"] == "Velkommen til alumnigruppen!"
    assert "Jeg har en kode" in [b["label"] for b in welcome["buttons"]]  # type: ignore[union-attr]


async def test_cohort_unknown_is_explained(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2030"')
    assert 'There is no cohort "Fashion 2030". Cohorts: Fashion 2026' in out


async def test_grants_counted_by_role_rows(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ida", "!as ida", "!press I am from the industry")
    async with group.uow() as uow:
        n = await uow.session.scalar(select(func.count()).select_from(MemberRoleRow))
    assert n == 1


async def test_chosen_codes_are_checked(group: LocalGroup) -> None:
    out = await group.run(
        "/alumni setup", COHORT, '/alumni invite cohort:"Fashion 2026" code:FASHION26'
    )
    assert "Join code: `FASHION26`" in out
    out = await group.run('/alumni invite cohort:"Fashion 2026" code:fashion26')
    assert "already in use" in out
    out = await group.run('/alumni invite cohort:"Fashion 2026" code:"a!"')
    assert "can't be a join code" in out


async def test_a_roster_file_is_imported_and_bad_lines_reported(
    group: LocalGroup, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    roster = tmp_path / "fashion-2026.csv"
    roster.write_text(
        "name,email\nKari Nordmann,kari@example.com\nOla Hansen,ola@example\n"
        "Nils Berg,nils@example.com\n",
        encoding="utf-8",
    )
    await group.run("/alumni setup", "/alumni cohort create program:Fashion year:2026")
    out = await group.run(f'/alumni invite cohort:"Fashion 2026" roster:file:{roster}')
    assert "Roster: 2 valid addresses" in out
    assert 'Line 3: "Ola Hansen ola@example" is not a valid email address' in out
    out = await group.run("!join nils nils@example.com", "!show roles nils")
    assert "nils: Fashion 2026, student" in out
    out = await group.run(
        f'/alumni invite cohort:"Fashion 2026" roster:file:{tmp_path}/missing.csv'
    )
    assert "I could not read the file given as `roster`" in out


async def test_an_expired_code_is_told_as_such_and_never_locks_code_entry(
    group: LocalGroup,
) -> None:
    out = await group.run("/alumni setup", "!join kari", "!as kari", "/alumni invite friend")
    code = code_in(out)
    await group.run("!join nils", "!as nils", "!clock +31d")
    for _ in range(6):  # more than the five wrong codes that lock
        out = await group.run(f"/alumni join code:{code}")
        assert "That code has expired" in out and "tries left" not in out
    out = await group.run("/alumni join code:NOPE1234")
    assert "4 tries left" in out
    assert not [m for m in group.messages("staff-review") if "wrong join codes" in str(m["text"])]


async def test_approving_someone_who_left_says_so(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join per", "!as per", "!press I am a student")
    await group.run('!form cohort=""', "!leave per", "!as owner")
    out = await group.run("!press Approve")
    assert "per has left the group, so nothing changed on the platform" in out
    assert "per got the role" not in out
    assert "has left the group" in str(group.messages("staff-review")[-1]["text"])


async def test_roster_members_already_here_are_told_what_they_received(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", COHORT, "!join ola ola@example.com")
    before = len(dms(group, "ola"))
    await group.run('/alumni invite cohort:"Fashion 2026" emails:"ola@example.com"')
    assert group.ws.role_names("ola") == ["Fashion 2026", "student"]
    told = dms(group, "ola")[before:]
    assert [str(m["text"]) for m in told] == [
        "You are on the roster of Fashion 2026, so you now have: student, Fashion 2026."
    ]


async def test_a_second_cohort_role_asks_before_moving_the_graduation(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        COHORT,
        "/alumni cohort create program:Design year:2027 graduates:2030-06-15",
        "!join kari",
        '/alumni role grant member:kari role:"Fashion 2026"',
    )
    out = await group.run('/alumni role grant member:kari role:"Design 2027"')
    assert "kari now has the role Design 2027" in out
    assert "is in the cohort Fashion 2026 already" in out
    out = await group.run("/alumni whois member:kari")
    assert "Cohort: Fashion 2026" in out
    out = await group.run("!press Move to Design 2027")
    assert "kari is now in the cohort Design 2027 and graduates with it" in out
    out = await group.run("/alumni whois member:kari")
    assert "Cohort: Design 2027" in out


async def test_staff_list_live_codes_and_revoke_a_leaked_one(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT)
    await group.run('/alumni invite cohort:"Fashion 2026" code:FASHION26')
    out = await group.run("/alumni codes list")
    assert "`FASHION26`: Fashion 2026 (student), uses left: 250 of 250" in out
    assert "made by owner" in out
    out = await group.run("/alumni codes revoke code:FASHION26")
    assert "The code FASHION26 no longer works" in out
    out = await group.run("/alumni codes list")
    assert "No join codes work right now" in out
    out = await group.run("!join kari", "!as kari", "/alumni join code:FASHION26")
    assert "That code has been withdrawn" in out
    assert group.ws.role_names("kari") == []
    out = await group.run("/alumni codes list")  # a member may not see the codes
    assert "can run `/alumni codes list`. Nothing was changed." in out and "FASHION" not in out


async def test_staff_set_a_missing_graduation_date_and_archive_the_cohort(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "/alumni cohort create program:Fashion year:2026")
    out = await group.run('/alumni cohort edit cohort:"Fashion 2026" graduates:2029-06-15')
    assert "Fashion 2026 now graduates on 15 June 2029" in out
    out = await group.run("/alumni cohort list")
    assert "- Fashion 2026: 15 June 2029" in out
    out = await group.run('/alumni cohort archive cohort:"Fashion 2026"')
    assert "Fashion 2026 graduates on 15 June 2029; archive it once it has graduated" in out
    await group.run("!clock +1033d")  # graduation day has passed
    out = await group.run('/alumni cohort archive cohort:"Fashion 2026"')
    assert "Fashion 2026 is archived" in out
    out = await group.run("/alumni cohort list")
    assert "There are no cohorts yet" in out


async def test_staff_rename_a_cohort_and_its_role_everywhere(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT, "/alumni cohort create program:Design year:2025")
    out = await group.run(
        '/alumni cohort edit cohort:"Fashion 2026" name:"Fashion and Production 2026"'
    )
    assert "The cohort is now called Fashion and Production 2026, and so is its role." in out
    roles = sorted(r["name"] for r in group.ws.state["roles"].values())
    assert "Fashion and Production 2026" in roles and "Fashion 2026" not in roles
    out = await group.run("/alumni cohort list")
    assert "- Fashion and Production 2026: 15 June 2029" in out
    out = await group.run('/alumni cohort status cohort:"fashion and production 2026"')
    assert "Fashion and Production 2026" in out
    out = await group.run(
        '/alumni cohort edit cohort:"Fashion and Production 2026" name:"design 2025"'
    )
    assert "Another cohort is already called Design 2025" in out and "Nothing was changed." in out
    out = await group.run(f'/alumni cohort edit cohort:"Design 2025" name:"{"x" * 200}"')
    assert "`name` is too long: at most 100 characters." in out
    assert sorted(r["name"] for r in group.ws.state["roles"].values()) == roles
    out = await group.run(
        "!join kari", "!as kari", '/alumni cohort edit cohort:"Design 2025" name:Art'
    )
    assert "Only staff" in out
    assert "Art" not in [r["name"] for r in group.ws.state["roles"].values()]


async def test_a_cohort_renamed_in_norwegian(engine: AsyncEngine) -> None:
    group = make_group(engine, Language.NB)
    await group.run("/alumni setup", COHORT)
    out = await group.run('/alumni cohort edit cohort:"Fashion 2026" name:"Mote 2026"')
    assert "Kullet heter nå Mote 2026, og det gjør rollen også." in out
    out = await group.run('/alumni cohort edit cohort:"Mote 2026" name:"   "')
    assert "Gi Mote 2026 et nytt navn med bokstaver eller sifre" in out


async def test_archiving_a_cohort_ends_its_codes(group: LocalGroup) -> None:
    """An archived cohort is over: a class code of it still around (a poster, an old email)
    gives nobody its student role any more."""
    await group.run("/alumni setup", "/alumni cohort create program:Fashion year:2026")
    await group.run('/alumni invite cohort:"Fashion 2026" code:FASHION26')
    out = await group.run('/alumni cohort archive cohort:"Fashion 2026"')
    assert "Fashion 2026 is archived" in out
    assert "Its 1 code that still worked no longer works." in out, out
    out = await group.run("!join kari", "!as kari", "/alumni join code:FASHION26")
    assert "That code has been withdrawn" in out
    assert group.ws.role_names("kari") == []
