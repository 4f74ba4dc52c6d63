"""What Discord refuses, checked the way Discord checks it: 400/50035 Invalid Form Body with an
`errors` tree naming the field, or the platform's own error code.

Every limit names its source in discord/discord-api-docs (paths under `developers/`, which
older snapshots kept under `docs/`). The error codes and messages are those of
`developers/topics/opcodes-and-status-codes.mdx` (JSON Error Codes); the `errors` tree is the one
`developers/reference.mdx` (Error Messages) shows: nested keys down to the field, then
`{"_errors": [{"code": ..., "message": ...}]}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .payloads import JSON
from .state import FakeError

# -- messages: developers/resources/message.mdx (Create Message: content "up to 2000
# characters", embeds "Up to 10 rich embeds (up to 6000 characters)"; Embed Limits table) ----
CONTENT_MAX = 2000
# developers/reference.mdx (Uploading Files): at most 10 files per message, each at most 10 MiB
# by default (boosted servers more); past that, 413 with code 40005 "Request entity too large"
# (developers/topics/opcodes-and-status-codes.mdx).
FILES_MAX = 10
FILE_BYTES_MAX = 10 * 1024 * 1024
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
# Allowed Mentions Object: "Array of role ids to mention, max 100" (users likewise).
ALLOWED_MENTION_IDS_MAX = 100
# -- components: developers/components/reference.mdx ("Legacy messages allow up to 5 action
# rows as top-level components"; Action Row "Up to 5 interactive button components";
# Button "label ... max 80 characters"; custom_id "1-100 characters", unique per message) ---
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
# -- modals: developers/interactions/receiving-and-responding.mdx (Modal: title "max 45
# characters", components "Between 1 and 5 (inclusive)"); components/reference.mdx (Label
# "label ... max 45 characters"; Text Input max_length "min 1, max 4000", value "max 4000",
# placeholder "max 100") ----------------------------------------------------------------------
MODAL_COMPONENTS_MAX = 5
MODAL_TITLE_MAX = 45
LABEL_MAX = 45
TEXT_INPUT_MAX = 4000
PLACEHOLDER_MAX = 100
# -- polls: developers/resources/poll.mdx ("maximum length of text is 300 for the question,
# and 55 for any answer"; "up to 10" answers; duration "up to 32 days") ---------------------
POLL_QUESTION_MAX = 300
POLL_ANSWER_MAX = 55
POLL_ANSWERS_MAX = 10
POLL_HOURS_MAX = 32 * 24
# -- application commands: developers/interactions/application-commands.mdx (Application
# Command Naming regex and lower case; name 1-32, description 1-100; options "max of 25";
# choices "max 25", choice name 1-100, value up to 100; max_length "minimum of 1, maximum of
# 6000"; "maximum of 8000 characters for combined name, description, and value properties";
# localization keys in developers/reference.mdx Locales) --------------------------------------
COMMAND_NAME_MAX = 32
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMAND_CHOICES_MAX = 25
COMMAND_SIZE_MAX = 8000
OPTION_MAX_LENGTH_MAX = 6000
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)
# -- invites: developers/resources/channel.mdx (Create Channel Invite: max_age "between 0 and
# 604800 (7 days)", max_uses "between 0 and 100"); topics/opcodes-and-status-codes.mdx 30016
# "Maximum number of invites reached (1000)" ---------------------------------------------------
INVITE_MAX_AGE = 604_800
INVITE_MAX_USES = 100
GUILD_INVITES_MAX = 1000
# -- interactions: developers/interactions/receiving-and-responding.mdx ("must send an initial
# response within 3 seconds"; "tokens are valid for 15 minutes") ------------------------------
FIRST_RESPONSE_SECONDS = 3.0
TOKEN_SECONDS = 15 * 60
# -- channel name and topic edits: a limit Discord does not document or advertise in headers,
# 2 per 10 minutes per channel (discord/discord-api-docs issue 2208 and pull request 2760, where
# Discord declines to document it; Rapptz/discord.py issue 9073 recommends max_ratelimit_timeout).
CHANNEL_RENAMES = 2
CHANNEL_RENAME_WINDOW = 600.0


def error(status: int, code: int, message: str, errors: JSON | None = None) -> FakeError:
    """One Discord refusal (`FakeError` carries status and JSON body)."""
    return FakeError(status, code, message, errors)


def _tree(path: Iterable[str | int], code: str, message: str) -> JSON:
    node: JSON = {"_errors": [{"code": code, "message": message}]}
    for key in reversed([str(p) for p in path]):
        node = {key: node}
    return node


def _merge(into: JSON, tree: Mapping[str, Any]) -> None:
    for key, value in tree.items():
        if key == "_errors":
            into.setdefault("_errors", []).extend(value)
        else:
            _merge(into.setdefault(key, {}), value)


class Problems:
    """Collects field errors; raise() gives the one 50035 Discord answers with."""

    def __init__(self, prefix: Iterable[str | int] = ()) -> None:
        self.prefix = list(prefix)
        self.errors: JSON = {}

    def add(self, path: Iterable[str | int], code: str, message: str) -> None:
        """One field error at `prefix + path`."""
        _merge(self.errors, _tree([*self.prefix, *path], code, message))

    def too_long(self, path: Iterable[str | int], value: Any, limit: int) -> None:
        """BASE_TYPE_MAX_LENGTH when `value` (text or list) is longer than `limit`."""
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Iterable[str | int], value: Any, low: int, high: int) -> None:
        """BASE_TYPE_BAD_LENGTH unless low <= len(value) <= high."""
        if value is None or not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def number_between(self, path: Iterable[str | int], value: Any, low: int, high: int) -> None:
        """NUMBER_TYPE_MIN / NUMBER_TYPE_MAX for a number outside [low, high]."""
        if value is None:
            return
        if int(value) < low:
            self.add(
                path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}."
            )
        elif int(value) > high:
            self.add(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}.")

    def raise_if_any(self) -> None:
        """400 / 50035 Invalid Form Body with the collected errors."""
        if self.errors:
            raise error(400, 50035, "Invalid Form Body", self.errors)


# -- messages ------------------------------------------------------------------------------


def _stripped(text: Any) -> str:
    # "Leading and trailing whitespace characters are not included" (Embed Limits).
    return str(text or "").strip()


def check_embeds(p: Problems, embeds: list[JSON]) -> None:
    """Embed Limits (resources/message.mdx), per embed and in total."""
    p.too_long(["embeds"], embeds, EMBEDS_MAX)
    total = 0
    for i, embed in enumerate(embeds):
        where: list[str | int] = ["embeds", i]
        title, description = _stripped(embed.get("title")), _stripped(embed.get("description"))
        p.too_long([*where, "title"], title, EMBED_TITLE_MAX)
        p.too_long([*where, "description"], description, EMBED_DESCRIPTION_MAX)
        total += len(title) + len(description)
        fields = embed.get("fields") or []
        p.too_long([*where, "fields"], fields, EMBED_FIELDS_MAX)
        for j, f in enumerate(fields):
            name, value = _stripped(f.get("name")), _stripped(f.get("value"))
            if not name:
                p.add([*where, "fields", j, "name"], "BASE_TYPE_REQUIRED", "This field is required")
            if not value:
                p.add(
                    [*where, "fields", j, "value"], "BASE_TYPE_REQUIRED", "This field is required"
                )
            p.too_long([*where, "fields", j, "name"], name, EMBED_FIELD_NAME_MAX)
            p.too_long([*where, "fields", j, "value"], value, EMBED_FIELD_VALUE_MAX)
            total += len(name) + len(value)
        footer = _stripped((embed.get("footer") or {}).get("text"))
        author = _stripped((embed.get("author") or {}).get("name"))
        p.too_long([*where, "footer", "text"], footer, EMBED_FOOTER_MAX)
        p.too_long([*where, "author", "name"], author, EMBED_AUTHOR_MAX)
        total += len(footer) + len(author)
    if total > EMBED_TOTAL_MAX:
        p.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def check_components(p: Problems, rows: list[JSON]) -> None:
    """Legacy (action row) components of a message (components/reference.mdx)."""
    p.too_long(["components"], rows, ACTION_ROWS_MAX)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.get("type") != 1:
            p.add(
                ["components", i, "type"],
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        children = row.get("components") or []
        p.length_between(["components", i, "components"], children, 1, ROW_BUTTONS_MAX)
        for j, child in enumerate(children):
            where: list[str | int] = ["components", i, "components", j]
            if child.get("type") == 2:
                p.too_long([*where, "label"], child.get("label"), BUTTON_LABEL_MAX)
                if not child.get("label") and not child.get("emoji"):
                    p.add(where, "BUTTON_COMPONENT_INVALID", "A label or an emoji is required")
            custom_id = child.get("custom_id")
            if custom_id is None and child.get("style") != 5:
                p.add([*where, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
            if custom_id is not None:
                p.length_between([*where, "custom_id"], custom_id, 1, CUSTOM_ID_MAX)
                if custom_id in seen:
                    p.add(
                        [*where, "custom_id"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)


def check_poll(p: Problems, poll: JSON | None) -> None:
    """Poll create request (resources/poll.mdx)."""
    if not poll:
        return
    p.length_between(
        ["poll", "question", "text"], (poll.get("question") or {}).get("text"), 1, POLL_QUESTION_MAX
    )
    answers = poll.get("answers") or []
    p.length_between(["poll", "answers"], answers, 1, POLL_ANSWERS_MAX)
    for i, answer in enumerate(answers):
        text = (answer.get("poll_media") or {}).get("text")
        p.length_between(["poll", "answers", i, "poll_media", "text"], text, 1, POLL_ANSWER_MAX)
    p.number_between(["poll", "duration"], poll.get("duration"), 1, POLL_HOURS_MAX)


def check_allowed_mentions(p: Problems, allowed: JSON | None) -> None:
    """Allowed Mentions Object (resources/message.mdx): at most 100 ids; a type may be parsed
    or listed, not both."""
    if not allowed:
        return
    parse = allowed.get("parse") or []
    for kind in ("users", "roles"):
        ids = allowed.get(kind)
        if ids is None:
            continue
        p.too_long(["allowed_mentions", kind], ids, ALLOWED_MENTION_IDS_MAX)
        if kind in parse:
            p.add(
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def check_message(
    body: JSON, files: list[JSON], *, creating: bool, prefix: Iterable[str | int] = ()
) -> None:
    """A message body as Create/Edit Message, interaction responses and webhooks take it."""
    if any(int(f.get("size") or 0) > FILE_BYTES_MAX for f in files):
        raise error(413, 40005, "Request entity too large")
    p = Problems(prefix)
    if len(files) > FILES_MAX:
        p.add(["files"], "BASE_TYPE_MAX_LENGTH", f"Must be {FILES_MAX} or fewer in length.")
    p.too_long(["content"], body.get("content") or "", CONTENT_MAX)
    check_embeds(p, body.get("embeds") or [])
    check_components(p, body.get("components") or [])
    check_poll(p, body.get("poll"))
    check_allowed_mentions(p, body.get("allowed_mentions"))
    p.raise_if_any()
    has_any = (
        body.get("content") or body.get("embeds") or body.get("components") or body.get("poll")
    )
    if creating and not has_any and not files and not body.get("sticker_ids"):
        raise error(400, 50006, "Cannot send an empty message")


# -- modals --------------------------------------------------------------------------------


def check_modal(data: JSON) -> None:
    """A MODAL (9) callback's data (interactions/receiving-and-responding.mdx, Modal)."""
    p = Problems(["data"])
    p.length_between(["title"], data.get("title"), 1, MODAL_TITLE_MAX)
    p.length_between(["custom_id"], data.get("custom_id"), 1, CUSTOM_ID_MAX)
    components = data.get("components") or []
    p.length_between(["components"], components, 1, MODAL_COMPONENTS_MAX)
    for i, component in enumerate(components[:MODAL_COMPONENTS_MAX]):
        where: list[str | int] = ["components", i]
        if component.get("type") == 18:  # Label: one component inside
            p.length_between([*where, "label"], component.get("label"), 1, LABEL_MAX)
            p.too_long([*where, "description"], component.get("description"), 100)
            _text_input(p, [*where, "component"], component.get("component") or {}, labelled=True)
        elif component.get("type") == 1:  # legacy: an action row holding one text input
            inner = component.get("components") or []
            p.length_between([*where, "components"], inner, 1, 1)
            for j, c in enumerate(inner):
                _text_input(p, [*where, "components", j], c, labelled=False)
        elif component.get("type") != 10:  # Text Display needs no check here
            p.add(
                [*where, "type"],
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1, 10, 18).',
            )
    p.raise_if_any()


def _text_input(p: Problems, where: list[str | int], c: JSON, *, labelled: bool) -> None:
    if c.get("type") != 4:
        return
    p.length_between([*where, "custom_id"], c.get("custom_id"), 1, CUSTOM_ID_MAX)
    if not labelled:
        p.length_between([*where, "label"], c.get("label"), 1, LABEL_MAX)
    elif c.get("label") is not None:
        p.add([*where, "label"], "COMPONENT_LABEL_INVALID", "label is not allowed inside a Label")
    if c.get("style") not in (1, 2):
        p.add([*where, "style"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    p.number_between([*where, "min_length"], c.get("min_length"), 0, TEXT_INPUT_MAX)
    p.number_between([*where, "max_length"], c.get("max_length"), 1, TEXT_INPUT_MAX)
    p.too_long([*where, "value"], c.get("value"), TEXT_INPUT_MAX)
    p.too_long([*where, "placeholder"], c.get("placeholder"), PLACEHOLDER_MAX)


# -- application commands -----------------------------------------------------------------


def valid_command_name(name: Any) -> bool:
    """`^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`, lower case where a letter has one."""
    if not isinstance(name, str) or not 1 <= len(name) <= COMMAND_NAME_MAX:
        return False
    return all((c.isalnum() or c in "-_'") and c == c.lower() for c in name)


def _localisations(p: Problems, where: list[str | int], values: Any, *, name: bool) -> None:
    for locale, text in (values or {}).items():
        if locale not in LOCALES:
            p.add([*where, locale], "LOCALE_INVALID", f"Invalid locale {locale!r}.")
        elif name and not valid_command_name(text):
            p.add([*where, locale], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif not name:
            p.length_between([*where, locale], text, 1, COMMAND_DESCRIPTION_MAX)


def _longest(value: Any, localisations: Any) -> int:
    # "only the longest localization for each field (including the default value) is counted"
    texts = [str(value or ""), *[str(v) for v in (localisations or {}).values()]]
    return max(len(t) for t in texts)


def _check_options(p: Problems, where: list[str | int], options: list[JSON], depth: int) -> int:
    size = 0
    p.too_long([*where, "options"], options, COMMAND_OPTIONS_MAX)
    names: set[str] = set()
    seen_optional = False
    for i, o in enumerate(options):
        at: list[str | int] = [*where, "options", i]
        type_ = int(o.get("type", 0))
        if not valid_command_name(o.get("name")):
            p.add([*at, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if o.get("name") in names:
            p.add(
                [*at, "name"],
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(str(o.get("name")))
        p.length_between([*at, "description"], o.get("description"), 1, COMMAND_DESCRIPTION_MAX)
        _localisations(p, [*at, "name_localizations"], o.get("name_localizations"), name=True)
        _localisations(
            p, [*at, "description_localizations"], o.get("description_localizations"), name=False
        )
        size += _longest(o.get("name"), o.get("name_localizations"))
        size += _longest(o.get("description"), o.get("description_localizations"))
        if type_ in (1, 2):
            if (type_ == 2 and depth > 0) or (type_ == 1 and depth > 1):
                p.add(
                    [*at, "type"],
                    "APPLICATION_COMMAND_SUBCOMMAND_NESTED",
                    "Subcommands nest at most two levels",
                )
            size += _check_options(p, at, o.get("options") or [], depth + 1)
            continue
        required = bool(o.get("required"))
        if required and seen_optional:
            p.add(
                [*at, "required"],
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
        seen_optional = seen_optional or not required
        choices = o.get("choices") or []
        p.too_long([*at, "choices"], choices, COMMAND_CHOICES_MAX)
        if o.get("autocomplete") and (choices or type_ not in (3, 4, 10)):
            # "autocomplete may not be set to true if choices are present"; only STRING,
            # INTEGER and NUMBER options autocomplete.
            p.add(
                [*at, "autocomplete"],
                "APPLICATION_COMMAND_OPTION_INVALID_AUTOCOMPLETE",
                "Autocomplete cannot be set with choices, and only on text and numbers",
            )
        for j, c in enumerate(choices):
            p.length_between([*at, "choices", j, "name"], c.get("name"), 1, 100)
            for locale, text in (c.get("name_localizations") or {}).items():
                where = [*at, "choices", j, "name_localizations", locale]
                if locale not in LOCALES:
                    p.add(where, "LOCALE_INVALID", f"Invalid locale {locale!r}.")
                else:
                    p.length_between(where, text, 1, 100)
            if isinstance(c.get("value"), str):
                p.too_long([*at, "choices", j, "value"], c["value"], 100)
            size += _longest(c.get("name"), c.get("name_localizations")) + len(str(c.get("value")))
        if "max_length" in o:
            p.number_between([*at, "max_length"], o["max_length"], 1, OPTION_MAX_LENGTH_MAX)
        if "min_length" in o:
            p.number_between([*at, "min_length"], o["min_length"], 0, OPTION_MAX_LENGTH_MAX)
    return size


def check_command(p: Problems, command: JSON) -> None:
    """One application command (CHAT_INPUT unless `type` says otherwise)."""
    type_ = int(command.get("type", 1))
    if type_ == 1 and not valid_command_name(command.get("name")):
        p.add(["name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    elif not 1 <= len(str(command.get("name") or "")) <= COMMAND_NAME_MAX:
        p.length_between(["name"], command.get("name"), 1, COMMAND_NAME_MAX)
    if type_ == 1:
        p.length_between(["description"], command.get("description"), 1, COMMAND_DESCRIPTION_MAX)
    _localisations(p, ["name_localizations"], command.get("name_localizations"), name=True)
    _localisations(
        p, ["description_localizations"], command.get("description_localizations"), name=False
    )
    size = _longest(command.get("name"), command.get("name_localizations"))
    size += _longest(command.get("description"), command.get("description_localizations"))
    size += _check_options(p, [], command.get("options") or [], 0)
    if size > COMMAND_SIZE_MAX:
        p.add([], "APPLICATION_COMMAND_TOO_LARGE", "Command exceeds maximum size (8000)")


def check_autocomplete_result(data: JSON) -> None:
    """An APPLICATION_COMMAND_AUTOCOMPLETE_RESULT (callback type 8): "autocomplete
    suggestions, up to 25 choices", each a choice (name 1-100, a string value up to 100)."""
    p = Problems(["data"])
    choices = data.get("choices")
    if not isinstance(choices, list):
        p.add(["choices"], "BASE_TYPE_REQUIRED", "This field is required")
        p.raise_if_any()
        return
    p.too_long(["choices"], choices, COMMAND_CHOICES_MAX)
    for j, c in enumerate(choices):
        p.length_between(["choices", j, "name"], c.get("name"), 1, 100)
        if isinstance(c.get("value"), str):
            p.length_between(["choices", j, "value"], c["value"], 1, 100)
    p.raise_if_any()


def check_commands(commands: list[JSON], *, bulk: bool) -> None:
    """A command upsert (one) or a bulk overwrite (errors keyed by the command's index)."""
    problems = Problems()
    for i, command in enumerate(commands):
        p = Problems([i] if bulk else [])
        check_command(p, command)
        _merge(problems.errors, p.errors)
    names = [(c.get("type", 1), c.get("name")) for c in commands]
    if len(names) != len(set(names)):
        problems.add(
            [], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
        )
    problems.raise_if_any()


# -- mentions: who a message notifies ------------------------------------------------------

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)")


def parsed_mentions(
    content: str, allowed: JSON | None, *, default_parse: tuple[str, ...]
) -> tuple[set[int], set[int], bool]:
    """(user ids, role ids, everyone) that `allowed_mentions` lets through from `content`.

    resources/message.mdx, Allowed Mentions Object: only mentions present in the content
    count; without `allowed_mentions` regular messages parse everything, interactions and
    webhooks users only; explicit ids are parsed only if their mention is in the content.
    """
    users = {int(u) for u in USER_MENTION.findall(content)}
    roles = {int(r) for r in ROLE_MENTION.findall(content)}
    everyone = bool(EVERYONE_MENTION.search(content))
    parse = tuple(allowed.get("parse") or ()) if allowed is not None else default_parse
    allowed_users = (
        users if "users" in parse else users & {int(u) for u in (allowed or {}).get("users") or []}
    )
    allowed_roles = (
        roles if "roles" in parse else roles & {int(r) for r in (allowed or {}).get("roles") or []}
    )
    return allowed_users, allowed_roles, everyone and "everyone" in parse
