"""Attacks that already held when issue 12 was filed, kept as tests so they keep holding.

Forged buttons and forms, approving your own request, other people's buttons (Slack, signed
HTTP against the fake); racing one single-use staff code (Slack, SQLite and PostgreSQL);
gateway replays of a join (Discord, the fake's gateway).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import MemberRoleRow, RoleRequestRow
from tests.discord_harness import discord_harness, message_text
from tests.security.trust_helpers import (
    count,
    engine_on,
    s_cohort,
    s_commands_at_once,
    s_join,
    s_text,
)
from tests.slack_harness import SlackHarness, slack_harness

STUDENT = "alumni-role-student"
BOB_ID = 444_000_000_000_000_004


def _button(message: dict[str, Any], label: str) -> tuple[str, str]:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return str(element["action_id"]), str(element.get("value", ""))
    raise AssertionError(f"no button {label!r} in {s_text(message)}")


async def _press(
    h: SlackHarness,
    user: str,
    action_id: str,
    value: str,
    channel_id: str,
    ts: str,
) -> list[str]:
    d = await h.driver.block_action(user, action_id, value, channel_id=channel_id, message_ts=ts)
    await h.settle()
    return [r.get("text", "") for r in h.fake.responses(d.response_url or "")]


async def _submit(
    h: SlackHarness, user: str, callback_id: str, metadata: str | None = None, **values: str
) -> dict[str, Any]:
    """Submit a form; returns the ack and what the member sees once the work is done: the bot
    acks first, then answers in the modal (or, where the modal is gone, in a DM)."""
    state = {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}
    d = await h.driver.view_submission(user, callback_id, state, private_metadata=metadata)
    await h.settle()
    dm = h.fake.open_im(user)
    return {
        "ack": d.json,
        "views": [v.get("blocks") for v in h.fake.views.values()],
        "dm": [m.get("text") for m in h.fake.messages(dm.id)],
    }


async def _claim(h: SlackHarness, user: str, label: str) -> dict[str, Any]:
    """A member asks for a trusted role from the welcome DM (button, then the modal)."""
    dm = h.fake.open_im(user)
    welcome = h.fake.messages(dm.id)[0]
    action_id, value = _button(welcome, label)
    await _press(h, user, action_id, value, dm.id, welcome["ts"])
    return await _submit(h, user, "onb_claim", cohort="Fashion 2026")


def _requests(h: SlackHarness, who: str) -> list[dict[str, Any]]:
    review = h.fake.channel_by_name("alumni-staff-review")
    return [m for m in review.messages if f"{who} asks for the role" in s_text(m)]


async def test_forged_approve_buttons_and_forms_grant_nothing(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await s_cohort(h)
        lise = await s_join(h, "lise", "lise@example.com")
        mallory = await s_join(h, "mallory", "mallory@example.com")
        await _claim(h, lise, "I am a student")
        (request,) = _requests(h, "lise")
        action_id, value = _button(request, "Approve")
        review = h.fake.channel_by_name("alumni-staff-review").id

        # Mallory cannot see the staff channel; she forges the click with the right value.
        answer = await _press(h, mallory, action_id, value, review, request["ts"])
        assert "Only staff" in answer[0]
        # ... and a click on a button that does not exist, and one with a mangled value.
        unknown = await _press(h, mallory, "alumni:onb:grant", "staff", review, "1")
        assert "That button no longer works" in unknown[0]
        # A mangled value from a member is refused before it is read (the level comes first).
        mangled = await _press(h, mallory, action_id, "1;DROP:approve", review, request["ts"])
        assert "Only staff" in mangled[0]
        # A forged form: a claim for a role nobody offers, and one for staff (goes to staff).
        forged = await _submit(h, mallory, "onb_claim", metadata="admin", cohort="x")
        assert "That form is no longer open" in json.dumps(forged)
        await _submit(h, mallory, "onb_claim", metadata="staff", cohort="Fashion 2026")
        assert _requests(h, "mallory")  # a request staff decide, never a grant

        assert lise not in h.fake.channel_by_name(STUDENT).members
        assert await count(engine, MemberRoleRow, MemberRoleRow.user_id.in_([lise, mallory])) == 0
        assert await count(engine, RoleRequestRow, RoleRequestRow.status != "pending") == 0


async def test_nobody_approves_their_own_request_and_members_none(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await s_cohort(h)
        teacher = await s_join(h, "teacher", "teacher@example.com")
        await h.command(h.admin, f"role grant member:{teacher} role:staff")
        await _claim(h, teacher, "I am a graduate")
        (own,) = _requests(h, "teacher")
        action_id, value = _button(own, "Approve")
        review = h.fake.channel_by_name("alumni-staff-review").id
        answer = await _press(h, teacher, action_id, value, review, own["ts"])
        assert "You can't decide your own request" in answer[0]
        assert teacher not in h.fake.channel_by_name("alumni-role-alumni").members


async def test_other_peoples_post_buttons_do_nothing(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        kari = await s_join(h, "kari", "kari@example.com")
        ola = await s_join(h, "ola", "ola@example.com")
        await h.driver.slash_command(kari, h.fake.general_id, "/alumni", "post job")
        await h.settle()
        await _submit(
            h,
            kari,
            "post",
            title="Pattern cutter",
            employer="Studio Nord",
            place="Oslo",
            deadline="2030-09-30",
            link="https://example.org/job",
        )
        jobs = h.fake.channel_by_name("alumni-jobs")
        card = jobs.messages[0]
        for label in ("Filled", "Edit"):
            action_id, value = _button(card, label)
            answer = await _press(h, ola, action_id, value, jobs.id, card["ts"])
            assert "Only the person who posted this (or staff)" in answer[0], answer
        assert h.fake.calls_to("chat.update") == []
        # Only Kari's own form was opened: Ola's Edit press opened none.
        assert len(h.fake.calls_to("views.open")) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_six_members_racing_for_one_staff_code_make_one_staff_member(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with engine_on(backend, tmp_path, pg_url) as engine, slack_harness(engine) as h:
        code = await s_cohort(h, role="staff")
        racers = [await s_join(h, f"racer{i}", f"racer{i}@example.com") for i in range(6)]
        import asyncio

        answers = await asyncio.gather(
            *(s_commands_at_once(h, uid, [f"join code:{code}"]) for uid in racers)
        )
        flat = [a for batch in answers for a in batch]
        assert len([a for a in flat if "You now have" in a]) == 1, flat
        assert len([a for a in flat if "used as often as it may" in a]) == 5
        staff = await count(engine, MemberRoleRow, MemberRoleRow.role_key == "staff")
        assert staff == 1
        staff_channel = h.fake.channel_by_name("alumni-role-staff")
        assert len(set(racers) & set(staff_channel.members)) == 1


async def test_a_replayed_gateway_join_welcomes_once(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        member = await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=False)
        await h.fake.wait_for(lambda: h.fake.dms_to(BOB_ID), timeout=10)
        # The same GUILD_MEMBER_ADD again (a replay after RESUME), and a drop + resume.
        for _ in range(2):
            await h.fake.dispatch("GUILD_MEMBER_ADD", {**member, "guild_id": str(h.guild.id)})
        await h.fake.drop_connection(code=4000)
        marker = await h.fake.user_message(h.fake.text_channel_id(h.guild.id), BOB_ID, "hi")
        from bot.events import MessagePosted
        from tests.discord_harness import recorder

        rec = recorder(h.bot)
        await h.fake.wait_for(
            lambda: any(e.message.id == str(marker) for e in rec.of(MessagePosted)), timeout=10
        )
        welcomes = [m for m in h.fake.dms_to(BOB_ID) if "Welcome" in message_text(m)]
        assert len(welcomes) == 1
        async with h.uow() as uow:
            members = [m for m in await uow.members.for_group(str(h.guild.id)) if m.name == "bob"]
        assert len(members) == 1
