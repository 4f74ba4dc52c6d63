"""Charts drawn with matplotlib (Agg, no screen): the ChartRenderer port."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.ports import WeeklyChart

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

# Discord shows an attached image at most 520 px wide; at 96 px per inch that is 5.4 inches,
# so a figure of that size keeps 11 pt text at 11 pt there. 200 dpi keeps it sharp on
# high-density screens and when someone opens the image full size.
WIDTH, HEIGHT = 5.4, 4.4
DPI = 200
FONT = 11
TITLE_FONT = 13
# Okabe & Ito, "Color Universal Design" (2008): told apart with every kind of colour
# blindness. The hatches tell staff from students and industry/others from alumni in greyscale.
STYLES: dict[str, tuple[str, str, str]] = {  # key: (fill, hatch, hatch colour)
    "student": ("#0072B2", "", ""),
    "alumni": ("#E69F00", "", ""),
    "staff": ("#009E73", "///", "#FFFFFF"),
    "industry": ("#CC79A7", "...", "#FFFFFF"),
    "member": ("#BBBBBB", "xxx", "#666666"),
}
OTHER = ("#999999", "", "")
EMPTY = "#EBEBEB"  # the band behind a week without messages
INK = "#222222"
QUIET = "#555555"
# Steps between labelled weeks, tried in order until the labels do not touch.
LABEL_STEPS = (1, 2, 3, 4, 6, 8, 13, 26, 52)


class MatplotlibCharts:
    """Draws the core's chart descriptions as PNG files."""

    def render(self, chart: WeeklyChart, path: Path) -> Path:
        """Draw and save the chart; blocking (call it in a thread)."""
        fig = draw(chart)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The takeaway travels with the file: image viewers and screen readers show it.
        fig.savefig(
            path,
            format="png",
            dpi=DPI,
            metadata={"Title": chart.title, "Description": chart.subtitle},
        )
        return path


def draw(chart: WeeklyChart) -> Figure:
    """The chart as a matplotlib Figure (no pyplot: no global state shared between threads)."""
    # Imported here: only staff asking for stats pay matplotlib's start-up cost.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.patheffects import withStroke

    n = len(chart.weeks)
    totals = [sum(s.values[i] for s in chart.stacks) for i in range(n)]
    running = chart.so_far is not None
    layout = ConstrainedLayoutEngine(h_pad=0.06, w_pad=0.06)  # inches around the edges
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)  # drawn and measured with Agg: no screen needed
    ax = fig.add_subplot()
    xs = range(n)

    # A week nobody wrote in: a grey band, so it reads as "no posts", not as a low bar.
    for i in xs:
        if totals[i] == 0:
            ax.axvspan(i - 0.5, i + 0.5, color=EMPTY, lw=0, zorder=0)
    bottoms = [0] * n
    for series in chart.stacks:
        fill, hatch, hatch_colour = STYLES.get(series.key, OTHER)
        bars = ax.bar(
            xs,
            series.values,
            0.8,
            bottom=bottoms,
            color=fill,
            edgecolor="white",
            linewidth=0.6,
            hatch=hatch or None,
            hatchcolor=hatch_colour or None,
            zorder=2,
        )
        if running:
            bars[-1].set_alpha(0.55)  # the week so far is lighter: it is not over
        bottoms = [b + v for b, v in zip(bottoms, series.values, strict=True)]
    if running and totals[-1]:
        ax.bar(n - 1, totals[-1], 0.8, fill=False, edgecolor=INK, linestyle="--", lw=1, zorder=3)

    # Replies on the same axis; no point where nobody wrote, a cross where nobody replied.
    replies = chart.replies.values
    line = [float(r) if totals[i] else math.nan for i, r in enumerate(replies)]
    halo = [withStroke(linewidth=3.2, foreground="white")]
    ax.plot(xs, line, color=INK, lw=1.4, zorder=4, path_effects=halo)
    answered = [i for i in xs if totals[i] and replies[i]]
    silent = [i for i in xs if totals[i] and not replies[i]]
    marker: dict[str, Any] = {"color": INK, "mec": "white", "mew": 0.9, "ls": "none", "zorder": 5}
    if answered:
        ax.plot(answered, [replies[i] for i in answered], marker="D", ms=4.5, **marker)
    if silent:
        # Not clipped: the cross sits on the baseline. (An empty unclipped line would make
        # the layout believe it covers the whole figure.)
        ax.plot(silent, [0] * len(silent), marker="X", ms=8, clip_on=False, **marker)

    _axes(ax, chart, totals)
    handles: list[Artist] = [
        Patch(
            facecolor=STYLES.get(s.key, OTHER)[0],
            hatch=STYLES.get(s.key, OTHER)[1] or None,
            edgecolor=STYLES.get(s.key, OTHER)[2] or "white",
            label=s.label,
        )
        for s in chart.stacks
    ]
    if any(totals):
        handles.append(
            Line2D([], [], marker="D", ms=4.5, label=chart.replies.label, **_legend(marker))
        )
    if silent:
        handles.append(Line2D([], [], marker="X", ms=8, label=chart.nobody_replied, **marker))
    if not all(totals):
        handles.append(Patch(facecolor=EMPTY, label=chart.no_messages))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=_columns(fig, [str(h.get_label()) for h in handles]),
        frameon=False,
        fontsize=FONT,
        handlelength=1.6,
        columnspacing=1.2,
    )
    # Placeholders of the titles' height first: their width comes from the laid-out axes.
    fig.suptitle(" ", fontsize=TITLE_FONT, fontweight="bold")
    ax.set_title(" ", loc="left", fontsize=FONT, pad=6)
    layout.execute(fig)
    _week_labels(fig, ax, chart, totals)
    _titles(fig, ax, chart.title, chart.subtitle)
    return fig


def _legend(marker: dict[str, Any]) -> dict[str, Any]:
    """The reply marker as the legend shows it: with its line."""
    return {**marker, "ls": "-", "lw": 1.4}


def _axes(ax: Axes, chart: WeeklyChart, totals: list[int]) -> None:
    """One count axis from the core's ticks, light grid behind the bars, no box."""
    top = max(chart.ticks[-1][0] if chart.ticks else 1, 1)
    # Room above the highest bar for its total.
    ax.set_ylim(0, max(top, max(totals, default=0) * 1.18))
    ax.set_yticks([v for v, _ in chart.ticks], [label for _, label in chart.ticks])
    ax.set_ylabel(chart.axis, fontsize=FONT, color=QUIET)
    ax.tick_params(labelsize=FONT, colors=INK)
    ax.grid(axis="y", color="#DDDDDD", lw=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # A single week is not drawn as one slab filling the chart.
    span = max(len(chart.weeks), 3)
    middle = (len(chart.weeks) - 1) / 2
    ax.set_xlim(middle - span / 2, middle + span / 2)


def _renderer(fig: Figure) -> RendererAgg:
    return fig.canvas.get_renderer()  # type: ignore[attr-defined, no-any-return]


def _width(fig: Figure, text: str, size: float = FONT, weight: str = "normal") -> float:
    """Pixels a line of text takes at the figure's dpi."""
    from matplotlib.text import Text

    probe = Text(0, 0, text, fontsize=size, fontweight=weight, figure=fig)
    return float(probe.get_window_extent(_renderer(fig)).width)


def _columns(fig: Figure, labels: list[str]) -> int:
    """As many legend columns as fit across the figure (the handle and gaps included)."""
    room = fig.get_figwidth() * fig.dpi * 0.96
    extra = (1.6 + 0.8 + 1.2) * FONT * fig.dpi / 72  # handle, its gap and the column gap
    for cols in range(min(len(labels), 4), 1, -1):
        rows = [labels[i : i + cols] for i in range(0, len(labels), cols)]
        widths = [max(_width(fig, row[c]) for row in rows if c < len(row)) for c in range(cols)]
        if sum(widths) + cols * extra <= room:
            return cols
    return 1


def _fit(
    fig: Figure, text: str, room: float, sizes: tuple[int, ...], weight: str
) -> tuple[str, int]:
    """The text at the largest size where it fits on one line, else wrapped at the smallest."""
    for size in sizes:
        if _width(fig, text, size, weight) <= room:
            return text, size
    size, lines = sizes[-1], [""]
    # Split at plain spaces only: "36 %" and "1 500" keep their no-break spaces together.
    for word in text.split(" "):
        trial = f"{lines[-1]} {word}".strip()
        if lines[-1] and _width(fig, trial, size, weight) > room:
            lines.append(word)
        else:
            lines[-1] = trial
    return "\n".join(lines), size


def _titles(fig: Figure, ax: Axes, title: str, subtitle: str) -> None:
    """The takeaway in bold, what it compares under it; both start where the axes start."""
    left = ax.get_position().x0
    # The title may run on to the figure's edge; the subtitle stays over the axes, or the
    # layout would shrink them to make room for it.
    page = fig.get_figwidth() * fig.dpi
    text, size = _fit(fig, title, page * (0.99 - left), (TITLE_FONT, 12, FONT), "bold")
    fig.suptitle(text, x=left, ha="left", fontsize=size, fontweight="bold", color=INK)
    text, size = _fit(fig, subtitle, ax.get_window_extent().width, (FONT,), "normal")
    ax.set_title(text, loc="left", fontsize=size, color=QUIET, pad=6)


def _week_labels(fig: Figure, ax: Axes, chart: WeeklyChart, totals: list[int]) -> None:
    """Label as many weeks as fit without touching, always the last; the year where it turns."""
    n = len(chart.weeks)
    left, right = ax.get_xlim()
    slot = ax.get_window_extent().width / (right - left)
    gap = FONT * fig.dpi / 72  # an em between two labels

    def labels(shown: list[int]) -> list[str]:
        out, year = [], None
        for i in shown:
            week = chart.weeks[i]
            lines = [week.label]
            if week.year != year:
                lines.append(week.year)
            year = week.year
            if i == n - 1 and chart.so_far:
                lines.append(chart.so_far)
            out.append("\n".join(lines))
        return out

    measured: dict[str, float] = {}

    def wide(text: str) -> float:
        if text not in measured:  # each step tried measures mostly the same labels again
            measured[text] = max(_width(fig, line) for line in text.split("\n"))
        return measured[text]

    def fits(shown: list[int]) -> bool:
        widths = [wide(text) for text in labels(shown)]
        return all(
            (b - a) * slot >= (wa + wb) / 2 + gap
            for a, b, wa, wb in zip(shown, shown[1:], widths, widths[1:], strict=False)
        )

    shown = [n - 1]
    for step in LABEL_STEPS:
        shown = list(range(n - 1, -1, -step))[::-1]
        if fits(shown):
            break
    # The first week too, if it fits and does not reach out under the count labels.
    first = wide(labels([0])[0])
    if shown[0] != 0 and fits([0, *shown]) and first / 2 <= (0 - left) * slot + 0.1 * fig.dpi:
        shown = [0, *shown]
    ax.set_xticks(shown, labels(shown), fontsize=FONT)
    ax.tick_params(axis="x", length=0, pad=4)

    # Each week's total above its bar where every total fits over its own bar.
    widest = max((_width(fig, w.total) for w in chart.weeks), default=0.0)
    if widest <= slot * 0.95:
        for i, week in enumerate(chart.weeks):
            if totals[i]:
                ax.annotate(
                    week.total,
                    (i, totals[i]),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=FONT,
                    color=INK,
                )
