"""OutgoingMessage and FormSpec -> discord.py objects; Discord errors -> PlatformError."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord

from bot.errors import DirectMessagesClosed, PlatformError
from bot.messages import Button, ButtonStyle, FormSpec, OutgoingMessage, link_channels
from bot.safety import clip

log = logging.getLogger(__name__)

BUTTON_PREFIX = "alumni"
FORM_PREFIX = "alumni-form"
SEPARATOR = "|"
_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}
# Permissions the bot may lack: keys under `permissions.` in the catalogues, which give the
# names a teacher finds in Server Settings, in the group's language.
MANAGE_ROLES = "manage_roles"
MANAGE_CHANNELS = "manage_channels"
CREATE_INVITE = "create_invite"
SEND_MESSAGES = "send_messages"
VIEW_CHANNEL = "view_channel"
CREATE_THREADS = "create_public_threads"
ROLE_HIERARCHY = "role_hierarchy"


def _prefixed(prefix: str, group_id: str | None) -> str:
    # Interactions in a DM carry no guild: the group travels in the custom_id instead.
    return f"{prefix}.{group_id}" if group_id else prefix


def _split(custom_id: str, prefix: str) -> tuple[str, str, str | None] | None:
    """(name, value, group id or None) of `<prefix>[.<group>]:<name>|<value>`.

    Names (`onb:decide`) and values (`12:approve`) both contain colons, so `|` ends the name.
    Custom ids without `|` are from before it (`alumni:<name>:<value>`, names without colons)
    and still work: buttons are never expired.
    """
    head, sep, rest = custom_id.partition(":")
    base, dot, group_id = head.partition(".")
    if base != prefix or not sep or (dot and not group_id.isdigit()):
        return None
    name, bar, value = rest.partition(SEPARATOR)
    if not bar:
        name, _, value = rest.partition(":")
    return (name, value, group_id or None) if name else None


def _join(prefix: str, group_id: str | None, name: str, value: str) -> str:
    if SEPARATOR in name:
        raise ValueError(f"{SEPARATOR!r} in a button action or form id: {name}")
    custom_id = f"{_prefixed(prefix, group_id)}:{name}{SEPARATOR}{value}"
    if len(custom_id) > 100:
        raise ValueError(f"custom_id too long: {custom_id[:40]}…")
    return custom_id


def button_custom_id(button: Button, group_id: str | None = None) -> str:
    """`alumni:<action>|<value>` (`alumni.<guild>:…` in a DM); Discord allows 100 characters."""
    return _join(BUTTON_PREFIX, group_id, button.action, button.value)


def parse_button_custom_id(custom_id: str) -> tuple[str, str] | None:
    """(action, value) of one of our buttons, else None."""
    parts = _split(custom_id, BUTTON_PREFIX)
    return (parts[0], parts[1]) if parts else None


def form_custom_id(form: FormSpec, group_id: str | None = None) -> str:
    """`alumni-form:<form_id>|<context>` (`alumni-form.<guild>:…` in a DM); 100 characters."""
    return _join(FORM_PREFIX, group_id, form.form_id, form.context)


def parse_form_custom_id(custom_id: str) -> tuple[str, str] | None:
    """(form_id, context) of one of our modals, else None."""
    parts = _split(custom_id, FORM_PREFIX)
    return (parts[0], parts[1]) if parts else None


def custom_id_group(custom_id: str) -> str | None:
    """The guild id a DM button or modal was made for, else None."""
    for prefix in (BUTTON_PREFIX, FORM_PREFIX):
        parts = _split(custom_id, prefix)
        if parts is not None:
            return parts[2]
    return None


class ButtonsView(discord.ui.View):
    """Buttons only: presses are routed by custom_id in the interaction listener, so the view
    is never kept in discord.py's view store (it would grow forever and not survive a restart)."""

    def __init__(self, buttons: tuple[Button, ...], group_id: str | None = None) -> None:
        super().__init__(timeout=None)
        if len(buttons) > BUTTONS_MAX:
            raise ValueError(f"{len(buttons)} buttons: Discord shows at most {BUTTONS_MAX}")
        for i, b in enumerate(buttons):
            self.add_item(
                discord.ui.Button(
                    label=clip(b.label, 80),
                    custom_id=button_custom_id(b, group_id),
                    style=_STYLES.get(b.style, discord.ButtonStyle.secondary),
                    row=i // 5,
                )
            )

    def is_dispatchable(self) -> bool:
        """Never stored: see the class docstring."""
        return False


def build_modal(form: FormSpec, group_id: str | None = None) -> discord.ui.Modal:
    """A modal with one labelled text input per field; `group_id` when it opens in a DM, where
    the submission will not say which guild it belongs to.

    Fields are never dropped here: the core keeps its forms within `Capabilities` (a test walks
    every form), and a form over Discord's five would be refused loudly rather than lose a field.
    """
    modal = discord.ui.Modal(title=clip(form.title, 45), custom_id=form_custom_id(form, group_id))
    for f in form.fields:
        text_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=f.name,
            style=discord.TextStyle.paragraph if f.long else discord.TextStyle.short,
            required=f.required,
            max_length=min(f.max_length, 4000),
            placeholder=clip(f.placeholder, 100) or None,
            default=f.default or None,
        )
        modal.add_item(discord.ui.Label(text=clip(f.label, 45), component=text_input))
    return modal


def modal_values(components: Any) -> dict[str, str]:
    """custom_id -> value of every text input, whatever the layout (rows or labels)."""
    out: dict[str, str] = {}
    if isinstance(components, list):
        for c in components:
            out.update(modal_values(c))
    elif isinstance(components, dict):
        if "custom_id" in components and "value" in components:
            out[str(components["custom_id"])] = str(components["value"] or "")
        for key in ("components", "component"):
            if key in components:
                out.update(modal_values(components[key]))
    return out


# Discord's message limits (discord-api-docs developers/resources/message.mdx: content "up to
# 2000 characters"; "Up to 10 rich embeds (up to 6000 characters)"; Embed Limits: title 256,
# description 4096, 25 fields, field name 256, value 1024, the sum of all embed text 6000).
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
# components/reference.mdx: 5 action rows of 5 buttons on a (legacy) message.
BUTTONS_MAX = 25


def split_text(text: str, limit: int) -> list[str]:
    """Text in pieces of at most `limit` characters, cut at line ends (else spaces) if it can."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _embed_size(embed: discord.Embed) -> int:
    return len(embed)  # discord.py counts title, description, fields, footer and author


def _embeds(message: OutgoingMessage, text: str) -> list[discord.Embed]:
    """The text and fields as embeds, each within the per-embed limits and 6000 characters."""
    title = clip(message.title, EMBED_TITLE_MAX) if message.title else None
    chunks = split_text(text, EMBED_DESCRIPTION_MAX) or [""]
    embeds = [
        discord.Embed(title=title if i == 0 else None, description=c or None)
        for i, c in enumerate(chunks)
    ]
    current = embeds[-1]
    for name, value in message.fields:
        name_text = clip(name.strip(), FIELD_NAME_MAX) or "-"
        value_text = clip(value.strip(), FIELD_VALUE_MAX) or "-"
        full = len(current.fields) >= EMBED_FIELDS_MAX
        if full or _embed_size(current) + len(name_text) + len(value_text) > EMBED_TOTAL_MAX:
            current = discord.Embed()
            embeds.append(current)
        current.add_field(name=name_text, value=value_text, inline=False)
    return embeds


def _linked(message: OutgoingMessage) -> OutgoingMessage:
    """The channels the text names as Discord mentions, which it shows as links (and which
    notify nobody)."""
    if not message.channels:
        return message

    def link(text: str) -> str:
        return link_channels(text, message.channels, lambda channel_id: f"<#{channel_id}>")

    fields = tuple((name, link(value)) for name, value in message.fields)
    return replace(message, text=link(message.text), fields=fields)


def message_parts(
    message: OutgoingMessage,
    *,
    with_poll: bool = True,
    group_id: str | None = None,
    max_parts: int | None = None,
) -> list[dict[str, Any]]:
    """Keyword arguments for one or more Discord messages that together show `message`.

    Text that does not fit one message is split (at line ends) into several embeds and, past
    10 embeds or 6000 characters, several messages: nothing is cut off. Pings, the image and
    files go with the first message; buttons and the poll with the last. `max_parts` (edits:
    one message can only become one message) keeps what fits and ends it with an ellipsis.

    `group_id` is given for messages in a DM: their buttons then carry the guild.

    Member text never pings anyone: only ids in ping_users/ping_roles are allowed to notify,
    every part says so in `allowed_mentions`, and the pings go in `content` because mentions
    inside embeds never notify.
    """
    message = _linked(message)
    pings = " ".join(
        [f"<@{u}>" for u in message.ping_users] + [f"<@&{r}>" for r in message.ping_roles]
    )
    rich = bool(message.title or message.fields or message.image_path)
    plain = (" ".join(x for x in (pings, message.text.strip()) if x)).strip()
    parts: list[dict[str, Any]]
    if not rich and len(plain) <= CONTENT_MAX:
        parts = [{"content": plain or None}]
    else:
        embeds = _embeds(message, message.text)
        parts = []
        for embed in embeds:
            last = parts[-1] if parts else None
            if (
                last is not None
                and len(last["embeds"]) < EMBEDS_MAX
                and sum(_embed_size(e) for e in last["embeds"]) + _embed_size(embed)
                <= EMBED_TOTAL_MAX
            ):
                last["embeds"].append(embed)
            else:
                parts.append({"embeds": [embed]})
        parts[0]["content"] = pings or None
    if max_parts is not None and len(parts) > max_parts:
        log.warning("a message was cut to fit %d Discord message(s)", max_parts)
        parts = parts[:max_parts]
        embeds = parts[-1].get("embeds") or []
        if embeds and embeds[-1].description:
            # The same length with an ellipsis: what was kept still fits.
            embeds[-1].description = embeds[-1].description[:-1] + "…"
    files: list[discord.File] = []
    if message.image_path:
        image = Path(message.image_path)
        files.append(discord.File(image, filename=image.name))
        parts[0]["embeds"][0].set_image(url=f"attachment://{image.name}")
    if message.file_path:
        path = Path(message.file_path)
        files.append(discord.File(path, filename=path.name))
    if files:
        parts[0]["files"] = files
    if message.poll is not None and with_poll:
        # A poll message carries its question in the poll; the text goes above it.
        poll = discord.Poll(
            question=clip(message.poll.question, 300),
            duration=timedelta(hours=max(1, min(message.poll.hours, 768))),
        )
        for answer in message.poll.answers[:10]:
            poll.add_answer(text=clip(answer, 55))
        parts[-1]["poll"] = poll
    if message.buttons:
        parts[-1]["view"] = ButtonsView(message.buttons, group_id)
    for i, part in enumerate(parts):
        # Only the first part carries the pings; every part refuses all others.
        first = i == 0
        part["allowed_mentions"] = discord.AllowedMentions(
            everyone=False,
            users=[discord.Object(int(u)) for u in message.ping_users] if first else False,
            roles=[discord.Object(int(r)) for r in message.ping_roles] if first else False,
            replied_user=False,
        )
        if len(part.get("embeds") or []) == 1:
            part["embed"] = part.pop("embeds")[0]
    return parts


def edit_kwargs(message: OutgoingMessage, *, group_id: str | None = None) -> dict[str, Any]:
    """Keyword arguments for an edit: one message, as much of `message` as fits in it; what
    the new version lacks (embeds, buttons) is removed, and polls and files cannot change."""
    kwargs = message_parts(message, with_poll=False, group_id=group_id, max_parts=1)[0]
    kwargs.pop("files", None)
    if "embeds" not in kwargs:
        kwargs.setdefault("embed", None)
    kwargs.setdefault("view", None)
    return kwargs


def platform_error(
    exc: discord.HTTPException, *, missing: str | None = None, what: str = "", role: str = ""
) -> PlatformError:
    """A Discord refusal as PlatformError; `missing` names the permission for a 50013."""
    code = getattr(exc, "code", 0)
    if isinstance(exc, discord.Forbidden):
        if code == 50001:
            missing_access = f"{what}: missing access ({code})"
            return PlatformError(missing_access, missing_permission=VIEW_CHANNEL)
        if code == 50007:
            return DirectMessagesClosed(
                f"{what}: the member does not accept direct messages ({code})"
            )
        return PlatformError(
            f"{what}: forbidden ({code})", missing_permission=missing or "a permission", role=role
        )
    # 5xx: Discord failed on its side (discord.py already retried it); the same call may work
    # later, so the grant queue retries it instead of giving up.
    return PlatformError(
        f"{what}: Discord answered {exc.status} ({code}) {exc.text}"[:300],
        transient=isinstance(exc, discord.DiscordServerError),
    )
