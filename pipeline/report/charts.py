"""The report's charts, drawn with matplotlib: SVG for the page (text stays text, so the
browser renders the Chinese with its own fonts and the page needs no font file), the
same charts again into the printable PDF's pages.

Each chart draws into the figure it is given: a figure of its own for the page, a part
of an A4 sheet for the PDF (``page.report_pdf``), so the PDF keeps its text as text and
lays every label out itself instead of shrinking a picture of the page's figure."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure, FigureBase

from pipeline.report.figures import DailyFigures
from pipeline.vocabulary import GRADE_LABELS, GRADES

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
        # Township and village names are department text: "$…$" must stay text, never
        # mathtext (a stray "$\\foo$" would stop the report).
        "text.parse_math": False,
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


def _crowded(count: int) -> bool:
    return count > 6


def _slant_if_crowded(ax: plt.Axes, count: int) -> None:
    """A district of many townships: slanted names stay readable."""
    if _crowded(count):
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")


def township_chart(figure: FigureBase, figures: DailyFigures) -> None:
    table = figures.by_township
    ax = figure.subplots()
    _stacked_bars(ax, list(table["township_name"]), table[list(GRADES)].to_dict("records"))
    ax.set_title("各乡镇在办预警（按等级）", loc="left")
    _slant_if_crowded(ax, len(table))


def category_chart(figure: FigureBase, figures: DailyFigures) -> None:
    table = figures.by_category.iloc[::-1]
    ax = figure.subplots()
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


def trend_chart(figure: FigureBase, figures: DailyFigures) -> None:
    trend = figures.trend
    ax = figure.subplots()
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


def verification_chart(figure: FigureBase, figures: DailyFigures) -> None:
    table = figures.verification
    ax = figure.subplots()
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


def _verified_categories(figures: DailyFigures) -> pd.DataFrame:
    """The categories with alerts verified in the precision window."""
    table = figures.precision
    return table[table["verified"] > 0] if not table.empty else table


def precision_chart(figure: FigureBase, figures: DailyFigures) -> None:
    """Per category: the alerts verified in the window (left) and the share found true
    (right), the floor drawn; a flagged category's share in red (docs/assistance.md, "Rule
    precision")."""
    table = _verified_categories(figures)
    window = figures.precision_window_days
    if table.empty:
        ax = figure.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"近{window}天无核实结果", ha="center", va="center", fontsize=12)
        ax.set_title("核实结果反映的规则精度", loc="left")
        return
    table = table.iloc[::-1]
    labels = list(table["category_label"])
    counts, shares = figure.subplots(1, 2, sharey=True, width_ratios=[1, 1.3])
    counts.barh(labels, table["verified"], color="#9dc3e6")
    for position, count in enumerate(table["verified"]):
        counts.annotate(f" {count}", (count, position), va="center", fontsize=9)
    counts.set_xlim(0, max([*table["verified"], 1]) * 1.25)
    counts.set_xlabel(f"近{window}天已核实（条）")
    percent = [0.0 if share != share else share * 100 for share in table["share_found_true"]]
    colours = [GRADE_COLOURS["red"] if flagged else "#70ad47" for flagged in table["is_flagged"]]
    shares.barh(labels, percent, color=colours)
    for position, (share, verified) in enumerate(zip(percent, table["verified"], strict=True)):
        shares.annotate(
            f" {share:.0f}%" if verified else " —", (share, position), va="center", fontsize=9
        )
    floor = figures.precision_floor * 100
    shares.axvline(floor, color="#444444", linestyle="--", linewidth=1)
    shares.annotate(
        f"下限{floor:g}%",
        (floor, 1.0),
        xycoords=("data", "axes fraction"),
        ha="left",
        va="bottom",
        fontsize=9,
    )
    shares.set_xlim(0, 115)
    shares.set_xlabel("属实占比（%）")
    shares.tick_params(axis="y", left=False)
    counts.set_title("核实结果反映的规则精度", loc="left")


class Chart(NamedTuple):
    draw: Callable[[FigureBase, DailyFigures], None]
    height: Callable[[DailyFigures], float]  # inches, at WIDTH


WIDTH = 7.5  # inches: the page's chart width
SLANTED_NAMES = 0.6  # inches more for a chart whose township names are slanted
CHARTS = {
    "townships": Chart(
        township_chart,
        lambda figures: 3.4 + SLANTED_NAMES * _crowded(len(figures.by_township)),
    ),
    # One row per category shown, so a long list keeps its labels apart.
    "categories": Chart(
        category_chart, lambda figures: 0.35 * max(len(figures.by_category), 3) + 1.0
    ),
    "trend": Chart(trend_chart, lambda figures: 3.0),
    "verification": Chart(
        verification_chart,
        lambda figures: 3.0 + SLANTED_NAMES * _crowded(len(figures.verification)),
    ),
    # One row per category, as the category chart.
    "precision": Chart(
        precision_chart,
        # A line of text when nothing was verified.
        lambda figures: (
            0.3 * max(len(_verified_categories(figures)), 3) + 1.4
            if len(_verified_categories(figures))
            else 1.0
        ),
    ),
}
# The charts of the report's 预警分布; the others are shown in their own sections.
DISTRIBUTION = ("townships", "categories", "trend", "verification")


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
        drawn = {}
        for name, chart in CHARTS.items():
            figure = plt.figure(figsize=(WIDTH, chart.height(figures)))
            chart.draw(figure, figures)
            drawn[name] = svg(figure)
        return drawn
