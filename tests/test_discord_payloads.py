"""Contract: Discord's payloads parse in discord.py and become the core events the bot handles.

The project's own fixtures (tests/fixtures/discord, see its README for the documented formats
they follow) always run. Captured payloads in ../shared/payloads are an extra check that runs
only when that folder is there.
"""

from __future__ import annotations

import ast
import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord import translate
from adapters.discord.translate import interaction_event, message_event
from bot.events import ButtonPressed, CommandInvoked, FormSubmitted, MessagePosted
from tests.discord_harness import ALICE_ID, Harness, client_of, discord_harness
from tests.fakes.discord_fake import FakeDiscord, FakeGuild
from tests.test_discord_fake_contract import shared_payloads_dir

FIXTURES = Path(__file__).parent / "fixtures" / "discord"
FIXTURE_GUILD = "1290000000000000010"
KARI = 1_290_000_000_000_000_031


def fixture(name: str, guild_id: int | None = None) -> dict[str, Any]:
    """A fixture, its guild id replaced by the test's guild (the bot only knows that one)."""
    text = (FIXTURES / name).read_text()
    if guild_id is not None:
        text = text.replace(FIXTURE_GUILD, str(guild_id))
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _typed_dicts(module: str) -> dict[str, ast.ClassDef]:
    # discord/types/*.py import each other in a circle (they are meant for type checkers), so
    # they are read as source rather than imported.
    path = Path(discord.__file__).parent / "types" / f"{module}.py"
    tree = ast.parse(path.read_text())
    return {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}


def required_keys(module: str, name: str) -> set[str]:
    """Keys discord.py's TypedDict `discord.types.<module>.<name>` requires (not NotRequired,
    not in a total=False class), its bases in the same module included."""
    node = _typed_dicts(module)[name]
    keys: set[str] = set()
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in _typed_dicts(module):
            keys |= required_keys(module, base.id)
    total = not any(
        k.arg == "total" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in node.keywords
    )
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            optional = "NotRequired[" in ast.unparse(item.annotation)
            if total and not optional:
                keys.add(item.target.id)
    return keys


def seed_kari(fake: FakeDiscord, guild: FakeGuild) -> None:
    """The fixtures' member, in the test's guild."""
    fake.add_member(guild.id, KARI, "kari", nick="Kari")


def missing(expected: dict[str, Any], actual: dict[str, Any], where: str = "") -> list[str]:
    """Keys of `expected` (recursively into objects) that `actual` lacks."""
    out: list[str] = []
    for key, value in expected.items():
        if key not in actual:
            out.append(where + key)
        elif isinstance(value, dict) and isinstance(actual[key], dict) and key != "resolved":
            out += missing(value, actual[key], f"{where}{key}.")
    return out


async def test_a_slash_command_fixture_becomes_command_invoked(engine: AsyncEngine) -> None:
    async with discord_harness(engine, seed=seed_kari) as h:
        payload = fixture("interaction_command.json", h.guild.id)
        assert required_keys("interactions", "ApplicationCommandInteraction") <= set(payload)
        event = interaction_event(_interaction(h, payload))
        assert isinstance(event, CommandInvoked)
        assert event.words == ("categories", "add")
        assert event.options == {"name": "Studio space", "listing": "true"}
        assert event.user.id == "1290000000000000030" and event.user.name == "Tove Hansen"
        assert event.group_id == str(h.guild.id)
        # The fake sends what Discord sends: every key of the documented payload (a guild
        # command's, as the fixture is: the staff `/alumni` is global and has no data.guild_id).
        iid = await h.fake.slash_command(h.guild.id, KARI, "alumni", ["join"], {"code": "X"})
        assert missing(payload, h.fake.interactions[iid].payload) == []


async def test_an_attachment_option_fixture_names_the_resolved_file(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        payload = fixture("interaction_command_attachment.json", h.guild.id)
        event = interaction_event(_interaction(h, payload))
        assert isinstance(event, CommandInvoked)
        assert event.words == ("invite", "cohort")
        assert event.options == {
            "cohort": "Fashion 2026",
            "roster": "attachment:1290000000000000060",
        }


async def test_a_button_in_a_dm_fixture_belongs_to_the_guild_in_its_custom_id(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine, seed=seed_kari) as h:
        payload = fixture("interaction_button_dm.json", h.guild.id)
        assert required_keys("interactions", "MessageComponentInteraction") <= set(payload)
        assert "guild_id" not in payload and "member" not in payload
        event = interaction_event(_interaction(h, payload))
        assert isinstance(event, ButtonPressed)
        assert (event.group_id, event.action, event.value) == (
            str(h.guild.id),
            "onb:claim",
            "student",
        )
        assert event.user.id == str(KARI) and event.channel is None
        assert event.message is not None and event.message.channel_id == f"D:{KARI}"
        # Someone who is not a member of that guild is not answered.
        stranger = copy.deepcopy(payload)
        stranger["user"]["id"] = str(ALICE_ID + 99)
        assert interaction_event(_interaction(h, stranger)) is None


async def test_a_modal_fixture_with_labels_and_rows_gives_every_value(engine: AsyncEngine) -> None:
    async with discord_harness(engine, seed=seed_kari) as h:
        payload = fixture("interaction_modal_submit.json", h.guild.id)
        assert required_keys("interactions", "ModalSubmitInteraction") <= set(payload)
        event = interaction_event(_interaction(h, payload))
        assert isinstance(event, FormSubmitted) and event.form_id == "profile"
        assert event.values == {
            "headline": "Knitwear designer",
            "programme": "Fashion and Production 2015",
            "link": "https://kari.example.com",
        }
        sid = await h.fake.submit_modal(h.guild.id, KARI, "alumni-form:profile|", {"a": "b"})
        assert missing(payload, h.fake.interactions[sid].payload) == []


async def test_a_message_without_the_content_intent_is_counted_never_read(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine, seed=seed_kari) as h:
        payload = fixture("message_create.json", h.guild.id)
        assert required_keys("message", "Message") <= set(payload)
        client = client_of(h.bot)
        channel = client.get_channel(h.fake.text_channel_id(h.guild.id))
        assert isinstance(channel, discord.TextChannel)
        event = message_event(
            discord.Message(state=client._connection, channel=channel, data=payload)
        )
        assert isinstance(event, MessagePosted)
        assert event.text == "" and event.user.id == str(KARI) and event.thread_id is None
        # The fake blanks the same fields for a bot without the intent.
        mid = await h.fake.user_message(int(channel.id), KARI, "hello")
        sent = next(
            f["d"]
            for f in _gateway_frames(h)
            if f.get("t") == "MESSAGE_CREATE" and f["d"]["id"] == str(mid)
        )
        assert missing(payload, sent) == [] and sent["content"] == "" and sent["embeds"] == []


def _gateway_frames(h: Harness) -> list[dict[str, Any]]:
    return [{"t": event, "d": data} for _, event, data in h.fake._event_log]


def _interaction(h: Harness, payload: dict[str, Any]) -> discord.Interaction[Any]:
    return discord.Interaction(data=copy.deepcopy(payload), state=client_of(h.bot)._connection)


@pytest.fixture(autouse=True)
async def _no_stray_defers(monkeypatch: pytest.MonkeyPatch) -> None:
    """These events are translated, never handled: their responders must not defer later."""
    monkeypatch.setattr(translate, "AUTO_DEFER_SECONDS", -1.0)


# -- the extra check: captured payloads from other projects (../shared/payloads) ---------------


def _shared(name: str) -> dict[str, Any]:
    folder = shared_payloads_dir()
    if folder is None:
        pytest.skip("../shared/payloads is not beside the repository (extra check only)")
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


async def test_shared_captured_interaction_becomes_command_invoked(engine: AsyncEngine) -> None:
    captured = _shared("discord_interaction_create_captured.json")
    async with discord_harness(engine) as h:
        state = client_of(h.bot)._connection
        # The captured command is `/nick`: not ours, so it is ignored.
        foreign = discord.Interaction(data=copy.deepcopy(captured), state=state)
        assert interaction_event(foreign) is None
        # The same payload as `/alumni nick target:<user> new-nick:erfhi`.
        ours = copy.deepcopy(captured)
        data = ours["data"]
        data["options"] = [{"type": 1, "name": "nick", "options": data["options"]}]
        data["name"] = "alumni"
        event = interaction_event(discord.Interaction(data=ours, state=state))
        assert isinstance(event, CommandInvoked)
        assert event.group_id == "1033681997136146462"
        assert event.words == ("nick",)
        assert event.options == {"target": "1033681843708510238", "new-nick": "erfhi"}
        assert event.user.id == "506759329068613643"
        assert event.channel is not None and event.channel.id == "1038831656682930227"


async def test_shared_docs_message_create_becomes_message_posted(engine: AsyncEngine) -> None:
    docs = _shared("discord_message_create.json")
    async with discord_harness(engine) as h:
        client = client_of(h.bot)
        state = client._connection
        event_data = {
            **docs,
            "guild_id": str(h.guild.id),
            "member": {"roles": [], "joined_at": docs["timestamp"], "flags": 0},
        }
        channel = client.get_channel(h.fake.text_channel_id(h.guild.id))
        assert isinstance(channel, discord.TextChannel)
        message = discord.Message(state=state, channel=channel, data=event_data)
        event = message_event(message)
        assert isinstance(event, MessagePosted)
        assert event.text == "Supa Hot" and event.user.id == "53908099506183680"
        assert event.thread_id is None and event.message.id == "334385199974967042"
        bot_data = copy.deepcopy(event_data)
        bot_data["author"].update(bot=True, id="53908099506183681")  # a new id: users are cached
        # A bot's message is marked, not dropped here: the core drops it (tests/test_core.py).
        from_bot = message_event(discord.Message(state=state, channel=channel, data=bot_data))
        assert from_bot is not None and from_bot.user.is_bot and not event.user.is_bot
