"""Helpers of the trust attack suites: drive the real Discord and Slack adapters against the fakes.

Kept here (not imported from tests/test_*_features.py) so the suites do not break when those
files change.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine, upgrade
from storage.models import CodeAttemptRow, InvitationRow
from tests.discord_harness import Harness, answer_text, run_command
from tests.fakes.discord_fake import FakeInteraction
from tests.slack_harness import SlackHarness

COHORT_OPTIONS = {"program": "Fashion", "year": 2026, "graduates": "2029-06-15"}
LINK = "https://join.slack.com/t/alumni/shared_invite/zt-fake-link"


@asynccontextmanager
async def engine_on(kind: str, tmp_path: Any, pg_url: str | None) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on SQLite (a file) or PostgreSQL (the throwaway database)."""
    url = pg_url if kind == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/{kind}.db"
    assert url is not None
    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


# -- Discord ---------------------------------------------------------------------------------


async def d_command(
    h: Harness, user_id: int, words: str, options: dict[str, Any] | None = None
) -> FakeInteraction:
    """Run a command on the fake Discord and wait for its final answer."""
    inter = await run_command(h.fake, h.guild, user_id, words, options)
    # After a defer Discord edits the loading message with the first follow-up.
    await h.fake.wait_for(lambda: inter.answered, timeout=15)
    return inter


async def d_setup(h: Harness, owner: int) -> None:
    """`/alumni setup` by the owner, finished."""
    inter = await run_command(h.fake, h.guild, owner, "setup")
    await h.fake.wait_for(lambda: "Setup finished." in answer_text(inter), timeout=15)


def d_role(h: Harness, name: str) -> int:
    """A role id of the fake guild by name."""
    role = h.fake.role_named(h.guild.id, name)
    assert role is not None, f"no role {name}"
    return int(role["id"])


def code_in(text: str) -> str:
    """The join code in an invite answer."""
    found = re.search(r"Join code: `([A-Z0-9]+)`", text)
    assert found, text
    return found.group(1)


# -- Slack -----------------------------------------------------------------------------------


def s_text(message: dict[str, Any]) -> str:
    """Everything a member reads in a Slack message (fallback text and blocks)."""
    return json.dumps(message, ensure_ascii=False)


async def s_join(h: SlackHarness, name: str, email: str | None = None) -> str:
    """A new Slack user whose team_join the app handled."""
    uid = h.fake.add_user(name, email=email)
    before = h.received["team_join"]
    await h.driver.team_join(uid)
    await h.fake.wait_for(lambda: h.received["team_join"] == before + 1)
    await h.settle()
    return uid


async def s_cohort(h: SlackHarness, role: str = "student", emails: str = "") -> str:
    """Setup, the Fashion 2026 cohort and an invitation; returns the join code."""
    await h.command(h.admin, "setup")
    await h.command(h.admin, "cohort create program:Fashion year:2026 graduates:2029-06-15")
    extra = f" emails:{emails}" if emails else ""
    answer = await h.command(h.admin, f'invite cohort:"Fashion 2026" role:{role}{extra}')
    return code_in(answer[0])


async def s_commands_at_once(h: SlackHarness, user: str, texts: list[str]) -> list[str]:
    """Deliver many signed `/alumni` commands at once; returns every answer text."""
    import asyncio

    deliveries = await asyncio.gather(
        *(h.driver.slash_command(user, h.fake.general_id, "/alumni", t) for t in texts)
    )
    await h.settle(within=60)
    return [r.get("text", "") for d in deliveries for r in h.fake.responses(d.response_url or "")]


async def wrong_codes_checked(engine: AsyncEngine, user_id: str) -> list[bool]:
    """The code attempts recorded for a member, in the order they were checked."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(CodeAttemptRow.ok)
            .where(CodeAttemptRow.user_id == user_id)
            .order_by(CodeAttemptRow.id)
        )
        return [bool(ok) for (ok,) in rows]


async def code_uses(engine: AsyncEngine, code: str) -> int:
    """How many uses of a code are counted."""
    async with engine.connect() as conn:
        uses = await conn.scalar(select(InvitationRow.uses).where(InvitationRow.code == code))
        return int(uses or 0)


async def count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    """Rows of a table (optionally filtered)."""
    async with engine.connect() as conn:
        n = await conn.scalar(select(func.count()).select_from(table).where(*where))
        return int(n or 0)
