"""Setup's use cases: categories, the group's basics, and the staff-only posting notice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.cogs.setup.service import SetupService
from bot.domain import Language
from bot.errors import UserError
from bot.events import ChannelRef, MessagePosted, MessageRef, UserRef
from bot.messages import Posting
from tests.features.helpers import World


def _svc(w: World) -> SetupService:
    return w.bot.service(SetupService)


async def test_a_second_run_creates_nothing(w: World) -> None:
    report = await _svc(w).run(w.group)
    assert report.created == ()
    assert "#announcements" in report.found and "@staff" in report.found


async def test_categories_keep_their_posting_rule_as_an_enum(w: World) -> None:
    categories = {c.key: c for c in await _svc(w).categories(w.group)}
    assert categories["announcements"].posting is Posting.STAFF
    assert categories["jobs"].posting is Posting.MEMBERS


async def test_a_new_category_gets_its_channel_at_once_and_a_clash_is_refused(w: World) -> None:
    added = await _svc(w).add_category(w.group, "Vevstue Øst", "", listing=True)
    assert (added.key, added.name, added.description) == (
        "vevstue-ost",
        "vevstue-øst",
        "Posts for this category.",
    )
    assert w.ws.channel_by_name("vevstue-øst") is not None
    with pytest.raises(UserError) as refused:
        await _svc(w).add_category(w.group, "vevstue øst", "", listing=False)
    assert refused.value.key == "setup.category_exists"


async def test_a_category_the_bot_posts_into_cannot_be_removed(w: World) -> None:
    with pytest.raises(UserError) as refused:
        await _svc(w).remove_category(w.group, "#announcements")
    assert refused.value.key == "setup.category_required"
    removed = await _svc(w).remove_category(w.group, "showcase")
    assert removed.key == "showcase"
    assert "showcase" not in [c.key for c in await _svc(w).categories(w.group)]


async def test_an_unknown_timezone_is_refused_and_nothing_changes(w: World) -> None:
    with pytest.raises(UserError) as refused:
        await _svc(w).change_basics(w.group, "nb", "Europe/Osl0")
    assert refused.value.key == "setup.timezone_unknown"
    assert (await w.fresh()).language is Language.EN
    group = await _svc(w).change_basics(w.group, "nb", "Europe/Berlin")
    assert (group.language, group.timezone) == (Language.NB, "Europe/Berlin")
    assert await w.fresh() == group


# -- only staff start posts where the category says so ----------------------------------------


def _post(w: World, user: str, channel: str, thread: str | None = None) -> MessagePosted:
    cid = w.ws.channel_by_name(channel)
    assert cid is not None
    msg = MessageRef(cid, f"m-{user}-{thread}", thread)
    return MessagePosted(
        w.group.id, UserRef(user, user.title()), ChannelRef(cid), msg, "Hi", thread
    )


def _let_anyone_post(w: World) -> None:
    """The local workspace as Slack: it cannot stop members posting anywhere."""
    w.ws.capabilities = replace(w.ws.capabilities, enforces_posting=False)


async def test_a_member_starting_a_post_in_announcements_is_told_privately(w: World) -> None:
    _let_anyone_post(w)
    await w.bot.handle(_post(w, "kari", "announcements"))
    told = [line for line in w.seen if "[only kari sees]" in line]
    assert len(told) == 1
    assert "Only staff start new posts in #announcements" in told[0]
    # Nothing was said in the channel itself.
    assert w.channel("announcements") == []


async def test_replies_staff_and_other_channels_are_left_alone(w: World) -> None:
    _let_anyone_post(w)
    await w.bot.handle(_post(w, "kari", "announcements", thread="T1"))
    await w.bot.handle(_post(w, "kari", "discussion"))
    await w.bot.handle(_post(w, "owner", "announcements"))  # the local admin
    assert not [line for line in w.seen if "Only staff start" in line]


async def test_where_the_platform_enforces_posting_the_bot_says_nothing(w: World) -> None:
    assert w.ws.capabilities.enforces_posting
    await w.bot.handle(_post(w, "kari", "announcements"))
    assert not [line for line in w.seen if "Only staff start" in line]


async def test_the_notice_is_in_the_groups_language(w: World) -> None:
    _let_anyone_post(w)
    await _svc(w).change_basics(w.group, "nb", None)
    await w.fresh()  # as after the command: the next message reads the group anew
    await w.bot.handle(_post(w, "kari", "announcements"))
    (told,) = [line for line in w.seen if "[only kari sees]" in line]
    assert "Bare ansatte starter nye innlegg i #" in told
