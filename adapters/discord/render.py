"""OutgoingMessage and FormSpec -> discord.py objects; Discord errors -> PlatformError."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import discord

from bot.errors import PlatformError
from bot.messages import Button, ButtonStyle, FormSpec, OutgoingMessage

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


def clip(text: str, limit: int) -> str:
    """Text cut to Discord's limit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        for i, b in enumerate(buttons[:25]):
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
    """A modal with one labelled text input per field (Discord allows five); `group_id` when
    it opens in a DM, where the submission will not say which guild it belongs to."""
    modal = discord.ui.Modal(title=clip(form.title, 45), custom_id=form_custom_id(form, group_id))
    for f in form.fields[:5]:
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


def message_kwargs(
    message: OutgoingMessage, *, with_poll: bool = True, group_id: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for send/edit: content, embed, view, file, poll, allowed_mentions.

    `group_id` is given for messages in a DM: their buttons then carry the guild.

    Member text never pings anyone: only ids in ping_users/ping_roles are allowed to notify,
    and the pings go in `content` because mentions inside embeds never notify.
    """
    pings = [f"<@{u}>" for u in message.ping_users] + [f"<@&{r}>" for r in message.ping_roles]
    kwargs: dict[str, Any] = {
        "allowed_mentions": discord.AllowedMentions(
            everyone=False,
            users=[discord.Object(int(u)) for u in message.ping_users],
            roles=[discord.Object(int(r)) for r in message.ping_roles],
            replied_user=False,
        )
    }
    files: list[discord.File] = []
    rich = bool(message.title or message.fields or message.image_path)
    if message.poll is not None and with_poll:
        # A poll message carries its question in the poll; the text goes above it.
        poll = discord.Poll(
            question=clip(message.poll.question, 300),
            duration=timedelta(hours=max(1, min(message.poll.hours, 768))),
        )
        for answer in message.poll.answers[:10]:
            poll.add_answer(text=clip(answer, 55))
        kwargs["poll"] = poll
    if rich:
        embed = discord.Embed(
            title=clip(message.title, 256) if message.title else None,
            description=clip(message.text, 4096) if message.text else None,
        )
        for name, value in message.fields[:25]:
            embed.add_field(name=clip(name, 256) or "-", value=clip(value, 1024) or "-")
        if message.image_path:
            image = Path(message.image_path)
            files.append(discord.File(image, filename=image.name))
            embed.set_image(url=f"attachment://{image.name}")
        kwargs["embed"] = embed
        kwargs["content"] = " ".join(pings) or None
    else:
        text = message.text
        if len(text) + len(" ".join(pings)) > 1900:
            kwargs["embed"] = discord.Embed(description=clip(text, 4096))
            text = ""
        kwargs["content"] = (" ".join([*pings, text])).strip() or None
    if message.file_path:
        path = Path(message.file_path)
        files.append(discord.File(path, filename=path.name))
    if files:
        kwargs["files"] = files
    if message.buttons:
        kwargs["view"] = ButtonsView(message.buttons, group_id)
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
            return PlatformError(f"{what}: the member does not accept direct messages ({code})")
        return PlatformError(
            f"{what}: forbidden ({code})", missing_permission=missing or "a permission", role=role
        )
    # 5xx: Discord failed on its side (discord.py already retried it); the same call may work
    # later, so the grant queue retries it instead of giving up.
    return PlatformError(
        f"{what}: Discord answered {exc.status} ({code}) {exc.text}"[:300],
        transient=isinstance(exc, discord.DiscordServerError),
    )
