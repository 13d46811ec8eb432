"""What the assistance cases give the bureau and the townships: ``assistance.csv``, the
rows of the township workbook's 帮扶台账 sheet, and the manifest's figures.

Read from ``assistance.*`` as the connection sees it: the district warehouse, a
partition's file, or the partitions read as one (docs/outputs.md, "assistance.csv").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.lifecycle import AlertReport
from pipeline.alerts.rules import Rules
from pipeline.vocabulary import CaseStatus

ASSISTANCE_CSV = "assistance.csv"
COLUMNS = [
    "case_id",
    "household_id",
    "township_code",
    "village_code",
    "categories",
    "confirmed_date",
    "due_by",
    "status",
    "contact_named",
    "measures",
    "in_place_date",
    "closed_date",
    "days_overdue",
]


def has_cases(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection sees the cases (a warehouse whose alerts were raised before
    the ledger existed does not)."""
    found = connection.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'assistance' and table_name in ('cases', 'measures')"
    ).fetchone()
    return bool(found and found[0] == 2)


def category_labels(rules: Rules, codes: str) -> str:
    """The labels of a case's categories (codes joined by ","), joined by 、."""
    return "、".join(
        rules.categories[code].label if code in rules.categories else code
        for code in codes.split(",")
        if code
    )


def listed_cases(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> pd.DataFrame:
    """assistance.csv: every case open after the run and every case closed in the last
    ``assistance.listed_after_closing_days`` days."""
    if not has_cases(connection):
        return pd.DataFrame(columns=COLUMNS)
    values, _ = rules.parameters(business_date)
    frame = sql.query(connection, "assistance/listed_cases", values)
    frame["categories"] = [category_labels(rules, codes) for codes in frame["categories"]]
    frame["contact_named"] = ["是" if named else "否" for named in frame["has_contact"]]
    for name in ("confirmed_date", "due_by", "in_place_date", "closed_date"):
        frame[name] = pd.to_datetime(frame[name]).dt.date
    frame["days_overdue"] = frame["days_overdue"].astype("int64")
    return frame[COLUMNS]


def township_cases(
    connection: duckdb.DuckDBPyConnection, business_date: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cases not closed, with their households, and their measures: the 帮扶台账 sheets
    and the overdue cases of the township workbooks."""
    if not has_cases(connection):
        return pd.DataFrame(columns=["township_code"]), pd.DataFrame(columns=["case_id"])
    cases = sql.query(connection, "dispatch/township_cases", {"business_date": business_date})
    measures = sql.query(connection, "dispatch/township_case_measures")
    for frame, names in (
        (cases, ("confirmed_date", "due_by")),
        (measures, ("put_in_place_date",)),
    ):
        for name in names:
            frame[name] = pd.to_datetime(frame[name]).dt.date
    return cases, measures


def assistance_figures(listed: Path, report: AlertReport) -> dict[str, Any]:
    """The manifest's ``assistance``: the cases after the run (counted from assistance.csv)
    and what the day did (the lifecycle's figures)."""
    status = pd.read_csv(listed, encoding="utf-8-sig", dtype=str)["status"]
    figures: dict[str, Any] = {
        "open": int((status != CaseStatus.CLOSED).sum()),
        **{
            state.value: int((status == state).sum())
            for state in (CaseStatus.AWAITING, CaseStatus.IN_PLACE, CaseStatus.OVERDUE)
        },
        "closed_recently": int((status == CaseStatus.CLOSED).sum()),
    }
    day = report.assistance
    for name in (
        "opened",
        "joined",
        "closed",
        "measures_recorded",
        "contacts_changed",
        "ledger_rows_applied",
        "ledger_rows_rejected",
    ):
        figures[name] = int(day.get(name, 0))
    return figures
