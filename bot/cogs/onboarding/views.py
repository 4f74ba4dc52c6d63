"""Onboarding's messages, built from its records in the group's language (no storage here)."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.cogs.mail.records import InviteeStatus, InviteReport
from bot.cogs.mail.views import invite_lines, status_table
from bot.cogs.onboarding.codes import CLAIMABLE, CODE_DAYS, FRIEND_CODE_USES, LOCK_ATTEMPTS
from bot.cogs.onboarding.records import (
    CohortInvite,
    CohortStatus,
    Decision,
    FailedGrant,
    FriendInvite,
    Granted,
    HomeFacts,
    Link,
    LiveCodes,
    RoleGrant,
    RoleRequest,
    Whois,
    cohort_of,
)
from bot.domain import Cohort, Language, RoleRecord, TrustedRole
from bot.i18n import day, permission_label, t
from bot.messages import Button, ButtonStyle, FormField, FormSpec, OutgoingMessage
from bot.safety import clip, neutralise

CODE_ACTION = "onb:code"
CLAIM_ACTION = "onb:claim"
DECIDE_ACTION = "onb:decide"
INTRO_ACTION = "onb:intro"
MOVE_ACTION = "onb:cohort"
CODE_FORM = "onb_code"
CLAIM_FORM = "onb_claim"
INTRO_FORM = "onb_intro"
INTRO_FIELDS = ("name", "programme", "work", "looking")


def role_label(lang: Language, key: str, roles: dict[str, RoleRecord]) -> str:
    """A role as the group calls it; the bot's own words for roles not made yet."""
    role = roles.get(key)
    if role is not None:
        return role.name
    return t(lang, f"roles.{key}") if key in CLAIMABLE else key


def labels(lang: Language, keys: tuple[str, ...], roles: dict[str, RoleRecord]) -> str:
    """Several roles by name, or "-" for none."""
    return ", ".join(role_label(lang, k, roles) for k in keys) or "-"


def granted_labels(lang: Language, granted: Granted) -> str:
    """The roles a member was given, by name."""
    return labels(lang, granted.keys, granted.roles)


def name_list(lang: Language, names: list[str], shown: int = 20) -> str:
    """Member names for a staff message, the first `shown` of them."""
    text = ", ".join(neutralise(n) for n in names[:shown])
    if len(names) > shown:
        text += " " + t(lang, "onboarding.and_more", count=len(names) - shown)
    return text


def for_students(key: str, keys: tuple[str, ...]) -> str:
    """The text for students (classmates putting a face to a name) or for everyone else,
    by the roles a code or roster entry gives."""
    return f"{key}_student" if TrustedRole.STUDENT in keys else key


def intro_button(lang: Language) -> Button:
    """The button that opens the introduction form."""
    return Button(t(lang, "onboarding.btn_intro"), INTRO_ACTION)


def welcome(lang: Language) -> OutgoingMessage:
    """The welcome DM: a code, a claimed role, or an introduction."""
    buttons = [Button(t(lang, "onboarding.btn_code"), CODE_ACTION, style=ButtonStyle.PRIMARY)]
    buttons += [Button(t(lang, f"onboarding.btn_{k}"), CLAIM_ACTION, k) for k in CLAIMABLE]
    buttons.append(intro_button(lang))
    return OutgoingMessage(
        t(lang, "onboarding.welcome_text"),
        title=t(lang, "onboarding.welcome_title"),
        buttons=tuple(buttons),
    )


def welcome_roster(lang: Language, cohort_key: str, granted: Granted) -> OutgoingMessage:
    """The welcome of a member the roster recognised."""
    text = t(
        lang,
        for_students("onboarding.welcome_roster", granted.keys),
        cohort=role_label(lang, cohort_key, granted.roles),
        roles=granted_labels(lang, granted),
    )
    return OutgoingMessage(text, buttons=(intro_button(lang),))


def roster_granted(lang: Language, cohort_key: str | None, granted: Granted) -> OutgoingMessage:
    """A member already in the group whom a roster gave roles hears what they received."""
    text = t(
        lang,
        "onboarding.roster_granted",
        cohort=role_label(lang, cohort_key, granted.roles) if cohort_key else "-",
        roles=granted_labels(lang, granted),
    )
    return OutgoingMessage(text, buttons=(intro_button(lang),))


def welcome_back(lang: Language, granted: Granted) -> OutgoingMessage:
    """The welcome of a member who returned, with the roles they have again."""
    return OutgoingMessage(t(lang, "onboarding.welcome_back", roles=granted_labels(lang, granted)))


def welcome_in_channel(lang: Language, message: OutgoingMessage, user_id: str) -> OutgoingMessage:
    """A welcome posted in #welcome for a member whose DMs are closed: it mentions only them."""
    note = t(lang, "onboarding.welcome_fallback")
    return replace(message, text=f"{note}\n\n{message.text}", ping_users=(user_id,))


def link_lines(lang: Language, link: Link) -> tuple[str, list[str]]:
    """The link (or why there is none) and notes on how long it lasts."""
    if link.failed:
        if link.refusal is not None:
            key, params = link.refusal
            return t(lang, "onboarding.no_link_now"), [t(lang, key, **params)]
        if link.missing_permission:
            label = permission_label(lang, link.missing_permission, link.role)
            return t(lang, "onboarding.no_link_now"), [
                t(lang, "core.platform_missing_permission", permission=label)
            ]
        return t(lang, "onboarding.no_link_now"), [t(lang, "onboarding.no_link_now")]
    if link.url is None:
        return t(lang, "onboarding.no_link"), []
    if link.days is not None:
        return link.url, [t(lang, "onboarding.invite_link_days", count=link.days)]
    return link.url, []


def link_only(lang: Language, link: Link) -> OutgoingMessage:
    """A fresh invite link."""
    text, notes = link_lines(lang, link)
    return OutgoingMessage("\n".join([t(lang, "onboarding.invite_link", link=text), *notes]))


def cohort_invite(
    lang: Language, invite: CohortInvite, emailed: InviteReport | None
) -> OutgoingMessage:
    """The teacher's invitation: link, code, what the roster gave, its personal invitations
    by email (and their codes' file where emails cannot go), a message to paste."""
    inv, c = invite.invitation, invite.cohort
    link_text, link_notes = link_lines(lang, invite.link)
    lines = [
        t(
            lang,
            "onboarding.invite_title",
            cohort=c.name,
            role=role_label(lang, inv.role_key, invite.roles),
        ),
        t(lang, "onboarding.invite_link", link=link_text),
        *link_notes,
        t(lang, "onboarding.invite_code", code=inv.code, count=inv.max_uses, days=CODE_DAYS),
    ]
    if inv.role_key == "staff":
        lines.append(t(lang, "onboarding.invite_staff_single"))
    roster = invite.roster
    if roster is not None:
        lines.append(
            t(
                lang,
                "onboarding.roster_imported",
                added=roster.added,
                given=roster.given,
                present=roster.present,
            )
        )
        for n, text in roster.invalid:
            lines.append(t(lang, "onboarding.roster_invalid_line", line=n, value=neutralise(text)))
    if emailed is not None:
        lines += invite_lines(lang, emailed, c.name)
    # A staff code goes to one colleague, not to a class.
    paste = (
        "onboarding.invite_paste_staff" if inv.role_key == "staff" else "onboarding.invite_paste"
    )
    lines.append(t(lang, "onboarding.invite_paste_intro"))
    lines.append(t(lang, paste, cohort=c.name, link=link_text, code=inv.code))
    return OutgoingMessage("\n".join(lines), file_path=emailed.file if emailed else None)


def friend_invite(lang: Language, invite: FriendInvite, programme: str) -> OutgoingMessage:
    """A member's personal code, its link and a message to paste that names the group's own
    programme, once staff have set it."""
    code = invite.invitation.code
    link_text, link_notes = link_lines(lang, invite.link)
    lines = [
        t(lang, "onboarding.friend_code", code=code, uses=FRIEND_CODE_USES, days=CODE_DAYS),
        t(lang, "onboarding.invite_link", link=link_text),
        *link_notes,
        t(lang, "onboarding.invite_paste_intro"),
        t(lang, "onboarding.friend_paste", programme=programme, link=link_text, code=code)
        if programme
        else t(lang, "onboarding.friend_paste_plain", link=link_text, code=code),
    ]
    return OutgoingMessage("\n".join(lines))


def progress(lang: Language, done: int, total: int) -> OutgoingMessage:
    """How far a batch of role changes is."""
    return OutgoingMessage(t(lang, "onboarding.progress", done=done, total=total))


def grant_failures(
    lang: Language, failures: list[FailedGrant], names: dict[str, str], title: str
) -> OutgoingMessage | None:
    """Which members' role changes did not take effect and why; None when none failed."""
    if not failures:
        return None
    by_reason: dict[tuple[str, str], list[str]] = {}
    for f in failures:
        if f.missing_permission:
            permission = permission_label(lang, f.missing_permission, f.role)
            reason = ("onboarding.grants_failed_permission", permission)
        elif f.transient:
            reason = ("onboarding.grants_failed_transient", f.detail)
        else:
            reason = ("onboarding.grants_failed_other", f.detail)
        user_id = f.item.change.user_id
        by_reason.setdefault(reason, []).append(names.get(user_id, user_id))
    lines = [title]
    for (key, detail), who in by_reason.items():
        lines.append(
            t(lang, key, permission=detail, detail=clip(detail, 200), members=name_list(lang, who))
        )
    lines.append(t(lang, "onboarding.grants_retry"))
    return OutgoingMessage("\n".join(lines))


def grants_given_up(lang: Language, who: list[str]) -> OutgoingMessage:
    """Role changes the queue stopped trying."""
    return OutgoingMessage(t(lang, "onboarding.grants_given_up", members=name_list(lang, who)))


def grants_recovered(lang: Language, who: list[str]) -> OutgoingMessage:
    """Role changes that took effect after failing before."""
    text = t(lang, "onboarding.grants_recovered", count=len(who), members=name_list(lang, who))
    return OutgoingMessage(text)


def lockout_alert(lang: Language, member: str, minutes: int) -> OutgoingMessage:
    """Staff are told that a member's code entry is locked."""
    text = t(
        lang,
        "onboarding.lockout_alert",
        member=neutralise(member),
        attempts=LOCK_ATTEMPTS,
        minutes=minutes,
    )
    return OutgoingMessage(text)


CODES_SHOWN = 25  # codes a list shows before "and N more" (a platform message has a limit)


def live_codes(lang: Language, found: LiveCodes, timezone: str) -> OutgoingMessage:
    """The codes that still work: kind, role, cohort, uses left, expiry, who made it."""
    if not found.codes:
        key = "onboarding.codes_none_cohort" if found.cohort else "onboarding.codes_none"
        return OutgoingMessage(t(lang, key, cohort=found.cohort.name if found.cohort else ""))
    tz = ZoneInfo(timezone)
    lines = [t(lang, "onboarding.codes_title")]
    for inv in found.codes[:CODES_SHOWN]:
        cohort = found.cohorts.get(inv.cohort_id) if inv.cohort_id else None
        maker = found.names.get(inv.created_by, inv.created_by) if inv.created_by else None
        until = day(lang, inv.expires_at.astimezone(tz), "long") if inv.expires_at else "-"
        lines.append(
            t(
                lang,
                f"onboarding.codes_line_{inv.kind}",
                code=inv.code,
                role=role_label(lang, inv.role_key, found.roles),
                cohort=cohort.name if cohort else "-",
                left=inv.max_uses - inv.uses,
                uses=inv.max_uses,
                until=until,
                by=neutralise(maker or "-"),
            )
        )
    more = len(found.codes) - CODES_SHOWN
    if more > 0:
        lines.append(t(lang, "onboarding.and_more", count=more))
    return OutgoingMessage("\n".join(lines))


def code_ok(lang: Language, granted: Granted) -> OutgoingMessage:
    """A code took effect."""
    return OutgoingMessage(
        t(
            lang,
            for_students("onboarding.code_ok", granted.keys),
            roles=granted_labels(lang, granted),
        ),
        buttons=(intro_button(lang),),
    )


def industry_granted(lang: Language, granted: Granted) -> OutgoingMessage:
    """A role that needs nobody's approval, given at once."""
    return OutgoingMessage(
        t(lang, "onboarding.industry_granted", role=granted_labels(lang, granted)),
        buttons=(intro_button(lang),),
    )


def cohorts(lang: Language, found: list[Cohort]) -> OutgoingMessage:
    """The cohorts with their graduation dates."""
    if not found:
        return OutgoingMessage(t(lang, "onboarding.no_cohorts"))
    lines = [t(lang, "onboarding.cohorts_title")]
    for c in found:
        when = day(lang, c.graduates_on, "long") if c.graduates_on else "-"
        done = t(lang, "onboarding.graduated") if c.graduated_at else ""
        lines.append(f"- {c.name}: {when} {done}".rstrip())
    return OutgoingMessage("\n".join(lines))


def cohort_status(
    lang: Language, status: CohortStatus, invitees: list[InviteeStatus]
) -> tuple[OutgoingMessage, str | None]:
    """Invited, joined, waiting for approval, and per roster address: emailed, bounced,
    joined, opted out (bot/cogs/mail/invitations.py); with the whole table as a CSV to attach
    when it is longer than a message shows."""
    lines = [
        t(lang, "onboarding.status_title", cohort=status.cohort.name),
        t(
            lang,
            "onboarding.status_counts",
            invited=status.invited,
            codes=status.code_uses,
            joined=status.joined,
            waiting=status.waiting,
            missing=len(status.missing),
        ),
    ]
    table, sheet = status_table(lang, invitees)
    if table:
        lines.append(table)
    return OutgoingMessage("\n".join(lines)), sheet


def code_form(lang: Language) -> FormSpec:
    """The form a code is typed into."""
    return FormSpec(
        CODE_FORM,
        t(lang, "onboarding.code_form_title"),
        (FormField("code", t(lang, "onboarding.code_form_label"), max_length=40),),
    )


def claim_form(lang: Language, role: str, roles: dict[str, RoleRecord]) -> FormSpec:
    """Asking for a trusted role: which cohort, if any."""
    return FormSpec(
        CLAIM_FORM,
        t(lang, "onboarding.claim_form_title", role=role_label(lang, role, roles)),
        (
            FormField(
                "cohort",
                t(lang, "onboarding.claim_form_cohort"),
                required=False,
                max_length=120,
                placeholder="Fashion 2026",
            ),
        ),
        context=role,
    )


def request_post(
    lang: Language,
    member: str,
    request: RoleRequest,
    cohort: Cohort | None,
    typed: str,
    roles: dict[str, RoleRecord],
) -> OutgoingMessage:
    """A role request for staff, with Approve and Deny."""
    role_name = role_label(lang, request.role_key, roles)
    fields = [(t(lang, "onboarding.field_role"), role_name)]
    if cohort is not None:
        fields.append((t(lang, "onboarding.field_cohort"), cohort.name))
    elif typed:
        fields.append((t(lang, "onboarding.field_cohort_typed"), neutralise(clip(typed, 120))))
    return OutgoingMessage(
        t(lang, "onboarding.request_post", member=neutralise(member), role=role_name),
        fields=tuple(fields),
        buttons=(
            Button(
                t(lang, "onboarding.btn_approve"),
                DECIDE_ACTION,
                f"{request.id}:approve",
                ButtonStyle.SUCCESS,
            ),
            Button(
                t(lang, "onboarding.btn_deny"),
                DECIDE_ACTION,
                f"{request.id}:deny",
                ButtonStyle.DANGER,
            ),
        ),
    )


def decided(lang: Language, decision: Decision, by: str) -> OutgoingMessage:
    """What staff decided, for the review post and the staff member who pressed."""
    role_name = role_label(lang, decision.request.role_key, decision.granted.roles)
    left = "_left" if decision.gone and decision.status == "approved" else ""
    text = t(
        lang,
        f"onboarding.decided_{decision.status}{left}",
        member=neutralise(decision.requester),
        role=role_name,
        by=neutralise(by),
    )
    return OutgoingMessage(text)


def outcome(lang: Language, decision: Decision) -> OutgoingMessage:
    """The requester hears the answer."""
    role_name = role_label(lang, decision.request.role_key, decision.granted.roles)
    return OutgoingMessage(
        t(
            lang,
            f"onboarding.outcome_{decision.status}",
            role=role_name,
            roles=granted_labels(lang, decision.granted),
        )
    )


def intro_form(lang: Language) -> FormSpec:
    """The introduction form."""
    return FormSpec(
        INTRO_FORM,
        t(lang, "onboarding.intro_title"),
        (
            FormField("name", t(lang, "onboarding.intro_name"), max_length=80),
            FormField("programme", t(lang, "onboarding.intro_programme"), max_length=120),
            FormField("work", t(lang, "onboarding.intro_work"), long=True, max_length=600),
            FormField("looking", t(lang, "onboarding.intro_looking"), long=True, max_length=600),
        ),
    )


def intro_post(lang: Language, member: str, values: dict[str, str]) -> OutgoingMessage:
    """A member's introduction for #introductions (values already checked and neutralised)."""
    fields = tuple(
        (t(lang, f"onboarding.intro_{k}_short"), values[k]) for k in INTRO_FIELDS[1:] if values[k]
    )
    return OutgoingMessage(
        t(lang, "onboarding.intro_post", member=neutralise(member)),
        title=values["name"],
        fields=fields,
    )


def role_granted(lang: Language, done: RoleGrant) -> OutgoingMessage:
    """A role staff gave; with a second cohort's role, the first cohort kept and a button to
    move the member instead."""
    key = "onboarding.role_repaired" if done.repaired else "onboarding.role_granted"
    member = neutralise(done.member.name)
    text = t(lang, key, member=member, role=done.role.name)
    cohort = cohort_of(done.role.key)
    if done.kept is None or cohort is None:
        return OutgoingMessage(text)
    kept = t(lang, "onboarding.cohort_kept", member=member, cohort=done.kept.name)
    move = Button(
        t(lang, "onboarding.btn_move_cohort", cohort=done.role.name),
        MOVE_ACTION,
        f"{done.member.user_id}:{cohort}",
    )
    return OutgoingMessage(f"{text}\n{kept}", buttons=(move,))


def whois(lang: Language, found: Whois, timezone: str) -> OutgoingMessage:
    """Roles, cohort, who invited them, when they joined (and left)."""
    m, tz = found.member, ZoneInfo(timezone)
    joined = day(lang, m.joined_at.astimezone(tz), "long") if m.joined_at else "-"
    fields = [
        (t(lang, "onboarding.whois_roles"), labels(lang, tuple(sorted(m.roles)), found.roles)),
        (t(lang, "onboarding.whois_cohort"), found.cohort.name if found.cohort else "-"),
        (t(lang, "onboarding.whois_invited"), neutralise(found.inviter or "-")),
        (t(lang, "onboarding.whois_joined"), joined),
    ]
    if m.left_at is not None:
        fields.append(
            (t(lang, "onboarding.whois_left"), day(lang, m.left_at.astimezone(tz), "long"))
        )
    return OutgoingMessage("", title=neutralise(m.name), fields=tuple(fields))


def home_notes(lang: Language, facts: HomeFacts) -> list[str]:
    """Lines for a member's home view."""
    notes: list[str] = []
    if facts.cohort is not None:
        notes.append(t(lang, "onboarding.home_cohort", cohort=facts.cohort.name))
    if facts.pending:
        notes.append(t(lang, "onboarding.home_pending", count=facts.pending))
    return notes


def graduation(lang: Language, cohort: Cohort, count: int, ping: str | None) -> OutgoingMessage:
    """The congratulation of a graduated class (pinging its role the first time only)."""
    return OutgoingMessage(
        t(lang, "onboarding.graduation_text", cohort=cohort.name, count=count),
        title=t(lang, "onboarding.graduation_title", cohort=cohort.name),
        ping_roles=(ping,) if ping else (),
    )


def request_status(lang: Language, status: str) -> str:
    """A request's status in words."""
    return t(lang, f"onboarding.status_{status}")
