"""The dashboard as an aiohttp sub-application under /dashboard, calling the features' services.

Nothing here decides anything: every page reads through a service and every form calls one,
then records the change in the audit (DashboardService.record). This module checks who is
looking (a signed cookie naming a server-side session, staff read again each request), that
a form carries the session's CSRF token and a nonce never used before, and the size of what is
posted; and it sets the headers that keep the pages out of frames and other origins.
"""

from __future__ import annotations

import csv
import email.parser
import email.policy
import io
import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from adapters.web import cohorts, people
from bot.cogs.dashboard.records import Viewer
from bot.cogs.dashboard.service import DashboardService, NotSignedIn, SignInRefused
from bot.cogs.prompts.bank import OPEN_THEME
from bot.cogs.prompts.records import AskedThisWeek
from bot.cogs.prompts.service import THEME_CHOICES, PromptsService
from bot.cogs.stats import views as stats_views
from bot.cogs.stats.service import MAX_WEEKS, StatsService
from bot.core import Bot
from bot.domain import Group, Language, Permission
from bot.errors import StorageUnavailable, UserError
from bot.i18n import day, locale, moment, number, t
from bot.safety import clip, spreadsheet_cell

log = logging.getLogger(__name__)

PREFIX = "/dashboard"
COOKIE = "alumnibot_session"
# Before sign-in: the double-submit token of the sign-in form (there is no session yet).
SIGNIN_COOKIE = "alumnibot_signin"
# A form here is a few fields of text: anything bigger is refused before it is parsed.
MAX_BODY = 16 * 1024
# A roster's upload (multipart, on its one route): the file as Discord's attachments are
# capped (adapters/discord/translate.py MAX_ATTACHMENT_BYTES), plus the form's fields.
MAX_UPLOAD = 1_000_000 + MAX_BODY
# The upload form's parts (its tokens, "send", the file): more is no form of ours, refused
# before it is parsed (the email parser takes seconds over 20,000 parts, on the bot's loop).
MAX_PARTS = 8
OVERVIEW_WEEKS = 8
DEFAULT_WEEKS = 8
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_HERE = Path(__file__).parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Action = Callable[[web.Request, Viewer, dict[str, str]], Awaitable[str]]

BOT_KEY = web.AppKey("bot", Bot)
SECURE_KEY = web.AppKey("secure", bool)
# Messages shown once on the next page (after a form's redirect), per session.
FLASH_KEY = web.AppKey("flash", dict)
# The posted form, read and parsed once by the size-limiting middleware.
FORM_KEY = web.RequestKey("form", dict)
# What a form's handler has to say after it (else the action's own "done" words).
SAID_KEY = web.RequestKey("said", str)
# Where a form's handler sends the browser next (a path it made, never one the form posted).
NEXT_KEY = web.RequestKey("next", str)
# An uploaded file's name and bytes (the upload route's multipart form only).
FILE_KEY = web.RequestKey("file", tuple)


def add_dashboard(app: web.Application, bot: Bot, public_url: str) -> None:
    """Serve the dashboard under /dashboard on an app (the bot's one web server)."""
    sub = web.Application(middlewares=[_headers, _limits])
    sub[BOT_KEY] = bot
    sub[SECURE_KEY] = public_url.startswith("https://")
    sub[FLASH_KEY] = {}
    env = aiohttp_jinja2.setup(
        sub,
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["THEMES"] = THEME_CHOICES
    sub.router.add_static("/static", _HERE / "static", name="static")
    routes = [
        web.get("/signin/{group}/{token}", signin_page),
        web.post("/signin/{group}/{token}", signin),
        web.get("/signed-out", signed_out),
        web.post("/signout", signout),
        web.get("/", page(overview)),
        web.get("/chart.png", page(chart)),
        web.get("/questions", page(questions)),
        web.get("/questions/{id:[0-9]+}/edit", page(edit_question)),
        web.post("/questions/add", action("question.add", add_question)),
        web.post("/questions/{id:[0-9]+}/edit", action("question.edit", save_question)),
        web.post("/questions/{id:[0-9]+}/accept", action("question.accept", decide("accept"))),
        web.post("/questions/{id:[0-9]+}/reject", action("question.reject", decide("reject"))),
        web.post("/questions/schedule", action("questions.schedule", schedule)),
        web.post("/questions/pause", action("questions.pause", pause)),
        web.post("/questions/resume", action("questions.resume", resume)),
        web.post("/questions/now", action("questions.post_now", post_now)),
        web.get("/approvals", page(approvals)),
        web.post("/approvals/decide", action("approvals.decide", decide_requests)),
        web.get("/numbers", page(numbers)),
        web.get("/numbers/{kind}.csv", page(numbers_csv)),
        web.get("/audit", page(audit)),
        *cohorts.routes(sub),
        *people.routes(),
    ]
    sub.router.add_routes(routes)

    async def to_overview(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/")

    # "/dashboard" typed without its slash; before the sub-application, which would 404 it.
    app.router.add_get(PREFIX, to_overview)
    app.add_subapp(PREFIX, sub)
    bot.service(DashboardService).serve_at(public_url)


# -- middleware -------------------------------------------------------------------------------


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer of the dashboard carries the security headers, errors included."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    except StorageUnavailable:
        log.warning("dashboard: the database is unreachable", exc_info=True)
        response = _message(request, None, "dashboard.web.storage_down", status=503)
    for name, value in HEADERS.items():
        response.headers[name] = value
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def _limits(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A posted body is read here, at most MAX_BODY bytes, and only as a plain form; the
    roster's upload route alone takes a multipart form of at most MAX_UPLOAD bytes. A NUL
    character anywhere (address, query, a field, a file's name) is refused: it is no text
    anyone types, and PostgreSQL refuses it in any text column (a server error otherwise)."""
    if _nul(request.path, *request.query.keys(), *request.query.values()):
        return _message(request, None, "dashboard.web.bad_address", status=400)
    if request.method == "POST":
        upload = request.match_info.route.name == cohorts.UPLOAD_ROUTE
        limit = MAX_UPLOAD if upload else MAX_BODY
        declared = request.content_length
        if declared is not None and declared > limit:
            log.warning("dashboard: a %d-byte post refused", declared)
            return await _too_big(request, upload)
        if upload and request.client_max_size < limit:
            # The application's own cap is a plain form's; this route's is its own (Slack's
            # server in front has raised it already, and read the body under it).
            request = request.clone(client_max_size=limit)
        try:
            # read(), not the stream: on Slack's server its own limit has read the body
            # already (aiohttp keeps it); the app's client_max_size bounds a body without
            # a length.
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            body = b"x" * (limit + 1)
        if len(body) > limit:
            log.warning("dashboard: an oversized post refused (no length given)")
            return await _too_big(request, upload)
        kind = request.content_type
        if upload and kind == "multipart/form-data":
            parsed = _multipart(request.headers.get("Content-Type", ""), body)
            if parsed is None or _nul(*parsed[0].keys(), *parsed[0].values(), parsed[1][0]):
                return _message(request, None, "dashboard.web.bad_form", status=400)
            request[FORM_KEY], request[FILE_KEY] = parsed
            return await handler(request)
        if kind != "application/x-www-form-urlencoded":
            return _message(request, None, "dashboard.web.bad_form", status=415)
        try:
            text = body.decode("utf-8")
            fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        except (UnicodeDecodeError, ValueError):
            return _message(request, None, "dashboard.web.bad_form", status=400)
        if _nul(*fields.keys(), *fields.values()):
            return _message(request, None, "dashboard.web.bad_form", status=400)
        request[FORM_KEY] = fields
    return await handler(request)


def _nul(*texts: str) -> bool:
    return any("\x00" in text for text in texts)


async def _too_big(request: web.Request, upload: bool) -> web.Response:
    """An oversized post refused; an upload's in its group's language, saying the limit."""
    if not upload:
        return _message(request, None, "dashboard.web.too_big", status=413)
    try:
        group: Group | None = (await _viewer(request)).group
    except NotSignedIn as exc:
        group = exc.group
    megabytes = number(_lang(group, request), (MAX_UPLOAD - MAX_BODY) / 1_000_000)
    return _message(request, group, "dashboard.web.cohorts.too_big", status=413, size=megabytes)


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[str, bytes]] | None:
    """The text fields and the one file of a multipart form; None if it is not one (a
    field that is no UTF-8, two files, a part without a name, more than MAX_PARTS parts)."""
    try:
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    except UnicodeEncodeError:
        return None
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    boundary = parser.parsebytes(head).get_boundary()
    if not boundary or body.count(f"--{boundary}".encode("latin-1")) > MAX_PARTS + 1:
        return None
    parsed = parser.parsebytes(head + body)
    if not parsed.is_multipart() or parsed.defects:
        return None
    fields: dict[str, str] = {}
    found: tuple[str, bytes] | None = None
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(data, bytes):
            return None
        filename = part.get_filename()
        if filename is not None:
            if found is not None:
                return None
            found = (filename, data)
            continue
        try:
            fields[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return fields, found or ("", b"")


# -- who is looking ---------------------------------------------------------------------------


def _service(request: web.Request) -> DashboardService:
    return request.app[BOT_KEY].service(DashboardService)


async def _viewer(request: web.Request) -> Viewer:
    service = _service(request)
    token = await service.token_of(request.cookies.get(COOKIE))
    return await service.viewer(token)


def page(handler: Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]) -> Handler:
    """A page for signed-in staff; anyone else gets the signed-out page."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            viewer = await _viewer(request)
        except NotSignedIn as exc:
            return _signed_out(request, exc)
        return await handler(request, viewer)

    return run


def action(name: str, handler: Action) -> Handler:
    """A form post: signed in, the session's CSRF token, a fresh nonce; then the service
    call, recorded in the audit; refusals shown on a page, recorded, nothing changed."""

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            viewer = await _viewer(request)
        except NotSignedIn as exc:
            return _signed_out(request, exc)
        form: dict[str, str] = request[FORM_KEY]
        service = _service(request)
        refused = await service.accept_form(viewer, form.get("csrf", ""), form.get("nonce", ""))
        if refused is not None:
            await service.refused(viewer, name, refused)
            status = 409 if refused == "dashboard.web.replayed" else 403
            return _message(request, viewer.group, refused, status=status)
        try:
            detail = await handler(request, viewer, form)
        except UserError as exc:
            await service.refused(viewer, name, f"{exc.key} {dict(form_summary(form))}")
            return _message(request, viewer.group, exc.key, status=400, **exc.params)
        await service.record(viewer, name, detail)
        said = request.get(SAID_KEY) or t(viewer.group.language, f"dashboard.web.done.{name}")
        _flash(request, viewer, said)
        back = form.get("back", "")
        chosen = request.get(NEXT_KEY)
        raise web.HTTPSeeOther(chosen or (back if back in _BACK else f"{PREFIX}/questions"))

    return run


_BACK = {
    f"{PREFIX}/",
    f"{PREFIX}/questions",
    f"{PREFIX}/approvals",
    f"{PREFIX}/numbers",
    f"{PREFIX}/audit",
    f"{PREFIX}/cohorts",
    f"{PREFIX}/members",
    f"{PREFIX}/codes",
}


def form_summary(form: dict[str, str]) -> list[tuple[str, str]]:
    """What a form carried, without its tokens, for the audit of a refusal."""
    return [(k, v[:80]) for k, v in form.items() if k not in ("csrf", "nonce")]


def _flash(request: web.Request, viewer: Viewer, text: str) -> None:
    request.app[FLASH_KEY][viewer.session.token_hash] = text


def _signed_out(request: web.Request, exc: NotSignedIn) -> web.StreamResponse:
    key = "dashboard.web.revoked" if exc.revoked else "dashboard.web.signed_out"
    response = _message(request, exc.group, key, status=401)
    response.del_cookie(COOKIE, path=PREFIX)
    return response


def _lang(group: Group | None, request: web.Request) -> Language:
    if group is not None:
        return group.language
    return request.app[BOT_KEY].config.default_language


def _message(
    request: web.Request, group: Group | None, key: str, *, status: int, **params: Any
) -> web.Response:
    """A page with one message in the group's language (refusals, sign-out)."""
    lang = _lang(group, request)
    words = {
        k: t(lang, f"core.level.{v.value}") if isinstance(v, Permission) else v
        for k, v in params.items()
    }
    return aiohttp_jinja2.render_template(
        "message.html",
        request,
        _context(request, lang, None, message=t(lang, key, **words)),
        status=status,
    )


def _context(
    request: web.Request, lang: Language, viewer: Viewer | None, **extra: Any
) -> dict[str, Any]:
    """What every template gets: the language, its words, the viewer, the form tokens."""
    flash = None
    if viewer is not None:
        flash = request.app[FLASH_KEY].pop(viewer.session.token_hash, None)
    return {
        "lang": lang.value,
        "_": partial(t, lang),
        "number": partial(number, lang),
        "day": partial(day, lang),
        "viewer": viewer,
        "csrf": viewer.session.csrf if viewer is not None else "",
        "nonce": lambda: secrets.token_hex(16),
        "flash": flash,
        "path": request.path,
        "prefix": PREFIX,
        **extra,
    }


def _render(request: web.Request, template: str, viewer: Viewer, **extra: Any) -> web.Response:
    return aiohttp_jinja2.render_template(
        template, request, _context(request, viewer.group.language, viewer, **extra)
    )


# -- signing in -------------------------------------------------------------------------------


async def signin_page(request: web.Request) -> web.StreamResponse:
    """The link's page: one button signs in (a link preview that fetches it signs nobody in)."""
    group = await request.app[BOT_KEY].existing_group(request.match_info["group"])
    check = secrets.token_hex(16)
    response = aiohttp_jinja2.render_template(
        "signin.html", request, _context(request, _lang(group, request), None, check=check)
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        check,
        path=PREFIX,
        httponly=True,
        samesite="Lax",
        secure=request.app[SECURE_KEY],
        max_age=600,
    )
    return response


async def signin(request: web.Request) -> web.StreamResponse:
    """Use the link: a new session and its cookie, or a page saying why not."""
    form: dict[str, str] = request[FORM_KEY]
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not secrets.compare_digest(form.get("check", ""), expected):
        log.warning("dashboard sign-in post without its form token")
        return _message(request, None, "dashboard.web.csrf_refused", status=403)
    service = _service(request)
    client = request.remote or "?"
    try:
        signed = await service.sign_in(
            request.match_info["group"], request.match_info["token"], client
        )
    except SignInRefused as exc:
        return _message(request, exc.group, exc.key, status=403)
    response = web.HTTPSeeOther(f"{PREFIX}/")
    response.set_cookie(
        COOKIE,
        await service.cookie(signed.token),
        path=PREFIX,
        httponly=True,
        samesite="Lax",
        secure=request.app[SECURE_KEY],
        max_age=int((signed.session.expires_at - signed.session.created_at).total_seconds()),
    )
    response.del_cookie(SIGNIN_COOKIE, path=PREFIX)
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    """End the session (with its CSRF token: no other site can sign anyone out)."""
    try:
        viewer = await _viewer(request)
    except NotSignedIn as exc:
        return _signed_out(request, exc)
    if not secrets.compare_digest(request[FORM_KEY].get("csrf", ""), viewer.session.csrf):
        return _message(request, viewer.group, "dashboard.web.csrf_refused", status=403)
    service = _service(request)
    await service.sign_out(await service.token_of(request.cookies.get(COOKIE)))
    response = web.HTTPSeeOther(f"{PREFIX}/signed-out")
    response.del_cookie(COOKIE, path=PREFIX)
    return response


async def signed_out(request: web.Request) -> web.StreamResponse:
    """After sign-out."""
    return _message(request, None, "dashboard.web.bye", status=200)


# -- pages ------------------------------------------------------------------------------------


def _bot(request: web.Request) -> Bot:
    return request.app[BOT_KEY]


def _weeks(request: web.Request, default: int) -> int:
    raw = request.query.get("weeks", str(default))
    try:
        weeks = int(raw)
    except ValueError:
        raise UserError("core.option_not_integer", option="weeks", value=raw[:20]) from None
    if not 1 <= weeks <= MAX_WEEKS:
        raise UserError("core.option_out_of_range", option="weeks", low=1, high=MAX_WEEKS)
    return weeks


def _read_errors(
    handler: Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]:
    async def run(request: web.Request, viewer: Viewer) -> web.StreamResponse:
        try:
            return await handler(request, viewer)
        except UserError as exc:
            return _message(request, viewer.group, exc.key, status=400, **exc.params)

    return run


async def overview(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """This week's question, the dialogue figures and chart, what waits for staff."""
    bot, group = _bot(request), viewer.group
    lang = group.language
    current = await bot.service(PromptsService).this_week(group)
    report = await bot.service(StatsService).report(group, OVERVIEW_WEEKS, chart=False)
    title, subtitle = stats_views.takeaway(report.stats, lang)
    waiting = await _service(request).waiting(group)
    return _render(
        request,
        "overview.html",
        viewer,
        current=current,
        question=current.prompt.text_in(lang.value) if current and current.prompt else None,
        takeaway=title,
        compared=subtitle,
        figures=stats_views.fields(lang, report),
        weeks=OVERVIEW_WEEKS,
        waiting=waiting,
        roles=("student", "alumni", "staff", "industry", "member"),
    )


@_read_errors
async def chart(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The chart of the figures as a PNG (drawn again only when they changed)."""
    weeks = _weeks(request, DEFAULT_WEEKS)
    path = await _bot(request).service(StatsService).chart(viewer.group, weeks)
    if path is None:
        raise web.HTTPNotFound()
    return web.Response(body=path.read_bytes(), content_type="image/png")


async def questions(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The schedule, the queue, suggestions waiting, and the forms that change them."""
    lang = viewer.group.language
    view = await _bot(request).service(PromptsService).overview(viewer.group)
    days = [(str(i), locale(lang).days["format"]["wide"][i]) for i in range(7)]
    return _render(request, "questions.html", viewer, view=view, days=days, lang_enum=lang)


async def edit_question(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One waiting question's words in both languages."""
    view = await _bot(request).service(PromptsService).overview(viewer.group)
    wanted = row_id(request.match_info["id"])
    found = next((p for p in (*view.queue, *view.pending) if p.id == wanted), None)
    if found is None:
        return _message(request, viewer.group, "prompts.unknown", status=404)
    return _render(request, "edit.html", viewer, prompt=found)


async def add_question(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Add a question to the queue (English, Norwegian, a theme)."""
    prompt = (
        await _bot(request)
        .service(PromptsService)
        .add(
            viewer.group,
            viewer.actor,
            form.get("text", ""),
            form.get("theme", OPEN_THEME),
            text_nb=form.get("text_nb", ""),
        )
    )
    return f"#{prompt.id}: {prompt.text}"


# The largest id a database row can have (a 64-bit integer): a longer one is nobody's.
MAX_ID = 2**63 - 1


def row_id(raw: str) -> int | None:
    """A posted or addressed id as a number, None if it can be no row's (not ASCII digits,
    past MAX_ID; "²" is a digit to isdigit() but no number to int())."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    wanted = int(raw)
    return wanted if wanted <= MAX_ID else None


def _prompt_id(request: web.Request) -> int:
    wanted = row_id(request.match_info["id"])
    if wanted is None:
        raise UserError("prompts.unknown")
    return wanted


async def save_question(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Save a waiting question's new words."""
    prompt = (
        await _bot(request)
        .service(PromptsService)
        .edit(
            viewer.group,
            viewer.actor,
            _prompt_id(request),
            form.get("text", ""),
            form.get("text_nb", ""),
        )
    )
    return f"#{prompt.id}: {prompt.text} | {prompt.text_nb or ''}"


def decide(how: str) -> Action:
    """Accept or reject a suggestion (the member who suggested it is told, as by the buttons)."""

    async def run(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
        service = _bot(request).service(PromptsService)
        call = service.accept if how == "accept" else service.reject
        decision = await call(viewer.group, viewer.actor, _prompt_id(request))
        return f"#{decision.prompt.id}: {decision.prompt.text}"

    return run


async def schedule(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Change the weekly slot."""
    days = locale(Language.EN).days["format"]["wide"]
    raw_day = form.get("day", "")
    day_name = days[int(raw_day)].lower() if raw_day in {str(i) for i in range(7)} else raw_day
    slot = (
        await _bot(request)
        .service(PromptsService)
        .schedule(
            viewer.group,
            day_name or None,
            form.get("time") or None,
            form.get("timezone") or None,
        )
    )
    s = slot.settings
    return f"{days[s.day]} {s.time:%H:%M} {s.timezone}"


async def pause(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Pause the weekly question."""
    await _bot(request).service(PromptsService).pause(viewer.group)
    return ""


async def resume(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Resume the weekly question."""
    slot = await _bot(request).service(PromptsService).resume(viewer.group)
    return moment(viewer.group.language, slot.next, slot.settings.timezone)


async def post_now(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Post the next question now; in a week that had one, only with "another" ticked."""
    prompts = _bot(request).service(PromptsService)
    posted = await prompts.post_now(viewer.group)
    if isinstance(posted, AskedThisWeek):
        if form.get("another") != "on":
            last = (
                clip(posted.last.text_in(viewer.group.language.value), 200) if posted.last else "?"
            )
            raise UserError("prompts.ask_another_web", last=last)
        # The count the page's viewer accepted: a question posted meanwhile asks again.
        posted = await prompts.post_now(viewer.group, posted.count)
        if isinstance(posted, AskedThisWeek):
            raise UserError("prompts.now_taken")
    return f"#{posted.id}: {posted.text}"


@_read_errors
async def numbers(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The figures of a chosen number of weeks, the chart, the CSV downloads."""
    weeks = _weeks(request, DEFAULT_WEEKS)
    lang = viewer.group.language
    report = await _bot(request).service(StatsService).report(viewer.group, weeks, chart=False)
    title, subtitle = stats_views.takeaway(report.stats, lang)
    tables = {kind: stats_views.table(lang, report, kind) for kind in stats_views.TABLES}
    return _render(
        request,
        "numbers.html",
        viewer,
        weeks=weeks,
        max_weeks=MAX_WEEKS,
        takeaway=title,
        compared=subtitle,
        figures=stats_views.fields(lang, report),
        tables=tables,
        since=report.stats.weeks[0],
    )


@_read_errors
async def numbers_csv(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One table of the figures as CSV (UTF-8 with a BOM, so spreadsheets read æøå)."""
    kind = request.match_info["kind"]
    if kind not in stats_views.TABLES:
        raise web.HTTPNotFound()
    weeks = _weeks(request, DEFAULT_WEEKS)
    lang = viewer.group.language
    report = await _bot(request).service(StatsService).report(viewer.group, weeks, chart=False)
    header, rows = stats_views.table(lang, report, kind)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    # A cell a spreadsheet would run as a formula (a channel named "=...") is quoted as text.
    writer.writerows([tuple(spreadsheet_cell(c) for c in row) for row in rows])
    name = f"{t(lang, f'dashboard.web.csv_name.{kind}')}-{weeks}.csv"
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def approvals(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The role requests waiting, with Approve and Deny, one or many at once."""
    waiting = await _service(request).requests(viewer.group)
    zone = ZoneInfo(viewer.group.timezone)
    return _render(request, "approvals.html", viewer, waiting=waiting, zone=zone)


async def decide_requests(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Approve or deny the ticked requests (or the one whose own button was pressed)."""
    one = form.get("one", "")
    if one:
        raw_id, _, verdict = one.partition(":")
        ids = [raw_id]
    else:
        verdict = form.get("verdict", "")
        ids = [k.removeprefix("req_") for k in form if k.startswith("req_")]
    wanted = [row_id(i) for i in ids]
    if verdict not in ("approve", "deny") or None in wanted:
        raise UserError("core.button_unknown")
    if not ids:
        raise UserError("dashboard.web.none_ticked")
    outcomes = await _service(request).decide(
        viewer, [i for i in wanted if i is not None], approve=verdict == "approve"
    )
    request[SAID_KEY] = " ".join(o.text for o in outcomes)
    return f"{verdict}: " + "; ".join(f"#{o.request_id}: {o.text}" for o in outcomes)


async def audit(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Every change made in the dashboard: who, what, when."""
    entries = await _service(request).audit(viewer.group)
    return _render(
        request, "audit.html", viewer, entries=entries, zone=ZoneInfo(viewer.group.timezone)
    )


__all__ = ["COOKIE", "PREFIX", "SIGNIN_COOKIE", "add_dashboard"]
