"""An export holds the member's own data only, and its file never lingers where others read.

Attacks: Vilde invites Kari on her friend code, grants her a role as staff and writes in the
same week as Kari; her export must not carry Kari's id, name or email (the member row, the
role row, the stats rollup that lists who wrote). The file itself must sit in the bot's data
folder, readable by the bot's user only, and be gone once delivered.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.local.workspace import GROUP_ID
from bot.domain import Language
from bot.errors import PlatformError
from bot.messages import OutgoingMessage
from tests.conftest import LocalGroup, make_group

VILDE_EMAIL = "Vilde.Berg@example.com"


def exported(group: LocalGroup, user: str = "vilde") -> dict[str, Any]:
    """The export document the member received by DM (the platform's copy of the file)."""
    dm = next(m for m in reversed(group.ws.state["dms"][user]) if m.get("file"))
    return dict(json.loads(dm["file_content"]))


def on_disk(path: Path) -> dict[str, Any]:
    """Where a file is, its mode and its folder's mode (None when it is gone)."""
    if not path.exists():
        return {"exists": False}
    return {
        "exists": True,
        "folder": path.resolve().parent,
        "mode": path.stat().st_mode & 0o777,
        "folder_mode": path.parent.stat().st_mode & 0o777,
        "siblings": sorted(p.name for p in path.parent.iterdir()),
    }


async def friend_and_staff(group: LocalGroup) -> None:
    """Kari joins on Vilde's friend code; Vilde, as staff, grants her a role; both write."""
    await group.run(
        "/alumni setup",
        f"!join vilde {VILDE_EMAIL}",
        "!as vilde",
        "/alumni invite friend",
    )
    found = re.search(r"`([A-Z0-9]{6,})`", "\n".join(group.lines[-8:]))
    assert found, group.lines[-8:]
    await group.run(
        "!join kari kari@example.com",
        "!as kari",
        f"/alumni join code:{found.group(1)}",
        "!in #discussion",
        "hello from kari",
        "!as owner",
        "/alumni role grant member:vilde role:staff",
        "!as vilde",
        "!in #discussion",
        "hello from vilde",
        "/alumni role grant member:kari role:alumni",
        # A week later staff look at the numbers: the finished week is rolled up, with the ids
        # of everyone who wrote in it.
        "!clock +8d",
        "!as owner",
        "/alumni stats",
    )
    async with group.uow() as uow:
        kari = await uow.members.get(GROUP_ID, "kari")
    assert kari is not None and kari.invited_by == "vilde" and "alumni" in kari.roles


async def test_export_names_nobody_else(group: LocalGroup) -> None:
    await friend_and_staff(group)
    await group.run("!as vilde", "/alumni privacy export")
    doc = exported(group)
    raw = json.dumps(doc, ensure_ascii=False).lower()
    assert "kari" not in raw, [line for line in raw.split("{") if "kari" in line][:5]
    tables = doc["tables"]
    own = [r for r in tables["members"] if r["user_id"] == "vilde"]
    assert own and own[0]["email"] == VILDE_EMAIL
    # Kari's member row shows only that Vilde invited someone: the person is "another member".
    (invited,) = [r for r in tables["members"] if r["user_id"] != "vilde"]
    assert invited["invited_by"] == "vilde"
    assert invited["user_id"] == invited["name"] == invited["email"] == "another member"
    granted = [r for r in tables["member_roles"] if r["granted_by"] == "vilde"]
    assert granted and {r["user_id"] for r in granted} == {"another member"}
    rollups = [r for r in tables.get("kv", []) if r["key"].startswith("activity.week")]
    assert rollups and all("another member" in r["value"] for r in rollups)
    assert all("vilde" in r["value"] for r in rollups)


async def test_export_in_norwegian_says_another_member(engine: AsyncEngine) -> None:
    nb = make_group(engine, Language.NB)
    await friend_and_staff(nb)
    await nb.run("/alumni settings language:nb", "!as vilde", "/alumni privacy export")
    doc = exported(nb)
    assert "kari" not in json.dumps(doc).lower()
    (invited,) = [r for r in doc["tables"]["members"] if r["user_id"] != "vilde"]
    assert invited["email"] == "et annet medlem"


async def test_export_file_is_private_in_the_data_folder_and_gone_once_delivered(
    group: LocalGroup,
) -> None:
    await group.run("/alumni setup", f"!join vilde {VILDE_EMAIL}")
    seen: dict[str, Any] = {}
    deliver = group.ws.send_dm

    async def spy(group_id: str, user_id: str, message: OutgoingMessage) -> Any:
        if message.file_path:
            seen.update(path=Path(message.file_path), **on_disk(Path(message.file_path)))
        return await deliver(group_id, user_id, message)

    group.ws.send_dm = spy  # type: ignore[method-assign]
    out = await group.run("!as vilde", "/alumni privacy export")
    assert "I sent you a file" in out
    data_dir = group.bot.config.data_dir.resolve()
    assert seen["folder"] == data_dir / "exports"
    assert not seen["folder"].is_relative_to(Path(tempfile.gettempdir()) / "alumnibot-exports")
    assert seen["mode"] == 0o600 and seen["folder_mode"] == 0o700
    # Delivered: the bot's copy is gone; the member has theirs in the DM.
    assert on_disk(seen["path"]) == {"exists": False}
    assert exported(group)["user_id"] == "vilde"


async def test_export_file_is_deleted_when_the_dm_is_refused(group: LocalGroup) -> None:
    await group.run("/alumni setup", f"!join vilde {VILDE_EMAIL}")

    written: list[Path] = []

    async def closed_dms(group_id: str, user_id: str, message: OutgoingMessage) -> Any:
        assert message.file_path and on_disk(Path(message.file_path))["exists"]
        written.append(Path(message.file_path))
        raise PlatformError("direct message: the member does not accept direct messages (50007)")

    group.ws.send_dm = closed_dms  # type: ignore[method-assign]
    out = await group.run("!as vilde", "/alumni privacy export")
    assert "The platform refused" in out
    assert written and on_disk(written[0]) == {"exists": False}


async def test_export_and_erasure_on_postgres(pg_url: str) -> None:
    """The same on PostgreSQL, with slack_sdk's tables in the database as with OAuth."""
    from slack_sdk.oauth.installation_store import Installation
    from sqlalchemy import text

    from adapters.slack.oauth import InstallationStore
    from storage.database import create_engine, upgrade

    engine = create_engine(pg_url)
    await upgrade(engine)
    try:
        store = InstallationStore("client-1", engine)
        await store.create_tables()  # type: ignore[no-untyped-call]
        await store.async_save(
            Installation(app_id="A1", team_id=GROUP_ID, user_id="vilde", bot_token="xoxb-1")
        )
        group = make_group(engine)
        await friend_and_staff(group)
        await group.run("!as vilde", "/alumni privacy export")
        doc = exported(group)
        assert "kari" not in json.dumps(doc).lower() and "xoxb" not in json.dumps(doc)
        assert doc["tables"]["slack_installations"][0]["user_id"] == "vilde"
        await group.run("/alumni privacy delete", "!press erase my data")
        async with engine.connect() as conn:
            users = [
                r[0] for r in await conn.execute(text("SELECT user_id FROM slack_installations"))
            ]
            rollups = [
                r[0]
                for r in await conn.execute(
                    text("SELECT value FROM kv WHERE key LIKE 'activity.week%'")
                )
            ]
        assert users == ["[erased]"]
        assert not any("vilde" in v for v in rollups)
        async with group.uow() as uow:
            assert await uow.members.get(GROUP_ID, "vilde") is None
            kari = await uow.members.get(GROUP_ID, "kari")
        assert kari is not None and kari.invited_by is None
    finally:
        await engine.dispose()
