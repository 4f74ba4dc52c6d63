"""Every feature end to end on the real discord.py client against the fake Discord.

Each test drives the bot with all its cogs (`bot.cogs.load_all`) the way members do on Discord
(slash commands, buttons in DMs and channels, modals, joins with membership screening, messages
in threads) and asserts what the fake Discord received: roles on members, messages in channels,
DMs, attachments, threads, polls, allowed mentions, rate-limited requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.render import (
    button_custom_id,
    custom_id_group,
    form_custom_id,
    parse_button_custom_id,
    parse_form_custom_id,
)
from bot.cogs.onboarding import views
from bot.events import MessagePosted
from bot.messages import Button, FormSpec
from bot.scheduler import Scheduler
from tests.discord_harness import (
    ALICE_ID,
    OWNER_ID,
    STAFF_ID,
    Harness,
    MovableClock,
    answer_text,
    discord_harness,
    message_text,
    recorder,
    run_command,
)
from tests.fakes.discord_fake import FakeInteraction

BOB_ID = 444_000_000_000_000_004
CARA_ID = 555_000_000_000_000_005
MEMBER_PATCH = "PATCH /guilds/{}/members/{}"


# -- helpers ----------------------------------------------------------------------------------


async def setup_group(h: Harness) -> None:
    """The owner (an admin on Discord) runs `/alumni setup` and it finishes."""
    inter = await run_command(h.fake, h.guild, OWNER_ID, "setup")
    await h.fake.wait_for(lambda: inter.answered, timeout=15)
    assert "Setup finished." in answer_text(inter)


async def command(
    h: Harness, user_id: int, words: str, options: dict[str, Any] | None = None
) -> FakeInteraction:
    """Run a command and wait for its final answer (deferred commands answer in a follow-up)."""
    inter = await run_command(h.fake, h.guild, user_id, words, options)
    if inter.response_type == 5:
        await h.fake.wait_for(lambda: inter.answered, timeout=10)
    return inter


def channel_named(h: Harness, name: str) -> dict[str, Any]:
    """The fake's channel by name (exactly one)."""
    found = [c for c in h.guild.channels.values() if c["name"] == name]
    assert len(found) == 1, f"{len(found)} channels named {name}"
    return found[0]


def role_id(h: Harness, name: str) -> int:
    """The fake's role id by name."""
    role = h.fake.role_named(h.guild.id, name)
    assert role is not None, f"no role {name}"
    return int(role["id"])


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    """label -> custom_id of every button on a message."""
    return {
        b["label"]: b["custom_id"]
        for row in message.get("components") or []
        for b in row.get("components") or []
        if b.get("type") == 2
    }


async def press(h: Harness, user_id: int, message: dict[str, Any], label: str) -> FakeInteraction:
    """A member presses a button by its label; returns the interaction once answered."""
    custom_id = buttons_of(message)[label]
    iid = await h.fake.press_button(h.guild.id, user_id, int(message["id"]), custom_id)
    inter = await h.fake.wait_for_response(iid, timeout=10)
    await h.fake.wait_for(lambda: inter.messages or inter.modal, timeout=10)
    return inter


async def submit(
    h: Harness, user_id: int, opened: FakeInteraction, values: dict[str, str]
) -> FakeInteraction:
    """A member fills in and submits the modal the bot opened in `opened`."""
    assert opened.response_type == 9 and opened.modal is not None
    sid = await h.fake.submit_modal(h.guild.id, user_id, opened.modal["custom_id"], values)
    inter = await h.fake.wait_for_response(sid, timeout=10)
    await h.fake.wait_for(lambda: inter.messages, timeout=10)
    if inter.response_type == 5:
        await h.fake.wait_for(lambda: inter.answered, timeout=10)
    return inter


async def join(h: Harness, user_id: int, name: str) -> dict[str, Any]:
    """A member joins, passes membership screening, and gets the welcome DM; returns it."""
    await h.fake.member_join(h.guild.id, user_id, name, pending=True)
    await h.fake.member_passes_screening(h.guild.id, user_id)
    await h.fake.wait_for(lambda: h.fake.dms_to(user_id), timeout=10)
    return h.fake.dms_to(user_id)[-1]


def patches_for(h: Harness, user_id: int) -> int:
    """PATCH requests the bot made to one member (role changes)."""
    return sum(
        1
        for r in h.fake.requests_to(MEMBER_PATCH)
        if r.path.endswith(f"/members/{user_id}") and r.status < 300
    )


async def invite_cohort(h: Harness) -> tuple[str, str]:
    """Staff create Fashion 2026 and invite it; returns (invite code, join code)."""
    created = await command(
        h,
        STAFF_ID,
        "cohort create",
        {"program": "Fashion", "year": 2026, "graduates": "2029-06-15"},
    )
    assert "Fashion 2026" in answer_text(created) and created.ephemeral
    invited = await command(
        h,
        STAFF_ID,
        "invite cohort",
        {"cohort": "Fashion 2026", "emails": "Kari Nordmann,kari@example.com; ola@example.com"},
    )
    text = answer_text(invited)
    assert invited.ephemeral
    url = re.search(r"https://discord\.gg/(\S+)", text)
    code = re.search(r"Join code: `([A-Z0-9]+)`", text)
    assert url is not None and code is not None, text
    return url.group(1), code.group(1)


# -- 1. a teacher's cohort invite, a join through screening and a code ------------------------


async def test_cohort_invite_join_screening_and_code_modal_grant_roles(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        invite_code, join_code = await invite_cohort(h)
        invite = h.guild.invites[invite_code]  # a real invite the bot created in the fake
        assert int(invite["channel_id"]) == int(channel_named(h, "welcome")["id"])

        # Pending: membership screening is not passed, so the bot does nothing yet.
        await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=True)
        # A later event on the same connection proves the join was already handled.
        mid = await h.fake.user_message(h.fake.text_channel_id(h.guild.id), ALICE_ID, "hi")
        rec = recorder(h.bot)
        await h.fake.wait_for(lambda: any(e.message.id == str(mid) for e in rec.of(MessagePosted)))
        assert h.fake.dms_to(BOB_ID) == []

        await h.fake.member_passes_screening(h.guild.id, BOB_ID)
        await h.fake.wait_for(lambda: h.fake.dms_to(BOB_ID), timeout=10)
        dms = h.fake.dms_to(BOB_ID)
        assert len(dms) == 1
        welcome = dms[0]
        assert "Welcome to the alumni group!" in message_text(welcome)
        labels = set(buttons_of(welcome))
        assert {"I have a code", "I am a student", "Introduce yourself"} <= labels

        opened = await press(h, BOB_ID, welcome, "I have a code")
        assert opened.guild_id is None  # pressed in the DM: Discord sends no guild
        assert opened.response_type == 9, answer_text(opened)
        assert opened.modal is not None and opened.modal["title"]
        answer = await submit(h, BOB_ID, opened, {"code": join_code.lower()})
        assert "You now have" in answer_text(answer) and "Fashion 2026" in answer_text(answer)

        roles = h.fake.member_role_ids(h.guild.id, BOB_ID)
        assert roles == {role_id(h, "student"), role_id(h, "Fashion 2026")}
        assert patches_for(h, BOB_ID) == 1
        assert len(h.fake.dms_to(BOB_ID)) == 1  # one welcome, however the join arrived


# -- 2. a self-chosen trusted role goes to staff ----------------------------------------------


async def test_claimed_student_role_is_approved_by_staff_never_by_the_requester(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        welcome = await join(h, BOB_ID, "bob")
        opened = await press(h, BOB_ID, welcome, "I am a student")
        sent = await submit(h, BOB_ID, opened, {"cohort": ""})
        assert sent.ephemeral and "staff" in answer_text(sent).lower()
        assert patches_for(h, BOB_ID) == 0  # nothing granted on a claim alone

        review = channel_named(h, "staff-review")
        await h.fake.wait_for(lambda: h.fake.channel_messages(int(review["id"])))
        request = h.fake.channel_messages(int(review["id"]))[-1]
        assert "bob asks for the role" in message_text(request)
        assert set(buttons_of(request)) == {"Approve", "Deny"}
        everyone_view = h.fake.channel_permissions(h.guild, BOB_ID, review)
        assert not everyone_view & 1024  # the requester cannot even see the review channel

        refused = await press(h, BOB_ID, request, "Approve")
        assert refused.ephemeral and "Only staff" in answer_text(refused)
        assert h.fake.member_role_ids(h.guild.id, BOB_ID) == set()

        approved = await press(h, STAFF_ID, request, "Approve")
        assert approved.ephemeral and "approved" in answer_text(approved).lower()
        assert h.fake.member_role_ids(h.guild.id, BOB_ID) == {role_id(h, "student")}
        await h.fake.wait_for(lambda: len(h.fake.dms_to(BOB_ID)) == 2)
        assert "staff approved your request" in message_text(h.fake.dms_to(BOB_ID)[-1])
        edited = h.fake.find_message(int(request["id"]))
        assert "approved" in message_text(edited).lower() and not buttons_of(edited)

        # A staff member asking for more (alumni) cannot approve their own request.
        staff_welcome = await _welcome_for_existing(h, STAFF_ID)
        opened = await press(h, STAFF_ID, staff_welcome, "I am a graduate")
        await submit(h, STAFF_ID, opened, {"cohort": ""})
        await h.fake.wait_for(lambda: len(h.fake.channel_messages(int(review["id"]))) == 2)
        own = h.fake.channel_messages(int(review["id"]))[-1]
        refused = await press(h, STAFF_ID, own, "Approve")
        assert refused.ephemeral and "your own request" in answer_text(refused)
        assert role_id(h, "alumni") not in h.fake.member_role_ids(h.guild.id, STAFF_ID)


async def _welcome_for_existing(h: Harness, user_id: int) -> dict[str, Any]:
    """The welcome DM for a member who was there before (sent as the bot would on join)."""
    group = await h.bot.group(str(h.guild.id))
    await h.bot.workspace.send_dm(str(h.guild.id), str(user_id), views.welcome(group.language))
    return h.fake.dms_to(user_id)[-1]


# -- 5. an introduction from the welcome DM ---------------------------------------------------


async def test_introduction_modal_from_the_welcome_dm_posts_to_introductions(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        welcome = await join(h, BOB_ID, "bob")
        opened = await press(h, BOB_ID, welcome, "Introduce yourself")
        assert opened.modal is not None
        assert len(opened.modal["components"]) == 4
        answer = await submit(
            h,
            BOB_ID,
            opened,
            {
                "name": "Bob Berg",
                "programme": "Fashion 2026",
                "work": "Pattern cutting @everyone",
                "looking": "A studio to share",
            },
        )
        introductions = channel_named(h, "introductions")
        # Named by its mention, which Discord shows as the channel's name, linked.
        assert answer.ephemeral and f"<#{introductions['id']}>" in answer_text(answer)
        intros = h.fake.channel_messages(int(introductions["id"]))
        assert len(intros) == 1
        posted = message_text(intros[0])
        assert "Bob Berg" in posted and "A studio to share" in posted
        assert "@everyone" not in posted  # defused
        sent = [
            r for r in h.fake.requests if r.path.endswith(f"/{intros[0]['channel_id']}/messages")
        ]
        assert sent[-1].body["allowed_mentions"]["parse"] == []


# -- 3. graduation on the scheduler's clock ---------------------------------------------------


async def redeem(h: Harness, user_id: int, name: str, code: str) -> None:
    """A member joins and redeems a code with `/alumni join`."""
    await join(h, user_id, name)
    answer = await command(h, user_id, "join", {"code": code})
    assert "You now have" in answer_text(answer), answer_text(answer)


async def test_graduation_swaps_student_for_alumni_and_congratulates_once(
    engine: AsyncEngine,
) -> None:
    clock = MovableClock()
    async with discord_harness(engine, clock=clock) as h:
        await setup_group(h)
        _, code = await invite_cohort(h)
        await redeem(h, BOB_ID, "bob", code)
        await redeem(h, CARA_ID, "cara", code)
        student, alumni = role_id(h, "student"), role_id(h, "alumni")
        cohort = role_id(h, "Fashion 2026")
        announcements = int(channel_named(h, "announcements")["id"])
        scheduler = Scheduler(h.bot)

        clock.advance(datetime(2029, 6, 14, 8, tzinfo=UTC) - clock.now())  # the day before
        await scheduler.tick()
        assert h.fake.member_role_ids(h.guild.id, BOB_ID) == {student, cohort}

        clock.advance(timedelta(days=2))  # 2029-06-16 10:00 in Oslo: past the date
        ran = await scheduler.tick()
        assert (str(h.guild.id), "graduation", "2029-06-16") in ran
        for uid in (BOB_ID, CARA_ID):
            assert h.fake.member_role_ids(h.guild.id, uid) == {alumni, cohort}
            assert patches_for(h, uid) == 2  # the code's grant, then the swap: one each
        posts = [
            m
            for m in h.fake.channel_messages(announcements)
            if "Congratulations" in message_text(m)
        ]
        assert len(posts) == 1
        assert "Fashion 2026" in message_text(posts[0]) and "2 members" in message_text(posts[0])

        clock.advance(timedelta(days=1))
        await scheduler.tick()
        again = [
            m
            for m in h.fake.channel_messages(announcements)
            if "Congratulations" in message_text(m)
        ]
        assert len(again) == 1 and patches_for(h, BOB_ID) == 2


# -- 4. the weekly question, its thread, replies and the recap --------------------------------


def allowed_mentions_of(h: Harness, message: dict[str, Any]) -> dict[str, Any]:
    """The allowed_mentions the bot sent with a message (matched on its content)."""
    sent = [
        r
        for r in h.fake.requests
        if r.method == "POST"
        and r.path.endswith(f"/channels/{message['channel_id']}/messages")
        and isinstance(r.body, dict)
        and r.body.get("content") == message["content"]
    ]
    assert sent, "the message was not sent by the bot"
    allowed: dict[str, Any] = sent[-1].body["allowed_mentions"]
    return allowed


async def test_weekly_question_poll_thread_ping_replies_and_recap(engine: AsyncEngine) -> None:
    clock = MovableClock()
    async with discord_harness(engine, clock=clock) as h:
        await setup_group(h)
        scheduler = Scheduler(h.bot)
        discussion = int(channel_named(h, "discussion")["id"])
        ping_role = role_id(h, "discussion")

        # The scheduler posts the first question at Monday 10:00 (the slot after setup).
        clock.advance(timedelta(hours=1, minutes=5))
        await scheduler.tick()
        first = h.fake.channel_messages(discussion)
        assert len(first) == 1 and "Question of the week" in message_text(first[0])
        assert first[0]["thread"]["parent_id"] == str(discussion)
        assert first[0]["content"] == f"<@&{ping_role}>"
        allowed = allowed_mentions_of(h, first[0])
        assert allowed["parse"] == [] and [int(r) for r in allowed["roles"]] == [ping_role]
        assert allowed.get("users", []) == []

        # Staff add a question with answers and post it now: a native poll.
        added = await command(
            h,
            STAFF_ID,
            "prompt add",
            {"text": "Should every show publish its fabric waste?", "options": "Yes|No|Only big"},
        )
        assert added.ephemeral
        # This week's question went out: staff are asked, privately, with a button.
        asked = await command(h, STAFF_ID, "prompt now")
        assert asked.ephemeral and "already went out this week" in answer_text(asked)
        assert len(h.fake.channel_messages(discussion)) == 1
        posted = await press(h, STAFF_ID, asked.messages[-1], "Post another question")
        assert "fabric waste" in answer_text(posted)
        question = h.fake.channel_messages(discussion)[-1]
        assert question["poll"]["question"]["text"] == "Should every show publish its fabric waste?"
        answers = [a["poll_media"]["text"] for a in question["poll"]["answers"]]
        assert answers == ["Yes", "No", "Only big"]
        thread_id = int(question["thread"]["id"])
        assert h.guild.threads[thread_id]["parent_id"] == str(discussion)
        assert [int(r) for r in allowed_mentions_of(h, question)["roles"]] == [ping_role]

        # Replies in the thread: a student, a member without a role, and a staff member.
        granted = await command(h, STAFF_ID, "role grant", {"member": ALICE_ID, "role": "student"})
        assert "student" in answer_text(granted)
        client = h.bot.workspace.client  # type: ignore[attr-defined]
        await h.fake.wait_for(lambda: client.get_channel(thread_id) is not None)
        await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=False)
        rec = recorder(h.bot)
        ids = [
            await h.fake.user_message(thread_id, ALICE_ID, "Yes, and the dye too"),
            await h.fake.user_message(thread_id, BOB_ID, "Only if it is audited"),
            await h.fake.user_message(thread_id, STAFF_ID, "Good points"),
        ]
        await h.fake.wait_for(
            lambda: {str(i) for i in ids} <= {e.message.id for e in rec.of(MessagePosted)}
        )

        clock.advance(timedelta(days=7))
        await scheduler.tick()
        in_thread = h.fake.channel_messages(thread_id)
        recap = [m for m in in_thread if "A week of answers" in message_text(m)]
        assert len(recap) == 1
        text = message_text(recap[0])
        assert "3 replies" in text and "1 from students" in text and "1 from staff" in text
        # ...and the next week's question went out as well (a new message with its own thread).
        assert len(h.fake.channel_messages(discussion)) == 3


# -- 6. a job card in the jobs forum, closed by its author ------------------------------------


async def test_post_job_modal_forum_card_thread_and_close_by_author_only(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine, clock=MovableClock()) as h:
        await setup_group(h)
        jobs = channel_named(h, "jobs")
        assert jobs["type"] == 15  # a forum in a Community server

        opened = await run_command(h.fake, h.guild, ALICE_ID, "post job")
        assert opened.response_type == 9 and opened.modal is not None
        answer = await submit(
            h,
            ALICE_ID,
            opened,
            {
                "title": "Pattern cutter",
                "employer": "Studio Nord <@&1>",
                "place": "Oslo",
                "deadline": "2026-09-30",
                "link": "https://example.com/job",
            },
        )
        # The answer links the channel the card went to (Discord shows <#id> as its name).
        assert answer.ephemeral and f"Posted in <#{jobs['id']}>" in answer_text(answer)

        posts = [t for t in h.guild.threads.values() if t["parent_id"] == jobs["id"]]
        assert len(posts) == 1 and posts[0]["name"] == "Job: Pattern cutter"
        thread_id = int(posts[0]["id"])
        card, hint = h.fake.channel_messages(thread_id)
        assert card["embeds"][0]["title"] == "Job: Pattern cutter"
        assert "Studio Nord" in message_text(card) and "<@&1>" not in message_text(card)
        assert "Ask your questions" in message_text(hint)
        labels = buttons_of(card)
        assert "Edit" in labels and len(labels) == 2
        close_label = next(label for label in labels if label != "Edit")

        # Someone else presses the close button: refused, only they see it, nothing changes.
        await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=False)
        client = h.bot.workspace.client  # type: ignore[attr-defined]
        await h.fake.wait_for(lambda: client.get_guild(h.guild.id).get_member(BOB_ID))
        refused = await press(h, BOB_ID, card, close_label)
        assert refused.ephemeral and "Only the person who posted this" in answer_text(refused)
        assert h.fake.find_message(int(card["id"])).get("edited_timestamp") is None

        closed = await press(h, ALICE_ID, card, close_label)
        assert closed.ephemeral and "marked filled" in answer_text(closed)
        edited = h.fake.find_message(int(card["id"]))
        assert edited["edited_timestamp"] is not None
        assert "filled" in message_text(edited) and not buttons_of(edited)


# -- 7. files: the stats chart and the privacy export -----------------------------------------


async def test_stats_chart_is_an_image_and_privacy_export_is_a_json_file_by_dm(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine, clock=MovableClock()) as h:
        await setup_group(h)
        await h.fake.user_message(int(channel_named(h, "discussion")["id"]), ALICE_ID, "hello")

        stats = await command(h, STAFF_ID, "stats", {"weeks": 4})
        assert stats.ephemeral
        shown = stats.messages[-1]
        assert shown["embeds"][0]["title"]
        image = shown["attachments"][0]
        assert image["filename"].endswith(".png") and image["size"] > 1000
        assert shown["embeds"][0]["image"]["url"] == f"attachment://{image['filename']}"
        assert h.fake.attachment_data[image["id"]].startswith(b"\x89PNG")

        exported = await command(h, ALICE_ID, "privacy export")
        assert exported.ephemeral and "direct message" in answer_text(exported)
        dm = h.fake.dms_to(ALICE_ID)[-1]
        assert "everything I store about you" in message_text(dm)
        [attachment] = dm["attachments"]
        assert attachment["filename"].endswith(".json")
        document = json.loads(h.fake.attachment_data[attachment["id"]])
        assert document["user_id"] == str(ALICE_ID) and document["group"] == str(h.guild.id)


# -- 8. refusals and a missing permission ------------------------------------------------------


async def test_member_refused_and_missing_manage_roles_named_with_nothing_half_done(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        # Hidden from a member by Discord; a member Discord lets through (an admin allowed
        # everyone in Server Settings > Integrations) is still refused by the bot.
        with pytest.raises(PermissionError):
            await command(h, ALICE_ID, "cohort create", {"program": "Fashion", "year": 2026})
        h.fake.allow_command(h.guild.id, "alumni", ("cohort", "create"), h.guild.id)
        refused = await command(h, ALICE_ID, "cohort create", {"program": "Fashion", "year": 2026})
        assert refused.ephemeral and "Only staff" in answer_text(refused)
        assert h.fake.role_named(h.guild.id, "Fashion 2026") is None
        _, code = await invite_cohort(h)
        cohort = role_id(h, "Fashion 2026")
        await join(h, BOB_ID, "bob")

        # An admin takes Manage Roles away from the bot; staff grant the cohort role.
        h.fake.set_bot_permissions(h.guild.id, manage_roles=False)
        guild = h.bot.workspace.client.get_guild(h.guild.id)  # type: ignore[attr-defined]
        await h.fake.wait_for(lambda: not guild.me.guild_permissions.manage_roles)
        patches = len(h.fake.requests_to(MEMBER_PATCH))
        grant = {"member": ALICE_ID, "role": "Fashion 2026"}
        failed = await command(h, STAFF_ID, "role grant", grant)
        assert failed.ephemeral
        assert 'missing the permission "Manage Roles"' in answer_text(failed)
        assert cohort not in h.fake.member_role_ids(h.guild.id, ALICE_ID)
        assert len(h.fake.requests_to(MEMBER_PATCH)) == patches
        async with h.uow() as uow:  # the database does not claim what Discord lacks
            alice = await uow.members.get(str(h.guild.id), str(ALICE_ID))
        assert alice is None or not any(k.startswith("cohort:") for k in alice.roles)
        # A newcomer's code meets the same refusal: the member is told, and keeps the code.
        bob_failed = await command(h, BOB_ID, "join", {"code": code})
        assert 'missing the permission "Manage Roles"' in answer_text(bob_failed)
        assert h.fake.member_role_ids(h.guild.id, BOB_ID) == set()

        # Once the permission is back, the same command does it.
        h.fake.set_bot_permissions(h.guild.id, manage_roles=True)
        await h.fake.wait_for(lambda: guild.me.guild_permissions.manage_roles)
        done = await command(h, STAFF_ID, "role grant", grant)
        assert "Fashion 2026" in answer_text(done) and "missing" not in answer_text(done)
        assert cohort in h.fake.member_role_ids(h.guild.id, ALICE_ID)
        bob_done = await command(h, BOB_ID, "join", {"code": code})
        assert "You now have" in answer_text(bob_done)
        assert h.fake.member_role_ids(h.guild.id, BOB_ID) == {role_id(h, "student"), cohort}


# -- 9. a whole class at once under Discord's rate limits --------------------------------------


async def test_thirty_members_join_at_once_and_all_get_their_roles_under_rate_limits(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        _, code = await invite_cohort(h)
        student, cohort = role_id(h, "student"), role_id(h, "Fashion 2026")
        h.fake.set_rate_limit(MEMBER_PATCH, limit=10, per_seconds=0.5)
        class_ids = [900_000_000_000_000_000 + n for n in range(30)]

        await asyncio.gather(
            *(h.fake.member_join(h.guild.id, uid, f"student{n}") for n, uid in enumerate(class_ids))
        )
        await asyncio.gather(
            *(h.fake.member_passes_screening(h.guild.id, uid) for uid in class_ids)
        )
        await h.fake.wait_for(lambda: all(h.fake.dms_to(uid) for uid in class_ids), timeout=15)

        async def redeem_in_dm(uid: int) -> FakeInteraction:
            opened = await press(h, uid, h.fake.dms_to(uid)[0], "I have a code")
            return await submit(h, uid, opened, {"code": code})

        answers = await asyncio.gather(*(redeem_in_dm(uid) for uid in class_ids))
        assert all("You now have" in answer_text(a) for a in answers)
        for uid in class_ids:
            assert h.fake.member_role_ids(h.guild.id, uid) == {student, cohort}
            assert patches_for(h, uid) == 1
            assert len(h.fake.dms_to(uid)) == 1
        assert h.fake.rate_limited_count.get(MEMBER_PATCH, 0) <= 1
        assert all(n <= 1 for n in h.fake.rate_limited_count.values())


# -- buttons and forms in DMs ------------------------------------------------------------------


def test_custom_ids_keep_colons_and_carry_the_guild_in_dms() -> None:
    decide = Button("Approve", "onb:decide", "12:approve")
    assert parse_button_custom_id(button_custom_id(decide)) == ("onb:decide", "12:approve")
    in_dm = button_custom_id(Button("I have a code", "onb:code"), "1234")
    assert parse_button_custom_id(in_dm) == ("onb:code", "") and custom_id_group(in_dm) == "1234"
    form = form_custom_id(FormSpec("onb_claim", "Claim", (), context="student"), "1234")
    assert parse_form_custom_id(form) == ("onb_claim", "student")
    assert custom_id_group(form) == "1234"
    assert parse_button_custom_id("alumni:vote:yes") == ("vote", "yes")  # sent before `|`
    assert parse_button_custom_id("alumni.x1:vote|yes") is None
    assert parse_button_custom_id("other:vote|yes") is None


async def test_a_dm_button_of_someone_no_longer_in_the_server_does_nothing(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        welcome = await join(h, BOB_ID, "bob")
        await h.fake.member_leave(h.guild.id, BOB_ID)
        guild = h.bot.workspace.client.get_guild(h.guild.id)  # type: ignore[attr-defined]
        await h.fake.wait_for(lambda: guild.get_member(BOB_ID) is None)
        caplog.set_level(logging.INFO, logger="adapters.discord.translate")
        iid = await h.fake.press_button(
            h.guild.id, BOB_ID, int(welcome["id"]), buttons_of(welcome)["I have a code"]
        )
        await h.fake.wait_for(lambda: "ignored a DM interaction" in caplog.text)
        assert not h.fake.interactions[iid].responded
