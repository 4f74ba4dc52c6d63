"""Web API method implementations for the fake Slack (mixed into FakeSlack)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from . import blockkit
from . import scopes as needs
from .state import (
    Channel,
    Ids,
    SlackError,
    User,
    as_bool,
    as_int,
    as_json,
    as_list,
    as_str,
    paginate,
    validate_channel_name,
)

Params = dict[str, Any]
Handler = Callable[[Params], Awaitable[dict[str, Any]]]


class WebApiMixin:
    """Slack Web API semantics over the in-memory state."""

    ids: Ids
    team: dict[str, str]
    plan: str
    app_id: str
    bot_user_id: str
    bot_id: str
    users: dict[str, User]
    channels: dict[str, Channel]
    views: dict[str, dict[str, Any]]
    views_opened: list[dict[str, Any]]
    home_views: dict[str, dict[str, Any]]
    ephemeral: list[dict[str, Any]]
    usergroups: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]]
    trigger_ids: dict[str, float]
    used_trigger_ids: set[str]
    trigger_ttl: float
    view_versions: dict[str, int]
    closed_views: set[str]
    view_errors: dict[str, dict[str, str]]

    def _base_url(self) -> str:
        raise NotImplementedError

    def _ws_url(self) -> str:
        raise NotImplementedError

    # ---- lookups -------------------------------------------------------

    def _channel(self, params: Params, key: str = "channel") -> Channel:
        cid = as_str(params.get(key))
        if not cid:
            raise SlackError("channel_not_found")
        ch = self.channels.get(cid)
        if ch is None:
            raise SlackError("channel_not_found")
        if (ch.is_private or ch.is_im or ch.is_mpim) and self.bot_user_id not in ch.members:
            raise SlackError("channel_not_found")
        return ch

    def _user(self, uid: str | None, error: str = "user_not_found") -> User:
        user = self.users.get(uid or "")
        if user is None:
            raise SlackError(error)
        return user

    def _require_member(self, ch: Channel) -> None:
        if self.bot_user_id not in ch.members:
            raise SlackError("not_in_channel")

    def _not_archived(self, ch: Channel) -> None:
        if ch.is_archived:
            raise SlackError("is_archived")

    def _name_free(self, name: str, exclude: str | None = None) -> None:
        for ch in self.channels.values():
            if ch.name == name and ch.id != exclude and not ch.is_im:
                raise SlackError("name_taken")
        # Handles and channel names share one namespace (usergroups.create: a handle "must be
        # unique among channels, users and User Groups"): a handle blocks the channel name too.
        if any(g["handle"] == name for g in self.usergroups.values()):
            raise SlackError("name_taken")

    def open_im(self, user_id: str) -> Channel:
        """Return (creating if needed) the bot's IM channel with a user."""
        for ch in self.channels.values():
            if ch.is_im and set(ch.members) == {self.bot_user_id, user_id}:
                return ch
        ch = Channel(
            id=self.ids.new("D"),
            name=user_id,
            creator=self.bot_user_id,
            is_im=True,
            members=[user_id, self.bot_user_id],
        )
        self.channels[ch.id] = ch
        return ch

    def issue_trigger_id(self) -> str:
        """Issue a trigger_id valid for `trigger_ttl` seconds (as a user interaction would)."""
        tid = f"{int(time.time())}.{self.team['id'][1:]}.{uuid.uuid4().hex}"
        self.trigger_ids[tid] = time.monotonic()
        return tid

    def _consume_trigger(self, params: Params) -> None:
        tid = as_str(params.get("trigger_id"))
        if not tid or tid not in self.trigger_ids:
            raise SlackError("invalid_trigger_id")
        if time.monotonic() - self.trigger_ids[tid] > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        if tid in self.used_trigger_ids:
            raise SlackError("exchanged_trigger_id")
        self.used_trigger_ids.add(tid)

    # ---- auth / team / apps --------------------------------------------

    async def api_auth_test(self, p: Params) -> dict[str, Any]:
        """auth.test"""
        return {
            "url": f"https://{self.team['domain']}.slack.com/",
            "team": self.team["name"],
            "user": self.users[self.bot_user_id].name,
            "team_id": self.team["id"],
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "is_enterprise_install": False,
        }

    async def api_team_info(self, p: Params) -> dict[str, Any]:
        """team.info"""
        return {"team": {**self.team, "email_domain": "", "icon": {"image_default": True}}}

    async def api_apps_connections_open(self, p: Params) -> dict[str, Any]:
        """apps.connections.open"""
        return {"url": self._ws_url()}

    # ---- conversations -------------------------------------------------

    async def api_conversations_create(self, p: Params) -> dict[str, Any]:
        """conversations.create"""
        name = validate_channel_name(as_str(p.get("name")))
        self._name_free(name)
        ch = Channel(
            id=self.ids.new("C"),
            name=name,
            creator=self.bot_user_id,
            is_private=as_bool(p.get("is_private")),
            members=[self.bot_user_id],
        )
        self.channels[ch.id] = ch
        return {"channel": ch.to_dict(self.bot_user_id)}

    def _visible(self, ch: Channel, types: list[str]) -> bool:
        kind = (
            "im"
            if ch.is_im
            else "mpim"
            if ch.is_mpim
            else "private_channel"
            if ch.is_private
            else "public_channel"
        )
        if kind not in types:
            return False
        return kind == "public_channel" or self.bot_user_id in ch.members

    async def api_conversations_list(self, p: Params) -> dict[str, Any]:
        """conversations.list"""
        types = as_list(p.get("types")) or ["public_channel"]
        excl = as_bool(p.get("exclude_archived"))
        items = [
            c
            for c in self.channels.values()
            if self._visible(c, types) and not (excl and c.is_archived)
        ]
        page, nxt = paginate(items, p)
        return {
            "channels": [c.to_dict(self.bot_user_id) for c in page],
            "response_metadata": {"next_cursor": nxt},
        }

    async def api_conversations_info(self, p: Params) -> dict[str, Any]:
        """conversations.info"""
        return {"channel": self._channel(p).to_dict(self.bot_user_id)}

    async def api_conversations_rename(self, p: Params) -> dict[str, Any]:
        """conversations.rename: lower-case letters, digits, hyphens, underscores, at most 80
        (invalid_name_*), unique (name_taken); only the channel's creator, a workspace admin or a
        channel manager may rename it, others get not_authorized (docs.slack.dev/reference/
        methods/conversations.rename, Usage info). The bot is neither admin nor manager."""
        ch = self._channel(p)
        self._require_member(ch)
        self._not_archived(ch)
        if ch.creator != self.bot_user_id:
            raise SlackError("not_authorized")
        name = validate_channel_name(as_str(p.get("name")))
        self._name_free(name, exclude=ch.id)
        ch.name = name
        return {"channel": ch.to_dict(self.bot_user_id)}

    async def api_conversations_archive(self, p: Params) -> dict[str, Any]:
        """conversations.archive"""
        ch = self._channel(p)
        if ch.is_general:
            raise SlackError("cant_archive_general")
        if ch.is_archived:
            raise SlackError("already_archived")
        self._require_member(ch)
        ch.is_archived = True
        return {}

    async def api_conversations_unarchive(self, p: Params) -> dict[str, Any]:
        """conversations.unarchive"""
        ch = self._channel(p)
        if not ch.is_archived:
            raise SlackError("not_archived")
        ch.is_archived = False
        return {}

    async def _set_text(self, p: Params, attr: str) -> dict[str, Any]:
        ch = self._channel(p)
        self._require_member(ch)
        self._not_archived(ch)
        value = as_str(p.get(attr)) or ""
        if len(value) > 250:
            raise SlackError("too_long")
        setattr(ch, attr, value)
        return {"channel": ch.to_dict(self.bot_user_id)}

    async def api_conversations_setTopic(self, p: Params) -> dict[str, Any]:
        """conversations.setTopic"""
        return await self._set_text(p, "topic")

    async def api_conversations_setPurpose(self, p: Params) -> dict[str, Any]:
        """conversations.setPurpose"""
        return await self._set_text(p, "purpose")

    async def api_conversations_invite(self, p: Params) -> dict[str, Any]:
        """conversations.invite (all-or-nothing unless force=true)."""
        ch = self._channel(p)
        if ch.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        self._not_archived(ch)
        self._require_member(ch)
        uids = as_list(p.get("users"))
        if not uids:
            raise SlackError("no_user")
        if len(uids) > 1000:
            raise SlackError("too_many_users")
        errors: list[dict[str, Any]] = []
        ok_ids: list[str] = []
        for uid in dict.fromkeys(uids):
            err = None
            if uid == self.bot_user_id:
                err = "cant_invite_self"
            elif uid not in self.users or self.users[uid].deleted:
                err = "user_not_found"
            elif uid in ch.members:
                err = "already_in_channel"
            if err:
                errors.append({"user": uid, "ok": False, "error": err})
            else:
                ok_ids.append(uid)
        if errors and not as_bool(p.get("force")):
            raise SlackError(errors[0]["error"], errors=errors)
        ch.members.extend(ok_ids)
        out: dict[str, Any] = {"channel": ch.to_dict(self.bot_user_id)}
        if errors:
            out["errors"] = errors
        return out

    async def api_conversations_kick(self, p: Params) -> dict[str, Any]:
        """conversations.kick"""
        ch = self._channel(p)
        uid = as_str(p.get("user"))
        if uid == self.bot_user_id:
            raise SlackError("cant_kick_self")
        self._user(uid)
        if uid not in ch.members:
            raise SlackError("not_in_channel")
        ch.members.remove(uid)  # type: ignore[arg-type]
        return {}

    async def api_conversations_members(self, p: Params) -> dict[str, Any]:
        """conversations.members"""
        ch = self._channel(p)
        page, nxt = paginate(list(ch.members), p)
        return {"members": page, "response_metadata": {"next_cursor": nxt}}

    async def api_conversations_join(self, p: Params) -> dict[str, Any]:
        """conversations.join"""
        ch = self._channel(p)
        if ch.is_private or ch.is_im or ch.is_mpim:
            raise SlackError("method_not_supported_for_channel_type")
        self._not_archived(ch)
        out: dict[str, Any] = {}
        if self.bot_user_id in ch.members:
            out = {"warning": "already_in_channel"}
            out["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            ch.members.append(self.bot_user_id)
        return {"channel": ch.to_dict(self.bot_user_id), **out}

    async def api_conversations_open(self, p: Params) -> dict[str, Any]:
        """conversations.open (IM for one user, MPIM for several)."""
        if p.get("channel"):
            ch = self._channel(p)
            return {"channel": {"id": ch.id}, "no_op": True, "already_open": True}
        uids = as_list(p.get("users"))
        if not uids:
            raise SlackError("users_list_not_supplied")
        for uid in uids:
            self._user(uid)
        if len(uids) == 1:
            existed = any(
                c.is_im and set(c.members) == {self.bot_user_id, uids[0]}
                for c in self.channels.values()
            )
            ch = self.open_im(uids[0])
        else:
            members = sorted({*uids, self.bot_user_id})
            found = [
                c for c in self.channels.values() if c.is_mpim and sorted(c.members) == members
            ]
            existed = bool(found)
            if found:
                ch = found[0]
            else:
                ch = Channel(
                    id=self.ids.new("G"),
                    name="mpdm-" + "--".join(members) + "-1",
                    creator=self.bot_user_id,
                    is_mpim=True,
                    members=members,
                )
                self.channels[ch.id] = ch
        body = ch.to_dict(self.bot_user_id) if as_bool(p.get("return_im")) else {"id": ch.id}
        out: dict[str, Any] = {"channel": body}
        if existed:
            out.update(no_op=True, already_open=True)
        return out

    def _readable(self, p: Params) -> Channel:
        ch = self._channel(p)
        if not ch.is_im:
            self._require_member(ch)
        return ch

    async def api_conversations_history(self, p: Params) -> dict[str, Any]:
        """conversations.history (newest first; top-level and broadcast messages)."""
        ch = self._readable(p)
        oldest = float(as_str(p.get("oldest")) or 0)
        latest = float(as_str(p.get("latest")) or "inf")
        incl = as_bool(p.get("inclusive"))
        msgs = [
            m
            for m in reversed(ch.messages)
            if ("thread_ts" not in m or m["thread_ts"] == m["ts"] or m.get("subtype"))
            and (oldest < float(m["ts"]) < latest or (incl and float(m["ts"]) in (oldest, latest)))
        ]
        page, nxt = paginate(msgs, p)
        return {
            "messages": page,
            "has_more": bool(nxt),
            "pin_count": 0,
            "response_metadata": {"next_cursor": nxt},
        }

    async def api_conversations_replies(self, p: Params) -> dict[str, Any]:
        """conversations.replies (parent first, then replies oldest first)."""
        ch = self._readable(p)
        ts = as_str(p.get("ts")) or ""
        parent = ch.find(ts)
        if parent is None:
            raise SlackError("thread_not_found")
        root = parent.get("thread_ts", parent["ts"])
        msgs = [m for m in ch.messages if m["ts"] == root or m.get("thread_ts") == root]
        page, nxt = paginate(msgs, p, default_limit=1000)
        return {"messages": page, "has_more": bool(nxt), "response_metadata": {"next_cursor": nxt}}

    # ---- chat ----------------------------------------------------------

    def _postable(self, p: Params) -> Channel:
        cid = as_str(p.get("channel")) or ""
        if cid in self.users:
            return self.open_im(cid)
        ch = self._channel(p)
        self._not_archived(ch)
        outside = not ch.is_im and self.bot_user_id not in ch.members
        # Posting into a public channel the bot is not in needs chat:write.public
        # (docs.slack.dev/reference/methods/chat.postMessage); private ones never work.
        public_ok = needs.WRITE_PUBLIC in needs.CALLER_SCOPES.get()
        if outside and (ch.is_private or ch.is_mpim or not public_ok):
            raise SlackError("not_in_channel")
        return ch

    def _content(self, p: Params) -> dict[str, Any]:
        text = as_str(p.get("text"))
        blocks = as_json(p.get("blocks")) if p.get("blocks") else None
        attachments = as_json(p.get("attachments")) if p.get("attachments") else None
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        blockkit.check_message(text, blocks)
        out: dict[str, Any] = {"text": text or ""}
        if blocks:
            out["blocks"] = blocks
        if attachments:
            out["attachments"] = attachments
        if p.get("metadata"):
            out["metadata"] = as_json(p.get("metadata"))
        return out

    def store_message(
        self,
        ch: Channel,
        user: str,
        content: dict[str, Any],
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> dict[str, Any]:
        """Append a message to a channel (updating thread metadata) and return it."""
        msg: dict[str, Any] = {"type": "message", "user": user, "ts": self.ids.ts(), **content}
        msg["team"] = self.team["id"]
        if user == self.bot_user_id:
            msg.update(bot_id=self.bot_id, app_id=self.app_id)
        if thread_ts:
            parent = ch.find(thread_ts)
            if parent is not None:
                root = parent.get("thread_ts", parent["ts"])
                parent = ch.find(root) or parent
                parent["thread_ts"] = root
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if user not in users:
                    users.append(user)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = msg["ts"]
                thread_ts = root
            msg["thread_ts"] = thread_ts
            if broadcast:
                msg["subtype"] = "thread_broadcast"
        ch.messages.append(msg)
        return msg

    async def api_chat_postMessage(self, p: Params) -> dict[str, Any]:
        """chat.postMessage"""
        ch = self._postable(p)
        msg = self.store_message(
            ch,
            self.bot_user_id,
            self._content(p),
            thread_ts=as_str(p.get("thread_ts")),
            broadcast=as_bool(p.get("reply_broadcast")),
        )
        return {"channel": ch.id, "ts": msg["ts"], "message": msg}

    async def api_chat_postEphemeral(self, p: Params) -> dict[str, Any]:
        """chat.postEphemeral"""
        ch = self._postable(p)
        uid = as_str(p.get("user"))
        self._user(uid)
        if not ch.is_im and uid not in ch.members:
            raise SlackError("user_not_in_channel")
        ts = self.ids.ts()
        self.ephemeral.append(
            {"channel": ch.id, "user": uid, "ts": ts, "thread_ts": p.get("thread_ts")}
            | self._content(p)
        )
        return {"message_ts": ts}

    def _own_message(self, p: Params, error: str) -> tuple[Channel, dict[str, Any]]:
        ch = self._channel(p)
        msg = ch.find(as_str(p.get("ts")) or "")
        if msg is None:
            raise SlackError("message_not_found")
        if msg.get("user") != self.bot_user_id:
            raise SlackError(error)
        return ch, msg

    async def api_chat_update(self, p: Params) -> dict[str, Any]:
        """chat.update"""
        ch, msg = self._own_message(p, "cant_update_message")
        content = self._content(p)
        msg.update(content, edited={"user": self.bot_user_id, "ts": self.ids.ts()})
        return {"channel": ch.id, "ts": msg["ts"], "text": msg["text"], "message": msg}

    async def api_chat_delete(self, p: Params) -> dict[str, Any]:
        """chat.delete"""
        ch, msg = self._own_message(p, "cant_delete_message")
        ch.messages.remove(msg)
        return {"channel": ch.id, "ts": msg["ts"]}

    # ---- views ---------------------------------------------------------

    def _view(self, p: Params, allowed: tuple[str, ...]) -> dict[str, Any]:
        view = as_json(p.get("view"))
        if not isinstance(view, dict) or view.get("type") not in allowed:
            raise SlackError("invalid_arguments")
        blockkit.check_view(view)
        return view

    def _stored_view(self, view: dict[str, Any], root: str | None = None) -> dict[str, Any]:
        vid = self.ids.new("V")
        stored = {
            "id": vid,
            "team_id": self.team["id"],
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "blocks": [],
            **view,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "root_view_id": root or vid,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }
        self.views[vid] = stored
        return stored

    async def api_views_open(self, p: Params) -> dict[str, Any]:
        """views.open (trigger_id must be issued by the fake, unused and fresh)."""
        view = self._view(p, ("modal",))
        self._consume_trigger(p)
        stored = self._stored_view(view)
        self.views_opened.append(stored)
        return {"view": stored}

    async def api_views_push(self, p: Params) -> dict[str, Any]:
        """views.push"""
        view = self._view(p, ("modal",))
        self._consume_trigger(p)
        stored = self._stored_view(view)
        self.views_opened.append(stored)
        return {"view": stored}

    async def api_views_update(self, p: Params) -> dict[str, Any]:
        """views.update (by view_id or external_id; optional hash check)."""
        view = self._view(p, ("modal", "home"))
        vid = as_str(p.get("view_id"))
        ext = as_str(p.get("external_id"))
        current = self.views.get(vid or "") or next(
            (v for v in self.views.values() if ext and v.get("external_id") == ext), None
        )
        if current is None:
            raise SlackError("not_found")
        if p.get("hash") and p.get("hash") != current["hash"]:
            raise SlackError("hash_conflict")
        self.replace_view(current, view)
        return {"view": current}

    def replace_view(self, current: dict[str, Any], view: dict[str, Any]) -> None:
        """A view's new content (views.update or an `update` ack); its id stays."""
        for key in ("blocks", "submit", "close", "callback_id", "private_metadata"):
            current.pop(key, None)
        current.update(view, hash=f"{int(time.time())}.{uuid.uuid4().hex[:8]}")
        current.setdefault("blocks", [])
        self.view_versions[current["id"]] = self.view_versions.get(current["id"], 0) + 1
        self.view_errors.pop(current["id"], None)

    async def api_views_publish(self, p: Params) -> dict[str, Any]:
        """views.publish (App Home)."""
        view = self._view(p, ("home",))
        uid = as_str(p.get("user_id"))
        self._user(uid)
        stored = self._stored_view(view)
        self.home_views[uid or ""] = stored
        return {"view": stored}

    # ---- users / usergroups ----------------------------------------------

    async def api_users_info(self, p: Params) -> dict[str, Any]:
        """users.info"""
        return {"user": self._user(as_str(p.get("user"))).to_dict(email=self._sees_email())}

    @staticmethod
    def _sees_email() -> bool:
        # docs.slack.dev/reference/methods/users.info: `email` needs users:read.email.
        return needs.EMAIL in needs.CALLER_SCOPES.get()

    async def api_users_list(self, p: Params) -> dict[str, Any]:
        """users.list"""
        page, nxt = paginate(list(self.users.values()), p, default_limit=1000)
        return {
            "members": [u.to_dict(email=self._sees_email()) for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": nxt},
        }

    async def api_users_lookupByEmail(self, p: Params) -> dict[str, Any]:
        """users.lookupByEmail"""
        email = (as_str(p.get("email")) or "").lower()
        for u in self.users.values():
            if u.email and u.email.lower() == email:
                return {"user": u.to_dict()}
        raise SlackError("users_not_found")

    def _paid(self) -> None:
        if self.plan == "free":
            raise SlackError("paid_teams_only")

    def _group(self, p: Params) -> dict[str, Any]:
        self._paid()
        group = self.usergroups.get(as_str(p.get("usergroup")) or "")
        if group is None:
            raise SlackError("no_such_subteam")
        return group

    async def api_usergroups_create(self, p: Params) -> dict[str, Any]:
        """usergroups.create (paid plans only)."""
        self._paid()
        name = as_str(p.get("name"))
        if not name:
            raise SlackError("invalid_arguments")
        handle = as_str(p.get("handle")) or name.lower().replace(" ", "-")
        for g in self.usergroups.values():
            if g["name"] == name:
                raise SlackError("name_already_exists")
        # docs.slack.dev/reference/methods/usergroups.create, `handle`: "Must be unique among
        # channels, users and User Groups"; a clash is name_taken.
        taken = {g["handle"] for g in self.usergroups.values()}
        taken |= {c.name for c in self.channels.values() if not c.is_im}
        taken |= {u.name for u in self.users.values()}
        taken |= {u.shown_name.lower() for u in self.users.values()}
        if handle in taken:
            raise SlackError("name_taken")
        now = int(time.time())
        group = {
            "id": self.ids.new("S"),
            "team_id": self.team["id"],
            "is_usergroup": True,
            "name": name,
            "description": as_str(p.get("description")) or "",
            "handle": handle,
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": 0,
            "auto_type": None,
            "created_by": self.bot_user_id,
            "updated_by": self.bot_user_id,
            "deleted_by": None,
            "prefs": {"channels": as_list(p.get("channels")), "groups": []},
            "users": [],
            "user_count": 0,
        }
        self.usergroups[group["id"]] = group
        return {"usergroup": group}

    async def api_usergroups_update(self, p: Params) -> dict[str, Any]:
        """usergroups.update (paid plans only): name and handle as usergroups.create checks them.

        docs.slack.dev/reference/methods/usergroups.update: `name` "Must be unique among User
        Groups" (name_already_exists, the error usergroups.create documents for it); `handle`
        "Must be unique among channels, users and User Groups" (name_taken, as for create).
        """
        group = self._group(p)
        name = as_str(p.get("name"))
        handle = as_str(p.get("handle"))
        others = [g for g in self.usergroups.values() if g["id"] != group["id"]]
        if name is not None:
            if not name.strip():
                raise SlackError("invalid_arguments")
            if any(g["name"] == name for g in others):
                raise SlackError("name_already_exists")
        if handle is not None:
            taken = {g["handle"] for g in others}
            taken |= {c.name for c in self.channels.values() if not c.is_im}
            taken |= {u.name for u in self.users.values()}
            taken |= {u.shown_name.lower() for u in self.users.values()}
            if not handle or handle in taken:
                raise SlackError("name_taken")
        if name is not None:
            group["name"] = name
        if handle is not None:
            group["handle"] = handle
        group["date_update"] = int(time.time())
        group["updated_by"] = self.bot_user_id
        return {"usergroup": group}

    async def api_usergroups_list(self, p: Params) -> dict[str, Any]:
        """usergroups.list"""
        self._paid()
        groups = []
        for g in self.usergroups.values():
            if g["date_delete"] and not as_bool(p.get("include_disabled")):
                continue
            shown = dict(g)
            if not as_bool(p.get("include_users")):
                shown.pop("users")
            groups.append(shown)
        return {"usergroups": groups}

    async def api_usergroups_users_update(self, p: Params) -> dict[str, Any]:
        """usergroups.users.update (replaces the whole member list)."""
        group = self._group(p)
        uids = as_list(p.get("users"))
        if not uids:
            raise SlackError("no_users_provided")
        if any(u not in self.users for u in uids):
            raise SlackError("invalid_users")
        group["users"] = list(dict.fromkeys(uids))
        group["user_count"] = len(group["users"])
        group["date_update"] = int(time.time())
        return {"usergroup": group}

    async def api_usergroups_users_list(self, p: Params) -> dict[str, Any]:
        """usergroups.users.list"""
        return {"users": list(self._group(p)["users"])}

    # ---- files ---------------------------------------------------------

    async def api_files_getUploadURLExternal(self, p: Params) -> dict[str, Any]:
        """files.getUploadURLExternal (upload URL points at the fake)."""
        filename = as_str(p.get("filename"))
        length = as_int(p.get("length"), -1)
        if not filename or length < 0:
            raise SlackError("invalid_arguments")
        # docs.slack.dev/reference/methods/files.getUploadURLExternal (Errors): missing_argument
        # "typically only occurs when the length provided is 0": Slack takes no empty file.
        if length == 0:
            raise SlackError("missing_argument")
        fid = self.ids.new("F")
        self.files[fid] = {"id": fid, "name": filename, "length": length, "content": None}
        return {"upload_url": f"{self._base_url()}/upload/v1/{fid}", "file_id": fid}

    async def api_files_completeUploadExternal(self, p: Params) -> dict[str, Any]:
        """files.completeUploadExternal (optionally shares into channel_id)."""
        entries = as_json(p.get("files"))
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        out = []
        for entry in entries:
            f = self.files.get(str(entry.get("id")))
            if f is None or f["content"] is None:
                raise SlackError("file_not_found")
            f.update(title=entry.get("title") or f["name"], size=len(f["content"]))
            out.append(
                {
                    "id": f["id"],
                    "name": f["name"],
                    "title": f["title"],
                    "size": f["size"],
                    "user": self.bot_user_id,
                    "mimetype": "application/octet-stream",
                    "url_private": f"{self._base_url()}/files/{f['id']}",
                }
            )
        cids = as_list(p.get("channel_id")) + as_list(p.get("channels"))
        for cid in cids:
            ch = self._postable({"channel": cid})
            content = {"text": as_str(p.get("initial_comment")) or "", "files": out}
            self.store_message(ch, self.bot_user_id, content, as_str(p.get("thread_ts")))
            for f in out:
                self.files[f["id"]].setdefault("channels", []).append(ch.id)
        return {"files": out}
