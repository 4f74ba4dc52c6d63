"""The Slack app manifest, generated from the bot's command tree: `alumnibot slack manifest`."""

from __future__ import annotations

import json
from typing import Any

from bot.commands import ROOT, Command
from bot.domain import Language
from bot.i18n import t

# Only what the code uses (tests/test_slack_scopes.py checks both ways): each scope's reason.
BOT_SCOPES = (
    "channels:history",  # message.channels events: posts counted, nudges
    "channels:join",  # conversations.join: back into a public channel the bot left
    "channels:manage",  # conversations.create/rename/setTopic/invite/kick, public channels
    "channels:read",  # conversations.list/info/members, public channels
    "chat:write",  # chat.postMessage/postEphemeral/update
    "commands",  # /alumni
    "files:write",  # files_upload_v2: the stats chart, the privacy export
    "groups:history",  # message.groups events: posts in private channels
    "groups:read",  # conversations.list/info/members, private channels (roles, staff)
    "groups:write",  # private channels: create, rename, invite, kick, topic
    "im:write",  # conversations.open: DMs (welcome, answers, files)
    "usergroups:read",  # usergroups.list/users.list: adopt an existing group
    "usergroups:write",  # usergroups.create/update/users.update: roles on paid plans
    "users:read",  # users.info/list, team_join and user_change events
    "users:read.email",  # team_join emails matched against the roster
)
BOT_EVENTS = (
    "app_home_opened",
    # Installed by OAuth: an uninstall or revoked token removes the stored installation.
    "app_uninstalled",
    "message.channels",
    "message.groups",
    "team_join",
    "tokens_revoked",
    "user_change",
)


def commands() -> list[Command]:
    """Every command of the bot (the cogs are loaded on a workspace that is never called)."""
    from adapters.compose import compose, no_storage
    from adapters.slack.workspace import SlackWorkspace
    from bot.core import CoreConfig

    async def no_client(group_id: str) -> Any:
        raise RuntimeError("the manifest needs no Slack client")

    bot = compose(CoreConfig(), SlackWorkspace(no_client), no_storage)
    return bot.tree.all()


# Slack's limits (slackapi/manifest-schema, schemas/manifest.schema.1.0.0.json): a slash
# command's description 1-2000 and usage hint 1-1000 characters; the app's description 1-140,
# its long description 175-4000. Texts are written to fit; the hint drops whole groups.
USAGE_HINT_MAX = 1000


def usage_hint(cmds: list[Command]) -> str:
    """`categories add|list|... · help · ...` within Slack's 1000 characters, never cut mid-word."""
    groups: dict[str, list[str]] = {}
    for cmd in cmds:
        groups.setdefault(cmd.path[0], [])
        if len(cmd.path) == 2:
            groups[cmd.path[0]].append(cmd.path[1])
    hint = ""
    for g, subs in groups.items():
        part = f"{g} {'|'.join(subs)}" if subs else g
        joined = f"{hint} · {part}" if hint else part
        if len(joined) > USAGE_HINT_MAX:
            break
        hint = joined
    return hint


def manifest(
    url: str = "https://alumnibot.example.org",
    *,
    socket_mode: bool = False,
    name: str = "alumnibot",
    language: Language = Language.EN,
) -> dict[str, Any]:
    """The manifest as a dict, its texts in the group's language (Slack shows one language);
    `url` is where Slack reaches the bot in HTTP mode."""
    events_url = url.rstrip("/") + "/slack/events"
    slash: dict[str, Any] = {
        "command": f"/{ROOT}",
        # The same line Discord's picker shows for /alumni (the features' catalogues).
        "description": t(language, "core.commands.alumni.description"),
        "usage_hint": usage_hint(commands()),
        # Mentions arrive as ids (`<@U123|kari>`), not as display names that may hold spaces
        # or belong to two people (docs.slack.dev/interactivity/implementing-slash-commands).
        "should_escape": True,
    }
    event_subscriptions: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        slash["url"] = events_url
        event_subscriptions["request_url"] = events_url
        interactivity["request_url"] = events_url
    return {
        "display_information": {
            "name": name,
            "description": t(language, "slack.manifest.description"),
            "long_description": t(language, "slack.manifest.long_description"),
            "background_color": "#2c2d30",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [slash],
        },
        "oauth_config": {
            "redirect_urls": [url.rstrip("/") + "/slack/oauth_redirect"],
            "scopes": {"bot": list(BOT_SCOPES)},
        },
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def to_yaml(value: Any, indent: int = 0) -> str:
    """A small YAML writer for the manifest's dicts, lists, strings and booleans."""
    pad = "  " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
        return "\n".join(lines)
    return pad + _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, ensure_ascii=False)


def render(
    fmt: str = "yaml",
    url: str | None = None,
    socket_mode: bool = False,
    language: Language = Language.EN,
) -> str:
    """The manifest as YAML (Slack's default editor format) or JSON."""
    data = manifest(
        url or "https://alumnibot.example.org", socket_mode=socket_mode, language=language
    )
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    return to_yaml(data) + "\n"
