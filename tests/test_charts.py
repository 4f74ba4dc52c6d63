"""The stats chart: what it says (title, labels, marks) and how it reads at Discord's 520 px.

`ALUMNIBOT_CHART_IMAGES=1 .venv/bin/pytest tests/test_charts.py` also writes the six sample
images into docs/images/ (README shows one); without it they go to a temporary folder. Either
way every image is opened and checked.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import pytest
from matplotlib.colors import to_hex
from matplotlib.text import Text
from PIL import Image

from adapters.charts import DPI, EMPTY, HEIGHT, WIDTH, MatplotlibCharts, draw
from bot.activity import ROLES
from bot.cogs.stats.figures import summarise, week_starts
from bot.cogs.stats.records import ActivityCount, ActivitySummary, Stats
from bot.cogs.stats.views import takeaway, weekly_chart
from bot.domain import Group, Language

DOCS = Path(__file__).resolve().parent.parent / "docs" / "images"
# A Wednesday noon in Oslo, in ISO week 2 of 2027: 2026 has 53 ISO weeks, so the last
# eight weeks run from week 48 of 2026 over the new year; the last year holds a summer break.
NOW = datetime(2027, 1, 13, 11, 0, tzinfo=UTC)
GROUP = Group("g", "local", Language.EN, "Europe/Oslo", {}, NOW)
# Shares of the non-student messages, and of each role's messages that are replies.
OTHERS = {"alumni": 0.35, "staff": 0.3, "industry": 0.2, "member": 0.15}
REPLIES = 0.45


def _week_plan(start: datetime) -> tuple[int, float, bool]:
    """(messages, students' share, anyone replied) of a sample week, by its ISO week."""
    year, week, _ = start.isocalendar()
    if week in (28, 29, 30, 31, 53):  # summer and the week after Christmas: nobody writes
        return 0, 0.0, False
    if week in (27, 52):  # the last week before a break: a few posts, nobody answers
        return 6, 0.0, False
    volume = 40 + (week * 7) % 23 + (30 if week in (33, 34, 35) else 0)
    # Students dare more as the weekly questions take hold in the autumn.
    share = 0.4 if year == 2027 else 0.15 if week < 33 else 0.12 + (week - 33) * 0.008
    return volume, share, True


def sample_counts(starts: list[datetime], now: datetime = NOW) -> list[ActivityCount]:
    """Activity as the database aggregates it: per week, role, reply; the running week partly."""
    counts = []
    for i, start in enumerate(starts):
        volume, share, replied = _week_plan(start)
        if i == len(starts) - 1:
            volume = volume * 2 // 5  # Monday to Wednesday of the running week
        students = round(volume * share)
        by_role = {"student": students}
        for role, part in OTHERS.items():
            by_role[role] = round((volume - students) * part)
        for role, n in by_role.items():
            replies = round(n * REPLIES) if replied else 0
            if n - replies:
                counts.append(ActivityCount(i, "discussion", role, False, False, n - replies))
            if replies:
                counts.append(ActivityCount(i, "discussion", role, True, True, replies))
    return counts


def sample_stats(weeks: int, now: datetime = NOW) -> Stats:
    """The sample group's figures for the last `weeks` weeks, through the stats' own sum."""
    starts = week_starts(GROUP, now, weeks)
    return summarise(ActivitySummary(sample_counts(starts, now), 30, 4), starts, now)


def _stats(weekly: list[dict[str, tuple[int, int]]], now: datetime | None = NOW) -> Stats:
    """Figures from hand-written weeks: role -> (posts, replies)."""
    starts = week_starts(GROUP, now or NOW, len(weekly))
    counts = [
        ActivityCount(i, "discussion", role, reply, False, n)
        for i, week in enumerate(weekly)
        for role, pair in week.items()
        for reply, n in zip((False, True), pair, strict=True)
        if n
    ]
    return summarise(ActivitySummary(counts, 0, 0), starts, now)


def _expected_title(stats: Stats, lang: Language) -> str:
    """The takeaway worked out by hand: the last full weeks (up to 4, at most half) vs before."""
    full = len(stats.weeks) - 1  # the sample's last week is running
    recent = min(4, full // 2)
    per_week = [
        (stats.weekly_by_role["student"][i], sum(stats.weekly_by_role[r][i] for r in ROLES))
        for i in range(len(stats.weeks))
    ]

    def share(part: list[tuple[int, int]]) -> int:
        return round(100 * sum(s for s, _ in part) / sum(n for _, n in part))

    if not recent:
        whole = share(per_week)
        return {
            Language.EN: f"Students wrote {whole}% of messages",
            Language.NB: f"Studentene skrev {whole}\xa0% av meldingene",
        }[lang]
    now, then = share(per_week[full - recent : full]), share(per_week[: full - recent])
    assert now != then  # the sample moves
    way = ("up", "opp") if now > then else ("down", "ned")
    return {
        Language.EN: f"Students wrote {now}% of messages, {way[0]} from {then}%",
        Language.NB: f"Studentene skrev {now}\xa0% av meldingene, {way[1]} fra {then}\xa0%",
    }[lang]


def _texts(fig: object) -> list[Text]:
    return [
        t
        for t in fig.findobj(Text)  # type: ignore[attr-defined]
        if t.get_visible() and t.get_text().strip()
    ]


def _tick_labels(fig: object) -> list[str]:
    (ax,) = fig.axes  # type: ignore[attr-defined]
    return [t.get_text() for t in ax.get_xticklabels()]


@pytest.mark.parametrize("lang", [Language.EN, Language.NB])
@pytest.mark.parametrize("weeks", [1, 8, 52])
def test_the_sample_charts_read_well_at_discords_width(
    weeks: int, lang: Language, tmp_path: Path
) -> None:
    stats = sample_stats(weeks)
    chart = weekly_chart(stats, lang)
    folder = DOCS if os.environ.get("ALUMNIBOT_CHART_IMAGES") else tmp_path
    path = MatplotlibCharts().render(chart, folder / f"stats-{weeks}w-{lang.value}.png")

    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == (round(WIDTH * DPI), round(HEIGHT * DPI))
        assert [round(v) for v in image.info["dpi"]] == [DPI, DPI]
        assert DPI >= 150
        assert image.text["Title"] == chart.title == _expected_title(stats, lang)  # type: ignore[attr-defined]
    # Shown 520 px wide (Discord's largest), one inch of the figure is about 96 px: a point
    # there is a point on the screen, so 11 pt text stays 11 pt.
    assert 520 / WIDTH >= 96

    fig = draw(chart)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    page = fig.bbox
    texts = _texts(fig)
    for text in texts:
        assert text.get_fontsize() >= 11, text.get_text()
        box = text.get_window_extent(renderer)
        assert page.x0 <= box.x0 and box.x1 <= page.x1 + 1, text.get_text()
        assert page.y0 <= box.y0 and box.y1 <= page.y1 + 1, text.get_text()
    (ax,) = fig.axes
    labels = [t for t in ax.get_xticklabels() if t.get_text()]
    for a, b in combinations(labels, 2):
        assert not a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer)), (
            a.get_text(),
            b.get_text(),
        )
    (legend,) = fig.legends
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert fig._suptitle is not None
    assert fig._suptitle.get_text() == chart.title  # on one line
    # The current week says it is not over, with its year where the year turned.
    assert labels[-1].get_text().endswith({"en": "so far", "nb": "så langt"}[lang.value])
    word = {"en": "week", "nb": "uke"}[lang.value]
    assert labels[0].get_text().startswith(word) and labels[0].get_text().split("\n")[1] in (
        "2026",
        "2027",
    )


def test_week_labels_carry_the_year_where_it_turns() -> None:
    fig = draw(weekly_chart(sample_stats(8), Language.NB))
    labels = [label for label in _tick_labels(fig) if label]
    years = [line for label in labels for line in label.split("\n") if line.isdigit()]
    assert years == ["2026", "2027"]  # once at the start, once after the new year
    assert labels[0].startswith("uke 4") and labels[0].endswith("2026")
    assert labels[-1] == "uke 2\n2027\nså langt"
    fig = draw(weekly_chart(sample_stats(52), Language.EN))
    labels = [label for label in _tick_labels(fig) if label]
    assert [line for label in labels for line in label.split("\n") if line.isdigit()] == [
        "2026",
        "2027",
    ]
    assert all(label.startswith("week ") for label in labels)


def test_no_posts_and_nobody_replied_look_different() -> None:
    # Week 1: posts and replies; week 2: nobody wrote; week 3: posts, nobody replied; 4: running.
    stats = _stats(
        [
            {"student": (4, 3), "alumni": (2, 1)},
            {},
            {"staff": (3, 0)},
            {"student": (1, 1)},
        ]
    )
    chart = weekly_chart(stats, Language.EN)
    fig = draw(chart)
    (ax,) = fig.axes
    lines = {tuple(line.get_xdata()): line for line in ax.get_lines()}  # type: ignore[misc]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "X"]
    assert [list(c.get_xdata()) for c in crosses] == [[2]]  # only where posts got no reply
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert [list(d.get_xdata()) for d in diamonds] == [[0, 3]]
    assert [list(d.get_ydata()) for d in diamonds] == [[4, 1]]
    # The replies line breaks where nobody wrote instead of dropping to zero.
    (trend,) = [line for xs, line in lines.items() if len(xs) == 4]
    ys = list(trend.get_ydata())  # type: ignore[arg-type]
    assert ys[0] == 4 and ys[1] != ys[1] and ys[2] == 0 and ys[3] == 1
    # ...and the silent week is shaded across the whole height, as the legend says.
    fig.canvas.draw()
    bands = [p for p in ax.patches if to_hex(p.get_facecolor()) == EMPTY.lower()]
    (band,) = bands
    box = band.get_window_extent().transformed(ax.transData.inverted())
    assert (box.x0, box.x1) == pytest.approx((0.5, 1.5))
    assert band.get_window_extent().height == pytest.approx(ax.get_window_extent().height)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "students",
        "alumni",
        "staff",
        "replies",
        "nobody replied",
        "no messages",
    ]


@pytest.mark.parametrize(
    ("lang", "weekly", "title", "subtitle"),
    [
        (
            Language.EN,
            [{"student": (2, 0), "alumni": (8, 0)}] * 4
            + [{"student": (9, 0), "alumni": (16, 0)}] * 4,
            "Students wrote 36% of messages, up from 20%",
            "The last 3 full weeks, compared with the 4 weeks before",
        ),
        (
            Language.NB,
            [{"student": (2, 0), "alumni": (8, 0)}] * 4
            + [{"student": (9, 0), "alumni": (16, 0)}] * 4,
            "Studentene skrev 36\xa0% av meldingene, opp fra 20\xa0%",
            "De siste 3 hele ukene, sammenlignet med de 4 ukene før",
        ),
        (
            Language.EN,
            [{"student": (6, 4)}, {"student": (1, 0), "staff": (3, 1)}, {"staff": (1, 0)}],
            "Students wrote 20% of messages, down from 100%",
            "The last full week, compared with the week before",
        ),
        (
            Language.NB,
            [{"student": (1, 0), "staff": (3, 0)}] * 3,
            "Studentene skrev 25\xa0% av meldingene, like mye som før",
            "Den siste hele uken, sammenlignet med uken før",
        ),
        (  # 25.2 % and 25 % read the same: "the same", not "down"
            Language.EN,
            [{"student": (63, 0), "staff": (187, 0)}, {"student": (1, 0), "staff": (3, 0)}, {}],
            "Students wrote 25% of messages, the same as before",
            "The last full week, compared with the week before",
        ),
        (
            Language.EN,
            [{}] * 8,
            "No messages in the last 8 weeks",
            "Bars by role appear here as soon as someone writes",
        ),
        (
            Language.NB,
            [{}],
            "Ingen meldinger denne uken ennå",
            "Søylene per rolle kommer her så snart noen skriver",
        ),
        (
            Language.NB,
            [{"student": (1, 1), "industry": (2, 0)}],
            "Studentene skrev 50\xa0% av meldingene",
            "Denne uken så langt, uten noe å sammenligne med",
        ),
        (  # the earlier weeks were silent: nothing to compare with, the whole window counts
            Language.EN,
            [{}, {}, {"student": (1, 0), "alumni": (1, 0)}, {"alumni": (2, 0)}],
            "Students wrote 25% of messages",
            "Share of all messages in these 4 weeks",
        ),
    ],
)
def test_the_title_is_the_takeaway(
    lang: Language, weekly: list[dict[str, tuple[int, int]]], title: str, subtitle: str
) -> None:
    assert takeaway(_stats(weekly), lang) == (title, subtitle)


def test_numbers_and_labels_are_in_the_groups_language() -> None:
    big = [{"student": (700, 500), "alumni": (300, 0)}] * 3
    chart = weekly_chart(_stats(big), Language.NB)
    assert [label for _, label in chart.ticks] == ["0", "500", "1\xa0000", "1\xa0500"]
    assert [w.total for w in chart.weeks] == ["1\xa0500"] * 3
    assert [w.label for w in chart.weeks] == ["uke 53", "uke 1", "uke 2"]
    assert [w.year for w in chart.weeks] == ["2026", "2027", "2027"]
    assert [s.label for s in chart.stacks] == ["studenter", "alumni"]
    assert (chart.replies.label, chart.axis, chart.so_far) == (
        "svar",
        "meldinger per uke",
        "så langt",
    )
    english = weekly_chart(_stats(big), Language.EN)
    assert [label for _, label in english.ticks] == ["0", "500", "1,000", "1,500"]
    assert english.weeks[0].label == "week 53"


def test_a_finished_window_has_no_week_so_far() -> None:
    done = _stats([{"student": (1, 1)}] * 2, now=None)
    assert weekly_chart(done, Language.EN).so_far is None
    fig = draw(weekly_chart(done, Language.EN))
    assert not any("so far" in label for label in _tick_labels(fig))


def test_every_role_has_its_own_colour_and_greyscale_pattern() -> None:
    from adapters.charts import STYLES

    looks = set()
    for role in ROLES:
        fill, hatch, _ = STYLES[role]
        r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
        grey = round((0.299 * r + 0.587 * g + 0.114 * b) / 255, 1)
        looks.add((grey, bool(hatch)))
    # In greyscale no two roles look alike: they differ in lightness or in hatching.
    assert len(looks) == len(ROLES)


def test_a_long_title_wraps_between_words_never_inside_a_number() -> None:
    # Five-digit weeks widen the count labels and leave the title less room.
    huge = [{"student": (9000, 6000), "industry": (500, 0)}, {}, {"alumni": (3, 0)}, {}]
    chart = weekly_chart(_stats(huge), Language.NB)
    assert chart.title == "Studentene skrev 0\xa0% av meldingene, ned fra 97\xa0%"
    fig = draw(chart)
    title = fig._suptitle
    assert title is not None and title.get_fontsize() >= 11
    lines = title.get_text().split("\n")
    assert " ".join(lines) == chart.title
    assert all(not line.startswith("%") for line in lines)  # "97 %" stays on one line


def test_an_empty_window_says_so_and_draws_nothing_else() -> None:
    chart = weekly_chart(_stats([{}] * 8), Language.EN)
    assert chart.ticks == ((0, "0"),) and chart.stacks == ()
    fig = draw(chart)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["no messages"]
    assert fig._suptitle is not None
    assert fig._suptitle.get_text() == "No messages in the last 8 weeks"
