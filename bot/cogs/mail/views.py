"""What personal invitations look like: the email, the teacher's answer, the status table, the
codes' CSV. Pure: records and the group's language in, text out."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from functools import lru_cache

from bot.cogs.mail.messages import html_paragraphs
from bot.cogs.mail.records import (
    AddressState,
    Delivery,
    Email,
    Invitee,
    InviteeStatus,
    InviteReport,
)
from bot.domain import Language
from bot.i18n import day, join, t
from bot.safety import spreadsheet_cell

# Rows of the status table shown in the message (Discord's 2,000 characters); the rest, and
# all of them, go in the attached CSV.
STATUS_ROWS = 20
ADDRESS_WIDTH = 34
# Addresses named per outcome in the teacher's answer (the rest are counted).
NAMED_MAX = 10


# Stand-ins for what differs from one invitation to the next: the text is written (and made
# HTML) once per batch, then each email gets its name and code.
_NAME = "\x00name\x00"
_CODE = "\x00code\x00"


def invitation_email(
    lang: Language,
    invitee: Invitee,
    code: str,
    *,
    teacher: str,
    cohort: str,
    roles: Sequence[str],
    link: str | None,
    link_days: int | None,
    reply_to: str | None,
    reminder: bool,
    key: str,
) -> Email:
    """One personal invitation (or its reminder) in the group's language."""
    first = " ".join(invitee.name.replace("\x00", "").split()[:1])
    text, markup, subject, why = _invitation(
        lang, teacher, cohort, tuple(roles), link, link_days, bool(reply_to), reminder, bool(first)
    )
    return Email(
        to=invitee.email,
        subject=subject,
        text=text.replace(_NAME, first).replace(_CODE, code),
        why=why,
        html=markup.replace(_NAME, html.escape(first)).replace(_CODE, html.escape(code)),
        reply_to=reply_to,
        key=key,
    )


@lru_cache(maxsize=64)
def _invitation(
    lang: Language,
    teacher: str,
    cohort: str,
    roles: tuple[str, ...],
    link: str | None,
    link_days: int | None,
    reply: bool,
    reminder: bool,
    named: bool,
) -> tuple[str, str, str, str]:
    """The invitation's text, HTML, subject and why-line, with stand-ins for name and code."""
    greeting = t(lang, "mail.invitation.hello_name", name=_NAME) if named else ""
    parts = [greeting or t(lang, "mail.invitation.hello")]
    intro = "mail.invitation.reminder_intro" if reminder else "mail.invitation.intro"
    parts.append(t(lang, intro, teacher=teacher, cohort=cohort))
    if link:
        step = t(lang, "mail.invitation.step_link", link=link)
        if link_days:
            step += " " + t(lang, "mail.invitation.link_days", count=link_days, teacher=teacher)
    else:
        step = t(lang, "mail.invitation.step_no_link", teacher=teacher)
    parts.append(step)
    parts.append(t(lang, "mail.invitation.step_code", code=_CODE))
    parts.append(t(lang, "mail.invitation.after", roles=join(lang, list(roles))))
    parts.append(t(lang, "mail.invitation.personal"))
    if reply:
        parts.append(t(lang, "mail.invitation.reply", teacher=teacher))
    text = "\n\n".join(parts)
    markup = html_paragraphs(text)
    if link and link.startswith("https://"):
        # The group's own link is the one link an invitation may carry (no tracking).
        shown = html.escape(link)
        markup = markup.replace(shown, f'<a href="{html.escape(link, quote=True)}">{shown}</a>')
    subject_key = "mail.invitation.reminder_subject" if reminder else "mail.invitation.subject"
    subject = t(lang, subject_key, teacher=teacher, cohort=cohort)
    why = t(lang, "mail.invitation.why", teacher=teacher, cohort=cohort)
    return text, markup, subject, why


def invite_lines(lang: Language, report: InviteReport, cohort: str) -> list[str]:
    """The teacher's answer: how many were queued, handed over, or not sent and why."""
    lines: list[str] = []
    for delivery in Delivery:
        found = [(a, when) for a, d, when in report.deliveries if d is delivery]
        if not found:
            continue
        if delivery is Delivery.JOINED:
            lines.append(t(lang, "mail.invitation.answer.joined", count=len(found)))
            continue
        named = [a for a, _ in found[:NAMED_MAX]]
        if delivery is Delivery.RECENT:
            named = [
                t(lang, "mail.invitation.answer.recent_item", address=a, day=day(lang, w))
                for a, w in found[:NAMED_MAX]
                if w is not None
            ]
        more = len(found) - len(named)
        listed = join(lang, named)
        if more > 0:
            listed += " " + t(lang, "mail.invitation.answer.more", count=more)
        params: dict[str, object] = {"count": len(found), "addresses": listed, "cohort": cohort}
        if delivery is Delivery.QUEUED:
            key = "queued" if report.delivers else "queued_folder"
            params["minutes"] = _minutes(len(found), report.rate)
            lines.append(t(lang, f"mail.invitation.answer.{key}", **params))
        else:
            lines.append(t(lang, f"mail.invitation.answer.{delivery.value}", **params))
    if not lines:
        lines.append(t(lang, "mail.invitation.answer.nobody"))
    return lines


def _minutes(count: int, rate: float | None) -> int:
    if not rate:
        return 1
    return max(1, -(-count // max(int(rate), 1)))


def status_table(lang: Language, rows: Sequence[InviteeStatus]) -> tuple[str, str | None]:
    """The per-address table as an aligned text block (its first rows), and the CSV of every
    row when there are more than fit (None otherwise)."""
    if not rows:
        return "", None
    head = _status_head(lang)
    body = [status_cells(lang, r) for r in rows]
    shown = [head, *[[_clip(c[0], ADDRESS_WIDTH), *c[1:]] for c in body[:STATUS_ROWS]]]
    widths = [max(len(r[i]) for r in shown) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in shown]
    block = "```\n" + "\n".join(lines) + "\n```"
    if len(rows) > STATUS_ROWS:
        block += "\n" + t(lang, "mail.invitation.status.more", shown=STATUS_ROWS, count=len(rows))
        return block, status_csv(lang, rows)
    return block, None


def _status_head(lang: Language) -> list[str]:
    return [
        t(lang, "mail.invitation.status.address"),
        t(lang, "mail.invitation.status.emailed"),
        t(lang, "mail.invitation.status.email"),
        t(lang, "mail.invitation.status.joined"),
    ]


def status_csv(lang: Language, rows: Sequence[InviteeStatus]) -> str:
    """The per-address table as CSV: name, address, emailed, email, joined (`;` in Norwegian,
    as spreadsheets there expect)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if lang is Language.NB else ",")
    writer.writerow([t(lang, "mail.invitation.status.name"), *_status_head(lang)])
    for r in rows:
        # A name or address a spreadsheet would run as a formula is kept as text.
        writer.writerow([spreadsheet_cell(c) for c in (r.name, *status_cells(lang, r))])
    return buffer.getvalue()


def status_cells(lang: Language, row: InviteeStatus) -> list[str]:
    """One address's cells: the address, when it was emailed, what its email did, joined."""
    if row.emailed_at is not None:
        emailed = t(
            lang, "mail.invitation.status.times", count=row.emails, day=day(lang, row.emailed_at)
        )
    elif row.has_code:
        emailed = t(lang, "mail.invitation.status.handed")
    else:
        emailed = t(lang, "mail.invitation.status.never")
    state = (
        "-"
        if row.state is AddressState.NONE
        else t(lang, f"mail.invitation.state.{row.state.value}")
    )
    joined = t(lang, "mail.invitation.status.yes" if row.joined else "mail.invitation.status.no")
    return [row.email, emailed, state, joined]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def codes_csv(lang: Language, rows: Sequence[tuple[str, str, str]]) -> str:
    """Name, email and personal code per line, for a teacher who hands the codes out."""
    buffer = io.StringIO()
    # Norwegian Excel opens `;`-separated files as columns; English Excel, commas.
    writer = csv.writer(buffer, delimiter=";" if lang is Language.NB else ",")
    writer.writerow(
        [
            t(lang, "mail.invitation.status.name"),
            t(lang, "mail.invitation.status.address"),
            t(lang, "mail.invitation.status.code"),
        ]
    )
    writer.writerows([[spreadsheet_cell(c) for c in row] for row in rows])
    return buffer.getvalue()
