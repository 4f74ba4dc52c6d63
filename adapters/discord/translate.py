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
from bot.i18n import catalogue
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


# Command, option and choice texts hold 1-100 characters (developers/interactions/application-
# commands.mdx, Application Command Object and Option Structure); a text that does not fit is
# an error at sync, never a phrase cut in the middle (tests/test_command_texts.py walks them).
DESCRIPTION_MAX = 100
# Discord's Norwegian locale is `no` (developers/reference.mdx, Locales; discord.Locale.norwegian);
# a client set to it shows these texts. The payloads are built here from the one tree, so
# discord.py's app_commands Translator is not involved. Names stay as README, help and every
# message spell them (`/alumni pairs leave`): a localised name would differ per member's client
# language, not per group, while the interaction still carries the default names.
NORWEGIAN = "no"


def describe(key: str) -> tuple[str, dict[str, str]]:
    """A picker text in English plus its Norwegian localisation; ValueError if either is
    missing or longer than Discord allows."""
    texts = {}
    for language in (Language.EN, Language.NB):
        text = catalogue(language).get(key)
        if text is None or not 1 <= len(text) <= DESCRIPTION_MAX:
            raise ValueError(
                f"{language.value} {key}: Discord shows 1-{DESCRIPTION_MAX} characters, got "
                f"{'none' if text is None else len(text)}"
            )
        texts[language] = text
    english, norwegian = texts[Language.EN], texts[Language.NB]
    # "Any localized values that are identical to the default will be ignored."
    return english, {NORWEGIAN: norwegian} if norwegian != english else {}


def _described(key: str) -> dict[str, Any]:
    description, localised = describe(f"{key}.description")
    out: dict[str, Any] = {"description": description}
    if localised:
        out["description_localizations"] = localised
    return out


def _option(command: Command, opt: Option) -> dict[str, Any]:
    description, localised = describe(command.option_key(opt))
    out: dict[str, Any] = {
        "type": _OPTION_TYPES[opt.type],
        "name": opt.name,
        "description": description,
        "required": opt.required,
    }
    if localised:
        out["description_localizations"] = localised
    if opt.type is OptionType.CHOICE:
        out["choices"] = [_choice(command, opt, c) for c in opt.choices[:25]]
    elif opt.complete is not None and opt.type is OptionType.STRING:
        # Suggestions from the group's data as the member types (see autocomplete_event).
        out["autocomplete"] = True
    if opt.type in (OptionType.STRING, OptionType.DATE):
        out["max_length"] = min(max(opt.max_length, 1), 6000)
    if opt.type is OptionType.INTEGER:
        if opt.min_value is not None:
            out["min_value"] = opt.min_value
        if opt.max_value is not None:
            out["max_value"] = opt.max_value
    return out


def _choice(command: Command, opt: Option, value: str) -> dict[str, Any]:
    """A choice as the picker names it (`norsk bokmål` for `nb`); the command gets the value."""
    key = f"{command.text_key}.choices.{opt.name}.{value}"
    if key not in catalogue(Language.EN):
        return {"name": value, "value": value}
    name, localised = describe(key)
    return {
        "name": name,
        "value": value,
        **({"name_localizations": localised} if localised else {}),
    }


def _leaf(command: Command) -> dict[str, Any]:
    # Discord wants required options first.
    options = sorted(command.options, key=lambda o: not o.required)
    return {
        "type": _SUB_COMMAND,
        "name": command.path[-1],
        **_described(command.text_key),
        "options": [_option(command, o) for o in options],
    }


def _root(tree: CommandTree, commands: list[Command], key: str) -> dict[str, Any]:
    options: list[dict[str, Any]] = []
    groups: dict[str, list[Command]] = {}
    for command in commands:
        if len(command.path) == 1:
            options.append(_leaf(command))
        else:
            groups.setdefault(command.path[0], []).append(command)
    for group, members in groups.items():
        options.append(
            {
                "type": _SUB_COMMAND_GROUP,
                "name": group,
                **_described(tree.group_key(group)),
                "options": [_leaf(c) for c in members],
            }
        )
    options.sort(key=lambda o: o["name"])
    return {"type": 1, "name": ROOT, **_described(key), "options": options}


def application_commands(tree: CommandTree) -> list[dict[str, Any]]:
    """The guild's `/alumni`: every subcommand a member may run, shown to everyone."""
    members = [c for c in tree.all() if c.permission is Permission.MEMBER]
    return [{**_root(tree, members, "core.commands.alumni"), "contexts": [0]}]


def staff_commands(tree: CommandTree) -> list[dict[str, Any]]:
    """The app's global `/alumni`: the staff subcommands, shown only to Manage Server.

    Discord sets default_member_permissions only on a top-level command, and an app "can have
    a global and guild CHAT_INPUT command with the same name" (application-commands.mdx,
    Registering a Command), so staff and members both type `/alumni …` while a member's picker
    shows only their own commands. The bot still checks every subcommand's level itself (a
    member with Manage Server but no staff role is refused); an admin can show the staff
    command to the staff role in Server Settings > Integrations.
    """
    staff = [c for c in tree.all() if c.permission is not Permission.MEMBER]
    if not staff:
        return []
    return [
        {
            **_root(tree, staff, "core.commands.alumni_staff"),
            "default_member_permissions": str(MANAGE_GUILD),
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


def focused_option(data: dict[str, Any]) -> tuple[str, str] | None:
    """The option an APPLICATION_COMMAND_AUTOCOMPLETE interaction is typing, and its partial
    text ("The option the user is currently typing will be sent with a `focused: true`")."""
    options = data.get("options") or []
    while options:
        focused = next((o for o in options if o.get("focused")), None)
        if focused is not None:
            return str(focused["name"]), str(focused.get("value") or "")
        nested = next(
            (o for o in options if o.get("type") in (_SUB_COMMAND, _SUB_COMMAND_GROUP)), None
        )
        options = (nested or {}).get("options") or []
    return None


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
