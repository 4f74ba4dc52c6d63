"""Pure sums: the weeks asked for, and the figures summed from the database's aggregates."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.activity import ROLES
from bot.cogs.stats.records import ActivitySummary, Stats
from bot.domain import Group


def week_starts(group: Group, now: datetime, weeks: int) -> list[datetime]:
    """Local Mondays 00:00 (as aware datetimes) of the last `weeks` weeks, oldest first."""
    tz = ZoneInfo(group.timezone)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    return [
        datetime.combine(monday - timedelta(weeks=weeks - 1 - i), time(0, 0), tzinfo=tz)
        for i in range(weeks)
    ]


def summarise(
    summary: ActivitySummary, weeks: list[datetime], now: datetime | None = None
) -> Stats:
    """Sum the aggregated buckets (a few hundred rows at most) into the figures shown."""
    n = len(weeks)
    stats = Stats(
        weeks,
        weekly_top=[0] * n,
        weekly_replies=[0] * n,
        weekly_by_role={role: [0] * n for role in ROLES},
        now=now,
    )
    # Per (week, channel): members' posts, and replies that are not to the weekly question.
    posts: Counter[tuple[int, str | None]] = Counter()
    answers: Counter[tuple[int, str | None]] = Counter()
    for c in summary.counts:
        i = min(max(c.week, 0), n - 1)
        stats.by_role[c.author_role] += c.count
        # A role the chart does not know (older data) is drawn with the members without one.
        role = c.author_role if c.author_role in stats.weekly_by_role else "member"
        stats.weekly_by_role[role][i] += c.count
        if c.is_reply:
            stats.replies += c.count
            stats.weekly_replies[i] += c.count
            if not c.in_prompt_thread:
                answers[i, c.category_key] += c.count
        else:
            posts[i, c.category_key] += c.count
            stats.top_level += c.count
            stats.weekly_top[i] += c.count
            stats.posts_by_category[c.category_key or "-"] += c.count
    stats.dialogue_replies = sum(n for key, n in answers.items() if posts[key])
    stats.questions = summary.questions
    stats.question_replies = summary.question_replies
    stats.active_members = summary.active_members
    stats.new_members = summary.new_members
    stats.forms_by_kind = dict(summary.posts_opened)
    return stats
