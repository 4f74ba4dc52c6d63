"""The dashboard over a real socket (aiohttp's test server) on a set-up local group."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from adapters.web.server import web_app
from bot.cogs.dashboard.service import DashboardService
from bot.domain import Actor, Member, Permission
from bot.lifecycle import Lifecycle
from tests.features.helpers import STAFF, World, world

_FIELD = re.compile(r'<input type="hidden" name="(?P<name>[a-z_]+)" value="(?P<value>[^"]*)"')
_FORM = re.compile(
    r'<form method="post" action="(?P<action>[^"]*)"[^>]*>(?P<body>.*?)</form>', re.S
)


@dataclass
class Dash:
    """A client of the dashboard, and the world behind it."""

    client: TestClient
    world: World

    @property
    def service(self) -> DashboardService:
        """The dashboard's service."""
        return self.world.bot.service(DashboardService)

    async def link(self, actor: Actor = STAFF) -> str:
        """The path of a fresh sign-in link for `actor`."""
        return URL(await self.service.link(self.world.group, actor)).path

    async def sign_in(self, actor: Actor = STAFF) -> ClientResponse:
        """Open a link and press its button; the response to that post."""
        return await self.use(await self.link(actor))

    async def use(self, path: str) -> ClientResponse:
        """Open a sign-in page and post its form."""
        page = await self.client.get(path)
        check = dict(_fields(await page.text())).get("check", "")
        return await self.client.post(path, data={"check": check}, allow_redirects=False)

    async def form(self, page: str, action: str) -> dict[str, str]:
        """The hidden fields of the form posting to `action` on `page` (its tokens)."""
        response = await self.client.get(page)
        assert response.status == 200, await response.text()
        for match in _FORM.finditer(await response.text()):
            if match["action"] == action:
                return dict(_fields(match["body"]))
        raise AssertionError(f"no form for {action} on {page}")

    async def post(self, page: str, action: str, **fields: str) -> ClientResponse:
        """Submit a page's form as a browser would (its tokens, and `fields`)."""
        data = await self.form(page, action) | fields
        return await self.client.post(action, data=data, allow_redirects=False)


def _fields(html: str) -> list[tuple[str, str]]:
    return [(m["name"], m["value"]) for m in _FIELD.finditer(html)]


@asynccontextmanager
async def dashboard(public_url: str = "http://127.0.0.1") -> AsyncIterator[Dash]:
    """The dashboard of a set-up local group, served on a free port."""
    async with world() as w:
        app = web_app(w.bot, Lifecycle(), public_url)
        client = TestClient(TestServer(app))
        await client.start_server()
        if public_url == "http://127.0.0.1":
            w.bot.service(DashboardService).serve_at(str(client.make_url("")).rstrip("/"))
        try:
            yield Dash(client, w)
        finally:
            await client.close()


async def make_staff(w: World, user_id: str, name: str, now: datetime) -> Actor:
    """A member with the staff role in the bot's records (as an approval records it)."""
    async with w.uow() as uow:
        await uow.members.save(Member(w.group.id, user_id, name, joined_at=now))
        await uow.roles.grant(w.group.id, user_id, "staff", "test", "owner", now)
    return Actor(user_id, name, Permission.STAFF)


async def revoke_staff(w: World, user_id: str) -> None:
    """Take the staff role away in the bot's records."""
    async with w.uow() as uow:
        await uow.roles.revoke(w.group.id, user_id, "staff")
