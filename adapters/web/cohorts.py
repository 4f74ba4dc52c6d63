"""The dashboard's Cohorts pages: the list, one cohort's status, its forms, a roster's upload.

Every change calls onboarding's or mail's services, or runs the command itself (a roster's
import is `/alumni invite cohort`, through DashboardService.run): nothing is decided here.
Form values are read by the commands' own option declarations (the same dates, limits and
refusals as typing them), and a roster is read by the parser the command uses, so the preview
shows what the import will do. The upload is kept server-side, bound to the session and the
cohort, until it is confirmed: the confirm posts no roster, only which upload it confirms.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.web import app as dash
from bot.cogs.dashboard.records import Viewer
from bot.cogs.mail.invitations import InvitationService as PersonalInvitations
from bot.cogs.mail.records import AddressState, InviteeStatus
from bot.cogs.mail.views import invite_lines, status_cells, status_csv
from bot.cogs.onboarding.cohorts import CohortService
from bot.cogs.onboarding.roster import merge_rosters
from bot.commands import convert_options
from bot.core import Bot
from bot.domain import Cohort
from bot.errors import UserError
from bot.i18n import number, t
from bot.safety import clip, decode_upload

log = logging.getLogger(__name__)

# The dashboard's prefix (app.PREFIX) is not read at import: app imports this module.
PATH = "/dashboard/cohorts"
UPLOAD_ROUTE = "cohort_roster_upload"
# The command that imports a roster, and its file option (its max_length bounds the text).
IMPORT_COMMAND = ("invite", "cohort")
ROSTER_OPTION = "roster"
# An upload waits this long for its confirm (then it is uploaded again).
UPLOAD_SECONDS = 1800.0
# Rows of the preview shown per list (the counts are always whole).
PREVIEW_ROWS = 500
# The parsed upload waiting for its confirm, per session (this process serves the dashboard).
UPLOADS_KEY = web.AppKey("roster_uploads", dict)
# The files a command answered with (the codes to hand out), per session, until downloaded.
FILES_KEY = web.AppKey("cohort_files", dict)


@dataclass(frozen=True)
class Upload:
    """A roster uploaded for one cohort, read as the command will read it."""

    id: str
    cohort_id: int
    file_name: str
    text: str
    valid: list[tuple[str, str]]
    invalid: list[tuple[int, str]]
    send: bool
    at: float


def routes(sub: web.Application) -> list[web.RouteDef]:
    """The Cohorts pages and forms (added to the dashboard by add_dashboard)."""
    sub[UPLOADS_KEY] = {}
    sub[FILES_KEY] = {}
    one = "/cohorts/{id:[0-9]+}"
    return [
        web.get("/cohorts", dash.page(cohorts_page)),
        web.post("/cohorts/create", dash.action("cohort.create", create)),
        web.get(one, dash.page(dash._read_errors(cohort_page))),
        web.get(one + "/status.csv", dash.page(dash._read_errors(status_download))),
        web.get(one + "/file/{name}", dash.page(dash._read_errors(file_download))),
        web.post(one + "/edit", dash.action("cohort.edit", edit)),
        web.post(one + "/archive", dash.action("cohort.archive", archive)),
        web.post(one + "/remind", dash.action("cohort.remind", remind)),
        web.post(one + "/roster", dash.action("roster.upload", upload), name=UPLOAD_ROUTE),
        web.get(one + "/roster/{upload:[0-9a-f]{32}}", dash.page(dash._read_errors(preview))),
        web.post(one + "/roster/{upload:[0-9a-f]{32}}", dash.action("roster.import", confirm)),
    ]


# -- reading --------------------------------------------------------------------------------


def _bot(request: web.Request) -> Bot:
    return request.app[dash.BOT_KEY]


def _cohorts(request: web.Request) -> CohortService:
    return _bot(request).service(CohortService)


def _personal(request: web.Request) -> PersonalInvitations:
    return _bot(request).service(PersonalInvitations)


async def _cohort(request: web.Request, viewer: Viewer) -> Cohort:
    """The cohort the path names, only among the viewer's group's own: any other id (another
    group's, a forged one) is refused as unknown, and logged."""
    raw = request.match_info["id"]
    try:
        return await _cohorts(request).find(viewer.group, raw)
    except UserError:
        log.warning(
            "dashboard: cohort %s is not one of %s's (asked by %s)",
            raw[:20],
            viewer.group.id,
            viewer.actor.id,
        )
        raise


def _options(
    request: web.Request, viewer: Viewer, words: tuple[str, ...], form: dict[str, str]
) -> dict[str, Any]:
    """A form's values read by the command's own options: its dates, limits and refusals."""
    command, _ = _bot(request).tree.resolve(words)
    names = {o.name for o in command.options}
    raw = {k: v for k, v in form.items() if k in names}
    return convert_options(command, raw, (), viewer.group.language)


def _local(cohort: Cohort) -> str:
    return f"{PATH}/{cohort.id}"


# -- pages ----------------------------------------------------------------------------------


async def cohorts_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Every cohort not archived: graduation date, joined, waiting, not yet joined; a form
    to create one."""
    rows = await _cohorts(request).statuses(viewer.group)
    return dash._render(request, "cohorts.html", viewer, rows=rows)


async def cohort_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One cohort: its counts, each roster address's invitation, and its forms."""
    cohort = await _cohort(request, viewer)
    status = await _cohorts(request).status(viewer.group, str(cohort.id))
    invitees = await _personal(request).status(viewer.group, cohort)
    lang = viewer.group.language
    files = request.app[FILES_KEY].get(viewer.session.token_hash, {})
    return dash._render(
        request,
        "cohort.html",
        viewer,
        cohort=cohort,
        status=status,
        counts=_counts(invitees),
        rows=[(i, status_cells(lang, i)) for i in invitees],
        files=sorted(name for name, (cid, _) in files.items() if cid == cohort.id),
    )


def _counts(invitees: list[InviteeStatus]) -> dict[str, int]:
    """Emailed and bounced, from each address's invitation (the status table's other rows
    are CohortService.status's)."""
    states = Counter(i.state for i in invitees)
    return {
        "emailed": sum(1 for i in invitees if i.emailed_at is not None),
        "bounced": states[AddressState.BOUNCED] + states[AddressState.FAILED],
    }


async def status_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The cohort's per-address status as a CSV (the table `/alumni cohort status` attaches)."""
    cohort = await _cohort(request, viewer)
    invitees = await _personal(request).status(viewer.group, cohort)
    lang = viewer.group.language
    name = f"{t(lang, 'dashboard.web.cohorts.csv_name')}-{cohort.id}.csv"
    return _csv(status_csv(lang, invitees).encode("utf-8"), name)


def _csv(body: bytes, name: str) -> web.Response:
    # UTF-8 with a BOM, so spreadsheets read æøå.
    bom = b"" if body.startswith(b"\xef\xbb\xbf") else b"\xef\xbb\xbf"
    return web.Response(
        body=bom + body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def file_download(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """A file a command answered with (the personal codes to hand out), once."""
    cohort = await _cohort(request, viewer)
    files = request.app[FILES_KEY].get(viewer.session.token_hash, {})
    found = files.get(request.match_info["name"])
    if found is None or found[0] != cohort.id:
        raise web.HTTPNotFound()
    del files[request.match_info["name"]]
    return _csv(found[1], request.match_info["name"])


async def preview(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """What the uploaded roster will import, and each line refused with its number and why."""
    cohort = await _cohort(request, viewer)
    found = _upload(request, viewer, cohort)
    return dash._render(
        request,
        "roster_preview.html",
        viewer,
        cohort=cohort,
        upload=found,
        shown=PREVIEW_ROWS,
    )


def _upload(request: web.Request, viewer: Viewer, cohort: Cohort) -> Upload:
    """This session's upload the path names, for this cohort; else refused (nothing kept)."""
    kept: Upload | None = request.app[UPLOADS_KEY].get(viewer.session.token_hash)
    wanted = request.match_info["upload"]
    fresh = kept is not None and time.monotonic() - kept.at < UPLOAD_SECONDS
    if kept is None or not fresh or not secrets.compare_digest(kept.id, wanted):
        raise UserError("dashboard.web.cohorts.upload_gone")
    if kept.cohort_id != cohort.id:
        log.warning(
            "dashboard: an upload for cohort %s confirmed for %s", kept.cohort_id, cohort.id
        )
        raise UserError("dashboard.web.cohorts.upload_other", cohort=cohort.name)
    return kept


# -- forms ----------------------------------------------------------------------------------


async def create(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Create a cohort (and its platform role), as `/alumni cohort create` does."""
    opts = _options(request, viewer, ("cohort", "create"), form)
    made = await _cohorts(request).create(
        viewer.group, viewer.actor, opts["program"], opts["year"], opts.get("graduates")
    )
    c = made.cohort
    lang = viewer.group.language
    if made.role_repaired:
        request[dash.SAID_KEY] = t(lang, "onboarding.cohort_role_repaired", cohort=c.name)
    request[dash.NEXT_KEY] = _local(c)
    return f"#{c.id}: {c.name} {c.graduates_on.isoformat() if c.graduates_on else '-'}"


async def edit(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Rename a cohort or set its graduation date, as `/alumni cohort edit` does (a field
    left empty or unchanged is no change)."""
    cohort = await _cohort(request, viewer)
    asked = {k: v for k, v in form.items() if v.strip()}
    opts = _options(request, viewer, ("cohort", "edit"), {**asked, "cohort": str(cohort.id)})
    # The form comes back filled in ("15. juni 2029", the name): what it still says is no change.
    graduates = opts.get("graduates")
    name = opts.get("name")
    edited = await _cohorts(request).edit(
        viewer.group,
        str(cohort.id),
        None if graduates == cohort.graduates_on else graduates,
        None if name is None or " ".join(name.split()) == cohort.name else name,
    )
    request[dash.NEXT_KEY] = _local(edited)
    return f"#{edited.id}: {cohort.name} -> {edited.name} {edited.graduates_on}"


async def archive(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Hide a finished cohort from lists, as `/alumni cohort archive` does."""
    cohort = await _cohort(request, viewer)
    done = (await _cohorts(request).archive(viewer.group, str(cohort.id))).cohort
    request[dash.NEXT_KEY] = PATH
    return f"#{done.id}: {done.name}"


async def remind(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Email who has not joined yet, at most once every three days per address."""
    cohort = await _cohort(request, viewer)
    personal = _personal(request)
    report = await personal.remind(viewer.group, cohort, viewer.actor)
    try:
        if report.file:
            handed = await asyncio.to_thread(Path(report.file).read_bytes)
            _keep_file(request, viewer, cohort, handed)
    finally:
        await personal.forget_file(report.file)
    said = "\n".join(invite_lines(viewer.group.language, report, cohort.name))
    request[dash.SAID_KEY] = said
    request[dash.NEXT_KEY] = _local(cohort)
    return f"#{cohort.id}: {said}"


def _keep_file(request: web.Request, viewer: Viewer, cohort: Cohort, body: bytes) -> None:
    lang = viewer.group.language
    name = f"{t(lang, 'dashboard.web.cohorts.codes_name')}-{cohort.id}-{secrets.token_hex(4)}.csv"
    files = request.app[FILES_KEY].setdefault(viewer.session.token_hash, {})
    files[name] = (cohort.id, body)


async def upload(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Read an uploaded roster as the command will and keep it for its confirm (nothing
    imported yet); the next page is its preview."""
    cohort = await _cohort(request, viewer)
    name, data = request.get(dash.FILE_KEY) or ("", b"")
    try:
        # As the command reads an attachment: UTF-8, UTF-16 with its BOM, or Windows-1252.
        text = decode_upload(data)
    except UnicodeDecodeError:
        raise UserError("dashboard.web.cohorts.upload_not_text", file=clip(name, 80)) from None
    if not text.strip():
        raise UserError("dashboard.web.cohorts.upload_empty")
    command, _ = _bot(request).tree.resolve(IMPORT_COMMAND)
    limit = next(o.max_length for o in command.options if o.name == ROSTER_OPTION)
    if len(text) > limit:
        size = number(viewer.group.language, len(text))
        raise UserError("dashboard.web.cohorts.too_long", count=limit, size=size)
    valid, invalid = merge_rosters(text)
    kept = Upload(
        secrets.token_hex(16),
        cohort.id,
        name,
        text,
        valid,
        invalid,
        form.get("send") == "on",
        time.monotonic(),
    )
    uploads: dict[str, Upload] = request.app[UPLOADS_KEY]
    # One upload per session; those never confirmed go once they are stale.
    for key in [k for k, u in uploads.items() if kept.at - u.at >= UPLOAD_SECONDS]:
        del uploads[key]
    uploads[viewer.session.token_hash] = kept
    request[dash.NEXT_KEY] = f"{_local(cohort)}/roster/{kept.id}"
    request[dash.SAID_KEY] = t(viewer.group.language, "dashboard.web.cohorts.previewed")
    return f"#{cohort.id}: {name} {len(valid)} + {len(invalid)}"


async def confirm(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Import the kept upload through `/alumni invite cohort` (the roster, its emails, the
    roles of members already here); the upload is used once."""
    cohort = await _cohort(request, viewer)
    kept = _upload(request, viewer, cohort)
    del request.app[UPLOADS_KEY][viewer.session.token_hash]
    ref = f"upload:{kept.id}"
    options = {"cohort": str(cohort.id), ROSTER_OPTION: ref, "send": "yes" if kept.send else "no"}
    answered = await dash._service(request).run(viewer, IMPORT_COMMAND, options, {ref: kept.text})
    for _, body in answered.files:
        _keep_file(request, viewer, cohort, body)
    said = "\n".join(answered.texts)
    request[dash.SAID_KEY] = said
    request[dash.NEXT_KEY] = _local(cohort)
    return f"#{cohort.id}: {kept.file_name} | {said}"
