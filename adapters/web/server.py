"""The bot's own web server (Discord, Socket Mode, local): /healthz and the dashboard."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from adapters.health import add_health
from adapters.web.app import MAX_BODY, add_dashboard
from bot.cogs.dashboard.service import DashboardService
from bot.core import Bot
from bot.lifecycle import Lifecycle
from bot.settings import WebSettings

log = logging.getLogger(__name__)


@dataclass
class WebServer:
    """A running server: its runner (to clean up), the port it bound and the dashboard's URL."""

    runner: web.AppRunner
    port: int
    url: str

    async def close(self) -> None:
        """Stop listening and close the connections."""
        await self.runner.cleanup()


def web_app(bot: Bot, life: Lifecycle, public_url: str) -> web.Application:
    """/healthz, / (to the dashboard) and /dashboard on one application."""
    app = web.Application(client_max_size=MAX_BODY)
    add_health(app, life)
    add_dashboard(app, bot, public_url)

    async def home(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/dashboard/")

    app.router.add_get("/", home)
    return app


async def serve_web(bot: Bot, life: Lifecycle, settings: WebSettings) -> WebServer | None:
    """Listen where the settings say; None (logged) when the address is taken, as the bot
    itself still works without its dashboard."""
    host, port = settings.listen
    # The URL is known only once the port is bound (port 0 picks one); links are made later.
    app = web_app(bot, life, settings.base_url(host, port or 1))
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        log.warning("the dashboard is not served: cannot listen on %s:%d (%s)", host, port, exc)
        await runner.cleanup()
        return None
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    url = settings.base_url(host, bound)
    bot.service(DashboardService).serve_at(url)
    log.info("dashboard at %s/dashboard/, GET /healthz on port %d", url, bound)
    return WebServer(runner, bound, url)
