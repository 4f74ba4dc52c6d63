"""Members' own data: export by DM, and an erasure that leaves nothing naming them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.terminal import LocalResponder
from adapters.local.workspace import GROUP_ID
from bot.domain import Language
from bot.events import ButtonPressed, UserRef
from storage.models import (
    ActivityRow,
    Base,
    CodeAttemptRow,
    CohortRow,
    GrantQueueRow,
    InvitationRow,
    InvitationUseRow,
    KeyValueRow,
    PostRow,
    ProcessedEventRow,
    PromptRow,
    RoleRequestRow,
    RosterEntryRow,
)
from storage.repositories.privacy import Needles, uncovered_tables
from tests.conftest import START, LocalGroup, make_group

USER, EMAIL = "vilde", "Vilde.Berg@example.com"


async def _seed(group: LocalGroup) -> None:
    """Vilde (and Kari) leave traces in every table the features of the bot write."""
    await group.run(
        "/alumni setup",
        f"!join {USER} {EMAIL}",
        "!join kari kari@example.com",
        f"!as {USER}",
        "/alumni profile",
        '!form headline="Textile student" skills="weaving" link=https://vilde.example.com',
        "/alumni update text:Internship at Norrøna!",
        "/alumni pairs join",
        "!as kari",
        "/alumni profile",
        '!form headline="Knitwear designer"',
        "/alumni pairs join",
        "!clock +1h",
    )
    async with group.uow() as uow:
        await uow.roles.grant(GROUP_ID, USER, "student", "invitation", "kari", START)
        await uow.roles.grant(GROUP_ID, "kari", "alumni", "staff", USER, START)
        s = uow.session  # type: ignore[attr-defined]
        cohort = CohortRow(
            group_id=GROUP_ID,
            program="FP",
            year=2024,
            name="FP 2024",
            created_by=USER,
            created_at=START,
        )
        s.add(cohort)
        await s.flush()
        mine = InvitationRow(
            group_id=GROUP_ID,
            code="FRIEND-1",
            kind="personal",
            role_key="industry",
            max_uses=1,
            created_by=USER,
            created_at=START,
        )
        theirs = InvitationRow(
            group_id=GROUP_ID,
            code="COHORT-1",
            kind="cohort",
            cohort_id=cohort.id,
            role_key="student",
            max_uses=40,
            created_by="kari",
            created_at=START,
        )
        s.add_all([mine, theirs])
        await s.flush()
        s.add_all(
            [
                InvitationUseRow(
                    invitation_id=theirs.id, group_id=GROUP_ID, user_id=USER, used_at=START
                ),
                RosterEntryRow(
                    group_id=GROUP_ID, cohort_id=cohort.id, email=EMAIL.lower(), name="Vilde Berg"
                ),
                RosterEntryRow(
                    group_id=GROUP_ID,
                    cohort_id=cohort.id,
                    email="kari@example.com",
                    matched_user_id="kari",
                ),
                RoleRequestRow(
                    group_id=GROUP_ID, user_id=USER, role_key="alumni", created_at=START
                ),
                RoleRequestRow(
                    group_id=GROUP_ID,
                    user_id="kari",
                    role_key="alumni",
                    decided_by=USER,
                    created_at=START,
                ),
                CodeAttemptRow(group_id=GROUP_ID, user_id=USER, ok=False, at=START),
                GrantQueueRow(
                    group_id=GROUP_ID,
                    batch="b1",
                    user_id=USER,
                    add_roles={"roles": ["student"]},
                    created_at=START,
                ),
                PromptRow(
                    group_id=GROUP_ID,
                    theme="craft",
                    text="What do you weave?",
                    status="suggested",
                    suggested_by=USER,
                    created_at=START,
                ),
                PostRow(
                    group_id=GROUP_ID,
                    kind="marketplace",
                    author_id=USER,
                    author_name="Vilde",
                    fields={"title": "Loom for sale", "contact": EMAIL},
                    created_at=START,
                ),
                PostRow(
                    group_id=GROUP_ID,
                    kind="jobs",
                    author_id="kari",
                    fields={"title": "Intern wanted"},
                    created_at=START,
                ),
                *[
                    ActivityRow(
                        group_id=GROUP_ID,
                        user_id=u,
                        author_role="student",
                        channel_id="C1",
                        is_reply=False,
                        created_at=START + timedelta(minutes=i),
                    )
                    for i, u in enumerate([USER, USER, "kari"])
                ],
                ProcessedEventRow(group_id=GROUP_ID, key=f"join:{USER}:J9", at=START),
                KeyValueRow(group_id=GROUP_ID, key=f"welcomed:{USER}", value="1"),
            ]
        )


def _names_vilde(value: Any) -> bool:
    needles = Needles(USER, EMAIL)
    if isinstance(value, str | dict | list):
        return needles.in_value(value)
    return False


async def _walk(group: LocalGroup) -> list[str]:
    """Every (table, column) in the whole schema whose value still names Vilde."""
    found: list[str] = []
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    if _names_vilde(value):
                        found.append(f"{table.name}.{column}={value!r}")
    return found


async def _press(group: LocalGroup, user: str, action: str, value: str) -> str:
    start = len(group.lines)
    await group.bot.handle(
        ButtonPressed(
            GROUP_ID,
            UserRef(user, user),
            action,
            value,
            responder=LocalResponder(group.ws, user, None),
        )
    )
    return "\n".join(group.lines[start:])


def test_every_table_has_a_privacy_rule() -> None:
    assert uncovered_tables() == []


async def test_export_sends_a_file_with_everything_and_nothing_of_others(group: LocalGroup) -> None:
    await _seed(group)
    out = await group.run(f"!as {USER}", "/alumni privacy export")
    assert "I sent you a file with your data by direct message" in out
    dm = group.ws.state["dms"][USER][-1]
    assert dm["file"] and "Here is everything I store about you" in dm["text"]
    data = json.loads(dm["file_content"])
    tables = data["tables"]
    for name in (
        "members",
        "member_roles",
        "profiles",
        "invitations",
        "invitation_uses",
        "roster_entries",
        "role_requests",
        "code_attempts",
        "grant_queue",
        "prompts",
        "posts",
        "activity",
        "pair_opt_ins",
        "pairs",
        "processed_events",
        "kv",
        "cohorts",
    ):
        assert name in tables, name
    assert tables["members"][0]["email"] == EMAIL
    assert tables["profiles"][0]["fields"]["headline"] == "Textile student"
    assert len(tables["activity"]) == 2
    assert [p["fields"]["title"] for p in tables["posts"]] == ["Loom for sale"]
    # Kari's own rows (her profile, her post, her activity) are not in Vilde's file.
    assert "Knitwear designer" not in json.dumps(tables)
    assert "Intern wanted" not in json.dumps(tables)
    # Nobody else got the file.
    assert not any(m.get("file") for m in group.ws.state["dms"].get("kari", []))


async def test_delete_needs_confirmation_and_erases_everything(group: LocalGroup) -> None:
    await _seed(group)
    ask = await group.run(f"!as {USER}", "/alumni privacy delete")
    assert "Erase it all?" in ask and "[buttons: Erase my data | Cancel]" in ask
    assert "Nothing was deleted" in await group.run("!press cancel")
    assert await _walk(group) != []
    # Kari can't confirm for Vilde.
    assert "Only the member who asked" in await _press(group, "kari", "privacy-erase", USER)
    assert await _walk(group) != []
    await group.run("/alumni privacy delete")
    done = await group.run("!press erase my data")
    assert "Done: your data is erased" in done and "profile (1)" in done
    assert await _walk(group) == []
    async with group.uow() as uow:
        s = uow.session  # type: ignore[attr-defined]
        activity = list(await s.scalars(select(ActivityRow.user_id).order_by(ActivityRow.id)))
        invitations = {r.code: r for r in await s.scalars(select(InvitationRow))}
        posts = list(await s.scalars(select(PostRow).order_by(PostRow.id)))
        assert await uow.profiles.get(GROUP_ID, "kari") is not None
        kari = await uow.members.get(GROUP_ID, "kari")
    # The counts stay, anonymised; Kari's row and everything of hers is untouched.
    assert activity == [None, None, "kari"]
    assert invitations["FRIEND-1"].revoked and not invitations["COHORT-1"].revoked
    assert posts[0].fields == {"title": "Loom for sale", "contact": "[erased]"}
    assert posts[0].author_name == "[erased]"
    assert posts[1].author_id == "kari"
    assert kari is not None and kari.roles == frozenset({"alumni"})
    # Vilde's profile is gone for everyone.
    gone = await group.run("!as kari", "/alumni profile show member:vilde")
    assert 'I don\'t know a member called "vilde"' in gone
    assert "Nobody matches" in await group.run("/alumni find weaving")
    # Idempotent: again, nothing left and nothing broken.
    out = await group.run(f"!as {USER}", "/alumni privacy delete", "!press erase my data")
    assert "There is nothing about you left to erase" in out
    assert await _walk(group) == []


async def test_erasure_is_complete_on_postgres(pg_url: str) -> None:
    from storage.database import create_engine, upgrade

    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        group = make_group(engine)
        await _seed(group)
        await group.run(f"!as {USER}", "/alumni privacy delete", "!press erase my data")
        assert await _walk(group) == []
    finally:
        await engine.dispose()


async def test_norwegian_privacy_messages(engine: AsyncEngine) -> None:
    nb = make_group(engine, Language.NB)
    await nb.run("/alumni setup", "!join vilde", "!as vilde")
    assert "Vil du slette alt?" in await nb.run("/alumni privacy delete")
    assert "Ferdig: dataene dine er slettet" in await nb.run("!press slett dataene mine")
    out = await nb.run("/alumni privacy delete", "!press slett dataene mine")
    assert "Det er ikke noe mer om deg å slette" in out
