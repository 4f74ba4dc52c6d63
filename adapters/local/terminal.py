"""The terminal front end: turns typed lines into core events, and `!` lines into local actions."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.local.workspace import GROUP_ID, LocalWorkspace, render
from bot.commands import split_command_text, split_words
from bot.domain import Language
from bot.errors import StorageUnavailable, UserError
from bot.events import (
    ButtonPressed,
    ChannelRef,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    MessageRef,
    UserRef,
)
from bot.i18n import t
from bot.messages import FormSpec, OutgoingMessage
from bot.safety import decode_upload

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)
_CLOCK = re.compile(r"^\+(\d+)([dhm])$")
HELP = """Lines you can type:
  /alumni <subcommand> name:value name:"value with spaces"   run a command
  !as <name>                 be another member        !in #<channel> | !in thread   move
  !join <name> [email]       a new member joins       !leave <name>                 a member leaves
  !clock +<N>d | +<N>h       move the group's clock forward (schedules fire)
  !delete #<channel>         an admin deletes a channel   !rename #<channel> <name>  ...renames one
  !show channels | roles [name] | #<channel> [N] | dm [name] | thread [N] | home
  !form key=value ...        answer the last form     !press <label>                press a button
  !help                      this text                anything else             a message here"""


def _read_text(name: str) -> str:
    """A file's text (a roster CSV); blocking, so it runs in a thread."""
    return decode_upload(Path(name).expanduser().read_bytes())


class LocalResponder:
    """Answers go to the terminal; forms are remembered until `!form` answers them."""

    def __init__(self, ws: LocalWorkspace, user_id: str, channel_id: str | None) -> None:
        self.ws, self.user_id, self.channel_id = ws, user_id, channel_id

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        """Private answers print for the member; public ones post in the channel."""
        if private or self.channel_id is None:
            self.ws.show_private(self.user_id, message, self.channel_id)
        else:
            await self.ws.send(GROUP_ID, self.channel_id, message)

    async def edit_reply(self, message: OutgoingMessage) -> None:
        """Progress updates print as new lines."""
        self.ws.show_private(self.user_id, message, self.channel_id)

    async def open_form(self, form: FormSpec) -> None:
        """Show the form and wait for `!form`."""
        self.ws.show_form(self.user_id, form)

    async def defer(self) -> None:
        """Nothing to acknowledge on a terminal."""

    async def read_attachment(self, ref: str, option: str) -> str:
        """On the terminal a file is attached as `name:file:<path>`."""
        if not ref.startswith("file:"):
            raise UserError("core.attachment_unreadable", option=option)
        name = ref[len("file:") :]
        try:
            return await asyncio.to_thread(_read_text, name)
        except (OSError, UnicodeDecodeError) as exc:
            log.info("could not read %s for %s: %s", name, option, exc)
            raise UserError("core.attachment_unreadable", option=option) from exc


class Terminal:
    """Reads lines, runs them, saves the workspace after each."""

    def __init__(self, bot: Bot, ws: LocalWorkspace, scheduler: Scheduler) -> None:
        self.bot, self.ws, self.scheduler = bot, ws, scheduler

    @property
    def user(self) -> UserRef:
        """The member typing."""
        uid = self.ws.state["current_user"]
        m = self.ws.state["members"][uid]
        return UserRef(uid, m["name"], is_admin=m["is_admin"])

    @property
    def channel(self) -> ChannelRef | None:
        """Where the member is."""
        cid = self.ws.state["current_channel"]
        if cid is None or cid not in self.ws.state["channels"]:
            return None
        return ChannelRef(cid, self.ws.state["channels"][cid]["name"])

    def prompt(self) -> str:
        """`owner@#welcome> `"""
        ch = self.channel
        thread = self.ws.state.get("current_thread")
        where = f"#{ch.name}" if ch else "(no channel)"
        return f"{self.user.id}@{where}{' > thread' if thread else ''}> "

    def _responder(self) -> LocalResponder:
        ch = self.channel
        return LocalResponder(self.ws, self.user.id, ch.id if ch else None)

    async def line(self, text: str) -> None:
        """Run one line, then let due jobs run, then save."""
        text = text.strip()
        if not text or text.startswith("#!"):
            return
        try:
            if text.startswith("/alumni"):
                await self._command(text[len("/alumni") :])
            elif text.startswith("!"):
                await self._bang(text)
            else:
                await self._message(text)
            await self._tick()
        except UserError as exc:
            self.ws.out(t(await self._language(), exc.key, **exc.params))
        finally:
            self.ws.save()

    async def _tick(self) -> None:
        """Let due jobs run; a database outage waits for the next line, as a server's loop would."""
        try:
            await self.scheduler.tick()
        except StorageUnavailable:
            log.warning("scheduler skipped: database unavailable", exc_info=True)

    async def _command(self, rest: str) -> None:
        words, options = split_command_text(rest)
        await self.bot.handle(
            CommandInvoked(GROUP_ID, self.user, self.channel, words, options, self._responder())
        )

    async def _message(self, text: str) -> None:
        ch = self.channel
        if ch is None:
            self.ws.out("(you are in no channel: run /alumni setup, or !in #<channel>)")
            return
        thread = self.ws.state.get("current_thread")
        msg_id = self.ws.member_post(self.user.id, ch.id, thread, text)
        await self.bot.handle(
            MessagePosted(GROUP_ID, self.user, ch, MessageRef(ch.id, msg_id, thread), text, thread)
        )

    async def _language(self) -> Language:
        """The group's language for a refusal made before the core saw the line."""
        try:
            return (await self.bot.group(GROUP_ID, cached=True)).language
        except StorageUnavailable:
            return self.bot.config.default_language

    async def _bang(self, text: str) -> None:
        # The same splitter as commands: overlong lines are refused before they are parsed.
        parts = split_words(text)
        cmd, args = parts[0].lower(), parts[1:]
        handler = getattr(self, "_do_" + cmd[1:], None)
        if handler is None:
            self.ws.out(f"(unknown: {cmd}; !help lists what you can type)")
            return
        await handler(args)

    async def _do_help(self, args: list[str]) -> None:
        self.ws.out(HELP)

    async def _do_as(self, args: list[str]) -> None:
        if not args or args[0].lower() not in self.ws.state["members"]:
            self.ws.out("(no such member; !join <name> adds one)")
            return
        self.ws.state["current_user"] = args[0].lower()
        self.ws.out(f"(you are now {args[0].lower()})")

    async def _do_in(self, args: list[str]) -> None:
        if args and args[0] == "thread":
            ch = self.channel
            threads = [
                tid for tid, th in self.ws.state["threads"].items() if ch and th["channel"] == ch.id
            ]
            if not threads:
                self.ws.out("(no thread in this channel)")
                return
            self.ws.state["current_thread"] = threads[-1]
            self.ws.out(
                f'(you are in the thread "{self.ws.state["threads"][threads[-1]]["name"]}")'
            )
            return
        cid = self.ws.channel_by_name(args[0]) if args else None
        if cid is None:
            self.ws.out("(no such channel; !show channels lists them)")
            return
        self.ws.state["current_channel"] = cid
        self.ws.state["current_thread"] = None
        self.ws.out(f"(you are now in #{self.ws.state['channels'][cid]['name']})")

    async def _do_join(self, args: list[str]) -> None:
        if not args:
            self.ws.out("(usage: !join <name> [email])")
            return
        email = args[1] if len(args) > 1 else None
        uid = self.ws.add_member(args[0], email)
        self.ws.out(f"({uid} joined the group)")
        await self.bot.handle(
            MemberJoined(
                GROUP_ID, UserRef(uid, args[0]), email, event_key=f"join:{uid}:{self.ws._id('J')}"
            )
        )

    async def _do_leave(self, args: list[str]) -> None:
        uid = args[0].lower() if args else ""
        if uid not in self.ws.state["members"] or uid == "owner":
            self.ws.out("(no such member)")
            return
        self.ws.state["members"][uid]["left"] = True
        self.ws.out(f"({uid} left the group)")
        await self.bot.handle(MemberLeft(GROUP_ID, UserRef(uid, uid)))

    async def _do_delete(self, args: list[str]) -> None:
        """An admin deletes a channel on the platform (the bot is not asked)."""
        cid = self.ws.channel_by_name(args[0]) if args else None
        if cid is None:
            self.ws.out("(no such channel)")
            return
        self.ws.state["channels"][cid]["deleted"] = True
        self.ws.out(f"(#{self.ws.state['channels'][cid]['name']} was deleted)")

    async def _do_rename(self, args: list[str]) -> None:
        """An admin renames a channel on the platform (the bot is not asked)."""
        cid = self.ws.channel_by_name(args[0]) if args else None
        if cid is None or len(args) < 2:
            self.ws.out("(usage: !rename #<channel> <new-name>)")
            return
        self.ws.state["channels"][cid]["name"] = args[1].lstrip("#").lower()
        self.ws.out(f"(renamed to #{args[1].lstrip('#').lower()})")

    async def _do_clock(self, args: list[str]) -> None:
        match = _CLOCK.match(args[0]) if args else None
        if match is None:
            self.ws.out("(usage: !clock +7d or !clock +12h)")
            return
        n, unit = int(match.group(1)), match.group(2)
        delta = {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]
        self.ws.clock.advance(delta)
        self.ws.out(f"(the clock is now {self.bot.clock.now():%Y-%m-%d %H:%M} UTC)")

    async def _do_form(self, args: list[str]) -> None:
        uid = self.user.id
        form: dict[str, Any] | None = self.ws.state["forms"].get(uid)
        if form is None:
            self.ws.out("(no form is open for you)")
            return
        values = {}
        for arg in args:
            key, sep, value = arg.partition("=")
            if not sep:
                self.ws.out(f"(write key=value, not {arg})")
                return
            values[key] = value
        # The platform's modal enforces these before the bot sees anything; so does the terminal.
        for field in form["fields"]:
            value = values.get(field["name"], "")
            if field["required"] and not value.strip():
                self.ws.out(f"(the field {field['name']} is required)")
                return
            if len(value) > field["max_length"]:
                self.ws.out(
                    f"(the field {field['name']} takes at most {field['max_length']} characters)"
                )
                return
        unknown = set(values) - {f["name"] for f in form["fields"]}
        if unknown:
            self.ws.out(f"(the form has no field {sorted(unknown)[0]})")
            return
        del self.ws.state["forms"][uid]
        await self.bot.handle(
            FormSubmitted(
                GROUP_ID, self.user, form["form_id"], values, form["context"], self._responder()
            )
        )

    async def _do_press(self, args: list[str]) -> None:
        label = " ".join(args).lower()
        uid = self.user.id
        for entry in (self.ws.state["buttons"].get(uid), self.ws.state["buttons"].get("*")):
            if not entry:
                continue
            for b in entry["buttons"]:
                if b["label"].lower() == label:
                    ch_id = entry["channel"]
                    ch_name = self.ws.state["channels"].get(ch_id, {}).get("name", ch_id)
                    await self.bot.handle(
                        ButtonPressed(
                            GROUP_ID,
                            self.user,
                            b["action"],
                            b["value"],
                            ChannelRef(ch_id, ch_name),
                            MessageRef(ch_id, entry["message"]),
                            self._responder(),
                        )
                    )
                    return
        self.ws.out("(no such button on the last message shown to you)")

    async def _do_show(self, args: list[str]) -> None:
        what = args[0] if args else "channels"
        state = self.ws.state
        if what == "channels":
            live = [(cid, ch) for cid, ch in state["channels"].items() if not ch["deleted"]]
            if not live:
                self.ws.out("(no channels yet: run /alumni setup)")
            for _, ch in live:
                who = "staff post" if ch["posting"] == "staff" else "members post"
                seen = ", staff only" if ch["visibility"] == "staff" else ""
                self.ws.out(f"#{ch['name']} [{ch['section']}] ({who}{seen}): {ch['topic']}")
        elif what == "roles":
            if len(args) > 1:
                uid = args[1].lower()
                if uid not in state["members"]:
                    self.ws.out("(no such member)")
                    return
                self.ws.out(f"{uid}: " + (", ".join(self.ws.role_names(uid)) or "(no roles)"))
            else:
                for rid, role in state["roles"].items():
                    holders = [u for u, m in state["members"].items() if rid in m["roles"]]
                    self.ws.out(f"@{role['name']}: " + (", ".join(sorted(holders)) or "-"))
        elif what == "home":
            # Your own page, as Slack's App Home shows it: roles, access, notes, commands.
            await self.bot.handle(HomeOpened(GROUP_ID, self.user, self._responder()))
        elif what == "dm":
            uid = args[1].lower() if len(args) > 1 else self.user.id
            for msg in state["dms"].get(uid, [])[-10:]:
                self.ws.out(render(f"[DM to {uid}] {msg['author']}", msg, state))
        elif what == "thread":
            tid = state.get("current_thread")
            if not tid:
                self.ws.out("(you are in no thread: !in thread)")
                return
            n = int(args[1]) if len(args) > 1 and args[1].isdigit() else 10
            for msg in state["threads"][tid]["messages"][-n:]:
                self.ws.out(render(f"  > {msg['author']}", msg, state))
        elif what.startswith("#"):
            cid = self.ws.channel_by_name(what)
            if cid is None:
                self.ws.out("(no such channel)")
                return
            n = int(args[1]) if len(args) > 1 and args[1].isdigit() else 10
            for msg in state["channels"][cid]["messages"][-n:]:
                self.ws.out(
                    render(f"#{state['channels'][cid]['name']} {msg['author']}", msg, state)
                )
                # What you see you can press: buttons of a shown message become pressable.
                if msg.get("buttons"):
                    state["buttons"][self.user.id] = {
                        "channel": cid,
                        "message": msg["id"],
                        "buttons": msg["buttons"],
                    }
                if msg.get("thread"):
                    thread = state["threads"][msg["thread"]]
                    count = len(thread["messages"])
                    self.ws.out(f'    (thread "{thread["name"]}": {count} messages)')
        else:
            self.ws.out(
                "(usage: !show channels | roles [name] | #<channel> [N] | dm [name] | thread"
                " | home)"
            )
