"""Members' control of their own data: an export of everything stored, erasure on request that
reaches the platform too, the daily clean-up of what is kept only briefly, and `remember`, the
one way features record which of the bot's messages name whom."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.activity import ActivityRecorder
from bot.cogs.posts.records import Post
from bot.cogs.posts.views import card
from bot.cogs.privacy import files, views
from bot.cogs.privacy.needles import Needles
from bot.cogs.privacy.records import (
    ERASED,
    Erasure,
    Exported,
    NamedMessage,
    Retention,
    RolesOff,
    message_data,
    message_from_data,
)
from bot.domain import Actor, Group, Member, RoleRecord
from bot.errors import PlatformError, UserError
from bot.events import MessageRef
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory, Workspace
from bot.safety import neutralise

log = logging.getLogger(__name__)

# What the privacy statement calls "kept briefly": code attempts (the lockout looks back ten
# minutes) and keys of handled platform events (Slack retries within the hour, replays of a
# signed request within 5 minutes, gateway replays within a session).
ATTEMPTS_KEPT = timedelta(days=1)
EVENTS_KEPT = timedelta(days=7)


class PrivacyService:
    """Export, erasure, retention and `remember`: each method is one use case."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        activity: ActivityRecorder,
        data_dir: Path,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.activity = activity
        self.data_dir = data_dir

    @property
    def exports(self) -> Path:
        """The folder export files are written to (under the bot's data folder)."""
        return self.data_dir / files.EXPORT_FOLDER

    # -- who the bot's messages name ------------------------------------------------------

    async def remember(
        self,
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
            async with self.uow() as uow:
                await uow.privacy.remember(group_id, ref, list(user_ids), data, self.clock.now())
        except Exception:
            log.exception("could not record who message %s in %s names", ref.id, group_id)

    # -- export ---------------------------------------------------------------------------

    async def export(self, group: Group, actor: Actor) -> Exported:
        """Send the member, by DM, a JSON file of every row that names them (others in those
        rows as "another member"); the file is deleted once delivered, or refused."""
        now = self.clock.now()
        lang = group.language
        async with self.uow() as uow:
            tables = await uow.privacy.export(
                group.id, actor.id, another=views.another_member(lang)
            )
        document = views.export_document(lang, group.id, actor.id, now, tables)
        folder = await asyncio.to_thread(files.export_folder, self.data_dir)
        # A random tail: two exports in the same second never share (or delete) one file.
        path = folder / files.export_name(actor.id, f"{now:%Y%m%dT%H%M%S}", uuid.uuid4().hex[:6])
        await asyncio.to_thread(files.write_export, path, document)
        exported = Exported({name: len(rows) for name, rows in tables.items()}, path)
        try:
            await self.workspace.send_dm(
                group.id, actor.id, views.export_dm(lang, exported.tables, path)
            )
        finally:
            # Delivered (the platform has its copy) or refused: either way ours goes now.
            await asyncio.to_thread(files.unlink, path)
        return exported

    # -- erasure --------------------------------------------------------------------------

    async def erase(
        self,
        group: Group,
        actor: Actor,
        asked_by: str,
        *,
        started: Callable[[], Awaitable[None]] | None = None,
    ) -> Erasure:
        """Erase the member's data, on the platform first; erasing again is harmless.

        `asked_by` is whom the confirmation was for: only the member themself can confirm (a
        forwarded button does nothing). `started` is awaited once the request is accepted,
        before the slow part (a platform's "working on it"). The platform is reached before
        the database, so that if anything stops half-way the records of what to reach are
        still there and erasing again finishes it.
        """
        if asked_by != actor.id:
            raise UserError("privacy.not_yours")
        if started is not None:
            await started()
        gid, uid = group.id, actor.id
        # Counts still waiting to be written would otherwise carry the member's id past erasure.
        await self.activity.flush()
        async with self.uow() as uow:
            member = await uow.members.get(gid, uid)
            roles = await uow.roles.for_group(gid)
            named = await uow.privacy.named_messages(gid, uid)
            posts = await uow.privacy.authored_posts(gid, uid)
        roles_off = await self._take_roles_off(group, member, roles)
        edited, missed = await self._edit_messages(group, uid, member, named, posts)
        async with self.uow() as uow:
            touched = await uow.privacy.erase(gid, uid)
        removed = await asyncio.to_thread(files.remove_exports_of, self.exports, gid, uid)
        if removed:
            touched["export_files"] = removed
        log.info("erased member data in %s: %s", gid, touched)
        return Erasure(touched, roles_off, edited, missed)

    async def _take_roles_off(
        self, group: Group, member: Member | None, roles: list[RoleRecord]
    ) -> RolesOff | None:
        """Revoke on the platform every role the bot recorded for the member (None when there
        was nothing to take off)."""
        if member is None or member.left_at is not None:
            return None  # not in the group: the platform took the roles with the membership
        held = [r for r in roles if r.key in member.roles and r.platform_id]
        if not held:
            return None
        names = tuple(r.name for r in held)
        try:
            await self.workspace.set_roles(
                group.id, member.user_id, [], [r.platform_id for r in held if r.platform_id]
            )
        except PlatformError as exc:
            log.warning("erasure could not revoke roles of a member in %s: %s", group.id, exc)
            kept = RolesOff(names, False, exc.missing_permission, exc.role, str(exc))
            await self._tell_staff(group, member, kept)
            return kept
        return RolesOff(names, True)

    async def _tell_staff(self, group: Group, member: Member, roles: RolesOff) -> None:
        """Trusted roles left on the platform are a door still open: staff must close it."""
        async with self.uow() as uow:
            review = await uow.categories.get(group.id, "review")
        if review is None or review.channel_id is None:
            return
        name = neutralise(member.name or member.user_id)
        try:
            await self.workspace.send(
                group.id, review.channel_id, views.roles_left_staff(group.language, name, roles)
            )
        except Exception:
            log.exception("could not tell staff in %s about roles left after erasure", group.id)

    async def _edit_messages(
        self,
        group: Group,
        user_id: str,
        member: Member | None,
        named: list[NamedMessage],
        posts: list[Post],
    ) -> tuple[int, int]:
        """Edit the bot's messages that name the member; (edited, could not be edited)."""
        removed = views.message_removed(group.language)
        jobs: list[tuple[MessageRef, OutgoingMessage]] = [
            (m.ref, message_from_data(m.replacement) if m.replacement else removed) for m in named
        ]
        needles = Needles(user_id, member.email if member else None)
        for post in posts:
            if post.channel_id and post.message_id:
                # The posts feature draws the card, now naming "another member".
                anonymous = replace(
                    post, author_id=None, author_name=ERASED, fields=needles.scrub(post.fields)
                )
                ref = MessageRef(post.channel_id, post.message_id)
                jobs.append((ref, card(group.language, anonymous, group.timezone)))
        edited = missed = 0
        for ref, message in jobs:
            try:
                await self.workspace.edit(group.id, ref, message)
                edited += 1
            except Exception:
                # Deleted by someone, or out of reach: counted in the answer, the rest goes on.
                log.warning(
                    "erasure could not edit message %s in %s", ref.id, group.id, exc_info=True
                )
                missed += 1
        return edited, missed

    # -- what is kept briefly ------------------------------------------------------------

    async def retention(self, group: Group) -> Retention:
        """Delete code attempts after a day and event keys after a week; sweep old exports."""
        now = self.clock.now()
        async with self.uow() as uow:
            purged = await uow.privacy.purge(group.id, now - ATTEMPTS_KEPT, now - EVENTS_KEPT)
        swept = await asyncio.to_thread(files.sweep, self.exports, files.EXPORT_MAX_AGE_SECONDS)
        return Retention(purged, swept)
