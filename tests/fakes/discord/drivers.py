"""Test-driving helpers: push user actions (joins, messages, interactions) to the client."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import discord

from . import payloads as p
from .payloads import JSON
from .state import FakeGuild, FakeInteraction, FakeState


@dataclass(frozen=True)
class FakeUpload:
    """A file a member attaches to an ATTACHMENT (type 11) option of a slash command.

    `size` defaults to the length of `data`; Discord reports the size it stored, so a test
    may give a larger one to stand for a file the fake need not hold in memory.
    """

    filename: str
    data: bytes
    content_type: str = "text/csv; charset=utf-8"
    size: int | None = None


OptionValue = str | int | float | bool | FakeUpload


class FakeUser(int):
    """Marks an option value as a user id (type 6) when the command is not registered."""


class FakeChannelRef(int):
    """Marks an option value as a channel id (type 7) when the command is not registered."""


class FakeRoleRef(int):
    """Marks an option value as a role id (type 8) when the command is not registered."""


def _infer_type(value: object) -> int:
    if isinstance(value, FakeUpload):
        return 11
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, FakeChannelRef):
        return 7
    if isinstance(value, FakeRoleRef):
        return 8
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


class DriverMixin(FakeState):
    """Helpers that act as users and push gateway events."""

    def _ensure_user(self, user_id: int, name: str | None = None) -> JSON:
        user = self.users.get(int(user_id))
        if user is None:
            user = p.user_payload(int(user_id), name or f"user{user_id}")
            self.users[int(user_id)] = user
        return user

    async def post_message(self, guild: FakeGuild | None, channel: JSON, message: JSON) -> None:
        """Implemented by the REST part."""
        raise NotImplementedError

    async def remove_member(self, guild_id: int, user_id: int) -> None:
        """Implemented by the REST part."""
        raise NotImplementedError

    # -- members -----------------------------------------------------------------------------
    async def member_join(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        pending: bool = True,
        invite_code: str | None = None,
    ) -> JSON:
        """A user joins (GUILD_MEMBER_ADD); pending=True means membership screening is open."""
        guild = self.guild(guild_id)
        user = self._ensure_user(user_id, name)
        member = p.member_payload(user, pending=pending)
        guild.members[int(user_id)] = member
        if invite_code is not None and invite_code in guild.invites:
            guild.invites[invite_code]["uses"] += 1
        await self.dispatch("GUILD_MEMBER_ADD", {**member, "guild_id": str(guild.id)})
        return member

    async def member_passes_screening(self, guild_id: int, user_id: int) -> JSON:
        """The member accepts the rules (GUILD_MEMBER_UPDATE with pending=False)."""
        member = self.member(guild_id, user_id)
        member["pending"] = False
        await self.dispatch("GUILD_MEMBER_UPDATE", {**member, "guild_id": str(guild_id)})
        return member

    async def member_leave(self, guild_id: int, user_id: int) -> None:
        """The member leaves the guild (GUILD_MEMBER_REMOVE)."""
        await self.remove_member(guild_id, user_id)

    # -- messages ----------------------------------------------------------------------------
    async def user_message(
        self,
        channel_id: int,
        user_id: int,
        content: str,
        *,
        reply_to: int | None = None,
        mentions: Sequence[int] = (),
        embeds: list[JSON] | None = None,
    ) -> int:
        """A user posts in a channel or thread (MESSAGE_CREATE); returns the message id."""
        guild, channel = self.find_channel(channel_id)
        user = self._ensure_user(user_id)
        reference = None
        if reply_to is not None:
            reference = {"message_id": reply_to, "channel_id": channel["id"]}
            if guild is not None:
                reference["guild_id"] = guild.id
        message_body = {"content": content, "embeds": embeds or [], "message_reference": reference}
        message = self._build_message_for(int(channel["id"]), message_body, user)
        message["mentions"] = [copy.deepcopy(self._ensure_user(m)) for m in mentions]
        await self.post_message(guild, channel, message)
        return int(message["id"])

    def _build_message_for(self, channel_id: int, body: JSON, author: JSON) -> JSON:
        builder = self._build_message  # type: ignore[attr-defined]
        clean = {k: v for k, v in body.items() if v is not None}
        message: JSON = builder(channel_id, clean, [], author)
        return message

    # -- interactions ------------------------------------------------------------------------
    def _member_for_interaction(self, guild: FakeGuild, user_id: int, channel: JSON) -> JSON:
        member = copy.deepcopy(self.member(guild.id, user_id))
        member["permissions"] = str(self.channel_permissions(guild, user_id, channel))
        return member

    def _new_interaction(
        self,
        type_: int,
        guild_id: int,
        user_id: int,
        channel_id: int | None,
        data: JSON,
        message: JSON | None = None,
    ) -> FakeInteraction:
        if channel_id is not None and int(channel_id) in self.dm_channels:
            return self._new_dm_interaction(type_, user_id, int(channel_id), data, message)
        guild = self.guild(guild_id)
        if channel_id is None:
            channel_id = next(int(c["id"]) for c in guild.channels.values() if c["type"] == 0)
        _, channel = self.find_channel(channel_id)
        payload: JSON = {
            "id": str(p.snowflake()),
            "application_id": str(self.application_id),
            "type": type_,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": guild.features},
            "channel_id": str(channel_id),
            "channel": {
                **copy.deepcopy(channel),
                "permissions": str(self.channel_permissions(guild, user_id, channel)),
            },
            "member": self._member_for_interaction(guild, user_id, channel),
            "token": self.new_token(),
            "version": 1,
            "app_permissions": str(self.channel_permissions(guild, self.bot_id, channel)),
            "locale": "en-US",
            "guild_locale": guild.locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        inter = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=type_,
            guild_id=guild.id,
            channel_id=channel_id,
            user_id=int(user_id),
            payload=payload,
            created_at=self._now(),
        )
        if message is not None:
            inter.component_message_id = int(message["id"])
        self.interactions[inter.id] = inter
        return inter

    def _new_dm_interaction(
        self, type_: int, user_id: int, channel_id: int, data: JSON, message: JSON | None
    ) -> FakeInteraction:
        """An interaction in the bot's DM with a user: no guild_id, `user` instead of `member`,
        context 1 (BOT_DM), as Discord sends a press on a button in a direct message."""
        channel = self.dm_channels[channel_id]
        user = self._ensure_user(user_id)
        payload: JSON = {
            "id": str(p.snowflake()),
            "application_id": str(self.application_id),
            "type": type_,
            "data": data,
            "channel_id": str(channel_id),
            "channel": copy.deepcopy(channel),
            "user": copy.deepcopy(user),
            "token": self.new_token(),
            "version": 1,
            "app_permissions": str(self.dm_permissions()),
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(next(iter(self.guilds), 0))},
            "context": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        inter = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=type_,
            guild_id=None,
            channel_id=channel_id,
            user_id=int(user_id),
            payload=payload,
            created_at=self._now(),
        )
        if message is not None:
            inter.component_message_id = int(message["id"])
        self.interactions[inter.id] = inter
        return inter

    @staticmethod
    def dm_permissions() -> int:
        """What an app may do in a DM."""
        return discord.Permissions(
            view_channel=True,
            send_messages=True,
            embed_links=True,
            attach_files=True,
            read_message_history=True,
        ).value

    def _find_command(
        self, guild_id: int, name: str, type_: int = 1, path: Sequence[str] = ()
    ) -> JSON | None:
        """The command a member picks: a guild's and the app's global command may share a
        name (application-commands.mdx, Registering a Command); the picker lists the
        subcommands of both, so the one holding `path` is the one picked."""
        found = [
            c
            for c in [*self.guild(guild_id).commands.values(), *self.global_commands.values()]
            if c["name"] == name and c["type"] == type_
        ]
        for command in found:
            options = command.get("options") or []
            for part in path:
                spec = next((o for o in options if o["name"] == part), None)
                if spec is None:
                    break
                options = spec.get("options") or []
            else:
                return command
        return found[0] if found else None

    def command_allowed(self, guild: FakeGuild, user_id: int, command: JSON) -> bool:
        """Whether Discord lets this member use the command: default_member_permissions are
        the permissions "a user must have to use it"; "0" leaves only admins
        (application-commands.mdx, Permissions); an override from Server Settings >
        Integrations (`allow_command`) lets a role or a member use it anyway."""
        needed = command.get("default_member_permissions")
        if needed is None or guild.owner_id == int(user_id):
            return True
        allowed = guild.command_overrides.get(int(command["id"]), set())
        member = self.member(guild.id, user_id)
        # The guild's id is its @everyone role: allowing it lets every member use the command.
        holders = {int(user_id), guild.id, *(int(r) for r in member.get("roles", []))}
        if holders & allowed:
            return True
        have = self.base_permissions(guild, user_id)
        admin = discord.Permissions(administrator=True).value
        return bool(have & admin) or (int(needed) != 0 and have & int(needed) == int(needed))

    def allow_command(
        self, guild_id: int, name: str, path: Sequence[str], role_or_user: int
    ) -> None:
        """An admin lets a role (or a member) use a command in Server Settings > Integrations."""
        command = self._find_command(guild_id, name, path=path)
        if command is None:
            raise LookupError(f"/{name} {' '.join(path)} is not synced")
        self.guild(guild_id).command_overrides.setdefault(int(command["id"]), set()).add(
            int(role_or_user)
        )

    async def slash_command(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        subcommand: Sequence[str] = (),
        options: Mapping[str, OptionValue] | None = None,
        *,
        channel_id: int | None = None,
        require_synced: bool = True,
        typing: str | None = None,
    ) -> int:
        """A member runs /name [group] [sub] with options (INTERACTION_CREATE type 2); with
        `typing`, the member is still typing that option (its partial text in `options`): an
        autocomplete (type 4) whose option carries `focused: true`."""
        guild = self.guild(guild_id)
        command = self._find_command(guild.id, name, path=subcommand)
        if command is None and require_synced:
            raise LookupError(f"/{name} is not synced to guild {guild_id} nor globally")
        if command is not None and not self.command_allowed(guild, user_id, command):
            # Discord's picker does not offer it, and Discord refuses it if sent anyway.
            raise PermissionError(f"/{name} {' '.join(subcommand)} is hidden from {user_id}")
        spec_options: list[JSON] = (command or {}).get("options") or []
        nested: list[JSON] = []
        holder = nested
        for part in subcommand:
            spec = next((o for o in spec_options if o["name"] == part), None)
            if spec is None and command is not None:
                raise LookupError(f"/{name}: no subcommand or group {part!r}")
            kind = (spec or {}).get("type", 1 if part == subcommand[-1] else 2)
            entry: JSON = {"type": kind, "name": part, "options": []}
            holder.append(entry)
            holder = entry["options"]
            spec_options = (spec or {}).get("options") or []
        resolved: JSON = {}
        for key, value in (options or {}).items():
            spec = next((o for o in spec_options if o["name"] == key), None)
            if spec is None and command is not None:
                raise LookupError(f"/{name}: unknown option {key!r}")
            kind = int(spec["type"]) if spec else _infer_type(value)
            if kind == 11:
                if not isinstance(value, FakeUpload):
                    raise TypeError(f"/{name}: option {key!r} takes a FakeUpload")
                attachment = self.upload_attachment(value, channel_id)
                resolved.setdefault("attachments", {})[attachment["id"]] = attachment
                holder.append({"type": 11, "name": key, "value": attachment["id"]})
                continue
            entry = {"type": kind, "name": key, "value": self._option_value(kind, value)}
            if key == typing:
                entry["focused"] = True
            holder.append(entry)
            self._resolve(guild, kind, value, resolved)
        data: JSON = {
            "id": (command or {}).get("id", str(p.snowflake())),
            "name": name,
            "type": 1,
            "options": nested,
        }
        if command is None or "guild_id" in command:
            data["guild_id"] = str(guild.id)
        if resolved:
            data["resolved"] = resolved
        if typing is not None and (
            spec_options is None
            or not any(o["name"] == typing and o.get("autocomplete") for o in spec_options)
        ):
            raise LookupError(f"/{name}: option {typing!r} does not autocomplete")
        inter = self._new_interaction(4 if typing else 2, guild.id, user_id, channel_id, data)
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter.id

    def upload_attachment(self, upload: FakeUpload, channel_id: int | None = None) -> JSON:
        """Store an uploaded file as Discord does for a slash command's attachment option.

        The bytes are served (without auth, as the CDN does) at the payload's `url` and
        `proxy_url`; `cdn_downloads` lists the attachment ids fetched from there.
        """
        aid = str(p.snowflake())
        where = channel_id or self.application_id
        self.attachment_data[aid] = upload.data
        path = f"/ephemeral-attachments/{where}/{aid}/{upload.filename}"
        return {
            "id": aid,
            "filename": upload.filename,
            "size": len(upload.data) if upload.size is None else upload.size,
            "content_type": upload.content_type,
            "url": f"{self.cdn_url}{path}?ex=0&is=0&hm=fake",
            "proxy_url": f"{self.cdn_url}{path}?ex=0&is=0&hm=fake&proxy=1",
            "ephemeral": True,
        }

    @staticmethod
    def _option_value(kind: int, value: OptionValue) -> OptionValue:
        if kind in (6, 7, 8, 9):
            assert not isinstance(value, FakeUpload)
            return str(int(value))
        return value

    def _resolve(self, guild: FakeGuild, kind: int, value: OptionValue, resolved: JSON) -> None:
        if kind not in (6, 7, 8, 9) or isinstance(value, FakeUpload):
            return
        key = str(int(value))
        if kind in (6, 9) and int(value) in self.users:
            resolved.setdefault("users", {})[key] = copy.deepcopy(self.users[int(value)])
            member = guild.members.get(int(value))
            if member is not None:
                partial = {k: v for k, v in copy.deepcopy(member).items() if k != "user"}
                partial["permissions"] = str(self.base_permissions(guild, int(value)))
                resolved.setdefault("members", {})[key] = partial
        if kind in (7,):
            channel = self.channel(int(value))
            entry = {k: channel.get(k) for k in ("id", "name", "type", "parent_id")}
            entry["permissions"] = str(self.channel_permissions(guild, self.bot_id, channel))
            if "thread_metadata" in channel:
                entry["thread_metadata"] = channel["thread_metadata"]
            resolved.setdefault("channels", {})[key] = entry
        if kind in (8, 9) and int(value) in guild.roles:
            resolved.setdefault("roles", {})[key] = copy.deepcopy(guild.roles[int(value)])

    async def press_button(
        self, guild_id: int, user_id: int, message_id: int, custom_id: str
    ) -> int:
        """A member clicks a button on a message (INTERACTION_CREATE type 3)."""
        message = self.find_message(message_id)
        data = {"custom_id": custom_id, "component_type": 2}
        inter = self._new_interaction(
            3, guild_id, user_id, int(message["channel_id"]), data, message=message
        )
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter.id

    async def select_option(
        self, guild_id: int, user_id: int, message_id: int, custom_id: str, values: list[str]
    ) -> int:
        """A member picks from a string select menu (INTERACTION_CREATE type 3, component 3)."""
        message = self.find_message(message_id)
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        inter = self._new_interaction(
            3, guild_id, user_id, int(message["channel_id"]), data, message=message
        )
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter.id

    def last_modal(self, custom_id: str | None = None) -> JSON | None:
        """The most recent modal the bot opened (optionally with a given custom_id)."""
        opened = self.last_modal_interaction(custom_id)
        return opened.modal if opened is not None else None

    def last_modal_interaction(self, custom_id: str | None = None) -> FakeInteraction | None:
        """The interaction the bot answered with its most recent modal (by custom_id)."""
        for inter in reversed(list(self.interactions.values())):
            if inter.modal and (custom_id is None or inter.modal.get("custom_id") == custom_id):
                return inter
        return None

    async def submit_modal(
        self,
        guild_id: int,
        user_id: int,
        custom_id: str,
        values: Mapping[str, str],
        *,
        channel_id: int | None = None,
        layout: Literal["auto", "action_row", "label"] = "auto",
    ) -> int:
        """A member submits a modal (INTERACTION_CREATE type 5).

        layout="auto" mirrors the layout of the last modal with this custom_id the bot opened
        (type 18 label components or type 1 action rows); otherwise action rows. Without
        `channel_id` the submission comes from where the modal was opened (a DM included: then
        it carries no guild, as on Discord).
        """
        if channel_id is None:
            opened = self.last_modal_interaction(custom_id)
            if opened is not None and opened.guild_id is None:
                channel_id = opened.channel_id
        if layout == "auto":
            modal = self.last_modal(custom_id)
            uses_label = bool(modal) and any(
                c.get("type") == 18 for c in (modal or {}).get("components", [])
            )
            layout = "label" if uses_label else "action_row"
        # Discord submits every text input of the modal: one the member left alone carries its
        # pre-filled `value` (or ""), as the client shows it (discord.com/developers/docs/
        # interactions/receiving-and-responding#interaction-object-modal-submit-data).
        submitted = dict(values)
        prefilled = _text_inputs(self.last_modal(custom_id) or {})
        values = {**{k: prefilled[k] for k in prefilled if k not in submitted}, **submitted}
        values = {k: values[k] for k in [*prefilled, *submitted] if k in values}
        components: list[JSON] = []
        for field_id, text in values.items():
            inner = {"type": 4, "custom_id": field_id, "value": text, "id": len(components) + 2}
            if layout == "label":
                components.append({"type": 18, "id": len(components) + 100, "component": inner})
            else:
                components.append({"type": 1, "id": len(components) + 100, "components": [inner]})
        data = {"custom_id": custom_id, "components": components}
        inter = self._new_interaction(5, guild_id, user_id, channel_id, data)
        await self.dispatch("INTERACTION_CREATE", inter.payload)
        return inter.id

    async def wait_for_response(
        self,
        interaction_id: int,
        timeout: float = 3.0,  # noqa: ASYNC109
    ) -> FakeInteraction:
        """Wait until the bot answered an interaction; return its record."""
        inter = self.interactions[int(interaction_id)]
        await self.wait_for(lambda: inter.responded, timeout)
        return inter


def _text_inputs(modal: JSON) -> dict[str, str]:
    """custom_id -> pre-filled value of each text input of a modal, in order."""
    out: dict[str, str] = {}
    for row in modal.get("components", []):
        inner = [row["component"]] if row.get("type") == 18 else row.get("components", [])
        for c in inner:
            if c.get("type") == 4:
                out[str(c["custom_id"])] = str(c.get("value") or "")
    return out
