"""Coffee pairs: members opt in; every N weeks the bot introduces them in pairs by DM, and a
week later asks whether they met. Each round happens once: the scheduler claims its week, and
the round's pairs are stored under its key before anyone is told."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from bot.cog import Cog, button, command, job
from bot.cogs.privacy import remember
from bot.cogs.profiles import profile_fields
from bot.commands import Option, OptionType
from bot.core import Context
from bot.domain import Group, Permission
from bot.errors import PlatformError, UserError
from bot.events import ButtonPressed, MessageRef
from bot.i18n import catalogue, t
from bot.messages import Button, ButtonStyle, OutgoingMessage
from bot.profile_records import Pair
from bot.scheduler import daily_period, weekly_period

log = logging.getLogger(__name__)

DEFAULT_EVERY_WEEKS = 2
SETTING = "pairs_every_weeks"
# The last round that ran, even if everyone sat out (then they may meet again next time).
LAST_ROUND_KEY = "pairs.last_round"
# Rounds start on Monday mornings; the "did you meet?" question follows a week later.
ROUND_WEEKDAY = 0
ROUND_AT = time(10, 0)
FOLLOW_UP_DAYS = 7
MENTOR_ROLES = frozenset({"alumni", "industry"})


def every_weeks(group: Group) -> int:
    """How many weeks between rounds in this group."""
    try:
        return max(1, int(group.settings.get(SETTING, DEFAULT_EVERY_WEEKS)))
    except (TypeError, ValueError):
        return DEFAULT_EVERY_WEEKS


def round_monday(round_key: str) -> date:
    """The Monday of a round key like 2026-W34."""
    year, week = round_key.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def make_pairs(
    ids: Sequence[str],
    roles: dict[str, frozenset[str]],
    previous: set[frozenset[str]],
    rng: random.Random,
) -> tuple[list[tuple[str, ...]], list[str]]:
    """Pairs (and at most one three per odd member) and who sits out.

    Students meet alumni or industry where it can; nobody meets last round's partner again; an
    odd one out joins a pair. A member who can only be paired with last round's partner sits out.
    """
    order = list(ids)
    rng.shuffle(order)

    def ok(a: str, b: str) -> bool:
        return frozenset((a, b)) not in previous

    students = [u for u in order if "student" in roles.get(u, frozenset())]
    mentors = [u for u in order if roles.get(u, frozenset()) & MENTOR_ROLES and u not in students]
    pairs: list[list[str]] = []
    used: set[str] = set()
    for s in students:
        m = next((m for m in mentors if m not in used and ok(s, m)), None)
        if m is not None:
            pairs.append([s, m])
            used |= {s, m}
    pool = [u for u in order if u not in used]
    leftover: list[str] = []
    while pool:
        a = pool.pop(0)
        b = next((b for b in pool if ok(a, b)), None)
        if b is None:
            leftover.append(a)
            continue
        pool.remove(b)
        pairs.append([a, b])
    # Two left over who met last time: swap each into an existing pair.
    while len(leftover) >= 2:
        u, v = leftover[0], leftover[1]
        swap = next(
            (
                (p, x, y)
                for p in pairs
                if len(p) == 2
                for x, y in ((p[0], p[1]), (p[1], p[0]))
                if ok(u, x) and ok(v, y)
            ),
            None,
        )
        if swap is None:
            break
        host, x, y = swap
        pairs = [p for p in pairs if p is not host] + [[u, x], [v, y]]
        leftover = leftover[2:]
    # An odd one out joins a pair of two whose members they did not just meet.
    sitting_out: list[str] = []
    for u in leftover:
        trio = next((p for p in pairs if len(p) == 2 and all(ok(u, x) for x in p)), None)
        if trio is None:
            sitting_out.append(u)
        else:
            trio.append(u)
    return [tuple(p) for p in pairs], sitting_out


def previous_partners(pairs: Iterable[Pair]) -> set[frozenset[str]]:
    """Every two members who were together in these pairs."""
    out: set[frozenset[str]] = set()
    for p in pairs:
        for a in p.members:
            for b in p.members:
                if a != b:
                    out.add(frozenset((a, b)))
    return out


class PairsCog(Cog):
    """`/alumni pairs join|leave|status|every|stats` and the two scheduled jobs."""

    name = "pairs"

    @command("pairs join", permission=Permission.MEMBER, help_key="pairs.join_help")
    async def join(self, ctx: Context) -> None:
        """Opt in to coffee pairs."""
        async with self.bot.uow() as uow:
            added = await uow.pairs.opt_in(ctx.group.id, ctx.user.id, self.bot.clock.now())
            has_profile = await uow.profiles.get(ctx.group.id, ctx.user.id) is not None
        if not added:
            raise UserError("pairs.already_in")
        lines = [ctx.t("pairs.joined", weeks=every_weeks(ctx.group))]
        if not has_profile:
            lines.append(ctx.t("pairs.profile_tip"))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command("pairs leave", permission=Permission.MEMBER, help_key="pairs.leave_help")
    async def leave(self, ctx: Context) -> None:
        """Opt out of coffee pairs."""
        async with self.bot.uow() as uow:
            removed = await uow.pairs.opt_out(ctx.group.id, ctx.user.id)
        await ctx.say("pairs.left" if removed else "pairs.not_in")

    @command("pairs status", permission=Permission.MEMBER, help_key="pairs.status_help")
    async def status(self, ctx: Context) -> None:
        """Whether you are in, how many are, and your latest pair."""
        async with self.bot.uow() as uow:
            ids = await uow.pairs.opted_in(ctx.group.id)
            mine = [p for p in await uow.pairs.for_group(ctx.group.id) if ctx.user.id in p.members]
            names = {m.user_id: m.name for m in await uow.members.for_group(ctx.group.id)}
        key = "pairs.status_in" if ctx.user.id in ids else "pairs.status_out"
        lines = [ctx.t(key, count=len(ids), weeks=every_weeks(ctx.group))]
        if mine:
            last = mine[-1]
            others = ", ".join(names.get(u, u) for u in last.members if u != ctx.user.id)
            lines.append(ctx.t("pairs.status_last", round=last.round, names=others))
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    @command(
        "pairs every",
        permission=Permission.STAFF,
        help_key="pairs.every_help",
        options=(Option("weeks", OptionType.INTEGER, required=True, min_value=1, max_value=8),),
    )
    async def every(self, ctx: Context, weeks: int) -> None:
        """Set how many weeks pass between rounds."""
        group = replace(ctx.group, settings={**ctx.group.settings, SETTING: weeks})
        async with self.bot.uow() as uow:
            await uow.groups.update(group)
        ctx.group = group
        await ctx.say("pairs.every_set", weeks=weeks)

    @command("pairs stats", permission=Permission.STAFF, help_key="pairs.stats_help")
    async def stats(self, ctx: Context) -> None:
        """Per round: pairs made, and how many said they met."""
        async with self.bot.uow() as uow:
            pairs = await uow.pairs.for_group(ctx.group.id)
            opted = await uow.pairs.opted_in(ctx.group.id)
        if not pairs:
            raise UserError("pairs.stats_none", count=len(opted))
        rounds: dict[str, list[Pair]] = {}
        for p in pairs:
            rounds.setdefault(p.round, []).append(p)
        lines = [ctx.t("pairs.stats_title", count=len(opted))]
        for key, group_pairs in list(rounds.items())[-8:]:
            people = sum(len(p.members) for p in group_pairs)
            answers = [a for p in group_pairs for a in p.answers.values()]
            met = sum(1 for p in group_pairs if "yes" in p.answers.values())
            lines.append(
                ctx.t(
                    "pairs.stats_round",
                    round=key,
                    pairs=len(group_pairs),
                    people=people,
                    met=met,
                    yes=answers.count("yes"),
                    no=answers.count("no"),
                    silent=people - len(answers),
                )
            )
        await ctx.reply(OutgoingMessage("\n".join(lines)))

    # -- the round --------------------------------------------------------------------------

    def round_period(self, group: Group, now: datetime) -> str | None:
        """This week's slot once Monday 10:00 (group time) has passed."""
        return weekly_period(group, now, ROUND_WEEKDAY, ROUND_AT)

    @job("pairs-round", period=round_period)
    async def run_round(self, group: Group, period: str) -> None:
        """Pair this week if the last round is at least N weeks old; tell everyone by DM."""
        now = self.bot.clock.now()
        async with self.bot.uow() as uow:
            pairs = await uow.pairs.in_round(group.id, period)
            sitting_out: list[str] = []
            if not pairs:
                last = await uow.kv.get(group.id, LAST_ROUND_KEY)
                if last == period:
                    return  # everyone sat out this round already
                previous: set[frozenset[str]] = set()
                if last is not None:
                    weeks = (round_monday(period) - round_monday(last)).days // 7
                    if weeks < every_weeks(group):
                        return
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
                    return  # nobody to pair: try again next week
                # Stored before anyone is told: a retry finds the round and only re-sends.
                pairs = await uow.pairs.add_round(group.id, period, groups, now) if groups else []
                await uow.kv.set(group.id, LAST_ROUND_KEY, period)
        for index, pair in enumerate(pairs):
            if not pair.notified:
                await self._introduce(group, pair, index)
        for user_id in sitting_out:
            await self._dm(group, user_id, OutgoingMessage(t(group.language, "pairs.sit_out")))
        log.info("pairs round %s for %s: %d pairs", period, group.id, len(pairs))

    async def _introduce(self, group: Group, pair: Pair, index: int) -> None:
        lang = group.language
        async with self.bot.uow() as uow:
            members = {u: await uow.members.get(group.id, u) for u in pair.members}
            profiles = {u: await uow.profiles.get(group.id, u) for u in pair.members}
        questions = sorted(k for k in catalogue(lang) if k.startswith("pairs.question."))
        question = t(lang, random.Random(f"{pair.round}:{index}").choice(questions))
        for user_id in pair.members:
            lines = [t(lang, "pairs.intro", weeks=every_weeks(group))]
            for other in pair.members:
                if other == user_id:
                    continue
                member = members[other]
                lines.append("")
                lines.append(f"**{member.name if member else other}**")
                fields = profile_fields(lang, profiles[other], member, viewer_id=user_id)
                if not fields:
                    lines.append(t(lang, "pairs.no_profile"))
                lines.extend(f"{label}: {value}" for label, value in fields)
            lines.append("")
            lines.append(t(lang, "pairs.opening", question=question))
            title = t(lang, "pairs.intro_title")
            ref = await self._dm(group, user_id, OutgoingMessage("\n".join(lines), title=title))
            if ref is not None:
                # It shows the others' names and profiles: their erasure replaces it.
                others = [u for u in pair.members if u != user_id]
                await remember(self.bot, group.id, ref, others)
        async with self.bot.uow() as uow:
            await uow.pairs.update(replace(pair, notified=True))

    async def _dm(self, group: Group, user_id: str, message: OutgoingMessage) -> MessageRef | None:
        # One member with closed DMs must not stop everyone else's introductions.
        try:
            return await self.bot.workspace.send_dm(group.id, user_id, message)
        except PlatformError as exc:
            log.warning("could not DM %s in %s: %s", user_id, group.id, exc)
            return None

    # -- a week later -----------------------------------------------------------------------

    def follow_up_period(self, group: Group, now: datetime) -> str | None:
        """Once a day, in the morning."""
        return daily_period(group, now)

    @job("pairs-follow-up", period=follow_up_period)
    async def follow_up(self, group: Group, period: str) -> None:
        """Ask the members of each pair a week old whether they met."""
        today = date.fromisoformat(period)
        async with self.bot.uow() as uow:
            due = [
                p
                for p in await uow.pairs.for_group(group.id)
                if p.notified
                and not p.asked
                and round_monday(p.round) + timedelta(days=FOLLOW_UP_DAYS) <= today
            ]
        lang = group.language
        for pair in due:
            for user_id in pair.members:
                await self._dm(
                    group,
                    user_id,
                    OutgoingMessage(
                        t(lang, "pairs.did_you_meet"),
                        buttons=(
                            Button(
                                t(lang, "pairs.yes"),
                                "pairs-met",
                                f"{pair.id}:yes",
                                ButtonStyle.SUCCESS,
                            ),
                            Button(t(lang, "pairs.no"), "pairs-met", f"{pair.id}:no"),
                        ),
                    ),
                )
            async with self.bot.uow() as uow:
                await uow.pairs.update(replace(pair, asked=True))

    @button("pairs-met")
    async def met(self, ctx: Context, event: ButtonPressed, value: str) -> None:
        """Record a member's answer (they may change it by pressing again)."""
        raw_id, _, answer = event.value.partition(":")
        async with self.bot.uow() as uow:
            pair = await uow.pairs.get(int(raw_id)) if raw_id.isdigit() else None
            if (
                pair is None
                or pair.group_id != ctx.group.id
                or ctx.user.id not in pair.members
                or answer not in {"yes", "no"}
            ):
                raise UserError("pairs.not_yours")
            await uow.pairs.update(replace(pair, answers={**pair.answers, ctx.user.id: answer}))
        await ctx.say("pairs.thanks_yes" if answer == "yes" else "pairs.thanks_no")
