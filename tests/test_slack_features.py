"""Every feature end to end on the real Bolt app (signed HTTP and Socket Mode) against the fake.

The full cog set runs; the tests assert what the fake Slack holds afterwards: what Slack was
asked to do and what a member would see (channels, DMs, modals, ephemeral notes, files).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import START
from tests.fakes.slack_fake import Channel
from tests.slack_harness import ManualClock, SlackHarness, slack_harness

LINK = "https://join.slack.com/t/alumni/shared_invite/zt-fake-link"
COHORT = "alumni-role-fashion-2026"
STUDENT = "alumni-role-student"


def text_of(message: dict[str, Any]) -> str:
    """Everything a member reads in a message (fallback text and blocks)."""
    return json.dumps(message, ensure_ascii=False)


def dms(h: SlackHarness, user: str) -> list[dict[str, Any]]:
    """Messages the bot sent a member by DM."""
    return list(h.fake.messages(h.fake.open_im(user).id))


def channel(h: SlackHarness, name: str) -> Channel:
    """A channel of the fake by name."""
    return h.fake.channel_by_name(name)


def top_level(ch: Channel) -> list[dict[str, Any]]:
    """Messages of a channel that are not thread replies."""
    return [m for m in ch.messages if m.get("thread_ts") in (None, m["ts"])]


def thread(ch: Channel, parent: dict[str, Any]) -> list[dict[str, Any]]:
    """A message and its thread replies."""
    return [m for m in ch.messages if m.get("thread_ts") == parent["ts"] or m is parent]


def button(message: dict[str, Any], label: str) -> tuple[str, str]:
    """(action_id, value) of the button with this label in a message."""
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element["text"]["text"] == label:
                return str(element["action_id"]), str(element.get("value", ""))
    raise AssertionError(f"no button {label!r} in {text_of(message)}")


def field_values(**values: str) -> dict[str, dict[str, dict[str, Any]]]:
    """A modal's state.values as Slack sends them (block id = field name)."""
    return {k: {"value": {"type": "plain_text_input", "value": v}} for k, v in values.items()}


async def press(
    h: SlackHarness, user: str, message: dict[str, Any], label: str, channel_id: str
) -> list[str]:
    """Press a button of a stored message; returns the texts answered on its response_url."""
    action_id, value = button(message, label)
    d = await h.driver.block_action(
        user, action_id, value, channel_id=channel_id, message_ts=message["ts"]
    )
    await h.settle()
    return [r.get("text", "") for r in h.fake.responses(d.response_url or "")]


async def submit(h: SlackHarness, user: str, callback_id: str, **values: str) -> dict[str, Any]:
    """Submit the latest modal opened with this callback_id; returns the modal the member
    sees once the bot is done (what it acked, then what it updated the modal to)."""
    d = await h.driver.view_submission(user, callback_id, field_values(**values))
    await h.settle()
    return h.modal(d)


async def join(h: SlackHarness, name: str, email: str, deliveries: int = 1) -> str:
    """A new user in the workspace, with team_join delivered `deliveries` times."""
    uid = h.fake.add_user(name, email=email)
    before = h.received["team_join"]
    await h.driver.team_join(uid, deliveries=deliveries)
    await h.fake.wait_for(lambda: h.received["team_join"] == before + deliveries)
    await h.settle()
    return uid


async def invite_cohort(h: SlackHarness, emails: str = "kari@example.com") -> str:
    """Setup, the Fashion 2026 cohort and a roster; returns the staff member's answer."""
    await h.command(h.admin, "setup")
    created = await h.command(
        h.admin, "cohort create program:Fashion year:2026 graduates:2029-06-15"
    )
    assert "Fashion 2026" in created[0]
    answer = await h.command(h.admin, f'invite cohort:"Fashion 2026" emails:{emails}')
    return answer[0]


def code_in(answer: str) -> str:
    """The join code in an invite answer."""
    found = re.search(r"Join code: `(\w+)`", answer)
    assert found, answer
    return found.group(1)


async def member_rows(h: SlackHarness) -> list[Any]:
    """The members the bot has recorded."""
    async with h.uow() as uow:
        return list(await uow.members.for_group(h.fake.team["id"]))


# -- 1 and 8: a teacher invites a cohort; team_join three times -----------------------------


async def roster_flow(h: SlackHarness) -> None:
    answer = await invite_cohort(h)
    assert f"Invite link: {LINK}" in answer and code_in(answer)
    kari = await join(h, "kari", "kari@example.com", deliveries=3)
    assert h.received["team_join"] == 3
    (welcome,) = dms(h, kari)
    assert "You are on the roster of Fashion 2026" in text_of(welcome)
    assert kari in channel(h, STUDENT).members and kari in channel(h, COHORT).members
    assert channel(h, STUDENT).is_private and channel(h, COHORT).is_private
    assert kari not in channel(h, "alumni-role-alumni").members
    assert [m.user_id for m in await member_rows(h)] == [kari]


async def test_roster_invite_and_team_join_three_times(engine: AsyncEngine) -> None:
    async with slack_harness(engine, settings={"slack_invite_link": LINK}) as h:
        await roster_flow(h)
        # Repeats carried Slack's retry headers and were still answered 200.
        assert h.received["team_join"] == 3


async def test_roster_flow_over_socket_mode(engine: AsyncEngine) -> None:
    async with slack_harness(engine, mode="socket", settings={"slack_invite_link": LINK}) as h:
        await roster_flow(h)
        assert len(h.fake.acks) >= 6  # every envelope acked over the websocket


# -- 2: a code from anywhere, and guessing locks code entry -----------------------------------


async def test_join_code_grants_roles_and_guessing_locks(engine: AsyncEngine) -> None:
    async with slack_harness(engine, settings={"slack_invite_link": LINK}) as h:
        code = code_in(await invite_cohort(h))
        ola = await join(h, "ola", "ola@elsewhere.org")
        (welcome,) = dms(h, ola)
        assert "I have a code" in text_of(welcome) and ola not in channel(h, STUDENT).members
        answer = await h.command(ola, f"join code:{code.lower()}")
        assert "You now have: student, Fashion 2026" in answer[0]
        assert ola in channel(h, STUDENT).members and ola in channel(h, COHORT).members

        lise = await join(h, "lise", "lise@elsewhere.org")
        review = channel(h, "alumni-staff-review")
        for n in range(4):
            answer = await h.command(lise, "join code:WRONG123")
            assert f"({4 - n} tries left" in answer[0]
        assert not any("wrong join codes" in text_of(m) for m in review.messages)
        answer = await h.command(lise, "join code:WRONG123")
        assert "Too many wrong codes" in answer[0]
        (alert,) = [m for m in review.messages if "wrong join codes" in text_of(m)]
        assert "lise entered 5 wrong join codes" in text_of(alert)
        # Locked: even the right code is refused now, and the lise gets no role.
        answer = await h.command(lise, f"join code:{code}")
        assert "Too many wrong codes" in answer[0]
        assert lise not in channel(h, STUDENT).members


# -- 3: a self-chosen trusted role needs another staff member's approval ----------------------


async def claim_student(h: SlackHarness, user: str, label: str = "I am a student") -> list[str]:
    """Press a claim button in the welcome DM and submit the cohort modal."""
    dm = h.fake.open_im(user)
    welcome = h.fake.messages(dm.id)[0]
    await press(h, user, welcome, label, dm.id)
    view = h.fake.views_opened[-1]
    assert view["callback_id"] == "onb_claim"
    ack = await submit(h, user, "onb_claim", cohort="Fashion 2026")
    return [json.dumps(ack)]


async def test_claimed_student_role_is_approved_by_other_staff(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await invite_cohort(h)
        lise = await join(h, "lise", "lise@elsewhere.org")
        teacher = await join(h, "teacher", "teacher@oslomet.no")
        await h.command(h.admin, f"role grant member:{teacher} role:staff")
        review = channel(h, "alumni-staff-review")
        assert review.is_private and teacher in review.members and lise not in review.members

        ack = await claim_student(h, lise)
        assert "Staff will look at your request" in ack[0]
        assert lise not in channel(h, STUDENT).members  # nothing without approval
        (request,) = [m for m in review.messages if "asks for the role" in text_of(m)]
        assert "lise asks for the role student" in text_of(request)
        button(request, "Deny")

        # The teacher asks for alumni too and cannot approve that request themself.
        await claim_student(h, teacher, "I am a graduate")
        (own,) = [m for m in review.messages if "teacher asks for the role" in text_of(m)]
        answer = await press(h, teacher, own, "Approve", review.id)
        assert "You can't decide your own request" in answer[0]
        assert teacher not in channel(h, "alumni-role-alumni").members
        # The student cannot approve anything.
        answer = await press(h, lise, request, "Approve", review.id)
        assert "staff" in answer[0].lower() and lise not in channel(h, STUDENT).members

        answer = await press(h, teacher, request, "Approve", review.id)
        assert "lise got the role student (approved by teacher)" in answer[0]
        assert lise in channel(h, STUDENT).members and lise in channel(h, COHORT).members
        assert "Good news: staff approved your request" in text_of(dms(h, lise)[-1])
        # The request in the review channel was edited to show the verdict.
        edited = [c for c in h.fake.calls_to("chat.update") if c.get("ts") == request["ts"]]
        assert edited and "approved by teacher" in text_of(review.find(request["ts"]) or {})
        # Losing the staff role takes the teacher out of the staff-only channel again.
        await h.command(h.admin, f"role revoke member:{teacher} role:staff")
        assert teacher not in review.members and h.admin in review.members


# -- 4 and 8: the weekly question, its thread counted, the recap ------------------------------


async def weekly_flow(h: SlackHarness, clock: ManualClock) -> None:
    await h.command(h.admin, "setup")
    discussion = channel(h, "alumni-discussion")
    await h.tick()
    assert [m for m in discussion.messages if m.get("user") == h.fake.bot_user_id] == []
    clock.advance(timedelta(hours=1, minutes=5))  # Monday 10:05 in Oslo
    await h.tick()
    (question,) = discussion.messages
    assert "Question of the week" in text_of(question) and "thread" in text_of(question)
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        await h.tick()
    assert len(top_level(discussion)) == 1

    kari = await join(h, "kari", "kari@example.com")
    ola = await join(h, "ola", "ola@example.com")
    per = await join(h, "per", "per@example.com")
    for uid in (kari, ola):
        await h.command(h.admin, f"role grant member:{uid} role:student")
    before = h.received["message"]
    for uid, text in ((kari, "I disagree"), (ola, "Me too"), (per, "Depends")):
        await h.driver.user_message(discussion.id, uid, text, thread_ts=question["ts"])
    await h.fake.wait_for(lambda: h.received["message"] == before + 3)
    await h.settle()

    clock.advance(timedelta(days=7))
    await h.tick()
    replies = [m for m in thread(discussion, question) if m["ts"] != question["ts"]]
    (recap,) = [m for m in replies if m.get("user") == h.fake.bot_user_id]
    assert "3 replies to the question" in text_of(recap) and "2 from students" in text_of(recap)
    numbers = channel(h, "alumni-staff-review").messages
    assert any("drew 3 replies in its first week" in text_of(m) for m in numbers)
    # A week on, exactly one new question in the channel.
    assert len(top_level(discussion)) == 2


async def test_weekly_question_once_counted_and_recapped(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    async with slack_harness(engine, clock=clock) as h:
        await weekly_flow(h, clock)


async def test_weekly_question_over_socket_mode(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    async with slack_harness(engine, mode="socket", clock=clock) as h:
        await weekly_flow(h, clock)


# -- 5: the introduction form -------------------------------------------------------------


async def test_introduction_modal_posts_in_introductions(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        kari = await join(h, "kari", "kari@example.com")
        dm = h.fake.open_im(kari)
        await press(h, kari, h.fake.messages(dm.id)[0], "Introduce yourself", dm.id)
        view = h.fake.views_opened[-1]
        assert view["callback_id"] == "onb_intro"
        assert [b["block_id"] for b in view["blocks"]] == ["name", "programme", "work", "looking"]
        ack = await submit(
            h,
            kari,
            "onb_intro",
            name="Kari Nordmann",
            programme="Fashion 2026",
            work="Knitwear <!channel>",
            looking="A studio to share",
        )
        assert "Your introduction is posted" in json.dumps(ack)
        (intro,) = channel(h, "alumni-introductions").messages
        shown = text_of(intro)
        assert "Say hello to kari" in shown and "Kari Nordmann" in shown
        assert "A studio to share" in shown and "<!channel>" not in shown


# -- 6: posting a job, closing it, and the nudge ----------------------------------------------


async def test_post_job_modal_card_close_and_nudge(engine: AsyncEngine) -> None:
    async with slack_harness(engine, clock=ManualClock(START)) as h:
        await h.command(h.admin, "setup")
        kari = await join(h, "kari", "kari@example.com")
        ola = await join(h, "ola", "ola@example.com")
        d = await h.driver.slash_command(kari, h.fake.general_id, "/alumni", "post job")
        await h.settle()
        (opened,) = h.fake.calls_to("views.open")
        assert opened["trigger_id"] == d.trigger_id
        assert h.fake.views_opened[-1]["callback_id"] == "post"
        ack = await submit(
            h,
            kari,
            "post",
            title="Pattern cutter",
            employer="Studio Nord",
            place="Oslo",
            deadline="2026-09-30",
            link="https://example.org/job",
        )
        jobs = channel(h, "alumni-jobs")
        # The answer links the channel the card went to (Slack shows <#C…> as its name).
        assert f"Posted in <#{jobs.id}>" in json.dumps(ack)
        card = jobs.messages[0]
        assert "Pattern cutter" in text_of(card) and "Posted by kari" in text_of(card)
        assert any(m.get("thread_ts") == card["ts"] for m in jobs.messages[1:])

        answer = await press(h, ola, card, "Filled", jobs.id)
        assert "only" in answer[0].lower() and h.fake.calls_to("chat.update") == []
        answer = await press(h, kari, card, "Filled", jobs.id)
        assert "the post is marked filled" in answer[0]
        (update,) = h.fake.calls_to("chat.update")
        assert update["ts"] == card["ts"]
        assert "FILLED" in text_of(jobs.find(card["ts"]) or {})

        discussion = channel(h, "alumni-discussion")
        discussion.members.append(ola)  # members post in channels they have joined
        before = h.received["message"]
        await h.driver.user_message(discussion.id, ola, "We are hiring an intern, apply by May")
        await h.driver.user_message(discussion.id, ola, "What a show last night")
        await h.fake.wait_for(lambda: h.received["message"] == before + 2)
        await h.settle()
        (nudge,) = h.fake.ephemeral
        assert nudge["user"] == ola and nudge["channel"] == discussion.id
        assert "/alumni post job" in nudge["text"]


# -- 7: files: the stats chart and the privacy export ----------------------------------------


async def test_stats_chart_and_privacy_export_are_uploaded(engine: AsyncEngine) -> None:
    async with slack_harness(engine, clock=ManualClock(START)) as h:
        await h.command(h.admin, "setup")
        kari = await join(h, "kari", "kari@example.com")
        await h.driver.user_message(h.fake.general_id, kari, "hello")
        await h.tick()
        answer = await h.command(h.admin, "stats")
        assert "Only counts are kept" in answer[0]
        charts = [f for f in h.fake.files.values() if f["name"].endswith(".png")]
        assert len(charts) == 1 and charts[0]["content"].startswith(b"\x89PNG")
        (shared_in,) = charts[0]["channels"]
        assert shared_in == h.fake.open_im(h.admin).id  # the staff member's DM, not #general

        answer = await h.command(kari, "privacy export")
        assert "I sent you a file with your data" in answer[0]
        (export,) = [f for f in h.fake.files.values() if f["name"].endswith(".json")]
        assert export["channels"] == [h.fake.open_im(kari).id]
        data = json.loads(export["content"])
        assert data["user_id"] == kari and data["tables"]["members"][0]["email"] == (
            "kari@example.com"
        )
        (note,) = [m for m in dms(h, kari) if "everything I store about you" in text_of(m)]
        (shared,) = [m for m in dms(h, kari) if m.get("files")]
        assert shared["files"][0]["id"] == export["id"] and float(shared["ts"]) > float(note["ts"])


# -- 9: App Home notes from the features ---------------------------------------------------


async def test_app_home_shows_cohort_next_question_and_pending_requests(
    engine: AsyncEngine,
) -> None:
    async with slack_harness(engine, clock=ManualClock(START)) as h:
        await invite_cohort(h)
        kari = await join(h, "kari", "kari@example.com")
        lise = await join(h, "lise", "lise@elsewhere.org")
        await claim_student(h, lise)
        await h.driver.app_home_opened(kari)
        await h.fake.wait_for(lambda: kari in h.fake.home_views)
        home = text_of(h.fake.home_views[kari])
        assert "Your cohort: Fashion 2026" in home
        assert "Next question of the week: 17 August 2026, 10:00 (Europe/Oslo)" in home
        assert "waiting for approval" not in home
        await h.driver.app_home_opened(h.admin)
        await h.fake.wait_for(lambda: h.admin in h.fake.home_views)
        home = text_of(h.fake.home_views[h.admin])
        assert "1 role request waiting for approval." in home


# -- 10: a roster of 30 members already here, granted at once -------------------------------


@pytest.mark.parametrize("plan", ["pro", "free"])
async def test_bulk_roster_grant_batches_channel_invites(engine: AsyncEngine, plan: str) -> None:
    async with slack_harness(engine, plan=plan) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, "cohort create program:Fashion year:2026 graduates:2029-06-15")
        students = [await join(h, f"s{n:02d}", f"s{n:02d}@example.com") for n in range(30)]
        # Slack's Tier 3 (conversations.invite) and Tier 2 (usergroups.users.update) limits,
        # squeezed: one call per member per channel would trip them at once.
        h.fake.set_rate_limit("conversations.invite", burst=5, window=60.0)
        h.fake.set_rate_limit("usergroups.users.update", burst=5, window=60.0)
        invites = len(h.fake.calls_to("conversations.invite"))
        emails = ",".join(f"s{n:02d}@example.com" for n in range(30))
        d = await h.driver.slash_command(
            h.admin, h.fake.general_id, "/alumni", f'invite cohort:"Fashion 2026" emails:{emails}'
        )
        await h.settle()
        answer = [r.get("text", "") for r in h.fake.responses(d.response_url or "")]
        assert "30 already in the group get their roles now" in answer[0]
        # Progress is one DM message edited in place (a slash command's ephemeral answer cannot
        # be edited: replace_original posts anew), and the response_url stays within 5 posts.
        (progress,) = [m for m in dms(h, h.admin) if "Granting roles" in text_of(m)]
        assert "Granting roles: 30 of 30 done." in progress["text"]
        assert any(c["ts"] == progress["ts"] for c in h.fake.calls_to("chat.update"))
        record = h.fake.response_url(d.response_url or "")
        assert record is not None and len(record.posts) <= 5 and record.refused == []
        assert set(students) <= set(channel(h, STUDENT).members)
        assert set(students) <= set(channel(h, COHORT).members)
        assert h.fake.ratelimited_counts["conversations.invite"] == 0
        assert h.fake.ratelimited_counts["usergroups.users.update"] == 0
        assert len(h.fake.calls_to("conversations.invite")) - invites <= 4
        if plan == "pro":
            group = next(
                g for g in h.fake.usergroups.values() if g["handle"] == "alumni-group-student"
            )
            assert set(group["users"]) == set(students)
        async with h.uow() as uow:
            holders = await uow.roles.holders(h.fake.team["id"], "student")
        assert set(holders) == set(students)


async def test_a_roster_file_option_is_explained_on_slack(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, "cohort create program:Fashion year:2026 graduates:2029-06-15")
        (answer,) = await h.command(h.admin, 'invite cohort:"Fashion 2026" roster:students.csv')
        assert "Slack commands can't carry files" in answer and "emails:" in answer
        async with h.uow() as uow:
            (cohort,) = await uow.cohorts.for_group(h.fake.team["id"])
            assert await uow.roster.entries(h.fake.team["id"], cohort.id) == []
