"""Members' control of their own data: an export of everything stored, erasure on request that
reaches the platform too, and the daily clean-up of what is kept only briefly."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from bot.cog import Cog, button, command, job
from bot.cogs.posts.records import Post
from bot.cogs.posts.views import card
from bot.core import Bot, Context
from bot.domain import Group, Language, Member, Permission, RoleRecord
from bot.errors import PlatformError, UserError
from bot.events import ButtonPressed, MessageRef
from bot.i18n import catalogue, join, permission_label, t
from bot.messages import Button, ButtonStyle, OutgoingMessage
from bot.privacy_records import ERASED, NamedMessage, Needles, message_data
from bot.safety import neutralise, slug
from bot.scheduler import daily_period

log = logging.getLogger(__name__)

# Export files are personal data too: they live in the bot's own data folder (never a shared
# temporary folder), readable by the bot's user only, and are deleted once delivered. One
# left behind by a crash is swept after a day, and on erasure.
EXPORT_FOLDER = "exports"
EXPORT_PREFIX = "alumnibot-data-"
EXPORT_MAX_AGE_SECONDS = 24 * 3600
# What the privacy statement calls "kept briefly": code attempts (the lockout looks back ten
# minutes) and keys of handled platform events (Slack retries within the hour, replays of a
# signed request within 5 minutes, gateway replays within a session).
ATTEMPTS_KEPT = timedelta(days=1)
EVENTS_KEPT = timedelta(days=7)
RETENTION_AT = clock_time(4, 0)

# Files the bot writes in its data folder (DATA_DIR), and what happens to each; a kind of
# file without an entry fails tests/security/test_privacy_rules.py. The local workspace lists
# its own in adapters/local/workspace.py.
DATA_FILES = {
    f"{EXPORT_FOLDER}/{EXPORT_PREFIX}*.json": (
        "a member's export: written for their DM (mode 0600), deleted once delivered, at the "
        "latest after a day, and on their erasure"
    ),
    "alumnibot.db*": (
        "the SQLite database (and its WAL files): every table has a rule in "
        "storage/repositories/privacy.py"
    ),
    "alumnibot.log": (
        "the local terminal's log: platform ids and command names for troubleshooting, never "
        "message text or tokens; delete it with the rest of the folder"
    ),
}


async def remember(
    bot: Bot,
    group_id: str,
    ref: MessageRef,
    user_ids: Iterable[str],
    replacement: OutgoingMessage | None = None,
) -> None:
    """Record who a message the bot just sent (or edited) names, so erasing one of them can
    edit it; `replacement` is the message without them (None: a short note instead).

    Call it again after an edit: the record is replaced (an edit that names nobody any more
    passes no one). A failure is logged, never raised: the message is already out.
    """
    data = None if replacement is None else message_data(replacement)
    try:
        async with bot.uow() as uow:
            await uow.privacy.remember(group_id, ref, list(user_ids), data, bot.clock.now())
    except Exception:
        log.exception("could not record who message %s in %s names", ref.id, group_id)


def _message(data: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        str(data.get("text") or ""),
        title=data.get("title"),
        fields=tuple((str(a), str(b)) for a, b in data.get("fields") or []),
        buttons=tuple(
            Button(
                b["label"],
                b["action"],
                b.get("value", ""),
                ButtonStyle(b.get("style") or "secondary"),
            )
            for b in data.get("buttons") or []
        ),
    )


# -- files (blocking: run in a thread) ------------------------------------------------------


def _export_folder(data_dir: Path) -> Path:
    folder = data_dir / EXPORT_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode passes through the umask, and the folder may be older than this code.
    os.chmod(folder, 0o700)
    return folder


def _write_export(path: Path, document: dict[str, Any]) -> None:
    # O_EXCL | O_NOFOLLOW: never write through a file or link someone else put there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=1, default=str)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("could not delete export %s", path.name)


def _sweep(folder: Path, max_age_seconds: float) -> int:
    """Delete export files older than the limit; how many went."""
    if not folder.is_dir():
        return 0
    now = time.time()
    removed = 0
    for old in folder.glob(f"{EXPORT_PREFIX}*.json"):
        try:
            if now - old.stat().st_mtime > max_age_seconds:
                old.unlink()
                removed += 1
        except OSError:
            log.warning("could not sweep old export %s", old.name)
    return removed


def _remove_exports_of(folder: Path, group_id: str, user_id: str) -> int:
    """Delete the member's export files still on disk; how many went."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.glob(f"{EXPORT_PREFIX}{slug(user_id) or 'member'}-*.json"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            theirs = document.get("group") == group_id and document.get("user_id") == user_id
        except (OSError, ValueError, AttributeError):
            theirs = True  # a file cut short by a crash: its name is all there is to go by
        if theirs:
            _unlink(path)
            removed += 1
    return removed


def _table(lang: Language, name: str) -> str:
    """A table's name as members read it (a table added later shows its own name)."""
    return catalogue(lang).get(f"privacy.table.{name}", name)


class PrivacyCog(Cog):
    """`/alumni privacy export`, `/alumni privacy delete`, and the daily retention job."""

    name = "privacy"

    @property
    def _exports(self) -> Path:
        return self.bot.config.data_dir / EXPORT_FOLDER

    # -- export ---------------------------------------------------------------------------

    @command("privacy export", permission=Permission.MEMBER, help_key="privacy.export_help")
    async def export(self, ctx: Context) -> None:
        """Send the member, by DM, a JSON file of every row that names them."""
        if ctx.responder is not None:
            await ctx.responder.defer()
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            tables = await uow.privacy.export(
                ctx.group.id, ctx.user.id, another=ctx.t("privacy.another_member")
            )
        document = {
            "about": ctx.t("privacy.file_about"),
            "group": ctx.group.id,
            "user_id": ctx.user.id,
            "exported_at": now.isoformat(),
            "tables": tables,
        }
        folder = await asyncio.to_thread(_export_folder, self.bot.config.data_dir)
        # A random tail: two exports in the same second never share (or delete) one file.
        name = (
            f"{EXPORT_PREFIX}{slug(ctx.user.id) or 'member'}-{now:%Y%m%dT%H%M%S}-"
            f"{uuid.uuid4().hex[:6]}.json"
        )
        path = folder / name
        await asyncio.to_thread(_write_export, path, document)
        rows = sum(len(v) for v in tables.values())
        try:
            await self.bot.workspace.send_dm(
                ctx.group.id,
                ctx.user.id,
                OutgoingMessage(
                    ctx.t(
                        "privacy.export_dm",
                        count=rows,
                        tables=join(ctx.lang, [_table(ctx.lang, n) for n in tables]) or "-",
                    ),
                    file_path=str(path),
                ),
            )
        finally:
            # Delivered (the platform has its copy) or refused: either way ours goes now.
            await asyncio.to_thread(_unlink, path)
        await ctx.say("privacy.export_sent")

    # -- erasure --------------------------------------------------------------------------

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
        """Erase the member's data, on the platform first; pressing again is harmless.

        The platform is reached before the database, so that if anything stops half-way the
        records of what to reach are still there and pressing again finishes it.
        """
        # Only the member themself can confirm; a forwarded button does nothing.
        if event.value != ctx.user.id:
            raise UserError("privacy.not_yours")
        if ctx.responder is not None:
            await ctx.responder.defer()  # many edits can take longer than 3 seconds
        gid, uid = ctx.group.id, ctx.user.id
        # Counts still waiting to be written would otherwise carry the member's id past erasure.
        await self.bot.activity.flush()
        async with self.bot.uow() as uow:
            member = await uow.members.get(gid, uid)
            roles = await uow.roles.for_group(gid)
            named = await uow.privacy.named_messages(gid, uid)
            posts = await uow.privacy.authored_posts(gid, uid)
        lines: list[str] = []
        roles_line = await self._take_roles_off(ctx, member, roles)
        edited, missed = await self._edit_messages(ctx, member, named, posts)
        async with self.bot.uow() as uow:
            touched = await uow.privacy.erase(gid, uid)
        files = await asyncio.to_thread(_remove_exports_of, self._exports, gid, uid)
        if files:
            touched["export_files"] = files
        log.info("erased member data in %s: %s", gid, touched)
        if not touched and not edited and roles_line is None:
            await ctx.say("privacy.nothing_left")
            return
        summary = ", ".join(
            f"{_table(ctx.lang, table)} ({n})" for table, n in sorted(touched.items())
        )
        lines.append(ctx.t("privacy.erased", summary=summary or "-"))
        if roles_line:
            lines.append(roles_line)
        if edited:
            lines.append(ctx.t("privacy.messages_edited", count=edited))
        if missed:
            lines.append(ctx.t("privacy.messages_not_edited", count=missed))
        lines.append(ctx.t("privacy.not_reached"))
        await ctx.reply(OutgoingMessage("\n\n".join(lines)))

    async def _take_roles_off(
        self, ctx: Context, member: Member | None, roles: list[RoleRecord]
    ) -> str | None:
        """Revoke on the platform every role the bot recorded for the member; the answer's
        line about it (None when there was nothing to take off)."""
        if member is None or member.left_at is not None:
            return None  # not in the group: the platform took the roles with the membership
        held = [r for r in roles if r.key in member.roles and r.platform_id]
        if not held:
            return None
        names = join(ctx.lang, [r.name for r in held])
        try:
            await self.bot.workspace.set_roles(
                ctx.group.id, member.user_id, [], [r.platform_id for r in held if r.platform_id]
            )
        except PlatformError as exc:
            log.warning("erasure could not revoke roles of a member in %s: %s", ctx.group.id, exc)
            reason = (
                permission_label(ctx.lang, exc.missing_permission, exc.role)
                if exc.missing_permission
                else str(exc)
            )
            await self._tell_staff(ctx.group, member, names, reason)
            return ctx.t("privacy.roles_not_removed", roles=names, reason=reason)
        return ctx.t("privacy.roles_removed", roles=names)

    async def _tell_staff(self, group: Group, member: Member, roles: str, reason: str) -> None:
        """Trusted roles left on the platform are a door still open: staff must close it."""
        async with self.bot.uow() as uow:
            review = await uow.categories.get(group.id, "review")
        if review is None or review.channel_id is None:
            return
        try:
            await self.bot.workspace.send(
                group.id,
                review.channel_id,
                OutgoingMessage(
                    t(
                        group.language,
                        "privacy.roles_left_staff",
                        member=neutralise(member.name or member.user_id),
                        roles=roles,
                        reason=reason,
                    )
                ),
            )
        except Exception:
            log.exception("could not tell staff in %s about roles left after erasure", group.id)

    async def _edit_messages(
        self,
        ctx: Context,
        member: Member | None,
        named: list[NamedMessage],
        posts: list[Post],
    ) -> tuple[int, int]:
        """Edit the bot's messages that name the member; (edited, could not be edited)."""
        gid = ctx.group.id
        removed = OutgoingMessage(ctx.t("privacy.message_removed"))
        jobs: list[tuple[MessageRef, OutgoingMessage]] = [
            (m.ref, _message(m.replacement) if m.replacement else removed) for m in named
        ]
        needles = Needles(ctx.user.id, member.email if member else None)
        for post in posts:
            if post.channel_id and post.message_id:
                anonymous = replace(
                    post, author_id=None, author_name=ERASED, fields=needles.scrub(post.fields)
                )
                ref = MessageRef(post.channel_id, post.message_id)
                jobs.append((ref, card(ctx.lang, anonymous, ctx.group.timezone)))
        edited = missed = 0
        for ref, message in jobs:
            try:
                await self.bot.workspace.edit(gid, ref, message)
                edited += 1
            except Exception:
                # Deleted by someone, or out of reach: counted in the answer, the rest goes on.
                log.warning("erasure could not edit message %s in %s", ref.id, gid, exc_info=True)
                missed += 1
        return edited, missed

    @button("privacy-cancel")
    async def cancel(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Nothing happens."""
        await ctx.say("privacy.cancelled")

    # -- what is kept briefly ------------------------------------------------------------

    def _retention_due(self, group: Group, now: datetime) -> str | None:
        return daily_period(group, now, RETENTION_AT)

    @job("privacy-retention", period=_retention_due)
    async def retention(self, group: Group, period: str) -> None:
        """Delete code attempts after a day and event keys after a week; sweep old exports."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            purged = await uow.privacy.purge(group.id, now - ATTEMPTS_KEPT, now - EVENTS_KEPT)
        swept = await asyncio.to_thread(_sweep, self._exports, EXPORT_MAX_AGE_SECONDS)
        log.info("retention in %s for %s: %s, %d old exports", group.id, period, purged, swept)
