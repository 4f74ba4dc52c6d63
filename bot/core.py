"""The Bot: cogs, the command tree, a middleware chain, dispatch, and the scheduler."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.activity import ActivityRecorder
from bot.cog import ButtonMeta, Cog, CommandMeta, JobMeta
from bot.commands import Command, CommandTree, Option, OptionType, check_length, convert_options
from bot.domain import Actor, Group, Language, Permission, TrustedRole
from bot.errors import PermissionDenied, PlatformError, StorageUnavailable, UserError
from bot.events import (
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    Event,
    FormSubmitted,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    UserRef,
)
from bot.facts import StoredFacts
from bot.i18n import permission_label, t
from bot.messages import OutgoingMessage
from bot.ports import (
    ChartRenderer,
    Clock,
    Responder,
    UnitOfWorkFactory,
    UsesFacts,
    Workspace,
)
from bot.suggest import SOURCES, Source, Suggestion, pick

log = logging.getLogger(__name__)

# How long the message path may use a group read earlier (other processes' setting changes
# show up within this time; this process's own commands invalidate it at once).
GROUP_CACHE_SECONDS = 5.0
# Events that never change a group's settings: they may use a group read moments ago (a busy
# channel, a class joining at once), so they cost no database round trip for the group alone.
_SETTINGS_UNCHANGED = (MessagePosted, MemberJoined, MemberLeft)
# The same form with the same values from the same member within this time is handled once.
SUBMIT_WINDOW = timedelta(minutes=1)

S = TypeVar("S")
Middleware = Callable[["Context", Event, Callable[[], Awaitable[None]]], Awaitable[None]]


@dataclass(frozen=True)
class ScheduledJob:
    """A cog's job bound to the cog: which period is due, and what to run for it."""

    name: str
    period: Callable[[Group, datetime], str | None]
    run: Callable[[Group, str], Awaitable[None]]


@dataclass(frozen=True)
class CoreConfig:
    """Settings the core needs; built from Settings in the composition root."""

    default_language: Language = Language.EN
    default_timezone: str = "Europe/Oslo"
    instance_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # The bot's own folder (Settings.data_dir): files it writes, such as exports, live here.
    data_dir: Path = Path("data")


@dataclass
class Context:
    """Everything a handler needs about the event it handles."""

    bot: Bot
    group: Group
    user: UserRef
    channel: ChannelRef | None = None
    responder: Responder | None = None
    permission: Permission = Permission.MEMBER
    # What an earlier handler of the same event already did (e.g. "member-recorded"), so a
    # later one can skip a round trip; only an optimisation, never needed for correctness.
    handled: set[str] = field(default_factory=set)

    @property
    def actor(self) -> Actor:
        """The member as services see them: id, name and the level the core checked."""
        return Actor(self.user.id, self.user.name or self.user.id, self.permission)

    @property
    def lang(self) -> Language:
        """The group's language."""
        return self.group.language

    def t(self, key: str, /, **params: Any) -> str:
        """A catalogue string in the group's language."""
        return t(self.group.language, key, **params)

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Answer the member; logged when there is nobody to answer."""
        if self.responder is None:
            log.info("no responder for reply: %s", message.text)
            return
        await self.responder.reply(message, private=private)

    async def say(
        self,
        key: str,
        /,
        *,
        private: bool = True,
        channels: tuple[tuple[str, str], ...] = (),
        **params: Any,
    ) -> None:
        """Answer the member with a catalogue string (`channels`: the "#name"s it links)."""
        message = OutgoingMessage(self.t(key, **params), channels=channels)
        await self.reply(message, private=private)


class Bot:
    """The platform-neutral bot: one per process, serving every group its workspace has."""

    def __init__(
        self,
        workspace: Workspace,
        uow: UnitOfWorkFactory,
        clock: Clock,
        config: CoreConfig | None = None,
        charts: ChartRenderer | None = None,
    ) -> None:
        self.workspace = workspace
        self.uow = uow
        self.clock = clock
        self.config = config or CoreConfig()
        # None: the platform is served without charts (stats still answer, in text).
        self.charts = charts
        self.tree = CommandTree()
        self.cogs: dict[str, Cog] = {}
        # Message counts are written in batches; jobs and stats flush before they read them.
        self.activity = ActivityRecorder(uow)
        self.jobs: list[ScheduledJob] = []
        self.middleware: list[Middleware] = [_errors_to_member, _ignore_bots]
        self._listeners: dict[type[Event], list[Callable[[Context, Any], Awaitable[None]]]] = {}
        self._buttons: dict[str, tuple[ButtonMeta, Callable[..., Awaitable[None]]]] = {}
        self._forms: dict[
            str, tuple[Permission, Callable[[Context, FormSubmitted], Awaitable[None]]]
        ] = {}
        self._group_cache: dict[str, tuple[float, Group]] = {}
        self._seen_language: dict[str, Language] = {}
        self._services: dict[type, object] = {}
        # A workspace that must know the bot's records (who holds staff, where #welcome is)
        # is told by the core; it never opens the unit of work itself.
        if isinstance(workspace, UsesFacts):
            workspace.use_facts(StoredFacts(uow))
        # Where an option's `complete=` name finds its suggestions (bot/suggest.py).
        self.suggestions: dict[str, Source] = dict(SOURCES)

    def add_cog(self, cog: Cog) -> None:
        """Register every handler a cog declares."""
        self.cogs[cog.name] = cog
        for attr in dir(type(cog)):
            if attr.startswith("__"):
                continue  # `__class__.__dict__` would pass for a handler's marks (`_form`)
            fn = getattr(cog, attr)
            # Only the cog's own methods carry declarations (a class's __dict__ would match too).
            meta = (
                getattr(fn, "__func__", None).__dict__
                if callable(fn) and hasattr(fn, "__func__")
                else {}
            )
            cmd: CommandMeta | None = meta.get("_command")
            if cmd is not None:
                self.tree.add(
                    Command(
                        cmd.path,
                        cmd.permission,
                        cmd.help_key,
                        cmd.options,
                        fn,
                        cmd.default_of_group,
                    )
                )
            for event_type in meta.get("_listens", []):
                self._listeners.setdefault(event_type, []).append(fn)
            if "_button" in meta:
                self._buttons[meta["_button"].action] = (meta["_button"], fn)
            if "_form" in meta:
                form_id, form_permission = meta["_form"]
                self._forms[form_id] = (form_permission, fn)
            if "_job" in meta:
                job_meta: JobMeta = meta["_job"]
                self.jobs.append(ScheduledJob(job_meta.name, partial(job_meta.period, cog), fn))

    def provide(self, service: object) -> None:
        """Make a feature's service available to other features and to the dashboard."""
        self._services[type(service)] = service

    def service(self, kind: type[S]) -> S:
        """The service of a type a loaded feature provided (KeyError names a missing one)."""
        found = self._services.get(kind)
        if not isinstance(found, kind):
            raise KeyError(f"no {kind.__name__}: is its feature loaded?")
        return found

    def cog(self, name: str) -> Cog:
        """A loaded cog by name."""
        return self.cogs[name]

    async def group(self, group_id: str, *, cached: bool = False) -> Group:
        """The group, created with defaults the first time it is seen.

        `cached` serves a copy read within GROUP_CACHE_SECONDS: the message path uses it so a
        busy channel does not cost a database round trip per message for the group alone.
        """
        if cached:
            hit = self._group_cache.get(group_id)
            if hit is not None and time.monotonic() - hit[0] < GROUP_CACHE_SECONDS:
                return hit[1]
        group = await self._load_group(group_id)
        self._group_cache[group_id] = (time.monotonic(), group)
        self._seen_language[group_id] = group.language
        return group

    def changed(self, group: Group) -> None:
        """A use case just changed the group: the cache and the adapters' own words follow it
        at once (the answer to a language change is labelled in the new language)."""
        self._group_cache[group.id] = (time.monotonic(), group)
        self._seen_language[group.id] = group.language

    async def existing_group(self, group_id: str) -> Group | None:
        """The group if the bot knows it, else None: for an id from outside (a link's), which
        must never create a group the way `group` does for a platform's own events."""
        async with self.uow() as uow:
            return await uow.groups.get(group_id)

    def seen_language(self, group_id: str) -> Language:
        """The group's language as last read, without a round trip (an adapter's own words);
        the default language before the group was first read."""
        return self._seen_language.get(group_id, self.config.default_language)

    async def _load_group(self, group_id: str) -> Group:
        async with self.uow() as uow:
            group = await uow.groups.get(group_id)
            if group is None:
                group = Group(
                    id=group_id,
                    platform=self.workspace.platform,
                    language=self.config.default_language,
                    timezone=self.config.default_timezone,
                    settings={},
                    created_at=self.clock.now(),
                )
                await uow.groups.add(group)
                # Two first events may race; whichever stored the group first wins.
                group = await uow.groups.get(group_id) or group
            return group

    async def first_time(self, group_id: str, key: str) -> bool:
        """True the first time a delivery's key is seen (platforms deliver some events twice,
        and a replayed request must not run again), in any process sharing the database."""
        async with self.uow() as uow:
            return await uow.events.first_time(group_id, key, self.clock.now())

    async def kept(self, group_id: str, key: str) -> str | None:
        """A value an adapter keeps between runs (the hash of the commands it uploaded)."""
        async with self.uow() as uow:
            return await uow.kv.get(group_id, key)

    async def keep(self, group_id: str, key: str, value: str) -> None:
        """Keep a value for `kept`."""
        async with self.uow() as uow:
            await uow.kv.set(group_id, key, value)

    async def permission_of(self, group: Group, user: UserRef) -> Permission:
        """Admin from the platform; staff from the bot's own records; else member."""
        if user.is_admin:
            return Permission.ADMIN
        async with self.uow() as uow:
            member = await uow.members.get(group.id, user.id)
        if member is not None and TrustedRole.STAFF.value in member.roles:
            return Permission.STAFF
        return Permission.MEMBER

    async def handle(self, event: Event) -> None:
        """Run an event through the middleware chain to its handlers; never raises."""
        responder = getattr(event, "responder", None)
        user = getattr(event, "user", None) or UserRef(id="?")
        try:
            group = await self.group(event.group_id, cached=isinstance(event, _SETTINGS_UNCHANGED))
        except StorageUnavailable:
            await _storage_down(responder, self.config.default_language, event)
            return
        ctx = Context(self, group, user, getattr(event, "channel", None), responder)

        async def call(index: int) -> None:
            if index < len(self.middleware):
                await self.middleware[index](ctx, event, lambda: call(index + 1))
            else:
                await self._dispatch(ctx, event)

        try:
            await call(0)
        finally:
            # Commands, forms and buttons may change settings: messages after them re-read.
            if not isinstance(event, _SETTINGS_UNCHANGED):
                self._group_cache.pop(event.group_id, None)

    async def _dispatch(self, ctx: Context, event: Event) -> None:
        if isinstance(event, CommandInvoked):
            await self._run_command(ctx, event)
            return
        if isinstance(event, ButtonPressed):
            await self._press(ctx, event)
            return
        if isinstance(event, FormSubmitted):
            found = self._forms.get(event.form_id)
            if found is None:
                raise UserError("core.form_unknown")
            form_permission, form_handler = found
            ctx.permission = await self.permission_of(ctx.group, ctx.user)
            if ctx.permission.rank < form_permission.rank:
                raise PermissionDenied("core.form_denied", level=form_permission)
            await self._submit_once(ctx, event, form_handler)
            return
        # Every feature hears the event even if another one fails; the first failure is then
        # re-raised so the middleware reports it (and the member sees it where there is one).
        failure: Exception | None = None
        for listener in self._listeners.get(type(event), []):
            try:
                await listener(ctx, event)
            except Exception as exc:
                if failure is not None:
                    log.exception("another listener failed on %s", type(event).__name__)
                failure = failure or exc
        if failure is not None:
            raise failure

    async def _submit_once(
        self,
        ctx: Context,
        event: FormSubmitted,
        handler: Callable[[Context, FormSubmitted], Awaitable[None]],
    ) -> None:
        """Handle a form unless the same member sent the same form with the same values less
        than SUBMIT_WINDOW ago (a double click on submit, a retried request, another process
        handling the copy). The database row is the reservation, not memory: it holds across
        processes. A refused or failed submission gives its reservation back, so it can be
        sent again at once."""
        # Only a digest of the values is kept (with the member's id, so erasing them drops it).
        values = json.dumps(
            [event.form_id, event.context, sorted((k, v.strip()) for k, v in event.values.items())]
        )
        key = f"form:{ctx.user.id}:{hashlib.sha256(values.encode()).hexdigest()[:40]}"
        async with self.uow() as uow:
            first = await uow.events.first_within(
                ctx.group.id, key, self.clock.now(), SUBMIT_WINDOW
            )
        if not first:
            raise UserError("core.form_twice")
        try:
            await handler(ctx, event)
        except Exception:
            async with self.uow() as uow:
                await uow.events.forget(ctx.group.id, key)
            raise

    async def _run_command(self, ctx: Context, event: CommandInvoked) -> None:
        command, leftover = self.tree.resolve(event.words)
        # Fail closed: the level is computed before options are even looked at.
        ctx.permission = await self.permission_of(ctx.group, ctx.user)
        if ctx.permission.rank < command.permission.rank:
            raise PermissionDenied(
                "core.permission_denied", command=" ".join(command.path), level=command.permission
            )
        options = convert_options(command, event.options, leftover, ctx.group.language)
        # Files are fetched only now, after the permission check: a refused member's upload is
        # never downloaded.
        for opt in command.options:
            if opt.type is OptionType.ATTACHMENT and opt.name in options:
                options[opt.name] = await self._read_attachment(ctx, opt, options[opt.name])
        assert command.handler is not None
        await command.handler(ctx, **options)

    async def _press(self, ctx: Context, event: ButtonPressed) -> None:
        found = self._buttons.get(event.action)
        if found is None:
            raise UserError("core.button_unknown")
        meta, handler = found
        # Fail closed, as for commands: the level is known before the value is even read.
        ctx.permission = await self.permission_of(ctx.group, ctx.user)
        if ctx.permission.rank < meta.permission.rank:
            raise PermissionDenied("core.button_denied", level=meta.permission)
        try:
            value = meta.value(event.value)
        except (ValueError, KeyError) as exc:
            raise UserError("core.button_unknown") from exc
        await handler(ctx, event, value)

    async def _read_attachment(self, ctx: Context, opt: Option, ref: str) -> str:
        if ctx.responder is None:
            raise UserError("core.attachment_unreadable", option=opt.name)
        text = await ctx.responder.read_attachment(ref, opt.name)
        check_length(opt, text, ctx.group.language)
        return text

    async def suggest(
        self, group_id: str, user: UserRef, words: tuple[str, ...], option: str, typed: str
    ) -> list[Suggestion]:
        """What to suggest for an option while `typed` is being typed: the group's own values,
        at most 25; none when the caller may not run the command (fail closed: a member learns
        no cohort names from a staff command), and none rather than an error."""
        try:
            command, _ = self.tree.resolve(words)
        except UserError:
            return []
        opt = next((o for o in command.options if o.name == option), None)
        source = self.suggestions.get(opt.complete) if opt and opt.complete else None
        if source is None:
            return []
        try:
            group = await self.group(group_id, cached=True)
            if (await self.permission_of(group, user)).rank < command.permission.rank:
                return []
            async with self.uow() as uow:
                found = await source(uow, group.id)
        except StorageUnavailable:
            log.warning("storage unavailable while suggesting %s", option)
            return []
        return pick(found, typed)

    def commands_for(self, permission: Permission) -> list[Command]:
        """Commands a member at this level may run."""
        return [c for c in self.tree.all() if c.permission.rank <= permission.rank]


def storage_down(lang: Language) -> OutgoingMessage:
    """What a member reads while the database is unreachable (nothing was done; try again)."""
    return OutgoingMessage(t(lang, "core.storage_down"))


async def _storage_down(responder: Responder | None, lang: Language, event: Event) -> None:
    log.warning("storage unavailable while handling %s", type(event).__name__, exc_info=True)
    if responder is not None:
        await _safe_reply(responder, storage_down(lang))


async def _safe_reply(responder: Responder, message: OutgoingMessage) -> None:
    try:
        await responder.reply(message, private=True)
    except Exception:
        log.exception("could not deliver an error message to the member")


async def _errors_to_member(
    ctx: Context, event: Event, call_next: Callable[[], Awaitable[None]]
) -> None:
    """Outermost middleware: the member sees a clear message, the log gets the detail."""
    try:
        await call_next()
    except UserError as exc:
        log.info("refused %s for %s: %s", type(event).__name__, ctx.user.id, exc.key)
        params = {
            k: ctx.t(f"core.level.{v.value}") if isinstance(v, Permission) else v
            for k, v in exc.params.items()
        }
        message = OutgoingMessage(ctx.t(exc.key, **params))
        if ctx.responder is not None:
            await _safe_reply(ctx.responder, message)
    except StorageUnavailable:
        await _storage_down(ctx.responder, ctx.lang, event)
    except PlatformError as exc:
        log.warning("platform refused while handling %s: %s", type(event).__name__, exc)
        key = (
            "core.platform_missing_permission" if exc.missing_permission else "core.platform_error"
        )
        label = permission_label(ctx.lang, exc.missing_permission or "", exc.role)
        text = ctx.t(key, permission=label, detail=str(exc))
        if ctx.responder is not None:
            await _safe_reply(ctx.responder, OutgoingMessage(text))
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("error %s while handling %s", ref, type(event).__name__)
        if ctx.responder is not None:
            await _safe_reply(ctx.responder, OutgoingMessage(ctx.t("core.internal_error", ref=ref)))


async def _ignore_bots(
    ctx: Context, event: Event, call_next: Callable[[], Awaitable[None]]
) -> None:
    """Bots (the bot itself included) never trigger features: the one place they are dropped
    (adapters only mark them, `UserRef.is_bot`)."""
    user = getattr(event, "user", None)
    if isinstance(user, UserRef) and user.is_bot:
        log.debug("ignored %s by a bot (%s)", type(event).__name__, user.id)
        return
    await call_next()
