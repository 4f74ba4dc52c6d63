"""The real Slack app (slack-bolt) over real sockets, signed HTTP and Socket Mode, on the fake."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.__main__ import main
from bot.cog import Cog, button, command, form, listen
from bot.commands import Option
from bot.core import Bot, Context
from bot.domain import Permission
from bot.errors import UserError
from bot.events import ButtonPressed, Event, FormSubmitted, MemberJoined, MemberLeft, MessagePosted
from bot.messages import Button, FormField, FormSpec, OutgoingMessage
from tests.slack_harness import SlackHarness, slack_harness

MODES = ["http", "socket"]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "slack"
FORM = "application/x-www-form-urlencoded"


def shared_payloads() -> Path:
    """The shared example payloads (ALUMNIBOT_SHARED_DIR, else beside the repo)."""
    base = os.environ.get("ALUMNIBOT_SHARED_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[1].parent / "shared"
    return root / "payloads"


@dataclass(frozen=True)
class CommandText:
    """The text option `probe echo` received (what the core saw of a slash command)."""

    text: str


class Probe(Cog):
    """A feature written only against the core, recording what reached it."""

    name = "probe"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.seen: list[Event | CommandText] = []

    @command("probe form", permission=Permission.MEMBER, help_key="setup.help_help")
    async def open_form(self, ctx: Context) -> None:
        """Open the probe form."""
        assert ctx.responder is not None
        fields = (FormField("about", "About you", long=True), FormField("city", "City", False))
        await ctx.responder.open_form(
            FormSpec("probe-form", "Introduce yourself", fields, "ctx-42")
        )

    @command("probe buttons", permission=Permission.MEMBER, help_key="setup.help_help")
    async def buttons(self, ctx: Context) -> None:
        """Post a message with buttons and a hostile text in the channel."""
        assert ctx.channel is not None
        message = OutgoingMessage(
            "<!here> & <@U1> **join?**",
            title="Mentoring",
            fields=(("When", "Friday"),),
            buttons=(Button("Yes", "probe", "yes"), Button("No", "probe", "no")),
        )
        await self.bot.workspace.send(ctx.group.id, ctx.channel.id, message)

    @command(
        "probe echo",
        permission=Permission.MEMBER,
        help_key="setup.help_help",
        options=(Option("text", rest=True, max_length=500),),
    )
    async def echo(self, ctx: Context, text: str = "") -> None:
        """Say back what the core received."""
        self.seen.append(CommandText(text))
        await ctx.reply(OutgoingMessage(text))

    @form("probe-form")
    async def submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Refuse an empty text on its field; otherwise thank the member."""
        self.seen.append(event)
        if not event.values.get("about", "").strip():
            raise UserError("core.option_missing", option="about", usage="-", field="about")
        await ctx.reply(OutgoingMessage("Thanks, posted."))

    @button("probe")
    async def pressed(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Answer a press privately."""
        self.seen.append(event)
        await ctx.reply(OutgoingMessage(f"You chose {event.value}"))

    @listen(MessagePosted)
    async def posted(self, ctx: Context, event: MessagePosted) -> None:
        """Record messages."""
        self.seen.append(event)

    @listen(MemberJoined)
    async def joined(self, ctx: Context, event: MemberJoined) -> None:
        """Record joins."""
        self.seen.append(event)

    @listen(MemberLeft)
    async def left(self, ctx: Context, event: MemberLeft) -> None:
        """Record leaves."""
        self.seen.append(event)


def probe(h: SlackHarness) -> Probe:
    """The probe cog of a harness."""
    cog = h.bot.cog("probe")
    assert isinstance(cog, Probe)
    return cog


def seen(h: SlackHarness, kind: type[Event]) -> list[Any]:
    """Events of one type the probe saw."""
    return [e for e in probe(h).seen if isinstance(e, kind)]


def names(h: SlackHarness) -> set[str]:
    """Live channel names in the fake."""
    return {c.name for c in h.fake.channels.values() if not c.is_archived and not c.is_im}


async def test_setup_creates_prefixed_channels_and_projected_roles(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        answer = await h.command(h.admin, "setup")
        assert "Created:" in answer[0] and "#welcome" in answer[0]
        assert {"alumni-welcome", "alumni-jobs", "alumni-announcements"} <= names(h)
        roles = {"alumni-role-student", "alumni-role-alumni", "alumni-role-staff"}
        assert roles <= names(h)
        assert all(h.fake.channel_by_name(r).is_private for r in roles)
        review = h.fake.channel_by_name("alumni-staff-review")
        assert review.is_private and not h.fake.channel_by_name("alumni-jobs").is_private
        assert h.fake.channel_by_name("alumni-jobs").topic  # description as topic
        assert len(h.fake.usergroups) == 5  # pro plan: a user group per role
        created = h.fake.call_counts["conversations.create"]
        again = await h.command(h.admin, "setup")
        assert "Already there:" in again[0] and "Created:" not in again[0]
        assert h.fake.call_counts["conversations.create"] == created


async def test_user_group_handles_never_clash_on_a_paid_plan(engine: AsyncEngine) -> None:
    """A handle must be unique among channels, users and user groups (Slack: name_taken):
    every role gets its user group, also where a channel or a member holds the name."""
    async with slack_harness(engine) as h:
        h.fake.add_channel("alumni-group-staff")  # a workspace channel holds the first choice
        h.fake.add_user("alumni-group-industry")  # and so does a member's handle
        answer = await h.command(h.admin, "setup")
        assert "Setup finished." in answer[-1]
        handles = {g["name"]: g["handle"] for g in h.fake.usergroups.values()}
        assert handles == {
            "Alumni student": "alumni-group-student",
            "Alumni alumni": "alumni-group-alumni",
            "Alumni staff": "alumni-group-staff-2",
            "Alumni industry": "alumni-group-industry-2",
            "Alumni discussion": "alumni-group-discussion",  # beside the #alumni-discussion channel
        }
        # Each role's platform id names its user group: mentions and grants reach it.
        async with h.uow() as uow:
            roles = await uow.roles.for_group(h.fake.team["id"])
        assert all(":S" in (r.platform_id or "") for r in roles if r.key in {"staff", "discussion"})


async def test_archived_channel_is_recreated_and_free_plan_has_no_usergroups(
    engine: AsyncEngine,
) -> None:
    async with slack_harness(engine, plan="free") as h:
        await h.command(h.admin, "setup")
        assert h.fake.usergroups == {}
        assert "alumni-role-staff" in names(h)
        jobs = h.fake.channel_by_name("alumni-jobs")
        jobs.is_archived = True
        answer = await h.command(h.admin, "setup")
        assert "Created: #jobs" in answer[0]
        # Slack keeps an archived channel's name taken: the bot brings that channel back.
        assert not jobs.is_archived and h.fake.calls_to("conversations.unarchive")


async def test_member_without_staff_is_refused_setup_privately(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        kari = h.fake.add_user("kari", email="kari@example.org")
        d = await h.driver.slash_command(kari, h.fake.general_id, "/alumni", "setup")
        await h.settle()
        assert d.status == 200
        (answer,) = h.fake.responses(d.response_url or "")
        assert answer["response_type"] == "ephemeral"
        assert "Only staff can run `/alumni setup`" in answer["text"]
        assert "alumni-welcome" not in names(h)


async def test_team_join_three_times_is_one_member(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        carol = h.fake.add_user("carol", email="carol@example.org")
        deliveries = await h.driver.team_join(carol, deliveries=3)
        assert [d.status for d in deliveries] == [200, 200, 200]
        await h.fake.wait_for(lambda: h.received["team_join"] == 3)
        await h.settle()
        (joined,) = seen(h, MemberJoined)
        assert joined.user.id == carol and joined.email == "carol@example.org"
        async with h.uow() as uow:
            members = await uow.members.for_group(h.fake.team["id"])
        assert [(m.user_id, m.email) for m in members] == [(carol, "carol@example.org")]


async def test_form_opens_modal_and_submission_reaches_handler(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        await h.command(h.admin, "probe form")
        view = h.fake.views_opened[-1]
        assert view["callback_id"] == "probe-form" and view["private_metadata"] == "ctx-42"
        assert [b["block_id"] for b in view["blocks"]] == ["about", "city"]
        empty = {
            "about": {"value": {"type": "plain_text_input", "value": " "}},
            "city": {"value": {"type": "plain_text_input", "value": "Bergen"}},
        }
        d = await h.driver.view_submission(h.admin, "probe-form", empty)
        # Acked at once (no database or Web API call first), the modal saying it saves.
        assert d.json["response_action"] == "update" and not d.late
        await h.settle()
        # Then the form again: the error under its field, the member's other answer kept.
        shown = h.modal(d)
        about, city = (b for b in shown["blocks"] if b["type"] == "input")
        assert "The option `about` is required" in about["hint"]["text"]
        assert city["element"]["initial_value"] == "Bergen" and "hint" not in city
        assert shown["callback_id"] == "probe-form" and shown["private_metadata"] == "ctx-42"
        filled = {"about": {"value": {"type": "plain_text_input", "value": "Designer, 2019"}}}
        d = await h.driver.view_submission(h.admin, "probe-form", filled, view_id=shown["id"])
        await h.settle()
        assert "Thanks, posted." in json.dumps(h.modal(d)["blocks"])
        last = seen(h, FormSubmitted)[-1]
        # Slack submits every input: the one the member left alone as it was filled in.
        assert last.values == {"about": "Designer, 2019", "city": "Bergen"}
        assert last.context == "ctx-42"


async def test_thread_reply_is_a_message_with_thread_id(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        kari = h.fake.add_user("kari")
        parent = await h.driver.user_message(h.fake.general_id, kari, "Question of the week?")
        reply = await h.driver.user_message(h.fake.general_id, kari, "My answer", thread_ts=parent)
        # The bot's own message and an edit are not posts.
        bot_msg = {"type": "message", "user": h.fake.bot_user_id, "bot_id": h.fake.bot_id}
        await h.driver.event({**bot_msg, "channel": h.fake.general_id, "text": "x", "ts": "1.1"})
        edit = {"type": "message", "subtype": "message_changed", "channel": h.fake.general_id}
        await h.driver.event({**edit, "ts": "1.2", "message": {"text": "y", "user": kari}})
        await h.fake.wait_for(lambda: h.received["message"] >= 3)
        await h.settle()
        posts = seen(h, MessagePosted)
        assert [(p.text, p.thread_id) for p in posts] == [
            ("Question of the week?", None),
            ("My answer", parent),
        ]
        assert posts[1].message.id == reply and posts[1].channel.id == h.fake.general_id


async def test_retried_delivery_is_handled_once(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        kari = h.fake.add_user("kari")
        event = {"type": "message", "user": kari, "text": "hello", "channel": h.fake.general_id}
        d = await h.driver.event({**event, "ts": "5.5"}, deliveries=3)
        assert [x.status for x in d] == [200, 200, 200]
        await h.fake.wait_for(lambda: h.received["message"] == 3)
        await h.settle()
        assert [p.text for p in seen(h, MessagePosted)] == ["hello"]


async def test_bad_signature_and_stale_timestamp_are_401(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        body = f"command=%2Falumni&text=setup&user_id={h.admin}&channel_id=C1&team_id=T1"
        form_type = "application/x-www-form-urlencoded"
        status, _ = await h.driver.post_signed(body, form_type, signature="v0=" + "0" * 64)
        assert status == 401
        status, _ = await h.driver.post_signed(body, form_type, timestamp=int(time.time()) - 301)
        assert status == 401
        await h.settle()
        assert probe(h).seen == [] and "alumni-welcome" not in names(h)
        assert h.url is not None
        async with (
            aiohttp.ClientSession() as s,
            s.get(h.url.replace("/slack/events", "/healthz")) as r,
        ):
            assert r.status == 200 and (await r.json()) == {"ok": True}


async def test_buttons_render_escaped_and_presses_reach_the_core(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        await h.command(h.admin, "probe buttons")
        msg = h.fake.messages(h.fake.general_id)[-1]
        dumped = json.dumps(msg["blocks"])
        assert "<!here>" not in dumped and "&lt;!here&gt; &amp; &lt;@U1&gt; *join?*" in dumped
        assert msg["blocks"][0]["type"] == "header"
        actions = msg["blocks"][-1]["elements"]
        assert [(a["action_id"], a["value"]) for a in actions] == [
            ("alumni:probe", "yes"),
            ("alumni:probe:1", "no"),
        ]
        d = await h.driver.block_action(
            h.admin, "alumni:probe:1", "no", channel_id=h.fake.general_id, message_ts=msg["ts"]
        )
        await h.settle()
        (pressed,) = seen(h, ButtonPressed)
        assert pressed.action == "probe" and pressed.value == "no"
        assert pressed.message is not None and pressed.message.id == msg["ts"]
        (answer,) = h.fake.responses(d.response_url or "")
        assert answer["text"] == "You chose no" and answer["response_type"] == "ephemeral"


async def test_roles_are_projected_channels_and_usergroups(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        kari = h.fake.add_user("kari")
        ws = h.bot.workspace
        team = h.fake.team["id"]
        async with h.uow() as uow:
            staff = await uow.roles.get(team, "staff")
            await uow.roles.grant(team, h.admin, "staff", "test", None, h.bot.clock.now())
        assert staff is not None and staff.platform_id and ":" in staff.platform_id
        channel_id, usergroup = staff.platform_id.split(":")
        await ws.set_roles(team, kari, add=[staff.platform_id], remove=[])
        assert kari in h.fake.channels[channel_id].members
        # usergroups.users.update replaces the list: the bot's records plus the new holder.
        assert set(h.fake.usergroups[usergroup]["users"]) == {h.admin, kari}
        await ws.set_roles(team, kari, add=[], remove=[staff.platform_id])
        assert kari not in h.fake.channels[channel_id].members
        assert h.fake.usergroups[usergroup]["users"] == [h.admin]
        # A staff-only channel gets the staff role's members when repaired.
        await ws.set_roles(team, kari, add=[staff.platform_id], remove=[])
        await h.command(h.admin, "setup")
        assert kari in h.fake.channel_by_name("alumni-staff-review").members
        info = await ws.member_info(team, h.admin)
        assert info is not None and info.is_admin and info.email == "admin@example.org"
        assert await ws.create_invite(team, 10, 3600) is None


async def test_deactivation_is_a_leave_but_leaving_a_channel_is_not(engine: AsyncEngine) -> None:
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        kari = h.fake.add_user("kari")
        await h.driver.event({"type": "member_left_channel", "user": kari, "channel": "C1"})
        user = h.fake.users[kari].to_dict()
        await h.driver.event({"type": "user_change", "user": {**user, "deleted": True}})
        await h.fake.wait_for(lambda: h.received["user_change"] == 1)
        await h.settle()
        assert [e.user.id for e in seen(h, MemberLeft)] == [kari]


async def test_app_home_shows_roles_and_commands(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        await h.driver.app_home_opened(h.admin)
        await h.fake.wait_for(lambda: h.admin in h.fake.home_views)
        text = json.dumps(h.fake.home_views[h.admin])
        assert "Your access: admin" in text and "/alumni setup" in text
        kari = h.fake.add_user("kari")
        await h.driver.app_home_opened(kari)
        await h.fake.wait_for(lambda: kari in h.fake.home_views)
        text = json.dumps(h.fake.home_views[kari])
        assert "no roles yet" in text and "/alumni setup" not in text


async def test_rate_limited_calls_are_retried(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        h.fake.inject_error("conversations.create", "ratelimited", times=2, retry_after=0)
        answer = await h.command(h.admin, "setup")
        assert "Created:" in answer[0] and "alumni-welcome" in names(h)
        assert h.fake.ratelimited_counts["conversations.create"] == 2


async def test_the_same_flows_over_socket_mode(engine: AsyncEngine) -> None:
    async with slack_harness(engine, mode="socket", extra_cogs=[Probe]) as h:
        d = await h.driver.slash_command(h.admin, h.fake.general_id, "/alumni", "setup")
        assert d.envelope_id in h.fake.acks
        await h.settle()
        assert "alumni-welcome" in names(h) and "alumni-role-staff" in names(h)
        carol = h.fake.add_user("carol", email="carol@example.org")
        await h.driver.team_join(carol, deliveries=3)
        await h.fake.wait_for(lambda: h.received["team_join"] == 3)
        parent = await h.driver.user_message(h.fake.general_id, carol, "hi")
        await h.driver.user_message(h.fake.general_id, carol, "reply", thread_ts=parent)
        await h.fake.wait_for(lambda: h.received["message"] == 2)
        await h.command(h.admin, "probe form")
        empty = {"about": {"value": {"type": "plain_text_input", "value": ""}}}
        d = await h.driver.view_submission(h.admin, "probe-form", empty)
        assert d.json["response_action"] == "update" and not d.late
        await h.settle()
        about = next(b for b in h.modal(d)["blocks"] if b.get("block_id") == "about")
        assert "The option `about` is required" in about["hint"]["text"]
        assert len(seen(h, MemberJoined)) == 1
        # Socket Mode runs listeners concurrently: order is not guaranteed.
        assert {(p.text, p.thread_id) for p in seen(h, MessagePosted)} == {
            ("hi", None),
            ("reply", parent),
        }


async def deliver_command(h: SlackHarness, mode: str, fields: dict[str, str]) -> str:
    """Send slash-command fields (signed form body, or an envelope); their response_url on
    the fake. Returns that response_url."""
    fields = dict(fields, response_url=h.fake.new_response_url("command", fields["user_id"]))
    if mode == "http":
        assert (await h.driver.post_signed(urlencode(fields), FORM))[0] == 200
    else:
        await h.driver.deliver_command(fields)
    return fields["response_url"]


async def deliver_interactive(h: SlackHarness, mode: str, payload: dict[str, Any]) -> Any:
    """Send an interaction payload (signed `payload=` form, or an envelope); the ack body."""
    if mode == "http":
        status, text = await h.driver.post_signed("payload=" + quote(json.dumps(payload)), FORM)
        assert status == 200
        return json.loads(text) if text else None
    return (await h.driver.deliver_interactive(payload)).json


@pytest.mark.parametrize("mode", MODES)
async def test_contract_fixtures(engine: AsyncEngine, mode: str) -> None:
    """Each payload of tests/fixtures/slack (Slack's documented formats) through the real app."""
    load = lambda name: json.loads((FIXTURES / name).read_text())  # noqa: E731
    async with slack_harness(engine, mode=mode, extra_cogs=[Probe], team_id="T0A1B2C3D") as h:
        kari = h.fake.add_user(
            "kari.nordmann",
            email="kari.nordmann@example.com",
            user_id="U0K4R1N0R",
            display_name="Kari Nordmann",
        )
        lounge = h.fake.add_channel("general-fixture", channel_id="C0G3N3R4L", members=[kari])
        if mode == "http":
            check = await h.driver.post_signed(
                (FIXTURES / "url_verification.json").read_bytes(), "application/json"
            )
            assert json.loads(check[1])["challenge"] == load("url_verification.json")["challenge"]

        # A slash command as Slack escapes it: the core gets plain text, Slack gets it escaped.
        fields = dict(parse_qsl((FIXTURES / "slash_command.txt").read_text().strip()))
        url = await deliver_command(h, mode, fields)
        await h.settle()
        typed = "Salt & pepper <3 for @kari.nordmann in #general, see https://oslomet.no/alumni"
        assert CommandText(typed) in probe(h).seen
        (answer,) = h.fake.responses(url)
        assert answer["text"] == typed.replace("&", "&amp;").replace("<", "&lt;")

        # A button on a message: the press reaches the core, the answer its response_url.
        press = load("block_actions.json")
        message = press["message"]
        h.fake.channels[lounge].messages.append(dict(message, user=h.fake.bot_user_id))
        press["response_url"] = h.fake.new_response_url("message", kari, lounge, message["ts"])
        await deliver_interactive(h, mode, press)
        await h.settle()
        (pressed,) = seen(h, ButtonPressed)
        assert (pressed.action, pressed.value, pressed.message.id) == ("probe", "no", message["ts"])
        assert h.fake.responses(press["response_url"])[0]["text"] == "You chose no"

        # A modal's submission: acked at once, then the modal shows the answer.
        submission = load("view_submission.json")
        h.fake.adopt_view(submission["view"])
        ack = await deliver_interactive(h, mode, submission)
        assert ack["response_action"] == "update"
        await h.settle()
        (submitted,) = seen(h, FormSubmitted)
        assert submitted.values["about"] == "Knitwear & print <!channel>"
        assert submitted.context == "ctx-42"
        shown = json.dumps(h.fake.views["V0F0RM0001"]["blocks"])
        assert "Thanks, posted." in shown

        # Events: a post (text unescaped for the core), a join with its email, a departure.
        for name in ("event_message.json", "event_team_join.json", "event_user_change.json"):
            await h.driver.deliver_event_body(load(name))
        await h.driver.deliver_event_body(load("event_app_home_opened.json"))
        await h.fake.wait_for(lambda: kari in h.fake.home_views)
        await h.settle()
        (posted,) = seen(h, MessagePosted)
        assert posted.text == "Anyone up for a studio share? <3" and posted.user.id == kari
        (joined,) = seen(h, MemberJoined)
        assert joined.email == "kari.nordmann@example.com" and joined.user.name == "Kari Nordmann"
        assert [e.user.id for e in seen(h, MemberLeft)] == [kari]


@pytest.mark.skipif(not shared_payloads().is_dir(), reason="no shared payloads beside the repo")
@pytest.mark.parametrize("mode", MODES)
async def test_shared_slack_payloads(engine: AsyncEngine, mode: str) -> None:
    """The extra check: payloads copied from Slack's docs and bolt-python's tests, when there."""
    folder = shared_payloads()
    async with slack_harness(engine, mode=mode, extra_cogs=[Probe]) as h:
        # Slash command fixture, pointed at /alumni and at the fake's response_url.
        raw = (folder / "slack_slash_command_bolt_fixture.txt").read_text().strip()
        fields = dict(parse_qsl(raw))
        url = await deliver_command(h, mode, dict(fields, command="/alumni"))
        await h.settle()
        (answer,) = h.fake.responses(url)
        assert "I don't know the command `hi`" in answer["text"]

        # view_submission fixture: no such form here -> the modal says so.
        view = json.loads((folder / "slack_view_submission.json").read_text())
        h.fake.adopt_view(view["view"])
        ack = await deliver_interactive(h, mode, view)
        assert ack["response_action"] == "update"
        await h.settle()
        shown = json.dumps(h.fake.views[view["view"]["id"]]["blocks"])
        assert "That form is no longer open" in shown

        # message fixture -> MessagePosted.
        message = json.loads((folder / "slack_message_bolt_fixture.json").read_text())
        await h.driver.deliver_event_body(message)
        # team_join fixture -> one member with the email.
        join = json.loads((folder / "slack_team_join.json").read_text())
        await h.driver.deliver_event_body(join)
        await h.driver.deliver_event_body(join, retry_num=1)
        await h.fake.wait_for(lambda: h.received["team_join"] == 2)
        await h.settle()
        (posted,) = seen(h, MessagePosted)
        assert (posted.group_id, posted.user.id, posted.text) == ("T111", "W111", "Hello World!")
        (joined,) = seen(h, MemberJoined)
        assert joined.group_id == join["team_id"]
        assert joined.email == "spengler@ghostbusters.example.com"


def test_manifest_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack", "manifest", "--format", "json", "--url", "https://bot.example"]) == 0
    data = json.loads(capsys.readouterr().out)
    (slash,) = data["features"]["slash_commands"]
    assert slash["command"] == "/alumni" and slash["url"] == "https://bot.example/slack/events"
    assert "setup" in slash["usage_hint"] and "categories add" in slash["usage_hint"]
    assert "users:read.email" in data["oauth_config"]["scopes"]["bot"]
    assert "team_join" in data["settings"]["event_subscriptions"]["bot_events"]
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert main(["slack", "manifest", "--socket"]) == 0
    yaml = capsys.readouterr().out
    assert "socket_mode_enabled: true" in yaml and "request_url" not in yaml


async def test_start_refuses_with_one_line_without_secret_or_with_a_bad_token(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.slack.app import run_slack
    from bot.settings import Settings
    from storage.uow import UnitOfWorkFactory
    from tests.fakes.slack_fake import FakeSlack

    uow = UnitOfWorkFactory(engine)
    no_secret = Settings(slack_bot_token="xoxb-x", database_url="sqlite+aiosqlite://")
    assert await run_slack(no_secret, uow) == 1
    assert "SLACK_SIGNING_SECRET is not set" in capsys.readouterr().err
    async with FakeSlack() as fake:
        bad = Settings(
            slack_bot_token="xoxb-not-issued",
            slack_signing_secret="s",
            slack_api_url=fake.api_url,
            database_url="sqlite+aiosqlite://",
        )
        assert await run_slack(bad, uow) == 1
    err = capsys.readouterr().err
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in err
    assert "xoxb-not-issued" not in err


async def test_database_down_tells_the_member_and_nothing_is_lost(engine: AsyncEngine) -> None:
    from storage.database import create_engine
    from storage.uow import UnitOfWorkFactory

    down = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with slack_harness(engine) as h:
        working = h.bot.uow
        h.bot.uow = UnitOfWorkFactory(down)
        try:
            answers = await h.command(h.admin, "setup")
        finally:
            h.bot.uow = working
            await down.dispose()
        assert any(
            "can't reach my database right now, so nothing was changed" in a for a in answers
        )
        assert not names(h) & {"alumni-welcome", "alumni-jobs"}
        answers = await h.command(h.admin, "setup")
        assert any("Setup finished." in a for a in answers)
        assert {"alumni-welcome", "alumni-jobs"} <= names(h)


async def test_a_form_sent_while_the_database_is_down_comes_back_with_the_answers(
    engine: AsyncEngine,
) -> None:
    from storage.database import create_engine
    from storage.uow import UnitOfWorkFactory

    down = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with slack_harness(engine, extra_cogs=[Probe]) as h:
        await h.command(h.admin, "probe form")
        working = h.bot.uow
        h.bot.uow = UnitOfWorkFactory(down)
        try:
            values = {"about": {"value": {"type": "plain_text_input", "value": "Designer"}}}
            d = await h.driver.view_submission(h.admin, "probe-form", values)
            assert d.json["response_action"] == "update" and not d.late
            await h.settle()
        finally:
            h.bot.uow = working
            await down.dispose()
        shown = h.modal(d)
        about = next(b for b in shown["blocks"] if b.get("block_id") == "about")
        assert "can't reach my database right now" in about["hint"]["text"]
        assert about["element"]["initial_value"] == "Designer"  # nothing the member typed lost
        assert seen(h, FormSubmitted) == []
