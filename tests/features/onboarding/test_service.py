"""Onboarding's services: each use case and its refusals, on the in-memory unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import pytest

from bot.cogs.members.service import MembersService
from bot.cogs.onboarding.codes import FRIEND_CODE_USES, LOCK_ATTEMPTS
from bot.cogs.onboarding.cohorts import CohortService
from bot.cogs.onboarding.graduation import GraduationService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.invitations import InvitationService
from bot.cogs.onboarding.join import JoinService
from bot.cogs.onboarding.records import (
    CodeKind,
    JoinKind,
    RequestStatus,
    RoleChange,
    UseState,
    Verdict,
    cohort_key,
    cohort_of,
    graduating_cohort,
    graduation_batch,
)
from bot.cogs.onboarding.requests import RequestService
from bot.cogs.onboarding.roles import RoleService
from bot.domain import Actor, Cohort, Permission
from bot.errors import PlatformError, UserError
from bot.events import MemberJoined, UserRef
from tests.features.helpers import INGRID, OLA, STAFF, World, world
from tests.features.people import join

KARI = Actor("kari", "Kari", Permission.MEMBER)


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group of its own."""
    async with world() as it:
        yield it


async def _cohort(w: World, graduates: date | None = date(2029, 6, 15)) -> Cohort:
    made = await w.bot.service(CohortService).create(w.group, STAFF, "Fashion", 2026, graduates)
    return made.cohort


def _user(actor: Actor) -> UserRef:
    return UserRef(actor.id, actor.name)


async def _arrive(w: World, actor: Actor, email: str | None = None, key: str = "") -> object:
    """The actor joins the platform and the bot hears it."""
    w.ws.add_member(actor.name, email)
    event = MemberJoined(w.group.id, _user(actor), email=email, event_key=key or actor.id)
    return await w.bot.service(JoinService).joined(w.group, event)


def _dms(w: World, user_id: str) -> list[dict[str, object]]:
    return list(w.ws.state["dms"].get(user_id, []))


# -- records ------------------------------------------------------------------------------


def test_cohort_ids_and_graduation_batches_are_parsed_not_sliced() -> None:
    assert cohort_of(cohort_key(12)) == 12
    assert cohort_of("student") is None and cohort_of("cohort:x") is None
    assert graduating_cohort(graduation_batch(3)) == 3
    assert graduating_cohort("roster:3:ab") is None
    assert Verdict("approve").status is RequestStatus.APPROVED
    with pytest.raises(ValueError):
        Verdict("maybe")


# -- cohorts ------------------------------------------------------------------------------


async def test_create_makes_the_cohort_and_its_role_once(w: World) -> None:
    svc = w.bot.service(CohortService)
    c = await _cohort(w)
    assert (c.name, c.graduates_on) == ("Fashion 2026", date(2029, 6, 15))
    async with w.uow() as uow:
        role = await uow.roles.get(w.group.id, cohort_key(c.id))
    assert role is not None and role.platform_id in w.ws.state["roles"]
    with pytest.raises(UserError) as again:
        await svc.create(w.group, STAFF, "Fashion", 2026, None)
    assert again.value.key == "onboarding.cohort_exists"


async def test_create_again_repairs_a_role_deleted_on_the_platform(w: World) -> None:
    c = await _cohort(w)
    async with w.uow() as uow:
        role = await uow.roles.get(w.group.id, cohort_key(c.id))
    assert role is not None and role.platform_id
    del w.ws.state["roles"][role.platform_id]
    made = await w.bot.service(CohortService).create(w.group, STAFF, "Fashion", 2026, None)
    assert made.role_repaired and made.cohort.id == c.id


async def test_create_refuses_an_empty_programme_and_a_past_date(w: World) -> None:
    svc = w.bot.service(CohortService)
    with pytest.raises(UserError) as empty:
        await svc.create(w.group, STAFF, "  @everyone  ".replace("@everyone", ""), 2026, None)
    assert empty.value.key == "onboarding.program_empty"
    today = w.bot.clock.now().date()
    with pytest.raises(UserError) as past:
        await svc.create(w.group, STAFF, "Fashion", 2026, today)
    assert past.value.key == "onboarding.graduates_past"
    assert await svc.all(w.group) == []


async def test_a_cohort_made_without_a_date_graduates_once_it_has_one(w: World) -> None:
    c = await _cohort(w, graduates=None)
    svc = w.bot.service(CohortService)
    with pytest.raises(UserError) as nothing:
        await svc.edit(w.group, c.name, None)
    assert nothing.value.key == "onboarding.cohort_edit_nothing"
    with pytest.raises(UserError) as past:
        await svc.edit(w.group, c.name, w.bot.clock.now().date())
    assert past.value.key == "onboarding.graduates_past"
    edited = await svc.edit(w.group, c.name, date(2026, 9, 1))
    assert edited.graduates_on == date(2026, 9, 1)
    await join(w, KARI, None, "student", cohort_key(c.id))
    async with w.uow() as uow:
        await uow.cohorts.set_member_cohort(w.group.id, "kari", c.id)
    assert await w.bot.service(GraduationService).graduate(w.group, date(2026, 9, 1))
    assert w.ws.role_names("kari") == ["Fashion 2026", "alumni"]
    with pytest.raises(UserError) as done:  # a graduation that ran is never undone
        await svc.edit(w.group, c.name, date(2030, 1, 1))
    assert done.value.key == "onboarding.cohort_graduated_already"


async def _role(w: World, cohort: Cohort) -> tuple[str, str]:
    """The cohort role's stored name and its name on the platform."""
    async with w.uow() as uow:
        role = await uow.roles.get(w.group.id, cohort_key(cohort.id))
    assert role is not None and role.platform_id
    return role.name, w.ws.state["roles"][role.platform_id]["name"]


async def test_renaming_a_cohort_renames_its_role_and_find_follows(w: World) -> None:
    c = await _cohort(w, graduates=None)
    svc = w.bot.service(CohortService)
    renamed = await svc.edit(w.group, "fashion 2026", name="  Fashion and   Production 2026 ")
    assert (renamed.id, renamed.name, renamed.program) == (
        c.id,
        "Fashion and Production 2026",
        c.program,
    )
    assert await _role(w, c) == ("Fashion and Production 2026", "Fashion and Production 2026")
    assert (await svc.find(w.group, "fashion and production 2026")).id == c.id
    both = await svc.edit(w.group, renamed.name, date(2029, 6, 15), "Mote 2026")
    assert (both.name, both.graduates_on) == ("Mote 2026", date(2029, 6, 15))
    assert await _role(w, c) == ("Mote 2026", "Mote 2026")
    # Another cohort may now take the old name: the name, not the old programme, finds it.
    design = await svc.create(w.group, STAFF, "Design", 2025, None)
    await svc.edit(w.group, "Design 2025", name="Fashion 2026")
    assert (await svc.find(w.group, "Fashion 2026")).id == design.cohort.id


async def test_a_rename_is_refused_for_bad_names_and_another_cohorts_name(w: World) -> None:
    c = await _cohort(w)
    svc = w.bot.service(CohortService)
    design = await svc.create(w.group, STAFF, "Design", 2025, None)
    cases = [
        ("   ", "onboarding.cohort_name_empty"),
        ("!!!", "onboarding.cohort_name_empty"),
        ("x" * 101, "onboarding.cohort_name_too_long"),
        ("DESIGN 2025", "onboarding.cohort_name_taken"),
        ("design-2025", "onboarding.cohort_name_taken"),
    ]
    for bad, key in cases:
        with pytest.raises(UserError) as refused:
            await svc.edit(w.group, c.name, name=bad)
        assert refused.value.key == key, bad
    assert refused.value.params["other"] == design.cohort.name
    # A cohort called "Staff" would hand its students a role that reads as staff's (in either
    # language, whatever the group named its roles).
    for trusted in ("Staff", "ansatt", "alumni"):
        with pytest.raises(UserError) as refused:
            await svc.edit(w.group, c.name, name=trusted)
        assert refused.value.key == "onboarding.cohort_name_role", trusted
    assert (await svc.find(w.group, c.name)).name == "Fashion 2026"
    assert await _role(w, c) == ("Fashion 2026", "Fashion 2026")
    # Member text never pings, in the cohort's name or its role's.
    pinged = await svc.edit(w.group, c.name, name="@everyone 2026")
    assert "@everyone" not in pinged.name and "everyone" in pinged.name
    assert "@everyone" not in (await _role(w, c))[1]


async def test_a_new_cohort_may_not_take_a_renamed_cohorts_name(w: World) -> None:
    """ "Design 2027" made by a rename is that cohort's: creating Design 2027 (any case) would
    give the group two cohorts, and two roles, that no one can tell apart."""
    c = await _cohort(w)
    svc = w.bot.service(CohortService)
    await svc.edit(w.group, c.name, name="Design 2027")
    for program in ("Design", "design"):
        with pytest.raises(UserError) as refused:
            await svc.create(w.group, STAFF, program, 2027, None)
        assert refused.value.key == "onboarding.cohort_exists"
        assert refused.value.params["cohort"] == "Design 2027"
    assert [x.name for x in await svc.all(w.group)] == ["Design 2027"]


async def test_a_platform_refusing_the_rename_changes_nothing(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await _cohort(w)
    svc = w.bot.service(CohortService)

    async def refuse(group_id: str, role_id: str, name: str) -> None:
        raise PlatformError("slack: name_taken")

    monkeypatch.setattr(w.ws, "rename_role", refuse)
    with pytest.raises(UserError) as refused:
        await svc.edit(w.group, c.name, date(2030, 1, 1), "Design 2026")
    assert refused.value.key == "onboarding.cohort_name_refused"
    assert refused.value.params["detail"] == "slack: name_taken"
    kept = await svc.find(w.group, "Fashion 2026")
    assert (kept.name, kept.graduates_on) == ("Fashion 2026", date(2029, 6, 15))
    assert await _role(w, c) == ("Fashion 2026", "Fashion 2026")

    async def no_permission(group_id: str, role_id: str, name: str) -> None:
        raise PlatformError("missing Manage Roles", missing_permission="manage_roles")

    monkeypatch.setattr(w.ws, "rename_role", no_permission)
    with pytest.raises(PlatformError):  # the core names the permission to the member
        await svc.edit(w.group, c.name, name="Design 2026")
    assert (await svc.find(w.group, "Fashion 2026")).name == "Fashion 2026"


async def test_a_rename_the_database_refuses_renames_the_role_back(w: World) -> None:
    c = await _cohort(w)
    svc = w.bot.service(CohortService)
    async with w.uow() as uow:  # graduated meanwhile, by another process
        await uow.cohorts.mark_graduated(w.group.id, c.id, w.bot.clock.now())
    real = svc.find

    async def stale(group: object, wanted: str) -> Cohort:
        return replace(await real(w.group, wanted), graduated_at=None)

    svc.find = stale  # type: ignore[method-assign]
    with pytest.raises(UserError) as refused:
        await svc.edit(w.group, c.name, date(2030, 1, 1), "Design 2026")
    assert refused.value.key == "onboarding.cohort_graduated_already"
    assert await _role(w, c) == ("Fashion 2026", "Fashion 2026")


async def test_archive_hides_a_finished_cohort_from_the_list_only(w: World) -> None:
    c = await _cohort(w)
    svc = w.bot.service(CohortService)
    with pytest.raises(UserError) as early:
        await svc.archive(w.group, c.name)
    assert early.value.key == "onboarding.cohort_not_finished"
    async with w.uow() as uow:
        await uow.cohorts.mark_graduated(w.group.id, c.id, w.bot.clock.now())
    await svc.archive(w.group, c.name)
    assert await svc.all(w.group) == []
    assert (await svc.find(w.group, c.name)).archived_at is not None  # still there
    with pytest.raises(UserError) as again:
        await svc.archive(w.group, c.name)
    assert again.value.key == "onboarding.cohort_archived_already"


async def test_an_archived_cohort_is_no_longer_suggested(w: World) -> None:
    c = await _cohort(w)
    owner = UserRef(STAFF.id, STAFF.name, is_admin=True)
    words = ("invite", "cohort")
    assert await w.bot.suggest(w.group.id, owner, words, "cohort", "") == [(c.name, c.name)]
    async with w.uow() as uow:
        await uow.cohorts.mark_graduated(w.group.id, c.id, w.bot.clock.now())
    await w.bot.service(CohortService).archive(w.group, c.name)
    assert await w.bot.suggest(w.group.id, owner, words, "cohort", "") == []


async def test_find_names_the_cohorts_there_are(w: World) -> None:
    await _cohort(w)
    svc = w.bot.service(CohortService)
    assert (await svc.find(w.group, "fashion  2026")).name == "Fashion 2026"
    with pytest.raises(UserError) as unknown:
        await svc.find(w.group, "Design 2030")
    assert unknown.value.key == "onboarding.cohort_unknown"
    assert unknown.value.params["choices"] == "Fashion 2026"


async def test_status_counts_roster_joins_and_who_is_missing(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    plan = await inv.plan_cohort_invite(w.group, c.name, None)
    await inv.invite_cohort(w.group, STAFF, plan, "student", "kari@example.com, ola@example.com")
    await _arrive(w, KARI, "kari@example.com")
    status = await w.bot.service(CohortService).status(w.group, c.name)
    assert (status.invited, status.joined, status.waiting) == (2, 1, 0)
    assert status.missing == ("ola@example.com",)


async def test_statuses_of_all_cohorts_read_together_match_each_cohorts_status(w: World) -> None:
    """The dashboard's list reads every cohort at once; it must count as `status` does."""
    c = await _cohort(w)
    svc = w.bot.service(CohortService)
    other = (await svc.create(w.group, STAFF, "Design", 2027, None)).cohort
    inv = w.bot.service(InvitationService)
    for cohort, emails in ((c, "kari@example.com, ola@example.com"), (other, "per@example.com")):
        plan = await inv.plan_cohort_invite(w.group, cohort.name, None)
        await inv.invite_cohort(w.group, STAFF, plan, "student", emails)
    await _arrive(w, KARI, "kari@example.com")
    statuses = await svc.statuses(w.group)
    assert statuses == [await svc.status(w.group, str(x.id)) for x in (c, other)]
    assert [(s.invited, s.joined, s.missing) for s in statuses] == [
        (2, 1, ("ola@example.com",)),
        (1, 0, ("per@example.com",)),
    ]


# -- invitations and codes ------------------------------------------------------------------


async def test_a_chosen_code_must_be_well_formed_and_free(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    with pytest.raises(UserError) as bad:
        await inv.plan_cohort_invite(w.group, c.name, "ab")
    assert bad.value.key == "onboarding.code_invalid"
    plan = await inv.plan_cohort_invite(w.group, c.name, "fashion-2026")
    assert plan.code == "FASHION2026"
    await inv.invite_cohort(w.group, STAFF, plan, "student", "")
    with pytest.raises(UserError) as taken:
        await inv.plan_cohort_invite(w.group, c.name, "FASHION 2026")
    assert taken.value.key == "onboarding.code_taken"


async def test_invite_cohort_stores_the_roster_and_queues_members_already_here(w: World) -> None:
    c = await _cohort(w)
    await join(w, OLA, "ola@example.com")
    inv = w.bot.service(InvitationService)
    plan = await inv.plan_cohort_invite(w.group, c.name, None)
    invite = await inv.invite_cohort(
        w.group, STAFF, plan, "student", "kari@example.com\nOla@Example.com\nnot-an-address"
    )
    assert invite.roster is not None
    assert (invite.roster.given, invite.roster.added, invite.roster.present) == (2, 2, 1)
    assert [n for n, _ in invite.roster.invalid] == [3]
    assert invite.invitation.kind is CodeKind.COHORT and invite.batch is not None
    assert w.ws.role_names("ola") == []  # queued, not yet applied
    grants = w.bot.service(GrantService)
    result = await grants.drain(w.group.id, invite.batch)
    assert len(result.applied) == 1 and w.ws.role_names("ola") == ["Fashion 2026", "student"]
    # Ola was here already: the roster's roles came without a welcome, so Ola is told.
    assert await grants.tell_rostered(w.group, result.applied) == 1
    dm = str(_dms(w, "ola")[-1]["text"])
    assert dm == "You are on the roster of Fashion 2026, so you now have: student, Fashion 2026."


async def test_a_staff_code_works_once(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    plan = await inv.plan_cohort_invite(w.group, c.name, None)
    invite = await inv.invite_cohort(w.group, STAFF, plan, "staff", "")
    assert invite.invitation.max_uses == 1
    w.ws.add_member("Kari", None)
    w.ws.add_member("Ola", None)
    granted = await inv.redeem(w.group, _user(KARI), invite.invitation.code)
    assert "staff" in granted.keys
    with pytest.raises(UserError) as used_up:
        await inv.redeem(w.group, _user(OLA), invite.invitation.code)
    assert used_up.value.key == "onboarding.code_used_up"


async def test_redeem_grants_the_code_and_records_cohort_and_inviter(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    invite = await inv.invite_cohort(
        w.group, INGRID, await inv.plan_cohort_invite(w.group, c.name, None), "student", ""
    )
    w.ws.add_member("Kari", None)
    granted = await inv.redeem(w.group, _user(KARI), invite.invitation.code.lower())
    assert set(granted.keys) == {"student", cohort_key(c.id)}
    assert w.ws.role_names("kari") == ["Fashion 2026", "student"]
    async with w.uow() as uow:
        member = await uow.members.get(w.group.id, "kari")
        state = await uow.invitations.redemption(invite.invitation.id, "kari")
        assert await uow.cohorts.member_cohort(w.group.id, "kari") == c.id
    assert member is not None and member.invited_by == "ingrid"
    assert state is UseState.GRANTED
    with pytest.raises(UserError) as again:
        await inv.redeem(w.group, _user(KARI), invite.invitation.code)
    assert again.value.key == "onboarding.code_already_used"


async def test_wrong_codes_count_down_to_a_lockout_staff_hear_of(w: World) -> None:
    inv = w.bot.service(InvitationService)
    friend = await inv.invite_friend(w.group, _user(INGRID))
    w.ws.add_member("Kari", None)
    for n in range(LOCK_ATTEMPTS - 1):
        with pytest.raises(UserError) as wrong:
            await inv.redeem(w.group, _user(KARI), "NOPE1234")
        assert wrong.value.key == "onboarding.code_unknown"
        assert wrong.value.params["left"] == LOCK_ATTEMPTS - 1 - n
    with pytest.raises(UserError) as locked:
        await inv.redeem(w.group, _user(KARI), "NOPE1234")
    assert locked.value.key == "onboarding.code_locked"
    assert "Kari entered 5 wrong join codes" in str(w.channel("staff-review")[-1]["text"])
    with pytest.raises(UserError) as still:  # even the right code waits out the lock
        await inv.redeem(w.group, _user(KARI), friend.invitation.code)
    assert still.value.key == "onboarding.code_locked"


async def test_expired_and_used_up_codes_are_told_and_never_count_toward_the_lockout(
    w: World,
) -> None:
    inv = w.bot.service(InvitationService)
    friend = await inv.invite_friend(w.group, _user(INGRID))
    staff = await inv.invite_cohort(
        w.group,
        STAFF,
        await inv.plan_cohort_invite(w.group, (await _cohort(w)).name, None),
        "staff",
        "",
    )
    w.ws.add_member("Ola", None)
    await inv.redeem(w.group, _user(OLA), staff.invitation.code)  # its one use
    w.ws.add_member("Kari", None)
    for _ in range(LOCK_ATTEMPTS + 1):  # more than the lockout allows wrong codes
        with pytest.raises(UserError) as used_up:
            await inv.redeem(w.group, _user(KARI), staff.invitation.code)
        assert used_up.value.key == "onboarding.code_used_up" and "left" not in used_up.value.params
    w.later(days=31)
    for _ in range(LOCK_ATTEMPTS + 1):
        with pytest.raises(UserError) as expired:
            await inv.redeem(w.group, _user(KARI), friend.invitation.code)
        assert expired.value.key == "onboarding.code_expired"
    with pytest.raises(UserError) as wrong:  # a wrong code still has every try left
        await inv.redeem(w.group, _user(KARI), "NOPE1234")
    assert wrong.value.params["left"] == LOCK_ATTEMPTS - 1
    assert not [m for m in w.channel("staff-review") if "wrong join codes" in str(m["text"])]


async def test_live_codes_and_revoking_one(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    cohort_code = await inv.invite_cohort(
        w.group, STAFF, await inv.plan_cohort_invite(w.group, c.name, "FASHION26"), "student", ""
    )
    friend = await inv.invite_friend(w.group, _user(INGRID))
    found = await inv.live_codes(w.group, None)
    assert [x.code for x in found.codes] == [friend.invitation.code, "FASHION26"]
    assert found.names["ingrid"] == "Ingrid"
    only = await inv.live_codes(w.group, c.name)
    assert [x.code for x in only.codes] == ["FASHION26"]
    revoked = await inv.revoke(w.group, "fashion-26")
    assert revoked.id == cohort_code.invitation.id
    assert [x.code for x in (await inv.live_codes(w.group, None)).codes] == [friend.invitation.code]
    with pytest.raises(UserError) as again:
        await inv.revoke(w.group, "FASHION26")
    assert again.value.key == "onboarding.code_revoked_already"
    with pytest.raises(UserError) as unknown:
        await inv.revoke(w.group, "NOPE1234")
    assert unknown.value.key == "onboarding.code_not_found"
    w.ws.add_member("Kari", None)
    with pytest.raises(UserError) as withdrawn:  # a leaked code stops working at once
        await inv.redeem(w.group, _user(KARI), "FASHION26")
    assert withdrawn.value.key == "onboarding.code_revoked"
    assert w.ws.role_names("kari") == []


async def test_an_expired_memorable_code_name_can_be_used_again(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    old = await inv.invite_cohort(
        w.group, STAFF, await inv.plan_cohort_invite(w.group, c.name, "FASHION"), "student", ""
    )
    with pytest.raises(UserError) as taken:  # while it works, the name is taken
        await inv.plan_cohort_invite(w.group, c.name, "FASHION")
    assert taken.value.key == "onboarding.code_taken"
    w.later(days=31)
    plan = await inv.plan_cohort_invite(w.group, c.name, "FASHION")
    new = await inv.invite_cohort(w.group, STAFF, plan, "student", "")
    assert new.invitation.code == "FASHION" and new.invitation.id != old.invitation.id
    w.ws.add_member("Kari", None)
    granted = await inv.redeem(w.group, _user(KARI), "FASHION")  # the new one, not the old
    assert cohort_key(c.id) in granted.keys


async def test_a_friend_code_gives_industry_to_a_few(w: World) -> None:
    friend = await w.bot.service(InvitationService).invite_friend(w.group, _user(INGRID))
    assert friend.invitation.kind is CodeKind.FRIEND
    assert friend.invitation.role_keys == ("industry",)
    assert friend.invitation.max_uses == FRIEND_CODE_USES
    assert friend.link.url is not None and friend.link.url.startswith("local://join/")


async def test_a_link_the_platform_refuses_keeps_the_code(w: World) -> None:
    async def refuse(*_: object, **__: object) -> str | None:
        raise UserError("core.storage_down")

    w.ws.create_invite = refuse  # type: ignore[method-assign]
    friend = await w.bot.service(InvitationService).invite_friend(w.group, _user(INGRID))
    assert friend.link.failed and friend.link.refusal == ("core.storage_down", {})
    async with w.uow() as uow:
        assert await uow.invitations.by_code(w.group.id, friend.invitation.code) is not None


# -- the join ---------------------------------------------------------------------------------


async def test_a_newcomer_gets_the_welcome_once(w: World) -> None:
    joined = await _arrive(w, KARI, None, key="k1")
    assert joined is not None and joined.kind is JoinKind.NEW  # type: ignore[attr-defined]
    assert _dms(w, "kari")[-1]["title"] == "Welcome to the alumni group!"
    assert await _arrive(w, KARI, None, key="k1") is None  # a replay
    assert await _arrive(w, KARI, None, key="k2") is None  # already here
    assert len(_dms(w, "kari")) == 1


async def test_the_roster_recognises_a_newcomer_by_email(w: World) -> None:
    c = await _cohort(w)
    inv = w.bot.service(InvitationService)
    plan = await inv.plan_cohort_invite(w.group, c.name, None)
    await inv.invite_cohort(w.group, INGRID, plan, "alumni", "Kari@Example.com")
    joined = await _arrive(w, KARI, "kari@example.com")
    assert joined is not None and joined.kind is JoinKind.ROSTER  # type: ignore[attr-defined]
    assert w.ws.role_names("kari") == ["Fashion 2026", "alumni"]
    assert "You are on the roster of Fashion 2026" in str(_dms(w, "kari")[-1]["text"])
    async with w.uow() as uow:
        member = await uow.members.get(w.group.id, "kari")
    assert member is not None and member.invited_by == "ingrid"


async def test_a_member_who_returns_gets_their_roles_back(w: World) -> None:
    await join(w, KARI, None, "alumni")
    assert await w.bot.service(MembersService).left(w.group.id, "kari")
    assert not await w.bot.service(MembersService).left(w.group.id, "kari")  # once
    w.ws.state["members"]["kari"]["roles"] = []  # the platform dropped them
    joined = await _arrive(w, KARI, None, key="kari")
    assert joined is not None and joined.kind is JoinKind.BACK  # type: ignore[attr-defined]
    assert w.ws.role_names("kari") == ["alumni"]
    assert "Welcome back" in str(_dms(w, "kari")[-1]["text"])


async def test_an_introduction_needs_a_name_and_a_channel(w: World) -> None:
    svc = w.bot.service(JoinService)
    with pytest.raises(UserError) as nameless:
        await svc.introduce(w.group, KARI, {"name": "  ", "work": "Patterns"})
    assert nameless.value.key == "onboarding.intro_name_missing"
    await svc.introduce(w.group, KARI, {"name": "Kari @everyone", "work": "Patterns"})
    post = w.channel("introductions")[-1]
    assert "@everyone" not in str(post["title"]) and post["fields"]


# -- role requests ------------------------------------------------------------------------------


async def test_industry_at_once_and_trusted_roles_only_through_staff(w: World) -> None:
    svc = w.bot.service(RequestService)
    w.ws.add_member("Kari", None)
    granted = await svc.claim(w.group, _user(KARI), "industry")
    assert granted is not None and w.ws.role_names("kari") == ["industry"]
    with pytest.raises(UserError) as had:
        await svc.claim(w.group, _user(KARI), "industry")
    assert had.value.key == "onboarding.already_have"
    assert await svc.claim(w.group, _user(KARI), "staff") is None  # ask first
    sent = await svc.request(w.group, _user(KARI), "staff", "Design 2099")
    assert sent.posted and sent.cohort is None
    post = w.channel("staff-review")[-1]
    assert "Design 2099" in str(post["fields"]) and w.ws.role_names("kari") == ["industry"]
    with pytest.raises(UserError) as pending:
        await svc.claim(w.group, _user(KARI), "alumni")
    assert pending.value.key == "onboarding.request_pending"
    with pytest.raises(UserError) as forged:
        await svc.request(w.group, _user(KARI), "industry", "")
    assert forged.value.key == "core.form_unknown"


async def test_staff_decide_once_never_their_own(w: World) -> None:
    c = await _cohort(w)
    svc = w.bot.service(RequestService)
    w.ws.add_member("Kari", None)
    assert await svc.claim(w.group, _user(KARI), "student") is None
    sent = await svc.request(w.group, _user(KARI), "student", c.name)
    with pytest.raises(UserError) as own:
        await svc.decide(w.group, KARI, sent.request.id, Verdict.APPROVE)
    assert own.value.key == "onboarding.decide_own"
    with pytest.raises(UserError) as unknown:
        await svc.decide(w.group, STAFF, 999, Verdict.APPROVE)
    assert unknown.value.key == "core.button_unknown"
    decision = await svc.decide(w.group, STAFF, sent.request.id, Verdict.APPROVE)
    assert decision.status is RequestStatus.APPROVED
    assert w.ws.role_names("kari") == ["Fashion 2026", "student"]
    assert "staff approved your request" in str(_dms(w, "kari")[-1]["text"])
    assert "approved by owner" in str(w.channel("staff-review")[-1]["text"])
    with pytest.raises(UserError) as again:
        await svc.decide(w.group, STAFF, sent.request.id, Verdict.DENY)
    assert again.value.key == "onboarding.decide_already"
    assert w.ws.role_names("kari") == ["Fashion 2026", "student"]


async def test_a_denial_gives_nothing(w: World) -> None:
    svc = w.bot.service(RequestService)
    w.ws.add_member("Kari", None)
    assert await svc.claim(w.group, _user(KARI), "alumni") is None
    sent = await svc.request(w.group, _user(KARI), "alumni", "")
    decision = await svc.decide(w.group, STAFF, sent.request.id, Verdict.DENY)
    assert decision.status is RequestStatus.DENIED and w.ws.role_names("kari") == []
    assert "did not approve" in str(_dms(w, "kari")[-1]["text"])


async def test_approving_someone_who_left_says_so_and_sends_no_dm(w: World) -> None:
    svc = w.bot.service(RequestService)
    w.ws.add_member("Kari", None)
    assert await svc.claim(w.group, _user(KARI), "alumni") is None
    sent = await svc.request(w.group, _user(KARI), "alumni", "")
    w.ws.state["members"]["kari"]["left"] = True
    await w.bot.service(MembersService).left(w.group.id, "kari")
    dms = len(_dms(w, "kari"))
    decision = await svc.decide(w.group, STAFF, sent.request.id, Verdict.APPROVE)
    assert decision.gone
    review = str(w.channel("staff-review")[-1]["text"])
    assert "Kari has left the group, so nothing changed on the platform" in review
    assert "got the role" not in review
    assert len(_dms(w, "kari")) == dms  # nobody to tell
    async with w.uow() as uow:  # recorded: the roles come back if Kari returns
        member = await uow.members.get(w.group.id, "kari")
    assert member is not None and "alumni" in member.roles


# -- staff's role commands ---------------------------------------------------------------------


async def test_grant_and_revoke_with_their_refusals(w: World) -> None:
    c = await _cohort(w)
    svc = w.bot.service(RoleService)
    await join(w, KARI)
    with pytest.raises(UserError) as nobody:
        await svc.grant(w.group, STAFF, "nobody", "alumni")
    assert nobody.value.key == "members.member_unknown"
    with pytest.raises(UserError) as norole:
        await svc.grant(w.group, STAFF, "kari", "wizard")
    assert norole.value.key == "onboarding.role_unknown"
    await svc.grant(w.group, STAFF, "@Kari", "Fashion 2026")
    assert w.ws.role_names("kari") == ["Fashion 2026"]
    async with w.uow() as uow:
        assert await uow.cohorts.member_cohort(w.group.id, "kari") == c.id
    with pytest.raises(UserError) as had:
        await svc.grant(w.group, STAFF, "kari", "Fashion 2026")
    assert had.value.key == "onboarding.role_had"
    w.ws.state["members"]["kari"]["roles"] = []  # an admin took it on the platform
    assert (await svc.grant(w.group, STAFF, "kari", "Fashion 2026")).repaired
    await svc.revoke(w.group, STAFF, "kari", "Fashion 2026")
    assert w.ws.role_names("kari") == []
    with pytest.raises(UserError) as not_had:
        await svc.revoke(w.group, STAFF, "kari", "Fashion 2026")
    assert not_had.value.key == "onboarding.role_not_had"


async def test_a_second_cohort_role_keeps_the_first_cohort_until_staff_move(w: World) -> None:
    first = await _cohort(w)
    second = (
        await w.bot.service(CohortService).create(w.group, STAFF, "Design", 2027, None)
    ).cohort
    svc = w.bot.service(RoleService)
    await join(w, KARI)
    assert (await svc.grant(w.group, STAFF, "kari", first.name)).kept is None
    done = await svc.grant(w.group, STAFF, "kari", second.name)
    assert done.kept is not None and done.kept.id == first.id
    async with w.uow() as uow:  # the graduation date is still the first cohort's
        assert await uow.cohorts.member_cohort(w.group.id, "kari") == first.id
    moved = await svc.move_cohort(w.group, "kari", second.id)
    assert moved.cohort is not None and moved.cohort.id == second.id
    async with w.uow() as uow:
        assert await uow.cohorts.member_cohort(w.group.id, "kari") == second.id
    await join(w, OLA)
    with pytest.raises(UserError) as forged:  # a cohort whose role Ola does not hold
        await svc.move_cohort(w.group, "ola", second.id)
    assert forged.value.key == "core.button_unknown"


async def test_whois_and_home_facts(w: World) -> None:
    c = await _cohort(w)
    await join(w, KARI)
    roles = w.bot.service(RoleService)
    await roles.grant(w.group, STAFF, "kari", c.name)
    found = await roles.whois(w.group, "kari")
    assert found.cohort is not None and found.cohort.id == c.id
    await w.bot.service(RequestService).request(w.group, _user(OLA), "alumni", "")
    assert (await roles.home(w.group, KARI)).pending == 0  # members do not see requests
    staff = replace(STAFF, permission=Permission.STAFF)
    assert (await roles.home(w.group, staff)).pending == 1


# -- graduation and the queue ------------------------------------------------------------------


async def test_graduation_makes_students_alumni_once_and_announces_once(w: World) -> None:
    c = await _cohort(w)
    await join(w, KARI, None, "student", cohort_key(c.id))
    async with w.uow() as uow:
        await uow.cohorts.set_member_cohort(w.group.id, "kari", c.id)
    svc = w.bot.service(GraduationService)
    assert await svc.graduate(w.group, date(2029, 6, 14)) == []
    done = await svc.graduate(w.group, date(2029, 6, 15))
    assert [x.id for x in done] == [c.id]
    assert w.ws.role_names("kari") == ["Fashion 2026", "alumni"]
    posts = [m for m in w.channel("announcements") if "Congratulations" in str(m.get("title"))]
    assert len(posts) == 1 and "Fashion 2026 has graduated" in str(posts[0]["text"])
    await svc.graduate(w.group, date(2029, 6, 16))
    again = [m for m in w.channel("announcements") if "Congratulations" in str(m.get("title"))]
    assert len(again) == 1


async def test_the_queue_resumes_and_staff_hear_what_failed(w: World) -> None:
    await join(w, KARI)
    change = RoleChange("kari", ("alumni",), (), "test", None)
    async with w.uow() as uow:
        await uow.grants.enqueue(w.group.id, "test", [change], w.bot.clock.now())
    real = w.ws.set_roles

    async def refuse(*_: object) -> None:
        raise PlatformError("403", missing_permission="manage_roles")

    w.ws.set_roles = refuse  # type: ignore[method-assign]
    svc = w.bot.service(GraduationService)
    failed = await svc.resume_queue(w.group)
    assert len(failed.first_failures) == 1 and w.ws.role_names("kari") == []
    told = str(w.channel("staff-review")[-1]["text"])
    assert "did not take effect" in told and "Kari" in told
    w.ws.set_roles = real  # type: ignore[method-assign]
    w.later(hours=1)
    result = await svc.resume_queue(w.group)
    assert len(result.recovered) == 1 and w.ws.role_names("kari") == ["alumni"]
    assert "now taken effect for 1 member: Kari" in str(w.channel("staff-review")[-1]["text"])
    assert (await w.bot.service(GrantService).drain(w.group.id)).applied == []
