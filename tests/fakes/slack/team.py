"""One Slack workspace (team) of the fake: its members, channels, bot user and bot token."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .state import Channel, Ids, User
from .web_api import WebApiMixin

if TYPE_CHECKING:
    from .server import FakeSlack


class FakeTeam(WebApiMixin):
    """A workspace's state; Web API calls made with one of its tokens act on it alone."""

    def __init__(
        self,
        server: FakeSlack,
        ids: Ids,
        team_id: str,
        team_name: str,
        domain: str,
        plan: str,
        app_id: str,
    ) -> None:
        """A workspace with its bot user (token registered on the server) and #general."""
        self.server = server
        self.ids = ids
        self.team = {"id": team_id, "name": team_name, "domain": domain}
        self.plan = plan
        self.app_id = app_id
        # One app, many workspaces: the app id is shared, the bot id and bot user are per team.
        self.bot_id = "B" + team_id[1:]
        self.bot_token = f"xoxb-{team_id}-fake-{uuid.uuid4().hex[:12]}"
        self.tokens: dict[str, str] = {}
        # What each token may do: a bot token holds exactly the manifest's bot scopes.
        self.token_scopes: dict[str, frozenset[str]] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.views_opened: list[dict[str, Any]] = []
        # Per view: how often it changed (views.update or an ack), whether the member closed
        # it, and the field errors an `errors` ack showed on it.
        self.view_versions: dict[str, int] = {}
        self.closed_views: set[str] = set()
        self.view_errors: dict[str, dict[str, str]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.usergroups: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.trigger_ids: dict[str, float] = {}
        self.used_trigger_ids: set[str] = set()
        self.trigger_ttl = 3.0
        # What members saw of the app's response_url posts (ephemeral unless in_channel).
        self.response_messages: list[dict[str, Any]] = []
        # Filled by oauth.v2.access: the scopes granted and who installed the app.
        self.installed_scopes: list[str] = []
        self.installer: str | None = None
        bot = User(
            id=ids.new("U"), name="alumnibot", team_id=team_id, is_bot=True, bot_id=self.bot_id
        )
        self.users[bot.id] = bot
        self.bot_user_id = bot.id
        self.add_token(self.bot_token, bot.id)
        general = Channel(id=ids.new("C"), name="general", creator=bot.id, is_general=True)
        general.members.append(bot.id)
        self.channels[general.id] = general
        self.general_id = general.id

    # ---- the server's parts ------------------------------------------------

    def _base_url(self) -> str:
        return self.server._base_url()

    def _ws_url(self) -> str:
        return self.server._ws_url()

    @property
    def bot_scopes(self) -> frozenset[str]:
        """The bot scopes of the app's manifest (what an install grants)."""
        return frozenset(self.server.manifest["oauth_config"]["scopes"]["bot"])

    def new_response_url(
        self,
        kind: str = "command",
        user: str = "",
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """Issue a response_url on the fake; posts to it land in `responses(url)`."""
        return self.server.issue_response_url(self, kind, user, channel, message_ts)

    def show_response(self, record: Any, body: dict[str, Any]) -> None:
        """What a post to a response_url does for the member (and, in_channel, for everyone).

        On a slash command's URL, `replace_original` posts a new message: there is no
        original to replace (bolt-python issue 1268). On a button's URL it replaces (or
        `delete_original` deletes) the message that carried the button.
        """
        content = {k: body[k] for k in ("text", "blocks") if k in body}
        channel = self.channels.get(record.channel or "")
        original = channel.find(record.message_ts) if channel and record.message_ts else None
        if record.kind == "message" and original is not None:
            if body.get("delete_original"):
                channel.messages.remove(original)  # type: ignore[union-attr]
                return
            if body.get("replace_original"):
                original.update(content)
                return
        if body.get("delete_original") and record.kind == "command":
            return
        if body.get("response_type") == "in_channel" and channel is not None:
            self.store_message(channel, self.bot_user_id, {"text": "", **content})
            return
        self.response_messages.append({"user": record.user, "channel": record.channel, **content})

    def responses(self, response_url: str) -> list[dict[str, Any]]:
        """Bodies the app posted to this response_url, in order."""
        return self.server.responses(response_url)

    async def send_envelope(self, type_: str, payload: dict[str, Any], *a: Any, **kw: Any) -> Any:
        """Send a Socket Mode envelope (the app's one connection serves every team)."""
        return await self.server.send_envelope(type_, payload, *a, **kw)

    def tokens_used(self, method: str | None = None) -> list[str]:
        """The tokens that called `method` (every method when None) on this team, in order."""
        return [
            c.token
            for c in self.server.api_calls
            if c.team_id == self.team["id"] and (method is None or c.method == method)
        ]

    def uninstall(self) -> str:
        """The workspace removes the app: the bot token dies; a reinstall gets a new one.

        Returns the dead token. Deliver `{"type": "app_uninstalled"}` to tell the app.
        """
        dead = self.bot_token
        self.tokens.pop(dead, None)
        self.token_scopes.pop(dead, None)
        self.server.token_teams.pop(dead, None)
        self.bot_token = f"xoxb-{self.team['id']}-fake-{uuid.uuid4().hex[:12]}"
        self.add_token(self.bot_token, self.bot_user_id)
        self.installer = None
        self.installed_scopes = []
        return dead

    # ---- state helpers -----------------------------------------------------

    def add_user(
        self,
        name: str,
        email: str | None = None,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        user_id: str | None = None,
        display_name: str | None = None,
    ) -> str:
        """Add a workspace member and return its id.

        `name` is the user's handle (`<@U…|name>`); `display_name` what members see and type
        after `@` (default: the handle).
        """
        uid = user_id or self.ids.new("U")
        self.users[uid] = User(
            id=uid,
            name=name,
            team_id=self.team["id"],
            email=email,
            display_name=display_name,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
        )
        if uid not in self.channels[self.general_id].members:
            self.channels[self.general_id].members.append(uid)
        return uid

    def add_channel(
        self,
        name: str,
        is_private: bool = False,
        members: list[str] | None = None,
        bot_member: bool = True,
        channel_id: str | None = None,
        topic: str = "",
        purpose: str = "",
        is_archived: bool = False,
    ) -> str:
        """Add a channel directly (no name validation) and return its id."""
        cid = channel_id or self.ids.new("C")
        mem = list(dict.fromkeys(([self.bot_user_id] if bot_member else []) + (members or [])))
        creator = mem[0] if mem else self.bot_user_id
        self.channels[cid] = Channel(
            id=cid,
            name=name,
            creator=creator,
            is_private=is_private,
            members=mem,
            topic=topic,
            purpose=purpose,
            is_archived=is_archived,
        )
        return cid

    def adopt_view(self, view: dict[str, Any]) -> None:
        """A modal the app opened earlier (e.g. a fixture's), so views.update finds it."""
        stored = {k: v for k, v in view.items() if k != "state"}
        self.views[str(view["id"])] = stored
        self.view_versions.setdefault(str(view["id"]), 0)

    def add_token(
        self, token: str, user_id: str, scopes: frozenset[str] | set[str] | None = None
    ) -> None:
        """Accept another token that acts as `user_id` here (default: the bot's scopes)."""
        self.tokens[token] = user_id
        self.token_scopes[token] = frozenset(self.bot_scopes if scopes is None else scopes)
        self.server.token_teams[token] = self

    def channel_by_name(self, name: str) -> Channel:
        """Return the channel with this name (KeyError if absent)."""
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        raise KeyError(name)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """All stored messages of a channel, oldest first (replies included)."""
        return self.channels[channel_id].messages

    async def wait_for(
        self, predicate: Callable[[], object], within: float = 3.0, interval: float = 0.01
    ) -> None:
        """Poll until `predicate()` is truthy (for listeners that run after the ack)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if loop.time() > deadline:
                raise TimeoutError("condition not met within timeout")
            await asyncio.sleep(interval)
