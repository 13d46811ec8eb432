"""Every figure the daily report shows, read from the warehouse after the day's run.

The headline and per-category figures are counted from the same rows as ``alerts.csv``
(the open alerts), so the report and the CSV cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.lifecycle import open_alerts
from pipeline.alerts.rules import Rules
from pipeline.assessment import (
    Period,
    assessment,
    flag_lines,
    precision_by_category,
    precision_by_township,
    running_period,
)
from pipeline.assessment.figures import (
    DISTRICT,
    TOWNSHIP,
    cases_by_status,
    grid_months_not_reported,
    overdue_cases,
)
from pipeline.regional.warnings import regional_warnings
from pipeline.vocabulary import GRADES

TREND_DAYS = 30


@dataclass
class DailyFigures:
    business_date: date
    headline: dict[str, int]
    by_township: pd.DataFrame  # township_code, township_name, red, orange, yellow, total
    by_category: pd.DataFrame  # category, label, red, orange, yellow, total
    trend: pd.DataFrame  # as_of_date, open_alerts, new_alerts, escalated_alerts
    verification: pd.DataFrame  # township_code, township_name, awaiting, overdue, ...
    regional: pd.DataFrame
    feed_health: pd.DataFrame
    warnings: list[str]
    # What makes the day's alerts incomplete (no household registry in force, no inbox):
    # shown as a banner above everything else.
    critical: list[str] = field(default_factory=list)
    # 考核评估 over the running days (docs/assistance.md, "Assessment"): a row per township
    # and the district's (pipeline.assessment.COLUMNS), and the period it covers.
    assessment: pd.DataFrame = field(default_factory=pd.DataFrame)
    assessment_period: Period | None = None
    # The assistance cases by status, and the villages with overdue ones (counts only).
    cases: dict[str, int] = field(default_factory=dict)
    overdue_cases: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The group grids without their monthly report (网格员月报) by its deadline in the
    # running period, per township and village (grid names only, no household).
    grids_not_reported: pd.DataFrame = field(default_factory=pd.DataFrame)
    # What verification teaches (docs/assistance.md, "Rule precision"): per category, and
    # the lines of the categories flagged as rules to recalibrate.
    precision: pd.DataFrame = field(default_factory=pd.DataFrame)
    precision_flags: list[str] = field(default_factory=list)
    precision_window_days: int = 0
    precision_floor: float = 0.0


def _sql(connection: duckdb.DuckDBPyConnection, name: str, values: dict[str, Any]) -> pd.DataFrame:
    return sql.query(connection, f"report/{name}", values)


def _by_grade(alerts: pd.DataFrame, key: str) -> pd.DataFrame:
    table = (
        alerts.pivot_table(index=key, columns="grade", values="alert_id", aggfunc="count")
        .reindex(columns=list(GRADES))
        .fillna(0)
        .astype(int)
    )
    table["total"] = table.sum(axis=1)
    return table.reset_index()


def daily_figures(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    feed_health: pd.DataFrame,
    warnings: list[str] | None = None,
    *,
    critical: list[str] | None = None,
) -> DailyFigures:
    values = {"business_date": business_date, "trend_days": TREND_DAYS}
    alerts = open_alerts(connection)
    townships = _sql(connection, "townships", values)
    names = dict(zip(townships["township_code"], townships["township_name"], strict=True))
    headline = {
        "open": len(alerts),
        "new": int((alerts["status"] == "new").sum()),
        "escalated": int((alerts["status"] == "escalated").sum()),
        "households": int(alerts["household_id"].nunique()),
        **{grade: int((alerts["grade"] == grade).sum()) for grade in GRADES},
    }
    by_township = _by_grade(alerts, "township_code")
    by_township = (
        townships[["township_code"]].merge(by_township, on="township_code", how="left").fillna(0)
    )
    by_township[[*GRADES, "total"]] = by_township[[*GRADES, "total"]].astype(int)
    by_township.insert(1, "township_name", by_township["township_code"].map(names))
    by_category = _by_grade(alerts, "category").sort_values("total", ascending=False)
    by_category.insert(
        1, "label", by_category["category"].map(lambda code: rules.categories[code].label)
    )
    verification = _sql(connection, "verification", values)
    verification.insert(1, "township_name", verification["township_code"].map(names))
    regional = regional_warnings(connection, business_date)
    for column in ("first_raised", "last_updated"):
        regional[column] = pd.to_datetime(regional[column]).dt.strftime("%Y-%m-%d")
    period = running_period(rules, business_date)
    running = assessment(connection, rules, period, business_date)
    not_reported = grid_months_not_reported(connection, rules, period, business_date)
    precision = precision_by_category(
        precision_by_township(connection, rules, business_date), rules
    )
    return DailyFigures(
        business_date=business_date,
        headline=headline,
        by_township=by_township,
        by_category=by_category.reset_index(drop=True),
        trend=_sql(connection, "trend", values),
        verification=verification,
        regional=regional,
        feed_health=feed_health,
        warnings=list(warnings or []),
        critical=list(critical or []),
        assessment=running[running["level"].isin([TOWNSHIP, DISTRICT])].reset_index(drop=True),
        assessment_period=period,
        cases=cases_by_status(connection),
        overdue_cases=overdue_cases(connection, business_date),
        grids_not_reported=pd.DataFrame() if not_reported is None else not_reported,
        precision=precision,
        precision_flags=flag_lines(precision, rules),
        precision_window_days=rules.precision.window_days,
        precision_floor=rules.precision.floor,
    )
