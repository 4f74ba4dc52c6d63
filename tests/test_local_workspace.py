"""The local workspace behaves like a platform: who sees and posts where, joins, buttons."""

from __future__ import annotations

from bot.commands import split_words
from tests.conftest import LocalGroup

COHORT = "/alumni cohort create program:Fashion year:2026 graduates:2029-06-15"


async def test_a_member_cannot_see_staff_only_channels(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise", "!as lise")
    out = await group.run("!show channels")
    assert "#discussion" in out and "#staff-review" not in out
    out = await group.run("!in #staff-review", "!show #staff-review")
    assert out.count("(no such channel") == 2
    assert group.terminal.channel is not None and group.terminal.channel.name != "staff-review"
    # Staff see it, and a member left standing in it by `!as` can neither write nor command there.
    out = await group.run("!as owner", "!show channels", "!in #staff-review")
    assert "#staff-review" in out and "(you are now in #staff-review)" in out
    out = await group.run("!as lise", "psst, what are you approving?", "/alumni listings")
    assert out.count("(no such channel") == 2
    assert group.messages("staff-review") == []


async def test_a_holder_of_the_staff_role_sees_what_staff_see(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join nora")
    review = group.ws.state["channels"][group.ws.channel_by_name("staff-review")]
    # An admin gives Nora the staff role on the platform, as on Discord's member list.
    group.ws.state["members"]["nora"]["roles"].append(review["staff_role_id"])
    out = await group.run("!as nora", "!in #staff-review")
    assert "(you are now in #staff-review)" in out


async def test_only_staff_start_posts_in_a_staff_post_channel(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join lise", "!as lise", "!in #announcements")
    out = await group.run("Free fabric in room 3!")
    assert "only staff start posts in #announcements" in out
    assert group.messages("announcements") == []
    await group.run("!as owner", "!in #announcements", "Exhibition opens Friday.")
    assert [m["text"] for m in group.messages("announcements")] == ["Exhibition opens Friday."]


async def test_a_member_cannot_press_a_card_in_a_channel_they_cannot_see(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", COHORT, "!join per", "!as per", "!press I am a student")
    await group.run('!form cohort="Fashion 2026"')
    # The approval card was the bot's last post with buttons, but it is in #staff-review.
    out = await group.run("!join kari", "!as kari", "!press Approve")
    assert "(no such button" in out
    assert "per got the role" not in out and group.ws.role_names("per") == []


async def test_joining_as_the_owner_or_with_no_name_is_refused(group: LocalGroup) -> None:
    await group.run("/alumni setup")
    before = dict(group.ws.state["members"])
    out = await group.run("!join owner evil@example.com", '!join ""', "!join 'a b'")
    assert out.count("(a new member's name is one word") == 3
    assert group.ws.state["members"] == before
    assert group.ws.state["members"]["owner"]["email"] is None
    assert "joined the group" not in out
    # Norwegian names are names.
    assert "(bjørn joined the group)" in await group.run("!join Bjørn")


async def test_press_names_the_card_and_a_number_picks_one(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid", "!as ingrid")
    for title in ("Pattern cutter", "Seamstress"):
        await group.run(
            "/alumni post job",
            f'!form title="{title}" employer="Studio Nord" place=Oslo deadline=2026-09-20',
        )
    out = await group.run("!in #jobs", "!show #jobs 2")
    assert "[buttons, card 1: Filled | Edit]" in out and "[buttons, card 2: Filled | Edit]" in out
    # Card 1 is the older one: the number picks it, and the answer names what was pressed.
    out = await group.run("!press 1 Filled")
    assert '(pressed "Filled" on card 1, Job: Pattern cutter)' in out
    texts = [str(m.get("title")) for m in group.messages("jobs")]
    assert "[FILLED] Job: Pattern cutter" in texts and "Job: Seamstress" in texts
    # Without a number, the lowest card on screen with that label: the newest.
    await group.run(
        "/alumni post job", "!form title=Tailor employer=X place=Oslo deadline=1.10.2026"
    )
    out = await group.run("!show #jobs 3", "!press filled")
    assert '(pressed "Filled" on card 2, Job: Tailor)' in out
    out = await group.run("!press 7 Filled")
    assert "(there is no card 7" in out


async def test_show_dm_makes_the_last_dms_buttons_pressable_again(group: LocalGroup) -> None:
    await group.run("/alumni setup", COHORT, "/alumni invite cohort:'Fashion 2026' code:FASH26")
    await group.run("!join ola", "!as ola")
    # Another answer with buttons takes the welcome DM's place among what Ola can press.
    await group.run("/alumni privacy delete")
    out = await group.run("!press I have a code")
    assert "(no such button" in out
    out = await group.run("!show dm", "!press I have a code")
    assert "I have a code" in out and '(pressed "I have a code"' in out
    out = await group.run("!form code=fash26")
    assert "student" in group.ws.role_names("ola"), out
    # Someone else's DMs are shown to staff, but their buttons are not staff's to press.
    await group.run("!join per", "!as owner", "!show dm per")
    out = await group.run("!press I am a student")
    assert "(no such button" in out


async def test_a_newline_inside_double_quotes() -> None:
    assert split_words(r'details="Two rolls.\nPick up Friday." x\ny') == [
        "details=Two rolls.\nPick up Friday.",
        "xny",
    ]
    assert split_words(r"'\n'") == [r"\n"]  # single quotes keep every character as typed
    assert split_words(r'"C:\\new \"q\" \t"') == ['C:\\new "q" \\t']


async def test_a_typed_newline_reaches_the_post(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join ingrid", "!as ingrid", "/alumni post sale")
    await group.run(r'!form what="Juki" price="2500 kr" details="Works well.\nPick up in Oslo."')
    card = group.messages("marketplace")[-1]
    assert ["Details", "Works well.\nPick up in Oslo."] in card["fields"]


async def test_the_answer_to_a_language_change_is_labelled_in_the_new_language(
    group: LocalGroup,
) -> None:
    """The terminal's own words follow the change at once: Norwegian words under an English
    "[only owner sees]" label read as a half-translated bot."""
    out = await group.run("/alumni settings language:nb")
    assert "[bare owner ser] alumnibot: Språk: nb." in out, out
    out = await group.run("/alumni settings language:en")
    assert "[only owner sees] alumnibot: Language: en." in out, out


async def test_a_too_long_option_is_refused_with_the_limit_as_the_language_writes_it(
    group: LocalGroup,
) -> None:
    """ "høyst 4 000 tegn", not "4000": a number in a Norwegian sentence has its space."""
    await group.run("/alumni settings language:nb", "/alumni setup")
    out = await group.run(f'/alumni prompt suggest text:"{"x" * 4001}"')
    assert "`text` er for langt: høyst 4 000 tegn." in out.replace("\u00a0", " "), out[-300:]
