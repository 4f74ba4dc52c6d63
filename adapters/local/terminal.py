"""The terminal front end: turns typed lines into core events, and `!` lines into local actions."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.local.workspace import GROUP_ID, LocalWorkspace
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
# Who a new member is on the terminal: one word, as a user id (`owner` is the first admin).
# Letters of any language (Åse, René), digits, `-` and `_`; not a quote, `@` or `#`.
_MEMBER_NAME = re.compile(r"^[^\W_][\w-]{0,31}$")


def help_text(language: Language) -> str:
    """What can be typed, in the group's language."""
    return t(language, "local.help")


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
        # The terminal's own words follow the language the bot last read: no round trip a line.
        ws.language_of = lambda: bot.seen_language(GROUP_ID)

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
        where = f"#{ch.name}" if ch else self.ws.say("no_channel_prompt")
        return f"{self.user.id}@{where}{' > ' + self.ws.say('thread_prompt') if thread else ''}> "

    def _responder(self) -> LocalResponder:
        ch = self.channel
        return LocalResponder(self.ws, self.user.id, ch.id if ch else None)

    def _say(self, key: str, /, **params: Any) -> None:
        self.ws.out(self.ws.say(key, **params))

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
            self.ws.out(t(self.bot.seen_language(GROUP_ID), exc.key, **exc.params))
        finally:
            self.ws.save()

    async def _tick(self) -> None:
        """Let due jobs run; a database outage waits for the next line, as a server's loop would."""
        try:
            await self.scheduler.tick()
        except StorageUnavailable:
            log.warning("scheduler skipped: database unavailable", exc_info=True)

    def _here(self) -> ChannelRef | None:
        """The member's channel if they can see it: a staff-only one is not there for members."""
        ch = self.channel
        if ch is not None and not self.ws.can_see(self.user.id, ch.id):
            self._say("no_such_channel")
            raise _Refused
        return ch

    async def _command(self, rest: str) -> None:
        words, options = split_command_text(rest)
        try:
            ch = self._here()
        except _Refused:
            return
        responder = LocalResponder(self.ws, self.user.id, ch.id if ch else None)
        await self.bot.handle(CommandInvoked(GROUP_ID, self.user, ch, words, options, responder))

    async def _message(self, text: str) -> None:
        try:
            ch = self._here()
        except _Refused:
            return
        if ch is None:
            self._say("no_channel_here")
            return
        thread = self.ws.state.get("current_thread")
        if thread is None and not self.ws.can_post(self.user.id, ch.id):
            # Discord denies "Send Messages" there to members; threads stay open to them.
            self._say("staff_posts_only", channel=ch.name)
            return
        msg_id = self.ws.member_post(self.user.id, ch.id, thread, text)
        await self.bot.handle(
            MessagePosted(GROUP_ID, self.user, ch, MessageRef(ch.id, msg_id, thread), text, thread)
        )

    async def language(self) -> Language:
        """The group's language, for the terminal's own words and refusals before the core."""
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
            self._say("unknown_line", command=cmd)
            return
        await handler(args)

    async def _do_help(self, args: list[str]) -> None:
        self.ws.out(help_text(self.ws.language_of()))

    async def _do_as(self, args: list[str]) -> None:
        if not args or args[0].lower() not in self.ws.state["members"]:
            self._say("no_member")
            return
        self.ws.state["current_user"] = args[0].lower()
        self._say("you_are", name=args[0].lower())

    async def _do_in(self, args: list[str]) -> None:
        if args and args[0] == "thread":
            ch = self.channel
            threads = [
                tid for tid, th in self.ws.state["threads"].items() if ch and th["channel"] == ch.id
            ]
            if not threads or (ch and not self.ws.can_see(self.user.id, ch.id)):
                self._say("no_thread_here")
                return
            self.ws.state["current_thread"] = threads[-1]
            self._say("in_thread", name=self.ws.state["threads"][threads[-1]]["name"])
            return
        cid = self.ws.channel_by_name(args[0]) if args else None
        if cid is None or not self.ws.can_see(self.user.id, cid):
            self._say("no_such_channel")
            return
        self.ws.state["current_channel"] = cid
        self.ws.state["current_thread"] = None
        self._say("in_channel", channel=self.ws.state["channels"][cid]["name"])

    async def _do_join(self, args: list[str]) -> None:
        if not args:
            self._say("join_usage")
            return
        name = args[0]
        uid = name.lower()
        # `owner` is the admin already here: joining "as" them would hand a newcomer admin
        # rights; an empty or odd name would make a member nobody can `!as`.
        if uid == "owner" or not _MEMBER_NAME.match(uid):
            self._say("join_bad_name")
            return
        email = args[1] if len(args) > 1 else None
        uid = self.ws.add_member(name, email)
        self._say("joined", name=uid)
        await self.bot.handle(
            MemberJoined(
                GROUP_ID, UserRef(uid, name), email, event_key=f"join:{uid}:{self.ws._id('J')}"
            )
        )

    async def _do_leave(self, args: list[str]) -> None:
        uid = args[0].lower() if args else ""
        if uid not in self.ws.state["members"] or uid == "owner":
            self._say("no_member_short")
            return
        self.ws.state["members"][uid]["left"] = True
        self._say("left", name=uid)
        await self.bot.handle(MemberLeft(GROUP_ID, UserRef(uid, uid)))

    async def _do_delete(self, args: list[str]) -> None:
        """An admin deletes a channel on the platform (the bot is not asked)."""
        cid = self.ws.channel_by_name(args[0]) if args else None
        if cid is None:
            self._say("no_such_channel_short")
            return
        self.ws.state["channels"][cid]["deleted"] = True
        self._say("deleted", channel=self.ws.state["channels"][cid]["name"])

    async def _do_rename(self, args: list[str]) -> None:
        """An admin renames a channel on the platform (the bot is not asked)."""
        cid = self.ws.channel_by_name(args[0]) if args else None
        if cid is None or len(args) < 2:
            self._say("rename_usage")
            return
        self.ws.state["channels"][cid]["name"] = args[1].lstrip("#").lower()
        self._say("renamed", channel=args[1].lstrip("#").lower())

    async def _do_clock(self, args: list[str]) -> None:
        match = _CLOCK.match(args[0]) if args else None
        if match is None:
            self._say("clock_usage")
            return
        n, unit = int(match.group(1)), match.group(2)
        delta = {"d": timedelta(days=n), "h": timedelta(hours=n), "m": timedelta(minutes=n)}[unit]
        self.ws.clock.advance(delta)
        self._say("clock_now", time=self.bot.clock.now().astimezone(UTC))

    async def _do_form(self, args: list[str]) -> None:
        uid = self.user.id
        form: dict[str, Any] | None = self.ws.state["forms"].get(uid)
        if form is None:
            self._say("no_form")
            return
        given = {}
        for arg in args:
            key, sep, value = arg.partition("=")
            if not sep:
                self._say("form_key_value", text=arg)
                return
            given[key] = value
        unknown = set(given) - {f["name"] for f in form["fields"]}
        if unknown:
            self._say("form_unknown_field", field=sorted(unknown)[0])
            return
        # A platform's modal comes back with every field, the saved ones as they were filled in:
        # a field left out of `!form` keeps its saved value; `field=""` empties it.
        values = {f["name"]: given.get(f["name"], f.get("default", "")) for f in form["fields"]}
        # The platform's modal enforces these before the bot sees anything; so does the terminal.
        for field in form["fields"]:
            value = values[field["name"]]
            if field["required"] and not value.strip():
                self._say("form_required", field=field["name"])
                return
            if len(value) > field["max_length"]:
                self._say("form_too_long", field=field["name"], count=field["max_length"])
                return
        del self.ws.state["forms"][uid]
        await self.bot.handle(
            FormSubmitted(
                GROUP_ID, self.user, form["form_id"], values, form["context"], self._responder()
            )
        )

    def _public_cards(self) -> list[dict[str, Any]]:
        """The bot's last public card, if its channel is one the user can see."""
        return [c for c in self.ws.cards("*") if self.ws.can_see(self.user.id, c["channel"])]

    async def _do_press(self, args: list[str]) -> None:
        mine = self.ws.cards(self.user.id)
        number: int | None = None
        if len(args) > 1 and args[0].isdigit():
            number, args = int(args[0]), args[1:]
        label = " ".join(args).lower()
        candidates: list[tuple[int | None, dict[str, Any]]]
        if number is not None:
            if not 1 <= number <= len(mine):
                self._say("no_card", number=number)
                return
            candidates = [(number, mine[number - 1])]
        else:
            # The lowest card on screen with that label first (the newest), as the eye finds it;
            # then the bot's last public card.
            candidates = [(i + 1, c) for i, c in reversed(list(enumerate(mine)))]
            candidates += [(None, c) for c in self._public_cards() if c not in mine]
        for shown_as, entry in candidates:
            for b in entry["buttons"]:
                if b["label"].lower() != label:
                    continue
                ch_id = entry["channel"]
                ch_name = self.ws.state["channels"].get(ch_id, {}).get("name", ch_id)
                card = entry.get("title") or entry["message"]
                if shown_as is not None and len(mine) > 1:
                    card = f"{self.ws.say('card', number=shown_as)}, {card}"
                self._say("pressed", label=b["label"], card=card)
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
        self._say("no_button")

    async def _do_show(self, args: list[str]) -> None:
        what = args[0] if args else "channels"
        state = self.ws.state
        uid = self.user.id
        if what == "channels":
            live = [
                (cid, ch)
                for cid, ch in state["channels"].items()
                if not ch["deleted"] and self.ws.can_see(uid, cid)
            ]
            if not live:
                self._say("no_channels")
            for _, ch in live:
                who = self.ws.say("staff_post" if ch["posting"] == "staff" else "members_post")
                seen = f", {self.ws.say('staff_only')}" if ch["visibility"] == "staff" else ""
                self.ws.out(f"#{ch['name']} [{ch['section']}] ({who}{seen}): {ch['topic']}")
        elif what == "roles":
            if len(args) > 1:
                member = args[1].lower()
                if member not in state["members"]:
                    self._say("no_member_short")
                    return
                roles = ", ".join(self.ws.role_names(member)) or self.ws.say("no_roles")
                self.ws.out(f"{member}: {roles}")
            else:
                for rid, role in state["roles"].items():
                    holders = [u for u, m in state["members"].items() if rid in m["roles"]]
                    self.ws.out(f"@{role['name']}: " + (", ".join(sorted(holders)) or "-"))
        elif what == "home":
            # Your own page, as Slack's App Home shows it: roles, access, notes, commands.
            await self.bot.handle(HomeOpened(GROUP_ID, self.user, self._responder()))
        elif what == "dm":
            whose = args[1].lower() if len(args) > 1 else uid
            # Only your own DMs' buttons are yours to press; staff may read a member's.
            self._show(f"D:{whose}", state["dms"].get(whose, [])[-10:], whose == uid, dm=whose)
        elif what == "thread":
            tid = state.get("current_thread")
            if not tid:
                self._say("no_thread_now")
                return
            n = int(args[1]) if len(args) > 1 and args[1].isdigit() else 10
            for msg in state["threads"][tid]["messages"][-n:]:
                self.ws.out(self.ws.render(f"  > {msg['author']}", msg))
        elif what.startswith("#"):
            cid = self.ws.channel_by_name(what)
            if cid is None or not self.ws.can_see(uid, cid):
                self._say("no_such_channel_short")
                return
            n = int(args[1]) if len(args) > 1 and args[1].isdigit() else 10
            self._show(cid, state["channels"][cid]["messages"][-n:], True)
        else:
            self._say("show_usage")

    def _show(
        self, where: str, shown: list[dict[str, Any]], pressable: bool, dm: str | None = None
    ) -> None:
        """Print messages; what you see you can press: their cards, numbered as shown."""
        state = self.ws.state
        numbered = pressable and sum(1 for m in shown if m.get("buttons")) > 1
        k = 0
        for msg in shown:
            k += 1 if msg.get("buttons") else 0
            card = k if numbered and msg.get("buttons") else None
            if dm is not None:
                prefix = f"[{self.ws.say('dm_to', name=dm)}] {msg['author']}"
            else:
                prefix = f"#{state['channels'][where]['name']} {msg['author']}"
            self.ws.out(self.ws.render(prefix, msg, card))
            if msg.get("thread"):
                thread = state["threads"][msg["thread"]]
                self._say("thread_count", name=thread["name"], count=len(thread["messages"]))
        if pressable and any(m.get("buttons") for m in shown):
            self.ws.remember_cards(self.user.id, [(where, m) for m in shown])


class _Refused(Exception):
    """The terminal refused the line itself (and said why)."""
