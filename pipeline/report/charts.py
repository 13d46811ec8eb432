"""The report's charts, drawn with matplotlib: SVG for the page (text stays text, so the
browser renders the Chinese with its own fonts and the page needs no font file), the
same figures again for the printable PDF."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure

from pipeline.report.figures import GRADE_LABELS, GRADES, DailyFigures

GRADE_COLOURS = {"red": "#d9342b", "orange": "#f28c28", "yellow": "#f2c12e"}
# Fonts with the Chinese glyphs, the first one present is used to lay text out.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, or None."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


@contextmanager
def _style() -> Iterator[None]:
    family = [name for name in (cjk_font(),) if name] + ["DejaVu Sans"]
    settings: dict[str, Any] = {
        "font.family": "sans-serif",
        "font.sans-serif": family,
        "axes.unicode_minus": False,
        "svg.fonttype": "none",
        "svg.hashsalt": "fpwarn",  # the same data gives the same SVG
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
    }
    with matplotlib.rc_context(settings), warnings.catch_warnings():  # type: ignore[arg-type]
        warnings.simplefilter("ignore")  # missing glyphs when no CJK font is installed
        yield


def _stacked_bars(ax: plt.Axes, labels: list[str], rows: list[dict[str, int]]) -> None:
    bottom = [0] * len(labels)
    for grade in GRADES:
        heights = [row[grade] for row in rows]
        ax.bar(
            labels, heights, bottom=bottom, color=GRADE_COLOURS[grade], label=GRADE_LABELS[grade]
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for position, total in enumerate(bottom):
        ax.annotate(str(total), (position, total), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, max([*bottom, 1]) * 1.3)  # room for the legend above the tallest bar
    ax.legend(frameon=False, ncols=3, loc="upper right")
    ax.set_ylabel("预警数")


def _slant_if_crowded(ax: plt.Axes, count: int) -> None:
    """A district of many townships: slanted names stay readable."""
    if count > 6:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def township_chart(figures: DailyFigures) -> Figure:
    table = figures.by_township
    figure, ax = plt.subplots(figsize=(7.5, 3.4))
    _stacked_bars(ax, list(table["township_name"]), table[list(GRADES)].to_dict("records"))
    ax.set_title("各乡镇在办预警（按等级）", loc="left")
    _slant_if_crowded(ax, len(table))
    return figure


def category_chart(figures: DailyFigures) -> Figure:
    table = figures.by_category.iloc[::-1]
    figure, ax = plt.subplots(figsize=(7.5, 0.35 * max(len(table), 3) + 1.0))
    left = [0] * len(table)
    labels = list(table["label"])
    for grade in GRADES:
        widths = list(table[grade])
        ax.barh(labels, widths, left=left, color=GRADE_COLOURS[grade], label=GRADE_LABELS[grade])
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for position, total in enumerate(left):
        ax.annotate(f" {total}", (total, position), va="center", fontsize=9)
    ax.legend(frameon=False, ncols=3, loc="lower right")
    ax.set_title("在办预警按风险类别", loc="left")
    return figure


def trend_chart(figures: DailyFigures) -> Figure:
    trend = figures.trend
    figure, ax = plt.subplots(figsize=(7.5, 3.0))
    dates = [day.strftime("%m-%d") for day in trend["as_of_date"]]
    ax.plot(dates, trend["open_alerts"], marker="o", color="#2f5597", label="在办预警")
    ax.bar(dates, trend["new_alerts"], color="#9dc3e6", label="当日新增")
    ax.plot(
        dates, trend["escalated_alerts"], marker=".", color=GRADE_COLOURS["red"], label="逾期未核实"
    )
    ax.set_ylim(0, max([*trend["open_alerts"], *trend["new_alerts"], 1]) * 1.3)
    ax.legend(frameon=False, ncols=3, loc="upper left")
    ax.set_title("近30天预警趋势", loc="left")
    step = max(1, len(dates) // 10)
    ax.set_xticks(range(0, len(dates), step), dates[::step])
    return figure


def verification_chart(figures: DailyFigures) -> Figure:
    table = figures.verification
    figure, ax = plt.subplots(figsize=(7.5, 3.0))
    labels = list(table["township_name"].fillna(table["township_code"]))
    positions = range(len(labels))
    width = 0.28
    ax.bar(
        [p - width for p in positions], table["awaiting"], width, color="#9dc3e6", label="待核实"
    )
    ax.bar(positions, table["overdue"], width, color=GRADE_COLOURS["red"], label="逾期未核实")
    ax.bar(
        [p + width for p in positions],
        table["verified"],
        width,
        color="#70ad47",
        label="近30天已核实",
    )
    ax.set_xticks(list(positions), labels)
    tallest = max([*table["awaiting"], *table["overdue"], *table["verified"], 1])
    ax.set_ylim(0, tallest * 1.3)
    ax.legend(frameon=False, ncols=3, loc="upper right")
    ax.set_title("各乡镇核实进度", loc="left")
    _slant_if_crowded(ax, len(labels))
    return figure


CHARTS = {
    "townships": township_chart,
    "categories": category_chart,
    "trend": trend_chart,
    "verification": verification_chart,
}


def svg(figure: Figure) -> str:
    """The figure as an inline SVG element (no XML prolog), and the figure closed."""
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def chart_svgs(figures: DailyFigures) -> dict[str, str]:
    with _style():
        return {name: svg(draw(figures)) for name, draw in CHARTS.items()}
