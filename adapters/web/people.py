"""The dashboard's Members and Codes pages, and moving a weekly question in the queue.

Each handler calls the feature's own use case: a role is granted or revoked by the
RoleService that `/alumni role grant` and `revoke` call, a code ended by
InvitationService.revoke as `/alumni code revoke` is, the queue reordered by PromptsService.
Member ids and role keys come from hidden form fields, so they are read as forged until the
group's own records say otherwise (MembersService.get, RoleService.find): a refusal is shown
and logged by `action`, nothing changed.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from adapters.web import app as dash
from bot.cogs.dashboard.records import Viewer
from bot.cogs.members.service import MembersService
from bot.cogs.onboarding.cohorts import CohortService
from bot.cogs.onboarding.grants import GrantService
from bot.cogs.onboarding.invitations import InvitationService
from bot.cogs.onboarding.records import cohort_key, cohort_of
from bot.cogs.onboarding.roles import RoleService
from bot.cogs.onboarding.views import role_granted, role_label
from bot.cogs.prompts.service import PromptsService
from bot.errors import PermissionDenied, UserError
from bot.i18n import t
from bot.safety import neutralise

log = logging.getLogger(__name__)

# A group's live codes can be one per roster entry: the page shows this many, then says how
# many more there are (`/alumni code list <cohort>` narrows them down).
CODES_SHOWN = 300
# Where a role came from (RoleChange.source; "code:<kind>" for a code): the words for each.
SOURCES = frozenset({"code", "staff", "roster", "rejoin", "self", "approval", "graduation"})


def member_path(user_id: str) -> str:
    """The member's page (ids are the platform's: quoted, as a Slack or local id may hold any
    character)."""
    return f"{dash.PREFIX}/members/{quote(user_id, safe='')}"


def _staff(viewer: Viewer) -> None:
    """The commands' level, checked again here: fails closed for any other caller."""
    if not viewer.actor.is_staff:
        raise PermissionDenied("dashboard.denied")


# -- members ----------------------------------------------------------------------------------


async def members(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Search the group's members by name, role and cohort, a page at a time."""
    bot, group = dash._bot(request), viewer.group
    query = request.query
    text = query.get("q", "")[:100]
    roles = await bot.service(GrantService).roles(group.id)
    cohorts = await bot.service(CohortService).all(group)
    # Only the group's own roles and cohorts filter: anything else in the address is ignored.
    role = query.get("role", "")
    role = role if role in roles and cohort_of(role) is None else ""
    raw_cohort = query.get("cohort", "")
    cohort = next((c for c in cohorts if str(c.id) == raw_cohort), None)
    keys = [k for k in (role, cohort_key(cohort.id) if cohort else "") if k]
    raw_page = query.get("page", "1")
    number = min(dash.row_id(raw_page) or 1, 999_999)
    found = await bot.service(MembersService).search(group.id, text, keys, number)
    lang = group.language

    def at(n: int) -> str:
        wanted = {"q": text, "role": role, "cohort": str(cohort.id) if cohort else "", "page": n}
        return f"{dash.PREFIX}/members?" + urlencode({k: v for k, v in wanted.items() if v})

    return dash._render(
        request,
        "members.html",
        viewer,
        found=found,
        text=text,
        role=role,
        cohort=cohort.id if cohort else None,
        roles=[r for r in roles.values() if cohort_of(r.key) is None],
        cohorts=cohorts,
        labels=lambda m: ", ".join(sorted(role_label(lang, k, roles) for k in m.roles)) or "-",
        zone=ZoneInfo(group.timezone),
        member_path=member_path,
        at=at,
    )


async def member(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """One member: their roles (how each came), the history of grants and revocations, and
    the forms that grant or revoke a role."""
    bot, group = dash._bot(request), viewer.group
    try:
        history = await bot.service(RoleService).history(group, request.match_info["user"])
    except UserError as exc:
        return dash._message(request, group, exc.key, status=404, **exc.params)
    roles = history.whois.roles
    held = {e.role_key for e in history.held}
    lang = group.language
    return dash._render(
        request,
        "member.html",
        viewer,
        h=history,
        m=history.whois.member,
        zone=ZoneInfo(group.timezone),
        label=lambda key: role_label(lang, key, roles),
        grantable=[r for r in roles.values() if r.key not in held | history.archived],
        held=[r for r in roles.values() if r.key in held],
        who=lambda by: history.names.get(by, by) if by else "-",
        source=lambda raw: (
            t(lang, f"dashboard.web.people.sources.{raw.partition(':')[0]}")
            if raw.partition(":")[0] in SOURCES
            else neutralise(raw)
        ),
        member_path=member_path,
    )


async def _change(
    request: web.Request, viewer: Viewer, form: dict[str, str], *, grant: bool
) -> str:
    _staff(viewer)
    bot, group = dash._bot(request), viewer.group
    user_id, key = form.get("user", ""), form.get("role", "")
    # The member by id in this group's records only (another group's id is nobody here), and
    # the role by its key among this group's roles: a name typed into the field is no key.
    found = await bot.service(MembersService).get(group.id, user_id)
    roles = await bot.service(GrantService).roles(group.id)
    if key not in roles:
        raise UserError(
            "onboarding.role_unknown",
            role=neutralise(key[:64]),
            choices=", ".join(r.name for r in roles.values()) or "-",
        )
    service = bot.service(RoleService)
    call = service.grant if grant else service.revoke
    done = await call(group, viewer.actor, found.user_id, key)
    request[dash.NEXT_KEY] = member_path(found.user_id)
    # The command's own answer (a repaired grant, a second cohort kept, say so too).
    request[dash.SAID_KEY] = (
        role_granted(group.language, done).text
        if grant
        else t(
            group.language,
            "onboarding.role_revoked",
            member=neutralise(done.member.name),
            role=done.role.name,
        )
    )
    return f"{done.member.user_id} {'+' if grant else '-'}{done.role.key}"


async def grant_role(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Give a member a role, as `/alumni role grant` does."""
    return await _change(request, viewer, form, grant=True)


async def revoke_role(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """Take a role from a member, as `/alumni role revoke` does."""
    return await _change(request, viewer, form, grant=False)


# -- codes ------------------------------------------------------------------------------------


async def codes(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """The group's codes that still work, with uses left, expiry and who made them."""
    group = viewer.group
    live = await dash._bot(request).service(InvitationService).live_codes(group, None)
    lang = group.language
    return dash._render(
        request,
        "codes.html",
        viewer,
        live=live,
        shown=live.codes[:CODES_SHOWN],
        more=max(0, len(live.codes) - CODES_SHOWN),
        zone=ZoneInfo(group.timezone),
        label=lambda key: role_label(lang, key, live.roles),
        maker=lambda by: neutralise(live.names.get(by) or by) if by else "-",
    )


async def revoke_code(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
    """End a code at once, as `/alumni code revoke` does (another group's code is unknown)."""
    _staff(viewer)
    revoked = (
        await dash._bot(request)
        .service(InvitationService)
        .revoke(viewer.group, form.get("code", "")[:40])
    )
    request[dash.SAID_KEY] = t(
        viewer.group.language, "onboarding.code_revoked_now", code=revoked.code
    )
    return revoked.code


# -- the weekly questions' queue order ------------------------------------------------------


def move(up: bool) -> dash.Action:
    """Move a queued question one place earlier or later."""

    async def run(request: web.Request, viewer: Viewer, form: dict[str, str]) -> str:
        prompt_id = dash._prompt_id(request)
        moved = (
            await dash._bot(request)
            .service(PromptsService)
            .move(viewer.group, viewer.actor, prompt_id, up)
        )
        return f"#{moved.id} -> {moved.position}: {moved.text}"

    return run


def routes() -> list[web.RouteDef]:
    """The pages and forms of this module, added to the dashboard's router."""
    return [
        web.get("/members", dash.page(members)),
        web.get("/members/{user}", dash.page(member)),
        web.post("/members/grant", dash.action("member.grant", grant_role)),
        web.post("/members/revoke", dash.action("member.revoke", revoke_role)),
        web.get("/codes", dash.page(codes)),
        web.post("/codes/revoke", dash.action("code.revoke", revoke_code)),
        web.post("/questions/{id:[0-9]+}/up", dash.action("question.move", move(up=True))),
        web.post("/questions/{id:[0-9]+}/down", dash.action("question.move", move(up=False))),
    ]
