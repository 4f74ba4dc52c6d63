"""The core's own guarantees: declared button and form permissions fail closed, values parse,
and no bot ever reaches a feature."""

from __future__ import annotations

from typing import Any

from adapters.local.workspace import LocalWorkspace
from bot.cog import Cog, button, form, listen
from bot.core import Bot, Context
from bot.domain import Member, Permission
from bot.events import (
    ButtonPressed,
    ChannelRef,
    FormSubmitted,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    MessageRef,
    UserRef,
)
from bot.features import load_all
from bot.messages import FormSpec, OutgoingMessage
from storage.uow import UnitOfWorkFactory
from tests.conftest import START


class Replies:
    """A responder that keeps what the member was told."""

    def __init__(self) -> None:
        self.said: list[str] = []

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        self.said.append(message.text)

    async def edit_reply(self, message: OutgoingMessage) -> None:
        self.said.append(message.text)

    async def open_form(self, form: FormSpec) -> None:
        raise AssertionError("no forms here")

    async def defer(self) -> None:
        return None

    async def read_attachment(self, ref: str, option: str) -> str:
        raise AssertionError("no files here")


class Probe(Cog):
    """A feature that records which handlers ran and with what."""

    name = "probe"

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.ran: list[tuple[str, Any]] = []

    @button("probe_staff", permission=Permission.STAFF, value=int)
    async def staff_only(self, ctx: Context, event: ButtonPressed, value: int) -> None:
        """Staff press with a number."""
        self.ran.append(("staff", value))

    @button("probe_any")
    async def anyone(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Anyone presses; the level the core found is on the context."""
        self.ran.append(("any", ctx.actor))

    @form("probe_form", permission=Permission.STAFF)
    async def staff_form(self, ctx: Context, event: FormSubmitted) -> None:
        """A staff form."""
        self.ran.append(("form", event.values))

    @listen(MessagePosted)
    @listen(MemberJoined)
    @listen(MemberLeft)
    async def heard(self, ctx: Context, event: MessagePosted | MemberJoined | MemberLeft) -> None:
        """Every message, join and departure, by whom."""
        self.ran.append((type(event).__name__, event.user.id))


async def _bot(memory: UnitOfWorkFactory) -> tuple[Bot, Probe]:
    ws = LocalWorkspace(None, out=lambda _: None, start=START)
    bot = Bot(ws, memory, ws.clock)
    probe = Probe(bot)
    bot.add_cog(probe)
    group = await bot.group("g")
    async with memory() as uow:
        await uow.members.save(Member(group.id, "teacher", "Teacher"))
        await uow.roles.grant(group.id, "teacher", "staff", "test", None, START)
    return bot, probe


async def test_a_member_pressing_a_staff_button_is_refused_before_the_handler(
    memory: UnitOfWorkFactory,
) -> None:
    bot, probe = await _bot(memory)
    replies = Replies()
    await bot.handle(
        ButtonPressed("g", UserRef("kari", "Kari"), "probe_staff", "7", responder=replies)
    )
    assert probe.ran == []
    assert replies.said == ["Only staff can use this button. Nothing was changed."]


async def test_staff_press_gets_the_parsed_value_and_a_forged_value_is_refused(
    memory: UnitOfWorkFactory,
) -> None:
    bot, probe = await _bot(memory)
    replies = Replies()
    teacher = UserRef("teacher", "Teacher")
    await bot.handle(ButtonPressed("g", teacher, "probe_staff", "7", responder=replies))
    await bot.handle(ButtonPressed("g", teacher, "probe_staff", "7; drop", responder=replies))
    assert probe.ran == [("staff", 7)]
    assert replies.said == ["That button no longer works. Run the command again."]


async def test_the_handler_sees_the_level_the_core_checked(memory: UnitOfWorkFactory) -> None:
    bot, probe = await _bot(memory)
    await bot.handle(ButtonPressed("g", UserRef("teacher", "Teacher"), "probe_any"))
    await bot.handle(ButtonPressed("g", UserRef("kari", "Kari"), "probe_any"))
    levels = [actor.permission for _, actor in probe.ran]
    assert levels == [Permission.STAFF, Permission.MEMBER]


async def test_a_staff_form_from_a_member_is_refused(memory: UnitOfWorkFactory) -> None:
    bot, probe = await _bot(memory)
    replies = Replies()
    await bot.handle(
        FormSubmitted("g", UserRef("kari"), "probe_form", {"x": "1"}, responder=replies)
    )
    await bot.handle(FormSubmitted("g", UserRef("teacher"), "probe_form", {"x": "2"}))
    assert probe.ran == [("form", {"x": "2"})]
    assert replies.said == ["Only staff can send this form. Nothing was changed."]


async def test_a_bots_events_reach_no_feature(memory: UnitOfWorkFactory) -> None:
    """Adapters only mark bots (`UserRef.is_bot`); the core drops their events, every kind,
    before any feature hears them: no welcome, no member record, no counted message."""
    ws = LocalWorkspace(None, out=lambda _: None, start=START)
    bot = load_all(Bot(ws, memory, ws.clock))
    probe = Probe(bot)
    bot.add_cog(probe)
    robot = UserRef("B1", "Helper bot", is_bot=True)
    kari = UserRef("kari", "Kari")
    general = ChannelRef("C1", "general")
    for who in (robot, kari):
        await bot.handle(MemberJoined("g", who, event_key=f"join:{who.id}"))
        await bot.handle(MessagePosted("g", who, general, MessageRef("C1", f"m-{who.id}"), "hi"))
        await bot.handle(ButtonPressed("g", who, "probe_any"))
        await bot.handle(MemberLeft("g", who))
    assert [(kind, getattr(what, "id", what)) for kind, what in probe.ran] == [
        ("MemberJoined", "kari"),
        ("MessagePosted", "kari"),
        ("any", "kari"),
        ("MemberLeft", "kari"),
    ]
    async with memory() as uow:
        assert await uow.members.get("g", "B1") is None
        assert await uow.members.get("g", "kari") is not None
