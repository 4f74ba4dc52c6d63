"""Masked links in member text are shown as plain text with the real address, never as a link
whose label hides it (Discord renders `[label](url)` as a link in messages and embeds)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.safety import neutralise
from tests.conftest import LocalGroup
from tests.discord_harness import (
    ALICE_ID,
    MovableClock,
    answer_text,
    discord_harness,
    message_text,
    run_command,
)
from tests.slack_harness import slack_harness
from tests.test_discord_features import channel_named, setup_group, submit

MASKED = "[https://oslomet.no](https://evil.example)"
# What Discord's markdown reads as a masked link: a bracketed label right before a
# parenthesised address (with or without <>), as in simple-markdown's `link` rule.
DISCORD_LINK = re.compile(r"\[[^\[\]]*\]\(\s*<?[a-z]+://")

TRICKS = [
    MASKED,
    "[click here](<https://evil.example>)",
    "[https://oslomet.no]( https://evil.example )",
    '[OsloMet](https://evil.example "OsloMet")',
    "see [[oslomet.no]](https://evil.example) today",
    "**[bold label](https://evil.example)**",
]


@pytest.mark.parametrize("text", TRICKS)
def test_masked_links_are_defused(text: str) -> None:
    shown = neutralise(text)
    assert not DISCORD_LINK.search(shown), shown
    assert "https://evil.example" in shown  # the real address stays readable
    # What a reader sees is the same characters, give or take invisible ones.
    assert shown.replace("\u200b", "") == text


def test_plain_links_and_brackets_are_left_alone() -> None:
    for text in ("https://oslomet.no", "[draft] notes (see below)", "a](b"):
        assert neutralise(text).replace("\u200b", "") == text
    assert neutralise("https://oslomet.no") == "https://oslomet.no"


async def test_local_career_update_shows_the_address(group: LocalGroup) -> None:
    out = await group.run("/alumni setup", f"/alumni update text:Portfolio {MASKED}")
    (posted,) = group.messages("showcase")
    assert not DISCORD_LINK.search(str(posted["text"]))
    assert "https://evil.example" in out


async def test_discord_job_card_and_career_update_keep_links_plain(engine: AsyncEngine) -> None:
    async with discord_harness(engine, clock=MovableClock()) as h:
        await setup_group(h)
        opened = await run_command(h.fake, h.guild, ALICE_ID, "post job")
        answer = await submit(
            h,
            ALICE_ID,
            opened,
            {
                "title": "Pattern cutter",
                "employer": MASKED,
                "place": "[Oslo](https://evil.example/map)",
                "deadline": "2026-09-30",
                "link": "https://example.com/job",
            },
        )
        jobs = channel_named(h, "jobs")
        assert f"Posted in <#{jobs['id']}>" in answer_text(answer), answer_text(answer)
        (post,) = [t for t in h.guild.threads.values() if t["parent_id"] == jobs["id"]]
        card = h.fake.channel_messages(int(post["id"]))[0]
        shown = message_text(card)
        assert "https://evil.example" in shown
        assert not DISCORD_LINK.search(shown), shown

        update = await run_command(h.fake, h.guild, ALICE_ID, "update", {"text": MASKED})
        await h.fake.wait_for(lambda: update.messages)
        (posted,) = h.fake.channel_messages(int(channel_named(h, "showcase")["id"]))
        assert not DISCORD_LINK.search(message_text(posted)), message_text(posted)
        assert "https://evil.example" in message_text(posted)


async def test_slack_keeps_masked_links_plain(engine: AsyncEngine) -> None:
    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        await h.command(h.admin, f"update text:{MASKED}")
        (posted,) = h.fake.channel_by_name("alumni-showcase").messages
        shown = json.dumps(posted, ensure_ascii=False)
        # Neither Markdown's form nor Slack's own `<url|label>` hides the address.
        assert not DISCORD_LINK.search(shown), shown
        assert "<https://evil.example|" not in shown
        assert "https://evil.example" in shown
