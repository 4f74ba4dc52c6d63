"""Charts drawn with matplotlib (Agg, no screen): the ChartRenderer port."""

from __future__ import annotations

from pathlib import Path

from bot.ports import WeeklyChart


class MatplotlibCharts:
    """Draws the core's chart descriptions as PNG files."""

    def render(self, chart: WeeklyChart, path: Path) -> Path:
        """Bars on the left axis, the line on the right; blocking (call it in a thread)."""
        # Imported here: only staff asking for stats pay matplotlib's start-up cost.
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        xs = list(range(len(chart.labels)))
        fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
        try:
            width = 0.8 / max(len(chart.bars), 1)
            for i, (label, values) in enumerate(chart.bars):
                offset = (i - (len(chart.bars) - 1) / 2) * width
                ax.bar([x + offset for x in xs], values, width, label=label)
            ax.set_xticks(xs, chart.labels, rotation=45 if len(xs) > 12 else 0, fontsize=8)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole numbers
            ax.set_ylabel(chart.bars_axis)
            ax.set_title(chart.title)
            line_label, line_values = chart.line
            second = ax.twinx()
            second.plot(xs, line_values, color="black", marker="o", label=line_label)
            second.set_ylabel(line_label)
            second.set_ylim(bottom=0)
            handles, labels = ax.get_legend_handles_labels()
            more_handles, more_labels = second.get_legend_handles_labels()
            ax.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=8)
            fig.tight_layout()
            path.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(path, format="png")
            return path
        finally:
            plt.close(fig)
