"""Discord end to end: a roster file uploaded with `/alumni invite cohort`, and a graduation
that Discord partly refuses (Manage Roles taken away) being reported and finished later."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.scheduler import Scheduler
from tests.discord_harness import STAFF_ID, Harness, answer_text, discord_harness
from tests.fakes.discord_fake import FakeUpload
from tests.test_discord_features import command, setup_group

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
        (cohort,) = await uow.onboarding.cohorts(str(h.guild.id))
    return cohort.id


async def _roster_emails(h: Harness, cohort_id: int) -> list[str]:
    async with h.uow() as uow:
        return [e.email for e in await uow.onboarding.roster(str(h.guild.id), cohort_id)]


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
        assert 'Line 2: "Ola Hansen ola@example" is not a valid email address' in text
        assert "Roster: 3 valid addresses, 3 new" in text and "Join code:" in text
        # The bot downloaded the file from the CDN address Discord gave it, once.
        assert len(h.fake.cdn_downloads) == 1
        assert await _roster_emails(h, cohort_id) == [
            "kari@example.com",
            "nils@example.com",
            "ase@example.com",
        ]


async def test_a_file_that_is_not_utf8_or_too_big_is_refused_and_nothing_imported(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        await setup_group(h)
        cohort_id = await _cohort(h)
        # Excel's "CSV" on Windows: cp1252, where Å and Ø are not UTF-8.
        latin = FakeUpload("fashion.csv", ROSTER_CSV.encode("cp1252"))
        refused = await command(
            h, STAFF_ID, "invite cohort", {"cohort": "Fashion 2026", "roster": latin}
        )
        assert refused.ephemeral
        assert "I could not read the file given as `roster`" in answer_text(refused)
        assert "Join code" not in answer_text(refused)

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
        async with engine.connect() as conn:  # no join code was made either
            assert (await conn.execute(text("SELECT count(*) FROM invitations"))).scalar() == 0
