"""Coffee pairs: members opt in; every N weeks the bot introduces them in pairs by DM, and a
week later asks whether they met. Each round happens once: the scheduler claims its week, and
the round's pairs are stored under its key before anyone is told."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import date, timedelta

from bot.cogs.pairs import views
from bot.cogs.pairs.matching import make_pairs, previous_partners, round_monday
from bot.cogs.pairs.records import Answer, Joined, Pair, Round, RoundStats, Stats, Status
from bot.cogs.pairs.settings import MAX_WEEKS, MIN_WEEKS, PairsSettings
from bot.cogs.privacy.service import PrivacyService
from bot.cogs.profiles.service import ProfilesService
from bot.domain import Actor, Group
from bot.errors import PlatformError, UserError
from bot.events import MessageRef
from bot.messages import OutgoingMessage
from bot.ports import Clock, UnitOfWorkFactory, Workspace

log = logging.getLogger(__name__)

# The last round that ran, even if everyone sat out (then they may meet again next time).
LAST_ROUND_KEY = "pairs.last_round"
# The "did you meet?" question follows this many days after a round's Monday.
FOLLOW_UP_DAYS = 7


class PairsService:
    """Coffee pairs: each method is one use case, shared by commands, buttons and jobs."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        workspace: Workspace,
        clock: Clock,
        profiles: ProfilesService,
        privacy: PrivacyService,
    ) -> None:
        self.uow = uow
        self.workspace = workspace
        self.clock = clock
        self.profiles = profiles
        self.privacy = privacy

    # -- members' choices -----------------------------------------------------------------

    async def join(self, group: Group, actor: Actor) -> Joined:
        """Opt in to coffee pairs; refused for a member already in."""
        async with self.uow() as uow:
            added = await uow.pairs.opt_in(group.id, actor.id, self.clock.now())
        if not added:
            raise UserError("pairs.already_in")
        has_profile = await self.profiles.get(group, actor.id) is not None
        return Joined(PairsSettings.of(group).every_weeks, has_profile)

    async def leave(self, group: Group, actor: Actor) -> bool:
        """Opt out; False if the member was not in (pairs they already have stay)."""
        async with self.uow() as uow:
            return await uow.pairs.opt_out(group.id, actor.id)

    async def status(self, group: Group, actor: Actor) -> Status:
        """Whether the actor is in, how many are, and the actor's latest pair."""
        async with self.uow() as uow:
            ids = await uow.pairs.opted_in(group.id)
            mine = [p for p in await uow.pairs.for_group(group.id) if actor.id in p.members]
            names = {m.user_id: m.name for m in await uow.members.for_group(group.id)}
        weeks = PairsSettings.of(group).every_weeks
        if not mine:
            return Status(actor.id in ids, len(ids), weeks)
        last = mine[-1]
        others = tuple(names.get(u, u) for u in last.members if u != actor.id)
        return Status(actor.id in ids, len(ids), weeks, last.round, others)

    async def answer(self, group: Group, actor: Actor, pair_id: int, answer: Answer) -> Pair:
        """Record whether the actor met their pair (pressing again changes it); refused for a
        pair of another group or one the actor is not in."""
        async with self.uow() as uow:
            pair = await uow.pairs.get(pair_id)
            if pair is None or pair.group_id != group.id or actor.id not in pair.members:
                raise UserError("pairs.not_yours")
            pair = replace(pair, answers={**pair.answers, actor.id: answer.value})
            await uow.pairs.update(pair)
        return pair

    # -- staff ----------------------------------------------------------------------------

    async def set_interval(self, group: Group, weeks: int) -> PairsSettings:
        """Set how many weeks pass between rounds (1 to 8)."""
        if not MIN_WEEKS <= weeks <= MAX_WEEKS:
            raise UserError(
                "core.option_out_of_range", option="weeks", low=MIN_WEEKS, high=MAX_WEEKS
            )
        settings = PairsSettings(every_weeks=weeks)
        async with self.uow() as uow:
            await uow.groups.set_settings(group.id, settings)
        return settings

    async def stats(self, group: Group) -> Stats:
        """Per round (the latest few): pairs made, and how many said they met; refused before
        the first round."""
        async with self.uow() as uow:
            pairs = await uow.pairs.for_group(group.id)
            opted = await uow.pairs.opted_in(group.id)
        if not pairs:
            raise UserError("pairs.stats_none", count=len(opted))
        rounds: dict[str, list[Pair]] = {}
        for p in pairs:
            rounds.setdefault(p.round, []).append(p)
        out: list[RoundStats] = []
        for key, of_round in list(rounds.items())[-views.STATS_ROUNDS :]:
            answers = [a for p in of_round for a in p.answers.values()]
            out.append(
                RoundStats(
                    round=key,
                    pairs=len(of_round),
                    people=sum(len(p.members) for p in of_round),
                    met=sum(1 for p in of_round if Answer.YES in p.answers.values()),
                    yes=answers.count(Answer.YES),
                    no=answers.count(Answer.NO),
                )
            )
        return Stats(len(opted), tuple(out))

    # -- the round ------------------------------------------------------------------------

    async def run_round(self, group: Group, period: str) -> Round:
        """Pair this week if the last round is at least N weeks old; tell everyone by DM.

        A retry of the same week finds the round stored and only sends what was not sent.
        """
        now = self.clock.now()
        async with self.uow() as uow:
            pairs = await uow.pairs.in_round(group.id, period)
            sitting_out: list[str] = []
            if not pairs:
                last = await uow.kv.get(group.id, LAST_ROUND_KEY)
                if last == period:
                    return Round(period)  # everyone sat out this round already
                previous: set[frozenset[str]] = set()
                if last is not None:
                    weeks = (round_monday(period) - round_monday(last)).days // 7
                    if weeks < PairsSettings.of(group).every_weeks:
                        return Round(period)
                    previous = previous_partners(await uow.pairs.in_round(group.id, last))
                members = {m.user_id: m for m in await uow.members.for_group(group.id)}
                ids = [
                    u
                    for u in await uow.pairs.opted_in(group.id)
                    if u not in members or members[u].left_at is None
                ]
                roles = {u: members[u].roles if u in members else frozenset() for u in ids}
                groups, sitting_out = make_pairs(
                    ids, roles, previous, random.Random(f"{group.id}:{period}")
                )
                if len(ids) < 2:
                    return Round(period)  # nobody to pair: try again next week
                # Stored before anyone is told: a retry finds the round and only re-sends.
                pairs = await uow.pairs.add_round(group.id, period, groups, now) if groups else []
                await uow.kv.set(group.id, LAST_ROUND_KEY, period)
        for index, pair in enumerate(pairs):
            if not pair.notified:
                await self._introduce(group, pair, index)
        for user_id in sitting_out:
            await self._dm(group, user_id, views.sit_out(group.language))
        log.info("pairs round %s for %s: %d pairs", period, group.id, len(pairs))
        return Round(period, tuple(pairs), tuple(sitting_out))

    async def _introduce(self, group: Group, pair: Pair, index: int) -> None:
        lang = group.language
        weeks = PairsSettings.of(group).every_weeks
        opening = views.question(lang, f"{pair.round}:{index}")
        for user_id in pair.members:
            others = [u for u in pair.members if u != user_id]
            # The others' profiles as this member may see them (nobody's email but one's own).
            seen = await self.profiles.seen_by(group, user_id, others)
            ref = await self._dm(group, user_id, views.intro(lang, weeks, seen, opening))
            if ref is not None:
                # It shows the others' names and profiles: their erasure replaces it.
                await self.privacy.remember(group.id, ref, others)
        async with self.uow() as uow:
            await uow.pairs.update(replace(pair, notified=True))

    async def _dm(self, group: Group, user_id: str, message: OutgoingMessage) -> MessageRef | None:
        # One member with closed DMs must not stop everyone else's introductions.
        try:
            return await self.workspace.send_dm(group.id, user_id, message)
        except PlatformError as exc:
            log.warning("could not DM %s in %s: %s", user_id, group.id, exc)
            return None

    # -- a week later ---------------------------------------------------------------------

    async def follow_up(self, group: Group, today: date) -> int:
        """Ask the members of each pair a week old whether they met (once per pair); how many
        pairs were asked."""
        async with self.uow() as uow:
            due = [
                p
                for p in await uow.pairs.for_group(group.id)
                if p.notified
                and not p.asked
                and round_monday(p.round) + timedelta(days=FOLLOW_UP_DAYS) <= today
            ]
        for pair in due:
            for user_id in pair.members:
                await self._dm(group, user_id, views.did_you_meet(group.language, pair.id))
            async with self.uow() as uow:
                await uow.pairs.update(replace(pair, asked=True))
        return len(due)
