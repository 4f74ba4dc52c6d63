"""Contract tests: the real slack_sdk / slack_bolt clients against the fake Slack."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_fake import FakeSlack, SlackDriver, sign

SECRET = "test-signing-secret"


def shared_payloads() -> Path:
    """The shared example payload folder (repo sits beside `shared/`)."""
    base = os.environ.get("ALUMNIBOT_SHARED_DIR")
    root = Path(base) if base else Path(__file__).resolve().parents[1].parent / "shared"
    return root / "payloads"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A running fake Slack with two members and a private channel."""
    fs = FakeSlack()
    await fs.start()
    fs.add_user("alice", email="alice@example.org", is_admin=True)
    fs.add_user("bob", email="bob@example.org")
    yield fs
    await fs.stop()


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    """slack_sdk client pointed at the fake (a fresh aiohttp session per call)."""
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)


def uid(fake: FakeSlack, name: str) -> str:
    """User id by name."""
    return next(u.id for u in fake.users.values() if u.name == name)


async def err(coro: Any) -> SlackApiError:
    """Await a call expected to fail and return the SlackApiError."""
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


# ---------------------------------------------------------------- (a) Web API


async def test_auth_team_and_token_errors(fake: FakeSlack, client: AsyncWebClient) -> None:
    auth = await client.auth_test()
    assert auth["user_id"] == fake.bot_user_id and auth["team_id"] == fake.team["id"]
    # team:read is not in the manifest: Slack's missing_scope names what was needed and held.
    e = await err(client.team_info())
    assert e.response["error"] == "missing_scope" and e.response["needed"] == "team:read"
    assert set(e.response["provided"].split(",")) == set(fake.bot_scopes)
    fake.add_token("xoxb-team-read", fake.bot_user_id, {"team:read"})
    wider = AsyncWebClient(token="xoxb-team-read", base_url=fake.api_url)
    assert (await wider.team_info())["team"]["domain"] == fake.team["domain"]
    e = await err(AsyncWebClient(base_url=fake.api_url).auth_test())
    assert e.response["error"] == "not_authed"
    e = await err(AsyncWebClient(token="xoxb-nope", base_url=fake.api_url).auth_test())
    assert e.response["error"] == "invalid_auth" and e.response.status_code == 200
    e = await err(client.api_call("nope.method"))
    assert e.response["error"] == "unknown_method" and fake.unknown_methods == ["nope.method"]
    assert ("auth.test", {}) in fake.calls


async def test_conversations_create_and_name_rules(fake: FakeSlack, client: AsyncWebClient) -> None:
    res = await client.conversations_create(name="class-of-2010", is_private=True)
    ch = res["channel"]
    assert ch["name"] == "class-of-2010" and ch["is_private"] and ch["is_member"]
    for bad, code in [
        ("Has Caps", "invalid_name_specials"),
        ("with space", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("class-of-2010", "name_taken"),
    ]:
        assert (await err(client.conversations_create(name=bad))).response["error"] == code
    info = await client.conversations_info(channel=ch["id"])
    assert info["channel"]["id"] == ch["id"]
    e = await err(client.conversations_info(channel="C404"))
    assert e.response["error"] == "channel_not_found"


async def test_conversations_list_paginates(fake: FakeSlack, client: AsyncWebClient) -> None:
    for i in range(5):
        fake.add_channel(f"chan-{i}")
    fake.add_channel("secret", is_private=True)
    fake.add_channel("hidden", is_private=True, bot_member=False)
    names: list[str] = []
    cursor = None
    pages = 0
    while True:
        res = await client.conversations_list(limit=2, cursor=cursor)
        names += [c["name"] for c in res["channels"]]
        pages += 1
        cursor = res["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and sorted(names) == sorted(["general"] + [f"chan-{i}" for i in range(5)])
    both = await client.conversations_list(types="public_channel,private_channel")
    assert "secret" in [c["name"] for c in both["channels"]]
    assert "hidden" not in [c["name"] for c in both["channels"]]
    e = await err(client.conversations_list(cursor="garbage!"))
    assert e.response["error"] == "invalid_cursor"


async def test_channel_management(fake: FakeSlack, client: AsyncWebClient) -> None:
    cid = (await client.conversations_create(name="reunion"))["channel"]["id"]
    renamed = await client.conversations_rename(channel=cid, name="reunion-2025")
    assert renamed["channel"]["name"] == "reunion-2025"
    assert (await err(client.conversations_rename(channel=cid, name="general"))).response[
        "error"
    ] == "name_taken"
    topic = await client.conversations_setTopic(channel=cid, topic="Plans")
    assert topic["channel"]["topic"]["value"] == "Plans"
    await client.conversations_setPurpose(channel=cid, purpose="Reunion")
    assert fake.channels[cid].purpose == "Reunion"
    await client.conversations_archive(channel=cid)
    assert (await err(client.conversations_archive(channel=cid))).response[
        "error"
    ] == "already_archived"
    e = await err(client.conversations_setTopic(channel=cid, topic="x"))
    assert e.response["error"] == "is_archived"
    await client.conversations_unarchive(channel=cid)
    assert (await err(client.conversations_unarchive(channel=cid))).response[
        "error"
    ] == "not_archived"
    outside = fake.add_channel("outside", bot_member=False)
    e = await err(client.conversations_setPurpose(channel=outside, purpose="x"))
    assert e.response["error"] == "not_in_channel"
    joined = await client.conversations_join(channel=outside)
    assert joined["channel"]["is_member"]
    again = await client.conversations_join(channel=outside)
    assert again["warning"] == "already_in_channel"


async def test_invite_kick_members(fake: FakeSlack, client: AsyncWebClient) -> None:
    alice, bob = uid(fake, "alice"), uid(fake, "bob")
    cid = fake.add_channel("board", is_private=True)
    res = await client.conversations_invite(channel=cid, users=[alice, bob])
    assert res["ok"] and set(fake.channels[cid].members) >= {alice, bob}
    e = await err(client.conversations_invite(channel=cid, users=alice))
    assert e.response["error"] == "already_in_channel"
    assert e.response["errors"][0] == {"user": alice, "ok": False, "error": "already_in_channel"}
    carol = fake.add_user("carol")
    e = await err(client.conversations_invite(channel=cid, users=f"{alice},{carol}"))
    assert carol not in fake.channels[cid].members  # all-or-nothing without force
    forced = await client.conversations_invite(channel=cid, users=f"{alice},{carol}", force=True)
    assert carol in fake.channels[cid].members and forced["errors"][0]["user"] == alice
    e = await err(client.conversations_invite(channel=cid, users=",".join(["U1"] * 1001)))
    assert e.response["error"] == "too_many_users"
    members = await client.conversations_members(channel=cid, limit=2)
    assert len(members["members"]) == 2 and members["response_metadata"]["next_cursor"]
    await client.conversations_kick(channel=cid, user=bob)
    assert bob not in fake.channels[cid].members
    e = await err(client.conversations_kick(channel=cid, user=bob))
    assert e.response["error"] == "not_in_channel"


async def test_messages_threads_and_history(fake: FakeSlack, client: AsyncWebClient) -> None:
    cid = fake.general_id
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    parent = await client.chat_postMessage(channel=cid, text="hello", blocks=blocks)
    assert parent["channel"] == cid and parent["message"]["blocks"] == blocks
    reply = await client.chat_postMessage(channel=cid, text="r1", thread_ts=parent["ts"])
    await client.chat_postMessage(
        channel=cid, text="r2", thread_ts=parent["ts"], reply_broadcast=True
    )
    assert reply["message"]["thread_ts"] == parent["ts"]
    hist = await client.conversations_history(channel=cid)
    texts = [m["text"] for m in hist["messages"]]
    assert texts == ["r2", "hello"]  # newest first; broadcast reply shown, plain reply not
    assert hist["messages"][1]["reply_count"] == 2
    replies = await client.conversations_replies(channel=cid, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["hello", "r1", "r2"]
    e = await err(client.conversations_replies(channel=cid, ts="1.000"))
    assert e.response["error"] == "thread_not_found"
    upd = await client.chat_update(channel=cid, ts=parent["ts"], text="edited")
    assert upd["text"] == "edited" and fake.channels[cid].find(parent["ts"])["text"] == "edited"
    await client.chat_delete(channel=cid, ts=reply["ts"])
    e = await err(client.chat_delete(channel=cid, ts=reply["ts"]))
    assert e.response["error"] == "message_not_found"
    e = await err(client.chat_update(channel=cid, ts="1.000", text="x"))
    assert e.response["error"] == "message_not_found"
    with pytest.warns(UserWarning):  # slack_sdk warns about the missing text itself
        e = await err(client.chat_postMessage(channel=cid))
    assert e.response["error"] == "no_text"
    private = fake.add_channel("private", is_private=True, bot_member=False)
    e = await err(client.chat_postMessage(channel=private, text="x"))
    assert e.response["error"] in ("not_in_channel", "channel_not_found")
    e = await err(client.chat_postMessage(channel="C404", text="x"))
    assert e.response["error"] == "channel_not_found"


async def test_private_channel_not_in_channel(fake: FakeSlack, client: AsyncWebClient) -> None:
    private = fake.add_channel("priv", is_private=True, bot_member=False)
    public = fake.add_channel("pub", bot_member=False)
    for cid in (private, public):
        e = await err(client.chat_postMessage(channel=cid, text="x"))
        assert e.response["error"] in ("not_in_channel", "channel_not_found")
    # chat:write.public (not in alumnibot's manifest) lets a token post in public channels only.
    fake.add_token("xoxb-public", fake.bot_user_id, fake.bot_scopes | {"chat:write.public"})
    wide = AsyncWebClient(token="xoxb-public", base_url=fake.api_url)
    await wide.chat_postMessage(channel=public, text="x")
    e = await err(wide.chat_postMessage(channel=private, text="x"))
    assert e.response["error"] in ("not_in_channel", "channel_not_found")
    e = await err(client.conversations_history(channel=public))
    assert e.response["error"] == "not_in_channel"


async def test_ephemeral_and_dm(fake: FakeSlack, client: AsyncWebClient) -> None:
    alice = uid(fake, "alice")
    eph = await client.chat_postEphemeral(channel=fake.general_id, user=alice, text="psst")
    assert fake.ephemeral[0]["text"] == "psst" and eph["message_ts"]
    outsider = fake.add_channel("outsider")
    e = await err(client.chat_postEphemeral(channel=outsider, user=alice, text="x"))
    assert e.response["error"] == "user_not_in_channel"
    im = await client.conversations_open(users=alice)
    dm = im["channel"]["id"]
    assert dm.startswith("D")
    assert (await client.conversations_open(users=alice))["already_open"]
    await client.chat_postMessage(channel=dm, text="welcome")
    assert fake.messages(dm)[0]["text"] == "welcome"
    e = await err(client.conversations_open(users="U404"))
    assert e.response["error"] == "user_not_found"


async def test_views(fake: FakeSlack, client: AsyncWebClient) -> None:
    modal = {"type": "modal", "callback_id": "cb", "title": {"type": "plain_text", "text": "T"}}
    trig = fake.issue_trigger_id()
    opened = await client.views_open(trigger_id=trig, view=modal)
    vid = opened["view"]["id"]
    assert fake.views_opened[0]["callback_id"] == "cb"
    e = await err(client.views_open(trigger_id=trig, view=modal))
    assert e.response["error"] == "exchanged_trigger_id"
    e = await err(client.views_open(trigger_id="12345.98765.abcd", view=modal))
    assert e.response["error"] == "invalid_trigger_id"
    fake.trigger_ttl = -1.0  # every trigger is already older than the TTL
    e = await err(client.views_open(trigger_id=fake.issue_trigger_id(), view=modal))
    assert e.response["error"] == "expired_trigger_id"
    updated = await client.views_update(view_id=vid, view={**modal, "callback_id": "cb2"})
    assert updated["view"]["callback_id"] == "cb2"
    e = await err(client.views_update(view_id="V404", view=modal))
    assert e.response["error"] == "not_found"
    alice = uid(fake, "alice")
    await client.views_publish(user_id=alice, view={"type": "home", "blocks": []})
    assert fake.home_views[alice]["type"] == "home"
    e = await err(client.views_publish(user_id=alice, view=modal))
    assert e.response["error"] == "invalid_arguments"


async def test_users(fake: FakeSlack, client: AsyncWebClient) -> None:
    alice = uid(fake, "alice")
    info = await client.users_info(user=alice)
    assert info["user"]["is_admin"] and info["user"]["profile"]["email"] == "alice@example.org"
    assert (await err(client.users_info(user="U404"))).response["error"] == "user_not_found"
    page = await client.users_list(limit=2)
    assert len(page["members"]) == 2 and page["response_metadata"]["next_cursor"]
    found = await client.users_lookupByEmail(email="bob@example.org")
    assert found["user"]["name"] == "bob"
    e = await err(client.users_lookupByEmail(email="nobody@example.org"))
    assert e.response["error"] == "users_not_found"


async def test_usergroups_plan_and_replace(fake: FakeSlack, client: AsyncWebClient) -> None:
    alice, bob = uid(fake, "alice"), uid(fake, "bob")
    fake.plan = "free"
    e = await err(client.usergroups_create(name="Mentors"))
    assert e.response["error"] == "paid_teams_only"
    fake.plan = "pro"
    gid = (await client.usergroups_create(name="Mentors", handle="mentors"))["usergroup"]["id"]
    await client.usergroups_users_update(usergroup=gid, users=[alice, bob])
    await client.usergroups_users_update(usergroup=gid, users=[bob])
    assert (await client.usergroups_users_list(usergroup=gid))["users"] == [bob]
    listed = await client.usergroups_list(include_users=True)
    assert listed["usergroups"][0]["users"] == [bob]
    e = await err(client.usergroups_create(name="Mentors"))
    assert e.response["error"] == "name_already_exists"
    e = await err(client.usergroups_users_list(usergroup="S404"))
    assert e.response["error"] == "no_such_subteam"


async def test_files_upload_v2(fake: FakeSlack, client: AsyncWebClient) -> None:
    res = await client.files_upload_v2(
        channel=fake.general_id, content="a,b\n1,2\n", filename="x.csv", title="X"
    )
    fid = res["file"]["id"]
    assert fake.files[fid]["content"] == b"a,b\n1,2\n"
    assert fake.messages(fake.general_id)[-1]["files"][0]["id"] == fid
    e = await err(client.files_completeUploadExternal(files=[{"id": "F404", "title": "t"}]))
    assert e.response["error"] == "file_not_found"
    # An empty file: Slack answers missing_argument for a length of 0.
    e = await err(client.files_getUploadURLExternal(filename="empty.csv", length=0))
    assert e.response["error"] == "missing_argument"


async def test_remaining_error_shapes(fake: FakeSlack, client: AsyncWebClient) -> None:
    private = fake.add_channel("priv", is_private=True)
    cases = [
        (client.conversations_members(channel="C404"), "channel_not_found"),
        (client.conversations_join(channel=private), "method_not_supported_for_channel_type"),
        (client.users_list(cursor="bad"), "invalid_cursor"),
        (client.usergroups_users_update(usergroup="S404", users=["U1"]), "no_such_subteam"),
        (client.team_info(token="xoxb-unknown"), "invalid_auth"),
    ]
    for coro, code in cases:
        assert (await err(coro)).response["error"] == code
    gid = (await client.usergroups_create(name="Board"))["usergroup"]["id"]
    e = await err(client.usergroups_users_update(usergroup=gid, users=["U404"]))
    assert e.response["error"] == "invalid_users"
    fake.plan = "free"
    assert (await err(client.usergroups_list())).response["error"] == "paid_teams_only"


async def test_apps_connections_open_token_type(fake: FakeSlack, client: AsyncWebClient) -> None:
    res = await client.apps_connections_open(app_token=fake.app_token)
    assert res["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket-mode/")
    e = await err(client.apps_connections_open(app_token=fake.bot_token))
    assert e.response["error"] == "not_allowed_token_type"


async def test_rate_limit_429_and_retry(fake: FakeSlack) -> None:
    plain = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    fake.set_rate_limit("conversations.info", burst=2, window=60)
    await plain.conversations_info(channel=fake.general_id)
    await plain.conversations_info(channel=fake.general_id)
    e = await err(plain.conversations_info(channel=fake.general_id))
    assert e.response.status_code == 429 and e.response["error"] == "ratelimited"
    assert int(e.response.headers["Retry-After"]) >= 1
    assert fake.ratelimited_counts["conversations.info"] == 1
    retrying = AsyncWebClient(
        token=fake.bot_token,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.set_rate_limit("conversations.invite", per_minute=50, retry_after=0)
    fake.inject_error("conversations.list", "ratelimited", times=2, retry_after=0)
    res = await retrying.conversations_list()
    assert res["ok"] and fake.call_counts["conversations.list"] == 3


# ---------------------------------------------------------------- (b) Bolt over HTTP


class Recorder:
    """Collects what Bolt listeners saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def kinds(self) -> list[str]:
        """Listener names in call order."""
        return [k for k, _ in self.seen]


def build_app(fake: FakeSlack, rec: Recorder, process_before_response: bool) -> AsyncApp:
    """A Bolt app whose client talks to the fake."""
    app = AsyncApp(
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
        signing_secret=SECRET,
        process_before_response=process_before_response,
    )

    @app.command("/alumni")
    async def alumni(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: Any):
        await ack()
        rec.seen.append(("command", body))
        await respond(text=f"got {body['text']}")
        view = {
            "type": "modal",
            "callback_id": "add-category",
            "title": {"type": "plain_text", "text": "Add"},
            "blocks": [],
        }
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.command("/hello-world")
    async def hello(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        rec.seen.append(("hello-world", body))

    @app.event("team_join")
    async def team_join(event: dict[str, Any], body: dict[str, Any]) -> None:
        rec.seen.append(("team_join", body))

    @app.event("message")
    async def message(event: dict[str, Any]) -> None:
        rec.seen.append(("message", event))

    @app.view("add-category")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        rec.seen.append(("view", view))
        value = view["state"]["values"]["name"]["input"]["value"]
        if not value:
            await ack(response_action="errors", errors={"name": "required"})
            return
        await ack()

    @app.view("modal-with-inputs")
    async def fixture_view(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack()
        rec.seen.append(("fixture-view", view))

    @app.action("join")
    async def join(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        rec.seen.append(("action", body))

    return app


@pytest.fixture
async def http_app(fake: FakeSlack) -> AsyncIterator[tuple[SlackDriver, Recorder]]:
    """Bolt served by aiohttp on 127.0.0.1:0, plus an HTTP driver for it."""
    rec = Recorder()
    app = build_app(fake, rec, process_before_response=True)
    runner = web.AppRunner(app.web_app(path="/slack/events"), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield SlackDriver(fake, f"http://127.0.0.1:{port}/slack/events", SECRET), rec
    await runner.cleanup()


async def test_http_slash_command_respond_and_modal(
    fake: FakeSlack, http_app: tuple[SlackDriver, Recorder]
) -> None:
    driver, rec = http_app
    d = await driver.slash_command(
        uid(fake, "alice"), fake.general_id, "/alumni", "categories add name:x"
    )
    assert d.status == 200
    assert fake.responses(d.response_url or "")[0]["text"] == "got categories add name:x"
    assert fake.views_opened[-1]["callback_id"] == "add-category"
    assert fake.calls_to("views.open")[0]["trigger_id"] == d.trigger_id
    assert rec.kinds() == ["command"]


async def test_http_signature_and_timestamp_checks(http_app: tuple[SlackDriver, Recorder]) -> None:
    driver, rec = http_app
    body = "command=%2Falumni&text=x&user_id=U1&channel_id=C1&team_id=T1"
    ctype = "application/x-www-form-urlencoded"
    status, _ = await driver.post_signed(body, ctype, signature="v0=" + "0" * 64)
    assert status == 401
    old = int(time.time()) - 6 * 60
    status, _ = await driver.post_signed(body, ctype, timestamp=old)
    assert status == 401
    assert rec.seen == []
    assert sign("s", 1, b"b") == sign("s", "1", "b")


async def test_http_url_verification(http_app: tuple[SlackDriver, Recorder]) -> None:
    driver, _ = http_app
    d = await driver.url_verification("chal-123")
    assert d.status == 200 and d.json["challenge"] == "chal-123"


async def test_http_team_join_retries(
    fake: FakeSlack, http_app: tuple[SlackDriver, Recorder]
) -> None:
    driver, rec = http_app
    carol = fake.add_user("carol", email="carol@example.org")
    deliveries = await driver.team_join(carol, deliveries=3)
    assert [d.status for d in deliveries] == [200, 200, 200]
    joins = [b for k, b in rec.seen if k == "team_join"]
    assert len(joins) == 3 and len({b["event_id"] for b in joins}) == 1
    assert joins[0]["event"]["user"]["id"] == carol


async def test_http_view_submission_and_block_action(
    fake: FakeSlack, http_app: tuple[SlackDriver, Recorder]
) -> None:
    driver, rec = http_app
    alice = uid(fake, "alice")
    empty = {"name": {"input": {"type": "plain_text_input", "value": ""}}}
    d = await driver.view_submission(alice, "add-category", empty, private_metadata="m")
    assert d.status == 200 and d.json == {
        "response_action": "errors",
        "errors": {"name": "required"},
    }
    ok = {"name": {"input": {"type": "plain_text_input", "value": "Physics"}}}
    d = await driver.view_submission(alice, "add-category", ok)
    assert d.status == 200 and not d.text
    assert [v["private_metadata"] for k, v in rec.seen if k == "view"] == ["m", ""]
    posted = await AsyncWebClient(token=fake.bot_token, base_url=fake.api_url).chat_postMessage(
        channel=fake.general_id, text="Join?"
    )
    d = await driver.block_action(
        alice, "join", "yes", channel_id=fake.general_id, message_ts=posted["ts"]
    )
    assert d.status == 200
    assert rec.seen[-1][1]["message"]["text"] == "Join?"


async def test_http_user_message(fake: FakeSlack, http_app: tuple[SlackDriver, Recorder]) -> None:
    driver, rec = http_app
    alice = uid(fake, "alice")
    ts = await driver.user_message(fake.general_id, alice, "hi all")
    reply = await driver.user_message(fake.general_id, alice, "me too", thread_ts=ts)
    events = [e for k, e in rec.seen if k == "message"]
    assert [e["text"] for e in events] == ["hi all", "me too"]
    assert events[1]["thread_ts"] == ts and fake.channels[fake.general_id].find(reply)


# ---------------------------------------------------------------- (c) Socket Mode


async def test_socket_mode_command_and_event(fake: FakeSlack) -> None:
    rec = Recorder()
    app = build_app(fake, rec, process_before_response=False)
    handler = AsyncSocketModeHandler(app, app_token=fake.app_token)
    try:
        await handler.connect_async()
        await fake.wait_for_socket()
        driver = SlackDriver(fake)
        assert driver.mode == "socket"
        d = await driver.slash_command(uid(fake, "alice"), fake.general_id, "/alumni", "hi")
        assert d.envelope_id in fake.acks
        await fake.wait_for(lambda: fake.views_opened and fake.responses(d.response_url or ""))
        assert fake.responses(d.response_url or "")[0]["text"] == "got hi"
        joins = await driver.team_join(uid(fake, "bob"), deliveries=2)
        assert all(j.envelope_id in fake.acks for j in joins)
        await fake.wait_for(lambda: rec.kinds().count("team_join") == 2)
        ok = {"name": {"input": {"type": "plain_text_input", "value": ""}}}
        d = await driver.view_submission(uid(fake, "alice"), "add-category", ok)
        assert d.json == {"response_action": "errors", "errors": {"name": "required"}}
        assert fake.calls_to("apps.connections.open") == [{}]
        await fake.send_disconnect()  # Slack's refresh: the client reconnects on a new URL
        await fake.wait_for(lambda: fake.socket_connections == 2)
        assert len(fake.calls_to("apps.connections.open")) == 2
        d = await driver.slash_command(uid(fake, "bob"), fake.general_id, "/alumni", "again")
        assert d.ack is not None and d.ack["envelope_id"] == d.envelope_id
    finally:
        await handler.close_async()


# ---------------------------------------------------------------- (d) shared payloads


async def test_shared_payloads_reach_listeners(http_app: tuple[SlackDriver, Recorder]) -> None:
    driver, rec = http_app
    folder = shared_payloads()
    if not folder.is_dir():
        pytest.skip(f"no shared payloads at {folder}")
    form = "application/x-www-form-urlencoded"

    slash = (folder / "slack_slash_command_bolt_fixture.txt").read_bytes().strip()
    assert (await driver.post_signed(slash, form))[0] == 200
    assert rec.seen[-1][0] == "hello-world" and rec.seen[-1][1]["text"] == "Hi"

    view = json.loads((folder / "slack_view_submission.json").read_text())
    body = "payload=" + __import__("urllib.parse").parse.quote(json.dumps(view))
    assert (await driver.post_signed(body, form))[0] == 200
    assert rec.seen[-1][0] == "fixture-view"
    assert rec.seen[-1][1]["private_metadata"] == "shhh-its-secret"

    message = (folder / "slack_message_bolt_fixture.json").read_bytes()
    assert (await driver.post_signed(message, "application/json"))[0] == 200
    assert rec.seen[-1] == ("message", json.loads(message)["event"])

    join = (folder / "slack_team_join.json").read_bytes()
    assert (await driver.post_signed(join, "application/json"))[0] == 200
    assert rec.seen[-1][0] == "team_join"
    assert rec.seen[-1][1]["event"]["user"]["name"] == "spengler"


# ---------------------------------------------------------------- (e) refusals as Slack shapes them


def section(text: str) -> dict[str, Any]:
    """A section block with mrkdwn text."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def buttons(**element: Any) -> dict[str, Any]:
    """An actions block with one button (defaults overridden by `element`)."""
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Yes"},
        "action_id": "alumni:yes",
        "value": "1",
    }
    return {"type": "actions", "elements": [{**button, **element}]}


def modal(title: str = "Profile", blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A modal view."""
    return {
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks or [],
    }


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        # docs.slack.dev/reference/block-kit/blocks: 50 blocks a message.
        ([section("x")] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
        # .../blocks/section-block: text at most 3000 characters.
        (
            [section("x" * 3001)],
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        # .../block-elements/button-element: text 75, action_id 255, value 2000.
        (
            [buttons(text={"type": "plain_text", "text": "y" * 76})],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [buttons(action_id="a" * 256)],
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            [buttons(value="v" * 2001)],
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
    ],
)
async def test_block_kit_limits_refused_as_slack_does(
    fake: FakeSlack, client: AsyncWebClient, blocks: list[dict[str, Any]], message: str
) -> None:
    e = await err(client.chat_postMessage(channel=fake.general_id, text="x", blocks=blocks))
    # Slack's shape for chat.*: invalid_blocks, `errors`, the same in response_metadata.
    assert e.response["error"] == "invalid_blocks"
    assert e.response["errors"] == [message]
    assert e.response["response_metadata"] == {"messages": [f"[ERROR] {message}"]}
    assert fake.messages(fake.general_id) == []


async def test_block_kit_limits_hold_exactly_at_the_limit(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [section("x" * 3000)] * 48 + [
        buttons(text={"type": "plain_text", "text": "y" * 75}, action_id="a" * 255),
        buttons(value="v" * 2000),
    ]
    await client.chat_postMessage(channel=fake.general_id, text="t" * 40_000, blocks=blocks)
    e = await err(client.chat_postMessage(channel=fake.general_id, text="t" * 40_001))
    # docs.slack.dev/reference/methods/chat.postMessage, errors: msg_too_long.
    assert e.response["error"] == "msg_too_long"


@pytest.mark.parametrize(
    ("method", "view", "message"),
    [
        # docs.slack.dev/reference/views/modal-views: title at most 24 characters.
        (
            "views_open",
            modal(title="t" * 25),
            "must be less than 25 characters [json-pointer:/view/title/text]",
        ),
        # docs.slack.dev/reference/block-kit/blocks: 100 blocks in a modal or App Home.
        (
            "views_open",
            modal(blocks=[section("x")] * 101),
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
        (
            "views_publish",
            {"type": "home", "blocks": [section("x")] * 101},
            "no more than 100 items allowed [json-pointer:/view/blocks]",
        ),
    ],
)
async def test_view_limits_refused_as_slack_does(
    fake: FakeSlack, client: AsyncWebClient, method: str, view: dict[str, Any], message: str
) -> None:
    kwargs: dict[str, Any] = {"view": view}
    if method == "views_open":
        kwargs["trigger_id"] = fake.issue_trigger_id()
    else:
        kwargs["user_id"] = uid(fake, "alice")
    e = await err(getattr(client, method)(**kwargs))
    # Slack's shape for views.*: invalid_arguments with the messages in response_metadata.
    assert e.response["error"] == "invalid_arguments"
    assert e.response["response_metadata"] == {"messages": [f"[ERROR] {message}"]}
    assert "errors" not in e.response.data


async def test_missing_scope_names_what_was_needed_and_held(fake: FakeSlack) -> None:
    # Every method page: missing_scope; the response carries `needed` and `provided`.
    fake.add_token("xoxb-public-only", fake.bot_user_id, {"channels:manage", "chat:write"})
    narrow = AsyncWebClient(token="xoxb-public-only", base_url=fake.api_url)
    await narrow.conversations_create(name="open-room")
    e = await err(narrow.conversations_create(name="closed-room", is_private=True))
    assert e.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "groups:write",
        "provided": "channels:manage,chat:write",
    }
    e = await err(narrow.users_info(user=uid(fake, "alice")))
    assert (e.response["error"], e.response["needed"]) == ("missing_scope", "users:read")
    # users:read without users:read.email: the profile comes without the email.
    fake.add_token("xoxb-no-email", fake.bot_user_id, {"users:read"})
    plain = AsyncWebClient(token="xoxb-no-email", base_url=fake.api_url)
    assert "email" not in (await plain.users_info(user=uid(fake, "alice")))["user"]["profile"]


async def test_user_group_handle_must_be_unique_among_channels_users_and_groups(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    # docs.slack.dev/reference/methods/usergroups.create, `handle`: name_taken on a clash.
    fake.add_channel("mentors")
    for handle in ("mentors", "alice", "board"):
        if handle == "board":
            await client.usergroups_create(name="Board", handle="board")
        e = await err(client.usergroups_create(name=f"New {handle}", handle=handle))
        assert e.response.data == {"ok": False, "error": "name_taken"}
    e = await err(client.conversations_create(name="board"))
    assert e.response["error"] == "name_taken"


async def test_response_url_takes_five_posts_in_thirty_minutes(fake: FakeSlack) -> None:
    """docs.slack.dev/interactivity/handling-user-interaction: 5 posts within 30 minutes; the
    webhook client returns the refusal (404, a text body) without raising."""
    alice = uid(fake, "alice")
    url = fake.new_response_url("command", alice, fake.general_id)
    hook = AsyncWebhookClient(url)
    for n in range(5):
        assert (await hook.send(text=f"answer {n}")).status_code == 200
    spent = await hook.send(text="a sixth")
    assert (spent.status_code, spent.body) == (404, "used_url")
    too_big = await AsyncWebhookClient(fake.new_response_url()).send(blocks=[section("x")] * 51)
    assert (too_big.status_code, too_big.body) == (400, "invalid_blocks")
    fake.response_url_ttl = 0.0
    late = await AsyncWebhookClient(fake.new_response_url("command", alice)).send(text="x")
    assert (late.status_code, late.body) == (404, "expired_url")


async def test_replace_original_on_a_slash_command_posts_a_new_message(fake: FakeSlack) -> None:
    """bolt-python issue 1268: a slash command's response_url has no original to replace."""
    alice = uid(fake, "alice")
    hook = AsyncWebhookClient(fake.new_response_url("command", alice, fake.general_id))
    await hook.send(text="working…")
    await hook.send(text="done", replace_original=True)
    assert [m["text"] for m in fake.response_messages] == ["working…", "done"]
    # On a button's response_url it replaces the message that carried the button.
    posted = await AsyncWebClient(token=fake.bot_token, base_url=fake.api_url).chat_postMessage(
        channel=fake.general_id, text="Join?"
    )
    url = fake.new_response_url("message", alice, fake.general_id, posted["ts"])
    await AsyncWebhookClient(url).send(text="Joined", replace_original=True)
    assert fake.channels[fake.general_id].find(posted["ts"])["text"] == "Joined"


async def test_a_late_ack_counts_as_none(fake: FakeSlack) -> None:
    """docs.slack.dev/interactivity/handling-user-interaction: 3 s to acknowledge; Slack
    shows the member an error and ignores what comes later (a modal's ack too)."""
    fake.ack_deadline = 0.2  # 3 s, shrunk
    app = AsyncApp(
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url), signing_secret=SECRET
    )

    @app.view("slow")
    async def slow(ack: AsyncAck) -> None:
        await asyncio.sleep(0.3)
        await ack(response_action="update", view=modal(title="Saved"))

    runner = web.AppRunner(app.web_app(path="/slack/events"), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        driver = SlackDriver(fake, f"http://127.0.0.1:{port}/slack/events", SECRET)
        opened = await AsyncWebClient(token=fake.bot_token, base_url=fake.api_url).views_open(
            trigger_id=fake.issue_trigger_id(), view={**modal(), "callback_id": "slow"}
        )
        d = await driver.view_submission(
            uid(fake, "alice"), "slow", {}, view_id=opened["view"]["id"]
        )
        assert d.late and fake.late_acks[0][1] > 0.2
        assert fake.views[opened["view"]["id"]]["title"]["text"] == "Profile"  # not "Saved"
    finally:
        await runner.cleanup()


async def test_trigger_id_lasts_three_seconds(fake: FakeSlack, client: AsyncWebClient) -> None:
    """docs.slack.dev/interactivity/handling-user-interaction: trigger_id expires after 3 s."""
    trig = fake.issue_trigger_id()
    fake.trigger_ids[trig] -= 3.1  # issued 3.1 s ago
    e = await err(client.views_open(trigger_id=trig, view=modal()))
    assert e.response.data == {"ok": False, "error": "expired_trigger_id"}
    fresh = fake.issue_trigger_id()
    fake.trigger_ids[fresh] -= 2.9
    await client.views_open(trigger_id=fresh, view=modal())


async def test_renames_refused_as_slack_refuses_them(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    """conversations.rename: names Slack takes (lower case, <= 80, no spaces or periods, unique)
    and only the creator's channel; usergroups.update: unique name and handle, its own scope."""
    cid = (await client.conversations_create(name="alumni-role-fashion", is_private=True))[
        "channel"
    ]["id"]
    for bad, error in (
        ("Fashion", "invalid_name_specials"),
        ("fashion 2026", "invalid_name_specials"),
        ("fashion.2026", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("general", "name_taken"),
    ):
        e = await err(client.conversations_rename(channel=cid, name=bad))
        assert e.response["error"] == error, bad
    members = [uid(fake, "alice"), fake.bot_user_id]
    theirs = fake.add_channel("their-channel", members=members, bot_member=False)
    e = await err(client.conversations_rename(channel=theirs, name="ours-now"))
    assert e.response["error"] == "not_authorized"
    gid = (await client.usergroups_create(name="Alumni Fashion", handle="fashion"))["usergroup"]
    await client.usergroups_create(name="Alumni Design", handle="design")
    e = await err(client.usergroups_update(usergroup=gid["id"], name="Alumni Design"))
    assert e.response["error"] == "name_already_exists"
    for taken in ("design", "general", "alice"):
        e = await err(client.usergroups_update(usergroup=gid["id"], handle=taken))
        assert e.response["error"] == "name_taken", taken
    done = await client.usergroups_update(usergroup=gid["id"], name="Alumni Art", handle="art")
    assert (done["usergroup"]["name"], done["usergroup"]["handle"]) == ("Alumni Art", "art")
    fake.add_token("xoxb-read-only", fake.bot_user_id, {"usergroups:read"})
    reader = AsyncWebClient(token="xoxb-read-only", base_url=fake.api_url)
    e = await err(reader.usergroups_update(usergroup=gid["id"], name="Alumni X"))
    assert e.response["error"] == "missing_scope" and e.response["needed"] == "usergroups:write"
    fake.plan = "free"
    e = await err(client.usergroups_update(usergroup=gid["id"], name="Alumni Y"))
    assert e.response["error"] == "paid_teams_only"
