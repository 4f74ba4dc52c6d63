"""Contract: real Discord payloads (../shared/payloads) parse and translate into core events."""

from __future__ import annotations

import copy
import json

import discord
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.translate import interaction_event, message_event
from bot.events import CommandInvoked, MessagePosted
from tests.discord_harness import client_of, discord_harness
from tests.test_discord_fake_contract import shared_payloads_dir


def _load(name: str) -> dict[str, object]:
    folder = shared_payloads_dir()
    assert folder is not None, "set ALUMNIBOT_SHARED_DIR to the folder holding payloads/"
    data: dict[str, object] = json.loads((folder / name).read_text())
    return data


async def test_captured_interaction_becomes_command_invoked(engine: AsyncEngine) -> None:
    captured = _load("discord_interaction_create_captured.json")
    async with discord_harness(engine) as h:
        state = client_of(h.bot)._connection
        # The captured command is `/nick`: not ours, so it is ignored.
        foreign = discord.Interaction(data=copy.deepcopy(captured), state=state)
        assert interaction_event(foreign) is None
        # The same payload as `/alumni nick target:<user> new-nick:erfhi`.
        ours = copy.deepcopy(captured)
        data = ours["data"]
        assert isinstance(data, dict)
        data["options"] = [{"type": 1, "name": "nick", "options": data["options"]}]
        data["name"] = "alumni"
        event = interaction_event(discord.Interaction(data=ours, state=state))
        assert isinstance(event, CommandInvoked)
        assert event.group_id == "1033681997136146462"
        assert event.words == ("nick",)
        assert event.options == {"target": "1033681843708510238", "new-nick": "erfhi"}
        assert event.user.id == "506759329068613643"
        assert event.channel is not None and event.channel.id == "1038831656682930227"


async def test_docs_message_create_becomes_message_posted(engine: AsyncEngine) -> None:
    docs = _load("discord_message_create.json")
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
        author = bot_data["author"]
        assert isinstance(author, dict)
        author.update(bot=True, id="53908099506183681")  # a new id: users are cached by id
        assert message_event(discord.Message(state=state, channel=channel, data=bot_data)) is None
