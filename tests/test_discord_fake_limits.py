"""Contract: the fake Discord refuses what Discord refuses, in Discord's documented error shape.

Shape (discord-api-docs developers/topics/opcodes-and-status-codes.mdx, "Example JSON Error
Response", and developers/reference.mdx, "Error Messages"): a JSON body with an integer `code`
and a `message`; a 50035 Invalid Form Body adds an `errors` tree whose keys lead to the field
(array items by index) and end in `{"_errors": [{"code": "<STRING>", "message": "..."}]}`.
Each case below sends the raw request a client would send and checks status, code, message and
the path to the field, so a refusal the bot meets in tests is the one it would meet on Discord.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakes.discord import limits
from tests.fakes.discord_fake import FakeDiscord, FakeGuild, running_fake_discord

OWNER_ID = 111_000_000_000_000_001
ALICE_ID = 222_000_000_000_000_002


def assert_error_shape(body: Any) -> None:
    """The documented shape of every Discord error body."""
    assert isinstance(body, dict) and set(body) <= {"code", "message", "errors"}
    assert isinstance(body["code"], int) and isinstance(body["message"], str) and body["message"]
    if body["code"] == 50035:
        assert body["message"] == "Invalid Form Body"
        _assert_tree(body["errors"])
    else:
        assert "errors" not in body


def _assert_tree(node: Any) -> None:
    assert isinstance(node, dict) and node
    for key, value in node.items():
        if key == "_errors":
            assert isinstance(value, list) and value
            for item in value:
                assert set(item) == {"code", "message"}
                assert item["code"].isupper() and item["message"]
        else:
            assert key.isdigit() or key.replace("_", "").replace("-", "").isalnum()
            _assert_tree(value)


def field_error(body: dict[str, Any], *path: str | int) -> str:
    """The error code Discord gives for the field at `path` (asserts it is there)."""
    node: Any = body["errors"]
    for key in path:
        assert str(key) in node, f"no error at {path}: {body['errors']}"
        node = node[str(key)]
    return str(node["_errors"][0]["code"])


class Api:
    """Raw requests to the fake, as discord.py sends them (bot token, JSON)."""

    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Status and JSON body (None for 204)."""
        headers = {"Authorization": f"Bot {self.fake.token}"}
        async with self.session.request(
            method, self.fake.base_url + path, json=body, headers=headers
        ) as response:
            data = await response.json() if response.status != 204 else None
        if response.status >= 400:
            assert_error_shape(data)
        return response.status, data

    async def refused(self, method: str, path: str, body: Any, status: int, code: int) -> Any:
        """Send, expect a refusal with this status and code; returns the body."""
        got, data = await self.call(method, path, body)
        assert (got, data["code"]) == (status, code), data
        return data


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeDiscord, FakeGuild, Api]]:
    """A started fake (no client connected) with one guild and alice."""
    async with running_fake_discord() as fake, aiohttp.ClientSession() as session:
        guild = fake.add_guild("Alumni", owner_id=OWNER_ID)
        fake.add_member(guild.id, ALICE_ID, "alice")
        yield fake, guild, Api(fake, session)


def text_channel(fake: FakeDiscord, guild: FakeGuild) -> int:
    return fake.text_channel_id(guild.id)


async def test_message_content_embed_and_component_limits(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, api = world
    path = f"/channels/{text_channel(fake, guild)}/messages"
    bad = await api.refused("POST", path, {"content": "x" * 2001}, 400, 50035)
    assert field_error(bad, "content") == "BASE_TYPE_MAX_LENGTH"
    assert bad["errors"]["content"]["_errors"][0]["message"] == "Must be 2000 or fewer in length."
    ok, _ = await api.call("POST", path, {"content": "x" * 2000})
    assert ok == 200

    cases: list[tuple[dict[str, Any], tuple[str | int, ...], str]] = [
        ({"embeds": [{"description": "x"}] * 11}, ("embeds",), "BASE_TYPE_MAX_LENGTH"),
        ({"embeds": [{"title": "x" * 257}]}, ("embeds", 0, "title"), "BASE_TYPE_MAX_LENGTH"),
        (
            {"embeds": [{"description": "x" * 4097}]},
            ("embeds", 0, "description"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
            ("embeds", 0, "fields"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]},
            ("embeds", 0, "fields", 0, "name"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
            ("embeds", 0, "fields", 0, "value"),
            "BASE_TYPE_MAX_LENGTH",
        ),
        (
            {"embeds": [{"description": "x" * 4000}, {"description": "y" * 2001}]},
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
        ),
    ]
    for body, where, code in cases:
        refused = await api.refused("POST", path, body, 400, 50035)
        assert field_error(refused, *where) == code, body
    total = {"embeds": [{"description": "x" * 4000}, {"description": "y" * 2000}]}
    assert (await api.call("POST", path, total))[0] == 200

    def button(i: int, label: str = "ok", custom_id: str | None = None) -> dict[str, Any]:
        return {"type": 2, "style": 1, "label": label, "custom_id": custom_id or f"b{i}"}

    rows = [{"type": 1, "components": [button(i * 10 + j) for j in range(5)]} for i in range(6)]
    refused = await api.refused("POST", path, {"components": rows}, 400, 50035)
    assert field_error(refused, "components") == "BASE_TYPE_MAX_LENGTH"
    wide = [{"type": 1, "components": [button(j) for j in range(6)]}]
    refused = await api.refused("POST", path, {"components": wide}, 400, 50035)
    assert field_error(refused, "components", 0, "components") == "BASE_TYPE_BAD_LENGTH"
    long_label = [{"type": 1, "components": [button(0, "l" * 81)]}]
    refused = await api.refused("POST", path, {"components": long_label}, 400, 50035)
    assert field_error(refused, "components", 0, "components", 0, "label") == (
        "BASE_TYPE_MAX_LENGTH"
    )
    long_id = [{"type": 1, "components": [button(0, custom_id="c" * 101)]}]
    refused = await api.refused("POST", path, {"components": long_id}, 400, 50035)
    assert field_error(refused, "components", 0, "components", 0, "custom_id") == (
        "BASE_TYPE_BAD_LENGTH"
    )
    await api.refused("POST", path, {"content": ""}, 400, 50006)


async def test_discordpy_reads_the_refusal_as_discord_sends_it(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, _ = world
    client = discord.Client(intents=discord.Intents.none())
    await client.login(fake.token)
    try:
        channel = client.get_partial_messageable(text_channel(fake, guild))
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send(embed=discord.Embed(description="x" * 4097))
        assert refused.value.status == 400 and refused.value.code == 50035
        assert "In embeds.0.description: Must be 4096 or fewer in length." in str(refused.value)
    finally:
        await client.close()


async def interaction(fake: FakeDiscord, guild: FakeGuild) -> tuple[int, str]:
    """A slash command interaction (no client listens; the fake records it)."""
    iid = await fake.slash_command(guild.id, ALICE_ID, "x", require_synced=False)
    return iid, fake.interactions[iid].token


async def test_modal_limits(world: tuple[FakeDiscord, FakeGuild, Api]) -> None:
    fake, guild, api = world

    def text_input(i: int, **extra: Any) -> dict[str, Any]:
        inner = {"type": 4, "custom_id": f"f{i}", "style": 1, **extra}
        return {"type": 18, "label": extra.pop("label", "Field"), "component": inner}

    def modal(components: list[dict[str, Any]], title: str = "Profile") -> dict[str, Any]:
        return {"type": 9, "data": {"custom_id": "m", "title": title, "components": components}}

    cases: list[tuple[dict[str, Any], tuple[str | int, ...], str]] = [
        (modal([text_input(i) for i in range(6)]), ("data", "components"), "BASE_TYPE_BAD_LENGTH"),
        (modal([]), ("data", "components"), "BASE_TYPE_BAD_LENGTH"),
        (modal([text_input(0)], "t" * 46), ("data", "title"), "BASE_TYPE_BAD_LENGTH"),
        (
            modal([{**text_input(0), "label": "l" * 46}]),
            ("data", "components", 0, "label"),
            "BASE_TYPE_BAD_LENGTH",
        ),
        (
            modal([text_input(0, max_length=4001)]),
            ("data", "components", 0, "component", "max_length"),
            "NUMBER_TYPE_MAX",
        ),
    ]
    for body, where, code in cases:
        iid, token = await interaction(fake, guild)
        refused = await api.refused(
            "POST", f"/interactions/{iid}/{token}/callback", body, 400, 50035
        )
        assert field_error(refused, *where) == code
    iid, token = await interaction(fake, guild)
    five = modal([text_input(i, max_length=4000) for i in range(5)], "t" * 45)
    assert (await api.call("POST", f"/interactions/{iid}/{token}/callback", five))[0] == 204


async def test_late_first_answer_is_10062_and_an_old_token_is_50027(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, api = world
    iid, token = await interaction(fake, guild)
    fake.advance(limits.FIRST_RESPONSE_SECONDS + 0.1)
    answer = {"type": 4, "data": {"content": "too late"}}
    late = await api.refused("POST", f"/interactions/{iid}/{token}/callback", answer, 404, 10062)
    assert late["message"] == "Unknown interaction"
    assert fake.interactions[iid].refused == [(404, 10062)]

    iid, token = await interaction(fake, guild)
    deferred = {"type": 5, "data": {"flags": 64}}
    assert (await api.call("POST", f"/interactions/{iid}/{token}/callback", deferred))[0] == 204
    fake.advance(14 * 60)
    path = f"/webhooks/{fake.application_id}/{token}"
    status, first = await api.call("POST", path + "?wait=true", {"content": "done"})
    # The first follow-up after a defer replaces "thinking…" (no new message).
    assert status == 200 and first["id"] == fake.interactions[iid].original["id"]
    assert not fake.interactions[iid].loading and fake.interactions[iid].ephemeral
    fake.advance(61)
    expired = await api.refused("POST", path, {"content": "later"}, 401, 50027)
    assert expired["message"] == "Invalid Webhook Token"


async def test_closed_dms_roles_above_the_bot_and_invites(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, api = world
    fake.closed_dms.add(ALICE_ID)
    _, dm = await api.call("POST", "/users/@me/channels", {"recipient_id": str(ALICE_ID)})
    closed = await api.refused(
        "POST", f"/channels/{dm['id']}/messages", {"content": "hi"}, 403, 50007
    )
    assert closed["message"] == "Cannot send messages to this user"

    high = fake.add_role(guild.id, "staff", position=50)
    member = f"/guilds/{guild.id}/members/{ALICE_ID}"
    await api.refused("PATCH", member, {"roles": [high["id"]]}, 403, 50013)

    invites = f"/channels/{text_channel(fake, guild)}/invites"
    too_old = await api.refused("POST", invites, {"max_age": 604_801}, 400, 50035)
    assert field_error(too_old, "max_age") == "NUMBER_TYPE_MAX"
    too_many = await api.refused("POST", invites, {"max_uses": 101}, 400, 50035)
    assert field_error(too_many, "max_uses") == "NUMBER_TYPE_MAX"
    status, week = await api.call("POST", invites, {"max_age": 604_800, "max_uses": 0})
    assert status == 200 and week["expires_at"] is not None
    for _ in range(limits.GUILD_INVITES_MAX - 1):
        fake.add_invite(guild.id, text_channel(fake, guild), max_age=0)
    full = await api.refused("POST", invites, {"max_age": 3600, "unique": True}, 400, 30016)
    assert full["message"] == "Maximum number of invites reached (1000)"
    # An invite that expired no longer counts (Discord deletes it).
    fake.advance(604_800)
    assert (await api.call("POST", invites, {"max_age": 3600, "unique": True}))[0] == 200


async def test_application_command_limits(world: tuple[FakeDiscord, FakeGuild, Api]) -> None:
    fake, guild, api = world
    path = f"/applications/{fake.application_id}/guilds/{guild.id}/commands"

    def command(**extra: Any) -> dict[str, Any]:
        return {"type": 1, "name": "alumni", "description": "Alumni group", **extra}

    def sub(i: int, **extra: Any) -> dict[str, Any]:
        return {"type": 1, "name": f"s{i}", "description": "d", **extra}

    cases: list[tuple[dict[str, Any], tuple[str | int, ...], str]] = [
        (command(name="Alumni"), (0, "name"), "APPLICATION_COMMAND_INVALID_NAME"),
        (command(name="a" * 33), (0, "name"), "APPLICATION_COMMAND_INVALID_NAME"),
        (command(description="d" * 101), (0, "description"), "BASE_TYPE_BAD_LENGTH"),
        (command(description=""), (0, "description"), "BASE_TYPE_BAD_LENGTH"),
        (command(options=[sub(i) for i in range(26)]), (0, "options"), "BASE_TYPE_MAX_LENGTH"),
        (
            command(description_localizations={"nb": "Alumnigruppen"}),
            (0, "description_localizations", "nb"),
            "LOCALE_INVALID",
        ),
        (
            command(
                options=[
                    sub(
                        0,
                        options=[{"type": 3, "name": "x", "description": "d", "max_length": 6001}],
                    )
                ]
            ),
            (0, "options", 0, "options", 0, "max_length"),
            "NUMBER_TYPE_MAX",
        ),
        (
            # "autocomplete may not be set to true if choices are present"
            command(
                options=[
                    sub(
                        0,
                        options=[
                            {
                                "type": 3,
                                "name": "x",
                                "description": "d",
                                "autocomplete": True,
                                "choices": [{"name": "a", "value": "a"}],
                            }
                        ],
                    )
                ]
            ),
            (0, "options", 0, "options", 0, "autocomplete"),
            "APPLICATION_COMMAND_OPTION_INVALID_AUTOCOMPLETE",
        ),
    ]
    for body, where, code in cases:
        refused = await api.refused("PUT", path, [body], 400, 50035)
        assert field_error(refused, *where) == code, body
    # The 8000-character total counts the longest localisation of each text.
    big = command(
        options=[
            {
                "type": 2,
                "name": f"g{g}",
                "description": "d" * 100,
                "options": [sub(i, description_localizations={"no": "n" * 100}) for i in range(25)],
            }
            for g in range(4)
        ]
    )
    too_large = await api.refused("PUT", path, [big], 400, 50035)
    assert too_large["errors"]["0"]["_errors"][0]["code"] == "APPLICATION_COMMAND_TOO_LARGE"
    good = command(description_localizations={"no": "Alumnigruppen"}, options=[sub(0)])
    assert (await api.call("PUT", path, [good]))[0] == 200


async def test_hidden_rename_limit_becomes_discordpy_rate_limited(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, _ = world
    client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30)
    await client.login(fake.token)
    try:
        channel_id = text_channel(fake, guild)
        for name in ("one", "two"):
            await client.http.edit_channel(channel_id, name=name)
        with pytest.raises(discord.RateLimited) as limited:
            await client.http.edit_channel(channel_id, topic="three")
        assert limited.value.retry_after > 500
        assert fake.channel(channel_id)["name"] == "two"
        # Other edits of the channel are not part of that limit.
        await client.http.edit_channel(channel_id, nsfw=True)
    finally:
        await client.close()


async def test_notifications_follow_allowed_mentions_and_mentionable_roles(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, api = world
    quiet = fake.add_role(guild.id, "quiet")
    loud = fake.add_role(guild.id, "loud", mentionable=True)
    fake.guild(guild.id).members[ALICE_ID]["roles"] = [quiet["id"], loud["id"]]
    path = f"/channels/{text_channel(fake, guild)}/messages"
    content = f"<@&{quiet['id']}> <@&{loud['id']}> @everyone"
    _, parsed = await api.call("POST", path, {"content": content})
    # Without allowed_mentions everything is parsed, but a role that is not mentionable and
    # @everyone need Mention Everyone, which the bot does not have.
    assert fake.notified[parsed["id"]] == {ALICE_ID}
    allowed = {"parse": [], "roles": [quiet["id"]]}
    _, locked = await api.call("POST", path, {"content": content, "allowed_mentions": allowed})
    assert fake.notified[locked["id"]] == set()
    in_embed = {
        "embeds": [{"description": f"<@{ALICE_ID}>"}],
        "allowed_mentions": {"parse": ["users"]},
    }
    _, embedded = await api.call("POST", path, in_embed)
    assert fake.notified[embedded["id"]] == set()
    both = {"content": "x", "allowed_mentions": {"parse": ["users"], "users": [str(ALICE_ID)]}}
    refused = await api.refused("POST", path, both, 400, 50035)
    assert field_error(refused, "allowed_mentions") == "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE"


async def test_files_past_ten_or_past_10_mib_are_refused(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    """developers/reference.mdx (Uploading Files): 10 files a message, 10 MiB each by default."""
    fake, guild, api = world
    url = fake.base_url + f"/channels/{text_channel(fake, guild)}/messages"
    headers = {"Authorization": f"Bot {fake.token}"}

    async def post(files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        form = aiohttp.FormData()
        form.add_field("payload_json", '{"content": "codes"}')
        for i, (name, data) in enumerate(files):
            form.add_field(f"files[{i}]", data, filename=name, content_type="text/csv")
        async with api.session.post(url, data=form, headers=headers) as response:
            return response.status, await response.json()

    status, body = await post([("codes.csv", b"a;b\n")])
    assert status == 200 and body["attachments"][0]["filename"] == "codes.csv"
    status, body = await post([(f"f{i}.csv", b"x") for i in range(11)])
    assert (status, body["code"]) == (400, 50035)
    assert field_error(body, "files") == "BASE_TYPE_MAX_LENGTH"
    status, body = await post([("big.csv", b"x" * (limits.FILE_BYTES_MAX + 1))])
    assert (status, body["code"]) == (413, 40005)


async def test_a_command_for_manage_server_is_hidden_from_members_unless_allowed(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    fake, guild, api = world
    staff_only = {
        "type": 1,
        "name": "alumni",
        "description": "Staff",
        "default_member_permissions": str(discord.Permissions(manage_guild=True).value),
        "options": [{"type": 1, "name": "setup", "description": "Set up"}],
    }
    ok, _ = await api.call("PUT", f"/applications/{fake.application_id}/commands", [staff_only])
    assert ok == 200
    with pytest.raises(PermissionError):
        await fake.slash_command(guild.id, ALICE_ID, "alumni", ["setup"])
    # The owner, and a member holding the bit, see it; so does one an admin allowed.
    await fake.slash_command(guild.id, guild.owner_id, "alumni", ["setup"])
    fake.allow_command(guild.id, "alumni", ["setup"], ALICE_ID)
    await fake.slash_command(guild.id, ALICE_ID, "alumni", ["setup"])


async def test_modify_guild_role_name_and_who_may_rename(
    world: tuple[FakeDiscord, FakeGuild, Api],
) -> None:
    """resources/guild.mdx, Modify Guild Role: `name` at most 100 characters; Manage Roles, and
    only a role below the bot's highest (topics/permissions.mdx, Permission Hierarchy)."""
    fake, guild, api = world
    _, low = await api.call("POST", f"/guilds/{guild.id}/roles", {"name": "Fashion 2026"})
    path = f"/guilds/{guild.id}/roles/{low['id']}"
    for bad in ("x" * 101, ""):
        too_long = await api.refused("PATCH", path, {"name": bad}, 400, 50035)
        assert field_error(too_long, "name") == "BASE_TYPE_BAD_LENGTH"
    status, renamed = await api.call("PATCH", path, {"name": "x" * 100})
    assert status == 200 and renamed["name"] == "x" * 100
    high = fake.add_role(guild.id, "staff", position=50)
    await api.refused("PATCH", f"/guilds/{guild.id}/roles/{high['id']}", {"name": "s"}, 403, 50013)
    fake.set_bot_permissions(guild.id, manage_roles=False)
    await api.refused("PATCH", path, {"name": "Design 2026"}, 403, 50013)
    assert fake.role(guild.id, int(low["id"]))["name"] == "x" * 100
