"""The command text parser and option conversion."""

from __future__ import annotations

from datetime import date

import pytest

from bot.commands import (
    Command,
    CommandTree,
    Option,
    OptionType,
    convert_options,
    split_command_text,
)
from bot.domain import Permission
from bot.errors import UserError


def test_split_words_and_options() -> None:
    words, opts = split_command_text('categories add name:"Studio space" link:https://x.no/a:b')
    assert words == ("categories", "add")
    assert opts == {"name": "Studio space", "link": "https://x.no/a:b"}


def test_resolve_default_subcommand() -> None:
    tree = CommandTree()
    tree.add(Command(("invite", "cohort"), Permission.STAFF, "k", default_of_group=True))
    tree.add(Command(("invite", "friend"), Permission.MEMBER, "k"))
    assert tree.resolve(("invite",))[0].path == ("invite", "cohort")
    assert tree.resolve(("invite", "friend"))[0].path == ("invite", "friend")
    with pytest.raises(ValueError):
        tree.add(Command(("invite",), Permission.STAFF, "k"))


def test_conversion() -> None:
    cmd = Command(
        ("x",),
        Permission.MEMBER,
        "k",
        (
            Option("when", OptionType.DATE),
            Option("n", OptionType.INTEGER, min_value=1, max_value=9),
            Option("words", rest=True),
        ),
    )
    out = convert_options(cmd, {"when": "2029-06-15", "n": "3"}, ("hello", "there"))
    assert out == {"when": date(2029, 6, 15), "n": 3, "words": "hello there"}
    with pytest.raises(UserError) as err:
        convert_options(cmd, {"n": "12"}, ())
    assert err.value.key == "core.option_out_of_range"
    with pytest.raises(UserError):
        convert_options(cmd, {"when": "someday"}, ())
