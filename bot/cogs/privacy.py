"""Members' control of their own data: an export of everything stored, and erasure on request."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.cog import Cog, button, command
from bot.core import Context
from bot.domain import Permission
from bot.errors import UserError
from bot.events import ButtonPressed
from bot.i18n import catalogue
from bot.messages import Button, ButtonStyle, OutgoingMessage
from bot.safety import slug

log = logging.getLogger(__name__)

# Export files are personal data too: they live in a private folder and are swept after a day.
EXPORT_DIR = Path(tempfile.gettempdir()) / "alumnibot-exports"
EXPORT_MAX_AGE_SECONDS = 24 * 3600


def _write_export(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = time.time()
    for old in path.parent.glob("*.json"):
        try:
            if now - old.stat().st_mtime > EXPORT_MAX_AGE_SECONDS:
                old.unlink()
        except OSError:
            log.warning("could not sweep old export %s", old)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=1, default=str)


def _table(ctx: Context, name: str) -> str:
    """A table's name as members read it (a table added later shows its own name)."""
    return catalogue(ctx.lang).get(f"privacy.table.{name}", name)


class PrivacyCog(Cog):
    """`/alumni privacy export` and `/alumni privacy delete`."""

    name = "privacy"

    @command("privacy export", permission=Permission.MEMBER, help_key="privacy.export_help")
    async def export(self, ctx: Context) -> None:
        """Send the member, by DM, a JSON file of every row that names them."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            tables = await uow.privacy.export(ctx.group.id, ctx.user.id)
        document = {
            "about": ctx.t("privacy.file_about"),
            "group": ctx.group.id,
            "user_id": ctx.user.id,
            "exported_at": now.isoformat(),
            "tables": tables,
        }
        name = f"alumnibot-data-{slug(ctx.user.id) or 'member'}-{now:%Y%m%dT%H%M%S}.json"
        path = EXPORT_DIR / name
        await asyncio.to_thread(_write_export, path, document)
        rows = sum(len(v) for v in tables.values())
        await self.bot.workspace.send_dm(
            ctx.group.id,
            ctx.user.id,
            OutgoingMessage(
                ctx.t(
                    "privacy.export_dm",
                    rows=rows,
                    tables=", ".join(_table(ctx, name) for name in tables) or "-",
                ),
                file_path=str(path),
            ),
        )
        await ctx.say("privacy.export_sent")

    @command("privacy delete", permission=Permission.MEMBER, help_key="privacy.delete_help")
    async def delete(self, ctx: Context) -> None:
        """Ask for confirmation before erasing anything."""
        await ctx.reply(
            OutgoingMessage(
                ctx.t("privacy.confirm"),
                buttons=(
                    Button(
                        ctx.t("privacy.confirm_button"),
                        "privacy-erase",
                        ctx.user.id,
                        ButtonStyle.DANGER,
                    ),
                    Button(ctx.t("privacy.cancel_button"), "privacy-cancel", ctx.user.id),
                ),
            )
        )

    @button("privacy-erase")
    async def erase(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Erase the member's data; pressing again (or twice) is harmless."""
        # Only the member themself can confirm; a forwarded button does nothing.
        if event.value != ctx.user.id:
            raise UserError("privacy.not_yours")
        # Counts still waiting to be written would otherwise carry the member's id past erasure.
        await self.bot.activity.flush()
        async with self.bot.uow() as uow:
            touched = await uow.privacy.erase(ctx.group.id, ctx.user.id)
        log.info("erased member data in %s: %s", ctx.group.id, touched)
        if not touched:
            await ctx.say("privacy.nothing_left")
            return
        summary = ", ".join(f"{_table(ctx, table)} ({n})" for table, n in sorted(touched.items()))
        await ctx.say("privacy.erased", summary=summary)

    @button("privacy-cancel")
    async def cancel(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Nothing happens."""
        await ctx.say("privacy.cancelled")
