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
_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}
# Discord's names for the permissions, as a teacher finds them in Server Settings.
MANAGE_ROLES = "Manage Roles"
MANAGE_CHANNELS = "Manage Channels"
CREATE_INVITE = "Create Invite"
SEND_MESSAGES = "Send Messages"
VIEW_CHANNEL = "View Channel"
CREATE_THREADS = "Create Public Threads"


def clip(text: str, limit: int) -> str:
    """Text cut to Discord's limit with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_custom_id(button: Button) -> str:
    """`alumni:<action>:<value>`; Discord allows 100 characters."""
    custom_id = f"{BUTTON_PREFIX}:{button.action}:{button.value}"
    if len(custom_id) > 100:
        raise ValueError(f"button custom_id too long: {custom_id[:40]}…")
    return custom_id


def parse_button_custom_id(custom_id: str) -> tuple[str, str] | None:
    """(action, value) of one of our buttons, else None."""
    prefix, sep, rest = custom_id.partition(":")
    if prefix != BUTTON_PREFIX or not sep:
        return None
    action, _, value = rest.partition(":")
    return (action, value) if action else None


def form_custom_id(form: FormSpec) -> str:
    """`alumni-form:<form_id>:<context>`; Discord allows 100 characters."""
    custom_id = f"{FORM_PREFIX}:{form.form_id}:{form.context}"
    if len(custom_id) > 100:
        raise ValueError(f"form custom_id too long: {custom_id[:40]}…")
    return custom_id


def parse_form_custom_id(custom_id: str) -> tuple[str, str] | None:
    """(form_id, context) of one of our modals, else None."""
    prefix, sep, rest = custom_id.partition(":")
    if prefix != FORM_PREFIX or not sep:
        return None
    form_id, _, context = rest.partition(":")
    return (form_id, context) if form_id else None


class ButtonsView(discord.ui.View):
    """Buttons only: presses are routed by custom_id in the interaction listener, so the view
    is never kept in discord.py's view store (it would grow forever and not survive a restart)."""

    def __init__(self, buttons: tuple[Button, ...]) -> None:
        super().__init__(timeout=None)
        for i, b in enumerate(buttons[:25]):
            self.add_item(
                discord.ui.Button(
                    label=clip(b.label, 80),
                    custom_id=button_custom_id(b),
                    style=_STYLES.get(b.style, discord.ButtonStyle.secondary),
                    row=i // 5,
                )
            )

    def is_dispatchable(self) -> bool:
        """Never stored: see the class docstring."""
        return False


def build_modal(form: FormSpec) -> discord.ui.Modal:
    """A modal with one labelled text input per field (Discord allows five)."""
    modal = discord.ui.Modal(title=clip(form.title, 45), custom_id=form_custom_id(form))
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


def message_kwargs(message: OutgoingMessage, *, with_poll: bool = True) -> dict[str, Any]:
    """Keyword arguments for send/edit: content, embed, view, file, poll, allowed_mentions.

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
        kwargs["view"] = ButtonsView(message.buttons)
    return kwargs


def platform_error(
    exc: discord.HTTPException, *, missing: str | None = None, what: str = ""
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
            f"{what}: forbidden ({code})", missing_permission=missing or "a permission"
        )
    return PlatformError(f"{what}: Discord answered {exc.status} ({code}) {exc.text}"[:300])
