"""The manifest asks for exactly the bot scopes the code uses: none missing, none to spare.

Missing scopes show in every flow test (the fake answers `missing_scope`, as Slack does, to a
token that holds only the manifest's scopes). Scopes to spare show here: each Web API method
the adapter calls and each event it subscribes to is mapped to the scope Slack's docs name for
it (tests/fakes/slack/scopes.py cites the pages), and the union must equal the manifest's list.
"""

from __future__ import annotations

import re
from pathlib import Path

from adapters.slack.manifest import BOT_EVENTS, BOT_SCOPES, manifest
from tests.fakes.slack import scopes as needs

ADAPTER = Path(__file__).resolve().parents[1] / "adapters" / "slack"
# "conversations.create" as the workspace passes it, or `client.views_open(` as the SDK names it.
_METHOD = re.compile(r'"((?:auth|chat|conversations|files|team|usergroups|users|views)\.[\w.]+)"')
_SDK = re.compile(r"client\.(auth_test|views_\w+|files_upload_v2|chat_\w+|users_\w+)\(")
# files_upload_v2 is two Web API calls (docs.slack.dev/messaging/working-with-files).
_SDK_METHODS = {"files_upload_v2": ["files.getUploadURLExternal", "files.completeUploadExternal"]}
# The conversations the bot works with: public category channels, private role and staff
# channels (never group DMs); DMs only through conversations.open.
_KINDS = (0, 1)


def methods_called() -> set[str]:
    """Every Web API method the adapter's code names."""
    found: set[str] = set()
    for path in ADAPTER.glob("*.py"):
        source = path.read_text()
        found |= set(_METHOD.findall(source))
        for name in _SDK.findall(source):
            found |= set(_SDK_METHODS.get(name, [name.replace("_", ".", 1)]))
    return found


def scopes_for(method: str) -> set[str]:
    """The scopes a method needs for the conversations the bot uses it on."""
    if method in needs.FIXED:
        scope = needs.FIXED[method]
        return {scope} if scope else set()
    if method == "conversations.open":
        return {needs.MANAGE[2]}  # one member: a DM (im:write)
    if method == "conversations.list":
        return {needs.READ[k] for k in _KINDS}
    if method in needs.BY_CONVERSATION:
        return {needs.BY_CONVERSATION[method][k] for k in _KINDS}
    raise AssertionError(f"no scope known for {method}: add it to tests/fakes/slack/scopes.py")


def test_the_manifest_lists_exactly_the_scopes_the_code_uses() -> None:
    called = methods_called()
    assert {"conversations.create", "chat.postMessage", "views.open", "users.info"} <= called
    used = set().union(*(scopes_for(m) for m in called))
    for event in BOT_EVENTS:
        assert event in needs.EVENTS, f"no scope known for the {event} event"
        scope = needs.EVENTS[event]
        used |= {scope} if scope else set()
    used.add(needs.SLASH_COMMANDS)
    used.add(needs.EMAIL)  # team_join and users.info: the roster is matched by email
    assert set(BOT_SCOPES) == used, (
        f"in the manifest but unused: {sorted(set(BOT_SCOPES) - used)}; "
        f"used but missing: {sorted(used - set(BOT_SCOPES))}"
    )
    assert manifest()["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert needs.WRITE_PUBLIC not in BOT_SCOPES and "team:read" not in BOT_SCOPES
