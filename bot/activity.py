"""Counting messages without their text: the one place that writes activity rows.

Every feature that counts messages calls `record`; passing the platform message id makes a
message counted once even when two features (weekly questions, general statistics) both see it.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import Member, TrustedRole
from bot.events import UserRef
from bot.ports import UnitOfWork
from bot.prompts_records import ActivityRecord

# The role a message is counted under when a member holds several: the most specific first.
ROLE_ORDER: tuple[str, ...] = (
    TrustedRole.STAFF.value,
    TrustedRole.ALUMNI.value,
    TrustedRole.STUDENT.value,
    TrustedRole.INDUSTRY.value,
)
NO_ROLE = "member"


def author_role(member: Member | None) -> str:
    """The role a member's messages count under: staff, alumni, student, industry or member."""
    roles = member.roles if member is not None else frozenset()
    return next((r for r in ROLE_ORDER if r in roles), NO_ROLE)


async def record(
    uow: UnitOfWork,
    group_id: str,
    user: UserRef,
    channel: str,
    thread_id: str | None,
    is_reply: bool,
    now: datetime,
    category_key: str | None,
    *,
    message_id: str | None = None,
) -> bool:
    """Count one message (never its text); False if this message was already counted."""
    if message_id is not None and not await uow.events.first_time(
        group_id, f"activity:{channel}:{thread_id or ''}:{message_id}", now
    ):
        return False
    member = await uow.members.get(group_id, user.id)
    await uow.activity.add(
        ActivityRecord(
            group_id=group_id,
            user_id=user.id,
            author_role=author_role(member),
            category_key=category_key,
            channel_id=channel,
            thread_id=thread_id,
            is_reply=is_reply,
            created_at=now,
        )
    )
    return True
