"""Dates as people type them: one parser for command options and post forms, in both languages."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.dates import parse_date, parse_datetime
from bot.domain import Language
from tests.conftest import LocalGroup, make_group

JUNE_15 = date(2029, 6, 15)


@pytest.mark.parametrize(
    "typed",
    [
        "15.06.2029",
        "15.6.2029",
        "2029-06-15",
        "15/6/2029",
        "15/06/2029",
        "15. juni 2029",
        "15 juni 2029",
        "15. jun. 2029",
        "15 June 2029",
        "15th June 2029",
        "June 15, 2029",
        " 15.  JUNI  2029 ",
    ],
)
def test_every_accepted_form_reads_the_same_day(typed: str) -> None:
    assert parse_date(typed) == JUNE_15


@pytest.mark.parametrize(
    "typed",
    ["31.02.2029", "6/15/2029", "15.06.29", "15 juno 2029", "2029-13-01", "tomorrow", "", "15.06"],
)
def test_what_is_not_a_day_is_refused(typed: str) -> None:
    assert parse_date(typed) is None


def test_norwegian_and_english_month_names_all_twelve() -> None:
    nb = "januar februar mars april mai juni juli august september oktober november desember"
    en = "January February March April May June July August September October November December"
    for month, (no_name, en_name) in enumerate(zip(nb.split(), en.split(), strict=True), 1):
        assert parse_date(f"1. {no_name} 2030") == date(2030, month, 1)
        assert parse_date(f"1 {en_name} 2030") == date(2030, month, 1)
    assert parse_date("3. des. 2026") == parse_date("3 Dec 2026") == date(2026, 12, 3)
    assert parse_date("3. okt 2026") == parse_date("3 Oct 2026") == date(2026, 10, 3)


def test_a_date_and_a_time() -> None:
    at_six = datetime(2029, 9, 20, 18, 0)
    for typed in (
        "2029-09-20 18:00",
        "2029-09-20T18:00",
        "20.09.2029 18:00",
        "20.09.2029 kl. 18.00",
        "20. september 2029 kl. 18.00",
        "20 September 2029 at 18:00",
    ):
        assert parse_datetime(typed) == at_six, typed
    assert parse_datetime("20.09.2029 25:00") is None
    assert parse_datetime("20.09.2029") is None


async def test_a_cohort_graduates_on_a_date_typed_in_norwegian(engine) -> None:  # type: ignore[no-untyped-def]
    g = make_group(engine, Language.NB)
    out = await g.run(
        "/alumni setup", '/alumni cohort create program:Mote year:2026 graduates:"15. juni 2029"'
    )
    assert "Studentene blir alumni 15. juni 2029." in out, out
    out = await g.run("/alumni cohort create program:Mote year:2027 graduates:15.13.2029")
    assert "må være en dato, skrevet som 15.06.2029, 15/6/2029 eller 15. juni 2029" in out
    assert "«15.13.2029»" in out


async def test_the_refusal_shows_the_accepted_forms_in_english(group: LocalGroup) -> None:
    out = await group.run(
        "/alumni setup", "/alumni cohort create program:Fashion year:2026 graduates:June"
    )
    assert "written like 15/6/2029, 15.06.2029 or 15 June 2029" in out


async def test_a_job_deadline_typed_day_first_with_slashes(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid", "!as ingrid", "/alumni post job")
    out = await group.run('!form title=Cutter employer=Nord place=Oslo deadline="1. oktober 2026"')
    assert "Posted in #jobs" in out, out
    card = group.messages("jobs")[-1]
    assert ["Application deadline", "1 October 2026"] in card["fields"], card  # type: ignore[operator]
