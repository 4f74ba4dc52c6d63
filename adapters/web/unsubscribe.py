"""`/mail/unsubscribe`: the link in every email's footer and its RFC 8058 one-click POST.

A GET only shows a page with a button (mail scanners open links; RFC 8058 section 3.2: the
one-click request is a POST, and a GET must not unsubscribe), a POST records the opt-out the
signed token names. The token is the capability (no cookie, no CSRF token: mail providers post
it without a session), so nothing but the opt-out it names can be done with it.
"""

from __future__ import annotations

import html
import logging

from aiohttp import web

from bot.cogs.mail.service import MailService
from bot.core import Bot
from bot.domain import Language
from bot.errors import StorageUnavailable
from bot.i18n import t

log = logging.getLogger(__name__)

PATH = "/mail/unsubscribe"
# A token is about 100 characters; anything much longer is not one of ours.
_TOKEN_MAX = 512
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # The page holds a working token: never cached on the way.
    "Cache-Control": "no-store",
}


def add_unsubscribe(app: web.Application, bot: Bot) -> None:
    """Serve the unsubscribe page and its one-click POST on the bot's web server."""

    async def language(token: str) -> Language:
        group_id = await bot.service(MailService).token_group(token)
        if group_id is None:
            return bot.config.default_language
        try:
            return (await bot.group(group_id)).language
        except (StorageUnavailable, LookupError):
            return bot.config.default_language

    def page(lang: Language, text: str, status: int, button: str | None = None) -> web.Response:
        form = (
            f'<form method="post"><button type="submit">{html.escape(button)}</button></form>'
            if button
            else ""
        )
        body = (
            f'<!doctype html><html lang="{lang.value}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(t(lang, 'mail.unsubscribe_title'))}</title></head>"
            f"<body><main><h1>{html.escape(t(lang, 'mail.unsubscribe_title'))}</h1>"
            f'<p role="status">{html.escape(text)}</p>{form}</main></body></html>'
        )
        return web.Response(
            text=body, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
        )

    async def show(request: web.Request) -> web.Response:
        token = request.query.get("t", "")[:_TOKEN_MAX]
        lang = await language(token)
        if await bot.service(MailService).token_group(token) is None:
            return page(lang, t(lang, "mail.unsubscribe_bad"), 400)
        return page(lang, t(lang, "mail.unsubscribe_ask"), 200, t(lang, "mail.unsubscribe_button"))

    async def one_click(request: web.Request) -> web.Response:
        token = request.query.get("t", "")[:_TOKEN_MAX]
        lang = await language(token)
        try:
            done = await bot.service(MailService).unsubscribe(token)
        except StorageUnavailable:
            # Nothing recorded: the sender may post again, and a person gets told so.
            return page(lang, t(lang, "mail.unsubscribe_later"), 503)
        if not done:
            log.info("an unsubscribe POST with a token that is not ours was refused")
            return page(lang, t(lang, "mail.unsubscribe_bad"), 400)
        return page(lang, t(lang, "mail.unsubscribe_done"), 200)

    app.router.add_get(PATH, show)
    app.router.add_post(PATH, one_click)
