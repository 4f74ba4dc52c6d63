"""PostsService: each use case and its refusals, on the in-memory unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cogs.posts.forms import KINDS
from bot.cogs.posts.records import CloseReason, PostStatus
from bot.cogs.posts.service import PostsService
from bot.cogs.posts.settings import PostsSettings
from bot.errors import UserError
from tests.features.helpers import INGRID, OLA, STAFF, World, world

JOB = {
    "title": "Pattern cutter",
    "employer": "Studio Nord",
    "place": "Oslo",
    "deadline": "2026-08-20",
}
SALE = {"what": "Juki sewing machine", "price": "2500 kr"}


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group of its own."""
    async with world() as it:
        yield it


def _svc(w: World) -> PostsService:
    return w.bot.service(PostsService)


async def test_create_posts_a_card_and_records_where(w: World) -> None:
    svc = _svc(w)
    posted = await svc.create(w.group, INGRID, KINDS["job"], JOB)
    assert posted.channel_name == "jobs"
    card = w.channel("jobs")[-1]
    assert card["title"] == "Job: Pattern cutter" and "Posted by Ingrid" in str(card["text"])
    async with w.uow() as uow:
        stored = await uow.posts.get(w.group.id, posted.post.id)
    assert stored is not None and stored.message_id == card["id"] and stored.thread_id
    assert stored.author_name == "Ingrid" and "_author" not in stored.fields


async def test_an_author_name_cannot_ping(w: World) -> None:
    svc = _svc(w)
    from bot.domain import Actor, Permission

    posted = await svc.create(
        w.group, Actor("x", "@everyone", Permission.MEMBER), KINDS["sale"], SALE
    )
    assert "@everyone" not in posted.post.author_name


async def test_only_the_author_or_staff_may_close(w: World) -> None:
    svc = _svc(w)
    post = (await svc.create(w.group, INGRID, KINDS["sale"], SALE)).post
    with pytest.raises(UserError) as refused:
        await svc.close(w.group, OLA, post.id)
    assert refused.value.key == "posts.not_yours"
    closed = await svc.close(w.group, STAFF, post.id)
    assert (closed.status, closed.close_reason) == (PostStatus.CLOSED, CloseReason.SOLD)
    with pytest.raises(UserError) as again:
        await svc.close(w.group, INGRID, post.id)
    assert again.value.key == "posts.already_closed"
    assert str(w.channel("marketplace")[-1]["title"]).startswith("[SOLD]")


async def test_a_post_of_another_group_or_unknown_id_is_refused(w: World) -> None:
    svc = _svc(w)
    with pytest.raises(UserError) as refused:
        await svc.close(w.group, STAFF, 999)
    assert refused.value.key == "core.button_unknown"


async def test_bad_form_names_the_field_as_the_member_saw_it(w: World) -> None:
    svc = _svc(w)
    with pytest.raises(UserError) as refused:
        await svc.create(w.group, INGRID, KINDS["job"], {**JOB, "deadline": "2026-13-40"})
    assert refused.value.params["field"] == "Application deadline"
    assert w.channel("jobs") == []


async def test_changing_listing_days_re_dates_open_listings(w: World) -> None:
    svc = _svc(w)
    post = (await svc.create(w.group, INGRID, KINDS["sale"], SALE)).post
    assert post.created_at is not None and post.expires_at == post.created_at + timedelta(days=30)
    settings = await svc.set_listing_days(w.group, 7)
    assert settings == PostsSettings(listing_days=7)
    assert PostsSettings.of(await w.fresh()).listing_days == 7
    async with w.uow() as uow:
        stored = await uow.posts.get(w.group.id, post.id)
    assert stored is not None and stored.expires_at == post.created_at + timedelta(days=7)


async def test_editing_a_listing_does_not_extend_its_life(w: World) -> None:
    svc = _svc(w)
    post = (await svc.create(w.group, INGRID, KINDS["sale"], SALE)).post
    w.later(days=20)
    edited = await svc.edit(w.group, INGRID, post.id, {**SALE, "price": "2000 kr"})
    assert edited.expires_at == post.expires_at
    assert ["Price", "2000 kr"] in w.channel("marketplace")[-1]["fields"]  # type: ignore[operator]


async def test_a_rentals_period_sets_its_end_when_posted_edited_or_re_dated(w: World) -> None:
    svc = _svc(w)
    rental = {"what": "Studio", "where": "Tøyen", "price": "3000 kr", "from": "2027-03-01"}
    oslo = ZoneInfo("Europe/Oslo")
    post = (await svc.create(w.group, INGRID, KINDS["rental"], {**rental, "to": "2027-06-01"})).post
    # Open through 1 June in Oslo: the 2nd begins at 00:00 there (22:00 UTC on the 1st).
    assert post.expires_at == datetime(2027, 6, 2, tzinfo=oslo)
    # Editing the period moves the end; the group's listing days do not cut it short.
    w.later(days=20)
    edited = await svc.edit(w.group, INGRID, post.id, {**rental, "to": "2027-07-01"})
    assert edited.expires_at == datetime(2027, 7, 2, tzinfo=oslo)
    await svc.set_listing_days(w.group, 7)
    async with w.uow() as uow:
        stored = await uow.posts.get(w.group.id, post.id)
    assert stored is not None and stored.expires_at == datetime(2027, 7, 2, tzinfo=oslo)
    # Without an end date: the listing days, but never before the period's first day is over.
    open_ended = (await svc.create(w.group, INGRID, KINDS["rental"], rental)).post
    assert open_ended.expires_at == datetime(2027, 3, 2, tzinfo=oslo)


async def test_the_sweep_closes_expired_listings_once(w: World) -> None:
    svc = _svc(w)
    await svc.create(w.group, INGRID, KINDS["sale"], SALE)
    w.later(days=31)
    first = await svc.sweep(w.group)
    second = await svc.sweep(w.group)
    assert (first.closed, second.closed) == (1, 0)
    assert str(w.channel("marketplace")[-1]["title"]).startswith("[EXPIRED]")


async def test_the_nudge_comes_once_a_week_and_only_in_discussion(w: World) -> None:
    svc = _svc(w)
    discussion = w.ws.channel_by_name("discussion")
    jobs = w.ws.channel_by_name("jobs")
    assert discussion and jobs
    ad = "We're hiring a pattern cutter, apply by Friday"
    assert await svc.nudge(w.group.id, "ingrid", jobs, ad) is None
    assert await svc.nudge(w.group.id, "ingrid", discussion, "lovely show yesterday") is None
    assert await svc.nudge(w.group.id, "ingrid", discussion, ad) == "job"
    assert await svc.nudge(w.group.id, "ingrid", discussion, ad) is None
    w.later(days=8)
    assert await svc.nudge(w.group.id, "ingrid", discussion, ad) == "job"
