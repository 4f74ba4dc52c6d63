"""PrivacyService: remember, export, erasure and retention, and their refusals, on the in-memory
unit of work and the local workspace."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cogs.pairs.service import PairsService
from bot.cogs.posts.forms import KINDS
from bot.cogs.posts.service import PostsService
from bot.cogs.privacy import files, views
from bot.cogs.privacy.records import RolesOff
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.profiles.service import ProfilesService
from bot.domain import Language
from bot.errors import PlatformError, StorageUnavailable, UserError
from bot.events import MessageRef
from bot.messages import OutgoingMessage
from bot.ports import UnitOfWork
from tests.features.helpers import INGRID, OLA, World, world
from tests.features.people import join

INGRID_EMAIL = "Ingrid.Dahl@example.com"
OLA_EMAIL = "ola.nordmann@example.com"
SALE = {"what": "Juki sewing machine", "price": "2500 kr"}


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    """Ingrid (alumna) and Ola (student) with profiles, both in coffee pairs, introduced."""
    async with world() as it:
        await join(it, INGRID, INGRID_EMAIL, "alumni")
        await join(it, OLA, OLA_EMAIL, "student")
        profiles = it.bot.service(ProfilesService)
        await profiles.save(it.group, INGRID, {"headline": "Knitwear designer"})
        await profiles.save(it.group, OLA, {"headline": "Textile student", "skills": "weaving"})
        pairs = it.bot.service(PairsService)
        await pairs.join(it.group, INGRID)
        await pairs.join(it.group, OLA)
        await pairs.run_round(it.group, "2026-W34")
        # The service as the bot builds it, with its data folder in the test's own.
        it.bot.provide(
            PrivacyService(it.uow, it.ws, it.bot.clock, it.bot.activity, tmp_path / "data")
        )
        yield it


def _svc(w: World) -> PrivacyService:
    return w.bot.service(PrivacyService)


def _message(w: World, ref: MessageRef) -> dict[str, Any]:
    for msg in w.ws._messages_of(ref):
        if msg["id"] == ref.id:
            return dict(msg)
    raise AssertionError(f"no message {ref.id}")


def _modes(path: Path) -> tuple[int, int] | None:
    """The file's mode and its folder's (None once it is gone)."""
    if not path.exists():
        return None
    return path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777


# -- remember ---------------------------------------------------------------------------


async def test_remember_records_who_a_message_names_and_a_second_call_replaces_it(
    w: World,
) -> None:
    svc = _svc(w)
    general = w.ws.channel_by_name("discussion")
    assert general is not None
    ref = await w.ws.send(w.group.id, general, OutgoingMessage("Ingrid and Ola"))
    await svc.remember(w.group.id, ref, [INGRID.id, OLA.id], OutgoingMessage("two members"))
    async with w.uow() as uow:
        [named] = [m for m in await uow.privacy.named_messages(w.group.id, OLA.id) if m.ref == ref]
    assert named.replacement is not None and named.replacement["text"] == "two members"
    # Edited to name Ingrid only: Ola's erasure no longer reaches it.
    await svc.remember(w.group.id, ref, [INGRID.id])
    async with w.uow() as uow:
        ola = [m.ref for m in await uow.privacy.named_messages(w.group.id, OLA.id)]
        ingrid = await uow.privacy.named_messages(w.group.id, INGRID.id)
    assert ref not in ola and [m.replacement for m in ingrid if m.ref == ref] == [None]


async def test_remember_never_raises_the_message_is_already_out(w: World) -> None:
    def down() -> UnitOfWork:
        raise StorageUnavailable("database down")

    svc = PrivacyService(down, w.ws, w.bot.clock, w.bot.activity, Path("unused"))
    await svc.remember(w.group.id, MessageRef("C1", "M1"), [INGRID.id])


async def test_features_record_through_the_one_service(w: World) -> None:
    # Posts' reminders, profiles' updates and pairs' introductions all end up in one table,
    # written by PrivacyService.remember (no feature writes uow.privacy itself).
    root = Path(__file__).parents[3] / "bot"
    writers = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "uow.privacy.remember(" in p.read_text(encoding="utf-8")
    ]
    assert writers == ["cogs/privacy/service.py"]
    async with w.uow() as uow:
        named = await uow.privacy.named_messages(w.group.id, INGRID.id)
    assert len(named) == 1  # Ola's introduction to her


# -- export -----------------------------------------------------------------------------


async def test_an_export_holds_the_members_rows_and_nobody_elses(w: World) -> None:
    seen: dict[str, Any] = {}
    deliver = w.ws.send_dm

    async def spy(group_id: str, user_id: str, message: OutgoingMessage) -> MessageRef:
        if message.file_path:
            path = Path(message.file_path)
            seen.update(path=path, modes=_modes(path))
        return await deliver(group_id, user_id, message)

    w.ws.send_dm = spy  # type: ignore[method-assign]
    svc = _svc(w)
    exported = await svc.export(w.group, INGRID)
    dm = w.ws.state["dms"][INGRID.id][-1]
    document = json.loads(dm["file_content"])
    assert document["user_id"] == INGRID.id and document["group"] == w.group.id
    tables = document["tables"]
    assert tables["members"][0]["email"] == INGRID_EMAIL
    assert [p["fields"]["headline"] for p in tables["profiles"]] == ["Knitwear designer"]
    assert exported.tables == {name: len(rows) for name, rows in tables.items()}
    assert f"{exported.rows} rows" in str(dm["text"])
    # Ola shares a pair with her: he shows as "another member", his email and profile not at all.
    flat = json.dumps(tables).lower()
    assert "ola" not in flat and OLA_EMAIL not in flat and "textile" not in flat
    assert "another member" in flat
    # The file: in the data folder, the bot's user's only, and gone once delivered.
    assert seen["path"].parent == svc.exports == w.bot.service(PrivacyService).exports
    assert seen["path"].is_relative_to(svc.data_dir)
    assert seen["modes"] == (0o600, 0o700)
    assert not seen["path"].exists() and list(svc.exports.iterdir()) == []


async def test_an_export_the_platform_refuses_leaves_no_file(w: World) -> None:
    written: list[Path] = []

    async def closed(group_id: str, user_id: str, message: OutgoingMessage) -> MessageRef:
        assert message.file_path and _modes(Path(message.file_path)) is not None
        written.append(Path(message.file_path))
        raise PlatformError("the member does not accept direct messages")

    w.ws.send_dm = closed  # type: ignore[method-assign]
    with pytest.raises(PlatformError):
        await _svc(w).export(w.group, INGRID)
    assert written and not written[0].exists()


async def test_an_export_in_norwegian_says_so_in_norwegian(w: World) -> None:
    exported = await _svc(w).export(replace(w.group, language=Language.NB), INGRID)
    dm = w.ws.state["dms"][INGRID.id][-1]
    document = json.loads(dm["file_content"])
    assert document["about"].startswith("Alt alumnibot lagrer om deg")
    assert "et annet medlem" in json.dumps(document["tables"], ensure_ascii=False)
    assert f"Her er alt jeg lagrer om deg: {exported.rows} rader, fra: " in str(dm["text"])
    assert "medlemsoppføring" in str(dm["text"])


# -- erasure ----------------------------------------------------------------------------


async def test_only_the_member_themself_can_confirm(w: World) -> None:
    started: list[bool] = []

    async def start() -> None:
        started.append(True)

    with pytest.raises(UserError) as refused:
        await _svc(w).erase(w.group, OLA, INGRID.id, started=start)
    assert refused.value.key == "privacy.not_yours" and started == []
    async with w.uow() as uow:
        assert await uow.profiles.get(w.group.id, INGRID.id) is not None
        assert await uow.members.get(w.group.id, INGRID.id) is not None
    assert w.ws.role_names(INGRID.id) != []


async def test_erasure_reaches_the_platform_the_bots_messages_rows_and_files(w: World) -> None:
    svc = _svc(w)
    posts = w.bot.service(PostsService)
    card = (await posts.create(w.group, INGRID, KINDS["sale"], SALE)).post
    update = await w.bot.service(ProfilesService).post_update(w.group, INGRID, "New job!")
    # An export a crash left behind, and one of another member's.
    folder = files.export_folder(svc.data_dir)
    hers = folder / files.export_name(INGRID.id, "20260101T000000", "aaaaaa")
    his = folder / files.export_name(OLA.id, "20260101T000000", "bbbbbb")
    hers.write_text(json.dumps({"group": w.group.id, "user_id": INGRID.id}))
    his.write_text(json.dumps({"group": w.group.id, "user_id": OLA.id}))
    [intro_id] = [m["id"] for m in w.ws.state["dms"][OLA.id] if m["title"] == "Your coffee pair"]
    started: list[bool] = []

    async def start() -> None:
        started.append(True)

    erasure = await svc.erase(w.group, INGRID, INGRID.id, started=start)
    assert started == [True]
    # Her roles are off on the platform.
    assert erasure.roles == RolesOff(("alumni",), True)
    assert w.ws.role_names(INGRID.id) == []
    # The bot's messages naming her: Ola's introduction to her, her update, her card.
    [intro] = [m for m in w.ws.state["dms"][OLA.id] if m["id"] == intro_id]
    assert "Ingrid" not in str(intro) and "erased" in str(intro["text"])
    [showcase] = w.channel("showcase")
    assert "New job!" not in str(showcase["text"]) and "erased" in str(showcase["text"])
    marketplace = w.channel("marketplace")[0]
    assert marketplace["id"] == card.message_id
    assert "another member" in str(marketplace["text"]) and "Ingrid" not in str(marketplace)
    assert (erasure.edited, erasure.missed) == (3, 0)
    assert update.channel_name == "showcase"
    # Her rows are gone; Ola's are not; her export file went, his stayed.
    assert erasure.touched["profiles"] == 1 and erasure.touched["export_files"] == 1
    async with w.uow() as uow:
        assert await uow.profiles.get(w.group.id, INGRID.id) is None
        assert await uow.members.get(w.group.id, INGRID.id) is None
        assert await uow.profiles.get(w.group.id, OLA.id) is not None
        assert await uow.pairs.opted_in(w.group.id) == [OLA.id]
    assert not hers.exists() and his.exists()
    text = views.erased(w.group.language, erasure).text
    assert "Done: your data is erased" in text and "I took these roles off you" in text
    assert "I edited 3 messages" in text


async def test_erasing_twice_finds_nothing_left(w: World) -> None:
    svc = _svc(w)
    first = await svc.erase(w.group, INGRID, INGRID.id)
    assert not first.nothing
    again = await svc.erase(w.group, INGRID, INGRID.id)
    assert again.nothing and again.touched == {} and again.roles is None
    assert views.erased(w.group.language, again).text == (
        "There is nothing about you left to erase."
    )


async def test_what_could_not_be_reached_is_counted_and_the_rest_goes_on(w: World) -> None:
    svc = _svc(w)
    general = w.ws.channel_by_name("discussion")
    assert general is not None
    gone = await w.ws.send(w.group.id, general, OutgoingMessage("Ingrid said hi"))
    await svc.remember(w.group.id, gone, [INGRID.id])
    edit = w.ws.edit

    async def deleted_by_someone(group_id: str, ref: MessageRef, message: OutgoingMessage) -> None:
        if ref == gone:
            raise PlatformError("Unknown Message (10008)")
        await edit(group_id, ref, message)

    w.ws.edit = deleted_by_someone  # type: ignore[method-assign]
    erasure = await svc.erase(w.group, INGRID, INGRID.id)
    assert (erasure.edited, erasure.missed) == (1, 1)
    assert erasure.touched["members"] == 1
    assert (
        "1 message of mine that named you could not be edited"
        in views.erased(w.group.language, erasure).text
    )


async def test_roles_the_platform_keeps_are_named_and_staff_are_told(w: World) -> None:
    async def refused(group_id: str, user_id: str, add: Any, remove: Any) -> None:
        raise PlatformError("Missing Permissions (50013)", missing_permission="manage_roles")

    w.ws.set_roles = refused  # type: ignore[method-assign]
    erasure = await _svc(w).erase(w.group, INGRID, INGRID.id)
    assert erasure.roles is not None and not erasure.roles.removed
    assert erasure.roles.missing_permission == "manage_roles"
    text = views.erased(w.group.language, erasure).text
    assert "I could not take these roles off you on the platform: alumni (Manage Roles)" in text
    [alert] = w.channel("staff-review")
    assert "Ingrid asked me to erase their data" in str(alert["text"])
    # The rows still go: the roles are the platform's to remove by hand.
    async with w.uow() as uow:
        assert await uow.members.get(w.group.id, INGRID.id) is None


async def test_a_member_who_left_keeps_no_roles_to_take_off(w: World) -> None:
    async with w.uow() as uow:
        member = await uow.members.get(w.group.id, INGRID.id)
        assert member is not None
        await uow.members.save(replace(member, left_at=w.bot.clock.now()))
    erasure = await _svc(w).erase(w.group, INGRID, INGRID.id)
    assert erasure.roles is None and erasure.touched["members"] == 1


# -- retention --------------------------------------------------------------------------


async def test_retention_deletes_what_is_kept_briefly_and_old_export_files(w: World) -> None:
    svc = _svc(w)
    now = w.bot.clock.now()
    async with w.uow() as uow:
        await uow.invitations.record_attempt(w.group.id, OLA.id, False, now - timedelta(days=2))
        await uow.invitations.record_attempt(w.group.id, OLA.id, False, now)
        await uow.events.first_time(w.group.id, "join:ola:old", now - timedelta(days=8))
        await uow.events.first_time(w.group.id, "join:ola:new", now - timedelta(days=6))
    folder = files.export_folder(svc.data_dir)
    old = folder / files.export_name(OLA.id, "20260101T000000", "cccccc")
    new = folder / files.export_name(OLA.id, "20260102T000000", "dddddd")
    old.write_text("{}")
    new.write_text("{}")
    day_and_more = time.time() - files.EXPORT_MAX_AGE_SECONDS - 60
    os.utime(old, (day_and_more, day_and_more))
    done = await svc.retention(w.group)
    assert done.purged == {"code_attempts": 1, "processed_events": 1} and done.swept == 1
    assert not old.exists() and new.exists()
    again = await svc.retention(w.group)
    assert again.purged == {"code_attempts": 0, "processed_events": 0} and again.swept == 0


def test_the_confirmation_buttons_carry_whom_they_are_for() -> None:
    message = views.confirm(Language.EN, INGRID.id)
    assert [(b.action, b.value) for b in message.buttons] == [
        (views.ERASE_ACTION, INGRID.id),
        (views.CANCEL_ACTION, INGRID.id),
    ]
    assert views.member_id("ingrid") == "ingrid"
    with pytest.raises(ValueError):
        views.member_id("")
