"""Attacks on join codes: a used code after a revoke, racing the lockout, racing redemptions.

Item 1 runs through the real discord.py client against the fake Discord; the races (items 3
and 4) send concurrent signed slash commands to the real Bolt app, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.onboarding.codes import LOCK_ATTEMPTS
from storage.models import InvitationUseRow, MemberRow
from tests.discord_harness import OWNER_ID, STAFF_ID, answer_text, discord_harness
from tests.security.trust_helpers import (
    COHORT_OPTIONS,
    code_in,
    code_uses,
    count,
    d_command,
    d_role,
    d_setup,
    engine_on,
    s_cohort,
    s_commands_at_once,
    s_join,
    wrong_codes_checked,
)
from tests.slack_harness import slack_harness

KARI_ID = 666_000_000_000_000_006
BACKENDS = ["sqlite", "postgresql"]


async def _staff_code(h: object) -> str:
    await d_setup(h, OWNER_ID)  # type: ignore[arg-type]
    await d_command(h, STAFF_ID, "cohort create", COHORT_OPTIONS)  # type: ignore[arg-type]
    invited = await d_command(
        h,  # type: ignore[arg-type]
        STAFF_ID,
        "invite cohort",
        {"cohort": "Fashion 2026", "role": "staff"},
    )
    return code_in(answer_text(invited))


async def _kari_joins(h: object) -> None:
    fake = h.fake  # type: ignore[attr-defined]
    guild = h.guild  # type: ignore[attr-defined]
    await fake.member_join(guild.id, KARI_ID, "kari", pending=False)
    await fake.wait_for(lambda: fake.dms_to(KARI_ID), timeout=10)


# -- 1. a used code grants its roles again after staff revoke them ---------------------------


async def test_a_used_staff_code_does_not_make_kari_staff_again_after_a_revoke(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        code = await _staff_code(h)
        await _kari_joins(h)
        staff = d_role(h, "staff")
        first = await d_command(h, KARI_ID, "join", {"code": code})
        assert "You now have" in answer_text(first)
        assert staff in h.fake.member_role_ids(h.guild.id, KARI_ID)

        revoked = await d_command(h, STAFF_ID, "role revoke", {"member": KARI_ID, "role": "staff"})
        assert "no longer" in answer_text(revoked).lower() or "took" in answer_text(revoked)
        assert staff not in h.fake.member_role_ids(h.guild.id, KARI_ID)

        # The attack: the same single-use code once more.
        again = await d_command(h, KARI_ID, "join", {"code": code})
        assert "already used that code" in answer_text(again)
        assert staff not in h.fake.member_role_ids(h.guild.id, KARI_ID)
        # Discord hides the staff commands from her now; even where an admin still shows them
        # to her (Server Settings > Integrations), the bot's records decide.
        with pytest.raises(PermissionError):
            await d_command(h, KARI_ID, "cohort list")
        h.fake.allow_command(h.guild.id, "alumni", ("cohort", "list"), KARI_ID)
        refused = await d_command(h, KARI_ID, "cohort list")
        assert "Only staff" in answer_text(refused)


async def test_a_code_the_platform_refused_is_finished_later_unless_staff_revoked_meanwhile(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        code = await _staff_code(h)
        await _kari_joins(h)
        staff = d_role(h, "staff")
        guild = h.bot.workspace.client.get_guild(h.guild.id)  # type: ignore[attr-defined]

        # Manage Roles is gone: the code is used, the platform refuses, nothing is recorded.
        h.fake.set_bot_permissions(h.guild.id, manage_roles=False)
        await h.fake.wait_for(lambda: not guild.me.guild_permissions.manage_roles)
        refused = await d_command(h, KARI_ID, "join", {"code": code})
        assert 'missing the permission "Manage Roles"' in answer_text(refused)
        assert staff not in h.fake.member_role_ids(h.guild.id, KARI_ID)

        # The permission is back: entering the code again finishes what the platform refused.
        h.fake.set_bot_permissions(h.guild.id, manage_roles=True)
        await h.fake.wait_for(lambda: guild.me.guild_permissions.manage_roles)
        done = await d_command(h, KARI_ID, "join", {"code": code})
        assert "You now have" in answer_text(done)
        assert staff in h.fake.member_role_ids(h.guild.id, KARI_ID)
        # ... and only once: after a revoke the code is spent.
        await d_command(h, STAFF_ID, "role revoke", {"member": KARI_ID, "role": "staff"})
        again = await d_command(h, KARI_ID, "join", {"code": code})
        assert "already used that code" in answer_text(again)
        assert staff not in h.fake.member_role_ids(h.guild.id, KARI_ID)


async def test_staff_revoking_a_refused_grant_before_it_is_finished_spends_the_code(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        code = await _staff_code(h)
        await _kari_joins(h)
        staff = d_role(h, "staff")
        guild = h.bot.workspace.client.get_guild(h.guild.id)  # type: ignore[attr-defined]
        h.fake.set_bot_permissions(h.guild.id, manage_roles=False)
        await h.fake.wait_for(lambda: not guild.me.guild_permissions.manage_roles)
        await d_command(h, KARI_ID, "join", {"code": code})
        h.fake.set_bot_permissions(h.guild.id, manage_roles=True)
        await h.fake.wait_for(lambda: guild.me.guild_permissions.manage_roles)

        # Staff decide Kari should not be staff after all, before she tries again.
        revoked = await d_command(h, STAFF_ID, "role revoke", {"member": KARI_ID, "role": "staff"})
        assert "kari" in answer_text(revoked)
        again = await d_command(h, KARI_ID, "join", {"code": code})
        assert "already used that code" in answer_text(again)
        assert staff not in h.fake.member_role_ids(h.guild.id, KARI_ID)


# -- 3. the lockout raced by 120 concurrent guesses ------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_120_concurrent_guesses_check_at_most_five_wrong_codes(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with engine_on(backend, tmp_path, pg_url) as engine, slack_harness(engine) as h:
        code = await s_cohort(h)
        mallory = await s_join(h, "mallory", "mallory@example.com")
        guesses = [f"join code:WRONG{n:03d}X" for n in range(120)]
        guesses[10] = f"join code:{code}"  # the right code, the 11th guess
        answers = await s_commands_at_once(h, mallory, guesses)

        checked = await wrong_codes_checked(engine, mallory)
        wrong = [ok for ok in checked if not ok]
        assert len(wrong) == LOCK_ATTEMPTS, f"{len(wrong)} wrong codes were checked"
        accepted = [a for a in answers if "You now have" in a]
        if accepted:  # only fair if fewer than five wrong codes were checked before it
            assert checked.index(True) < LOCK_ATTEMPTS
        locked = [a for a in answers if "Code entry is locked" in a]
        # A flood wider than the connection pool (15) on a loaded machine: a command that
        # waited 3 s for a connection is told the database is busy and changed nothing, which
        # is all an attacker's 120 parallel commands may get. Every other one is locked out.
        busy = [a for a in answers if "can't reach my database" in a]
        others = [a for a in answers if a not in locked and a not in busy]
        # the 5th says it too
        assert len(locked) + len(busy) == 120 - LOCK_ATTEMPTS - len(accepted) + 1, others
        assert len(others) == LOCK_ATTEMPTS - 1 + len(accepted), others
        assert not [a for a in answers if "Something went wrong" in a]


# -- 4. simultaneous first commands and parallel redemptions ---------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_new_members_simultaneous_first_commands_all_work(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with engine_on(backend, tmp_path, pg_url) as engine, slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        # Someone the bot has never seen (no team_join: in the workspace before the bot).
        newcomer = h.fake.add_user("nils", email="nils@example.com")
        answers = await s_commands_at_once(h, newcomer, ["invite friend"] * 8)
        assert len(answers) == 8
        assert not [a for a in answers if "Something went wrong" in a], answers
        assert all("personal code" in a.lower() or "code" in a for a in answers)
        assert await count(engine, MemberRow, MemberRow.user_id == newcomer) == 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_ten_parallel_redemptions_by_one_member_use_one_use(
    backend: str, tmp_path: Path, pg_url: str
) -> None:
    async with engine_on(backend, tmp_path, pg_url) as engine, slack_harness(engine) as h:
        code = await s_cohort(h)
        ola = await s_join(h, "ola", "ola@example.com")
        answers = await s_commands_at_once(h, ola, [f"join code:{code}"] * 10)
        assert await code_uses(engine, code) == 1
        assert await count(engine, InvitationUseRow, InvitationUseRow.user_id == ola) == 1
        assert len([a for a in answers if "You now have" in a]) == 1
        assert len([a for a in answers if "already used that code" in a]) == 9
