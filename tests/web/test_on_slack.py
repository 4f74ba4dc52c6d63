"""On Slack's HTTP mode the dashboard is served by the same server as /slack/events."""

from __future__ import annotations

import re

from aiohttp import ClientSession, CookieJar
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.dashboard.service import DashboardService
from bot.domain import Actor, Permission
from tests.slack_harness import slack_harness


async def test_slack_serves_the_dashboard_beside_its_events(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        assert h.url is not None
        base = h.url.split("/slack/")[0]
        service = h.bot.service(DashboardService)
        # Links point at the server Slack's events reach (the port bound, without a public URL).
        assert service.base_url == base
        team = h.fake.team["id"]
        group = await h.bot.group(team)
        link = await service.link(group, Actor(h.admin, "admin", Permission.ADMIN))
        assert link.startswith(f"{base}/dashboard/signin/{team}/")
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
            async with browser.get(link) as page:
                check = re.search(r'name="check" value="([^"]+)"', await page.text())
                assert check is not None
                assert page.headers["X-Frame-Options"] == "DENY"
            async with browser.post(link, data={"check": check[1]}) as signed:
                body = await signed.text()
                assert signed.status == 200 and "Overview" in body, body[-250:]
            async with browser.get(f"{base}/healthz") as health:
                assert health.status == 200
        # Slack's own endpoint is as it was.
        answered = await h.driver.slash_command(h.admin, h.fake.general_id, "/alumni", "help")
        assert answered.status == 200
