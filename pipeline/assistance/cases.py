"""The assistance cases (帮扶台账): from a confirmed risk to help in place.

For a business date D, after the alert lifecycle has applied the day's returned
workbooks (docs/assistance.md, "The assistance ledger"):

1. each alert the grid confirmed at risk that day (属实-已纳入监测, 属实-已落实帮扶) opens
   its household's case, due ``assistance.due_months`` calendar months after the
   verification date, or joins the household's open case;
2. the ledger rows of the workbooks applied that day name contacts and record measures
   (``ledger.py``);
3. a case whose household the registry in force marks 已消除, having shown it at risk
   since the case opened, closes, unless the household has no labourer;
4. a case with a contact and a measure is in place; one still awaiting after its due
   date is overdue.

Every change is an event (``assistance.events``); the cases after each date are kept
(``assistance.snapshots``), so a rerun of D first rewinds to the state before D and then
reproduces the same cases, measures, contacts and events, as the alerts do. It runs in
the transaction of the day's alerts (``pipeline/alerts/raising.py``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.lifecycle import AlertReport
from pipeline.alerts.rules import Rules
from pipeline.assistance.ledger import apply_ledger
from pipeline.assistance.model import (
    CONFIRMED_RESULTS,
    Case,
    CaseRun,
    Measure,
    add_months,
)
from pipeline.feedback.returns import ReturnedWorkbook
from pipeline.vocabulary import CaseStatus

log = logging.getLogger(__name__)

ELIMINATED = "农户信息风险状态为已消除"


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    sql.script(connection, "assistance/schema")


def _rewind(connection: duckdb.DuckDBPyConnection, business_date: date) -> None:
    """Back to the cases before ``business_date`` when it (or a later date) ran before."""
    ran = connection.execute(
        "select count(*) from assistance.runs where as_of_date >= $day", {"day": business_date}
    ).fetchone()
    if not ran or not ran[0]:
        return
    connection.execute("delete from assistance.cases")
    connection.execute(
        "insert into assistance.cases select * exclude (as_of_date) from assistance.snapshots "
        "where as_of_date = (select max(as_of_date) from assistance.runs where as_of_date < $day)",
        {"day": business_date},
    )
    for table, column in (
        ("events", "event_date"),
        ("snapshots", "as_of_date"),
        ("runs", "as_of_date"),
        ("measures", "recorded_date"),
        ("contacts", "recorded_date"),
    ):
        connection.execute(
            f"delete from assistance.{table} where {column} >= $day", {"day": business_date}
        )


def _records(connection: duckdb.DuckDBPyConnection, statement: str) -> list[dict[str, Any]]:
    result = connection.execute(statement)
    names = [column[0] for column in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _load(connection: duckdb.DuckDBPyConnection, run: CaseRun) -> None:
    for record in _records(
        connection, "select * from assistance.measures order by case_id, sequence"
    ):
        run.measures.setdefault(record["case_id"], []).append(Measure(**record))
    for case_id, first in connection.execute(
        "select case_id, min(from_date) from assistance.contacts group by case_id"
    ).fetchall():
        run.first_contact[case_id] = first


def _case_id(run: CaseRun, household_id: str, confirmed: date) -> str:
    """``C<household_id>-<YYYYMMDD confirmed>``: stable, and another case of the household
    confirmed on the same date (after the first closed) gets ``-2``, ``-3`` …"""
    base = f"C{household_id}-{confirmed:%Y%m%d}"
    case_id, number = base, 1
    while case_id in run.cases:
        number += 1
        case_id = f"{base}-{number}"
    return case_id


def _label(run: CaseRun, category: str) -> str:
    spec = run.rules.categories.get(category)
    return spec.label if spec is not None else category


def _open_or_join(run: CaseRun, confirmations: list[dict[str, Any]]) -> None:
    """A case per household confirmed at risk; a later confirmation joins the open case."""
    for confirmed in confirmations:
        household = confirmed["household_id"]
        day: date = confirmed["confirmed_date"]
        what = (
            f"预警{confirmed['alert_id']}（{_label(run, confirmed['category'])}）"
            f"核实结果：{confirmed['close_result']}，核实日期{day.isoformat()}"
        )
        case = run.open_cases.get(household)
        if case is None:
            case = Case(
                case_id=_case_id(run, household, day),
                household_id=household,
                township_code=confirmed["township_code"],
                village_code=confirmed["village_code"],
                categories=confirmed["category"],
                confirmed_date=day,
                due_by=add_months(day, run.rules.assistance.due_months),
                status=CaseStatus.AWAITING.value,
            )
            run.cases[case.case_id] = case
            run.open_cases[household] = case
            run.count("opened")
            run.event(case, "opened", f"{what}；办结期限{case.due_by.isoformat()}")
            continue
        if confirmed["category"] not in case.category_codes:
            case.categories = ",".join([*case.category_codes, confirmed["category"]])
        run.count("joined")
        run.event(case, "joined", f"同户{what}，并入本台账")


def _registry(connection: duckdb.DuckDBPyConnection, run: CaseRun, values: dict[str, Any]) -> None:
    """Close the cases whose household the registry marks 已消除 (after it showed the
    household at risk since the case opened), never one without a labourer."""
    rows = sql.execute(
        connection,
        "assistance/registry_risk",
        {**values, "household_ids": sorted(run.open_cases)},
    ).fetchall()
    for household_id, is_eliminated, has_labourer in rows:
        case = run.open_cases[household_id]
        if not is_eliminated:
            case.has_registry_at_risk = True
            continue
        if not case.has_registry_at_risk or not has_labourer:
            continue  # the registry lags behind the verification, or no labourer: kept open
        case.status, case.closed_date, case.close_cause = (
            CaseStatus.CLOSED.value,
            run.business_date,
            ELIMINATED,
        )
        del run.open_cases[household_id]
        run.count("closed")
        run.event(case, "closed", f"{ELIMINATED}，帮扶台账销号")


def _statuses(run: CaseRun) -> None:
    for case in sorted(run.open_cases.values(), key=lambda item: item.case_id):
        measures = run.measures.get(case.case_id, [])
        if case.contact and measures:
            if case.status != CaseStatus.IN_PLACE:
                earliest = min(measure.put_in_place_date for measure in measures)
                case.in_place_date = max(earliest, run.first_contact.get(case.case_id, earliest))
                case.status = CaseStatus.IN_PLACE.value
                late = (
                    f"，晚于办结期限{case.due_by.isoformat()}"
                    if case.in_place_date > case.due_by
                    else ""
                )
                run.event(
                    case,
                    "in_place",
                    f"帮扶联系人和帮扶措施已落实（{case.in_place_date.isoformat()}）{late}",
                )
        elif run.business_date > case.due_by:
            if case.status != CaseStatus.OVERDUE:
                case.status = CaseStatus.OVERDUE.value
                run.event(
                    case,
                    "overdue",
                    f"办结期限{case.due_by.isoformat()}已过，帮扶联系人或帮扶措施尚未落实，"
                    "转乡镇网格长督办",
                )
        else:
            case.status = CaseStatus.AWAITING.value


def _insert(
    connection: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, select: str = "*"
) -> None:
    """``frame``'s rows into ``assistance.<table>`` by column name (names from the code)."""
    if frame.empty:
        return
    connection.register("assistance_rows", frame)
    try:
        connection.execute(
            f"insert into assistance.{table} by name select {select} from assistance_rows"
        )
    finally:
        connection.unregister("assistance_rows")


def _store(connection: duckdb.DuckDBPyConnection, run: CaseRun) -> None:
    columns = [column.name for column in fields(Case)]
    cases = pd.DataFrame(
        [asdict(case) for case in sorted(run.cases.values(), key=lambda item: item.case_id)],
        columns=columns,
    )
    connection.execute("delete from assistance.cases")
    _insert(connection, "cases", cases)
    connection.execute(
        "insert into assistance.snapshots by name "
        "select $day::date as as_of_date, * from assistance.cases",
        {"day": run.business_date},
    )
    connection.execute("insert into assistance.runs values ($day)", {"day": run.business_date})
    measure_columns = [column.name for column in fields(Measure)]
    _insert(
        connection,
        "measures",
        pd.DataFrame([asdict(measure) for measure in run.new_measures], columns=measure_columns),
    )
    _insert(connection, "contacts", pd.DataFrame(run.new_contacts))
    _insert(connection, "events", pd.DataFrame(run.events))


def update_cases(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    returns: list[ReturnedWorkbook],
    report: AlertReport,
) -> None:
    """The cases for ``business_date``, inside the caller's transaction, after the alert
    lifecycle: its report says which returned workbooks were applied in this run, and
    gets the ledger's rejected rows (feedback_rejections.csv) and the day's figures."""
    ensure_schema(connection)
    _rewind(connection, business_date)
    cases = [Case(**record) for record in _records(connection, "select * from assistance.cases")]
    run = CaseRun(business_date, rules, report, {case.case_id: case for case in cases})
    _load(connection, run)
    values, _ = rules.parameters(business_date)
    confirmations = sql.execute(
        connection,
        "assistance/confirmed",
        {**values, "confirmed_results": list(CONFIRMED_RESULTS)},
    )
    names = [column[0] for column in confirmations.description or []]
    _open_or_join(run, [dict(zip(names, row, strict=True)) for row in confirmations.fetchall()])
    apply_ledger(run, returns)
    # Each file's lines together, its verification rows first (a stable sort by name).
    report.feedback_rejected.sort(key=lambda line: line["file"])
    _registry(connection, run, values)
    _statuses(run)
    _store(connection, run)
    report.assistance = dict(run.figures)
    log.info(
        "assistance cases for %s: %s",
        business_date,
        ", ".join(f"{name} {count}" for name, count in run.figures.items()),
    )
