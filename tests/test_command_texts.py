"""Every command and option reads well in a picker, in both languages, within Discord's limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from adapters.discord.translate import application_commands, staff_commands
from adapters.slack.manifest import commands as all_commands
from adapters.slack.manifest import manifest
from bot.__main__ import main
from bot.commands import Command, CommandTree, OptionType
from bot.domain import Language, Permission
from bot.i18n import catalogue
from tests.fakes.discord import limits

# What a picker showed before the commands had texts: "cohort (string)", a bare name, a key.
PLACEHOLDER = re.compile(
    r"\((?:" + "|".join(t.value for t in OptionType) + r")\)|^[a-z_]+(?:\.[a-z_]+)+$|TODO|\{"
)


def _tree() -> CommandTree:
    tree = CommandTree()
    for cmd in all_commands():
        tree.add(cmd)
    return tree


def _texts() -> list[tuple[str, str]]:
    """(what, catalogue key) for every text a picker shows: roots, groups, commands, options."""
    tree = _tree()
    out = [("/alumni", "core.commands.alumni.description")]
    out.append(("/alumni (staff)", "core.commands.alumni_staff.description"))
    out += [(f"/alumni {g}", f"{tree.group_key(g)}.description") for g in tree.groups()]
    for cmd in tree.all():
        name = " ".join(cmd.path)
        out.append((f"/alumni {name}", f"{cmd.text_key}.description"))
        out += [(f"/alumni {name} {o.name}:", cmd.option_key(o)) for o in cmd.options]
    return out


@pytest.mark.parametrize(("what", "key"), _texts(), ids=[w for w, _ in _texts()])
def test_every_command_and_option_has_a_real_text_in_both_languages(what: str, key: str) -> None:
    english = catalogue(Language.EN).get(key)
    norwegian = catalogue(Language.NB).get(key)
    assert english and norwegian, f"{what}: {key} missing in {'en' if not english else 'nb'}"
    for text in (english, norwegian):
        # Discord: description 1-100 characters (application-commands.mdx); written to fit,
        # never cut.
        assert 1 <= len(text) <= limits.COMMAND_DESCRIPTION_MAX, f"{what}: {len(text)}: {text}"
        assert not PLACEHOLDER.search(text), f"{what}: placeholder {text!r}"
        assert text.lower().rstrip(".") != what.split()[-1].rstrip(":"), f"{what}: only its name"
        assert not text.endswith("…")
    assert english != norwegian, f"{what}: the Norwegian text is the English one"


def test_discord_gets_both_roots_within_its_limits_with_norwegian_for_every_text() -> None:
    tree = _tree()
    members, staff = application_commands(tree), staff_commands(tree)
    # What Discord itself checks (the strict fake: names, lengths, 25 options, 8000 in all).
    limits.check_commands(members, bulk=True)
    limits.check_commands(staff, bulk=True)
    assert members[0].get("default_member_permissions") is None
    assert int(staff[0]["default_member_permissions"]) != 0

    roots = {"core.commands.alumni.description": members[0]}
    roots["core.commands.alumni_staff.description"] = staff[0]
    for key, root in roots.items():
        assert root["description_localizations"] == {"no": catalogue(Language.NB)[key]}
        for path, node in _walk(root, "/alumni")[1:]:
            expected = {"no": catalogue(Language.NB)[_key_of(tree, path)]}
            assert node["description_localizations"] == expected, path
    # Every command is in exactly one of the two, by its level.
    by_level = {" ".join(c.path) for c in tree.all() if c.permission is Permission.MEMBER}
    assert _leaves(members[0]) == by_level
    assert _leaves(staff[0]) == {" ".join(c.path) for c in tree.all()} - by_level


def _walk(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(path, node)]
    for child in node.get("options") or []:
        found += _walk(child, f"{path} {child['name']}")
    return found


def _leaves(root: dict[str, Any]) -> set[str]:
    """The subcommands of a root payload, as `group sub` / `sub`."""
    return {p.removeprefix("/alumni ") for p, n in _walk(root, "/alumni")[1:] if n["type"] == 1}


def _key_of(tree: CommandTree, path: str) -> str:
    """The catalogue key of the text Discord shows for a node of the payload."""
    words = path.split()[1:]
    commands = {c.path: c for c in tree.all()}
    for size in (2, 1):
        cmd: Command | None = commands.get(tuple(words[:size]))
        if cmd is not None:
            rest = words[size:]
            if not rest:
                return f"{cmd.text_key}.description"
            return cmd.option_key(next(o for o in cmd.options if o.name == rest[0]))
    return f"{tree.group_key(words[0])}.description"


def test_the_slack_manifest_describes_alumni_in_the_groups_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["slack", "manifest", "--format", "json", "--language", "nb"]) == 0
    norwegian = json.loads(capsys.readouterr().out)
    english = manifest()
    for data, language in ((english, Language.EN), (norwegian, Language.NB)):
        (slash,) = data["features"]["slash_commands"]
        assert slash["description"] == catalogue(language)["core.commands.alumni.description"]
        # slackapi/manifest-schema: usage hint 1-1000, app description 1-140, long 175-4000.
        assert 1 <= len(slash["usage_hint"]) <= 1000
        assert {c.path[0] for c in all_commands()} <= set(re.split(r"[ |·]+", slash["usage_hint"]))
        info = data["display_information"]
        assert 1 <= len(info["description"]) <= 140
        assert (
            175 <= len(info["long_description"]) <= 4000 and "..." not in info["long_description"]
        )
    assert norwegian["display_information"] != english["display_information"]


def test_choices_are_named_for_people_and_send_the_value_the_command_knows() -> None:
    labels = {k for k in catalogue(Language.EN) if ".choices." in k}
    assert labels == {k for k in catalogue(Language.NB) if ".choices." in k}
    staff = staff_commands(_tree())[0]
    settings = next(o for o in staff["options"] if o["name"] == "settings")
    language = next(o for o in settings["options"] if o["name"] == "language")
    assert language["choices"] == [
        {"name": "English", "value": "en", "name_localizations": {"no": "engelsk"}},
        {"name": "Norwegian bokmål", "value": "nb", "name_localizations": {"no": "norsk bokmål"}},
    ]
    for cmd in all_commands():
        for opt in cmd.options:
            for value in opt.choices:
                key = f"{cmd.text_key}.choices.{opt.name}.{value}"
                if key in labels:
                    assert 1 <= len(catalogue(Language.NB)[key]) <= 100, key
