"""DashboardService: links, sign-in, sessions checked on every request, forms, the audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.cogs.dashboard.records import Refusal, Viewer
from bot.cogs.dashboard.service import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    DashboardService,
    NotSignedIn,
    SignInRefused,
)
from bot.cogs.onboarding.cohorts import CohortService
from bot.domain import Member, Permission
from bot.errors import PermissionDenied, UserError
from bot.events import CommandInvoked, UserRef
from bot.messages import OutgoingMessage
from tests.conftest import START
from tests.features.helpers import INGRID, STAFF, World, world


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group whose dashboard is served at a test address."""
    async with world() as it:
        it.bot.service(DashboardService).serve_at("http://dash.test/")
        yield it


def _svc(w: World) -> DashboardService:
    return w.bot.service(DashboardService)


def _token(link: str) -> str:
    assert link.startswith("http://dash.test/dashboard/signin/local/")
    return link.rsplit("/", 1)[1]


class Private:
    """A responder that keeps what the member was told, and whether only they saw it."""

    def __init__(self) -> None:
        self.said: list[tuple[str, bool]] = []

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        self.said.append((message.text, private))

    async def edit_reply(self, message: OutgoingMessage) -> None:
        self.said.append((message.text, True))

    async def open_form(self, form: object) -> None:
        raise AssertionError("no forms here")

    async def defer(self) -> None:
        return None

    async def read_attachment(self, ref: str, option: str) -> str:
        raise AssertionError("no files here")


async def _run(w: World, user: UserRef) -> list[tuple[str, bool]]:
    told = Private()
    await w.bot.handle(CommandInvoked("local", user, None, ("dashboard",), {}, told))  # type: ignore[arg-type]
    return told.said


async def test_the_command_answers_staff_privately_and_refuses_members(w: World) -> None:
    ((text, private),) = await _run(w, UserRef("owner", "owner", is_admin=True))
    assert private and "works once, for 10 minutes" in text
    assert "http://dash.test/dashboard/signin/local/" in text
    ((refusal, _),) = await _run(w, UserRef("ingrid", "Ingrid"))
    assert "staff" in refusal and "signin" not in refusal


async def test_without_a_web_server_the_command_says_so(w: World) -> None:
    _svc(w).base_url = None
    with pytest.raises(UserError) as refused:
        await _svc(w).link(w.group, STAFF)
    assert refused.value.key == "dashboard.not_served"


async def test_a_link_signs_in_once_within_ten_minutes(w: World) -> None:
    svc = _svc(w)
    token = _token(await svc.link(w.group, STAFF))
    w.later(seconds=LINK_LIFETIME.total_seconds() - 1)
    signed = await svc.sign_in("local", token, "1.2.3.4")
    viewer = await svc.viewer(signed.token)
    assert viewer.actor.id == "owner" and viewer.actor.permission is Permission.ADMIN
    assert signed.session.expires_at - signed.session.created_at == SESSION_LIFETIME
    with pytest.raises(SignInRefused) as again:
        await svc.sign_in("local", token, "1.2.3.4")
    assert again.value.reason is Refusal.USED
    late = _token(await svc.link(w.group, STAFF))
    w.later(minutes=10)
    with pytest.raises(SignInRefused) as expired:
        await svc.sign_in("local", late, "1.2.3.4")
    assert expired.value.reason is Refusal.EXPIRED


async def test_a_session_ends_after_twelve_hours_and_at_sign_out(w: World) -> None:
    svc = _svc(w)
    first = await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")
    second = await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")
    await svc.sign_out(second.token)
    with pytest.raises(NotSignedIn):
        await svc.viewer(second.token)
    assert (await svc.viewer(first.token)).actor.id == "owner"
    w.later(hours=12)
    with pytest.raises(NotSignedIn) as ended:
        await svc.viewer(first.token)
    assert ended.value.group is not None and not ended.value.revoked


async def test_staff_are_read_from_the_database_at_every_request(w: World) -> None:
    svc = _svc(w)
    async with w.uow() as uow:
        await uow.members.save(Member("local", "kari", "Kari", joined_at=START))
        await uow.roles.grant("local", "kari", "staff", "test", "owner", START)
    kari = INGRID.__class__("kari", "Kari", Permission.STAFF)
    signed = await svc.sign_in("local", _token(await svc.link(w.group, kari)), "ip")
    assert (await svc.viewer(signed.token)).actor.permission is Permission.STAFF
    async with w.uow() as uow:
        await uow.roles.revoke("local", "kari", "staff")
    with pytest.raises(NotSignedIn) as revoked:
        await svc.viewer(signed.token)
    assert revoked.value.revoked


async def test_a_platform_that_cannot_say_who_is_admin_fails_closed(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _svc(w)
    signed = await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")

    async def down(group_id: str, user_id: str) -> None:
        raise ConnectionError("the platform does not answer")

    monkeypatch.setattr(w.ws, "member_info", down)
    with pytest.raises(NotSignedIn):
        await svc.viewer(signed.token)


async def test_members_get_no_link_and_forms_need_the_sessions_token_once(w: World) -> None:
    svc = _svc(w)
    with pytest.raises(PermissionDenied):
        await svc.link(w.group, INGRID)
    viewer = await svc.viewer(
        (await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")).token
    )
    nonce = "0123456789abcdef0123456789abcdef"
    assert await svc.accept_form(viewer, "wrong", nonce) == "dashboard.web.csrf_refused"
    assert (
        await svc.accept_form(viewer, viewer.session.csrf, "short") == "dashboard.web.csrf_refused"
    )
    assert await svc.accept_form(viewer, viewer.session.csrf, nonce) is None
    assert await svc.accept_form(viewer, viewer.session.csrf, nonce) == "dashboard.web.replayed"


async def test_a_cookie_with_a_forged_signature_names_no_token(w: World) -> None:
    svc = _svc(w)
    cookie = await svc.cookie("a" * 43)
    assert await svc.token_of(cookie) == "a" * 43
    assert await svc.token_of(cookie[:-1] + ("0" if cookie[-1] != "0" else "1")) is None
    assert await svc.token_of("no-signature") is None


async def test_the_audit_records_who_what_when_newest_first(w: World) -> None:
    svc = _svc(w)
    viewer = await svc.viewer(
        (await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")).token
    )
    await svc.record(viewer, "question.add", "#1: @everyone look")
    w.later(minutes=1)
    await svc.refused(viewer, "question.accept", "core.button_unknown")
    newest, oldest = await svc.audit(w.group)
    assert (newest.action, oldest.action) == ("refused:question.accept", "question.add")
    assert oldest.author_name == "owner" and oldest.at == START
    assert (
        oldest.detail != "#1: @everyone look" and "everyone" in oldest.detail
    )  # neutralised: never a ping, wherever it is shown
    assert newest.at - oldest.at == timedelta(minutes=1)
    await w.bot.group("other")
    assert await svc.audit(await w.bot.group("other")) == []


async def test_expired_links_and_sessions_are_forgotten_a_day_later(w: World) -> None:
    svc = _svc(w)
    signed = await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")
    unused = _token(await svc.link(w.group, STAFF))
    w.later(hours=12, minutes=1)
    await svc.link(w.group, STAFF)
    with pytest.raises(SignInRefused) as still_said:
        await svc.sign_in("local", unused, "ip")
    assert still_said.value.reason is Refusal.EXPIRED  # within the day: the reason is kept
    w.later(days=1)
    await svc.link(w.group, STAFF)
    async with w.uow() as uow:
        assert await uow.dashboard.find_session(signed.session.token_hash) is None
    with pytest.raises(SignInRefused) as gone:
        await svc.sign_in("local", unused, "ip")
    assert gone.value.reason is Refusal.UNKNOWN


async def _viewer(w: World) -> Viewer:
    svc = _svc(w)
    token = (await svc.sign_in("local", _token(await svc.link(w.group, STAFF)), "ip")).token
    return await svc.viewer(token)


async def test_a_command_run_from_the_dashboard_reads_its_file_and_keeps_the_answer(
    w: World,
) -> None:
    made = await w.bot.service(CohortService).create(w.group, STAFF, "Fashion", 2026, None)
    viewer = await _viewer(w)
    answered = await _svc(w).run(
        viewer,
        ("invite", "cohort"),
        {"cohort": str(made.cohort.id), "roster": "upload:1", "send": "no"},
        {"upload:1": "kari@example.no\nnot an address\n"},
    )
    assert "Invitation for Fashion 2026" in answered.texts[0]
    assert "Line 2" in answered.texts[0]
    async with w.uow() as uow:
        entries = await uow.roster.entries(w.group.id, made.cohort.id)
    assert [e.email for e in entries] == ["kari@example.no"]


async def test_a_command_with_a_file_it_was_not_given_is_refused_and_imports_nothing(
    w: World,
) -> None:
    made = await w.bot.service(CohortService).create(w.group, STAFF, "Fashion", 2026, None)
    answered = await _svc(w).run(
        await _viewer(w),
        ("invite", "cohort"),
        {"cohort": str(made.cohort.id), "roster": "upload:forged"},
        {"upload:1": "kari@example.no\n"},
    )
    assert answered.texts and "could not read the file" in answered.texts[0]
    async with w.uow() as uow:
        assert await uow.roster.entries(w.group.id, made.cohort.id) == []
        assert await uow.invitations.live(w.group.id, w.ws.clock.now()) == []


async def test_statuses_match_each_cohorts_status(w: World) -> None:
    cohorts = w.bot.service(CohortService)
    first = (await cohorts.create(w.group, STAFF, "Fashion", 2026, None)).cohort
    second = (await cohorts.create(w.group, STAFF, "Design", 2027, None)).cohort
    await cohorts.archive(w.group, str(second.id))
    assert await cohorts.statuses(w.group) == [await cohorts.status(w.group, str(first.id))]
