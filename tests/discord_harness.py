"""A reusable harness: the real AlumniClient connected to the fake Discord over real sockets.

    async with discord_harness(engine) as (fake, guild, bot, uow):
        inter = await run_command(fake, guild, OWNER_ID, "setup")
        assert "created" in answer_text(inter)

`bot.workspace.client` is the connected AlumniClient. Extra cogs (e.g. a recorder of events)
are added before the client connects, so their commands are part of the synced tree. Pass
`clock=MovableClock()` to move the bot's time (`h.bot.clock.advance(...)`) and run
`Scheduler(h.bot).tick()` for schedules; by default the bot runs on real time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.app import AlumniClient
from bot.cog import Cog, listen
from bot.core import Bot, Context, CoreConfig
from bot.domain import Member, TrustedRole
from bot.events import Event, MemberJoined, MemberLeft, MessagePosted
from bot.ports import Clock
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.fakes.discord_fake import FakeDiscord, FakeGuild, FakeInteraction, running_fake_discord

OWNER_ID = 111_000_000_000_000_001
STAFF_ID = 222_000_000_000_000_002
ALICE_ID = 333_000_000_000_000_003


class MovableClock:
    """A clock that stands still at START (or `at`) and moves only when told."""

    def __init__(self, at: datetime = START) -> None:
        self._now = at

    def now(self) -> datetime:
        """The bot's current time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move forward."""
        self._now += delta


class Harness(NamedTuple):
    """What a Discord end-to-end test works with."""

    fake: FakeDiscord
    guild: FakeGuild
    bot: Bot
    uow: UnitOfWorkFactory


class Recorder(Cog):
    """Records member and message events as the core received them."""

    name = "recorder"
    events: list[Event]

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot)
        self.events = []

    @listen(MemberJoined)
    async def joined(self, ctx: Context, event: MemberJoined) -> None:
        """Record."""
        self.events.append(event)

    @listen(MemberLeft)
    async def left(self, ctx: Context, event: MemberLeft) -> None:
        """Record."""
        self.events.append(event)

    @listen(MessagePosted)
    async def posted(self, ctx: Context, event: MessagePosted) -> None:
        """Record."""
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Any]:
        """Recorded events of one type."""
        return [e for e in self.events if isinstance(e, kind)]


async def connect(
    fake: FakeDiscord,
    uow: UnitOfWorkFactory,
    cogs: Sequence[Callable[[Bot], Cog]] = (),
    clock: Clock | None = None,
) -> AlumniClient:
    """Start an AlumniClient against the fake and wait until it is ready."""
    client = AlumniClient(
        uow,
        CoreConfig(instance_id="test"),
        run_scheduler=False,
        scheduler_interval=3600,
        clock=clock,
    )
    client.bot.add_cog(Recorder(client.bot))
    for cog in cogs:
        client.bot.add_cog(cog(client.bot))
    task = asyncio.create_task(client.start(fake.token))
    client.__dict__["_harness_task"] = task
    ready = asyncio.create_task(client.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()
    assert ready in done, "the client did not become ready"
    return client


async def disconnect(client: AlumniClient) -> None:
    """Close the client and wait for its task."""
    await client.close()
    task = client.__dict__.get("_harness_task")
    if task is not None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


@contextlib.asynccontextmanager
async def discord_harness(
    engine: AsyncEngine,
    *,
    community: bool = True,
    cogs: Sequence[Callable[[Bot], Cog]] = (),
    seed: Callable[[FakeDiscord, FakeGuild], None] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Harness]:
    """A fake guild (owner, a staff member on record, alice) with the bot connected."""
    uow = UnitOfWorkFactory(engine)
    async with running_fake_discord() as fake:
        guild = fake.add_guild("Fashion and Production", owner_id=OWNER_ID, community=community)
        fake.add_member(guild.id, STAFF_ID, "tove")
        fake.add_member(guild.id, ALICE_ID, "alice")
        if seed is not None:
            seed(fake, guild)
        client = await connect(fake, uow, cogs, clock)
        # Staff commands are shown to Manage Server only; the teacher's one step in Server
        # Settings > Integrations shows them to tove too (README, Discord).
        fake.allow_command(guild.id, "alumni", ("setup",), STAFF_ID)
        # Staff comes from the bot's own records, granted here as if by a staff code.
        async with uow() as u:
            await u.members.save(Member(str(guild.id), str(STAFF_ID), "tove"))
            await u.roles.grant(
                str(guild.id), str(STAFF_ID), TrustedRole.STAFF.value, "test", None, START
            )
        try:
            yield Harness(fake, guild, client.bot, uow)
        finally:
            await disconnect(client)


def client_of(bot: Bot) -> AlumniClient:
    """The AlumniClient behind a harness's bot."""
    client = bot.workspace.client  # type: ignore[attr-defined]
    assert isinstance(client, AlumniClient)
    return client


def recorder(bot: Bot) -> Recorder:
    """The harness's event recorder."""
    cog = bot.cog("recorder")
    assert isinstance(cog, Recorder)
    return cog


async def run_command(
    fake: FakeDiscord,
    guild: FakeGuild,
    user_id: int,
    words: str,
    options: dict[str, Any] | None = None,
    *,
    channel_id: int | None = None,
) -> FakeInteraction:
    """A member runs `/alumni <words>`; returns the interaction once it has a visible answer."""
    iid = await fake.slash_command(
        guild.id, user_id, "alumni", words.split(), options or {}, channel_id=channel_id
    )
    inter = fake.interactions[iid]
    await fake.wait_for(lambda: inter.messages or inter.modal, timeout=10)
    return inter


def message_text(message: dict[str, Any]) -> str:
    """Everything a person reads in a message payload: content, embed titles, text, fields."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for f in embed.get("fields") or []:
            parts += [f.get("name", ""), f.get("value", "")]
    return "\n".join(p for p in parts if p)


def answer_text(inter: FakeInteraction) -> str:
    """Everything the member was answered in an interaction."""
    return "\n".join(message_text(m) for m in inter.messages)
