"""GET /healthz over aiohttp: 200 when every part answers, 503 naming the parts that do not."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.lifecycle import Lifecycle

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


def add_health(app: web.Application, life: Lifecycle) -> None:
    """Serve the process's health on an existing aiohttp app (Slack's HTTP mode)."""

    async def healthz(request: web.Request) -> web.Response:
        checks = await life.health()
        failing = sorted(name for name, state in checks.items() if state != "ok")
        if failing:
            log.warning("health: %s", ", ".join(f"{n}: {checks[n]}" for n in failing))
            body = {"ok": False, "failing": failing, "checks": checks}
            return web.json_response(body, status=503)
        return web.json_response({"ok": True, "checks": checks})

    app.router.add_get(HEALTH_PATH, healthz)


async def serve_health(life: Lifecycle, host: str, port: int) -> tuple[web.AppRunner, int]:
    """A small server with only /healthz (Discord, Socket Mode, local); returns it and its port."""
    app = web.Application()
    add_health(app, life)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, int(runner.addresses[0][1])
