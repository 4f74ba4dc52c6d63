"""Block Kit rendering of the core's OutgoingMessage and FormSpec; text is escaped, never pings."""

from __future__ import annotations

import copy
import re
from typing import Any

from bot.messages import ButtonStyle, FormSpec, OutgoingMessage, link_channels
from bot.safety import clip

ACTION_PREFIX = "alumni:"
VALUE_ACTION = "value"
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
# Slack's limits (docs.slack.dev/reference/block-kit/blocks and each block's page): section
# text 3000, field 2000, header 150, button label 75, value 2000; 50 blocks in a message and
# 100 in a modal or App Home; message text 40,000 (chat.postMessage).
_SECTION = 3000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
_TEXT = 40_000


def escape(text: str) -> str:
    """Escape &, < and > so member text cannot form `<!here>`, `<@U..>` or `<!subteam^..>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """The core's Markdown subset as Slack mrkdwn, escaped first (`**bold**` -> `*bold*`)."""
    return _BOLD.sub(r"*\1*", escape(text))


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def _chunks(text: str, size: int) -> list[str]:
    """Pieces of at most `size`, never cutting an escape (`&amp;`) or a mention in two."""
    out: list[str] = []
    while len(text) > size:
        cut = size
        amp, angle = text.rfind("&", size - 6, size), text.rfind("<", size - 40, size)
        for mark, end in ((amp, ";"), (angle, ">")):
            if mark != -1 and text.find(end, mark) >= size:
                cut = min(cut, mark)
        cut = cut or size
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out


def action_id(action: str, index: int) -> str:
    """`alumni:<action>`; later buttons with the same action get `:<n>` (ids must be unique)."""
    return f"{ACTION_PREFIX}{action}" if index == 0 else f"{ACTION_PREFIX}{action}:{index}"


def parse_action_id(value: str) -> str | None:
    """The core action of an `alumni:<action>[:n]` action id, or None for foreign ones."""
    if not value.startswith(ACTION_PREFIX):
        return None
    action = value[len(ACTION_PREFIX) :]
    # Core actions may contain colons themselves (`onb:claim`); only a numeric tail is an index.
    head, colon, tail = action.rpartition(":")
    if colon and tail.isdigit():
        action = head
    return action or None


def _linked(channels: tuple[tuple[str, str], ...], escaped: str) -> str:
    """Escaped text with the channels it names as Slack's links (`<#C123>`, after escaping, so
    no member text can make one)."""
    return link_channels(escaped, channels, lambda channel_id: f"<#{channel_id}>")


def message_blocks(message: OutgoingMessage, mentions: str = "") -> list[dict[str, Any]]:
    """Header, sections (text, then fields), and an actions block with the buttons."""
    blocks: list[dict[str, Any]] = []
    if message.title:
        # plain_text is never parsed for mentions, so the title needs no escaping here.
        blocks.append({"type": "header", "text": _plain(message.title, 150)})
    body = _linked(message.channels, mrkdwn(message.text))
    if mentions:
        # Mentions are built by the adapter from ids, after escaping: the only way to notify.
        body = f"{mentions} {body}"
    if body.strip():
        for chunk in _chunks(body, _SECTION):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    linked = message.channels
    fields = [
        {"type": "mrkdwn", "text": f"*{escape(name)}*\n{_linked(linked, mrkdwn(value))}"[:2000]}
        for name, value in message.fields
    ]
    for i in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[i : i + 10]})
    if message.buttons:
        seen: dict[str, int] = {}
        elements = []
        for button in message.buttons[:25]:
            n = seen.get(button.action, 0)
            seen[button.action] = n + 1
            element: dict[str, Any] = {
                "type": "button",
                "text": _plain(button.label, 75),
                "action_id": action_id(button.action, n),
                "value": button.value[:2000],
            }
            if button.style in (ButtonStyle.PRIMARY, ButtonStyle.SUCCESS):
                element["style"] = "primary"
            elif button.style is ButtonStyle.DANGER:
                element["style"] = "danger"
            elements.append(element)
        buttons = {"type": "actions", "block_id": "alumni-buttons", "elements": elements}
        # The buttons must survive a long text: the sections give way first.
        return [*blocks[: MESSAGE_BLOCKS - 1], buttons]
    return blocks[:MESSAGE_BLOCKS]


def fallback_text(message: OutgoingMessage, mentions: str = "") -> str:
    """The notification text (also what screen readers and old clients show).

    Slack parses it like mrkdwn, so the title and the text are escaped alike: a member's
    `<!channel>` in a job title must not reach everyone's phone. Only `mentions`, built by the
    adapter from ids, stay live.
    """
    head = f"{escape(message.title)}: " if message.title else ""
    text = f"{mentions} {head}{_linked(message.channels, escape(message.text))}".strip()
    return _chunks(text, 3000)[0] or " "


def modal(form: FormSpec, submit: str, close: str) -> dict[str, Any]:
    """A modal: callback_id is the form id, private_metadata carries the context."""
    blocks = []
    for field in form.fields[:100]:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": VALUE_ACTION,
            "multiline": field.long,
            "max_length": min(field.max_length, 3000),
        }
        if field.placeholder:
            element["placeholder"] = _plain(field.placeholder, 150)
        if field.default:
            element["initial_value"] = field.default[:3000]
        blocks.append(
            {
                "type": "input",
                "block_id": field.name,
                "label": _plain(field.label, 2000),
                "optional": not field.required,
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": form.form_id,
        # A modal shows at most VIEW_BLOCKS blocks; forms never come near it.
        "private_metadata": form.context[:3000],
        "title": _plain(form.title, 24),
        "submit": _plain(submit, 24),
        "close": _plain(close, 24),
        "blocks": blocks,
    }


def form_values(state: dict[str, Any]) -> dict[str, str]:
    """`view.state.values` flattened to {block_id: value} (text, selects, dates alike)."""
    out: dict[str, str] = {}
    for block_id, actions in (state.get("values") or {}).items():
        for action in actions.values():
            value = (
                action.get("value")
                or action.get("selected_conversation")
                or action.get("selected_channel")
                or action.get("selected_user")
                or action.get("selected_date")
                or (action.get("selected_option") or {}).get("value")
            )
            out[block_id] = "" if value is None else str(value)
            break
    return out


def home_view(message: OutgoingMessage) -> dict[str, Any]:
    """The App Home: the title as header, the text, then each field's lines in sections of at
    most 3000 characters (a long command list spans several)."""
    blocks: list[dict[str, Any]] = []
    if message.title:
        blocks.append({"type": "header", "text": _plain(message.title, 150)})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(message.text)}})
    for name, value in message.fields:
        blocks.append({"type": "divider"})
        chunk = f"*{escape(name)}*"
        for line in value.split("\n"):
            if len(chunk) + len(line) + 1 > _SECTION:
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
                chunk = ""
            chunk = f"{chunk}\n{escape(line)}" if chunk else escape(line)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


def notice_view(
    title: str, text: str, close: str, channels: tuple[tuple[str, str], ...] = ()
) -> dict[str, Any]:
    """A modal that only shows text (what a submitted form turns into), linking `channels`."""
    return {
        "type": "modal",
        "title": _plain(title, 24),
        "close": _plain(close, 24),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
            for chunk in _chunks(_linked(channels, mrkdwn(text)), _SECTION)
        ][:VIEW_BLOCKS],
    }


def working_view(view: dict[str, Any], text: str) -> dict[str, Any]:
    """What a submitted modal shows while the bot works (no submit button: no second send)."""
    title = (view.get("title") or {}).get("text") or "alumnibot"
    return {
        "type": "modal",
        "callback_id": str(view.get("callback_id", "")),
        "private_metadata": str(view.get("private_metadata", "")),
        "title": _plain(str(title), 24),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(text)}}],
    }


def form_again(
    view: dict[str, Any], values: dict[str, str], errors: dict[str, str], note: str
) -> dict[str, Any]:
    """The submitted form once more, the member's answers filled in and each error on its field.

    Nothing the member typed is lost; `errors` holds the text for each block id (`hint` shows
    it under the field, as the `errors` ack would have).
    """
    inputs = {str(b.get("block_id")) for b in view.get("blocks") or [] if b.get("type") == "input"}
    # An error for a field the view does not show goes into the note above the fields.
    loose = [text for block_id, text in errors.items() if block_id not in inputs]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn("\n".join([note, *loose]))}}
    ]
    for block in copy.deepcopy(view.get("blocks") or []):
        if block.get("type") == "input":
            block_id = str(block.get("block_id", ""))
            element = block.get("element") or {}
            value = values.get(block_id)
            if value and element.get("type") == "plain_text_input":
                element["initial_value"] = value[: int(element.get("max_length") or 3000)]
            block.pop("hint", None)
            if block_id in errors:
                block["hint"] = _plain("⚠ " + errors[block_id], 2000)
        blocks.append(block)
    out: dict[str, Any] = {
        key: copy.deepcopy(view[key])
        for key in ("callback_id", "private_metadata", "title", "submit", "close")
        if key in view
    }
    return {"type": "modal", **out, "blocks": blocks[:VIEW_BLOCKS]}
