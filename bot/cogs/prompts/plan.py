"""Pure decisions of the weekly question: the schedule, which question is next, the refill."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

from bot.cogs.prompts.bank import THEMES, BankQuestion
from bot.cogs.prompts.records import Prompt, PromptRun
from bot.cogs.prompts.settings import PromptsSettings
from bot.domain import Group
from bot.scheduler import weekly_period

DAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
DAYS_NB: tuple[str, ...] = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
NOT_AGAIN_WITHIN = timedelta(days=365)
# A late question (posted on coming back) takes the place of a slot that follows it this closely.
MIN_GAP = timedelta(days=3)
QUEUE_TARGET = 5
LOW_QUEUE = 3
MAX_LENGTH = 300
# Questions posted with `/alumni prompt now` have periods of their own, outside the schedule.
MANUAL = "now-"


def due_period(group: Group, now: datetime) -> str | None:
    """The ISO week whose question is due now, or None.

    This week's slot once it has passed (bot.scheduler.weekly_period). Before it, last week's
    slot is still owed if it was missed: a bot that was down over it posts on coming back,
    until the next slot takes over. Never older slots: no backlog of missed weeks.
    """
    schedule = PromptsSettings.of(group)
    if schedule.paused:
        return None
    local_group = replace(group, timezone=str(schedule.zone))
    this_slot = schedule.slot_in_week_of(now)
    if now >= this_slot:
        return weekly_period(local_group, now, schedule.day, schedule.time, schedule.not_before)
    previous = schedule.slot_in_week_of(now - timedelta(days=7))
    if schedule.not_before is not None and previous < schedule.not_before:
        return None
    year, week, _ = previous.isocalendar()
    return f"{year}-W{week:02d}"


def scheduled(runs: Iterable[PromptRun]) -> list[PromptRun]:
    """The runs the weekly schedule posted (not those staff posted with `prompt now`)."""
    return [r for r in runs if not r.period.startswith(MANUAL)]


def next_slot(schedule: PromptsSettings, runs: list[PromptRun], now: datetime) -> datetime:
    """When the next weekly question is due: a late one just posted takes this slot's place."""
    nxt = schedule.next_slot(now)
    if runs and nxt - runs[-1].posted_at < MIN_GAP:
        nxt = schedule.next_slot(nxt)
    return nxt


def hour_period(group: Group, now: datetime) -> str | None:
    """The current UTC hour: recaps are looked for once an hour."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


def normalised(text: str) -> str:
    """A question's identity for duplicates: case and spacing ignored."""
    return " ".join(text.casefold().split()).rstrip("?!. ")


def parse_time(value: str) -> time | None:
    """`10:00` or `9.30`; None if it is not a time of day."""
    match = _TIME.match(value.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def parse_day(value: str) -> int | None:
    """A weekday by its English or Norwegian name."""
    value = value.strip().lower()
    for names in (DAYS, DAYS_NB):
        if value in names:
            return names.index(value)
    return None


def queue_order(prompt: Prompt) -> tuple[bool, int, bool, int]:
    """Where a question stands in the queue: the places staff chose first, then questions
    staff added or accepted before the bank's, oldest first."""
    placed = prompt.position is not None
    return (not placed, prompt.position or 0, prompt.bank_id is not None, prompt.id)


def moved_order(queue: Iterable[Prompt], prompt_id: int, up: bool) -> dict[int, int] | None:
    """Every queued question's place after moving one a step; None if it is not queued."""
    ordered = sorted(queue, key=queue_order)
    index = next((i for i, p in enumerate(ordered) if p.id == prompt_id), None)
    if index is None:
        return None
    other = index - 1 if up else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    return {p.id: i + 1 for i, p in enumerate(ordered)}


def choose(queue: Iterable[Prompt], last_theme: str | None, now: datetime) -> Prompt | None:
    """The next question in queue order: never the last one's theme, never one posted
    within a year."""
    year_ago = now - NOT_AGAIN_WITHIN
    eligible = [
        p
        for p in queue
        if p.theme != last_theme and (p.last_posted_at is None or p.last_posted_at <= year_ago)
    ]
    eligible.sort(key=queue_order)
    return eligible[0] if eligible else None


@dataclass(frozen=True)
class Refill:
    """Questions to add to the accepted queue: new ones from the bank, or posted ones back."""

    from_bank: tuple[BankQuestion, ...]
    requeue: tuple[Prompt, ...]


def plan_refill(
    bank: Iterable[BankQuestion],
    held_bank_ids: set[str],
    queue: list[Prompt],
    posted: list[Prompt],
    now: datetime,
) -> Refill:
    """Top the queue up to QUEUE_TARGET, spreading themes, least recently asked theme first.

    Within a theme, questions that drew more replies (score) come back first; a question
    posted within the last year never comes back.
    """
    need = QUEUE_TARGET - len(queue)
    if need <= 0:
        return Refill((), ())
    year_ago = now - NOT_AGAIN_WITHIN
    candidates: dict[str, list[tuple[tuple[int, int, int], BankQuestion | Prompt]]] = {}
    for i, q in enumerate(bank):
        if q.id not in held_bank_ids:
            candidates.setdefault(q.theme, []).append(((0, 0, i), q))
    for p in posted:
        if p.last_posted_at is not None and p.last_posted_at <= year_ago:
            candidates.setdefault(p.theme, []).append(((-p.score, 1, p.id), p))
    for options in candidates.values():
        options.sort(key=lambda c: c[0])
    in_queue: dict[str, int] = {}
    for p in queue:
        in_queue[p.theme] = in_queue.get(p.theme, 0) + 1
    last_asked: dict[str, datetime] = {}
    for p in posted:
        if p.last_posted_at and p.last_posted_at > last_asked.get(
            p.theme, datetime.min.replace(tzinfo=UTC)
        ):
            last_asked[p.theme] = p.last_posted_at
    order = {theme: i for i, theme in enumerate(THEMES)}
    from_bank: list[BankQuestion] = []
    requeue: list[Prompt] = []
    oldest = datetime.min.replace(tzinfo=UTC)
    for _ in range(need):
        themes = [t for t, opts in candidates.items() if opts]
        if not themes:
            break
        theme = min(
            themes,
            key=lambda t: (in_queue.get(t, 0), last_asked.get(t, oldest), order.get(t, 99)),
        )
        _, picked = candidates[theme].pop(0)
        in_queue[theme] = in_queue.get(theme, 0) + 1
        if isinstance(picked, BankQuestion):
            from_bank.append(picked)
        else:
            requeue.append(picked)
    return Refill(tuple(from_bank), tuple(requeue))
