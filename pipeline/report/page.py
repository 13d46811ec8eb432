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
from pipeline.vocabulary import DELIVERY_LABELS, CaseStatus

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


def _assessment_context(figures: DailyFigures) -> dict[str, Any]:
    """The section 考核评估与帮扶台账 and 规则精度: counts only, no household named."""
    period = figures.assessment_period
    return {
        "assessment_period": period.label() if period else "",
        "assessment": _records(figures.assessment),
        "cases": [
            {"status": status.value, "label": status.label, "count": figures.cases.get(status, 0)}
            for status in CaseStatus
        ],
        "overdue_cases": _records(figures.overdue_cases),
        "grids_not_reported": _records(figures.grids_not_reported),
        "precision": _records(figures.precision),
        "precision_flags": figures.precision_flags,
        "precision_window_days": figures.precision_window_days,
        "precision_floor": f"{figures.precision_floor * 100:g}%",
    }


# What the section 发现渠道 says below its tables.
CHANNEL_NOTES = (
    "预警按其类别的发现渠道计（config/rules.yaml 中各类别的 channel）；今日发现的预警含当日已核实或撤回的。",
    "今日匹配线索按来源计当日匹配到登记成员的线索条数：同一户当日的线索合为一条预警，可含几种来源，"
    "故线索数可多于预警数；线索引发的预警计在其类别的渠道，不按线索来源拆分。",
)
LEAD_COUNTS = {
    "matched_by_id_number": "按身份证号匹配",
    "matched_by_linkage": "按姓名等信息匹配",
    "ambiguous": "多个候选",
    "unmatched": "未匹配",
    "quarantined": "已隔离（见 quarantine.csv）",
}


def _channels_context(figures: DailyFigures) -> dict[str, Any]:
    """The section 发现渠道: counts per channel and lead source, and how many grids did not
    send their monthly report (listed in the section 考核评估), no household named."""
    sources = figures.lead_sources
    source_rows = _records(sources) if sources is not None else []
    channels = [
        {
            **row,
            "sources": [source for source in source_rows if source["channel"] == row["channel"]],
        }
        for row in _records(figures.channels)
    ]
    missing = figures.grids_not_reported
    return {
        "channels": channels,
        "channel_notes": CHANNEL_NOTES,
        "lead_counts": LEAD_COUNTS,
        "lead_sources": None if sources is None else source_rows,
        "lead_totals": None
        if sources is None
        else {column: int(sources[column].sum()) for column in ("leads", *LEAD_COUNTS)},
        "grid_reports_loaded": figures.grid_reports_loaded,
        "grids_missing": int(missing["grid_id"].nunique()) if "grid_id" in missing else 0,
        "grid_months_missing": len(missing),
    }


def report_html(figures: DailyFigures) -> str:
    drawn = charts.chart_svgs(figures)
    return TEMPLATES.get_template("report.html.j2").render(
        day=figures.business_date.isoformat(),
        h=figures.headline,
        critical=figures.critical,
        # The critical ones are in the banner already.
        warnings=[warning for warning in figures.warnings if warning not in figures.critical],
        charts={name: drawn[name] for name in charts.DISTRIBUTION},
        precision_chart=drawn["precision"],
        **_assessment_context(figures),
        **_channels_context(figures),
        verification=figures.verification.to_dict("records"),
        townships=figures.by_township.to_dict("records"),
        regional=figures.regional.to_dict("records"),
        feeds=_records(figures.feed_health),
        status_labels=DELIVERY_LABELS,
    )


# Columns of a text page's line, a Chinese character taking two: what the A4 sheet holds at
# the page's font size inside its margins.
PAGE_COLUMNS = 160


def _wrap_display(line: str, columns: int = PAGE_COLUMNS) -> list[str]:
    """``line`` cut into parts of at most ``columns`` display columns."""
    parts, current, width = [], "", 0
    for character in line:
        wide = 1 if character.isascii() else 2
        if width + wide > columns:
            parts.append(current)
            current, width = "", 0
        current += character
        width += wide
    return [*parts, current]


def _text_page(
    pdf: PdfPages, title: str, lines: list[str], *, by_display_width: bool = False
) -> None:
    figure = plt.figure(figsize=A4_LANDSCAPE)
    figure.text(0.05, 0.94, title, fontsize=16, weight="bold")
    wrapped = [
        part
        for line in lines
        for part in (_wrap_display(line) if by_display_width else textwrap.wrap(line, 95) or [""])
    ]
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


def _figure(value: Any) -> str:
    return "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _assessment_lines(figures: DailyFigures) -> list[str]:
    """The PDF's page of the running assessment, the overdue cases and the rule flags."""
    period = figures.assessment_period
    lines = [
        f"考核评估：核实期限或帮扶期限在{period.label() if period else ''}的预警和帮扶台账",
        "",
    ]
    for row in _records(figures.assessment):
        name = (
            "全区" if row["level"] == "district" else row["township_name"] or row["township_code"]
        )
        lines.append(
            f"{name}：应核实预警{row['alerts_due']}，按期核实{row['alerts_verified_on_time']}，"
            f"逾期核实{row['alerts_verified_late']}，逾期未核实{row['alerts_overdue']}，"
            f"核实用时中位数{_figure(row['median_working_days_to_verify'])}个工作日；"
            f"应落实帮扶台账{row['cases_due']}，期限内落实{row['cases_in_place_on_time']}，"
            f"逾期落实{row['cases_in_place_late']}，逾期未落实{row['cases_overdue']}"
        )
    counts = "，".join(f"{status.label}{figures.cases.get(status, 0)}" for status in CaseStatus)
    lines += ["", f"帮扶台账：{counts}", "逾期未落实的帮扶台账（请乡镇网格长督办）："]
    lines += [
        f"{row['township_name'] or row['township_code']} {row['village_name'] or row['village_code']}："
        f"{row['overdue_cases']}户，最长逾期{row['most_days_overdue']}天"
        for row in _records(figures.overdue_cases)
    ] or ["无"]
    lines += ["", "未按期报送网格员月报的组级网格（请村级网格长督促）："]
    lines += [
        f"{row['township_name'] or row['township_code']} {row['village_name'] or row['village_code']}："
        f"{row['grid_name'] or row['grid_id']}（{row['report_month']}月报，应于{row['due_date']}前报送）"
        for row in _records(figures.grids_not_reported)
    ] or ["无"]
    lines += ["", "规则精度：", *(figures.precision_flags or ["无需复核的规则"])]
    return lines


def _channel_lines(figures: DailyFigures) -> list[str]:
    """The PDF's page 发现渠道: the lines of the HTML's section."""
    context = _channels_context(figures)
    lines = []
    for row in context["channels"]:
        line = f"{row['channel']}：今日发现预警{row['raised']}，在办预警{row['open']}"
        if row["leads_matched"] is not None:
            line += f"，今日匹配线索{row['leads_matched']}"
        by_source = "，".join(
            f"{source['source']} {source['matched']}" for source in row["sources"]
        )
        lines.append(f"{line}（其中{by_source}）" if by_source else line)
    lines += ["", "今日线索："]
    totals = context["lead_totals"]
    if totals is None:
        lines.append("本数仓尚未进行过线索匹配，无线索数据")
    else:
        for source in [*context["lead_sources"], {"source": "合计", **totals}]:
            counts = "，".join(f"{label}{source[key]}" for key, label in LEAD_COUNTS.items())
            lines.append(f"{source['source']}：{source['leads']}条；{counts}")
        lines.append(
            "未匹配和多个候选的线索见 leads_unmatched.csv，请人工核查；被隔离的（如乡镇名称不存在）见 quarantine.csv"
        )
    lines.append("")
    if context["grid_reports_loaded"]:
        period = figures.assessment_period
        lines.append(
            f"基层干部排查：考核期{period.label() if period else ''}内未按期报送网格员月报的组级网格"
            f"{context['grids_missing']}个（{context['grid_months_missing']}个网格月），"
            "名单见“考核评估与帮扶台账”页"
        )
    else:
        lines.append("基层干部排查：网格员月报尚未交付，无法统计未按期报送的网格")
    return [*lines, "", *CHANNEL_NOTES]


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
        _text_page(
            pdf,
            f"发现渠道（{figures.business_date}）",
            _channel_lines(figures),
            by_display_width=True,
        )
        _text_page(
            pdf,
            f"考核评估与帮扶台账（{figures.business_date}）",
            _assessment_lines(figures),
            by_display_width=True,
        )
        sheet = _chart_sheet(figures, ("precision",))
        pdf.savefig(sheet)
        plt.close(sheet)
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
