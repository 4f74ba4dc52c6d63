"""`/alumni post`, cards, closing and editing, expiry, reminders, listings and the nudge."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import ActivityRow, PostRow
from tests.conftest import LocalGroup

JOB = (
    '!form title="Pattern cutter" employer="Studio Nord" place=Oslo deadline=2026-08-20 '
    "link=https://studionord.example/jobs"
)


async def _setup(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid", "!join ola")


async def _posts(group: LocalGroup) -> list[PostRow]:
    async with group.uow() as uow:
        return list(await uow.session.scalars(select(PostRow).order_by(PostRow.id)))  # type: ignore[attr-defined]


async def test_job_form_posts_a_card_with_a_thread_crediting_the_author(group: LocalGroup) -> None:
    await _setup(group)
    out = await group.run("!as ingrid", "/alumni post job")
    assert "[form for ingrid] New post: Job" in out and "deadline" in out
    out = await group.run(JOB)
    card = group.messages("jobs")[-1]
    assert card["title"] == "Job: Pattern cutter"
    assert "Posted by ingrid" in str(card["text"])
    assert ["Employer", "Studio Nord"] in card["fields"]  # type: ignore[operator]
    assert [b["label"] for b in card["buttons"]] == ["Filled", "Edit"]  # type: ignore[attr-defined]
    assert card["thread"] is not None
    assert "Posted in #jobs" in out
    rows = await _posts(group)
    assert rows[0].kind == "job" and rows[0].status == "open" and rows[0].author_id == "ingrid"
    assert rows[0].thread_id == card["thread"]


async def test_only_the_author_or_staff_can_close_and_closed_posts_are_kept(
    group: LocalGroup,
) -> None:
    await _setup(group)
    await group.run("!as ingrid", "/alumni post job", JOB)
    out = await group.run("!as ola", "!in #jobs", "!show #jobs 1", "!press Filled")
    assert "Only the person who posted this" in out
    assert (await _posts(group))[0].status == "open"
    out = await group.run("!as ingrid", "!show #jobs 1", "!press Filled")
    assert "marked filled" in out
    card = group.messages("jobs")[-1]
    assert str(card["title"]).startswith("[FILLED]") and card["buttons"] == []
    row = (await _posts(group))[0]
    assert (row.status, row.close_reason) == ("closed", "filled")
    out = await group.run("/alumni listings")
    assert "No open listings" in out


async def test_staff_can_close_someone_elses_post(group: LocalGroup) -> None:
    await _setup(group)
    await group.run(
        "!as ingrid", "/alumni post sale", '!form what="Juki sewing machine" price="2500 kr"'
    )
    out = await group.run("!as owner", "!in #marketplace", "!show #marketplace 1", "!press Sold")
    assert "marked sold" in out


async def test_edit_form_is_prefilled_and_updates_the_card(group: LocalGroup) -> None:
    await _setup(group)
    await group.run("!as ingrid", "/alumni post job", JOB)
    out = await group.run("!in #jobs", "!show #jobs 1", "!press Edit")
    assert "Edit post: Job" in out
    form = group.ws.state["forms"]["ingrid"]
    assert {f["name"]: f["default"] for f in form["fields"]}["employer"] == "Studio Nord"
    await group.run(
        '!form title="Senior pattern cutter" employer="Studio Nord" place=Bergen '
        "deadline=2026-08-21"
    )
    card = group.messages("jobs")[-1]
    assert card["title"] == "Job: Senior pattern cutter"
    assert ["Place", "Bergen"] in card["fields"]  # type: ignore[operator]


async def test_bad_input_is_refused_with_a_clear_message_and_nothing_posted(
    group: LocalGroup,
) -> None:
    await _setup(group)
    cases = {
        "!form title=x employer=y place=z deadline=2026-13-40": "must be a date",
        "!form title=x employer=y place=z deadline=2026-08-01": "is in the past",
        "!form title=x employer=y place=z deadline=2026-09-01 link=javascript:alert(1)": "http://",
        "!form title=x employer=y place=z deadline=2026-09-01 link=ftp://files.example": "http://",
    }
    for line, expected in cases.items():
        out = await group.run("/alumni post job", line)
        assert expected in out, (line, out)
    out = await group.run("/alumni post sale", '!form what=Scissors price="cheap"')
    assert "must be an amount" in out
    out = await group.run(
        "/alumni post rental",
        '!form what=Studio where=Grünerløkka price="3000 kr/mnd" from=2026-09-10 to=2026-09-01',
    )
    assert "comes before" in out
    assert group.messages("jobs") == [] and group.messages("marketplace") == []
    assert await _posts(group) == []


async def test_overlong_fields_are_refused_naming_the_limit(group: LocalGroup) -> None:
    await _setup(group)
    # The platform's form enforces lengths; the bot checks again (Slack modals can be bypassed).
    from bot.events import FormSubmitted, UserRef

    await group.bot.handle(
        FormSubmitted(
            "local",
            UserRef("ingrid", "ingrid"),
            "post",
            {"what": "x" * 101, "price": "10"},
            "sale",
            group.terminal._responder(),
        )
    )
    assert "at most 100 characters" in group.lines[-1]


async def test_mentions_are_neutralised_in_every_field(group: LocalGroup) -> None:
    await _setup(group)
    await group.run(
        "/alumni post sale", '!form what="@everyone free boots" price=free details="<@&123> @here"'
    )
    card = group.messages("marketplace")[-1]
    text = str(card["title"]) + str(card["fields"])
    assert "@everyone" not in text and "@here" not in text and "<@&" not in text


async def test_jobs_close_after_the_deadline_and_sales_after_the_group_setting(
    group: LocalGroup,
) -> None:
    await _setup(group)
    out = await group.run("/alumni listings expiry days:10")
    assert "10 days" in out
    await group.run("!as ingrid", "/alumni post job", JOB)
    await group.run("/alumni post sale", '!form what="Dress form" price="500 kr"')
    out = await group.run("/alumni listings")
    assert "Pattern cutter" in out and "Dress form" in out
    await group.run("!clock +4d")  # past the deadline (2026-08-20)
    assert str(group.messages("jobs")[-1]["title"]).startswith("[EXPIRED]")
    assert group.messages("marketplace")[-1]["buttons"] != []
    await group.run("!clock +7d")
    assert str(group.messages("marketplace")[-1]["title"]).startswith("[EXPIRED]")
    rows = await _posts(group)
    assert [r.close_reason for r in rows] == ["expired", "expired"]
    out = await group.run("/alumni listings")
    assert "No open listings" in out


async def test_expiry_setting_is_staff_only(group: LocalGroup) -> None:
    await _setup(group)
    out = await group.run("!as ola", "/alumni listings expiry days:3")
    assert "Only staff" in out


async def test_event_reminder_the_day_before_exactly_once(group: LocalGroup) -> None:
    await _setup(group)
    await group.run(
        "/alumni post event", '!form title="Graduate show" when="2026-08-20 18:00" place="KHiO"'
    )
    await group.run("!clock +1d", "!clock +1h", "!clock +1h")  # Tuesday: nothing yet
    assert not any("Tomorrow" in str(m["title"]) for m in group.messages("events"))
    await group.run("!clock +1d", "!clock +1h", "!clock +3h")  # Wednesday, several ticks
    reminders = [m for m in group.messages("events") if "Tomorrow" in str(m["title"])]
    assert len(reminders) == 1
    assert "20 August 2026, 18:00" in str(reminders[0]["text"])
    await group.run("!clock +2d")
    assert str(group.messages("events")[0]["title"]).startswith("[OVER]")


async def test_listings_by_kind(group: LocalGroup) -> None:
    await _setup(group)
    await group.run("/alumni post job", JOB)
    await group.run("/alumni post borrow", '!form what="Steam iron" when="this weekend"')
    out = await group.run("/alumni listings borrow")
    assert "Steam iron" in out and "Pattern cutter" not in out
    out = await group.run("/alumni listings kind:job")
    assert "Pattern cutter" in out and "Steam iron" not in out


async def test_nudge_in_discussion_for_ads_in_both_languages_nothing_deleted(
    group: LocalGroup,
) -> None:
    await _setup(group)
    out = await group.run(
        "!as ola", "!in #discussion", "We're hiring a seamstress, apply by Friday"
    )
    assert "[only ola sees]" in out and "/alumni post job" in out
    assert group.messages("discussion")[-1]["text"] == "We're hiring a seamstress, apply by Friday"
    out = await group.run("!as ingrid", "Selger symaskin, 1500 kr")
    assert "/alumni post sale" in out
    out = await group.run("What did everyone think of the show?")
    assert "only ingrid sees" not in out
    out = await group.run("!in #jobs", "We're hiring!")
    assert "only ingrid sees" not in out  # the right channel already


async def test_every_message_is_counted_once_without_its_text(group: LocalGroup) -> None:
    await _setup(group)
    await group.run("!as ola", "!in #discussion", "Hello all", "!as owner", "/alumni post job", JOB)
    await group.run("!as ola", "!in #jobs", "!in thread", "Is it paid?")
    await group.bot.activity.flush()
    async with group.uow() as uow:
        rows = list(await uow.session.scalars(select(ActivityRow).order_by(ActivityRow.id)))  # type: ignore[attr-defined]
    assert [(r.category_key, r.is_reply, r.user_id) for r in rows] == [
        ("discussion", False, "ola"),
        ("jobs", True, "ola"),
    ]
    assert all(r.author_role == "member" for r in rows)
    assert not hasattr(ActivityRow, "text")


async def test_post_without_setup_is_refused(group: LocalGroup) -> None:
    out = await group.run("/alumni post job")
    assert "no channel for Job posts" in out


async def _open(group: LocalGroup) -> list[str]:
    return [r.kind for r in await _posts(group) if r.status == "open"]


async def test_a_deadline_is_open_until_the_end_of_that_day_in_the_groups_timezone(
    group: LocalGroup,
) -> None:
    # New York is 4 hours behind UTC in August: the 20th ends at 04:00 UTC on the 21st.
    await _setup(group)
    await group.run("/alumni settings timezone:America/New_York")
    await group.run("!as ingrid", "/alumni post job", JOB.replace("2026-08-20", "20.08.2026"))
    out = await group.run("/alumni listings")
    assert "last day 20 August 2026" in out, out
    await group.run("!clock +3d", "!clock +19h")  # 21st 02:00 UTC: the 20th, 22:00 in New York
    assert await _open(group) == ["job"]
    assert group.messages("jobs")[-1]["buttons"] != []
    await group.run("!clock +3h")  # 21st 05:00 UTC: the 21st, 01:00 in New York
    assert await _open(group) == []
    assert str(group.messages("jobs")[-1]["title"]).startswith("[EXPIRED]")


async def test_a_rental_stays_open_through_its_period_and_closes_after_it(
    group: LocalGroup,
) -> None:
    await _setup(group)
    await group.run(
        "!as ingrid",
        "/alumni post rental",
        '!form what="Studio by the river" where=Grünerløkka price="3000 kr/mnd" '
        "from=01.03.2027 to=01.06.2027",
        "/alumni post rental",
        '!form what="Desk in a shared studio" where=Tøyen price="900 kr/mnd" from=01.03.2027',
    )
    out = await group.run("/alumni listings rental")
    # Open through the period (a listing that starts in March is not gone in September).
    assert "Studio by the river" in out and "last day 1 June 2027" in out, out
    assert "Desk in a shared studio" in out and "last day 1 March 2027" in out, out
    await group.run("!clock +60d")
    assert await _open(group) == ["rental", "rental"]
    await group.run("!clock +137d")  # 2027-03-02: the desk's period has started and passed
    assert [r.fields["what"] for r in await _posts(group) if r.status == "open"] == [
        "Studio by the river"
    ]
    await group.run("!clock +91d")  # 2027-06-01, 07:00 UTC: still the last day
    assert await _open(group) == ["rental"]
    await group.run("!clock +1d")
    assert await _open(group) == []


async def test_an_all_day_event_is_accepted_reminded_and_over_after_its_day(
    group: LocalGroup,
) -> None:
    await _setup(group)
    out = await group.run(
        "/alumni post event", '!form title="Open studios" when=2026-08-20 place="KHiO"'
    )
    assert "Posted in #events" in out, out
    card = group.messages("events")[-1]
    assert ["When", "20 August 2026"] in card["fields"]  # type: ignore[operator]
    await group.run("!clock +2d", "!clock +3h")  # the 19th, midday: the day before
    reminders = [m for m in group.messages("events") if "Tomorrow" in str(m["title"])]
    assert len(reminders) == 1 and "20 August 2026" in str(reminders[0]["text"])
    await group.run("!clock +1d")  # the 20th itself: still on
    assert await _open(group) == ["event"]
    await group.run("!clock +1d")
    assert str(group.messages("events")[0]["title"]).startswith("[OVER]")
    out = await group.run("/alumni post event", "!form title=Late when=2026-08-01 place=x")
    assert "is in the past" in out
