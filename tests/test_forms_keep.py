"""Forms keep what was saved: edit forms come back filled in, and one changed field changes only
itself, on the terminal, Discord and Slack."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.terminal import LocalResponder
from adapters.local.workspace import GROUP_ID
from bot.events import FormSubmitted
from tests.conftest import LocalGroup
from tests.discord_harness import ALICE_ID, discord_harness
from tests.fakes.discord.drivers import _text_inputs
from tests.slack_harness import ManualClock as SlackClock
from tests.slack_harness import slack_harness
from tests.test_discord_features import MovableClock, answer_text, buttons_of, press, setup_group
from tests.test_discord_features import command as discord_command
from tests.test_discord_features import submit as discord_submit
from tests.test_slack_features import START, channel, join, text_of
from tests.test_slack_features import press as slack_press
from tests.test_slack_features import submit as slack_submit

SALE = (
    '!form what="Juki sewing machine" price="2500 kr" details="Serviced in May.\\nPick up in Oslo."'
)
PROFILE = (
    '!form headline="Knitwear designer" programme="Fashion 2015" work="Designer at Holzweiler" '
    'skills="knitwear, wool" link=https://kari.example.com'
)


async def test_the_terminal_shows_saved_values_and_keeps_left_out_fields(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", "!join ingrid", "!as ingrid", "/alumni post sale", SALE)
    out = await group.run("!in #marketplace", "!show #marketplace 1", "!press Edit")
    assert '        now: "Juki sewing machine"' in out
    assert '        now: "Serviced in May.\\nPick up in Oslo."' in out
    assert "a field you leave out keeps what it has now" in out
    await group.run('!form price="3000 kr"')
    card = group.messages("marketplace")[-1]
    assert card["title"] == "For sale: Juki sewing machine"
    assert ["Price", "3000 kr"] in card["fields"]
    assert ["Details", "Serviced in May.\nPick up in Oslo."] in card["fields"]
    # An empty value empties an optional field; a required one is refused, nothing changes.
    await group.run("!show #marketplace 1", "!press Edit", '!form details=""')
    assert [f[0] for f in group.messages("marketplace")[-1]["fields"]] == ["Price"]
    out = await group.run("!show #marketplace 1", "!press Edit", '!form what=""')
    assert "(the field what is required)" in out


async def test_editing_one_profile_field_keeps_the_others(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join kari", "!as kari", "/alumni profile", PROFILE)
    out = await group.run("/alumni profile")
    assert '        now: "Designer at Holzweiler"' in out
    await group.run('!form skills="knitwear, wool, natural dyes"')
    shown = await group.run("/alumni profile show")
    for kept in ("Knitwear designer", "Fashion 2015", "Designer at Holzweiler", "kari.example"):
        assert kept in shown
    assert "natural dyes" in shown


async def test_discord_edit_modals_come_back_filled_in(engine: AsyncEngine) -> None:
    async with discord_harness(engine, clock=MovableClock()) as h:
        await setup_group(h)
        opened = await discord_command(h, ALICE_ID, "post sale")
        await discord_submit(
            h, ALICE_ID, opened, {"what": "Juki", "price": "2500 kr", "details": "Serviced."}
        )
        card = next(
            m
            for t in h.guild.threads.values()
            for m in h.fake.channel_messages(int(t["id"]))
            if "Edit" in buttons_of(m)
        )
        edit = await press(h, ALICE_ID, card, "Edit")
        assert edit.modal is not None
        # What Discord received: every text input pre-filled with what is saved.
        assert _text_inputs(edit.modal) == {
            "what": "Juki",
            "price": "2500 kr",
            "details": "Serviced.",
        }
        # The member changes the price only; the modal submits the rest as it was filled in.
        done = await discord_submit(h, ALICE_ID, edit, {"price": "3000 kr"})
        assert "updated" in answer_text(done)
        shown = json.dumps(h.fake.find_message(int(card["id"])), ensure_ascii=False)
        assert "3000 kr" in shown and "Serviced." in shown and "Juki" in shown

        profile = await discord_command(h, ALICE_ID, "profile")
        await discord_submit(h, ALICE_ID, profile, {"headline": "Knitwear designer"})
        again = await discord_command(h, ALICE_ID, "profile")
        assert again.modal is not None
        assert _text_inputs(again.modal)["headline"] == "Knitwear designer"


async def test_slack_edit_modals_come_back_filled_in(engine: AsyncEngine) -> None:
    async with slack_harness(engine, clock=SlackClock(START)) as h:
        await h.command(h.admin, "setup")
        kari = await join(h, "kari", "kari@example.com")
        await h.driver.slash_command(kari, h.fake.general_id, "/alumni", "post sale")
        await h.settle()
        await slack_submit(h, kari, "post", what="Juki", price="2500 kr", details="Serviced.")
        market = channel(h, "alumni-marketplace")
        card = market.messages[0]
        await slack_press(h, kari, card, "Edit", market.id)
        view = h.fake.views_opened[-1]
        # What Slack received: initial_value on every saved field.
        initial = {
            b["block_id"]: b["element"].get("initial_value")
            for b in view["blocks"]
            if b["type"] == "input"
        }
        assert initial == {"what": "Juki", "price": "2500 kr", "details": "Serviced."}
        await slack_submit(h, kari, view["callback_id"], price="3000 kr")
        shown = text_of(market.find(card["ts"]) or {})
        assert "3000 kr" in shown and "Serviced." in shown and "Juki" in shown

        await h.driver.slash_command(kari, h.fake.general_id, "/alumni", "profile")
        await h.settle()
        await slack_submit(h, kari, "profile", headline="Knitwear designer")
        await h.driver.slash_command(kari, h.fake.general_id, "/alumni", "profile")
        await h.settle()
        blocks = {b["block_id"]: b for b in h.fake.views_opened[-1]["blocks"]}
        assert blocks["headline"]["element"]["initial_value"] == "Knitwear designer"


async def test_a_submission_without_a_field_never_erases_it(group: LocalGroup) -> None:
    """Whatever a platform leaves out of a submission, the saved value stays."""
    await group.run("/alumni setup", "!join ingrid", "!as ingrid", "/alumni post sale", SALE)
    await group.run("!in #marketplace", "!show #marketplace 1", "!press Edit")
    form = group.ws.state["forms"].pop("ingrid")
    await group.bot.handle(
        FormSubmitted(
            GROUP_ID,
            group.terminal.user,
            form["form_id"],
            {"price": "3000 kr"},
            form["context"],
            LocalResponder(group.ws, "ingrid", None),
        )
    )
    card = group.messages("marketplace")[-1]
    assert card["title"] == "For sale: Juki sewing machine"
    assert ["Price", "3000 kr"] in card["fields"]
    assert ["Details", "Serviced in May.\nPick up in Oslo."] in card["fields"]
