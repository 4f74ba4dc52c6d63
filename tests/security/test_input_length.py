"""A very long command text is refused before it is parsed, so the event loop never stalls."""

from __future__ import annotations

import asyncio
import shlex
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.commands import MAX_COMMAND_TEXT, split_command_text
from bot.domain import Language
from bot.errors import UserError
from tests.conftest import LocalGroup, make_group
from tests.slack_harness import slack_harness

# 900 kB stalled the loop for 11.7 s in shlex.split before the option's length was checked.
HUGE = "prompt suggest text:" + "x" * 900_000


def test_huge_text_is_refused_at_once() -> None:
    started = time.perf_counter()
    with pytest.raises(UserError) as err:
        split_command_text(HUGE)
    elapsed = time.perf_counter() - started
    assert err.value.key == "core.command_too_long"
    assert err.value.params["count"] == MAX_COMMAND_TEXT
    assert elapsed < 0.05, elapsed


def test_longest_allowed_text_parses_quickly() -> None:
    # A roster pasted into `emails:` is the longest text a command takes (50,000 characters).
    emails = ";".join(f"student{i}@example.com" for i in range(2_500))[:50_000]
    text = f'invite cohort cohort:"Fashion 2026" emails:"{emails}"'
    assert len(text) <= MAX_COMMAND_TEXT
    started = time.perf_counter()
    words, options = split_command_text(text)
    elapsed = time.perf_counter() - started
    assert words == ("invite", "cohort")
    assert options == {"cohort": "Fashion 2026", "emails": emails}
    assert elapsed < 0.05, elapsed


@pytest.mark.parametrize(
    "text",
    [
        'categories add name:"Studio space" link:https://x.no/a:b',
        "prompt suggest text:'single quoted' more words",
        r"setup name:a\ b c\"d",
        'x name:"say \\"hi\\"" y',
        "  spaced   out\twords\n",
        'a"b c"d',
        "''",
    ],
)
def test_same_words_as_before(text: str) -> None:
    """The fast splitter reads command text the way shlex (POSIX) did."""
    expected = shlex.split(text)
    words, options = split_command_text(text)
    rebuilt = [*words, *(f"{k}:{v}" for k, v in options.items())]
    assert sorted(rebuilt) == sorted(expected)


def test_unbalanced_quote_still_refused() -> None:
    with pytest.raises(UserError) as err:
        split_command_text('categories add name:"Studio')
    assert err.value.key == "core.quote_unbalanced"


async def test_terminal_refuses_in_the_groups_language(engine: AsyncEngine) -> None:
    nb: LocalGroup = make_group(engine, Language.NB)
    await nb.run("/alumni setup", "/alumni settings language:nb")
    started = time.perf_counter()
    out = await nb.run("/alumni " + HUGE)
    assert time.perf_counter() - started < 0.5
    assert "Kommandoen er for lang" in out
    # Nothing was suggested.
    async with nb.uow() as uow:
        assert all("xxxx" not in p.text for p in await uow.prompts.for_group("local"))


async def test_slack_slash_command_refused_without_stalling(engine: AsyncEngine) -> None:
    """Through the real Bolt app: the answer is a refusal, and other work keeps running."""
    text = "prompt suggest text:" + "x" * (MAX_COMMAND_TEXT + 1_000)
    async with slack_harness(engine) as h:
        await h.command(h.admin, "settings language:nb")
        stalls: list[float] = []

        async def ticker() -> None:
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                stalls.append(time.perf_counter() - before)

        task = asyncio.create_task(ticker())
        try:
            answer = "\n".join(await h.command(h.admin, text))
        finally:
            task.cancel()
        assert "Kommandoen er for lang" in answer, answer
        assert max(stalls) < 0.25, max(stalls)
