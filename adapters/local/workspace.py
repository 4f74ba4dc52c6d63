"""An in-memory workspace whose state is a JSON document saved under ./data/."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain import Language
from bot.errors import PlatformError
from bot.events import ChannelRef, MessageRef
from bot.i18n import t
from bot.messages import ChannelSpec, FormSpec, OutgoingMessage, RoleSpec
from bot.ports import Capabilities, MemberInfo

log = logging.getLogger(__name__)
GROUP_ID = "local"
BOT_NAME = "alumnibot"
# Files the local workspace keeps in the data folder (see bot.cogs.privacy.files.DATA_FILES): it is
# the platform here, so what it holds is what Discord or Slack would hold.
DATA_FILES = {
    "local_workspace.json": (
        "the local workspace itself (channels, messages, DMs and their files, roles): the "
        "platform's side, which erasure edits as it would Discord's or Slack's"
    ),
    "local_workspace.tmp": "the state being saved (renamed over local_workspace.json at once)",
    "images/*": "copies of the charts the bot posted (counts only, no names)",
}


def _empty_state(start: datetime) -> dict[str, Any]:
    return {
        "next_id": 1,
        "clock": {"start": start.isoformat(), "offset_seconds": 0.0, "frozen": False},
        "channels": {},
        "roles": {},
        "members": {"owner": {"name": "owner", "email": None, "is_admin": True, "roles": []}},
        "dms": {},
        "threads": {},
        "invites": [],
        "forms": {},
        "buttons": {},
        "current_user": "owner",
        "current_channel": None,
    }


class LocalClock:
    """Real time plus an offset that `!clock` moves; a frozen clock stands still otherwise."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    def now(self) -> datetime:
        """The local group's time."""
        clock = self._state["clock"]
        base = datetime.fromisoformat(clock["start"]) if clock["frozen"] else datetime.now(UTC)
        return base + timedelta(seconds=clock["offset_seconds"])

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._state["clock"]["offset_seconds"] += delta.total_seconds()


class LocalWorkspace:
    """The Workspace port over a dict; `out` receives what a person would see."""

    platform = "local"
    capabilities = Capabilities(polls=False)

    def __init__(
        self,
        path: Path | None = None,
        out: Callable[[str], None] = print,
        start: datetime | None = None,
    ) -> None:
        self.path = path
        self.out = out
        if path is not None and path.exists():
            self.state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        else:
            self.state = _empty_state(start or datetime.now(UTC))
            if start is not None:
                self.state["clock"]["frozen"] = True
        self.clock = LocalClock(self.state)
        # The group's language, for the workspace's own words: the terminal points it at the
        # language the bot last read, so a switch shows from the next event on.
        self.language_of: Callable[[], Language] = lambda: Language.EN

    def say(self, key: str, /, **params: Any) -> str:
        """The workspace's own words (`local.<key>`) in the group's language."""
        return t(self.language_of(), f"local.{key}", **params)

    def save(self) -> None:
        """Write the state to disk (atomically), if it has a home."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)

    def _id(self, prefix: str) -> str:
        n = self.state["next_id"]
        self.state["next_id"] = n + 1
        return f"{prefix}{n}"

    # -- lookups used by the terminal ------------------------------------------------------

    def channel_by_name(self, name: str) -> str | None:
        """A live channel's id by its current name."""
        name = name.lstrip("#").lower()
        for cid, ch in self.state["channels"].items():
            if ch["name"] == name and not ch["deleted"]:
                return str(cid)
        return None

    def is_staff(self, user_id: str, channel_id: str) -> bool:
        """An admin, or a holder of the channel's staff role (as Discord's overwrites grant)."""
        member = self.state["members"].get(user_id)
        if member is None:
            return False
        staff_role = self.state["channels"].get(channel_id, {}).get("staff_role_id")
        return bool(member["is_admin"]) or (
            staff_role is not None and staff_role in member["roles"]
        )

    def can_see(self, user_id: str, channel_id: str) -> bool:
        """Staff-only channels are hidden from members, as Discord hides them."""
        ch = self.state["channels"].get(channel_id)
        if ch is None or ch["deleted"]:
            return False
        return ch["visibility"] != "staff" or self.is_staff(user_id, channel_id)

    def can_post(self, user_id: str, channel_id: str) -> bool:
        """In a staff-post channel only staff start posts (everyone replies in threads)."""
        ch = self.state["channels"][channel_id]
        return self.can_see(user_id, channel_id) and (
            ch["posting"] != "staff" or self.is_staff(user_id, channel_id)
        )

    def role_names(self, user_id: str) -> list[str]:
        """Names of the platform roles a member has."""
        member = self.state["members"].get(user_id)
        if member is None:
            return []
        return sorted(
            self.state["roles"][r]["name"] for r in member["roles"] if r in self.state["roles"]
        )

    def add_member(self, name: str, email: str | None) -> str:
        """A person joins the platform group; returns their user id."""
        user_id = name.lower()
        member = self.state["members"].setdefault(
            user_id, {"name": name, "email": email, "is_admin": False, "roles": []}
        )
        member["left"] = False
        if email:
            member["email"] = email
        return user_id

    def member_post(self, user_id: str, channel_id: str, thread_id: str | None, text: str) -> str:
        """A member writes in a channel or thread; returns the message id."""
        msg = self._message(user_id, OutgoingMessage(text))
        if thread_id:
            self.state["threads"][thread_id]["messages"].append(msg)
        else:
            self.state["channels"][channel_id]["messages"].append(msg)
        return str(msg["id"])

    # -- Workspace port ------------------------------------------------------------------

    async def channel_exists(self, group_id: str, channel_id: str) -> ChannelRef | None:
        """The channel if it still exists."""
        ch = self.state["channels"].get(channel_id)
        if ch is None or ch["deleted"]:
            return None
        return ChannelRef(channel_id, ch["name"])

    async def create_channel(self, group_id: str, spec: ChannelSpec) -> ChannelRef:
        """Create a channel."""
        cid = self._id("C")
        self.state["channels"][cid] = {
            "name": spec.name,
            "topic": spec.topic,
            "section": spec.section,
            "posting": spec.posting.value,
            "visibility": spec.visibility.value,
            "listing": spec.listing,
            "staff_role_id": spec.staff_role_id,
            "messages": [],
            "deleted": False,
        }
        if self.state["current_channel"] is None:
            self.state["current_channel"] = cid
        return ChannelRef(cid, spec.name)

    async def apply_channel_spec(self, group_id: str, channel_id: str, spec: ChannelSpec) -> bool:
        """Restore topic and permissions; the name is the admin's to change."""
        ch = self.state["channels"][channel_id]
        wanted = {
            "topic": spec.topic,
            "posting": spec.posting.value,
            "visibility": spec.visibility.value,
            "staff_role_id": spec.staff_role_id,
        }
        changed = any(ch.get(k) != v for k, v in wanted.items())
        ch.update(wanted)
        return changed

    async def rename_channel(self, group_id: str, channel_id: str, name: str) -> None:
        """Rename a channel."""
        self.state["channels"][channel_id]["name"] = name

    async def rename_section(self, group_id: str, channel_id: str, old: str, new: str) -> bool:
        """Rename the section of a channel (and so of every channel in it) if still `old`."""
        section = self.state["channels"][channel_id]["section"]
        if section.lower() != old.lower():
            return False
        for channel in self.state["channels"].values():
            if channel["section"] == section:
                channel["section"] = new
        return True

    async def role_exists(self, group_id: str, role_id: str) -> bool:
        """True if the role exists."""
        return role_id in self.state["roles"]

    async def create_role(self, group_id: str, spec: RoleSpec) -> str:
        """Create a role."""
        rid = self._id("R")
        self.state["roles"][rid] = {"name": spec.name}
        return rid

    async def rename_role(self, group_id: str, role_id: str, name: str) -> None:
        """Rename a role; a role that is gone is refused, as a platform would."""
        role = self.state["roles"].get(role_id)
        if role is None:
            raise PlatformError(f"unknown role {role_id}")
        role["name"] = name

    async def set_roles(
        self, group_id: str, user_id: str, add: Sequence[str], remove: Sequence[str]
    ) -> None:
        """Grant and revoke roles in one step."""
        member = self.state["members"][user_id]
        roles = [r for r in member["roles"] if r not in set(remove)]
        roles += [r for r in add if r not in roles and r in self.state["roles"]]
        member["roles"] = roles

    def _message(self, author: str, message: OutgoingMessage) -> dict[str, Any]:
        return {
            "id": self._id("M"),
            "author": author,
            "text": message.text,
            "title": message.title,
            "fields": [list(f) for f in message.fields],
            "buttons": [asdict(b) for b in message.buttons],
            "ping_roles": list(message.ping_roles),
            "ping_users": list(message.ping_users),
            "poll": (
                {"question": message.poll.question, "answers": list(message.poll.answers)}
                if message.poll
                else None
            ),
            "image": self._keep_image(message.image_path),
            # The platform keeps its own copy of a file, as Discord and Slack do on upload:
            # the bot deletes its copy once delivered.
            "file": Path(message.file_path).name if message.file_path else None,
            "file_content": _read_text(message.file_path) if message.file_path else None,
            "thread": None,
            "at": self.clock.now().isoformat(),
        }

    def _keep_image(self, image_path: str | None) -> str | None:
        """Copy an image under the data folder (next to the state), so it outlives temp dirs."""
        if image_path is None or self.path is None:
            return image_path
        source = Path(image_path)
        target = self.path.parent / "images" / source.name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        except OSError:
            log.warning("could not keep image %s", image_path, exc_info=True)
            return image_path
        return str(target)

    async def send(
        self, group_id: str, channel_id: str, message: OutgoingMessage, thread_id: str | None = None
    ) -> MessageRef:
        """Post as the bot in a channel or one of its threads."""
        msg = self._message(BOT_NAME, message)
        if thread_id is not None:
            self.state["threads"][thread_id]["messages"].append(msg)
            thread_name = self.state["threads"][thread_id]["name"]
            where = f"#{self.state['channels'][channel_id]['name']} > {thread_name}"
        else:
            self.state["channels"][channel_id]["messages"].append(msg)
            where = f"#{self.state['channels'][channel_id]['name']}"
        self._remember_buttons(None, channel_id, msg)
        self.out(self.render(f"[{where}] {BOT_NAME}", msg))
        return MessageRef(channel_id, msg["id"], thread_id)

    async def edit(self, group_id: str, ref: MessageRef, message: OutgoingMessage) -> None:
        """Replace a message the bot sent."""
        for msg in self._messages_of(ref):
            if msg["id"] == ref.id:
                new = self._message(BOT_NAME, message)
                new["id"], new["thread"] = msg["id"], msg["thread"]
                msg.update(new)
                if ref.channel_id.startswith("D:"):
                    where = self.say("edited_dm", name=ref.channel_id[2:])
                else:
                    name = self.state["channels"].get(ref.channel_id, {}).get("name", "?")
                    where = self.say("edited_in", channel=name)
                self.out(self.render(f"[{where}] {BOT_NAME}", msg))
                return

    def _messages_of(self, ref: MessageRef) -> list[dict[str, Any]]:
        if ref.thread_id is not None:
            return list(self.state["threads"][ref.thread_id]["messages"])
        if ref.channel_id.startswith("D:"):
            return list(self.state["dms"].get(ref.channel_id[2:], []))
        return list(self.state["channels"][ref.channel_id]["messages"])

    async def open_thread(self, group_id: str, ref: MessageRef, name: str) -> str:
        """Open a thread under a message."""
        tid = self._id("T")
        self.state["threads"][tid] = {
            "channel": ref.channel_id,
            "parent": ref.id,
            "name": name,
            "messages": [],
        }
        for msg in self.state["channels"][ref.channel_id]["messages"]:
            if msg["id"] == ref.id:
                msg["thread"] = tid
        return tid

    async def send_dm(self, group_id: str, user_id: str, message: OutgoingMessage) -> MessageRef:
        """Send a direct message."""
        msg = self._message(BOT_NAME, message)
        self.state["dms"].setdefault(user_id, []).append(msg)
        self._remember_buttons(user_id, f"D:{user_id}", msg)
        self.out(self.render(f"[{self.say('dm_to', name=user_id)}] {BOT_NAME}", msg))
        return MessageRef(f"D:{user_id}", msg["id"])

    async def send_private(
        self, group_id: str, channel_id: str, user_id: str, message: OutgoingMessage
    ) -> None:
        """Only that member sees it."""
        self.show_private(user_id, message, channel_id)

    async def create_invite(self, group_id: str, max_uses: int, max_age_seconds: int) -> str | None:
        """A made-up link; on the terminal `!join` is how people arrive."""
        code = self._id("inv")
        self.state["invites"].append({"code": code, "max_uses": max_uses, "age": max_age_seconds})
        return f"local://join/{code}"

    async def member_info(self, group_id: str, user_id: str) -> MemberInfo | None:
        """A member's platform facts."""
        member = self.state["members"].get(user_id)
        if member is None or member.get("left"):
            return None
        return MemberInfo(user_id, member["name"], member["email"], member["is_admin"])

    async def member_roles(self, group_id: str, user_id: str) -> set[str] | None:
        """The platform roles a member holds now; None if they are not in the group."""
        member = self.state["members"].get(user_id)
        if member is None or member.get("left"):
            return None
        return set(member["roles"])

    # -- what the terminal shows a member ---------------------------------------------------

    def _remember_buttons(self, user_id: str | None, channel_id: str, msg: dict[str, Any]) -> None:
        """The buttons a member can press next: the last card shown to them (or to everyone)."""
        if msg["buttons"]:
            self.remember_cards(user_id or "*", [(channel_id, msg)])

    def remember_cards(self, user_id: str, shown: list[tuple[str, dict[str, Any]]]) -> None:
        """The cards (messages with buttons) last shown to a member, numbered from 1 as shown."""
        self.state["buttons"][user_id] = [
            {
                "channel": channel_id,
                "message": msg["id"],
                "title": card_name(msg),
                "buttons": msg["buttons"],
            }
            for channel_id, msg in shown
            if msg.get("buttons")
        ]

    def cards(self, user_id: str) -> list[dict[str, Any]]:
        """The cards last shown to a member (a state saved before numbering holds one dict)."""
        entry = self.state["buttons"].get(user_id) or []
        return [entry] if isinstance(entry, dict) else list(entry)

    def show_private(self, user_id: str, message: OutgoingMessage, channel_id: str | None) -> None:
        """An answer only `user_id` sees."""
        msg = self._message(BOT_NAME, message)
        self._remember_buttons(user_id, channel_id or "", msg)
        self.out(self.render(f"[{self.say('only_sees', name=user_id)}] {BOT_NAME}", msg))

    def show_form(self, user_id: str, form: FormSpec) -> None:
        """Open a form: remember it and print how to answer."""
        self.state["forms"][user_id] = {
            "form_id": form.form_id,
            "context": form.context,
            "title": form.title,
            "fields": [asdict(f) for f in form.fields],
        }
        lines = [f"[{self.say('form_for', name=user_id)}] {form.title}"]
        for f in form.fields:
            need = self.say("required" if f.required else "optional")
            hint = self.say("field_hint", need=need, count=f.max_length)
            lines.append(f"    {f.name}: {f.label} ({hint})")
            if f.default:
                # What is saved now: a field left out of `!form` keeps it.
                lines.append(f"        {self.say('saved_value')}: {_quoted(f.default)}")
        lines.append(
            f"    {self.say('answer_with')}: !form "
            + " ".join(f'{f.name}="..."' for f in form.fields)
        )
        if any(f.default for f in form.fields):
            lines.append(f"    {self.say('form_keeps')}")
        self.out("\n".join(lines))

    def render(self, prefix: str, msg: dict[str, Any], card: int | None = None) -> str:
        """A message as the terminal shows it, in the group's language."""
        return render(prefix, msg, self.state, self.say, card)


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        log.warning("could not keep file %s", path, exc_info=True)
        return None


def _quoted(value: str) -> str:
    """A value as `!form` reads it back: in double quotes, a line break written \\n."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def card_name(msg: dict[str, Any]) -> str:
    """What a card is called when `!press` says which one it pressed."""
    name = str(msg.get("title") or msg.get("text") or msg["id"])
    name = " ".join(name.split())
    return name if len(name) <= 60 else name[:59] + "…"


def render(
    prefix: str,
    msg: dict[str, Any],
    state: dict[str, Any],
    say: Callable[..., str] | None = None,
    card: int | None = None,
) -> str:
    """A message as the terminal shows it; `card` numbers its buttons for `!press N`."""
    word = say or (lambda key, **p: t(Language.EN, f"local.{key}", **p))
    pings = " ".join(
        ["@" + state["roles"].get(r, {"name": r})["name"] for r in msg.get("ping_roles", [])]
        + ["@" + u for u in msg.get("ping_users", [])]
    )
    head = (
        f"{prefix}: "
        + (f"**{msg['title']}** " if msg.get("title") else "")
        + (pings + " " if pings else "")
    )
    body = msg["text"]
    lines = [head + body]
    for name, value in msg.get("fields", []):
        # A value of several lines (a list) stays indented under its name.
        lines.append(f"    {name}: " + str(value).replace("\n", "\n        "))
    if msg.get("poll"):
        lines.append(f"    [{word('poll')}: " + " | ".join(msg["poll"]["answers"]) + "]")
    if msg.get("image"):
        lines.append(f"    [{word('image')}: {msg['image']}]")
    if msg.get("file"):
        lines.append(f"    [{word('file')}: {msg['file']}]")
    if msg.get("buttons"):
        which = f", {word('card', number=card)}" if card is not None else ""
        labels = " | ".join(b["label"] for b in msg["buttons"])
        lines.append(f"    [{word('buttons')}{which}: {labels}]")
    return "\n".join(lines)
