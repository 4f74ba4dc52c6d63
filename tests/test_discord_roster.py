"""Discord end to end: a roster file uploaded with `/alumni invite cohort`, and a graduation
that Discord partly refuses (Manage Roles taken away) being reported and finished later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.translate import MANAGE_GUILD
from bot.scheduler import Scheduler
from tests.discord_harness import (
    ALICE_ID,
    STAFF_ID,
    Harness,
    MovableClock,
    answer_text,
    client_of,
    discord_harness,
    message_text,
)
from tests.fakes.discord_fake import FakeUpload
from tests.test_discord_features import (
    BOB_ID,
    CARA_ID,
    channel_named,
    command,
    invite_cohort,
    patches_for,
    redeem,
    role_id,
    setup_group,
)

ROSTER_CSV = (
    "name,email\n"
    "Kari Nordmann,kari@example.com\n"
    "Ola Hansen,ola@example\n"  # no top-level domain: reported, skipped
    "Nils Berg,nils@example.com\n"
    "Åse Ødegård,ase@example.com\n"
)


async def _cohort(h: Harness) -> int:
    created = await command(h, STAFF_ID, "cohort create", {"program": "Fashion", "year": 2026})
    assert "Fashion 2026" in answer_text(created)
    async with h.uow() as uow:
        (cohort,) = await uow.cohorts.for_group(str(h.guild.id))
    return cohort.id


async def _roster_emails(h: Harness, cohort_id: int) -> list[str]:
    async with h.uow() as uow:
        return [e.email for e in await uow.roster.entries(str(h.guild.id), cohort_id)]


async def test_staff_upload_a_roster_csv_valid_rows_imported_and_the_bad_line_named(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        cohort_id = await _cohort(h)
        upload = FakeUpload("fashion-2026.csv", ROSTER_CSV.encode("utf-8"))
        answer = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "roster": upload}
        )
        text = answer_text(answer)
        assert answer.ephemeral
        assert 'Line 3: "Ola Hansen ola@example" is not a valid email address' in text
        assert "Roster: 3 valid addresses, 3 new" in text and "Join code:" in text
        # The bot downloaded the file from the CDN address Discord gave it, once.
        assert len(h.fake.cdn_downloads) == 1
        assert await _roster_emails(h, cohort_id) == [
            "kari@example.com",
            "nils@example.com",
            "ase@example.com",
        ]


async def test_a_windows_excel_file_is_read_and_a_binary_or_big_one_refused(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        cohort_id = await _cohort(h)
        # An image given as the roster: refused, nothing imported, no code made.
        png = FakeUpload("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        refused = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "roster": png}
        )
        assert refused.ephemeral
        assert "I could not read the file given as `roster`" in answer_text(refused)
        assert "Join code" not in answer_text(refused)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM invitations"))).scalar() == 0

        # In a Norwegian group the refusal is in Norwegian; a 2 MB file is not even fetched.
        nb = await command(h, STAFF_ID, "settings", {"language": "nb"})
        assert nb.messages
        downloads = len(h.fake.cdn_downloads)
        big = FakeUpload("huge.csv", b"kari@example.com\n", size=2_000_000)
        too_big = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "roster": big}
        )
        assert too_big.ephemeral
        assert "Jeg fikk ikke lest filen i `roster`" in answer_text(too_big)
        assert len(h.fake.cdn_downloads) == downloads
        assert await _roster_emails(h, cohort_id) == []

        # Excel's "CSV" on Windows: cp1252, where Å and Ø are not UTF-8; it is read as such.
        latin = FakeUpload("fashion.csv", ROSTER_CSV.replace(",", ";").encode("cp1252"))
        read = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "roster": latin}
        )
        assert "Linje 3: «Ola Hansen ola@example»" in answer_text(read)
        async with h.uow() as uow:
            names = [e.name for e in await uow.roster.entries(str(h.guild.id), cohort_id)]
        assert names == ["Kari Nordmann", "Nils Berg", "Åse Ødegård"]


async def test_graduation_without_manage_roles_is_reported_and_the_hourly_job_finishes_it(
    engine: AsyncEngine,
) -> None:
    clock = MovableClock()
    async with discord_harness(engine, clock=clock) as h:
        await setup_group(h)
        _, code = await invite_cohort(h)
        await redeem(h, BOB_ID, "bob", code)
        await redeem(h, CARA_ID, "cara", code)
        student, alumni = role_id(h, "student"), role_id(h, "alumni")
        cohort = role_id(h, "Fashion 2026")
        announcements = int(channel_named(h, "announcements")["id"])
        review = int(channel_named(h, "staff-review")["id"])
        scheduler = Scheduler(h.bot)

        # An admin takes Manage Roles away; the graduation date passes.
        h.fake.set_bot_permissions(h.guild.id, manage_roles=False)
        guild = client_of(h.bot).get_guild(h.guild.id)
        assert guild is not None
        await h.fake.wait_for(lambda: not guild.me.guild_permissions.manage_roles)
        clock.advance(datetime(2029, 6, 16, 8, tzinfo=UTC) - clock.now())
        ran = await scheduler.tick()
        assert (str(h.guild.id), "graduation", "2029-06-16") in ran
        for uid in (BOB_ID, CARA_ID):
            assert h.fake.member_role_ids(h.guild.id, uid) == {student, cohort}
        # Nothing took effect: no "0 members" congratulation; staff are told who and why.
        assert not [m for m in h.fake.channel_messages(announcements) if "Fashion" in str(m)]
        (report,) = [
            message_text(m)
            for m in h.fake.channel_messages(review)
            if "did not take effect" in message_text(m)
        ]
        assert "Graduation of Fashion 2026" in report and "2 members" in report
        assert 'I am missing the permission "Manage Roles": bob, cara' in report

        # The permission comes back; the next hourly run finishes the graduation.
        h.fake.set_bot_permissions(h.guild.id, manage_roles=True)
        await h.fake.wait_for(lambda: guild.me.guild_permissions.manage_roles)
        clock.advance(timedelta(hours=1))
        ran = await scheduler.tick()
        assert (str(h.guild.id), "grant-queue", "2029-06-16T11") in ran
        for uid in (BOB_ID, CARA_ID):
            assert h.fake.member_role_ids(h.guild.id, uid) == {alumni, cohort}
            assert patches_for(h, uid) == 2  # the code's grant, then the swap: one each
        texts = [message_text(m) for m in h.fake.channel_messages(review)]
        assert "have now taken effect for 2 members: bob, cara" in texts[-1]
        (post,) = [
            m
            for m in h.fake.channel_messages(announcements)
            if "Congratulations" in message_text(m)
        ]
        assert "roles updated for 2 members" in message_text(post)


async def test_a_members_upload_is_refused_before_the_file_is_fetched(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        await _cohort(h)
        upload = FakeUpload("fashion-2026.csv", ROSTER_CSV.encode("utf-8"))
        # Discord shows her the staff command (she may manage the server); the bot's records
        # say she is no staff.
        managers = h.fake.add_role(h.guild.id, "Managers", MANAGE_GUILD)
        h.guild.members[ALICE_ID]["roles"].append(managers["id"])
        refused = await command(
            h, ALICE_ID, "invite cohort", {"cohort": "Fashion 2026", "roster": upload}
        )
        assert refused.ephemeral
        assert "Only staff can run `/alumni invite cohort`" in answer_text(refused)
        assert h.fake.cdn_downloads == []  # the permission check comes before the download
