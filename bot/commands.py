"""One command tree: typed options and a permission level per command, rendered per platform."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.dates import parse_date
from bot.domain import Language, Permission
from bot.errors import UserError
from bot.i18n import catalogue, either
from bot.i18n import number as formatted

ROOT = "alumni"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# The longest command text read at all: the longest option (a roster pasted into `emails:`,
# 50,000 characters) and room for the rest. Checked before any parsing, so a megabyte of text
# is refused at once instead of holding the event loop while it is split.
MAX_COMMAND_TEXT = 60_000
# One piece of a word as POSIX shell quoting reads it: plain characters, an escaped character,
# a single- or double-quoted string; or the whitespace between words. A regular expression
# splits in C, where shlex took about 13 microseconds a character in Python.
_PIECE = re.compile(r"""([^\s\\'"]+)|\\(.)|'([^']*)'|"((?:[^"\\]+|\\.)*)"|(\s+)""", re.DOTALL)
_DQ_ESCAPE = re.compile(r'\\([\\"n])')
# Inside double quotes `\n` is a line break (a roster or a description typed on one line).
_DQ_MEANING = {"\\": "\\", '"': '"', "n": "\n"}


class OptionType(StrEnum):
    """Types an option can have; each platform renders them natively where it can."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    USER = "user"
    CHOICE = "choice"
    # A file the member uploads (Discord) or names (the local terminal: `roster:file:x.csv`);
    # the adapter hands the core its text.
    ATTACHMENT = "attachment"


@dataclass(frozen=True)
class Option:
    """One named option of a command."""

    name: str
    type: OptionType = OptionType.STRING
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 200
    min_value: int | None = None
    max_value: int | None = None
    rest: bool = False
    # Where a platform that suggests values as they are typed (Discord's autocomplete) finds
    # them: a source in bot/suggest.py (`cohort`, `category`, `role`).
    complete: str | None = None
    # The catalogue section naming each choice as members type it in their language
    # (`posts.kind_word` -> "salg" for `sale`): such a word is read as its choice, and refusals
    # list the words of the member's language.
    words: str = ""

    def choice_words(self, language: Language) -> list[str]:
        """The choices as a member of `language` types them."""
        if not self.words:
            return list(self.choices)
        return [catalogue(language).get(f"{self.words}.{c}", c) for c in self.choices]


Handler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Command:
    """A leaf command: `/alumni <path...>` with options, a permission and help text keys."""

    path: tuple[str, ...]
    permission: Permission
    help_key: str
    options: tuple[Option, ...] = ()
    handler: Handler | None = field(default=None, compare=False)
    default_of_group: bool = False

    @property
    def text_key(self) -> str:
        """Where its picker texts live: `<namespace>.commands.<path>` in its help's catalogue.

        `.description` is the one line a command picker shows (Discord: 1-100 characters);
        `.options.<name>` describes each option the same way.
        """
        return command_key(self.help_key.split(".", 1)[0], self.path)

    def option_key(self, option: Option) -> str:
        """The catalogue key of an option's one-line description."""
        return f"{self.text_key}.options.{option.name}"

    @property
    def usage(self) -> str:
        """`/alumni path opt:<opt> [opt:<opt>]` as a member would type it."""
        parts = [f"/{ROOT}", *self.path]
        for opt in self.options:
            token = f"{opt.name}:<{opt.name}>"
            parts.append(token if opt.required else f"[{token}]")
        return " ".join(parts)


def command_key(namespace: str, path: tuple[str, ...]) -> str:
    """`pairs.commands.pairs_join`: a command's (or a group's) texts in a feature's catalogue."""
    return f"{namespace}.commands.{'_'.join(path)}"


class CommandTree:
    """Every command of the bot, declared once."""

    def __init__(self) -> None:
        self._commands: dict[tuple[str, ...], Command] = {}

    def add(self, command: Command) -> None:
        """Register a command; paths are at most two words (Discord's nesting limit)."""
        if not 1 <= len(command.path) <= 2 or not all(_NAME.match(p) for p in command.path):
            raise ValueError(f"bad command path {command.path}")
        if command.path in self._commands:
            raise ValueError(f"duplicate command {command.path}")
        if len(command.path) == 1 and any(p[0] == command.path[0] for p in self._commands):
            raise ValueError(f"{command.path[0]} is already a group")
        if len(command.path) == 2 and (command.path[0],) in self._commands:
            raise ValueError(f"{command.path[0]} is already a command")
        for opt in command.options:
            if not _NAME.match(opt.name):
                raise ValueError(f"bad option name {opt.name}")
        self._commands[command.path] = command

    def all(self) -> list[Command]:
        """Commands sorted by path."""
        return sorted(self._commands.values(), key=lambda c: c.path)

    def groups(self) -> dict[str, list[Command]]:
        """Two-word commands by their first word."""
        out: dict[str, list[Command]] = {}
        for cmd in self.all():
            if len(cmd.path) == 2:
                out.setdefault(cmd.path[0], []).append(cmd)
        return out

    def group_key(self, group: str) -> str:
        """The catalogue key of a group's texts: in the catalogue of its first command."""
        first = self.groups()[group][0]
        return command_key(first.help_key.split(".", 1)[0], (group,))

    def resolve(self, words: tuple[str, ...]) -> tuple[Command, tuple[str, ...]]:
        """The command the words name and the words left over; UserError if none."""
        lowered = tuple(w.lower() for w in words)
        if not lowered:
            raise UserError("core.command_missing")
        if lowered[:2] in self._commands and len(lowered) >= 2:
            return self._commands[lowered[:2]], words[2:]
        if lowered[:1] in self._commands:
            return self._commands[lowered[:1]], words[1:]
        group = self.groups().get(lowered[0])
        if group:
            default = next((c for c in group if c.default_of_group), None)
            if default is not None:
                return default, words[1:]
            raise UserError(
                "core.subcommand_missing",
                group=lowered[0],
                choices=", ".join(c.path[1] for c in group),
            )
        raise UserError("core.command_unknown", command=lowered[0])


def split_words(text: str) -> list[str]:
    """Words as a POSIX shell splits them (quotes and backslashes), refusing overlong text.

    UserError `core.command_too_long` before anything is parsed; `core.quote_unbalanced` for
    a quote left open or a backslash at the very end.
    """
    if len(text) > MAX_COMMAND_TEXT:
        raise UserError("core.command_too_long", count=MAX_COMMAND_TEXT)
    words: list[str] = []
    current: list[str] | None = None
    pos = 0
    while pos < len(text):
        piece = _PIECE.match(text, pos)
        if piece is None:
            raise UserError("core.quote_unbalanced")
        pos = piece.end()
        plain, escaped, single, double, space = piece.groups()
        if space is not None:
            if current is not None:
                words.append("".join(current))
                current = None
            continue
        if current is None:
            current = []
        if double is not None:
            # Inside double quotes a backslash escapes a backslash or a double quote, and `\n`
            # is a new line; any other backslash stays as typed.
            current.append(_DQ_ESCAPE.sub(lambda m: _DQ_MEANING[m.group(1)], double))
        else:
            current.append(next(p for p in (plain, escaped, single) if p is not None))
    if current is not None:
        words.append("".join(current))
    return words


def split_command_text(text: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Split `categories add name:"Studio space" x` into words and name:value options."""
    tokens = split_words(text)
    words: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        name, sep, value = token.partition(":")
        if sep and _NAME.match(name.lower()) and not value.startswith("//"):
            options[name.lower()] = value
        else:
            words.append(token)
    return tuple(words), options


def convert_options(
    command: Command,
    raw: dict[str, str],
    leftover: tuple[str, ...],
    language: Language = Language.EN,
) -> dict[str, Any]:
    """Check and convert raw option strings to typed values; UserError names what is wrong."""
    known = {o.name: o for o in command.options}
    rest = next((o for o in command.options if o.rest), None)
    raw = dict(raw)
    if leftover:
        if rest is None:
            raise UserError("core.unexpected_words", words=" ".join(leftover), usage=command.usage)
        # `text:First words of it`: the named value comes first, the leftover words follow it.
        raw[rest.name] = " ".join([raw.get(rest.name, ""), *leftover]).strip()
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise UserError("core.option_unknown", option=unknown[0], usage=command.usage)
    out: dict[str, Any] = {}
    for opt in command.options:
        value = raw.get(opt.name)
        if value is None or value == "":
            if opt.required:
                raise UserError("core.option_missing", option=opt.name, usage=command.usage)
            continue
        out[opt.name] = _convert(opt, value.strip(), language)
    return out


def check_length(opt: Option, value: str, language: Language) -> None:
    """Refuse a value (or an attached file's text) longer than the option takes, the limit
    written as the language writes numbers ("500 000" in bokmål)."""
    if len(value) > opt.max_length:
        limit = formatted(language, opt.max_length)
        raise UserError("core.option_too_long", option=opt.name, limit=limit)


def _convert(opt: Option, value: str, language: Language) -> Any:
    if opt.type is OptionType.ATTACHMENT:
        return value  # a reference the adapter resolves after the permission check
    check_length(opt, value, language)
    if opt.type is OptionType.INTEGER:
        try:
            number = int(value)
        except ValueError as exc:
            raise UserError("core.option_not_integer", option=opt.name, value=value) from exc
        if (opt.min_value is not None and number < opt.min_value) or (
            opt.max_value is not None and number > opt.max_value
        ):
            raise UserError(
                "core.option_out_of_range",
                option=opt.name,
                low=opt.min_value if opt.min_value is not None else "",
                high=opt.max_value if opt.max_value is not None else "",
            )
        return number
    if opt.type is OptionType.BOOLEAN:
        lowered = value.lower()
        if lowered in {"yes", "true", "on", "ja", "1"}:
            return True
        if lowered in {"no", "false", "off", "nei", "0"}:
            return False
        raise UserError("core.option_not_boolean", option=opt.name, value=value)
    if opt.type is OptionType.DATE:
        day = parse_date(value)
        if day is None:
            raise UserError("core.option_not_date", option=opt.name, value=value)
        return day
    if opt.type is OptionType.CHOICE:
        lowered = value.lower()
        if lowered in opt.choices:
            return lowered
        # A choice's word in either language: a Norwegian group may share a bilingual staff.
        for lang in Language:
            for choice, word in zip(opt.choices, opt.choice_words(lang), strict=True):
                if word.lower() == lowered:
                    return choice
        raise UserError(
            "core.option_not_choice",
            option=opt.name,
            value=value,
            choices=either(language, opt.choice_words(language)),
        )
    if opt.type is OptionType.USER:
        return value.removeprefix("@").removeprefix("<@").removesuffix(">")
    return value
