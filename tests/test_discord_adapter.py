"""The Discord adapter end to end: the real AlumniClient against the fake Discord, real sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.app import HASH_KEY, invite_url, run_discord
from adapters.discord.translate import MANAGE_GUILD, application_commands, staff_commands
from adapters.discord.workspace import DiscordWorkspace
from bot.cog import Cog, button, command, form
from bot.core import Context
from bot.domain import Permission
from bot.errors import PlatformError
from bot.events import ButtonPressed, FormSubmitted, MemberJoined, MessagePosted
from bot.messages import Button, FormField, FormSpec, OutgoingMessage, Poll, RoleSpec
from bot.settings import Settings
from storage.uow import UnitOfWorkFactory
from tests.command_texts import declare_texts
from tests.discord_harness import (
    ALICE_ID,
    OWNER_ID,
    STAFF_ID,
    Harness,
    answer_text,
    client_of,
    connect,
    disconnect,
    discord_harness,
    message_text,
    recorder,
    run_command,
)
from tests.fakes.discord_fake import running_fake_discord

BOB_ID = 444_000_000_000_000_004
VIEW = discord.Permissions(view_channel=True).value
SEND = discord.Permissions(send_messages=True).value

declare_texts("setup", "propose")


def channel_named(h: Harness, name: str) -> dict[str, Any]:
    """The fake's channel by name."""
    found = [c for c in h.guild.channels.values() if c["name"] == name]
    assert len(found) == 1, f"{len(found)} channels named {name}"
    return found[0]


def overwrite(channel: dict[str, Any], target_id: int) -> tuple[int, int]:
    """(allow, deny) of a channel's overwrite for a role or member; (0, 0) if none."""
    for ow in channel.get("permission_overwrites", []):
        if int(ow["id"]) == target_id:
            return int(ow["allow"]), int(ow["deny"])
    return 0, 0


async def test_setup_creates_category_channels_forums_roles_and_overwrites(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        inter = await run_command(h.fake, h.guild, OWNER_ID, "setup")
        await h.fake.wait_for(lambda: inter.answered, timeout=15)
        assert inter.ephemeral
        assert "Setup finished." in answer_text(inter)
        assert "#announcements" in answer_text(inter)

        section = channel_named(h, "Alumni group")
        assert section["type"] == 4
        staff_role = h.fake.role_named(h.guild.id, "staff")
        assert staff_role is not None
        staff_id = int(staff_role["id"])
        for name in ("student", "alumni", "industry", "discussion"):
            assert h.fake.role_named(h.guild.id, name) is not None
        for name in ("welcome", "announcements", "introductions", "discussion", "staff-review"):
            ch = channel_named(h, name)
            assert ch["type"] == 0 and ch["parent_id"] == section["id"]
        for name in ("jobs", "studio-rentals", "events", "marketplace", "borrow-and-lend"):
            ch = channel_named(h, name)
            assert ch["type"] == 15, f"{name} should be a forum in a Community server"
            assert ch["parent_id"] == section["id"]

        announcements = channel_named(h, "announcements")
        assert overwrite(announcements, h.guild.id)[1] & SEND  # @everyone cannot post
        assert not overwrite(announcements, h.guild.id)[1] & VIEW  # ...but can read
        assert overwrite(announcements, staff_id)[0] & SEND  # staff can post
        review = channel_named(h, "staff-review")
        assert overwrite(review, h.guild.id)[1] & VIEW
        assert overwrite(review, staff_id)[0] & VIEW
        assert overwrite(review, h.fake.bot_id)[0] & VIEW  # the bot keeps seeing it
        topic = channel_named(h, "introductions")["topic"]
        assert topic

        # A second run creates nothing and reports everything as found.
        before = len(h.guild.channels), len(h.guild.roles)
        again = await run_command(h.fake, h.guild, STAFF_ID, "setup")
        await h.fake.wait_for(lambda: again.answered, timeout=15)
        assert (len(h.guild.channels), len(h.guild.roles)) == before
        assert "Created" not in answer_text(again) and "Already there" in answer_text(again)
        assert not h.fake.unknown_routes


async def test_listings_are_text_channels_without_community(engine: AsyncEngine) -> None:
    async with discord_harness(engine, community=False) as h:
        inter = await run_command(h.fake, h.guild, OWNER_ID, "setup")
        await h.fake.wait_for(lambda: inter.answered, timeout=15)
        assert channel_named(h, "jobs")["type"] == 0
        assert all(c["type"] != 15 for c in h.guild.channels.values())  # no forum at all


async def test_member_without_staff_gets_an_ephemeral_refusal(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        # Discord hides the staff `/alumni` from a member (default_member_permissions) ...
        with pytest.raises(PermissionError):
            await run_command(h.fake, h.guild, ALICE_ID, "categories add", {"name": "Law"})
        # ... but Discord's bit is not the bot's trust: Manage Server without the staff role on
        # record is still refused, by the bot, before anything changes.
        managers = h.fake.add_role(h.guild.id, "Managers", MANAGE_GUILD)
        h.guild.members[ALICE_ID]["roles"].append(managers["id"])
        inter = await run_command(
            h.fake, h.guild, ALICE_ID, "categories add", {"name": "Law", "listing": True}
        )
        assert inter.response_type == 4 and inter.ephemeral
        assert "Only staff can run `/alumni categories add`" in answer_text(inter)
        async with h.uow() as uow:
            assert await uow.categories.get(str(h.guild.id), "law") is None
        # The same command from staff works, with typed options (a boolean here).
        ok = await run_command(
            h.fake, h.guild, STAFF_ID, "categories add", {"name": "Law", "listing": True}
        )
        assert "law" in answer_text(ok).lower() and ok.ephemeral
        async with h.uow() as uow:
            law = await uow.categories.get(str(h.guild.id), "law")
        assert law is not None and law.listing


class IntroForm(Cog):
    """A form over a real setup flow: the modal adds a category."""

    name = "introform"

    @command("propose", permission=Permission.STAFF, help_key="setup.categories_add_help")
    async def propose(self, ctx: Context) -> None:
        """Open the form."""
        assert ctx.responder is not None
        await ctx.responder.open_form(
            FormSpec(
                "propose",
                "Propose a category",
                (FormField("name", "Name"), FormField("description", "About", long=True)),
                context="from-modal",
            )
        )

    @form("propose")
    async def submitted(self, ctx: Context, event: FormSubmitted) -> None:
        """Add the category through the setup cog's own command."""
        assert event.context == "from-modal"
        setup = self.bot.cog("setup")
        await setup.categories_add(  # type: ignore[attr-defined]
            ctx, name=event.values["name"], description=event.values["description"]
        )


async def test_modal_submission_reaches_the_form_handler(engine: AsyncEngine) -> None:
    async with discord_harness(engine, cogs=[IntroForm]) as h:
        opened = await run_command(h.fake, h.guild, STAFF_ID, "propose")
        assert opened.response_type == 9 and opened.modal is not None
        assert opened.modal["custom_id"] == "alumni-form:propose|from-modal"
        sid = await h.fake.submit_modal(
            h.guild.id,
            STAFF_ID,
            "alumni-form:propose|from-modal",
            {"name": "Studio Space", "description": "Rent a <@&1> @everyone corner"},
        )
        answer = await h.fake.wait_for_response(sid)
        await h.fake.wait_for(lambda: answer.messages)
        assert "studio-space" in answer_text(answer) and answer.ephemeral
        async with h.uow() as uow:
            added = await uow.categories.get(str(h.guild.id), "studio-space")
        assert added is not None and "@everyone" not in added.description


async def test_pending_member_triggers_nothing_until_screening_passes(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        rec = recorder(h.bot)
        client = client_of(h.bot)
        await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=True)
        guild = client.get_guild(h.guild.id)
        assert guild is not None
        await h.fake.wait_for(lambda: guild.get_member(BOB_ID) is not None)
        # A later event on the same connection proves the join event was already handled.
        mid = await h.fake.user_message(h.fake.text_channel_id(h.guild.id), ALICE_ID, "hi")
        await h.fake.wait_for(lambda: any(e.message.id == str(mid) for e in rec.of(MessagePosted)))
        assert rec.of(MemberJoined) == []
        async with h.uow() as uow:
            assert await uow.members.get(str(h.guild.id), str(BOB_ID)) is None

        await h.fake.member_passes_screening(h.guild.id, BOB_ID)
        await h.fake.wait_for(lambda: rec.of(MemberJoined))
        joined = rec.of(MemberJoined)
        assert [(e.user.id, e.event_key) for e in joined] == [(str(BOB_ID), str(BOB_ID))]
        async with h.uow() as uow:
            assert await uow.members.get(str(h.guild.id), str(BOB_ID)) is not None
        # Another update (the screening passed already) adds nothing.
        await h.fake.member_passes_screening(h.guild.id, BOB_ID)
        mid = await h.fake.user_message(h.fake.text_channel_id(h.guild.id), ALICE_ID, "again")
        await h.fake.wait_for(lambda: any(e.message.id == str(mid) for e in rec.of(MessagePosted)))
        assert len(rec.of(MemberJoined)) == 1


async def test_join_without_screening_and_leave(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        rec = recorder(h.bot)
        await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=False)
        await h.fake.wait_for(lambda: rec.of(MemberJoined))
        await h.fake.member_leave(h.guild.id, BOB_ID)
        await h.fake.wait_for(lambda: len(rec.events) >= 2)
        async with h.uow() as uow:
            member = await uow.members.get(str(h.guild.id), str(BOB_ID))
        assert member is not None and member.left_at is not None


async def test_dropped_gateway_resumes_and_loses_nothing(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        rec = recorder(h.bot)
        await h.fake.drop_connection(code=4000, hold=True)
        await h.fake.member_join(h.guild.id, BOB_ID, "bob", pending=False)
        general = h.fake.text_channel_id(h.guild.id)
        mid = await h.fake.user_message(general, ALICE_ID, "while you were away")
        h.fake.release_connection()
        await h.fake.wait_for(lambda: rec.of(MemberJoined) and rec.of(MessagePosted), timeout=10)
        assert h.fake.resume_count == 1 and h.fake.identify_count == 1
        assert [e.user.id for e in rec.of(MemberJoined)] == [str(BOB_ID)]
        assert [e.message.id for e in rec.of(MessagePosted)] == [str(mid)]


async def test_missing_manage_roles_is_named_to_the_staff_member(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        h.fake.set_bot_permissions(h.guild.id, manage_roles=False)
        client = client_of(h.bot)
        guild = client.get_guild(h.guild.id)
        assert guild is not None
        await h.fake.wait_for(lambda: not guild.me.guild_permissions.manage_roles)
        inter = await run_command(h.fake, h.guild, STAFF_ID, "setup")
        await h.fake.wait_for(lambda: inter.answered, timeout=10)
        text = answer_text(inter)
        assert 'missing the permission "Manage Roles"' in text and inter.ephemeral
        assert h.fake.role_named(h.guild.id, "student") is None
        # The Forbidden path (the cache does not know yet) names it too.
        ws = h.bot.workspace
        assert isinstance(ws, DiscordWorkspace)
        ws._need = lambda *a: None  # type: ignore[method-assign]
        with pytest.raises(PlatformError) as refused:
            await ws.create_role(str(h.guild.id), RoleSpec("x"))
        assert refused.value.missing_permission == "manage_roles"


async def test_role_above_the_bot_names_the_hierarchy(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        high = h.fake.add_role(h.guild.id, "staff-high", position=50)
        ws = h.bot.workspace
        assert isinstance(ws, DiscordWorkspace)
        client = client_of(h.bot)
        guild = client.get_guild(h.guild.id)
        assert guild is not None
        with pytest.raises(PlatformError) as refused:
            await ws.set_roles(str(h.guild.id), str(ALICE_ID), [high["id"]], [])
        assert refused.value.missing_permission == "role_hierarchy"
        assert refused.value.role  # named when the bot's cache knows the role, else "?"
        assert int(high["id"]) not in h.fake.member_role_ids(h.guild.id, ALICE_ID)


async def test_set_roles_is_one_request_per_member_and_keeps_other_roles(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine) as h:
        ws = h.bot.workspace
        assert isinstance(ws, DiscordWorkspace)
        gid = str(h.guild.id)
        a = await ws.create_role(gid, RoleSpec("student"))
        b = await ws.create_role(gid, RoleSpec("industry"))
        before = len(h.fake.requests_to("PATCH /guilds/{}/members/{}"))
        await ws.set_roles(gid, str(ALICE_ID), [a, b], [])
        await ws.set_roles(gid, str(ALICE_ID), [], [b])  # right after: no stale cache
        await ws.set_roles(gid, str(ALICE_ID), [a], [])  # nothing to do: no request
        assert len(h.fake.requests_to("PATCH /guilds/{}/members/{}")) == before + 2
        assert h.fake.member_role_ids(h.guild.id, ALICE_ID) == {int(a)}


async def test_message_in_a_thread_arrives_with_thread_id(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        rec = recorder(h.bot)
        ws = h.bot.workspace
        gid, general = str(h.guild.id), str(h.fake.text_channel_id(h.guild.id))
        question = await ws.send(gid, general, OutgoingMessage("What made you pick fashion?"))
        thread_id = await ws.open_thread(gid, question, "Week 34")
        assert h.fake.channel(int(thread_id))["parent_id"] == general
        await ws.send(gid, general, OutgoingMessage("Answer below"), thread_id=thread_id)
        assert h.fake.channel_messages(int(thread_id))[-1]["content"] == "Answer below"
        client = client_of(h.bot)
        await h.fake.wait_for(lambda: client.get_channel(int(thread_id)) is not None)
        mid = await h.fake.user_message(int(thread_id), ALICE_ID, "the colours")
        await h.fake.wait_for(lambda: rec.of(MessagePosted))
        posted = rec.of(MessagePosted)
        assert len(posted) == 1  # the bot's own messages are never events
        assert posted[0].thread_id == thread_id and posted[0].channel.id == general
        assert posted[0].message.id == str(mid) and posted[0].user.id == str(ALICE_ID)


class Votes(Cog):
    """A button handler that answers privately."""

    name = "votes"

    @button("vote")
    async def vote(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Thank the voter."""
        await ctx.reply(OutgoingMessage(f"counted {event.value}"))


async def test_send_renders_embed_pings_only_listed_and_buttons_survive_restart(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    image = tmp_path / "poster.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    async with discord_harness(engine, cogs=[Votes]) as h:
        ws = h.bot.workspace
        gid, general = str(h.guild.id), str(h.fake.text_channel_id(h.guild.id))
        role = h.fake.add_role(h.guild.id, "alumni")
        ref = await ws.send(
            gid,
            general,
            OutgoingMessage(
                "Join us @everyone <@&999>",
                title="Reunion",
                fields=(("When", "June 12"),),
                buttons=(Button("Yes", "vote", "yes"),),
                image_path=str(image),
                ping_roles=(role["id"],),
            ),
        )
        stored = h.fake.find_message(int(ref.id))
        assert stored["embeds"][0]["title"] == "Reunion"
        assert "June 12" in message_text(stored)
        assert stored["embeds"][0]["image"]["url"] == "attachment://poster.png"
        assert stored["attachments"][0]["filename"] == "poster.png"
        assert stored["content"] == f"<@&{role['id']}>"
        sent = [r for r in h.fake.requests if r.method == "POST" and r.path.endswith("/messages")]
        allowed = sent[-1].body["allowed_mentions"]
        assert allowed["parse"] == [] and [int(r) for r in allowed["roles"]] == [int(role["id"])]
        assert stored["components"][0]["components"][0]["custom_id"] == "alumni:vote|yes"

        poll_ref = await ws.send(
            gid, general, OutgoingMessage("Weekly question", poll=Poll("Best?", ("A", "B"), 24))
        )
        assert h.fake.find_message(int(poll_ref.id))["poll"]["question"]["text"] == "Best?"

        # A restart: a new client (same database) still handles the old message's button.
        await disconnect(client_of(h.bot))
        client = await connect(h.fake, h.uow, [Votes])
        try:
            # The format before `|` (action without colons) still routes.
            bid = await h.fake.press_button(h.guild.id, ALICE_ID, int(ref.id), "alumni:vote:yes")
            pressed = await h.fake.wait_for_response(bid)
            await h.fake.wait_for(lambda: pressed.messages)
            assert answer_text(pressed) == "counted yes" and pressed.ephemeral
            assert h.fake.command_syncs == 2  # the tree did not change: no second sync
        finally:
            await disconnect(client)


async def test_invite_dm_and_member_info(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        inter = await run_command(h.fake, h.guild, OWNER_ID, "setup")
        await h.fake.wait_for(lambda: inter.answered, timeout=15)
        ws = h.bot.workspace
        gid = str(h.guild.id)
        url = await ws.create_invite(gid, max_uses=30, max_age_seconds=7 * 86400)
        assert url is not None
        code = url.rsplit("/", 1)[-1]
        invite = h.guild.invites[code]
        assert invite["max_uses"] == 30
        assert int(invite["channel_id"]) == int(channel_named(h, "welcome")["id"])
        await ws.send_private(gid, "0", str(ALICE_ID), OutgoingMessage("Only for you"))
        assert h.fake.dms_to(ALICE_ID)[-1]["content"] == "Only for you"
        owner = await ws.member_info(gid, str(OWNER_ID))
        alice = await ws.member_info(gid, str(ALICE_ID))
        assert owner is not None and owner.is_admin
        assert alice is not None and not alice.is_admin
        assert await ws.member_info(gid, "999") is None


async def test_commands_sync_once_per_tree_hash(engine: AsyncEngine) -> None:
    async with discord_harness(engine) as h:
        # One bulk overwrite for the guild's `/alumni` (members') and one for the app's global
        # `/alumni` (staff's): both are typed `/alumni ...`.
        assert h.fake.command_syncs == 2
        synced = next(iter(h.guild.commands.values()))
        assert synced["name"] == "alumni" and synced.get("default_member_permissions") is None
        names = {o["name"] for o in synced["options"]}
        assert {"help", "join", "profile", "pairs"} <= names and "setup" not in names
        staff = next(iter(h.fake.global_commands.values()))
        assert staff["name"] == "alumni" and staff["default_member_permissions"] == str(
            MANAGE_GUILD
        )
        assert {"setup", "categories", "settings", "stats"} <= {o["name"] for o in staff["options"]}
        pairs = next(o for o in staff["options"] if o["name"] == "pairs")
        assert {o["name"] for o in pairs["options"]} == {"every", "stats"}
        async with h.uow() as uow:
            assert await uow.kv.get(str(h.guild.id), HASH_KEY)
        payload = staff_commands(h.bot.tree)
        categories = next(o for o in payload[0]["options"] if o["name"] == "categories")
        assert categories["type"] == 2
        settings = next(o for o in payload[0]["options"] if o["name"] == "settings")
        language = next(o for o in settings["options"] if o["name"] == "language")
        assert [c["value"] for c in language["choices"]] == ["en", "nb"]
        assert synced["options"] == application_commands(h.bot.tree)[0]["options"]
        # A restart with the same tree uploads nothing.
        await disconnect(client_of(h.bot))
        client = await connect(h.fake, h.uow)
        try:
            assert h.fake.command_syncs == 2
        finally:
            await disconnect(client)


async def test_bad_token_gives_one_line_and_exit_1(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_fake_discord() as fake:
        settings = Settings(
            discord_token="wrong-token",  # type: ignore[arg-type]
            discord_api_url=fake.base_url,
            discord_gateway_url=fake.gateway_url,
        )
        code = await asyncio.wait_for(run_discord(settings, UnitOfWorkFactory(engine)), 10)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "DISCORD_TOKEN" in err[0]


async def test_invite_url_and_forced_sync(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_fake_discord() as fake:
        guild = fake.add_guild("Alumni", owner_id=OWNER_ID)
        settings = Settings(
            discord_token=fake.token,  # type: ignore[arg-type]
            discord_api_url=fake.base_url,
            discord_gateway_url=fake.gateway_url,
        )
        assert await invite_url(settings) == 0
        url = capsys.readouterr().out.strip()
        assert url.startswith("https://discord.com/oauth2/authorize?client_id=")
        assert f"client_id={fake.application_id}" in url and "applications.commands" in url
        perms = discord.Permissions(int(url.split("permissions=")[1].split("&")[0]))
        assert perms.manage_roles and perms.manage_channels and not perms.administrator
        uow = UnitOfWorkFactory(engine)
        for _ in range(2):  # forced: syncs even though the hash is stored the second time
            assert await asyncio.wait_for(run_discord(settings, uow, sync_only=True), 10) == 0
        # Each run: the global staff `/alumni` and the guild's.
        assert fake.command_syncs == 4 and "alumni" in {c["name"] for c in guild.commands.values()}
        assert "synced /alumni to 1 of 1 servers" in capsys.readouterr().out


async def test_unreachable_discord_is_one_line_and_exit_1(
    engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    settings = Settings(
        discord_token="token-that-never-leaves",
        discord_api_url="http://127.0.0.1:1/api/v10",
        discord_gateway_url="ws://127.0.0.1:1/",
    )
    try:
        assert await run_discord(settings, UnitOfWorkFactory(engine)) == 1
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
    err = capsys.readouterr().err
    assert err.startswith("alumnibot: cannot reach Discord at http://127.0.0.1:1/api/v10")
    assert "token-that-never-leaves" not in err and "Traceback" not in err


async def test_database_down_tells_the_member_and_nothing_is_lost(engine: AsyncEngine) -> None:
    from storage.database import create_engine

    down = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with discord_harness(engine) as h:
        working = h.bot.uow
        h.bot.uow = UnitOfWorkFactory(down)
        try:
            inter = await run_command(h.fake, h.guild, STAFF_ID, "categories list")
            await h.fake.wait_for(lambda: inter.response_type is not None)
        finally:
            h.bot.uow = working
            await down.dispose()
        assert "can't reach my database right now, so nothing was changed" in answer_text(inter)
        assert inter.ephemeral
        inter = await run_command(h.fake, h.guild, STAFF_ID, "categories list")
        await h.fake.wait_for(lambda: inter.response_type is not None)
        assert "Categories:" in answer_text(inter)


class Untitled(Cog):
    """A command someone added without its picker text."""

    name = "untitled"

    @command("untitled", permission=Permission.MEMBER, help_key="setup.help_help")
    async def untitled(self, ctx: Context) -> None:
        """Never synced."""


async def test_a_command_without_its_text_is_not_synced_and_the_bot_still_starts(
    engine: AsyncEngine,
) -> None:
    async with discord_harness(engine, cogs=[Untitled]) as h:
        # Discord keeps what it had (nothing here); the staff commands still went up.
        assert h.guild.commands == {} and h.fake.global_commands
        answer = await run_command(h.fake, h.guild, STAFF_ID, "setup")
        assert answer.response_type in (4, 5)
