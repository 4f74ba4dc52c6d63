"""What staff and members see of the numbers: the figures, the chart's words, the digest."""

from __future__ import annotations

import math

from bot.activity import ROLES
from bot.channels import default_name
from bot.cogs.posts.views import event_when
from bot.cogs.stats.records import Digest, Report, Stats
from bot.domain import Language
from bot.i18n import catalogue, day, join, number, percent, t, week
from bot.messages import OutgoingMessage
from bot.ports import ChartSeries, ChartWeek, WeeklyChart
from bot.safety import neutralise

# The chart's title compares students' share in up to this many last full weeks with before.
RECENT_WEEKS = 4


def _student_share(stats: Stats, lo: int, hi: int) -> tuple[int, float]:
    """Messages in weeks [lo, hi) and the share of them students wrote."""
    total = sum(stats.weekly_messages[lo:hi])
    students = sum(stats.weekly_by_role["student"][lo:hi])
    return total, students / total if total else 0.0


def takeaway(stats: Stats, lang: Language) -> tuple[str, str]:
    """The chart's title (students' share of messages, and how it moved) and what it compares.

    Students are the subject: the group works when they dare to post. The last full weeks
    (up to RECENT_WEEKS, at most half of them) are compared with the full weeks before; a
    running week counts only when nothing can be compared.
    """
    n = len(stats.weeks)
    if sum(stats.weekly_messages) == 0:
        return t(lang, "stats.takeaway_none", count=n), t(lang, "stats.takeaway_none_sub")
    full = n - 1 if stats.running else n
    recent = min(RECENT_WEEKS, full // 2)
    recent_total, now_share = _student_share(stats, full - recent, full)
    before_total, then_share = _student_share(stats, 0, full - recent)
    if recent and recent_total and before_total:
        now_text, then_text = percent(lang, now_share), percent(lang, then_share)
        # Compared as people read them: "36 %" and "36 %" are the same, whatever the decimals.
        trend = "same" if now_text == then_text else "up" if now_share > then_share else "down"
        title = t(lang, f"stats.takeaway_{trend}", share=now_text, before=then_text)
        subtitle = t(
            lang,
            "stats.takeaway_compared",
            recent=t(lang, "stats.last_full_weeks", count=recent),
            before=t(lang, "stats.weeks_before", count=full - recent),
        )
        return title, subtitle
    _, share = _student_share(stats, 0, n)
    key = "stats.takeaway_running" if n == 1 and stats.running else "stats.takeaway_all"
    return t(lang, "stats.takeaway", share=percent(lang, share)), t(lang, key, count=n)


def nice_ticks(top: int) -> list[int]:
    """0 and up to five round steps (1, 2, 5 x 10^k) reaching at least `top`; [0] for none."""
    if top <= 0:
        return [0]
    step = 1
    while True:
        for factor in (1, 2, 5):
            if math.ceil(top / (step * factor)) <= 5:
                size = step * factor
                return [size * i for i in range(math.ceil(top / size) + 1)]
        step *= 10


def weekly_chart(stats: Stats, lang: Language) -> WeeklyChart:
    """Messages per week by role with the replies, labelled and titled in the group's language."""
    totals = stats.weekly_messages
    title, subtitle = takeaway(stats, lang)
    weeks = tuple(
        ChartWeek(week(lang, w), str(w.isocalendar().year), number(lang, total))
        for w, total in zip(stats.weeks, totals, strict=True)
    )
    stacks = tuple(
        ChartSeries(role, t(lang, f"stats.role.{role}"), tuple(stats.weekly_by_role[role]))
        for role in ROLES
        if any(stats.weekly_by_role[role])
    )
    return WeeklyChart(
        title=title,
        subtitle=subtitle,
        weeks=weeks,
        stacks=stacks,
        replies=ChartSeries("replies", t(lang, "stats.chart_replies"), tuple(stats.weekly_replies)),
        axis=t(lang, "stats.chart_axis"),
        ticks=tuple((v, number(lang, v)) for v in nice_ticks(max(totals, default=0))),
        no_messages=t(lang, "stats.chart_no_messages"),
        nobody_replied=t(lang, "stats.chart_nobody_replied"),
        so_far=t(lang, "stats.chart_so_far") if stats.running else None,
    )


def _per(ratio: float) -> float:
    """A ratio to one decimal; a whole one as an int, so "1 reply per post" takes the one form."""
    rounded = round(ratio, 1)
    return int(rounded) if rounded.is_integer() else rounded


def channel_name(lang: Language, names: dict[str, str], key: str) -> str:
    """A category's channel as "#name" ("" for messages outside any category)."""
    if key in names:
        return f"#{names[key]}"
    # A dropped category still has its default name; messages outside any are "other".
    known = f"categories.{key}.name"
    return f"#{default_name(lang, key)}" if key != "-" and known in catalogue(lang) else ""


TABLES = ("weekly", "channels", "roles")


def table(
    lang: Language, report: Report, kind: str
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The figures as a table for a spreadsheet (header, rows): per week, per channel, or per
    role. Numbers are plain digits (a spreadsheet formats them); words in the language."""
    stats = report.stats
    if kind == "weekly":
        header = (
            t(lang, "stats.csv_week_start"),
            t(lang, "stats.csv_week"),
            t(lang, "stats.csv_posts"),
            t(lang, "stats.csv_replies"),
            *(t(lang, f"stats.role.{role}") for role in ROLES),
        )
        rows = [
            (
                start.date().isoformat(),
                week(lang, start),
                str(stats.weekly_top[i]),
                str(stats.weekly_replies[i]),
                *(str(stats.weekly_by_role[role][i]) for role in ROLES),
            )
            for i, start in enumerate(stats.weeks)
        ]
        return header, rows
    if kind == "channels":
        header = (t(lang, "stats.csv_channel"), t(lang, "stats.csv_posts"))
        return header, [
            (channel_name(lang, report.channel_names, key) or t(lang, "stats.elsewhere"), str(n))
            for key, n in stats.posts_by_category.most_common()
        ]
    if kind == "roles":
        header = (t(lang, "stats.csv_role"), t(lang, "stats.csv_messages"))
        return header, [
            (t(lang, f"stats.role.{role}"), str(stats.by_role.get(role, 0))) for role in ROLES
        ]
    raise ValueError(f"no table {kind!r}")


def fields(lang: Language, report: Report) -> tuple[tuple[str, str], ...]:
    """The figures as fields, every number and name in the group's language."""
    stats = report.stats

    def channel(key: str) -> str:
        return channel_name(lang, report.channel_names, key)

    categories = join(
        lang,
        [
            t(
                lang,
                "stats.channel_count",
                channel=channel(key) or t(lang, "stats.elsewhere"),
                count=n,
            )
            for key, n in stats.posts_by_category.most_common()
        ],
    )
    total = sum(stats.by_role.values())
    roles = join(
        lang,
        [
            t(
                lang,
                "stats.role_share",
                role=t(lang, f"stats.role.{role}"),
                share=percent(lang, stats.by_role[role] / total),
            )
            for role in ROLES
            if stats.by_role.get(role)
        ],
    )
    forms = join(
        lang,
        [
            t(lang, "stats.channel_count", channel=t(lang, f"posts.kind.{k}"), count=n)
            for k, n in sorted(stats.forms_by_kind.items())
        ],
    )
    dialogue = t(
        lang,
        "stats.ratio_value",
        count=_per(stats.ratio),
        replies=t(lang, "stats.n_replies", count=stats.dialogue_replies),
        posts=t(lang, "stats.n_posts", count=stats.top_level),
    )
    questions = (
        t(
            lang,
            "stats.per_question_value",
            count=_per(stats.per_question),
            replies=t(lang, "stats.n_replies", count=stats.question_replies),
            questions=t(lang, "stats.n_questions", count=stats.questions),
        )
        if stats.questions
        else t(lang, "stats.no_questions")
    )
    members = t(
        lang,
        "stats.members_value",
        new=t(lang, "stats.n_new", count=stats.new_members),
        active=t(lang, "stats.n_active", count=stats.active_members),
    )
    return (
        (t(lang, "stats.f_posts"), categories or "-"),
        (t(lang, "stats.f_ratio"), dialogue),
        (t(lang, "stats.f_roles"), roles or "-"),
        (t(lang, "stats.f_members"), members),
        (t(lang, "stats.f_questions"), questions),
        (t(lang, "stats.f_forms"), forms or "-"),
        (
            t(lang, "stats.f_welcome_fallbacks", channel=channel("welcome")),
            t(
                lang,
                "stats.welcome_fallbacks_value",
                count=number(lang, report.welcome_fallbacks),
                new=number(lang, stats.new_members),
            ),
        ),
    )


def report(lang: Language, report: Report) -> OutgoingMessage:
    """The answer to `/alumni stats`: the figures as fields, with the chart when it was drawn."""
    stats = report.stats
    return OutgoingMessage(
        t(lang, "stats.text", since=day(lang, stats.weeks[0]))
        + ("" if report.chart else " " + t(lang, "stats.no_chart")),
        title=t(lang, "stats.title", count=len(stats.weeks)),
        fields=fields(lang, report),
        image_path=str(report.chart) if report.chart else None,
    )


def digest(lang: Language, digest: Digest) -> OutgoingMessage:
    """The weekly digest in announcements: new jobs, coming events, open rentals, new members."""
    none = t(lang, "stats.digest_none")
    jobs = "\n".join(
        f"{p.fields.get('title', '')} ({p.fields.get('employer', '')})" for p in digest.jobs
    )
    events = "\n".join(f"{event_when(lang, p)} {p.fields.get('title', '')}" for p in digest.events)
    rentals = "\n".join(
        f"{p.fields.get('what', '')}, {p.fields.get('where', '')}: {p.fields.get('price', '')}"
        for p in digest.rentals
    )
    # Names come from the platform: shown as written, never able to ping anyone.
    members = join(lang, [neutralise(name) for name in digest.members])
    return OutgoingMessage(
        t(lang, "stats.digest_text"),
        # The week as people say it ("week 35", "uke 35"), never the period key ("2026-W35").
        title=t(lang, "stats.digest_title", week=week(lang, digest.week_of)),
        fields=(
            (t(lang, "stats.digest_jobs"), jobs or none),
            (t(lang, "stats.digest_events"), events or none),
            (t(lang, "stats.digest_rentals"), rentals or none),
            (t(lang, "stats.digest_members"), members or none),
        ),
    )
