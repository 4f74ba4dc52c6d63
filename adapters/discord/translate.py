"""Discord payloads -> core events, and the one command tree -> Discord application commands."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import replace
from typing import Any

import aiohttp
import discord

from adapters.discord.render import (
    build_modal,
    custom_id_group,
    edit_kwargs,
    message_parts,
    modal_values,
    parse_button_custom_id,
    parse_form_custom_id,
)
from adapters.discord.workspace import is_admin
from bot.commands import ROOT, Command, CommandTree, Option, OptionType
from bot.domain import Language, Permission
from bot.errors import PlatformError, UserError
from bot.events import (
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    Event,
    FormSubmitted,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    MessageRef,
    UserRef,
)
from bot.i18n import t
from bot.messages import FormSpec, OutgoingMessage
from bot.safety import decode_upload

log = logging.getLogger(__name__)

# Application command option types (Discord API).
_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2
_OPTION_TYPES = {
    OptionType.STRING: 3,
    OptionType.DATE: 3,  # Discord has no date type: a string the core parses (2029-06-15)
    OptionType.CHOICE: 3,
    OptionType.INTEGER: 4,
    OptionType.BOOLEAN: 5,
    OptionType.USER: 6,  # a member picker; the value arrives as the user id
    OptionType.ATTACHMENT: 11,  # an uploaded file; the adapter hands the core its text
}
_ATTACHMENT = 11
# A roster of a few hundred lines is a few kilobytes; anything this big is not one.
MAX_ATTACHMENT_BYTES = 1_000_000
MANAGE_GUILD = discord.Permissions(manage_guild=True).value


def default_member_permissions(level: Permission) -> int | None:
    """Who Discord shows a command to by default: staff and admin -> Manage Server."""
    return None if level is Permission.MEMBER else MANAGE_GUILD


# A command's description holds 1-100 characters (developers/interactions/application-commands
# .mdx); `/alumni help` shows the whole text, the picker a cut at a word with an ellipsis.
DESCRIPTION_MAX = 100


def _short(text: str) -> str:
    if len(text) <= DESCRIPTION_MAX:
        return text or "-"
    cut = text.rfind(" ", 0, DESCRIPTION_MAX - 1)
    return text[: cut if cut > 0 else DESCRIPTION_MAX - 1].rstrip(" ,;:(") + "…"


def _describe(key: str) -> tuple[str, dict[str, str]]:
    """English description plus the Norwegian localisation Discord shows `no` clients."""
    return _short(t(Language.EN, key)), {"no": _short(t(Language.NB, key))}


def _option(opt: Option) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": _OPTION_TYPES[opt.type],
        "name": opt.name,
        "description": f"{opt.name} ({opt.type.value})"[:100],
        "required": opt.required,
    }
    if opt.type is OptionType.CHOICE:
        out["choices"] = [{"name": c, "value": c} for c in opt.choices[:25]]
    if opt.type in (OptionType.STRING, OptionType.DATE):
        out["max_length"] = min(max(opt.max_length, 1), 6000)
    if opt.type is OptionType.INTEGER:
        if opt.min_value is not None:
            out["min_value"] = opt.min_value
        if opt.max_value is not None:
            out["max_value"] = opt.max_value
    return out


def _leaf(command: Command) -> dict[str, Any]:
    description, localised = _describe(command.help_key)
    # Discord wants required options first.
    options = sorted(command.options, key=lambda o: not o.required)
    return {
        "type": _SUB_COMMAND,
        "name": command.path[-1],
        "description": description,
        "description_localizations": localised,
        "options": [_option(o) for o in options],
    }


def application_commands(tree: CommandTree) -> list[dict[str, Any]]:
    """`/alumni` with one subcommand per one-word path and a group per two-word prefix.

    Discord sets default_member_permissions only on the top-level command, so `/alumni` gets
    the lowest level among its subcommands (members run `/alumni help`); the bot checks every
    subcommand's level itself, which is what actually protects staff commands.
    """
    commands = tree.all()
    options: list[dict[str, Any]] = []
    for command in commands:
        if len(command.path) == 1:
            options.append(_leaf(command))
    for group, members in tree.groups().items():
        options.append(
            {
                "type": _SUB_COMMAND_GROUP,
                "name": group,
                "description": group,
                "options": [_leaf(c) for c in members],
            }
        )
    options.sort(key=lambda o: o["name"])
    lowest = min((c.permission for c in commands), key=lambda p: p.rank, default=Permission.MEMBER)
    perms = default_member_permissions(lowest)
    return [
        {
            "type": 1,
            "name": ROOT,
            "description": "Alumni group",
            "description_localizations": {"no": "Alumnigruppen"},
            "options": options,
            "default_member_permissions": None if perms is None else str(perms),
            "contexts": [0],  # guilds only: every command acts on a group
        }
    ]


def commands_hash(payload: list[dict[str, Any]]) -> str:
    """A stable hash of the command payload: sync only when it changes."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def command_words(data: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The words and string option values of an APPLICATION_COMMAND interaction's data."""
    words: list[str] = []
    values: dict[str, str] = {}
    options = data.get("options") or []
    while True:
        nested = next(
            (o for o in options if o.get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP)), None
        )
        if nested is None:
            break
        words.append(str(nested["name"]))
        options = nested.get("options") or []
    for o in options:
        value = o.get("value")
        if o.get("type") == _ATTACHMENT:
            values[o["name"]] = f"attachment:{value}"
        elif isinstance(value, bool):
            values[o["name"]] = "true" if value else "false"
        elif value is not None:
            values[o["name"]] = str(value)
    return tuple(words), values


def user_ref(user: discord.Member | discord.User) -> UserRef:
    """A Discord user or member as the core names them."""
    return UserRef(str(user.id), user.display_name, is_admin=is_admin(user), is_bot=user.bot)


def _channel_ref(channel: Any) -> ChannelRef | None:
    if channel is None:
        return None
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        return ChannelRef(str(channel.parent_id), getattr(channel.parent, "name", ""))
    return ChannelRef(str(channel.id), getattr(channel, "name", "") or "")


# Discord wants the first answer to an interaction within 3 s (developers/interactions/
# receiving-and-responding.mdx); the responder defers on its own when nothing was answered this
# long after the interaction arrived, leaving a second for the request to reach Discord.
AUTO_DEFER_SECONDS = 2.0


class InteractionResponder:
    """The Responder for one interaction: the first answer is the interaction response.

    Whatever the handler does (a slow database, a rate-limited request), Discord hears from the
    bot within its 3 s: AUTO_DEFER_SECONDS after the interaction arrived the responder defers
    ("thinking…", only the member sees it) unless it answered already. A lock keeps the timer and
    the handler from both sending a first answer. After a defer the first answer replaces the
    loading message (Discord does the same with a follow-up) and keeps its ephemeral flag.
    """

    def __init__(
        self,
        interaction: discord.Interaction,
        group_id: str | None = None,
        *,
        defer_after: float | None = None,
    ) -> None:
        self.interaction = interaction
        # In a DM, buttons and modals of the answer must carry the guild they belong to.
        self.dm_group = group_id if interaction.guild_id is None else None
        self._lock = asyncio.Lock()
        self._deferred = False
        # The answer edit_reply replaces: the last message sent (None: the original response).
        self._last: discord.WebhookMessage | None = None
        self._answered = False
        self._timer: asyncio.TimerHandle | None = None
        self._auto: asyncio.Task[None] | None = None
        after = AUTO_DEFER_SECONDS if defer_after is None else defer_after
        if after >= 0:
            self._timer = asyncio.get_running_loop().call_later(after, self._start_auto_defer)

    def _start_auto_defer(self) -> None:
        self._auto = asyncio.get_running_loop().create_task(self._auto_defer())

    async def _auto_defer(self) -> None:
        try:
            async with self._lock:
                if not self.interaction.response.is_done():
                    await self.interaction.response.defer(ephemeral=True, thinking=True)
                    self._deferred = True
                    log.info("interaction %s deferred automatically", self.interaction.id)
        except discord.HTTPException as exc:
            log.warning("automatic defer of %s refused: %s", self.interaction.id, exc)

    async def finish(self) -> None:
        """The handler is done: stop the timer; warn if the member was left at "thinking…"."""
        if self._timer is not None:
            self._timer.cancel()
        if self._auto is not None:
            await self._auto
        if self._deferred and not self._answered:
            log.warning("interaction %s deferred but never answered", self.interaction.id)

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Ephemeral by default; a follow-up once the interaction has been answered. A long text
        becomes several messages (render.message_parts); edit_reply replaces the last."""
        parts = message_parts(message, group_id=self.dm_group)
        try:
            async with self._lock:
                for part in parts:
                    if not self.interaction.response.is_done():
                        await self.interaction.response.send_message(ephemeral=private, **part)
                        self._last = None
                    else:
                        # After a defer the first follow-up edits the loading message.
                        self._last = await self.interaction.followup.send(
                            ephemeral=private, wait=True, **part
                        )
                    self._answered = True
        except discord.HTTPException as exc:
            raise PlatformError(f"reply failed: {exc.status} {exc.code}") from exc

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """Replace the last answer (a progress message), or give one if there was none."""
        if not self._answered:
            await self.reply(message)
            return
        kwargs = edit_kwargs(message, group_id=self.dm_group)
        try:
            async with self._lock:
                if self._last is not None:
                    await self._last.edit(**kwargs)
                else:
                    await self.interaction.edit_original_response(**kwargs)
        except discord.HTTPException as exc:
            raise PlatformError(f"edit failed: {exc.status} {exc.code}") from exc

    async def open_form(self, form: FormSpec) -> None:
        """A modal; Discord only allows it as the first answer to an interaction."""
        async with self._lock:
            if self.interaction.response.is_done():
                # Deferred already (the handler took too long): a modal can no longer open.
                raise UserError("discord.form_too_late")
            try:
                await self.interaction.response.send_modal(build_modal(form, self.dm_group))
            except discord.HTTPException as exc:
                raise PlatformError(f"form refused: {exc.status} {exc.code}") from exc
            self._answered = True

    async def defer(self) -> None:
        """Acknowledge within Discord's three seconds; the answer follows as a follow-up."""
        async with self._lock:
            if not self.interaction.response.is_done():
                await self.interaction.response.defer(ephemeral=True, thinking=True)
                self._deferred = True

    async def read_attachment(self, ref: str, option: str) -> str:
        """Download the file behind `attachment:<id>` (a text file, at most 1 MB)."""
        data: dict[str, Any] = dict(self.interaction.data or {})
        resolved: dict[str, Any] = (data.get("resolved") or {}).get("attachments") or {}
        raw = resolved.get(ref.removeprefix("attachment:"))
        if raw is None or int(raw.get("size", 0)) > MAX_ATTACHMENT_BYTES:
            raise UserError("core.attachment_unreadable", option=option)
        # Downloading can outlast Discord's three seconds to answer.
        await self.defer()
        attachment = discord.Attachment(data=raw, state=self.interaction._state)
        try:
            content = await attachment.read()
            if len(content) > MAX_ATTACHMENT_BYTES:  # the size Discord announced was wrong
                raise UserError("core.attachment_unreadable", option=option)
            return decode_upload(content)
        except (discord.HTTPException, aiohttp.ClientError, UnicodeDecodeError) as exc:
            log.info("attachment %s (%s) unreadable: %s", raw.get("id"), option, exc)
            raise UserError("core.attachment_unreadable", option=option) from exc


def interaction_event(interaction: discord.Interaction) -> Event | None:
    """The core event for an interaction, or None if it is not ours."""
    data: dict[str, Any] = dict(interaction.data or {})
    if interaction.guild_id is not None:
        group_id = str(interaction.guild_id)
        user = user_ref(interaction.user)
        channel = _channel_ref(interaction.channel)
    else:
        # A button or modal in a DM (the welcome message): the guild is in the custom_id, and
        # only a member of that guild may act for it.
        dm_group = custom_id_group(str(data.get("custom_id", "")))
        guild = interaction.client.get_guild(int(dm_group)) if dm_group else None
        member = guild.get_member(interaction.user.id) if guild is not None else None
        if dm_group is None or member is None:
            log.info("ignored a DM interaction of %s (no guild it belongs to)", interaction.user.id)
            return None
        group_id, user, channel = dm_group, user_ref(member), None
    responder = InteractionResponder(interaction, group_id)
    if interaction.type is discord.InteractionType.application_command:
        if data.get("name") != ROOT:
            return None
        words, options = command_words(data)
        return CommandInvoked(group_id, user, channel, words, options, responder)
    if interaction.type is discord.InteractionType.component:
        parsed = parse_button_custom_id(str(data.get("custom_id", "")))
        if parsed is None:
            return None
        message = interaction.message
        ref = None
        if message is not None and interaction.guild_id is None:
            ref = MessageRef(f"D:{interaction.user.id}", str(message.id))  # as send_dm names it
        elif message is not None:
            thread_id = (
                str(message.channel.id) if isinstance(message.channel, discord.Thread) else None
            )
            parent = channel.id if channel else str(message.channel.id)
            ref = MessageRef(parent, str(message.id), thread_id)
        return ButtonPressed(group_id, user, parsed[0], parsed[1], channel, ref, responder)
    if interaction.type is discord.InteractionType.modal_submit:
        parsed = parse_form_custom_id(str(data.get("custom_id", "")))
        if parsed is None:
            return None
        values = modal_values(data.get("components", []))
        return FormSubmitted(group_id, user, parsed[0], values, parsed[1], responder)
    return None


def join_event(member: discord.Member) -> MemberJoined:
    """MemberJoined for a member who has passed screening (or never faced it)."""
    return MemberJoined(str(member.guild.id), user_ref(member), event_key=str(member.id))


def joined_after_update(before: discord.Member, after: discord.Member) -> MemberJoined | None:
    """The member passed membership screening: pending went from True to False."""
    if before.pending and not after.pending:
        return join_event(after)
    return None


def leave_event(member: discord.Member) -> MemberLeft:
    """MemberLeft for a member who left or was removed."""
    return MemberLeft(str(member.guild.id), user_ref(member))


def message_event(message: discord.Message) -> MessagePosted | None:
    """MessagePosted for a guild message; a bot's or a webhook's is marked `is_bot` (the
    core drops those)."""
    if message.guild is None:
        return None
    author_is_bot = message.author.bot or message.webhook_id is not None
    channel = message.channel
    thread_id = str(channel.id) if isinstance(channel, discord.Thread) else None
    parent = _channel_ref(channel)
    assert parent is not None
    return MessagePosted(
        group_id=str(message.guild.id),
        user=replace(user_ref(message.author), is_bot=author_is_bot),
        channel=parent,
        message=MessageRef(parent.id, str(message.id), thread_id),
        text=message.content,
        thread_id=thread_id,
    )
