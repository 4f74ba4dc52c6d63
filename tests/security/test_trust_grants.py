"""Item 10: the database never claims a role the platform did not get, and repairs what it lacks.

Through the real Bolt app and the Slack role projection against the fake Slack: a roster of 20
members already in the workspace is granted in one batch; `conversations.invite` answers HTTP 500.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import GrantQueueRow, MemberRoleRow
from tests.conftest import START
from tests.security.trust_helpers import count, s_join, s_text
from tests.slack_harness import ManualClock, SlackHarness, slack_harness

STUDENT, COHORT = "alumni-role-student", "alumni-role-fashion-2026"


async def _db_holders(engine: AsyncEngine, key: str) -> int:
    return await count(engine, MemberRoleRow, MemberRoleRow.role_key == key)


def _review(h: SlackHarness) -> list[str]:
    return [s_text(m) for m in h.fake.channel_by_name("alumni-staff-review").messages]


async def test_a_batched_invite_slack_refuses_with_500s_is_retried_and_never_claimed(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    async with slack_harness(engine, clock=clock) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, "cohort create program:Fashion year:2026 graduates:2029-06-15")
        names = [f"s{i:02d}" for i in range(20)]
        users = [await s_join(h, n, f"{n}@example.com") for n in names]
        emails = ", ".join(f"{n}@example.com" for n in names)

        # Slack has a bad hour: the batched invite fails three times in a row.
        h.fake.inject_error("conversations.invite", "internal_error", times=3, status=500)
        answers = await h.command(h.admin, f'invite cohort:"Fashion 2026" emails:"{emails}"')
        student = h.fake.channel_by_name(STUDENT)
        assert not set(users) & set(student.members)
        # The database claims nothing Slack does not have.
        assert await _db_holders(engine, "student") == 0
        told = [a for a in answers if "did not take effect" in a]
        assert len(told) == 1 and "s00" in told[0], answers

        # The hourly queue keeps trying (with backoff) instead of giving up after three.
        for _ in range(12):
            clock.advance(timedelta(hours=1))
            await h.tick()
        assert set(users) <= set(student.members)
        assert set(users) <= set(h.fake.channel_by_name(COHORT).members)
        assert await _db_holders(engine, "student") == 20
        assert await count(engine, GrantQueueRow, GrantQueueRow.status != "done") == 0
        review = _review(h)
        assert len([r for r in review if "did not take effect" in r]) == 0  # told once, above
        assert len([r for r in review if "have now taken effect for 20 members" in r]) == 1


async def test_role_grant_repairs_a_role_the_platform_lacks(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        kari = await s_join(h, "kari", "kari@example.com")
        first = await h.command(h.admin, f"role grant member:<@{kari}> role:student")
        assert "now has the role" in first[0]
        student = h.fake.channel_by_name(STUDENT)
        assert kari in student.members
        # Someone removes her from the role channel behind the bot's back.
        student.members.remove(kari)
        again = await h.command(h.admin, f"role grant member:<@{kari}> role:student")
        assert "now has the role" in again[0], again
        assert kari in student.members
        # Where the platform agrees, the answer stays "already has".
        third = await h.command(h.admin, f"role grant member:<@{kari}> role:student")
        assert "already has the role" in third[0]


async def test_a_member_slack_refuses_in_a_batch_is_the_only_one_not_recorded(
    engine: AsyncEngine,
) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, "cohort create program:Fashion year:2026 graduates:2029-06-15")
        names = [f"s{i:02d}" for i in range(20)]
        users = [await s_join(h, n, f"{n}@example.com") for n in names]
        # An admin removed s05 from the workspace; the bot never heard (no user_change).
        h.fake.users[users[5]].deleted = True
        emails = ", ".join(f"{n}@example.com" for n in names)
        answers = await h.command(h.admin, f'invite cohort:"Fashion 2026" emails:"{emails}"')
        student = h.fake.channel_by_name(STUDENT)
        others = set(users) - {users[5]}
        assert others <= set(student.members) and users[5] not in student.members
        assert await _db_holders(engine, "student") == 19
        (told,) = [a for a in answers if "did not take effect" in a]
        assert "user_not_found" in told and "s05" in told and "s04" not in told


async def test_role_grant_on_discord_repairs_a_role_an_admin_removed_by_hand(
    engine: AsyncEngine,
) -> None:
    from tests.discord_harness import ALICE_ID, OWNER_ID, STAFF_ID, answer_text, discord_harness
    from tests.security.trust_helpers import d_command, d_role, d_setup

    async with discord_harness(engine) as h:
        await d_setup(h, OWNER_ID)
        grant = {"member": ALICE_ID, "role": "student"}
        first = await d_command(h, STAFF_ID, "role grant", grant)
        assert "now has the role student" in answer_text(first)
        student = d_role(h, "student")
        assert student in h.fake.member_role_ids(h.guild.id, ALICE_ID)
        # A server admin takes the role away in Discord's settings (the bot only sees it).
        member = h.fake.member(h.guild.id, ALICE_ID)
        member["roles"] = [r for r in member["roles"] if int(r) != student]
        await h.fake.dispatch("GUILD_MEMBER_UPDATE", {**member, "guild_id": str(h.guild.id)})
        guild = h.bot.workspace.client.get_guild(h.guild.id)  # type: ignore[attr-defined]
        await h.fake.wait_for(
            lambda: student not in {r.id for r in guild.get_member(ALICE_ID).roles}
        )
        again = await d_command(h, STAFF_ID, "role grant", grant)
        assert "has the role student again" in answer_text(again)
        assert student in h.fake.member_role_ids(h.guild.id, ALICE_ID)
        third = await d_command(h, STAFF_ID, "role grant", grant)
        assert "already has the role student" in answer_text(third)
