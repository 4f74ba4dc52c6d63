"""The Workspace port on Slack's Web API: prefixed channels, roles projected onto private channels.

Slack has no roles and no channel categories. A role is a private channel `alumni-role-<name>`
(plus a user group where the plan has them); its platform id is `<channel id>` or
`<channel id>:<user group id>`. The bot's database stays the truth for who holds what.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape, fallback_text, message_blocks
from bot.errors import PlatformError
from bot.events import ChannelRef, MessageRef
from bot.messages import ChannelSpec, OutgoingMessage, RoleSpec, Visibility
from bot.ports import Capabilities, GroupFacts, MemberInfo
from bot.safety import channel_name

log = logging.getLogger(__name__)

PREFIX = "alumni-"
ROLE_PREFIX = PREFIX + "role-"
# A user-group handle must be unique among channels, users and user groups
# (docs.slack.dev/reference/methods/usergroups.create, `handle`); the bot's channels all start
# with PREFIX + a category (`alumni-discussion`), so handles get a prefix of their own.
HANDLE_PREFIX = PREFIX + "group-"
ClientFor = Callable[[str], Awaitable[AsyncWebClient]]
# Errors that mean "no user groups here" (free plan, missing scope, admins-only setting).
_NO_USERGROUPS = {"paid_teams_only", "missing_scope", "permission_denied", "not_allowed_token_type"}
_INFO_TTL = 60.0
# Errors Slack documents for a failure on its side (every Web API method lists them), as
# opposed to a refusal of the call: the same call may work later.
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_STATUS = "_http_status"  # where `_try` keeps the HTTP status of a failed call
# conversations.invite answers for a user who is in the channel after all.
_INVITED = {"already_in_channel", "cant_invite_self"}
# The role key whose holders belong in staff-only channels.
# (burst, calls per minute) the bot allows itself: Slack's Tier 3 and Tier 2.
_TIERS = {
    "conversations.invite": (20, 50),
    "conversations.kick": (20, 50),
    "usergroups.users.update": (10, 20),
}


class Pacer:
    """A token bucket: `burst` calls at once, then `per_minute` spread evenly."""

    def __init__(self, burst: int, per_minute: int) -> None:
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.rate = per_minute / 60.0
        self.stamp = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        """Take a token, sleeping until one is there."""
        async with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                await asyncio.sleep((1 - self.tokens) / self.rate)
                self.stamp = time.monotonic()
                self.tokens = 1.0
            self.tokens -= 1


@dataclass
class _RoleBatch:
    """Role changes collected by `role_batch`: invites per channel, user-group edits per role."""

    group_id: str
    invites: dict[str, dict[str, None]] = field(default_factory=dict)
    kicks: dict[str, dict[str, None]] = field(default_factory=dict)
    usergroups: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)


_BATCH: ContextVar[_RoleBatch | None] = ContextVar("slack_role_batch", default=None)


def split_role_id(role_id: str) -> tuple[str, str | None]:
    """(private channel id, user group id or None) of a projected role."""
    channel, _, usergroup = role_id.partition(":")
    return channel, usergroup or None


def platform_error(exc: SlackApiError) -> PlatformError:
    """A Slack refusal as the core's PlatformError (naming the missing scope when Slack does)."""
    error = str(exc.response.get("error", "unknown_error"))
    needed = exc.response.get("needed") if error == "missing_scope" else None
    transient = _transient(error, exc.response.status_code)
    return PlatformError(f"slack: {error}", missing_permission=needed, transient=transient)


def _transient(error: str, status: int | None) -> bool:
    """Slack failed on its side (HTTP 5xx, or the errors its docs list for that): try later."""
    return (status is not None and status >= 500) or error in _TRANSIENT


def _refusal(data: dict[str, Any], error: str, users: tuple[str, ...] = ()) -> PlatformError:
    """PlatformError for an error code `_try` returned (`users`: only theirs failed)."""
    status = data.get(_STATUS)
    return PlatformError(
        f"slack: {error}" + (f" (HTTP {status})" if status and status >= 500 else ""),
        missing_permission=data.get("needed"),
        transient=_transient(error, status if isinstance(status, int) else None),
        users=users,
    )


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", ""))


class SlackWorkspace:
    """The Workspace port over one AsyncWebClient per workspace (team id = group id)."""

    platform = "slack"
    # Slack cannot stop members posting in a channel below Enterprise Grid (channel posting
    # permissions are an Enterprise Grid admin setting): the core tells them instead.
    capabilities = Capabilities(polls=False, enforces_posting=False)

    def __init__(
        self,
        client_for: ClientFor,
        *,
        invite_link: str | None = None,
    ) -> None:
        self.client_for = client_for
        # The bot's records of each group, given by the core (None: only the platform's).
        self.facts: GroupFacts | None = None
        self.invite_link = invite_link
        self._members: dict[tuple[str, str], tuple[float, MemberInfo | None]] = {}
        self._role_names: dict[str, str] = {}
        self._pacers: dict[tuple[str, str], Pacer] = {}

    def use_facts(self, facts: GroupFacts) -> None:
        """The core's records: who holds which role, which channels are staff-only."""
        self.facts = facts

    async def _call(self, group_id: str, method: str, **params: Any) -> dict[str, Any]:
        """One Web API call; a refusal becomes PlatformError (never read as 'no data')."""
        client = await self.client_for(group_id)
        try:
            # The SDK's typed method encodes each call as Slack expects (JSON or form).
            response = await getattr(client, method.replace(".", "_"))(**params)
        except SlackApiError as exc:
            raise platform_error(exc) from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _try(self, group_id: str, method: str, **params: Any) -> tuple[dict[str, Any], str]:
        """Like _call, but returns Slack's error code instead of raising (for expected ones)."""
        client = await self.client_for(group_id)
        try:
            response = await getattr(client, method.replace(".", "_"))(**params)
        except SlackApiError as exc:
            data = dict(exc.response.data or {}) if isinstance(exc.response.data, dict) else {}
            data[_STATUS] = exc.response.status_code
            return data, _error(exc)
        return (dict(response.data) if isinstance(response.data, dict) else {}), ""

    # -- channels ----------------------------------------------------------------------------

    async def _pages(
        self, group_id: str, method: str, **params: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Each page of a paginated Web API method, following `next_cursor` to the end."""
        cursor = ""
        while True:
            page = await self._call(group_id, method, cursor=cursor, **params)
            yield page
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return

    async def _find_channel(self, group_id: str, name: str) -> dict[str, Any] | None:
        pages = self._pages(
            group_id,
            "conversations.list",
            types="public_channel,private_channel",
            exclude_archived=False,
            limit=200,
        )
        async for page in pages:
            for ch in page.get("channels", []):
                if ch.get("name") == name:
                    return dict(ch)
        return None

    async def _create_or_adopt(self, group_id: str, name: str, private: bool) -> dict[str, Any]:
        """conversations.create; a taken name is adopted (unarchived, joined), not an error."""
        data, error = await self._try(
            group_id, "conversations.create", name=name, is_private=private
        )
        if not error:
            return dict(data["channel"])
        if error != "name_taken":
            raise _refusal(data, error)
        found = await self._find_channel(group_id, name)
        if found is None:
            # A private channel the bot is not in: nothing we can adopt.
            raise _refusal(data, f"name_taken ({name})")
        if found.get("is_archived"):
            await self._call(group_id, "conversations.unarchive", channel=found["id"])
        if not found.get("is_member") and not found.get("is_private"):
            await self._call(group_id, "conversations.join", channel=found["id"])
        return found

    async def channel_exists(self, group_id: str, channel_id: str) -> ChannelRef | None:
        """The channel unless it is gone or archived (archived counts as deleted on Slack)."""
        data, error = await self._try(group_id, "conversations.info", channel=channel_id)
        if error == "channel_not_found":
            return None
        if error:
            raise _refusal(data, error)
        ch = data["channel"]
        if ch.get("is_archived"):
            return None
        return ChannelRef(channel_id, str(ch.get("name", "")))

    async def create_channel(self, group_id: str, spec: ChannelSpec) -> ChannelRef:
        """A prefixed channel; staff-only visibility is a private channel with staff invited."""
        name = self._name(spec.name)
        private = spec.visibility is Visibility.STAFF
        ch = await self._create_or_adopt(group_id, name, private)
        await self._describe(group_id, ch["id"], spec, ch)
        if private:
            await self._invite_staff(group_id, ch["id"], spec.staff_role_id)
        return ChannelRef(ch["id"], str(ch.get("name", name)))

    async def _describe(
        self, group_id: str, channel_id: str, spec: ChannelSpec, ch: dict[str, Any]
    ) -> bool:
        topic = spec.topic[:250]
        changed = False
        if (ch.get("topic") or {}).get("value", "") != topic:
            await self._call(group_id, "conversations.setTopic", channel=channel_id, topic=topic)
            changed = True
        if (ch.get("purpose") or {}).get("value", "") != topic:
            await self._call(
                group_id, "conversations.setPurpose", channel=channel_id, purpose=topic
            )
            changed = True
        return changed

    async def _channel_members(self, group_id: str, channel_id: str) -> list[str]:
        members: list[str] = []
        pages = self._pages(group_id, "conversations.members", channel=channel_id, limit=1000)
        async for page in pages:
            members += page.get("members", [])
        return members

    async def _invite_staff(
        self, group_id: str, channel_id: str, staff_role_id: str | None
    ) -> bool:
        """Invite the staff role's members and the workspace admins who are not in yet.

        Workspace admins and owners are group admins: they see what staff see.
        """
        staff = set(await self._admins(group_id))
        if staff_role_id:
            staff_channel, _ = split_role_id(staff_role_id)
            if await self.channel_exists(group_id, staff_channel) is not None:
                staff |= set(await self._channel_members(group_id, staff_channel))
        present = set(await self._channel_members(group_id, channel_id))
        missing = sorted(staff - present)
        if missing:
            await self._invite(group_id, channel_id, missing)
        return bool(missing)

    async def _admins(self, group_id: str) -> list[str]:
        """Workspace admins and owners (users.list; bots and deactivated users left out)."""
        admins: list[str] = []
        async for page in self._pages(group_id, "users.list", limit=200):
            for user in page.get("members", []):
                info = member_from_user(user)
                if info is not None and info.is_admin and not info.is_bot:
                    admins.append(info.id)
        return admins

    async def _invite(self, group_id: str, channel_id: str, users: Sequence[str]) -> None:
        """conversations.invite in batches of 1000 (Slack's maximum), skipping who is in.

        With `force` Slack invites the valid users and lists the others in `errors` (a user
        removed from the workspace, for one); those are raised as PlatformError.users, so the
        caller records the rest and not them.
        """
        refused: dict[str, str] = {}
        for i in range(0, len(users), 1000):
            await self._pace(group_id, "conversations.invite")
            batch = ",".join(users[i : i + 1000])
            data, error = await self._try(
                group_id, "conversations.invite", channel=channel_id, users=batch, force=True
            )
            per_user = {
                str(e.get("user")): str(e.get("error"))
                for e in data.get("errors") or []
                if isinstance(e, dict) and e.get("error") not in _INVITED
            }
            if error and error not in _INVITED and not per_user:
                raise _refusal(data, error)
            refused.update(per_user)
        if refused:
            first = next(iter(refused.values()))
            raise _refusal({}, first, users=tuple(refused))

    async def apply_channel_spec(self, group_id: str, channel_id: str, spec: ChannelSpec) -> bool:
        """Restore topic/purpose and, for staff-only channels, the staff members; not the name."""
        data = await self._call(group_id, "conversations.info", channel=channel_id)
        ch = data["channel"]
        changed = await self._describe(group_id, channel_id, spec, ch)
        if spec.visibility is Visibility.STAFF:
            if not ch.get("is_private"):
                # Slack cannot turn a public channel private through the API.
                log.warning("staff-only channel %s is public; an admin must convert it", channel_id)
            changed = await self._invite_staff(group_id, channel_id, spec.staff_role_id) or changed
        return changed

    async def rename_channel(self, group_id: str, channel_id: str, name: str) -> None:
        """Rename, keeping the prefix that stands in for categories."""
        await self._call(
            group_id, "conversations.rename", channel=channel_id, name=self._name(name)
        )

    @staticmethod
    def _name(name: str) -> str:
        name = channel_name(name)
        full = name if name.startswith(PREFIX) else PREFIX + name
        return full[:80].rstrip("-")

    # -- roles (projected) ---------------------------------------------------------------------

    async def role_exists(self, group_id: str, role_id: str) -> bool:
        """The role's private channel is there and not archived."""
        channel, _ = split_role_id(role_id)
        return await self.channel_exists(group_id, channel) is not None

    async def create_role(self, group_id: str, spec: RoleSpec) -> str:
        """A private channel `alumni-role-<name>`, plus a user group where the plan allows."""
        name = ROLE_PREFIX + channel_name(spec.name)
        ch = await self._create_or_adopt(group_id, name[:80], private=True)
        channel_id = str(ch["id"])
        self._role_names[channel_id] = spec.name
        usergroup = await self._usergroup(group_id, spec.name)
        return f"{channel_id}:{usergroup}" if usergroup else channel_id

    async def rename_role(self, group_id: str, role_id: str, name: str) -> None:
        """Rename the role's private channel (conversations.rename), then its user group's name
        and handle (usergroups.update); a refused user group renames the channel back, so a
        refusal leaves the role as it was."""
        channel, usergroup = split_role_id(role_id)
        info = await self._call(group_id, "conversations.info", channel=channel)
        old = str(info["channel"].get("name", ""))
        new = (ROLE_PREFIX + channel_name(name))[:80].rstrip("-")
        await self._call(group_id, "conversations.rename", channel=channel, name=new)
        if usergroup:
            data, error = await self._try(
                group_id,
                "usergroups.update",
                usergroup=usergroup,
                name=f"Alumni {name}",
                handle=(HANDLE_PREFIX + channel_name(name))[:80].rstrip("-"),
            )
            if error and error not in _NO_USERGROUPS:
                if old and old != new:
                    await self._call(group_id, "conversations.rename", channel=channel, name=old)
                raise _refusal(data, error)
        self._role_names[channel] = name

    async def _usergroup(self, group_id: str, name: str) -> str | None:
        base = HANDLE_PREFIX + channel_name(name)
        # A workspace may still hold a channel or member of that name: the next free number.
        for n in range(1, 6):
            handle = base if n == 1 else f"{base}-{n}"
            data, error = await self._try(
                group_id, "usergroups.create", name=f"Alumni {name}", handle=handle
            )
            if error != "name_taken":
                break
        if not error:
            return str(data["usergroup"]["id"])
        if error in _NO_USERGROUPS:
            log.info("no user groups for %s (%s): roles are private channels only", group_id, error)
            return None
        if error == "name_already_exists":
            # Ours from an earlier setup (its handle may be older than HANDLE_PREFIX): adopted.
            listed, error = await self._try(group_id, "usergroups.list", include_disabled=True)
            for ug in listed.get("usergroups", []):
                if ug.get("name") == f"Alumni {name}":
                    return str(ug["id"])
        log.warning("could not create user group %s in %s: %s", name, group_id, error)
        return None

    async def set_roles(
        self, group_id: str, user_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """Invite to / remove from role channels, then rewrite each touched user group.

        Inside `role_batch` the invites, removals and user-group writes wait for the batch's
        end, where each channel gets one `conversations.invite` for everyone (up to 1000 users
        a call): a batch Slack refuses then changes nothing before its invites went through.
        """
        batch = _BATCH.get()
        if batch is not None and batch.group_id != group_id:
            batch = None
        staff_channels = await self._staff_only_channels(group_id, [*add, *remove])
        for role_id in add:
            channel, _ = split_role_id(role_id)
            for target in [channel, *staff_channels.get(role_id, [])]:
                if batch is not None:
                    batch.invites.setdefault(target, {})[user_id] = None
                else:
                    await self._invite(group_id, target, [user_id])
        for role_id in remove:
            channel, _ = split_role_id(role_id)
            targets = [channel]
            if staff_channels.get(role_id):
                info = await self.member_info(group_id, user_id)
                # Workspace admins stay group admins without the role: they keep the channels.
                if not (info and info.is_admin):
                    targets += staff_channels[role_id]
            for target in targets:
                if batch is not None:
                    batch.kicks.setdefault(target, {})[user_id] = None
                else:
                    await self._kick(group_id, target, user_id)
        for role_id in [*add, *remove]:
            _, usergroup = split_role_id(role_id)
            if not usergroup:
                continue
            if batch is None:
                await self._sync_usergroup(group_id, role_id, usergroup, user_id, role_id in add)
                continue
            added, removed = batch.usergroups.setdefault(role_id, (set(), set()))
            (added if role_id in add else removed).add(user_id)
            (removed if role_id in add else added).discard(user_id)

    @contextlib.asynccontextmanager
    async def role_batch(self, group_id: str) -> AsyncIterator[None]:
        """Collect `set_roles` calls of this task; send them together when the block exits."""
        batch = _RoleBatch(group_id)
        token = _BATCH.set(batch)
        try:
            yield
        finally:
            _BATCH.reset(token)
        # Reached only when the block succeeded: a failure leaves the queue to try again. The
        # caller records the changes only once this returned (the platform accepted them).
        refused: dict[str, str] = {}
        for channel, invited in batch.invites.items():
            try:
                await self._invite(group_id, channel, [u for u in invited if u not in refused])
            except PlatformError as exc:
                if not exc.users:
                    raise
                refused.update(dict.fromkeys(exc.users, str(exc)))
        for channel, kicked in batch.kicks.items():
            for user_id in kicked:
                if user_id not in refused:
                    await self._kick(group_id, channel, user_id)
        for role_id, (added, removed) in batch.usergroups.items():
            _, usergroup = split_role_id(role_id)
            assert usergroup is not None
            holders = set(await self._holders(group_id, role_id, usergroup))
            users = (holders | (added - set(refused))) - removed
            await self._write_usergroup(group_id, usergroup, users)
        if refused:
            # Only these members' changes failed: the caller records everyone else's.
            raise PlatformError(next(iter(refused.values())), users=tuple(refused))

    async def _staff_only_channels(
        self, group_id: str, role_ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """{staff role id: staff-only channels} when the staff role is among `role_ids`.

        Slack has no channel permissions: holding the staff role means being in those
        private channels, so granting and revoking it must follow there too.
        """
        if self.facts is None or not role_ids:
            return {}
        staff, channels = await self.facts.staff_channels(group_id)
        if staff is None or staff not in role_ids:
            return {}
        return {staff: list(channels)}

    async def _kick(self, group_id: str, channel_id: str, user_id: str) -> None:
        await self._pace(group_id, "conversations.kick")
        data, error = await self._try(
            group_id, "conversations.kick", channel=channel_id, user=user_id
        )
        if error and error not in ("not_in_channel", "channel_not_found", "is_archived"):
            raise _refusal(data, error)

    async def _pace(self, group_id: str, method: str) -> None:
        """Stay under the method's rate tier (the retry handler is only the safety net)."""
        pacer = self._pacers.get((group_id, method))
        if pacer is None:
            burst, per_minute = _TIERS[method]
            pacer = self._pacers[(group_id, method)] = Pacer(burst, per_minute)
        await pacer.wait()

    async def _sync_usergroup(
        self, group_id: str, role_id: str, usergroup: str, user_id: str, granted: bool
    ) -> None:
        """usergroups.users.update replaces the whole list: read (bot's records), modify, write."""
        users = set(await self._holders(group_id, role_id, usergroup))
        if granted:
            users.add(user_id)
        else:
            users.discard(user_id)
        await self._write_usergroup(group_id, usergroup, users)

    async def _write_usergroup(self, group_id: str, usergroup: str, users: set[str]) -> None:
        if not users:
            # Slack refuses an empty list (no_users_provided); the channel still projects it.
            log.info("user group %s would be empty; left as it is", usergroup)
            return
        await self._pace(group_id, "usergroups.users.update")
        data, error = await self._try(
            group_id, "usergroups.users.update", usergroup=usergroup, users=",".join(sorted(users))
        )
        if error and error not in _NO_USERGROUPS:
            raise _refusal(data, error)

    async def _holders(self, group_id: str, role_id: str, usergroup: str) -> list[str]:
        if self.facts is not None:
            holders = await self.facts.holders(group_id, role_id)
            if holders is not None:
                return holders
        data = await self._call(group_id, "usergroups.users.list", usergroup=usergroup)
        return list(data.get("users", []))

    async def _mentions(self, group_id: str, message: OutgoingMessage) -> str:
        """`<!subteam^S..>` where a role has a user group, else its name as plain text."""
        parts: list[str] = []
        for role_id in message.ping_roles:
            channel, usergroup = split_role_id(role_id)
            if usergroup:
                parts.append(f"<!subteam^{usergroup}>")
                continue
            name = self._role_names.get(channel)
            if name is None:
                data, error = await self._try(group_id, "conversations.info", channel=channel)
                raw = str((data.get("channel") or {}).get("name", "")) if not error else ""
                name = raw.removeprefix(ROLE_PREFIX) or "role"
                self._role_names[channel] = name
            parts.append("@" + escape(name))
        parts += [f"<@{u}>" for u in message.ping_users if u.isalnum()]
        return " ".join(parts)

    # -- messages ----------------------------------------------------------------------------

    async def _post(
        self, group_id: str, channel_id: str, message: OutgoingMessage, thread_id: str | None
    ) -> dict[str, Any]:
        mentions = await self._mentions(group_id, message)
        params: dict[str, Any] = {
            "channel": channel_id,
            "text": fallback_text(message, mentions),
            "blocks": message_blocks(message, mentions),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_id:
            params["thread_ts"] = thread_id
        data, error = await self._try(group_id, "chat.postMessage", **params)
        if error == "not_in_channel":
            # A public channel the bot left: join and retry once (private ones need an invite).
            await self._call(group_id, "conversations.join", channel=channel_id)
            data = await self._call(group_id, "chat.postMessage", **params)
        elif error:
            raise _refusal(data, error)
        await self.attach(group_id, channel_id, message, thread_id or None)
        return data

    async def attach(
        self, group_id: str, channel_id: str, message: OutgoingMessage, thread_id: str | None
    ) -> None:
        """Upload the message's image and file (files_upload_v2) into a channel or thread."""
        for path in (message.image_path, message.file_path):
            if not path:
                continue
            client = await self.client_for(group_id)
            try:
                await client.files_upload_v2(
                    channel=channel_id, file=path, thread_ts=thread_id, title=message.title
                )
            except SlackApiError as exc:
                raise platform_error(exc) from exc

    async def send(
        self, group_id: str, channel_id: str, message: OutgoingMessage, thread_id: str | None = None
    ) -> MessageRef:
        """Post in a channel, or as a reply in the thread under `thread_id` (a message ts)."""
        data = await self._post(group_id, channel_id, message, thread_id)
        return MessageRef(str(data.get("channel", channel_id)), str(data["ts"]), thread_id)

    async def edit(self, group_id: str, ref: MessageRef, message: OutgoingMessage) -> None:
        """chat.update of a message the bot sent."""
        mentions = await self._mentions(group_id, message)
        await self._call(
            group_id,
            "chat.update",
            channel=ref.channel_id,
            ts=ref.id,
            text=fallback_text(message, mentions),
            blocks=message_blocks(message, mentions),
        )

    async def open_thread(self, group_id: str, ref: MessageRef, name: str) -> str:
        """Slack threads need no opening: replies carry the parent's ts."""
        return ref.id

    async def send_dm(self, group_id: str, user_id: str, message: OutgoingMessage) -> MessageRef:
        """conversations.open, then post there."""
        channel = await self.dm_channel(group_id, user_id)
        data = await self._post(group_id, channel, message, None)
        return MessageRef(channel, str(data["ts"]))

    async def dm_channel(self, group_id: str, user_id: str) -> str:
        """The id of the bot's direct-message channel with a member (conversations.open)."""
        opened = await self._call(group_id, "conversations.open", users=user_id)
        return str(opened["channel"]["id"])

    async def send_private(
        self, group_id: str, channel_id: str, user_id: str, message: OutgoingMessage
    ) -> None:
        """chat.postEphemeral; a DM when the member is not in that channel."""
        mentions = await self._mentions(group_id, message)
        data, error = await self._try(
            group_id,
            "chat.postEphemeral",
            channel=channel_id,
            user=user_id,
            text=fallback_text(message, mentions),
            blocks=message_blocks(message, mentions),
        )
        if error in ("user_not_in_channel", "channel_not_found", "not_in_channel"):
            await self.send_dm(group_id, user_id, message)
        elif error:
            raise _refusal(data, error)

    async def create_invite(self, group_id: str, max_uses: int, max_age_seconds: int) -> str | None:
        """The workspace's shared invite link from SLACK_INVITE_LINK (Slack has no invite API)."""
        return self.invite_link or None

    async def member_info(self, group_id: str, user_id: str) -> MemberInfo | None:
        """users.info: workspace admins and owners are admins; cached for a minute."""
        key = (group_id, user_id)
        cached = self._members.get(key)
        if cached is not None and time.monotonic() - cached[0] < _INFO_TTL:
            return cached[1]
        data, error = await self._try(group_id, "users.info", user=user_id)
        if error in ("user_not_found", "user_not_visible"):
            info = None
        elif error:
            raise _refusal(data, error)
        else:
            info = member_from_user(data["user"])
        self._members[key] = (time.monotonic(), info)
        return info

    async def member_roles(self, group_id: str, user_id: str) -> set[str] | None:
        """The projected roles a member holds on Slack now: those whose private channel they
        are in (and user group, where the role has one); None if they are not in the group."""
        if await self.member_info(group_id, user_id) is None:
            return None
        if self.facts is None:
            return set()
        role_ids = await self.facts.role_ids(group_id)
        held: set[str] = set()
        for role_id in role_ids:
            channel, usergroup = split_role_id(role_id)
            try:
                if user_id not in await self._channel_members(group_id, channel):
                    continue
            except PlatformError:
                continue  # the role's channel is gone: the member does not hold it on Slack

            if usergroup:
                data, error = await self._try(
                    group_id, "usergroups.users.list", usergroup=usergroup
                )
                if not error and user_id not in data.get("users", []):
                    continue
            held.add(role_id)
        return held

    def forget_member(self, group_id: str, user_id: str) -> None:
        """Drop cached facts (a user_change arrived)."""
        self._members.pop((group_id, user_id), None)


def member_from_user(user: dict[str, Any]) -> MemberInfo | None:
    """A users.info / team_join user object as MemberInfo (None when deactivated)."""
    if user.get("deleted"):
        return None
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user.get("id", "")
    )
    return MemberInfo(
        id=str(user["id"]),
        name=str(name),
        email=profile.get("email") or None,
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_bot=bool(user.get("is_bot") or user.get("is_app_user")),
    )
