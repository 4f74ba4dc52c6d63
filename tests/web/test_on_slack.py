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


async def test_a_roster_upload_up_to_the_dashboards_limit_passes_slacks_smaller_one(
    engine: AsyncEngine,
) -> None:
    """Slack's own endpoint refuses bodies over 512 kB before reading them; a teacher's
    roster upload on the same server has the dashboard's limits and its words, never
    aiohttp's bare "Maximum request body size 524288 exceeded"."""
    from aiohttp import FormData

    from bot.cogs.onboarding.cohorts import CohortService
    from tests.web.helpers import _FORM, _fields

    async with slack_harness(engine) as h:
        assert h.url is not None
        base = h.url.split("/slack/")[0]
        team = h.fake.team["id"]
        group = await h.bot.group(team)
        admin = Actor(h.admin, "admin", Permission.ADMIN)
        made = await h.bot.service(CohortService).create(group, admin, "Fashion", 2026, None)
        link = await h.bot.service(DashboardService).link(group, admin)
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
            async with browser.get(link) as page:
                check = re.search(r'name="check" value="([^"]+)"', await page.text())
                assert check is not None
            async with browser.post(link, data={"check": check[1]}) as signed:
                assert signed.status == 200
            page = f"/dashboard/cohorts/{made.cohort.id}"
            # Up to 500,000 characters is a roster; up to 1 MB the dashboard reads it and says
            # it is too long; more, and it is refused unread.
            for size, expected in ((450_000, 303), (700_000, 400), (1_200_000, 413)):
                async with browser.get(base + page) as shown:
                    html = await shown.text()
                action = f"{page}/roster"
                fields = next(
                    dict(_fields(m["body"])) for m in _FORM.finditer(html) if m["action"] == action
                )
                rows = "".join(f"Student {i};s{i}@example.no\n" for i in range(size // 28))
                form = FormData()
                for key, value in fields.items():
                    form.add_field(key, value)
                form.add_field("roster", ("navn;e-post\n" + rows).encode(), filename="k.csv")
                async with browser.post(base + action, data=form, allow_redirects=False) as sent:
                    text = await sent.text()
                    assert sent.status == expected, (size, sent.status, text[-300:])
                    if expected == 400:
                        assert "a roster can hold at most 500,000 characters" in text
                    if expected == 413:
                        assert "too large" in text
