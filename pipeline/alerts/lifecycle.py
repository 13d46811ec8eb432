"""The alert lifecycle: one open alert per household and category, graded, dated, evented.

For a business date D: today's signals are graded (near the line, then compound
risk), merged into the open alerts (new evidence updates an alert and may raise
its grade; it never falls while open), overdue alerts are escalated, and every
change is kept as an event. The state after each date is kept too, so a rerun of
D first rewinds to the state before D and then reproduces the same alerts and
events.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.calendar import WorkingCalendar
from pipeline.alerts.rules import Rules
from pipeline.dispatch.township_workbook import DETAIL_SHEET, VERIFICATION_RESULTS
from pipeline.feedback.returns import (
    NO_TOWNSHIP_CODE,
    ReturnedRow,
    ReturnedWorkbook,
    verification_date,
)
from pipeline.safe_text import REASON_EVIDENCE_MAX_CHARS, clip_text
from pipeline.vocabulary import OPEN_STATUSES, Grade, ReturnStatus

log = logging.getLogger(__name__)

EVIDENCE_WITHDRAWN = "证据撤回"


def rank(grade: str) -> int:
    return Grade(grade).severity


def raised_grade(grade: str) -> str:
    return Grade(grade).raised().value


def _column(label: str, *, text: bool = False) -> dict[str, Any]:
    """A column of the alert: its Chinese label (the review table's comment) and whether
    it holds free text (a TEXT column where the database tells the two apart)."""
    return {"label": label, "text": text}


@dataclass
class Alert:
    """One alert as ``alerts.alerts`` stores it (sql/alerts/schema.sql declares the table,
    and a test keeps the two the same); ``alerts.snapshots`` and the review table
    ``fpwarn_alerts`` are derived from them. The first field is the key."""

    alert_id: str = field(metadata=_column("预警编号"))
    household_id: str = field(metadata=_column("户编号"))
    category: str = field(metadata=_column("预警类别"))
    grade: str = field(metadata=_column("预警等级：red/orange/yellow"))
    status: str = field(metadata=_column("状态：new/open/escalated/closed"))
    first_raised: date = field(metadata=_column("首次预警日期"))
    last_updated: date = field(metadata=_column("最近更新日期"))
    verify_by: date = field(metadata=_column("核实期限"))
    evidence_date: date | None = field(metadata=_column("证据日期"))
    reasons: str = field(metadata=_column("预警原因", text=True))
    township_code: str | None = field(metadata=_column("乡镇代码"))
    village_code: str | None = field(metadata=_column("村代码"))
    grid_id: str | None = field(metadata=_column("网格编号"))
    closed_date: date | None = field(default=None, metadata=_column("关闭日期"))
    close_cause: str | None = field(default=None, metadata=_column("关闭原因", text=True))
    close_result: str | None = field(default=None, metadata=_column("核实结果", text=True))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass
class AlertReport:
    verified: int = 0
    raised: int = 0
    updated: int = 0
    regraded: int = 0
    escalated: int = 0
    withdrawn: int = 0
    suppressed: int = 0
    warnings: list[str] = field(default_factory=list)
    # Returned rows and files that changed nothing: township_code, file, row, alert_id,
    # reason, and the rows the line stands for (0 for a whole file, n for filler rows).
    feedback_rejected: list[dict[str, Any]] = field(default_factory=list)
    feedback_files: dict[str, str] = field(
        default_factory=dict
    )  # file -> applied | unchanged | rejected
    # The assistance ledger's figures of the day (pipeline/assistance: cases opened,
    # measures recorded, ledger rows applied and rejected ...).
    assistance: dict[str, int] = field(default_factory=dict)


@dataclass
class _Run:
    """One date's changes: the alerts by id and the events in the order they happened."""

    business_date: date
    rules: Rules
    alerts: dict[str, Alert]
    events: list[dict[str, Any]] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    report: AlertReport = field(default_factory=AlertReport)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def event(self, alert: Alert, kind: str, cause: str) -> None:
        sequence = self.sequences.get(alert.alert_id, 0)
        self.sequences[alert.alert_id] = sequence + 1
        self.events.append(
            {
                "alert_id": alert.alert_id,
                "event_date": self.business_date,
                "sequence": sequence,
                "event": kind,
                "grade": alert.grade,
                "cause": cause,
            }
        )
        alert.last_updated = self.business_date

    def deadline(self, grade: str) -> date:
        return self.calendar.add_working_days(
            self.business_date, self.rules.verify_within_working_days[grade]
        )

    def regrade(self, alert: Alert, grade: str, cause: str) -> None:
        if rank(grade) <= rank(alert.grade):
            return
        alert.grade = grade
        alert.verify_by = min(alert.verify_by, self.deadline(grade))
        self.report.regraded += 1
        self.event(alert, "regraded", cause)


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    sql.script(connection, "alerts/schema")
    open_alerts_view(connection)


def open_alerts_view(connection: duckdb.DuckDBPyConnection) -> None:
    """``alerts.is_open`` and ``alerts.open_alerts`` over the ``alerts.alerts`` the
    connection sees (its own table, or the partitions' read as one)."""
    sql.script(connection, "alerts/open")


def _rewind(connection: duckdb.DuckDBPyConnection, business_date: date) -> bool:
    """Back to the state before ``business_date`` when it ran before; True when later
    dates had run too (their alerts must then be run again, in order)."""
    ran = connection.execute(
        "select count(*) filter (as_of_date >= $day), count(*) filter (as_of_date > $day) from alerts.runs",
        {"day": business_date},
    ).fetchone()
    if not ran or not ran[0]:
        return False
    connection.execute("delete from alerts.alerts")
    connection.execute(
        "insert into alerts.alerts select * exclude (as_of_date) from alerts.snapshots "
        "where as_of_date = (select max(as_of_date) from alerts.runs where as_of_date < $day)",
        {"day": business_date},
    )
    for table, column in (
        ("events", "event_date"),
        ("snapshots", "as_of_date"),
        ("runs", "as_of_date"),
        ("returns", "applied_date"),
    ):
        connection.execute(
            f"delete from alerts.{table} where {column} >= $day", {"day": business_date}
        )
    return bool(ran[1])


def _load_alerts(connection: duckdb.DuckDBPyConnection) -> dict[str, Alert]:
    frame = connection.execute("select * from alerts.alerts order by alert_id").df()
    alerts: dict[str, Alert] = {}
    for record in frame.to_dict("records"):
        values: dict[str, Any] = {
            str(key): (None if pd.isna(value) else value) for key, value in record.items()
        }
        for name in ("first_raised", "last_updated", "verify_by", "evidence_date", "closed_date"):
            if values[name] is not None:
                values[name] = pd.Timestamp(values[name]).date()
        alerts[values["alert_id"]] = Alert(**values)
    return alerts


def _signals(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    frame = connection.execute(
        "select raised.*, households.township_code, households.village_code, households.grid_id, "
        "households.is_near_line "
        "from signals.raised as raised "
        "inner join signals.int_households as households on raised.household_id = households.household_id "
        "order by raised.household_id, raised.category"
    ).df()
    signals = []
    for record in frame.to_dict("records"):
        record["evidence_date"] = (
            None
            if pd.isna(record["evidence_date"])
            else pd.Timestamp(record["evidence_date"]).date()
        )
        record["is_near_line"] = (
            bool(record["is_near_line"]) if not pd.isna(record["is_near_line"]) else False
        )
        signals.append(record)
    return signals


def _graded(signal: dict[str, Any], rules: Rules) -> tuple[str, str]:
    """Adjustment 1, near the line: some categories go one grade up."""
    grade, reason = signal["base_grade"], signal["reason"]
    if signal["is_near_line"] and rules.categories[signal["category"]].near_line_raises:
        grade = raised_grade(grade)
        reason += f"；家庭人均纯收入低于监测范围的{rules.near_line_factor:g}倍，预警上调一级"
    return grade, reason


def _with_help(reason: str, category: str, rules: Rules) -> str:
    spec = rules.categories[category]
    # The evidence is cut, never the suggested help after it.
    evidence = clip_text(reason, REASON_EVIDENCE_MAX_CHARS)
    return f"【{spec.label}】{evidence}。建议帮扶：{'、'.join(spec.help)}"


def _is_suppressed(closed: Alert | None, grade: str, evidence_date: date | None, run: _Run) -> bool:
    """A verified household and category is not raised again on the same evidence.

    After 不属实 it rests for the configured days unless the grade would be higher or a
    new event arrives (docs/warning-rules.md, "Verification results"). After the other
    results the grid has just seen the household: the same evidence does not raise it
    again either, for the same days.
    """
    if closed is None or closed.close_result is None or closed.closed_date is None:
        return False
    resting = run.business_date - closed.closed_date < timedelta(
        days=run.rules.suppression_after_not_true_days
    )
    higher = rank(grade) > rank(closed.grade)
    new_event = evidence_date is not None and evidence_date > closed.closed_date
    return resting and not higher and not new_event


UNKNOWN_ALERT = "预警编号不存在"
OTHER_TOWNSHIPS_ALERT = "该预警不属于本乡镇"


def _judge_returned_row(
    run: _Run, workbook: ReturnedWorkbook, row: ReturnedRow
) -> tuple[Alert | None, str]:
    """The open alert a returned row closes, or the reason it changes nothing."""
    alert = run.alerts.get(row.alert_id)
    if alert is None:
        return None, UNKNOWN_ALERT
    if alert.township_code != workbook.township_code:
        return None, OTHER_TOWNSHIPS_ALERT
    if row.uncalculated:
        # Saved by a program that did not calculate it: what the cell says is unknown.
        return None, (
            f"{'、'.join(row.uncalculated)}是公式，没有计算结果，"
            "请直接填写或从下拉列表中选择，不要用公式"
        )
    if row.result not in VERIFICATION_RESULTS:
        return None, f"核实结果应从下拉列表中选择（{'、'.join(VERIFICATION_RESULTS)}）"
    if not row.verifier:
        return None, "未填写核实人"
    verified_on = verification_date(row.verified_on)
    if verified_on is None:
        return None, "核实日期不是日期"
    if verified_on > run.business_date:
        return None, "核实日期晚于今天"
    if verified_on < alert.first_raised:
        return None, "核实日期早于预警日期"
    if not alert.is_open:
        return None, f"预警已于{alert.closed_date}关闭（{alert.close_cause}），本行未作改动"
    return alert, ""


def _reject(
    run: _Run,
    workbook: ReturnedWorkbook,
    reason: str,
    *,
    row: int | None = None,
    alert_id: str | None = None,
    rows: int = 1,
) -> None:
    """One line of feedback_rejections.csv; ``rows``: the returned rows it stands for
    (none for a file not applied at all, many for a summary of filler rows)."""
    run.report.feedback_rejected.append(
        {
            "township_code": workbook.township_code,
            "file": workbook.file,
            # A line for a whole file names no sheet.
            "sheet": DETAIL_SHEET if rows else None,
            "row": row,
            "alert_id": alert_id,
            "case_id": None,
            "reason": reason,
            "rows": rows,
        }
    )


def _reject_rows_without_alert(run: _Run, workbook: ReturnedWorkbook) -> int:
    """Rows that name no alert, in one line: a million filler rows are one line, not a
    million (rows that name an alert keep a line each)."""
    skipped = workbook.without_alert
    if skipped is None:
        return 0
    if skipped.count == 1:
        _reject(run, workbook, f"第 {skipped.first} 行：未填写预警编号，已忽略", row=skipped.first)
    else:
        _reject(
            run,
            workbook,
            f"第 {skipped.first}–{skipped.last} 行：未填写预警编号的行 {skipped.count:,} 行，已忽略",
            rows=skipped.count,
        )
    return skipped.count


def _apply_feedback(
    run: _Run, returns: list[ReturnedWorkbook], applied: set[str]
) -> list[dict[str, Any]]:
    """Close the alerts the grid verified; every other returned row changes nothing, and
    every file that cannot be applied is rejected with its reason."""
    ledger = []
    for workbook in returns:
        if workbook.sha256 in applied:
            run.report.feedback_files[workbook.file] = ReturnStatus.UNCHANGED
            continue
        problem = workbook.problem or (NO_TOWNSHIP_CODE if workbook.township_code is None else None)
        if problem:
            # Not recorded as applied: listed again on every run while it lies in the folder.
            run.report.feedback_files[workbook.file] = ReturnStatus.REJECTED
            _reject(run, workbook, problem, rows=0)
            continue
        applied.add(workbook.sha256)  # two copies of one workbook in the folder: applied once
        closed = rejected = 0
        for row in workbook.rows:
            alert, reason = _judge_returned_row(run, workbook, row)
            if alert is None:
                _reject(run, workbook, reason, row=row.row, alert_id=row.alert_id)
                rejected += 1
                continue
            verified_on = verification_date(row.verified_on)
            alert.status, alert.closed_date, alert.close_result = (
                "closed",
                verified_on,
                row.result,
            )
            alert.close_cause = f"核实：{row.result}"
            note = f"；备注：{row.note}" if row.note else ""
            run.report.verified += 1
            closed += 1
            run.event(
                alert,
                "closed",
                f"核实结果：{row.result}；核实人：{row.verifier}；核实日期：{verified_on}{note}",
            )
        rejected += _reject_rows_without_alert(run, workbook)
        run.report.feedback_files[workbook.file] = ReturnStatus.APPLIED
        ledger.append(
            {
                "sha256": workbook.sha256,
                "file": workbook.file,
                "township_code": workbook.township_code,
                "applied_date": run.business_date,
                "rows_applied": closed,
                "rows_rejected": rejected,
            }
        )
    return ledger


def _merge(run: _Run, signals: list[dict[str, Any]]) -> set[tuple[str, str]]:
    open_by_key = {
        (alert.household_id, alert.category): alert
        for alert in run.alerts.values()
        if alert.is_open
    }
    closed_by_key: dict[tuple[str, str], Alert] = {}
    for alert in sorted(
        run.alerts.values(), key=lambda item: (item.closed_date or date.min, item.alert_id)
    ):
        if not alert.is_open:
            closed_by_key[(alert.household_id, alert.category)] = alert
    seen = set()
    for signal in signals:
        key = (signal["household_id"], signal["category"])
        seen.add(key)
        grade, reason = _graded(signal, run.rules)
        reason = _with_help(reason, signal["category"], run.rules)
        routing = {name: signal[name] for name in ("township_code", "village_code", "grid_id")}
        if run.rules.categories[signal["category"]].route_to == "village":
            # What the group grid worker reported goes to the village head (村级网格长).
            routing["grid_id"] = signal["village_code"]
        existing = open_by_key.get(key)
        if existing is not None:
            # The reason is refreshed every day (durations, sums); newer evidence is an event.
            newer = signal["evidence_date"] is not None and (
                existing.evidence_date is None or signal["evidence_date"] > existing.evidence_date
            )
            existing.reasons = reason
            if newer:
                existing.evidence_date = signal["evidence_date"]
                run.report.updated += 1
                run.event(existing, "updated", f"新证据（{signal['evidence_date'].isoformat()}）")
            run.regrade(existing, grade, "新证据显示风险加重")
            for name, value in routing.items():
                setattr(existing, name, value)
            continue
        if _is_suppressed(closed_by_key.get(key), grade, signal["evidence_date"], run):
            run.report.suppressed += 1
            continue
        raised = Alert(
            alert_id=f"{signal['household_id']}-{signal['category']}-{run.business_date:%Y%m%d}",
            household_id=signal["household_id"],
            category=signal["category"],
            grade=grade,
            status="new",
            first_raised=run.business_date,
            last_updated=run.business_date,
            verify_by=run.deadline(grade),
            evidence_date=signal["evidence_date"],
            reasons=reason,
            **routing,
        )
        run.alerts[raised.alert_id] = raised
        run.report.raised += 1
        run.event(raised, "raised", "部门数据筛查预警")
    return seen


def _redelivered_feeds(connection: duckdb.DuckDBPyConnection, business_date: date) -> set[str]:
    """Feeds of which the runs of ``business_date`` loaded a corrected re-delivery."""
    rows = connection.execute(
        "select distinct feed from meta.redeliveries where loaded_for_date = $day",
        {"day": business_date},
    ).fetchall()
    return {str(row[0]) for row in rows}


def _withdraw(run: _Run, seen: set[tuple[str, str]], redelivered_feeds: set[str]) -> None:
    """A corrected re-delivery that removed every piece of evidence retracts the lead."""
    for alert in sorted(run.alerts.values(), key=lambda item: item.alert_id):
        if not alert.is_open or (alert.household_id, alert.category) in seen:
            continue
        if redelivered_feeds.intersection(run.rules.categories[alert.category].feeds):
            alert.status, alert.closed_date, alert.close_cause = (
                "closed",
                run.business_date,
                EVIDENCE_WITHDRAWN,
            )
            run.report.withdrawn += 1
            run.event(alert, "closed", EVIDENCE_WITHDRAWN)


def _compound(run: _Run) -> None:
    """Adjustment 2: a household with open alerts in two or more categories: each at least orange."""
    by_household: dict[str, list[Alert]] = {}
    for alert in run.alerts.values():
        if alert.is_open:
            by_household.setdefault(alert.household_id, []).append(alert)
    for household_alerts in by_household.values():
        if len(household_alerts) < 2:
            continue
        labels = "、".join(
            sorted(run.rules.categories[alert.category].label for alert in household_alerts)
        )
        for alert in sorted(household_alerts, key=lambda item: item.alert_id):
            run.regrade(
                alert, "orange", f"复合风险：同一户同时有{len(household_alerts)}类预警（{labels}）"
            )


def _escalate(run: _Run) -> None:
    for alert in sorted(run.alerts.values(), key=lambda item: item.alert_id):
        if not alert.is_open:
            continue
        if alert.first_raised == run.business_date:
            alert.status = "new"
        elif run.business_date > alert.verify_by:
            if alert.status != "escalated":
                alert.status = "escalated"
                run.report.escalated += 1
                run.event(
                    alert,
                    "escalated",
                    f"核实期限{alert.verify_by.isoformat()}已过，转乡镇网格长督办",
                )
        else:
            alert.status = "open"


def _store(connection: duckdb.DuckDBPyConnection, run: _Run) -> None:
    columns = list(Alert.__dataclass_fields__)
    frame = pd.DataFrame([asdict(alert) for alert in run.alerts.values()], columns=columns)
    connection.execute("delete from alerts.alerts")
    if not frame.empty:
        connection.register("alerts_after_run", frame)
        connection.execute("insert into alerts.alerts by name select * from alerts_after_run")
        connection.execute(
            "insert into alerts.snapshots by name select $day::date as as_of_date, * from alerts_after_run",
            {"day": run.business_date},
        )
        connection.unregister("alerts_after_run")
    connection.execute("insert into alerts.runs values ($day)", {"day": run.business_date})
    if run.events:
        events = pd.DataFrame(run.events)
        connection.register("events_of_run", events)
        connection.execute("insert into alerts.events by name select * from events_of_run")
        connection.unregister("events_of_run")


def update_alerts(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    returns: list[ReturnedWorkbook] | None = None,
) -> AlertReport:
    """Merge ``signals.raised`` into the alerts for ``business_date`` (inside the caller's transaction)."""
    ensure_schema(connection)
    later_dates_rewound = _rewind(connection, business_date)
    run = _Run(business_date, rules, _load_alerts(connection), calendar=rules.working_calendar())
    if later_dates_rewound:
        run.report.warnings.append(
            f"{business_date.isoformat()}或之后的日期曾经运行过：预警记录已回退到该日之前重新生成，之后的日期需要按顺序重跑"
        )
    seen = _merge(run, _signals(connection))
    # After today's raising: a workbook may verify an alert raised this very day.
    applied = {row[0] for row in connection.execute("select sha256 from alerts.returns").fetchall()}
    ledger = _apply_feedback(run, returns or [], applied)
    if ledger:
        connection.register("returns_applied", pd.DataFrame(ledger))
        connection.execute("insert into alerts.returns by name select * from returns_applied")
        connection.unregister("returns_applied")
    _withdraw(run, seen, _redelivered_feeds(connection, business_date))
    _compound(run)
    _escalate(run)
    _store(connection, run)
    run.report.warnings.extend(run.calendar.fallback_warnings())
    log.info(
        "alerts for %s: verified %d, raised %d, updated %d, regraded %d, escalated %d, withdrawn %d, suppressed %d",
        business_date,
        run.report.verified,
        run.report.raised,
        run.report.updated,
        run.report.regraded,
        run.report.escalated,
        run.report.withdrawn,
        run.report.suppressed,
    )
    return run.report


def open_alerts(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The alerts open after the latest run, as ``alerts.csv`` shows them."""
    ensure_schema(connection)
    return sql.query(connection, "alerts/open_alerts")
