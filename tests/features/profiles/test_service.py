"""ProfilesService: each use case and its refusals, on the in-memory unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.cogs.profiles import views
from bot.cogs.profiles.service import ProfilesService
from bot.domain import Actor, Permission
from bot.errors import UserError
from tests.features.helpers import INGRID, OLA, World, world
from tests.features.people import join

INGRID_EMAIL = "ingrid.dahl@example.com"
FORM = {
    "headline": "Knitwear designer",
    "programme": "Fashion and Production 2015",
    "work": "Designer at Holzweiler",
    "skills": "knitwear, natural dyes",
    "link": "https://ingrid.example.com",
}


@pytest.fixture
async def w() -> AsyncIterator[World]:
    """A set-up group where Ingrid (with her email) and Ola are members."""
    async with world() as it:
        await join(it, INGRID, INGRID_EMAIL, "alumni")
        await join(it, OLA, None, "student")
        yield it


def _svc(w: World) -> ProfilesService:
    return w.bot.service(ProfilesService)


async def _refused(call: object) -> UserError:
    with pytest.raises(UserError) as refused:
        await call  # type: ignore[misc]
    return refused.value


async def test_saving_the_form_stores_it_defused_and_opens_it_filled_in(w: World) -> None:
    svc = _svc(w)
    saved = await svc.save(w.group, INGRID, {**FORM, "headline": "Designer @everyone"})
    assert saved.fields["work"] == "Designer at Holzweiler"
    assert "@everyone" not in saved.fields["headline"]
    stored = await svc.get(w.group, INGRID.id)
    assert stored == saved
    form = views.form(w.group.language, stored)
    assert [f.default for f in form.fields][2] == "Designer at Holzweiler"


async def test_editing_one_field_keeps_every_other_saved_value(w: World) -> None:
    svc = _svc(w)
    await svc.save(w.group, INGRID, FORM)
    await svc.set_mentoring(w.group, INGRID, True)
    await svc.post_update(w.group, INGRID, "Head of knit!")
    edited = await svc.save(w.group, INGRID, {"work": "Head of knit at Holzweiler"})
    assert edited.fields["work"] == "Head of knit at Holzweiler"
    assert {k: edited.fields[k] for k in ("headline", "programme", "skills", "link")} == {
        k: FORM[k] for k in ("headline", "programme", "skills", "link")
    }
    assert edited.fields["mentoring"] is True
    assert [u["text"] for u in edited.fields["updates"]] == ["Head of knit!"]
    # A field sent empty is cleared: that is how a member removes it.
    cleared = await svc.save(w.group, INGRID, {"link": ""})
    assert cleared.fields["link"] == "" and cleared.fields["work"] == edited.fields["work"]


async def test_a_submission_cannot_set_what_the_form_does_not_ask(w: World) -> None:
    svc = _svc(w)
    forged = {**FORM, "mentoring": "yes", "updates": "hacked", "email": "x@y.z"}
    saved = await svc.save(w.group, INGRID, forged)
    assert set(saved.fields) == set(FORM)


async def test_a_refused_form_changes_nothing_and_names_the_field(w: World) -> None:
    svc = _svc(w)
    await svc.save(w.group, INGRID, FORM)
    too_long = await _refused(svc.save(w.group, INGRID, {**FORM, "headline": "x" * 150}))
    assert too_long.key == "profiles.too_long"
    assert too_long.params == {"field": "Headline", "limit": 100, "length": 150}
    empty = await _refused(svc.save(w.group, INGRID, {**FORM, "headline": "  "}))
    assert (empty.key, empty.params["field"]) == ("profiles.required", "Headline")
    for bad in ("javascript:alert(1)", "ingrid.example.com", "https://x", "https://a@b.no"):
        link = await _refused(svc.save(w.group, INGRID, {**FORM, "link": bad}))
        assert link.key == "profiles.link_invalid", bad
    assert await svc.get(w.group, INGRID.id) is not None
    stored = await svc.get(w.group, INGRID.id)
    assert stored is not None and stored.fields == FORM


async def test_a_first_form_needs_a_headline(w: World) -> None:
    refused = await _refused(_svc(w).save(w.group, OLA, {"work": "Intern"}))
    assert refused.key == "profiles.required"
    assert await _svc(w).get(w.group, OLA.id) is None


async def test_mentoring_is_its_own_yes_or_no(w: World) -> None:
    svc = _svc(w)
    # Before any form: a profile with only the flag.
    only = await svc.set_mentoring(w.group, OLA, True)
    assert only.fields == {"mentoring": True}
    await svc.save(w.group, INGRID, FORM)
    on = await svc.set_mentoring(w.group, INGRID, True)
    off = await svc.set_mentoring(w.group, INGRID, False)
    assert on.fields["mentoring"] is True and off.fields["mentoring"] is False
    assert {k: off.fields[k] for k in FORM} == FORM
    assert views.yes_no("yes") is True and views.yes_no("no") is False
    with pytest.raises(KeyError):
        views.yes_no("maybe")  # the core answers "that button no longer works"


async def test_the_owner_sees_their_email_and_nobody_else_ever_does(w: World) -> None:
    svc = _svc(w)
    await svc.save(w.group, INGRID, FORM)
    own = await svc.show(w.group, INGRID)
    assert own.own and own.email == INGRID_EMAIL
    assert views.card(w.group.language, own).fields[-1] == (
        "Email (only you see this)",
        INGRID_EMAIL,
    )
    seen = await svc.show(w.group, OLA, "Ingrid")
    assert not seen.own and seen.email is None and seen.name == "Ingrid"
    card = views.card(w.group.language, seen)
    assert INGRID_EMAIL not in str(card) and card.text == ""
    assert card.fields[0] == ("Roles", "alumni")
    # Staff see no more than members: the email is the owner's alone.
    staff = Actor("tone", "Tone", Permission.ADMIN)
    assert (await svc.show(w.group, staff, "ingrid")).email is None
    # Nor does any other feature: the view others get carries no email.
    [for_pair] = await svc.seen_by(w.group, OLA.id, [INGRID.id])
    assert for_pair.email is None and INGRID_EMAIL not in str(
        views.lines(w.group.language, for_pair)
    )
    [mine] = await svc.seen_by(w.group, INGRID.id, [INGRID.id])
    assert mine.email == INGRID_EMAIL


async def test_show_refuses_an_unknown_member_and_a_missing_profile(w: World) -> None:
    svc = _svc(w)
    unknown = await _refused(svc.show(w.group, INGRID, "<@nobody> @everyone"))
    assert unknown.key == "profiles.member_unknown" and "@everyone" not in unknown.params["name"]
    none_theirs = await _refused(svc.show(w.group, INGRID, "ola"))
    assert (none_theirs.key, none_theirs.params) == ("profiles.none_theirs", {"name": "Ola"})
    none_yours = await _refused(svc.show(w.group, INGRID))
    assert none_yours.key == "profiles.none_yours"


async def test_seen_by_keeps_the_order_asked_and_marks_who_has_no_profile(w: World) -> None:
    svc = _svc(w)
    await svc.save(w.group, INGRID, FORM)
    views_ = await svc.seen_by(w.group, "someone", [OLA.id, INGRID.id])
    assert [(v.user_id, v.profile is None) for v in views_] == [("ola", True), ("ingrid", False)]
    assert views.lines(w.group.language, views_[0]) == []


async def test_find_needs_every_word_and_leaves_out_who_left(w: World) -> None:
    svc = _svc(w)
    await svc.save(w.group, INGRID, FORM)
    await svc.save(w.group, OLA, {"headline": "Pattern cutter", "skills": "knitwear"})
    assert [h.name for h in await svc.find(w.group, "knitwear")] == ["Ingrid", "Ola"]
    assert [h.name for h in await svc.find(w.group, "KNITWEAR holzweiler")] == ["Ingrid"]
    assert [h.name for h in await svc.find(w.group, "2015")] == ["Ingrid"]
    async with w.uow() as uow:
        ola = await uow.members.get(w.group.id, OLA.id)
        assert ola is not None
        await uow.members.save(replace(ola, left_at=w.bot.clock.now()))
    assert [h.name for h in await svc.find(w.group, "knitwear")] == ["Ingrid"]
    nobody = await _refused(svc.find(w.group, "crochet @here"))
    assert nobody.key == "profiles.find_none" and "@here" not in nobody.params["words"]


async def test_the_directory_shows_ten_and_says_how_many_more(w: World) -> None:
    svc = _svc(w)
    for n in range(12):
        actor = Actor(f"m{n:02}", f"M{n:02}", Permission.MEMBER)
        await join(w, actor)
        await svc.save(w.group, actor, {"headline": "Weaver"})
    hits = await svc.find(w.group, "weaver")
    text = views.found(w.group.language, "weaver", hits).text
    assert len(hits) == 12 and text.count("- **") == 10 and "and 2 more" in text


async def test_a_career_update_goes_to_showcase_once_and_erasure_can_reach_it(w: World) -> None:
    svc = _svc(w)
    posted = await svc.post_update(w.group, INGRID, "  Joined Holzweiler @everyone  ")
    assert posted.channel_name == "showcase"
    [message] = w.channel("showcase")
    assert message["title"] == "Career update from Ingrid"
    assert "@everyone" not in str(message["text"]) and str(message["text"]).startswith("Joined")
    async with w.uow() as uow:
        named = await uow.privacy.named_messages(w.group.id, INGRID.id)
    assert [m.ref.id for m in named] == [message["id"]] and named[0].replacement is None
    # A form filled in after the update keeps it; only the latest five stay.
    await svc.save(w.group, INGRID, FORM)
    for n in range(6):
        last = await svc.post_update(w.group, INGRID, f"update {n}")
    assert [u["text"] for u in last.profile.fields["updates"]] == [
        f"update {n}" for n in (5, 4, 3, 2, 1)
    ]
    assert last.profile.fields["headline"] == FORM["headline"]


async def test_a_career_update_needs_showcase_and_a_sane_length(w: World) -> None:
    svc = _svc(w)
    too_long = await _refused(svc.post_update(w.group, INGRID, "x" * 501))
    assert too_long.key == "core.option_too_long"
    async with w.uow() as uow:
        showcase = await uow.categories.get(w.group.id, "showcase")
        assert showcase is not None
        await uow.categories.save(replace(showcase, removed=True))
    missing = await _refused(svc.post_update(w.group, INGRID, "hello"))
    assert missing.key == "profiles.showcase_missing"
    assert w.channel("showcase") == [] and await svc.get(w.group, INGRID.id) is None
