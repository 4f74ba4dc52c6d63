"""Contract tests: the real discord.py 2.7.1 client against the fake Discord over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes.discord_fake import FakeDiscord, FakeGuild, running_fake_discord

OWNER_ID = 111_000_000_000_000_001
ALICE_ID = 222_000_000_000_000_002
BOB_ID = 333_000_000_000_000_003


class ReadyClient(discord.Client):
    """A plain client that exposes a ready event and an optional setup hook callback."""

    def __init__(self, *, setup: Callable[[ReadyClient], Awaitable[None]] | None = None) -> None:
        """Default intents + members + message content; quick guild-ready timeout."""
        intents = discord.Intents.default()
        intents.members = True
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.1)
        self.ready = asyncio.Event()
        self._setup = setup
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        """Run the test's setup (commands, persistent views)."""
        if self._setup is not None:
            await self._setup(self)

    async def on_ready(self) -> None:
        """Signal readiness to the test."""
        self.ready.set()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A started fake with one guild (#general, a member role, alice)."""
    async with running_fake_discord() as server:
        guild = server.add_guild("Alumni", owner_id=OWNER_ID)
        role = server.add_role(guild.id, "member")
        server.add_member(guild.id, ALICE_ID, "alice", roles=[int(role["id"])])
        yield server


def only_guild(fake: FakeDiscord) -> FakeGuild:
    """The first seeded guild."""
    return next(iter(fake.guilds.values()))


@contextlib.asynccontextmanager
async def connected(
    fake: FakeDiscord, setup: Callable[[ReadyClient], Awaitable[None]] | None = None
) -> AsyncIterator[ReadyClient]:
    """Run a real discord.Client against the fake until the block ends."""
    client = ReadyClient(setup=setup)
    task = asyncio.create_task(client.start(fake.token))
    try:
        await asyncio.wait_for(client.ready.wait(), 5)
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


# (a) READY + GUILD_CREATE build the same world in discord.py's cache ----------------------
async def test_ready_cache_matches_fake_state(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    async with connected(fake) as client:
        assert client.user is not None and client.user.id == fake.bot_id
        assert client.application_id == fake.application_id
        guild = client.get_guild(g.id)
        assert guild is not None and guild.name == "Alumni" and guild.owner_id == OWNER_ID
        assert {c.id for c in guild.channels} == set(g.channels)
        assert {r.id for r in guild.roles} == set(g.roles)
        assert {m.id for m in guild.members} == set(g.members)
        assert guild.chunked
        alice = guild.get_member(ALICE_ID)
        assert alice is not None and [r.name for r in alice.roles[1:]] == ["member"]
        assert guild.me.guild_permissions.manage_roles
        assert guild.me.top_role.id == g.bot_role_id
        assert fake.identify_count == 1 and fake.gateway_connects == ["/"]
        assert fake.gateway_received[0]["op"] == 1  # heartbeat right after HELLO
        assert fake.intents & (1 << 1)


# (b) REST mutations through discord.py land in the fake and come back as gateway events -------
async def test_rest_mutations_update_fake_and_cache(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    async with connected(fake) as client:
        guild = client.get_guild(g.id)
        assert guild is not None
        category = await guild.create_category("Class of 2010")
        text = await guild.create_text_channel("Reunion Planning", category=category)
        assert fake.channel(text.id)["name"] == "reunion-planning"
        assert fake.channel(text.id)["parent_id"] == str(category.id)
        await fake.wait_for(lambda: guild.get_channel(text.id) is not None)
        assert guild.get_channel(text.id).category == category

        await text.set_permissions(guild.default_role, view_channel=False)
        await text.set_permissions(guild.me, view_channel=True)  # else the bot loses it too
        overwrites = fake.channel(text.id)["permission_overwrites"]
        assert [o["id"] for o in overwrites] == [str(g.id), str(fake.bot_id)]
        await fake.wait_for(lambda: text.overwrites_for(guild.default_role).view_channel is False)

        role = await guild.create_role(name="class-2010", mentionable=True)
        assert fake.role(g.id, role.id)["name"] == "class-2010"
        await fake.wait_for(lambda: guild.get_role(role.id) is not None)
        other = await guild.create_role(name="mentor")
        alice = guild.get_member(ALICE_ID)
        assert alice is not None
        before = len(fake.requests_to("PATCH /guilds/{}/members/{}"))
        await alice.edit(roles=[role, other])
        assert len(fake.requests_to("PATCH /guilds/{}/members/{}")) == before + 1
        assert fake.member_role_ids(g.id, ALICE_ID) == {role.id, other.id}
        await fake.wait_for(lambda: {r.id for r in alice.roles} >= {role.id, other.id})
        await alice.remove_roles(other)
        member_role = fake.role_named(g.id, "member")
        assert member_role is not None
        await alice.add_roles(discord.Object(int(member_role["id"])))
        assert fake.member_role_ids(g.id, ALICE_ID) == {role.id, int(member_role["id"])}
        await fake.wait_for(lambda: guild.get_member(ALICE_ID).get_role(other.id) is None)

        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Join", custom_id="join:2010"))
        embed = discord.Embed(title="Reunion", description="June 12")
        msg = await text.send("Save the date", embed=embed, view=view)
        stored = fake.channel_messages(text.id)[-1]
        assert stored["content"] == "Save the date"
        assert stored["embeds"][0]["title"] == "Reunion"
        assert stored["components"][0]["components"][0]["custom_id"] == "join:2010"
        file_msg = await text.send(file=discord.File(__file__, filename="notes.py"))
        assert fake.find_message(file_msg.id)["attachments"][0]["filename"] == "notes.py"

        thread = await msg.create_thread(name="Logistics")
        assert fake.channel(thread.id)["parent_id"] == str(text.id)
        await fake.wait_for(lambda: guild.get_thread(thread.id) is not None)
        await thread.send("first!")
        assert fake.channel_messages(thread.id)[-1]["content"] == "first!"

        invite = await text.create_invite(max_uses=5, max_age=3600, unique=True)
        assert g.invites[invite.code]["max_uses"] == 5
        assert [i.code for i in await guild.invites()] == [invite.code]

        await alice.send("Welcome to the alumni server!")
        assert fake.dms_to(ALICE_ID)[-1]["content"] == "Welcome to the alumni server!"

        await text.delete()
        await fake.wait_for(lambda: guild.get_channel(text.id) is None)
        assert text.id not in g.channels
        assert not fake.unknown_routes


async def test_forum_post_with_tag_in_community_guild(fake: FakeDiscord) -> None:
    cg = fake.add_guild("Alumni Community", owner_id=OWNER_ID, community=True)
    async with connected(fake) as client:
        guild = client.get_guild(cg.id)
        assert guild is not None and "COMMUNITY" in guild.features
        forum = await guild.create_forum(
            "jobs",
            available_tags=[discord.ForumTag(name="hiring"), discord.ForumTag(name="seeking")],
        )
        await fake.wait_for(lambda: guild.get_channel(forum.id) is not None)
        tag = next(t for t in forum.available_tags if t.name == "hiring")
        assert tag.id == fake.tag_id(forum.id, "hiring")
        post = await forum.create_thread(
            name="Backend engineer @ ACME", content="We are hiring", applied_tags=[tag]
        )
        assert fake.channel(post.thread.id)["applied_tags"] == [str(tag.id)]
        assert post.message.content == "We are hiring"
        assert fake.channel_messages(post.thread.id)[0]["content"] == "We are hiring"
        await fake.wait_for(lambda: guild.get_thread(post.thread.id) is not None)
        assert [t.name for t in guild.get_thread(post.thread.id).applied_tags] == ["hiring"]


# (c) driving helpers ---------------------------------------------------------------------
async def test_member_join_screening_leave_and_user_message(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    general = fake.text_channel_id(g.id)
    joins: list[discord.Member] = []
    updates: list[tuple[bool, bool]] = []
    messages: list[discord.Message] = []
    async with connected(fake) as client:

        @client.event
        async def on_member_join(member: discord.Member) -> None:
            joins.append(member)

        @client.event
        async def on_member_update(before: discord.Member, after: discord.Member) -> None:
            updates.append((before.pending, after.pending))

        @client.event
        async def on_message(message: discord.Message) -> None:
            messages.append(message)

        await fake.member_join(g.id, BOB_ID, "bob", pending=True)
        await fake.wait_for(lambda: joins)
        assert joins[0].id == BOB_ID and joins[0].pending
        await fake.member_passes_screening(g.id, BOB_ID)
        await fake.wait_for(lambda: updates)
        assert updates == [(True, False)]

        mid = await fake.user_message(general, BOB_ID, "hi <@me>", mentions=[fake.bot_id])
        reply = await fake.user_message(general, ALICE_ID, "welcome bob", reply_to=mid)
        await fake.wait_for(lambda: len(messages) == 2)
        assert messages[0].id == mid and messages[0].author.id == BOB_ID
        assert isinstance(messages[0].author, discord.Member)
        assert client.user in messages[0].mentions
        assert messages[1].id == reply and messages[1].reference is not None
        assert messages[1].reference.message_id == mid

        await fake.member_leave(g.id, BOB_ID)
        guild = client.get_guild(g.id)
        await fake.wait_for(lambda: guild is not None and guild.get_member(BOB_ID) is None)


def alumni_setup(guild_id: int, seen: dict[str, Any]) -> Callable[[ReadyClient], Awaitable[None]]:
    """Register /alumni categories add (ephemeral reply), /alumni signup (modal), a button."""

    async def setup(client: ReadyClient) -> None:
        alumni = app_commands.Group(name="alumni", description="Alumni tools")
        categories = app_commands.Group(name="categories", description="Categories", parent=alumni)

        @categories.command(name="add", description="Add a category")
        async def add(interaction: discord.Interaction, name: str, owner: discord.Member) -> None:
            seen["add"] = (name, owner.id, interaction.user.id)
            await interaction.response.send_message(f"Added {name}", ephemeral=True)

        class Signup(discord.ui.Modal, title="Sign up"):
            year = discord.ui.TextInput(label="Graduation year", custom_id="year")

            async def on_submit(self, interaction: discord.Interaction) -> None:
                seen["year"] = self.year.value
                await interaction.response.send_message(f"Thanks, {self.year.value}!")

        @alumni.command(name="signup", description="Sign up")
        async def signup(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Signup(custom_id="signup"))

        class JoinView(discord.ui.View):
            def __init__(self) -> None:
                super().__init__(timeout=None)

            @discord.ui.button(label="Join", custom_id="join:2010")
            async def join(
                self, interaction: discord.Interaction, button: discord.ui.Button
            ) -> None:
                seen["button"] = interaction.user.id
                await interaction.response.edit_message(content="Joined!", view=None)

        seen["view_cls"] = JoinView
        client.tree.add_command(alumni, guild=discord.Object(guild_id))
        client.add_view(JoinView())
        await client.tree.sync(guild=discord.Object(guild_id))

    return setup


async def test_slash_command_button_and_modal(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    general = fake.text_channel_id(g.id)
    seen: dict[str, Any] = {}
    async with connected(fake, alumni_setup(g.id, seen)) as client:
        assert fake.command_syncs == 1
        assert [c["name"] for c in g.commands.values()] == ["alumni"]

        iid = await fake.slash_command(
            g.id, ALICE_ID, "alumni", ["categories", "add"], {"name": "Law", "owner": ALICE_ID}
        )
        inter = await fake.wait_for_response(iid)
        assert seen["add"] == ("Law", ALICE_ID, ALICE_ID)
        assert inter.response_type == 4 and inter.ephemeral
        assert inter.messages[0]["content"] == "Added Law"
        assert not any(m["content"] == "Added Law" for m in fake.channel_messages(general))

        iid = await fake.slash_command(g.id, ALICE_ID, "alumni", ["signup"])
        inter = await fake.wait_for_response(iid)
        assert inter.response_type == 9 and inter.modal is not None
        assert inter.modal["custom_id"] == "signup" and inter.modal["title"] == "Sign up"
        sid = await fake.submit_modal(g.id, ALICE_ID, "signup", {"year": "2010"})
        submitted = await fake.wait_for_response(sid)
        assert seen["year"] == "2010"
        assert submitted.response_type == 4 and not submitted.ephemeral
        assert fake.channel_messages(general)[-1]["content"] == "Thanks, 2010!"
        for layout in ("label", "action_row"):
            sid = await fake.submit_modal(g.id, ALICE_ID, "signup", {"year": "1999"}, layout=layout)
            # The modal view is finished after its first submit; discord.py ignores repeats.
            await asyncio.sleep(0)

        channel = client.get_channel(general)
        assert isinstance(channel, discord.TextChannel)
        posted = await channel.send("Reunion 2010", view=seen["view_cls"]())
        bid = await fake.press_button(g.id, ALICE_ID, posted.id, "join:2010")
        pressed = await fake.wait_for_response(bid)
        assert seen["button"] == ALICE_ID and pressed.response_type == 7
        assert fake.find_message(posted.id)["content"] == "Joined!"
        assert fake.find_message(posted.id)["components"] == []
        await fake.wait_for(lambda: client.get_partial_messageable(general) is not None)


async def test_deferred_response_and_followup(fake: FakeDiscord) -> None:
    g = only_guild(fake)

    async def setup(client: ReadyClient) -> None:
        @client.tree.command(name="report", description="Slow report")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="Report ready")
            await interaction.followup.send("More details", ephemeral=True)

        await client.tree.sync()

    async with connected(fake, setup):
        iid = await fake.slash_command(g.id, ALICE_ID, "report")
        inter = fake.interactions[iid]
        await fake.wait_for(lambda: len(inter.followups) == 1)
        assert inter.response_type == 5 and inter.ephemeral
        assert [m["content"] for m in inter.messages] == ["Report ready", "More details"]
        assert fake.command_syncs == 1 and fake.global_commands


# (d) 429: discord.py sleeps and retries; every call lands -------------------------------------
async def test_rate_limit_429_is_retried(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    fake.set_rate_limit("PATCH /guilds/{g}/members/{u}", limit=2, per_seconds=0.05, advertise=False)
    async with connected(fake) as client:
        guild = client.get_guild(g.id)
        assert guild is not None
        alice = guild.get_member(ALICE_ID)
        assert alice is not None
        roles = [await guild.create_role(name=f"r{i}") for i in range(6)]
        await asyncio.gather(*(alice.edit(roles=[r]) for r in roles))
        ok = [r for r in fake.requests_to("PATCH /guilds/{}/members/{}") if r.status == 200]
        assert len(ok) == 6
        assert fake.rate_limited_count["PATCH /guilds/{}/members/{}"] >= 1
        assert len(fake.member_role_ids(g.id, ALICE_ID)) == 1


async def test_rate_limit_headers_let_discordpy_preempt(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    fake.set_rate_limit("PATCH /guilds/{g}/members/{u}", limit=2, per_seconds=0.05)
    async with connected(fake) as client:
        guild = client.get_guild(g.id)
        assert guild is not None
        alice = guild.get_member(ALICE_ID)
        assert alice is not None
        for i in range(4):
            await alice.edit(nick=f"alice{i}")
        assert fake.member(g.id, ALICE_ID)["nick"] == "alice3"
        assert fake.rate_limited_count.get("PATCH /guilds/{}/members/{}", 0) == 0


async def test_global_rate_limit(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    async with connected(fake) as client:
        fake.set_global_rate_limit(3, per_seconds=0.05)
        guild = client.get_guild(g.id)
        assert guild is not None
        await asyncio.gather(*(guild.fetch_member(ALICE_ID) for _ in range(5)))
        assert fake.rate_limited_count.get("global", 0) >= 1
        fake.set_global_rate_limit(None)


# (e) 403 paths ---------------------------------------------------------------------------
async def test_forbidden_without_manage_roles_and_above_hierarchy(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    high = fake.add_role(g.id, "staff", position=50)
    async with connected(fake) as client:
        guild = client.get_guild(g.id)
        assert guild is not None
        alice = guild.get_member(ALICE_ID)
        assert alice is not None
        with pytest.raises(discord.Forbidden) as above:
            await alice.add_roles(discord.Object(int(high["id"])))
        assert above.value.code == 50013 and above.value.status == 403
        fake.set_bot_permissions(g.id, manage_roles=False)
        await fake.wait_for(lambda: not guild.me.guild_permissions.manage_roles)
        with pytest.raises(discord.Forbidden) as denied:
            await guild.create_role(name="nope")
        assert denied.value.code == 50013
        with pytest.raises(discord.NotFound) as missing:
            await guild.fetch_member(999)
        assert missing.value.code == 10007


# (f) dropped connection -> RESUME + replay -------------------------------------------------
async def test_drop_connection_resumes_and_replays(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    resumed = asyncio.Event()
    async with connected(fake) as client:

        @client.event
        async def on_resumed() -> None:
            resumed.set()

        await fake.drop_connection(code=4000, hold=True)
        await fake.member_join(g.id, BOB_ID, "bob", pending=False)
        fake.release_connection()
        await asyncio.wait_for(resumed.wait(), 5)
        guild = client.get_guild(g.id)
        await fake.wait_for(lambda: guild is not None and guild.get_member(BOB_ID) is not None)
        assert fake.identify_count == 1 and fake.resume_count == 1
        assert fake.replayed_events >= 1
        assert fake.gateway_connects == ["/", "/resume"]
        resume = next(f for f in fake.gateway_received if f["op"] == 6)
        assert resume["d"]["session_id"] == fake.session_id


# (g) payload builders and captured payloads parse through discord.py's models -------------
def shared_payloads_dir() -> Path | None:
    """ALUMNIBOT_SHARED_DIR, else <repo>/../shared/payloads, else the nearest ancestor's."""
    candidates: list[Path] = []
    if env := os.environ.get("ALUMNIBOT_SHARED_DIR"):
        candidates += [Path(env) / "payloads", Path(env)]
    repo = Path(__file__).resolve().parents[1]
    candidates.append(repo.parent / "shared" / "payloads")
    candidates += [parent / "shared" / "payloads" for parent in repo.parents]
    return next((c for c in candidates if (c / "README.md").is_file()), None)


async def test_every_payload_builder_parses_in_discordpy(fake: FakeDiscord) -> None:
    g = only_guild(fake)
    general = fake.text_channel_id(g.id)
    forum = fake.add_channel(g.id, "jobs", 15, tags=["hiring"])
    async with connected(fake) as client:
        state = client._connection
        guild = discord.Guild(data=g.gateway_payload(), state=state)
        assert guild.id == g.id and guild.get_channel(int(forum["id"])) is not None
        role = discord.Role(guild=guild, state=state, data=fake.role_named(g.id, "member"))
        assert role.name == "member"
        member = discord.Member(data=fake.member(g.id, ALICE_ID), guild=guild, state=state)
        assert member.name == "alice"
        text = discord.TextChannel(state=state, guild=guild, data=fake.channel(general))
        assert text.name == "general"
        forum_ch = discord.ForumChannel(state=state, guild=guild, data=forum)
        assert [t.name for t in forum_ch.available_tags] == ["hiring"]
        mid = await fake.user_message(general, ALICE_ID, "hello")
        message = discord.Message(state=state, channel=text, data=fake.find_message(mid))
        assert message.content == "hello"
        thread_payload = await fake.create_thread(g.id, general, "t")
        thread = discord.Thread(guild=guild, state=state, data=thread_payload)
        assert thread.parent_id == general
        ready = next(
            f for f in fake._event_log if f[1] == "READY"
        )  # the READY the client already parsed
        assert ready[2]["resume_gateway_url"] == fake.resume_gateway_url
        await fake.wait_for(lambda: client.get_channel(general) is not None)

        option = {"type": 4, "name": "n", "description": "n"}
        command = {"id": "1", "name": "x", "type": 1, "guild_id": str(g.id), "options": [option]}
        fake.guild(g.id).commands[1] = command
        interactions = [
            fake.interactions[await fake.slash_command(g.id, ALICE_ID, "x", options={"n": 1})],
            fake.interactions[await fake.press_button(g.id, ALICE_ID, mid, "b")],
            fake.interactions[await fake.submit_modal(g.id, ALICE_ID, "m", {"f": "v"})],
            fake.interactions[
                await fake.submit_modal(g.id, ALICE_ID, "m", {"f": "v"}, layout="label")
            ],
        ]
        for record in interactions:
            parsed = discord.Interaction(data=copy.deepcopy(record.payload), state=state)
            assert parsed.id == record.id and parsed.user.id == ALICE_ID
            assert isinstance(parsed.user, discord.Member)
            assert parsed.permissions.send_messages
        assert discord.Interaction(data=interactions[1].payload, state=state).message is not None


async def test_shared_captured_payloads_parse(fake: FakeDiscord) -> None:
    folder = shared_payloads_dir()
    if folder is None:
        pytest.skip("shared payloads not found; set ALUMNIBOT_SHARED_DIR")
    captured = json.loads((folder / "discord_interaction_create_captured.json").read_text())
    docs_message = json.loads((folder / "discord_message_create.json").read_text())
    async with connected(fake) as client:
        state = client._connection
        interaction = discord.Interaction(data=captured, state=state)
        assert interaction.type is discord.InteractionType.application_command
        assert interaction.guild_id == int(captured["guild_id"])
        assert isinstance(interaction.user, discord.Member)
        channel = client.get_partial_messageable(int(docs_message["channel_id"]))
        message = discord.Message(state=state, channel=channel, data=docs_message)
        assert message.content == "Supa Hot"
        event = {
            **docs_message,
            "guild_id": str(only_guild(fake).id),
            "member": {"roles": [], "joined_at": docs_message["timestamp"], "flags": 0},
        }
        gateway_message = discord.Message(state=state, channel=channel, data=event)
        assert gateway_message.author.id == int(docs_message["author"]["id"])


async def test_unknown_route_and_bad_token_are_loud(fake: FakeDiscord) -> None:
    async with connected(fake) as client:
        with pytest.raises(discord.NotFound):
            await client.http.request(discord.http.Route("GET", "/no/such/{x}", x=1))
        assert fake.unknown_routes == ["GET /no/such/1"]
    bad = ReadyClient()
    with pytest.raises(discord.LoginFailure):
        await bad.login("wrong-token")
    await bad.close()
