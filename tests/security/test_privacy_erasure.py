"""Erasure reaches everything the bot put anywhere: roles on the platform, its own messages
that name the member, mentions in stored text, Slack's installation tables, files on disk;
and it says, in the member's language, what it cannot reach."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.workspace import GROUP_ID
from adapters.slack.oauth import InstallationStore
from bot.domain import Language
from bot.errors import PlatformError
from storage.models import Base, PostRow
from tests.conftest import LocalGroup, make_group
from tests.discord_harness import (
    ALICE_ID,
    OWNER_ID,
    MovableClock,
    answer_text,
    discord_harness,
    message_text,
    run_command,
)
from tests.test_discord_features import (
    buttons_of,
    channel_named,
    command,
    role_id,
    setup_group,
    submit,
)

ERASE = ("/alumni privacy delete", "!press erase my data")


def bot_messages(group: LocalGroup) -> list[dict[str, Any]]:
    """Everything the bot shows in channels and threads of the local workspace."""
    state = group.ws.state
    found = [m for ch in state["channels"].values() for m in ch["messages"]]
    found += [m for th in state["threads"].values() for m in th["messages"]]
    return [m for m in found if m["author"] == "alumnibot"]


def shown(message: dict[str, Any]) -> str:
    """What a person reads in a local message, pings included."""
    return json.dumps(
        [message["text"], message["title"], message["fields"], message["ping_users"]],
        ensure_ascii=False,
    )


async def raw_rows_naming(group: LocalGroup, needle: str) -> list[str]:
    """Every stored value that contains `needle` (plain substring, any case), in any table."""
    found = []
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    as_text = json.dumps(value, default=str, ensure_ascii=False)
                    if needle in as_text.lower():
                        found.append(f"{table.name}.{column}={value!r}")
    return found


async def everything_vilde_does(group: LocalGroup) -> None:
    """Vilde posts a job, introduces herself, posts an update, suggests a question that is
    posted with her name, and as staff approves Kari's request; she holds staff and the
    discussion role."""
    await group.run(
        "/alumni setup",
        "!join vilde vilde@example.com",
        "!join kari kari@example.com",
        "/alumni role grant member:vilde role:staff",
        "!as vilde",
        "/alumni prompt join",
        "/alumni post job",
        '!form title="Pattern cutter" employer="Studio Nord" place=Oslo deadline=2026-09-30',
        "!press Introduce yourself",
        '!form name="Vilde Berg" programme="FP 2026" work="Knitwear" looking="A studio"',
        "/alumni update text:Internship at Norrona",
        '/alumni prompt suggest text:"What do you weave?"',
        "!as owner",
        "!press Accept",
        "/alumni prompt now",
        "!as kari",
        "!press I am a student",
        "!form cohort=FP",
        "!as vilde",
        "!press Approve",
    )
    assert set(group.ws.role_names("vilde")) == {"staff", "discussion"}
    named = [m for m in bot_messages(group) if "vilde" in shown(m).lower()]
    assert len(named) == 5, [shown(m) for m in named]


async def test_erased_staff_member_loses_their_roles_on_the_platform(group: LocalGroup) -> None:
    await everything_vilde_does(group)
    done = await group.run(*ERASE)
    assert "Done: your data is erased" in done
    assert group.ws.role_names("vilde") == []
    assert "I took these roles off you on the platform: staff and discussion" in done
    # Back as a plain member: staff commands are refused.
    assert "Only staff" in await group.run("/alumni cohort list")


async def test_roles_the_platform_keeps_are_named_and_staff_told(group: LocalGroup) -> None:
    await everything_vilde_does(group)
    refuse = PlatformError("missing Manage Roles", missing_permission="manage_roles")

    async def refused(*args: Any, **kwargs: Any) -> None:
        raise refuse

    group.ws.set_roles = refused  # type: ignore[method-assign]
    done = await group.run(*ERASE)
    assert "Done: your data is erased" in done
    assert "I could not take these roles off you on the platform: staff and discussion" in done
    review = group.messages("staff-review")[-1]
    assert "remove them by hand" in str(review["text"]) and "staff" in str(review["text"])


async def test_the_bots_own_messages_no_longer_name_them(group: LocalGroup) -> None:
    await everything_vilde_does(group)
    before = len(bot_messages(group))
    done = await group.run(*ERASE)
    left = [shown(m) for m in bot_messages(group) if "vilde" in shown(m).lower()]
    assert left == []
    assert len(bot_messages(group)) >= before  # edited in place, nothing lost for others
    (card,) = [m for m in group.messages("jobs") if m["title"] == "Job: Pattern cutter"]
    assert "Posted by another member" in str(card["text"])
    (question,) = [m for m in group.messages("discussion") if m["title"]]
    assert "What do you weave?" in str(question["text"])  # the question stays, uncredited
    assert "I edited 5 messages of mine that named you" in done, done


async def test_mentions_of_them_in_others_stored_text_are_erased(group: LocalGroup) -> None:
    await group.run(
        "/alumni setup",
        "!join vilde vilde@example.com",
        "!join kari kari@example.com",
        "!as kari",
        '/alumni prompt suggest text:"What would <@vilde> say about <@!vilde>?"',
        "/alumni post sale",
        '!form what="Loom" price=500 details="Ask <@vilde> or <@vilde|Vilde> first"',
    )
    assert await raw_rows_naming(group, "vilde") != []
    await group.run("!as vilde", *ERASE)
    assert await raw_rows_naming(group, "vilde") == []
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        (sale,) = list(await s.scalars(select(PostRow)))
    assert sale.author_id == "kari" and sale.fields["what"] == "Loom"
    assert sale.fields["details"].startswith("Ask ") and sale.fields["details"].endswith("first")


async def test_slack_installer_id_leaves_the_installation_tables(
    engine: AsyncEngine, group: LocalGroup
) -> None:
    store = InstallationStore("client-1", engine)
    await store.create_tables()  # type: ignore[no-untyped-call]
    await store.async_save(
        Installation(
            app_id="A1",
            team_id=GROUP_ID,
            team_name="Fashion",
            user_id="vilde",
            bot_token="xoxb-secret-token",
            bot_id="B1",
            bot_user_id="UBOT",
            bot_scopes="chat:write",
        )
    )
    await group.run("/alumni setup", "!join vilde vilde@example.com", "!as vilde")
    await group.run("/alumni privacy export")
    dm = next(m for m in reversed(group.ws.state["dms"]["vilde"]) if m.get("file"))
    doc = json.loads(dm["file_content"])
    (installed,) = doc["tables"]["slack_installations"]
    assert installed["user_id"] == "vilde" and "xoxb" not in json.dumps(doc)

    await group.run(*ERASE)
    async with engine.connect() as conn:
        users = [r[0] for r in await conn.execute(text("SELECT user_id FROM slack_installations"))]
    assert users and "vilde" not in users
    # The workspace keeps working: its token is still found.
    bot = await store.async_find_bot(enterprise_id=None, team_id=GROUP_ID)
    assert bot is not None and bot.bot_token == "xoxb-secret-token"
    assert await store.async_find_installation(enterprise_id=None, team_id=GROUP_ID) is not None


async def test_export_files_left_on_disk_are_erased(group: LocalGroup) -> None:
    await group.run("/alumni setup", "!join vilde vilde@example.com", "!join kari")
    exports = group.bot.config.data_dir / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    # Left behind by a crash between writing and delivering.
    mine = exports / "alumnibot-data-vilde-20260817T070000.json"
    theirs = exports / "alumnibot-data-kari-20260817T070000.json"
    for path, user in ((mine, "vilde"), (theirs, "kari")):
        path.write_text(json.dumps({"group": GROUP_ID, "user_id": user}), encoding="utf-8")
    await group.run("!as vilde", *ERASE)
    assert sorted(p.name for p in exports.iterdir()) == [theirs.name]


async def test_what_erasure_cannot_reach_is_said_in_norwegian(engine: AsyncEngine) -> None:
    nb = make_group(engine, Language.NB)
    await nb.run("/alumni setup", "!join vilde", "/alumni role grant member:vilde role:staff")
    done = await nb.run("!as vilde", "/alumni privacy delete", "!press slett dataene mine")
    assert "Ferdig: dataene dine er slettet" in done
    assert "Jeg tok disse rollene fra deg på plattformen: ansatt" in done
    assert "Dette kommer jeg ikke til" in done and "direktemeldinger" in done


async def test_discord_erasure_takes_staff_off_and_edits_the_card(engine: AsyncEngine) -> None:
    async with discord_harness(engine, clock=MovableClock()) as h:
        await setup_group(h)
        staff = role_id(h, "staff")
        granted = await command(h, OWNER_ID, "role grant", {"member": ALICE_ID, "role": "staff"})
        assert "now has the role staff" in answer_text(granted)
        assert staff in h.fake.member_role_ids(h.guild.id, ALICE_ID)
        opened = await run_command(h.fake, h.guild, ALICE_ID, "post job")
        await submit(
            h,
            ALICE_ID,
            opened,
            {"title": "Cutter", "employer": "Nord", "place": "Oslo", "deadline": "2026-09-30"},
        )
        jobs = channel_named(h, "jobs")
        (post,) = [t for t in h.guild.threads.values() if t["parent_id"] == jobs["id"]]
        card = h.fake.channel_messages(int(post["id"]))[0]
        assert "Posted by alice" in message_text(card)

        asked = await command(h, ALICE_ID, "privacy delete")
        (confirm,) = [m for m in asked.messages if buttons_of(m)]
        # The confirmation is ephemeral, which the fake does not store: press it directly.
        data = {"custom_id": buttons_of(confirm)["Erase my data"], "component_type": 2}
        pressed = h.fake._new_interaction(
            3, h.guild.id, ALICE_ID, int(asked.channel_id), data, message=confirm
        )
        await h.fake.dispatch("INTERACTION_CREATE", pressed.payload)
        done = await h.fake.wait_for_response(pressed.id, timeout=10)
        await h.fake.wait_for(lambda: "erased" in answer_text(done), timeout=15)
        assert staff not in h.fake.member_role_ids(h.guild.id, ALICE_ID)
        assert "Posted by another member" in message_text(h.fake.find_message(int(card["id"])))
        assert "alice" not in message_text(h.fake.find_message(int(card["id"])))


async def test_pair_introductions_and_event_reminders_no_longer_name_them(
    group: LocalGroup,
) -> None:
    await group.run(
        "/alumni setup",
        "!join vilde vilde@example.com",
        "!join kari kari@example.com",
        "!as vilde",
        "/alumni profile",
        '!form headline="Weaver"',
        "/alumni pairs join",
        "/alumni post event",
        '!form title="Graduate show" when="2026-08-18 18:00" place="Kunsthall"',
        "!as kari",
        "/alumni pairs join",
        "!clock +1h",  # Monday 10:00: the pairs round, and tomorrow's event is reminded
    )
    [to_kari] = [m for m in group.ws.state["dms"]["kari"] if "**vilde**" in str(m["text"])]
    assert "Weaver" in str(to_kari["text"])
    [reminder] = [m for m in group.messages("events") if "A reminder" in str(m["text"])]
    assert "Posted by vilde" in str(reminder["text"])

    await group.run("!as vilde", *ERASE)
    [to_kari] = [m for m in group.ws.state["dms"]["kari"] if m["id"] == to_kari["id"]]
    assert "vilde" not in shown(to_kari).lower() and "Weaver" not in shown(to_kari)
    assert "asked for their data to be erased" in str(to_kari["text"])
    [reminder] = [m for m in group.messages("events") if "A reminder" in str(m["text"])]
    assert "Posted by another member" in str(reminder["text"])


async def test_slack_erasure_takes_the_staff_channels_away(engine: AsyncEngine) -> None:
    """On Slack a role is private channels (and user groups): erasure leaves them all."""
    from tests.slack_harness import slack_harness
    from tests.test_slack_features import join as slack_join

    async with slack_harness(engine) as h:
        await h.command(h.admin, "setup")
        teacher = await slack_join(h, "teacher", "teacher@oslomet.no")
        await h.command(h.admin, f"role grant member:{teacher} role:staff")
        review = h.fake.channel_by_name("alumni-staff-review")
        staff = h.fake.channel_by_name("alumni-role-staff")
        assert teacher in review.members and teacher in staff.members
        await h.command(teacher, "privacy delete")
        d = await h.driver.block_action(
            teacher, "alumni:privacy-erase", teacher, channel_id=h.fake.general_id
        )
        await h.settle()
        answer = "\n".join(r.get("text", "") for r in h.fake.responses(d.response_url or ""))
        assert "Done: your data is erased" in answer, answer
        assert teacher not in review.members and teacher not in staff.members
        assert "I took these roles off you on the platform: staff" in answer
