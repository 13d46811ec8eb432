"""report.html (self-contained: inline SVG charts and styles, no script, nothing fetched)
and report.pdf (the same figures on A4 pages, for printing)."""

from __future__ import annotations

import io
import multiprocessing
import textwrap
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from pipeline.outbox import atomic_write_bytes
from pipeline.report import charts
from pipeline.report.figures import DailyFigures
from pipeline.vocabulary import DELIVERY_LABELS

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
A4_LANDSCAPE = (11.69, 8.27)
SHEET_MARGIN = 0.2  # inches, around each chart with its labels: what printers leave blank


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for the template, missing values as None (not pandas' <NA>)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def report_html(figures: DailyFigures) -> str:
    return TEMPLATES.get_template("report.html.j2").render(
        day=figures.business_date.isoformat(),
        h=figures.headline,
        critical=figures.critical,
        # The critical ones are in the banner already.
        warnings=[warning for warning in figures.warnings if warning not in figures.critical],
        charts=charts.chart_svgs(figures),
        verification=figures.verification.to_dict("records"),
        townships=figures.by_township.to_dict("records"),
        regional=figures.regional.to_dict("records"),
        feeds=_records(figures.feed_health),
        status_labels=DELIVERY_LABELS,
    )


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    figure = plt.figure(figsize=A4_LANDSCAPE)
    figure.text(0.05, 0.94, title, fontsize=16, weight="bold")
    wrapped = [part for line in lines for part in textwrap.wrap(line, 95) or [""]]
    for start in range(0, max(len(wrapped), 1), 42):
        if start:
            figure = plt.figure(figsize=A4_LANDSCAPE)
        for index, line in enumerate(wrapped[start : start + 42]):
            figure.text(0.05, 0.89 - index * 0.02, line, fontsize=9)
        pdf.savefig(figure)
        plt.close(figure)


def _chart_sheet(
    figures: DailyFigures, names: tuple[str, ...], headline: str | None = None
) -> Figure:
    """An A4 sheet: the title (and the headline), then the named charts one above the
    other. Each chart is drawn on the sheet itself, so its text stays text in the PDF, and
    constrained layout keeps every label inside its own part of the sheet; each part is
    as tall as the chart's own height allows."""
    sheet = plt.figure(
        figsize=A4_LANDSCAPE, layout=ConstrainedLayoutEngine(w_pad=SHEET_MARGIN, h_pad=SHEET_MARGIN)
    )
    header = 1.1 if headline else 0.8  # inches
    wanted = [charts.CHARTS[name].height(figures) for name in names]
    # The header keeps its height; the charts share the rest in proportion to their own.
    scale = (A4_LANDSCAPE[1] - header) / sum(wanted)
    top, *parts = sheet.subfigures(
        len(names) + 1,
        1,
        squeeze=False,
        height_ratios=[header, *(height * scale for height in wanted)],
    ).ravel()
    # Text is placed by hand in the header (layout only moves axes): the title a third
    # of an inch from the sheet's top edge, where printers still print.
    top.text(
        0.05,
        1 - 0.35 / header,
        f"防止返贫动态监测预警日报 {figures.business_date}",
        fontsize=16,
        weight="bold",
        va="top",
    )
    if headline:
        top.text(0.05, 0.1, headline, fontsize=11, va="bottom")
    for name, part in zip(names, parts, strict=True):
        charts.CHARTS[name].draw(part, figures)
    return sheet


def report_pdf(figures: DailyFigures) -> bytes:
    """The printable report: headline, the four charts, regional warnings and feed health."""
    buffer = io.BytesIO()
    h = figures.headline
    with charts._style(), PdfPages(buffer, metadata={"CreationDate": None, "Creator": None}) as pdf:
        headline = (
            f"在办预警 {h['open']}（红 {h['red']} · 橙 {h['orange']} · 黄 {h['yellow']}）    "
            f"今日新增 {h['new']}    逾期未核实 {h['escalated']}    涉及农户 {h['households']}"
        )
        if figures.critical:
            # A page of its own before the charts: the figures after it are incomplete.
            _text_page(
                pdf, f"本日预警不完整，请先处理（{figures.business_date}）", figures.critical
            )
        for sheet in (
            _chart_sheet(figures, ("townships", "categories"), headline),
            _chart_sheet(figures, ("trend", "verification")),
        ):
            pdf.savefig(sheet)
            plt.close(sheet)
        regional = [
            f"{row['regional_id']}  {row['reason']}" for row in figures.regional.to_dict("records")
        ] or ["今日无规模性返贫风险预警"]
        feeds = [
            f"{row['title']}（{row['owner']}）：{DELIVERY_LABELS.get(row['status'], row['status'])}，"
            f"读取{row['rows_read']}行，隔离{row['rows_quarantined']}行"
            + (f"；{row['top_quarantine_reasons']}" if row.get("top_quarantine_reasons") else "")
            for row in _records(figures.feed_health)
        ]
        _text_page(pdf, "规模性返贫风险预警与部门数据交付", [*regional, "", *feeds])
    return buffer.getvalue()


def write_report_beside(figures: DailyFigures, outbox: Path) -> Callable[[], dict[str, str]]:
    """Start drawing report.html and report.pdf, each in a child process (drawing is
    CPU-bound, and the caller has workbooks to write meanwhile); the call returned waits
    for them and gives their digests. Each file appears whole or not at all."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this system: drawn here and now
        outputs = write_report(figures, outbox)
        return lambda: outputs
    pool = ProcessPoolExecutor(2, mp_context=context)
    futures = {name: pool.submit(_write, name, figures, outbox) for name in REPORT_FILES}

    def wait() -> dict[str, str]:
        try:
            return {name: future.result() for name, future in futures.items()}
        finally:
            pool.shutdown()

    return wait


def write_report(figures: DailyFigures, outbox: Path) -> dict[str, str]:
    """report.html and report.pdf in the outbox, each whole or not at all."""
    return {name: _write(name, figures, outbox) for name in REPORT_FILES}


def _write(name: str, figures: DailyFigures, outbox: Path) -> str:
    content = report_html(figures).encode() if name == "report.html" else report_pdf(figures)
    return atomic_write_bytes(outbox / name, content)


REPORT_FILES = ("report.html", "report.pdf")
