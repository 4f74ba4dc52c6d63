"""A member's home: roles, access, features' notes and their commands; `!show home` locally."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cogs.setup.service import SetupService
from bot.domain import Member
from bot.events import HomeOpened, UserRef
from bot.messages import OutgoingMessage
from tests.conftest import START, make_group
from tests.features.helpers import World
from tests.test_core import Replies


class Kept(Replies):
    """Keeps whole messages, not only their text."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[OutgoingMessage] = []

    async def reply(self, message: OutgoingMessage, *, private: bool = True) -> None:
        self.messages.append(message)


async def _home(w: World, user: UserRef) -> OutgoingMessage:
    kept = Kept()
    await w.bot.handle(HomeOpened(w.group.id, user, kept))
    (message,) = kept.messages
    return message


async def test_a_new_member_sees_no_roles_and_only_member_commands(w: World) -> None:
    home = await _home(w, UserRef("kari", "Kari"))
    assert home.title == "Alumni group"
    assert "You have no roles yet." in home.text and "Your access: member" in home.text
    ((label, commands),) = home.fields
    assert label == "Commands you can use"
    assert "`/alumni help`" in commands and "/alumni setup" not in commands


async def test_staff_see_their_roles_by_name_and_staff_commands(w: World) -> None:
    async with w.uow() as uow:
        await uow.members.save(Member(w.group.id, "ingrid", "Ingrid"))
        await uow.roles.grant(w.group.id, "ingrid", "staff", "test", None, START)
        await uow.roles.grant(w.group.id, "ingrid", "alumni", "test", None, START)
    home = await _home(w, UserRef("ingrid", "Ingrid"))
    assert "Your roles: alumni, staff" in home.text and "Your access: staff" in home.text
    assert "`/alumni setup`" in home.fields[0][1]


async def test_a_failing_feature_leaves_the_others_notes(w: World) -> None:
    async def broken(ctx: object) -> list[str]:
        raise RuntimeError("a feature's bug")

    setup = w.bot.cog("setup")
    setup.home_notes = broken  # type: ignore[attr-defined]
    home = await _home(w, UserRef("kari", "Kari"))
    assert "Next question of the week:" in home.text  # the prompts feature's note


async def test_a_norwegian_group_reads_its_home_in_norwegian(w: World) -> None:
    await w.bot.service(SetupService).change_basics(w.group, "nb", None)
    home = await _home(w, UserRef("owner", "owner", is_admin=True))
    assert home.title == "Alumnigruppen"
    assert "Tilgangen din: administrator" in home.text
    assert home.fields[0][0] == "Kommandoer du kan bruke"


async def test_show_home_in_the_terminal(engine: AsyncEngine) -> None:
    group = make_group(engine)
    await group.run("/alumni setup", "!join kari", "!as kari")
    shown = await group.run("!show home")
    assert shown.startswith("[only kari sees] alumnibot: **Alumni group** You have no roles yet.")
    assert "Your access: member" in shown and "`/alumni help`: Show the commands" in shown
    assert "/alumni setup" not in shown
