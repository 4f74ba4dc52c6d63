"""What the privacy statement says is kept briefly is deleted on time by a scheduled job."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.local.workspace import GROUP_ID
from bot.scheduler import Scheduler
from storage.models import CodeAttemptRow, ProcessedEventRow
from tests.conftest import START, LocalGroup


async def stored(group: LocalGroup) -> tuple[list[str], list[str]]:
    """(users of the code attempts, keys of the platform events) still stored."""
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        attempts = [r.user_id for r in await s.scalars(select(CodeAttemptRow))]
        events = [r.key for r in await s.scalars(select(ProcessedEventRow))]
    return sorted(attempts), sorted(events)


async def test_attempts_after_a_day_and_event_keys_after_a_week(group: LocalGroup) -> None:
    # A newcomer's join stores no event key (their member row tells a replay); a return does.
    await group.run("/alumni setup", "!join vilde", "!join kari", "!leave kari", "!join kari")
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        s.add_all(
            [
                CodeAttemptRow(group_id=GROUP_ID, user_id="old", ok=False, at=START),
                CodeAttemptRow(
                    group_id=GROUP_ID, user_id="new", ok=False, at=START + timedelta(hours=40)
                ),
                CodeAttemptRow(group_id="elsewhere", user_id="other-group", ok=False, at=START),
                ProcessedEventRow(group_id=GROUP_ID, key="Ev-old", at=START),
                ProcessedEventRow(group_id=GROUP_ID, key="Ev-new", at=START + timedelta(days=6)),
            ]
        )
    _, keys = await stored(group)
    assert "Ev-old" in keys and any(k.startswith("joined:") for k in keys)

    # Two days on, after the nightly clean-up: the attempt older than a day is gone.
    await group.run("!clock +2d")
    attempts, keys = await stored(group)
    assert "old" not in attempts and "new" in attempts
    assert "other-group" in attempts  # each group cleans its own rows
    assert "Ev-old" in keys

    # Eight days on: event keys older than a week are gone too; the newer one stays.
    await group.run("!clock +6d")
    attempts, keys = await stored(group)
    assert "new" not in attempts
    assert "Ev-old" not in keys and "Ev-new" in keys
    assert not any(k.startswith("joined:") for k in keys)


async def test_the_clean_up_runs_once_a_day(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    ran = await Scheduler(group.bot).tick(START + timedelta(days=1, hours=1))
    again = await Scheduler(group.bot).tick(START + timedelta(days=1, hours=2))
    assert [job for _, job, _ in ran].count("privacy-retention") == 1
    assert [job for _, job, _ in again].count("privacy-retention") == 0


@pytest.mark.parametrize("age_hours", [1, 30])
async def test_stale_export_files_are_swept_after_a_day(group: LocalGroup, age_hours: int) -> None:
    await group.run("/alumni setup")
    exports = group.bot.config.data_dir / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    stale = exports / "alumnibot-data-kari-20260817T070000.json"
    stale.write_text("{}", encoding="utf-8")
    then = time.time() - age_hours * 3600
    os.utime(stale, (then, then))
    await group.run("!clock +1d")
    assert stale.exists() is (age_hours < 24)
