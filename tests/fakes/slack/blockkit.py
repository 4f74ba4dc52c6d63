"""Block Kit limits as Slack enforces them, with Slack's own error strings and JSON pointers.

Slack answers a message that breaks a limit with `invalid_blocks` and a view with
`invalid_arguments`; both name the failing field by a JSON pointer, e.g.
`must be less than 3001 characters [json-pointer:/blocks/0/text/text]`. The message forms are
the ones Slack prints (seen in its responses, e.g. `no more than 50 items allowed
[json-pointer:/blocks]`); the numbers come from the pages cited at each limit.
"""

from __future__ import annotations

from typing import Any

from .state import SlackError

# docs.slack.dev/reference/block-kit/blocks: "You can include up to 50 blocks in each message,
# and 100 blocks in modals or Home tabs."
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# docs.slack.dev/reference/methods/chat.postMessage ("Truncating content"): Slack truncates text
# over 40,000 characters and lists `msg_too_long`; the fake refuses instead of truncating.
MESSAGE_TEXT = 40_000
# docs.slack.dev/reference/block-kit/blocks/section-block: text 3000, fields 10 of 2000 each.
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
# docs.slack.dev/reference/block-kit/blocks/header-block: text 150.
HEADER_TEXT = 150
# docs.slack.dev/reference/block-kit/blocks/actions-block: at most 25 elements.
ACTION_ELEMENTS = 25
# docs.slack.dev/reference/block-kit/blocks/context-block: at most 10 elements.
CONTEXT_ELEMENTS = 10
# docs.slack.dev/reference/block-kit/block-elements/button-element: text 75, action_id 255,
# value 2000.
BUTTON_TEXT = 75
ACTION_ID = 255
BUTTON_VALUE = 2000
# docs.slack.dev/reference/block-kit/blocks (block_id, every block): 255.
BLOCK_ID = 255
# docs.slack.dev/reference/block-kit/blocks/input-block: label 2000, hint 2000.
INPUT_LABEL = 2000
INPUT_HINT = 2000
# docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element: max_length 3000,
# placeholder 150.
INPUT_MAX_LENGTH = 3000
PLACEHOLDER = 150
# docs.slack.dev/reference/views/modal-views ("Modal view fields"): title, submit and close 24;
# private_metadata 3000; callback_id 255.
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255


class Problems:
    """Collects Slack's messages for every broken limit (Slack lists them all, not the first)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def long(self, value: Any, limit: int, pointer: str) -> None:
        """A string field longer than `limit` characters."""
        if isinstance(value, str) and len(value) > limit:
            less = f"must be less than {limit + 1} characters"
            self.messages.append(f"{less} [json-pointer:{pointer}]")

    def many(self, items: Any, limit: int, pointer: str) -> None:
        """A list with more than `limit` items."""
        if isinstance(items, list) and len(items) > limit:
            self.messages.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")

    def bad(self, message: str, pointer: str) -> None:
        """Any other refusal."""
        self.messages.append(f"{message} [json-pointer:{pointer}]")


def _text(problems: Problems, obj: Any, limit: int, pointer: str) -> None:
    if isinstance(obj, dict):
        problems.long(obj.get("text"), limit, f"{pointer}/text")


def _element(problems: Problems, element: Any, pointer: str) -> None:
    if not isinstance(element, dict):
        problems.bad("must be an object", pointer)
        return
    problems.long(element.get("action_id"), ACTION_ID, f"{pointer}/action_id")
    if element.get("type") == "button":
        _text(problems, element.get("text"), BUTTON_TEXT, f"{pointer}/text")
        problems.long(element.get("value"), BUTTON_VALUE, f"{pointer}/value")
    if element.get("type") == "plain_text_input":
        limit = element.get("max_length")
        if isinstance(limit, int) and limit > INPUT_MAX_LENGTH:
            problems.bad(f"must be less than {INPUT_MAX_LENGTH + 1}", f"{pointer}/max_length")
        problems.long(element.get("initial_value"), INPUT_MAX_LENGTH, f"{pointer}/initial_value")
        _text(problems, element.get("placeholder"), PLACEHOLDER, f"{pointer}/placeholder")


def _block(problems: Problems, block: Any, pointer: str) -> None:
    if not isinstance(block, dict) or "type" not in block:
        problems.bad("must provide a type", pointer)
        return
    problems.long(block.get("block_id"), BLOCK_ID, f"{pointer}/block_id")
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            problems.bad("must provide text or fields", pointer)
        _text(problems, block.get("text"), SECTION_TEXT, f"{pointer}/text")
        fields = block.get("fields")
        problems.many(fields, SECTION_FIELDS, f"{pointer}/fields")
        for i, f in enumerate(fields if isinstance(fields, list) else []):
            _text(problems, f, FIELD_TEXT, f"{pointer}/fields/{i}")
        if isinstance(block.get("accessory"), dict):
            _element(problems, block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        _text(problems, block.get("text"), HEADER_TEXT, f"{pointer}/text")
    elif kind == "actions":
        elements = block.get("elements")
        problems.many(elements, ACTION_ELEMENTS, f"{pointer}/elements")
        for i, e in enumerate(elements if isinstance(elements, list) else []):
            _element(problems, e, f"{pointer}/elements/{i}")
    elif kind == "context":
        problems.many(block.get("elements"), CONTEXT_ELEMENTS, f"{pointer}/elements")
    elif kind == "input":
        _text(problems, block.get("label"), INPUT_LABEL, f"{pointer}/label")
        _text(problems, block.get("hint"), INPUT_HINT, f"{pointer}/hint")
        _element(problems, block.get("element"), f"{pointer}/element")


def _blocks(problems: Problems, blocks: Any, limit: int, pointer: str) -> None:
    if not isinstance(blocks, list):
        problems.bad("must be an array", pointer)
        return
    problems.many(blocks, limit, pointer)
    for i, block in enumerate(blocks):
        _block(problems, block, f"{pointer}/{i}")


def check_message(text: str | None, blocks: Any) -> None:
    """chat.postMessage / chat.update / chat.postEphemeral content, as Slack checks it."""
    if text is not None and len(text) > MESSAGE_TEXT:
        # docs.slack.dev/reference/methods/chat.postMessage, errors: msg_too_long.
        raise SlackError("msg_too_long")
    if blocks is None:
        return
    problems = Problems()
    _blocks(problems, blocks, MESSAGE_BLOCKS, "/blocks")
    if problems.messages:
        # Slack's shape for chat.*: `errors` plus the same lines in response_metadata.messages.
        raise SlackError(
            "invalid_blocks",
            errors=list(problems.messages),
            response_metadata={"messages": [f"[ERROR] {m}" for m in problems.messages]},
        )


def view_problems(view: Any, pointer: str = "/view") -> list[str]:
    """Every broken limit of a modal or Home tab view (empty when Slack would take it)."""
    problems = Problems()
    if not isinstance(view, dict):
        problems.bad("must be an object", pointer)
        return problems.messages
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.bad("failed to match all allowed schemas", pointer)
        return problems.messages
    if kind == "modal":
        title = view.get("title")
        if not isinstance(title, dict) or not title.get("text"):
            problems.bad("must provide an object", f"{pointer}/title")
        for key in ("title", "submit", "close"):
            _text(problems, view.get(key), VIEW_TITLE, f"{pointer}/{key}")
    problems.long(view.get("private_metadata"), PRIVATE_METADATA, f"{pointer}/private_metadata")
    problems.long(view.get("callback_id"), CALLBACK_ID, f"{pointer}/callback_id")
    _blocks(problems, view.get("blocks", []), VIEW_BLOCKS, f"{pointer}/blocks")
    return problems.messages


def check_view(view: Any) -> None:
    """views.open / push / update / publish: Slack's `invalid_arguments` with its messages."""
    messages = view_problems(view)
    if messages:
        raise SlackError(
            "invalid_arguments",
            response_metadata={"messages": [f"[ERROR] {m}" for m in messages]},
        )
