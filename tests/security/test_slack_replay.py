"""A replayed signed Slack request does not run again, also when the replay reaches another
process (issue 12, item 5).

Slack signs `v0:<timestamp>:<body>` and the app accepts a timestamp up to 5 minutes old
(docs.slack.dev/authentication/verifying-requests-from-slack), so a captured request can be
sent again, unchanged, within that window. Slash commands and interactions carry a trigger_id
that Slack issues once per member action: the app records it (after the ack: no database call
comes first) in the database, so a second process on the same PostgreSQL refuses it too.
Events were already deduplicated by event_id.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import aiohttp

from adapters.slack.app import SlackApp, build_app, serve_http
from bot.core import CoreConfig
from bot.settings import Settings
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.fakes.slack_fake import FakeSlack, SlackDriver, sign
from tests.slack_harness import Listeners, listen
from tests.test_slack_app import CommandText, Probe

SECRET = "replay-signing-secret"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Process:
    """One running bot: its app, its HTTP URL, its listeners."""

    sa: SlackApp
    url: str
    listeners: Listeners


@asynccontextmanager
async def two_processes(database_url: str) -> AsyncIterator[tuple[FakeSlack, Process, Process]]:
    """The fake Slack and two bots on one database, each with its own engine and server."""
    fake = await FakeSlack().start()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(fake.stop)
        setup = create_engine(database_url)
        await upgrade(setup)
        await setup.dispose()
        processes = []
        for name in ("a", "b"):
            engine = create_engine(database_url)
            stack.push_async_callback(engine.dispose)
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                slack_bot_token=fake.bot_token,
                slack_signing_secret=SECRET,
                slack_api_url=fake.api_url,
            )
            sa = build_app(
                settings,
                UnitOfWorkFactory(engine),
                config=CoreConfig(instance_id=name),
                extra_cogs=[Probe],
            )
            listeners = listen(sa)
            runner, port = await serve_http(sa, "127.0.0.1", 0)
            stack.push_async_callback(runner.cleanup)
            stack.push_async_callback(listeners.settle)
            processes.append(Process(sa, f"http://127.0.0.1:{port}/slack/events", listeners))
        yield fake, processes[0], processes[1]


async def post(url: str, body: str, timestamp: str, signature: str) -> int:
    """Send a captured request again, byte for byte, with its original headers."""
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
        return r.status


async def settle(*processes: Process) -> None:
    """Both bots idle."""
    for p in processes:
        await p.listeners.settle()


async def test_a_replayed_slash_command_runs_once_across_two_processes(pg_url: str) -> None:
    async with two_processes(pg_url) as (fake, a, b):
        admin = fake.add_user("admin", is_admin=True)
        url = fake.new_response_url("command", admin, fake.general_id)
        body = urlencode(
            {
                "team_id": fake.team["id"],
                "channel_id": fake.general_id,
                "user_id": admin,
                "user_name": "admin",
                "command": "/alumni",
                "text": "probe echo text:transfer the budget",
                "response_url": url,
                "trigger_id": fake.issue_trigger_id(),
            }
        )
        ts = str(int(time.time()))
        signature = sign(SECRET, ts, body)
        assert await post(a.url, body, ts, signature) == 200
        await settle(a)
        # The attacker replays it a minute later: to the same process, then to the other one.
        assert await post(a.url, body, ts, signature) == 200
        assert await post(b.url, body, ts, signature) == 200
        await settle(a, b)
        ran = [e for p in (a, b) for e in probe_of(p).seen if isinstance(e, CommandText)]
        assert ran == [CommandText("transfer the budget")]
        assert [r["text"] for r in fake.responses(url)] == ["transfer the budget"]


async def test_a_replayed_button_and_form_run_once(pg_url: str) -> None:
    async with two_processes(pg_url) as (fake, a, b):
        admin = fake.add_user("admin", is_admin=True)
        driver = SlackDriver(fake, a.url, SECRET)
        await driver.slash_command(admin, fake.general_id, "/alumni", "probe buttons")
        await driver.slash_command(admin, fake.general_id, "/alumni", "probe form")
        await settle(a)
        message = fake.messages(fake.general_id)[-1]
        view = fake.views_opened[-1]
        press = {
            "type": "block_actions",
            "user": {"id": admin, "name": "admin", "team_id": fake.team["id"]},
            "team": {"id": fake.team["id"]},
            "trigger_id": fake.issue_trigger_id(),
            "channel": {"id": fake.general_id},
            "message": message,
            "container": {"type": "message", "message_ts": message["ts"]},
            "response_url": fake.new_response_url("message", admin, fake.general_id),
            "actions": [{"action_id": "alumni:probe", "value": "yes", "type": "button"}],
        }
        submission = {
            "type": "view_submission",
            "user": {"id": admin, "name": "admin", "team_id": fake.team["id"]},
            "team": {"id": fake.team["id"]},
            "trigger_id": fake.issue_trigger_id(),
            "view": {
                **view,
                "state": {
                    "values": {"about": {"value": {"type": "plain_text_input", "value": "x"}}}
                },
            },
        }
        for payload in (press, submission):
            body = "payload=" + quote(json.dumps(payload))
            ts = str(int(time.time()))
            signature = sign(SECRET, ts, body)
            for target in (a, b, a):
                assert await post(target.url, body, ts, signature) == 200
            await settle(a, b)
        kinds = [type(e).__name__ for p in (a, b) for e in probe_of(p).seen]
        assert kinds.count("ButtonPressed") == 1 and kinds.count("FormSubmitted") == 1
        assert [r["text"] for r in fake.responses(press["response_url"])] == ["You chose yes"]


def probe_of(p: Process) -> Probe:
    """The probe cog of one process."""
    cog = p.sa.bot.cog("probe")
    assert isinstance(cog, Probe)
    return cog
