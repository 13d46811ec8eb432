"""The day's summary in the terminal, read from the outbox files (so it works while a
scheduler holds the warehouse), and the progress display of a long run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.vocabulary import DELIVERY_LABELS, GRADE_LABELS, GRADES, NOT_READ, CaseStatus

GRADE_STYLES = {"red": "bold red", "orange": "bold dark_orange", "yellow": "bold yellow"}


def _read(outbox: Path, name: str) -> pd.DataFrame:
    path = outbox / name
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str)


def _cases_table(outbox: Path) -> Table | None:
    """The assistance cases of assistance.csv by status; None for an outbox without it."""
    if not (outbox / "assistance.csv").is_file():
        return None
    cases = _read(outbox, "assistance.csv")
    statuses = cases["status"] if "status" in cases else pd.Series(dtype=str)
    table = Table(title="帮扶台账")
    for status in CaseStatus:
        table.add_column(status.label, justify="right")
    table.add_row(
        *(
            f"[bold red]{count}[/]" if status is CaseStatus.OVERDUE and count else str(count)
            for status in CaseStatus
            for count in (int((statuses == status.value).sum()),)
        )
    )
    return table


def latest_assessment(outbox: Path) -> Path | None:
    """The newest monthly assessment table (assessment_<YYYYMM>.csv) in the outboxes of
    this date and the dates before it: the outbox of its table day holds it."""
    folders = (
        [
            folder
            for folder in outbox.parent.iterdir()
            if folder.is_dir() and folder.name <= outbox.name
        ]
        if outbox.parent.is_dir()
        else []
    )
    tables = [path for folder in folders for path in folder.glob("assessment_*.csv")]
    return max(tables, key=lambda path: (path.name, path.parent.name), default=None)


def _assessment_table(outbox: Path) -> Table | None:
    """The latest month's assessment per township and the district (docs/assistance.md,
    "Assessment"); the daily report shows the running days."""
    path = latest_assessment(outbox)
    if path is None:
        return None
    rows = pd.read_csv(path, encoding="utf-8-sig", dtype=str).fillna("")
    rows = rows[rows["level"] != "village"]
    month = path.stem.removeprefix("assessment_")
    table = Table(title=f"考核评估 {month[:4]}年{month[4:]}月（{path.parent.name} 输出）")
    columns = {
        "alerts_due": "应核实",
        "alerts_verified_on_time": "按期",
        "alerts_verified_late": "逾期核实",
        "alerts_overdue": "逾期未核实",
        "median_working_days_to_verify": "用时中位数",
        "cases_due": "应落实台账",
        "cases_in_place_on_time": "期限内",
        "cases_in_place_late": "逾期落实",
        "cases_overdue": "逾期未落实",
    }
    table.add_column("乡镇", no_wrap=True)
    for header in columns.values():
        # Headers fold onto two lines in a narrow terminal rather than losing their end.
        table.add_column(header, justify="right", overflow="fold")
    for row in rows.to_dict("records"):
        name = (
            "全区" if row["level"] == "district" else row["township_name"] or row["township_code"]
        )
        table.add_row(escape(name), *(row[column] or "—" for column in columns))
    return table


def summary_tables(outbox: Path) -> list[Table]:
    """Headline, alerts by township and grade, regional warnings, feeds; the assistance
    cases by status and the latest month's assessment when there are any."""
    manifest = json.loads((outbox / "manifest.json").read_text(encoding="utf-8"))
    alerts = _read(outbox, "alerts.csv")
    day = manifest["business_date"]
    headline = Table(title=f"防止返贫动态监测 {day}", show_header=True)
    for column in (
        "在办预警",
        "今日新增",
        "逾期未核实",
        "涉及农户",
        *(GRADE_LABELS[g] for g in GRADES),
    ):
        headline.add_column(column, justify="right")
    statuses = alerts["status"] if not alerts.empty else pd.Series(dtype=str)
    grades = alerts["grade"] if not alerts.empty else pd.Series(dtype=str)
    headline.add_row(
        str(len(alerts)),
        str(int((statuses == "new").sum())),
        str(int((statuses == "escalated").sum())),
        str(alerts["household_id"].nunique() if not alerts.empty else 0),
        *(f"[{GRADE_STYLES[g]}]{int((grades == g).sum())}[/]" for g in GRADES),
    )
    townships = Table(title="各乡镇在办预警")
    townships.add_column("乡镇")
    for grade in GRADES:
        townships.add_column(GRADE_LABELS[grade], justify="right")
    townships.add_column("逾期", justify="right")
    if not alerts.empty:
        for code, rows in alerts.groupby("township_code", sort=True):
            townships.add_row(
                str(code),
                *(str(int((rows["grade"] == g).sum())) for g in GRADES),
                str(int((rows["status"] == "escalated").sum())),
            )
    regional = _read(outbox, "regional_alerts.csv")
    regions = Table(title="规模性返贫风险预警")
    regions.add_column("状态")
    regions.add_column("说明")
    for row in regional.to_dict("records"):
        regions.add_row(
            {"new": "新增", "open": "持续", "closed": "解除"}[row["status"]], row["reason"]
        )
    feeds = Table(title="部门数据")
    for column in ("数据", "状态", "读取", "隔离"):
        feeds.add_column(column, justify="right" if column in ("读取", "隔离") else "left")
    for info in manifest["feeds"].values():
        style = "red" if info["status"] in NOT_READ else ""
        feeds.add_row(
            info.get("title", ""),
            f"[{style}]{DELIVERY_LABELS.get(info['status'], info['status'])}[/]"
            if style
            else DELIVERY_LABELS.get(info["status"], info["status"]),
            str(info["rows_read"]),
            str(info["rows_quarantined"]),
        )
    extra = [table for table in (_cases_table(outbox), _assessment_table(outbox)) if table]
    return [headline, townships, *extra, regions, feeds]


def print_summary(outbox: Path, console: Console | None = None) -> None:
    console = console or Console()
    manifest = json.loads((outbox / "manifest.json").read_text(encoding="utf-8"))
    for warning in manifest.get("critical_warnings", []):
        # Before the tables: their figures are incomplete without the registry.
        console.print(f"[bold red]严重：{escape(warning)}[/]")
    for table in summary_tables(outbox):
        console.print(table)


@contextmanager
def day_progress(days: int, console: Console | None = None) -> Iterator[Callable[[str, str], None]]:
    """A progress bar over the days of a run; yields ``tell(day, step)``."""
    console = console or Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("开始", total=days)
        current: list[str] = []

        def tell(day: str, step: str) -> None:
            if current and current[-1] != day:
                progress.advance(task)
            if not current or current[-1] != day:
                current.append(day)
            progress.update(task, description=f"{day} {step}")

        yield tell
        progress.update(task, completed=days)
