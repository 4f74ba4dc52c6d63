"""What members and staff read of coffee pairs: introductions, questions, status and counts."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bot.cogs.pairs.matching import round_monday
from bot.cogs.pairs.records import Answer, Joined, Stats, Status
from bot.cogs.profiles.records import ProfileView
from bot.cogs.profiles.views import fields as profile_fields
from bot.domain import Language
from bot.i18n import catalogue, t, week
from bot.messages import Button, ButtonStyle, OutgoingMessage

MET_ACTION = "pairs-met"
# Staff see this many of the latest rounds.
STATS_ROUNDS = 8


def parse_met(value: str) -> tuple[int, Answer]:
    """The value of a "did you meet?" button: the pair's id and the answer ("12:yes")."""
    raw_id, _, answer = value.partition(":")
    if not raw_id.isdigit():
        raise ValueError(f"not a pair id: {raw_id!r}")
    return int(raw_id), Answer(answer)


def round_name(lang: Language, key: str, with_year: bool = False) -> str:
    """A round as people say it ("week 27" / "uke 27"), never its key ("2029-W27")."""
    try:
        return week(lang, round_monday(key), with_year)
    except ValueError:
        return key  # not a week key: no round the scheduler makes, shown as it is


def joined(lang: Language, result: Joined) -> OutgoingMessage:
    """The answer to joining; a tip to fill in the profile where there is none."""
    lines = [t(lang, "pairs.joined", count=result.weeks)]
    if not result.has_profile:
        lines.append(t(lang, "pairs.profile_tip"))
    return OutgoingMessage("\n".join(lines))


def status(lang: Language, result: Status) -> OutgoingMessage:
    """Whether the member is in, how many are, and their latest pair."""
    key = "pairs.status_in" if result.opted_in else "pairs.status_out"
    schedule = t(lang, "pairs.schedule", count=result.weeks)
    lines = [t(lang, key, count=result.count, schedule=schedule)]
    if result.last_round is not None:
        names = ", ".join(result.last_with)
        round_ = round_name(lang, result.last_round)
        lines.append(t(lang, "pairs.status_last", round=round_, names=names))
    return OutgoingMessage("\n".join(lines))


def stats(lang: Language, result: Stats) -> OutgoingMessage:
    """Per round: pairs made, people, and how many said they met."""
    lines = [t(lang, "pairs.stats_title", count=result.opted_in)]
    # Rounds of more than one year say their year, so week 2 of the new year reads right.
    with_year = len({r.round.partition("-W")[0] for r in result.rounds}) > 1
    for r in result.rounds:
        lines.append(
            t(
                lang,
                "pairs.stats_round",
                round=round_name(lang, r.round, with_year),
                pairs=t(lang, "pairs.pair_count", count=r.pairs),
                people=t(lang, "pairs.people_count", count=r.people),
                met=t(lang, "pairs.pair_count", count=r.met),
                yes=r.yes,
                no=r.no,
                silent=r.silent,
            )
        )
    return OutgoingMessage("\n".join(lines))


def question(lang: Language, seed: str) -> str:
    """An opening question for a pair, the same for every member of it (chosen by `seed`)."""
    questions = sorted(k for k in catalogue(lang) if k.startswith("pairs.question."))
    return t(lang, random.Random(seed).choice(questions))


def intro(
    lang: Language, weeks: int, others: Sequence[ProfileView], opening: str
) -> OutgoingMessage:
    """The DM introducing a member to the others of their pair, with their profiles."""
    lines = [t(lang, "pairs.intro", count=weeks)]
    for other in others:
        lines.append("")
        lines.append(f"**{other.name}**")
        shown = profile_fields(lang, other)
        if not shown:
            lines.append(t(lang, "pairs.no_profile"))
        lines.extend(f"{label}: {value}" for label, value in shown)
    lines.append("")
    lines.append(t(lang, "pairs.opening", question=opening))
    return OutgoingMessage("\n".join(lines), title=t(lang, "pairs.intro_title"))


def sit_out(lang: Language) -> OutgoingMessage:
    """The DM to a member nobody new was left for this round."""
    return OutgoingMessage(t(lang, "pairs.sit_out"))


def did_you_meet(lang: Language, pair_id: int) -> OutgoingMessage:
    """The follow-up a week later, with a yes and a no button for this pair."""
    return OutgoingMessage(
        t(lang, "pairs.did_you_meet"),
        buttons=(
            Button(
                t(lang, "pairs.yes"), MET_ACTION, f"{pair_id}:{Answer.YES}", ButtonStyle.SUCCESS
            ),
            Button(t(lang, "pairs.no"), MET_ACTION, f"{pair_id}:{Answer.NO}"),
        ),
    )


def thanks(lang: Language, answer: Answer) -> OutgoingMessage:
    """The answer to an answer."""
    return OutgoingMessage(
        t(lang, "pairs.thanks_yes" if answer is Answer.YES else "pairs.thanks_no")
    )
