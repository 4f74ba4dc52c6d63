"""Many workspaces on Slack: the OAuth install flow end to end, one database for everything.

The real app runs in OAuth mode (SLACK_CLIENT_ID/SECRET, no bot token) on the bot's own
DATABASE_URL; the fake Slack hosts several workspaces, issues the install code and checks
that each token only ever acts on its own workspace.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from adapters.slack.app import SlackApp, serving
from adapters.slack.manifest import BOT_SCOPES
from bot.core import CoreConfig
from bot.settings import Settings
from storage.database import create_engine, upgrade
from storage.uow import UnitOfWorkFactory
from tests.fakes.slack_fake import FakeSlack, FakeTeam, SlackDriver
from tests.slack_harness import Listeners, listen

SECRET = "oauth-signing-secret"
ALPHA, BETA, GAMMA = "T0ALPHA001", "T0BETA0001", "T0GAMMA001"
REFUSAL = "Please reinstall this app into your workspace"  # Bolt's answer to an unknown team


@dataclass
class OAuthRig:
    """The fake Slack with three workspaces and the app serving in OAuth mode."""

    fake: FakeSlack
    beta: FakeTeam
    gamma: FakeTeam
    sa: SlackApp
    base: str
    engine: AsyncEngine
    admins: dict[str, str]
    listeners: Listeners

    def driver(self, team: FakeTeam) -> SlackDriver:
        """Signed requests from one workspace."""
        return SlackDriver(team, f"{self.base}/slack/events", SECRET)

    async def command(self, team: FakeTeam, text_: str) -> list[str]:
        """`/alumni <text>` by the workspace's admin; the texts answered on the response_url."""
        d = await self.driver(team).slash_command(
            self.admins[team.team["id"]], team.general_id, "/alumni", text_
        )
        assert d.status == 200
        await self.listeners.settle()
        return [r.get("text", "") for r in team.responses(d.response_url or "")]

    async def rows(self, sql: str) -> list[Any]:
        """Rows of a query on the shared database."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql))).all())


@asynccontextmanager
async def oauth_rig(database_url: str) -> AsyncIterator[OAuthRig]:
    """Three workspaces on the fake; the app installed in none yet."""
    fake = await FakeSlack(team_id=ALPHA, team_name="Fashion Oslo").start()
    beta = fake.add_team(BETA, "Production Bergen")
    gamma = fake.add_team(GAMMA, "Never Installed")
    admins = {
        ALPHA: fake.add_user("anne", email="anne@alpha.org", is_admin=True),
        BETA: beta.add_user("bjorn", email="bjorn@beta.org", is_admin=True),
        GAMMA: gamma.add_user("gro", email="gro@gamma.org", is_admin=True),
    }
    engine = create_engine(database_url)
    await upgrade(engine)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_signing_secret=SECRET,
        slack_client_id=fake.client_id,
        slack_client_secret=fake.client_secret,
        slack_api_url=fake.api_url,
        port=0,
    )
    assert settings.platform == "slack"  # no bot token: OAuth alone selects Slack
    try:
        async with serving(
            settings,
            UnitOfWorkFactory(engine),
            host="127.0.0.1",
            config=CoreConfig(instance_id="test"),
        ) as (sa, port):
            base = f"http://127.0.0.1:{port}"
            fake.redirect_urls = [f"{base}/slack/oauth_redirect"]
            listeners = listen(sa)
            yield OAuthRig(fake, beta, gamma, sa, base, engine, admins, listeners)
            await listeners.settle()
            assert sa.installs is not None
            assert sa.installs.engine.sync_engine.pool.checkedin() >= 1
        # Shut down: the installation store's own engine holds no connection any more.
        assert sa.installs.closed and sa.installs.engine.sync_engine.pool.checkedin() == 0
    finally:
        await engine.dispose()
        await fake.stop()


@dataclass
class Installed:
    """The app's answer at the end of the install flow, and the callback URL Slack sent."""

    status: int
    body: str
    callback: str


async def install(rig: OAuthRig, team_id: str, *, cookie: bool = True) -> Installed:
    """An admin's browser: /slack/install -> Slack's consent page -> back to the app."""
    async with aiohttp.ClientSession() as browser:
        start = await browser.get(f"{rig.base}/slack/install?team={team_id}", allow_redirects=False)
        assert start.status == 302
        to_slack = start.headers["Location"]
        assert to_slack.startswith(rig.fake.authorize_url() + "?")
        query = parse_qs(urlsplit(to_slack).query)
        assert query["client_id"] == [rig.fake.client_id] and query["team"] == [team_id]
        assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
        state = query["state"][0]
        # Bolt ties the state to this browser with a Secure cookie (sent back over HTTPS).
        set_cookie = start.headers["Set-Cookie"]
        assert f"slack-app-oauth-state={state}" in set_cookie and "HttpOnly" in set_cookie
        consent = await browser.get(to_slack, allow_redirects=False)
        assert consent.status == 302
        back = consent.headers["Location"]
        assert back.startswith(f"{rig.base}/slack/oauth_redirect?")
        assert parse_qs(urlsplit(back).query)["state"] == [state]
        headers = {"Cookie": f"slack-app-oauth-state={state}"} if cookie else {}
        async with browser.get(back, headers=headers, allow_redirects=False) as done:
            return Installed(done.status, await done.text(), back)


async def test_two_workspaces_install_and_each_runs_setup_with_its_own_token(
    tmp_path: Path,
) -> None:
    await two_workspaces(f"sqlite+aiosqlite:///{tmp_path}/bot.db")


async def test_two_workspaces_on_postgresql(pg_url: str) -> None:
    await two_workspaces(pg_url)


async def two_workspaces(database_url: str) -> None:
    """Install in two workspaces, set up both, and refuse a third that never installed."""
    async with oauth_rig(database_url) as rig:
        fake, beta, gamma = rig.fake, rig.beta, rig.gamma
        for team in (ALPHA, BETA):
            done = await install(rig, team)
            assert done.status == 200
            assert f"slack://app?team={team}&amp;id={fake.app_id}" in done.body

        # The installations are in slack_sdk's tables, on the bot's database.
        bots = await rig.rows(
            "SELECT team_id, bot_token, bot_user_id FROM slack_bots ORDER BY team_id"
        )
        assert bots == [
            (ALPHA, fake.bot_token, fake.bot_user_id),
            (BETA, beta.bot_token, beta.bot_user_id),
        ]
        installed = await rig.rows(
            "SELECT team_id, team_name, user_id, bot_scopes, token_type FROM slack_installations"
            " ORDER BY team_id"
        )
        assert [(r[0], r[1], r[2], r[4]) for r in installed] == [
            (ALPHA, "Fashion Oslo", rig.admins[ALPHA], "bot"),
            (BETA, "Production Bergen", rig.admins[BETA], "bot"),
        ]
        assert set(installed[1][3].split(",")) == set(BOT_SCOPES)
        assert beta.installer == rig.admins[BETA]
        assert await rig.rows("SELECT state FROM slack_oauth_states") == []  # consumed

        # Each workspace sets up its own group, with its own token.
        for team in (fake, beta):
            answer = await rig.command(team, "setup")
            assert "Created:" in answer[0], answer
            assert {"alumni-jobs", "alumni-welcome"} <= {c.name for c in team.channels.values()}
            assert team.channel_by_name("alumni-role-staff").is_private
            assert set(team.tokens_used("conversations.create")) == {team.bot_token}
            assert set(team.tokens_used()) == {team.bot_token}
        assert fake.bot_token != beta.bot_token
        # Later requests reuse the token's auth.test answer: one Web API round trip less each.
        checks = len(fake.tokens_used("auth.test"))
        assert "#staff-review" in (await rig.command(fake, "categories list"))[0]
        assert len(fake.tokens_used("auth.test")) == checks
        # ... and the installation it read: with the store's database answering in 0.3 s a
        # command is still acked at once (nothing waits on a database before the ack).
        await slow_store(rig, beta)
        # Every call acted on the workspace of its token; none was refused for naming another.
        assert all(c.team_id is not None for c in fake.api_calls if c.method != "oauth.v2.access")
        assert fake.channel_by_name("alumni-jobs").id != beta.channel_by_name("alumni-jobs").id
        groups = await rig.rows("SELECT id, platform FROM groups ORDER BY id")
        assert groups == [(ALPHA, "slack"), (BETA, "slack")]

        # A workspace that never installed the app is told so, and nothing happens there.
        answer = await rig.command(gamma, "setup")
        assert len(answer) == 1 and REFUSAL in answer[0]
        assert gamma.tokens_used() == [] and len(gamma.channels) == 1  # only #general
        assert [g[0] for g in await rig.rows("SELECT id FROM groups")].count(GAMMA) == 0


async def slow_store(rig: OAuthRig, team: FakeTeam) -> None:
    """A command acked within 0.3 s while every statement on the store's engine takes 0.3 s."""

    def slow(*_: Any) -> None:
        await_only(asyncio.sleep(0.3))

    assert rig.sa.installs is not None
    engine = rig.sa.installs.engine.sync_engine
    event.listen(engine, "before_cursor_execute", slow)
    try:
        d = await rig.driver(team).slash_command(
            rig.admins[team.team["id"]], team.general_id, "/alumni", "help"
        )
        assert d.status == 200 and d.elapsed < 0.3, d.elapsed
        await rig.listeners.settle()
        assert team.responses(d.response_url or "")
    finally:
        event.remove(engine, "before_cursor_execute", slow)


async def test_a_callback_without_the_browser_state_or_replayed_is_refused(tmp_path: Path) -> None:
    async with oauth_rig(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as rig:
        # A link to the callback opened in another browser (no state cookie): refused.
        stolen = await install(rig, ALPHA, cookie=False)
        assert stolen.status == 400
        assert rig.fake.calls_to("oauth.v2.access") == []
        assert await rig.rows("SELECT team_id FROM slack_installations") == []

        done = await install(rig, BETA)
        assert done.status == 200
        # The same callback again: the state was used up (and so was the code).
        async with aiohttp.ClientSession() as browser:
            state = parse_qs(urlsplit(done.callback).query)["state"][0]
            cookie = {"Cookie": f"slack-app-oauth-state={state}"}
            async with browser.get(done.callback, headers=cookie, allow_redirects=False) as again:
                assert again.status == 401
        assert await rig.rows("SELECT team_id FROM slack_installations") == [(BETA,)]
        assert len(rig.fake.calls_to("oauth.v2.access")) == 1


async def test_uninstall_forgets_the_token_and_a_reinstall_works_again(tmp_path: Path) -> None:
    async with oauth_rig(f"sqlite+aiosqlite:///{tmp_path}/bot.db") as rig:
        beta = rig.beta
        assert (await install(rig, BETA)).status == 200
        assert "Created:" in (await rig.command(beta, "setup"))[0]

        # An admin removes the app: Slack revokes the token and tells the app.
        dead = beta.uninstall()
        d = await rig.driver(beta).event({"type": "app_uninstalled"})
        assert d[0].status == 200
        await rig.listeners.settle()
        assert await rig.rows("SELECT team_id FROM slack_bots") == []
        calls = len(beta.tokens_used())
        answer = await rig.command(beta, "categories list")
        assert REFUSAL in answer[0] and len(beta.tokens_used()) == calls

        # The admin installs again: a new token, and the group and its channels are still there.
        assert (await install(rig, BETA)).status == 200
        assert await rig.rows("SELECT bot_token FROM slack_bots") == [(beta.bot_token,)]
        again = await rig.command(beta, "setup")
        assert "Already there:" in again[0] and "Created:" not in again[0]
        assert dead not in beta.tokens_used()[calls:]
        assert set(beta.tokens_used()[calls:]) == {beta.bot_token}
        assert [g[0] for g in await rig.rows("SELECT id FROM groups")] == [BETA]
