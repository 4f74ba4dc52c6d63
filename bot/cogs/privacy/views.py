"""What members and staff read of export and erasure, in the group's language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cogs.privacy.records import Erasure, RolesOff
from bot.domain import Language
from bot.i18n import catalogue, join, permission_label, t
from bot.messages import Button, ButtonStyle, OutgoingMessage

ERASE_ACTION = "privacy-erase"
CANCEL_ACTION = "privacy-cancel"


def member_id(value: str) -> str:
    """The value of the confirmation buttons: the id of the member who asked (never empty)."""
    if not value:
        raise ValueError("no member")
    return value


def confirm(lang: Language, user_id: str) -> OutgoingMessage:
    """What erasure will do, and the buttons that confirm it for this member only."""
    return OutgoingMessage(
        t(lang, "privacy.confirm"),
        buttons=(
            Button(t(lang, "privacy.confirm_button"), ERASE_ACTION, user_id, ButtonStyle.DANGER),
            Button(t(lang, "privacy.cancel_button"), CANCEL_ACTION, user_id),
        ),
    )


def another_member(lang: Language) -> str:
    """How someone else shows in a member's export and in anonymised messages."""
    return t(lang, "privacy.another_member")


def table(lang: Language, name: str) -> str:
    """A table's name as members read it (a table added later shows its own name)."""
    return catalogue(lang).get(f"privacy.table.{name}", name)


def export_document(
    lang: Language,
    group_id: str,
    user_id: str,
    now: datetime,
    tables: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """The JSON file a member gets: what it is, whose it is, when, and the rows by table."""
    return {
        "about": t(lang, "privacy.file_about"),
        "group": group_id,
        "user_id": user_id,
        "exported_at": now.isoformat(),
        "tables": tables,
    }


def export_dm(lang: Language, tables: dict[str, int], path: Path) -> OutgoingMessage:
    """The direct message that carries the export file."""
    return OutgoingMessage(
        t(
            lang,
            "privacy.export_dm",
            count=sum(tables.values()),
            tables=join(lang, [table(lang, n) for n in tables]) or "-",
        ),
        file_path=str(path),
    )


def message_removed(lang: Language) -> OutgoingMessage:
    """What a message that named an erased member says when it kept no replacement."""
    return OutgoingMessage(t(lang, "privacy.message_removed"))


def reason(lang: Language, roles: RolesOff) -> str:
    """Why the platform kept the roles: the permission it lacks, as its settings name it."""
    if roles.missing_permission:
        return permission_label(lang, roles.missing_permission, roles.role)
    return roles.detail


def roles_left_staff(lang: Language, member: str, roles: RolesOff) -> OutgoingMessage:
    """Staff's alert: trusted roles are still on an erased member, remove them by hand."""
    return OutgoingMessage(
        t(
            lang,
            "privacy.roles_left_staff",
            member=member,
            roles=join(lang, list(roles.names)),
            reason=reason(lang, roles),
        )
    )


def erased(lang: Language, erasure: Erasure) -> OutgoingMessage:
    """The member's answer: what went, roles, the bot's messages edited, what cannot be
    reached; or that nothing was left."""
    if erasure.nothing:
        return OutgoingMessage(t(lang, "privacy.nothing_left"))
    summary = ", ".join(f"{table(lang, name)} ({n})" for name, n in sorted(erasure.touched.items()))
    lines = [t(lang, "privacy.erased", summary=summary or "-")]
    if erasure.roles is not None:
        names = join(lang, list(erasure.roles.names))
        if erasure.roles.removed:
            lines.append(t(lang, "privacy.roles_removed", roles=names))
        else:
            lines.append(
                t(
                    lang,
                    "privacy.roles_not_removed",
                    roles=names,
                    reason=reason(lang, erasure.roles),
                )
            )
    if erasure.edited:
        lines.append(t(lang, "privacy.messages_edited", count=erasure.edited))
    if erasure.missed:
        lines.append(t(lang, "privacy.messages_not_edited", count=erasure.missed))
    lines.append(t(lang, "privacy.not_reached"))
    return OutgoingMessage("\n\n".join(lines))
