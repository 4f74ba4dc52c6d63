"""Dates, times and weeks as people read them (issue 15 item 3): never an ISO date or week key."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.cogs.pairs.records import RoundStats, Stats
from bot.cogs.pairs.views import round_name
from bot.cogs.pairs.views import stats as pair_stats
from bot.cogs.posts.forms import KINDS, check
from bot.cogs.posts.records import Post
from bot.cogs.posts.views import card, event_when, field_value, form
from bot.cogs.profiles.records import Profile, ProfileView
from bot.cogs.profiles.views import fields as profile_fields
from bot.cogs.prompts.views import day_name
from bot.domain import Language
from bot.i18n import moment, t, week
from tests.conftest import make_group

EN, NB = Language.EN, Language.NB
JUNE_15 = date(2029, 6, 15)


@pytest.mark.parametrize(("lang", "said"), [(EN, "15 June 2029"), (NB, "15. juni 2029")])
def test_a_date_param_reads_as_the_language_writes_it(lang: Language, said: str) -> None:
    text = t(lang, "onboarding.cohort_created", cohort="Mote 2026", date=JUNE_15)
    assert said in text and "2029-06-15" not in text


def test_a_datetime_param_and_moment_show_the_day_and_time_in_the_zone() -> None:
    at = datetime(2029, 9, 20, 16, 0, tzinfo=UTC)
    assert moment(EN, at, "Europe/Oslo") == "20 September 2029, 18:00"
    assert moment(NB, at, "Europe/Oslo") == "20. september 2029, 18:00"
    # Without a zone, its own (the terminal's clock speaks UTC and says so).
    assert t(NB, "local.clock_now", time=at) == "(klokka er nå 20. september 2029, 16:00 UTC)"


def test_weeks_say_their_number_and_their_year_when_asked() -> None:
    assert week(NB, JUNE_15) == "uke 24"
    assert week(EN, JUNE_15, with_year=True) == "week 24 of 2029"
    assert week(NB, date(2028, 1, 1), with_year=True) == "uke 52 i 2027"  # the ISO year


def test_a_pair_round_is_a_week_never_its_key() -> None:
    assert round_name(EN, "2029-W27") == "week 27"
    assert round_name(NB, "2029-W27") == "uke 27"
    rounds = (RoundStats("2028-W52", 1, 2, 1, 1, 0), RoundStats("2029-W01", 1, 2, 0, 0, 0))
    text = pair_stats(NB, Stats(4, rounds)).text
    assert "- uke 52 i 2028:" in text and "- uke 1 i 2029:" in text and "-W" not in text


def _post(kind: str, fields: dict[str, str]) -> Post:
    return Post(id=1, group_id="g", kind=kind, author_id="u", author_name="ingrid", fields=fields)


def test_a_cards_dates_read_localised_and_its_edit_form_reads_back_the_same_day() -> None:
    job = _post(
        "job", {"title": "Cutter", "employer": "Nord", "place": "Oslo", "deadline": "2029-09-01"}
    )
    assert ("Søknadsfrist", "1. september 2029") in card(NB, job, "Europe/Oslo").fields
    event = _post("event", {"title": "Show", "when": "2029-09-20 18:00", "place": "KHiO"})
    assert event_when(EN, event) == "20 September 2029, 18:00"
    assert event_when(NB, _post("event", {"when": "2029-09-20"})) == "20. september 2029"
    # The edit form offers the dates as shown; submitting it unchanged keeps the same values.
    for post in (job, event):
        kind = KINDS[post.kind]
        spec = form(NB, kind, "f", "c", current=post)
        typed = {f.name: f.default for f in spec.fields if f.default}
        assert not any("2029-0" in v for v in typed.values()), typed
        now = datetime(2029, 6, 1, tzinfo=UTC)
        assert check(kind, typed, now, "Europe/Oslo", 30).values == post.fields


def test_a_field_that_is_no_date_is_shown_as_it_is() -> None:
    deadline = KINDS["job"].fields[3]
    assert deadline.name == "deadline"
    assert field_value(EN, deadline, "soon") == "soon"


def test_a_past_date_in_a_form_is_refused_in_words() -> None:
    kind = KINDS["job"]
    raw = {"title": "Cutter", "employer": "Nord", "place": "Oslo", "deadline": "2029-01-01"}
    with pytest.raises(Exception) as caught:
        check(kind, raw, datetime(2029, 6, 1, tzinfo=UTC), "Europe/Oslo", 30)
    error = caught.value
    said = t(NB, error.key, **error.params)  # type: ignore[attr-defined]
    assert "1. januar 2029" in said and "2029-01-01" not in said


def test_a_career_update_says_its_day() -> None:
    update = {"text": "Ny jobb", "at": "2029-06-29T07:00:00+00:00"}
    view = ProfileView(
        "u", "kari", Profile("g", "u", datetime(2029, 6, 29, tzinfo=UTC), {"updates": [update]})
    )
    assert ("Siste nytt", "Ny jobb (29. juni 2029)") in profile_fields(NB, view)


def test_weekdays_are_written_as_the_language_writes_them() -> None:
    assert (day_name(EN, 2), day_name(NB, 2)) == ("Wednesday", "onsdag")


async def test_cohorts_codes_and_refusals_show_days_in_norwegian(engine) -> None:  # type: ignore[no-untyped-def]
    g = make_group(engine, NB)
    out = await g.run(
        "/alumni setup",
        "/alumni cohort create program:Mote year:2026 graduates:2029-06-15",
        "/alumni cohort list",
        '/alumni invite cohort cohort:"Mote 2026"',
        "/alumni codes list",
        '/alumni cohort archive cohort:"Mote 2026"',
        "/alumni cohort create program:Mote year:2027 graduates:2001-01-01",
    )
    assert "Studentene blir alumni 15. juni 2029." in out, out
    assert "- Mote 2026: 15. juni 2029" in out, out
    assert "250 av 250, til 16. september 2026, laget av owner" in out, out  # 30 days from now
    assert "Mote 2026 blir uteksaminert 15. juni 2029; arkiver kullet etter det." in out, out
    assert "Datoen 1. januar 2001 er ikke frem i tid" in out, out
    assert "for eksempel 15. juni 2029." in out, out


async def test_whois_says_the_day_a_member_joined(engine) -> None:  # type: ignore[no-untyped-def]
    g = make_group(engine, NB)
    out = await g.run("/alumni setup", "!join kari", "/alumni whois member:kari")
    assert "Ble med: 17. august 2026" in out, out
