"""Item 2: a member who leaves and comes back is recorded as back, with their roles restored.

Discord: GUILD_MEMBER_REMOVE then GUILD_MEMBER_ADD of the same user (a new `joined_at`); Discord
drops a member's roles when they leave. Slack: an account deactivated (`user_change` with
`deleted: true`) and reactivated (`deleted: false`); Slack's help centre says a reactivated
member "won't be added back to any channels they were previously in"
(slack.com/help/articles/360002061747), so the bot re-invites them to the role channels.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.discord_harness import OWNER_ID, STAFF_ID, answer_text, discord_harness, message_text
from tests.security.trust_helpers import (
    COHORT_OPTIONS,
    code_in,
    d_command,
    d_role,
    d_setup,
    s_cohort,
    s_join,
    s_text,
)
from tests.slack_harness import SlackHarness, slack_harness

KARI_ID = 666_000_000_000_000_006
WELCOME_BACK_NB = "Velkommen tilbake!"


async def test_a_discord_member_who_leaves_and_rejoins_is_back_with_roles_and_one_welcome(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await d_setup(h, OWNER_ID)
        await d_command(h, STAFF_ID, "cohort create", COHORT_OPTIONS)
        invited = await d_command(h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026"})
        code = code_in(answer_text(invited))
        await d_command(h, OWNER_ID, "settings", {"language": "nb"})
        await h.fake.member_join(h.guild.id, KARI_ID, "kari", pending=False)
        await h.fake.wait_for(lambda: h.fake.dms_to(KARI_ID), timeout=10)
        await d_command(h, KARI_ID, "join", {"code": code})
        wanted = {d_role(h, "student"), d_role(h, "Fashion 2026")}
        assert h.fake.member_role_ids(h.guild.id, KARI_ID) == wanted
        dms = len(h.fake.dms_to(KARI_ID))

        await h.fake.member_leave(h.guild.id, KARI_ID)
        gid, uid = str(h.guild.id), str(KARI_ID)

        async def left() -> bool:
            async with h.uow() as uow:
                m = await uow.members.get(gid, uid)
            return m is not None and m.left_at is not None

        await _poll(left)

        member = await h.fake.member_join(h.guild.id, KARI_ID, "kari", pending=False)
        await h.fake.wait_for(lambda: len(h.fake.dms_to(KARI_ID)) > dms, timeout=10)
        # A gateway replay of the same join (RESUME) changes nothing.
        await h.fake.dispatch("GUILD_MEMBER_ADD", {**member, "guild_id": str(h.guild.id)})
        await h.fake.wait_for(lambda: h.fake.member_role_ids(h.guild.id, KARI_ID) == wanted)

        async with h.uow() as uow:
            back = await uow.members.get(gid, uid)
        assert back is not None and back.left_at is None
        welcomes = [m for m in h.fake.dms_to(KARI_ID)[dms:] if WELCOME_BACK_NB in message_text(m)]
        assert len(welcomes) == 1 and len(h.fake.dms_to(KARI_ID)) == dms + 1

        # A later grant reaches Discord (it used to be recorded for someone "gone").
        await d_command(h, STAFF_ID, "role grant", {"member": KARI_ID, "role": "industry"})
        assert d_role(h, "industry") in h.fake.member_role_ids(h.guild.id, KARI_ID)


async def _poll(check: object, within: float = 10.0) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while loop.time() < end:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def _user_change(h: SlackHarness, uid: str, *, deleted: bool) -> None:
    user = h.fake.users[uid]
    user.deleted = deleted
    if deleted:  # Slack takes a deactivated account out of every channel
        for ch in h.fake.channels.values():
            if uid in ch.members and not ch.is_im:
                ch.members.remove(uid)
    before = h.received["user_change"]
    await h.driver.event({"type": "user_change", "user": user.to_dict()})
    await h.fake.wait_for(lambda: h.received["user_change"] == before + 1)
    await h.settle()


async def test_a_slack_account_deactivated_and_reactivated_is_back_in_its_role_channels(
    engine: AsyncEngine,
) -> None:
    async with slack_harness(engine) as h:
        code = await s_cohort(h)
        await h.command(h.admin, "settings language:nb")  # the welcome back is in bokmål
        kari = await s_join(h, "kari", "kari@example.com")
        await h.command(kari, f"join code:{code}")
        student = h.fake.channel_by_name("alumni-role-student")
        assert kari in student.members
        im = h.fake.open_im(kari).id
        dms = len(h.fake.messages(im))

        await _user_change(h, kari, deleted=True)
        async with h.uow() as uow:
            gone = await uow.members.get(h.fake.team["id"], kari)
        assert gone is not None and gone.left_at is not None
        assert kari not in student.members

        await _user_change(h, kari, deleted=False)
        async with h.uow() as uow:
            back = await uow.members.get(h.fake.team["id"], kari)
        assert back is not None and back.left_at is None
        assert kari in student.members
        assert kari in h.fake.channel_by_name("alumni-role-fashion-2026").members
        new = h.fake.messages(im)[dms:]
        assert len(new) == 1 and WELCOME_BACK_NB in s_text(new[0])

        # A profile edit (user_change, still active) is not a return: nothing is sent.
        await _user_change(h, kari, deleted=False)
        assert len(h.fake.messages(im)) == dms + 1


async def test_a_profile_change_of_someone_the_bot_never_saw_welcomes_nobody(
    engine: AsyncEngine,
) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        old_timer = h.fake.add_user("astrid", email="astrid@example.com")
        await _user_change(h, old_timer, deleted=False)
        assert h.fake.messages(h.fake.open_im(old_timer).id) == []
        async with h.uow() as uow:
            assert await uow.members.get(h.fake.team["id"], old_timer) is None
