"""考核评估: how each township and village verified its alerts and put help in place.

For a period (the daily report's running days, or a calendar month for the monthly
table): the alerts due for verification in it, verified on time, late or still overdue,
with the median working days from the first alert to the verification; the assistance
cases due in it, help in place within the deadline, late or still overdue; and the group
grids that did not send their monthly report (网格员月报) by its deadline. One row
per township and per village and the district total (docs/assistance.md, "Assessment").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.calendar import WorkingCalendar
from pipeline.alerts.rules import Rules
from pipeline.vocabulary import CaseStatus

DISTRICT, TOWNSHIP, VILLAGE = "district", "township", "village"
OUTCOMES = ("on_time", "late", "overdue")

# The figures of a row, in the order of the outputs; each with its Chinese header.
FIGURES: dict[str, str] = {
    "alerts_due": "应核实预警",
    "alerts_verified_on_time": "按期核实",
    "alerts_verified_late": "逾期核实",
    "alerts_overdue": "逾期未核实",
    "median_working_days_to_verify": "核实用时中位数（工作日）",
    "cases_due": "应落实帮扶台账",
    "cases_in_place_on_time": "期限内落实",
    "cases_in_place_late": "逾期落实",
    "cases_overdue": "逾期未落实",
    # Group grids without their monthly report (网格员月报) by its deadline; empty while the
    # grid-report feed has never loaded a row, never guessed.
    "grids_not_reported": "未报送月报网格数",
}
AREA: dict[str, str] = {
    "level": "层级",
    "township_code": "乡镇代码",
    "township_name": "乡镇",
    "village_code": "村代码",
    "village_name": "村",
}
COLUMNS = [*AREA, *FIGURES]
LEVEL_LABELS = {DISTRICT: "全区", TOWNSHIP: "乡镇", VILLAGE: "村"}


@dataclass(frozen=True)
class Period:
    """The days whose deadlines are assessed, both included."""

    first: date
    last: date

    def label(self) -> str:
        return f"{self.first.isoformat()}至{self.last.isoformat()}"


def running_period(rules: Rules, business_date: date) -> Period:
    """The daily report's period: the ``assessment.running_days`` days up to the business
    date, the business date included."""
    return Period(business_date - timedelta(days=rules.assessment.running_days - 1), business_date)


def previous_month(business_date: date) -> Period:
    """The calendar month before the business date's."""
    last = business_date.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)


def ensure_assistance_schema(connection: duckdb.DuckDBPyConnection) -> None:
    """The assistance tables, empty, where the connection has none yet (a warehouse from
    before the ledger, a district whose partitions hold none): a day without cases."""
    if sql.query(connection, "assessment/assistance_present").empty:
        sql.script(connection, "assistance/schema")


def working_days_between(
    calendar: WorkingCalendar, starts: pd.Series, ends: pd.Series
) -> pd.Series:
    """The working days after each start up to and including its end, on the official
    calendar (docs/warning-rules.md, "Verification deadlines"): counted as a deadline is,
    so an alert verified on its deadline took the deadline's working days."""
    if starts.empty:
        return pd.Series([], index=starts.index, dtype="Int64")
    days = pd.concat([starts, ends]).dropna()
    if days.empty:
        return pd.Series(pd.NA, index=starts.index, dtype="Int64")
    first, last = min(days), max(days)
    # The working days counted from ``first`` up to each day of the span.
    counted = {first: 0}
    for day, following in pairwise(
        first + timedelta(days=offset) for offset in range((last - first).days + 1)
    ):
        counted[following] = counted[day] + calendar.is_working_day(following)
    values = [
        pd.NA if pd.isna(start) or pd.isna(end) else counted[end] - counted[start]
        for start, end in zip(starts, ends, strict=True)
    ]
    return pd.Series(values, index=starts.index, dtype="Int64")


def _dates(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    for name in names:
        frame[name] = [
            None if pd.isna(value) else pd.Timestamp(value).date() for value in frame[name]
        ]
    return frame


def _items(
    connection: duckdb.DuckDBPyConnection, rules: Rules, period: Period, business_date: date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    values = {
        "period_first": period.first,
        "period_last": period.last,
        "business_date": business_date,
    }
    alerts = _dates(
        sql.query(connection, "assessment/assessment_alerts", values),
        "first_raised",
        "verified_date",
    )
    alerts["working_days"] = working_days_between(
        rules.working_calendar(), alerts["first_raised"], alerts["verified_date"]
    )
    ensure_assistance_schema(connection)
    cases = sql.query(connection, "assessment/assessment_cases", values)
    return alerts, cases


ALERT_COUNTS = (
    "alerts_due",
    "alerts_verified_on_time",
    "alerts_verified_late",
    "alerts_overdue",
)
CASE_COUNTS = ("cases_due", "cases_in_place_on_time", "cases_in_place_late", "cases_overdue")


def _counted(items: pd.DataFrame, group: list[str], names: tuple[str, ...]) -> pd.DataFrame:
    """Per group: the items due, then each outcome's count, named ``names``."""
    outcomes = items.assign(**{outcome: items["outcome"] == outcome for outcome in OUTCOMES})
    counts = outcomes.groupby(group, dropna=False)[list(OUTCOMES)].sum().astype(int)
    counts.columns = list(names[1:])
    counts.insert(0, names[0], counts.sum(axis=1))
    return counts


def _figures(alerts: pd.DataFrame, cases: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The figures per group of ``keys``; no keys: the district's one row."""
    group = keys or ["_district"]
    alerts, cases = alerts.assign(_district=""), cases.assign(_district="")
    counted = _counted(alerts, group, ALERT_COUNTS).join(
        _counted(cases, group, CASE_COUNTS), how="outer"
    )
    if not keys and counted.empty:
        counted = pd.DataFrame(0, index=pd.Index([""], name="_district"), columns=counted.columns)
    verified = alerts[alerts["working_days"].notna()]
    medians = verified.groupby(group, dropna=False)["working_days"].median()
    counted["median_working_days_to_verify"] = medians.reindex(counted.index).astype("Float64")
    for name in (*ALERT_COUNTS, *CASE_COUNTS):
        counted[name] = counted[name].fillna(0).astype(int)
    figures = counted.reset_index()
    return figures.drop(columns="_district") if not keys else figures


def grid_months_not_reported(
    connection: duckdb.DuckDBPyConnection, rules: Rules, period: Period, business_date: date
) -> pd.DataFrame | None:
    """The group grids without a monthly report (网格员月报) for a month whose deadline
    (``assessment.grid_reports_due_day`` of the next month) falls in the period and has
    come by the business date: one row per grid and month, with its township and village.
    None while the grid-report feed has never loaded a row: nothing is guessed."""
    if sql.query(connection, "assessment/grid_reports_present").empty:
        return None
    if not int(sql.query(connection, "assessment/grid_reports_loaded")["loaded_rows"].iloc[0]):
        return None
    values = {
        "period_first": period.first,
        "period_last": period.last,
        "business_date": business_date,
        "assessment__grid_reports_due_day": rules.assessment.grid_reports_due_day,
    }
    return _dates(sql.query(connection, "assessment/grids_not_reported", values), "due_date")


def grids_not_reported(
    connection: duckdb.DuckDBPyConnection, rules: Rules, period: Period, business_date: date
) -> pd.DataFrame | None:
    """The group grids that sent no monthly report in time for the period: one row per
    village, ``village_code`` and ``grids`` (grid-months); None without the feed."""
    missing = grid_months_not_reported(connection, rules, period, business_date)
    if missing is None:
        return None
    return missing.groupby("village_code", dropna=False).size().rename("grids").reset_index()


def _not_reported(rows: pd.DataFrame, reported: pd.DataFrame | None) -> pd.Series:
    """``grids_not_reported`` of each row: the village's, summed for its township and the
    district; empty without the grid-report feed."""
    if reported is None:
        return pd.Series(pd.NA, index=rows.index, dtype="Int64")
    by_village = reported.groupby("village_code")["grids"].sum()
    villages = rows["village_code"].map(by_village).fillna(0)
    by_township = (
        rows.loc[rows["level"] == VILLAGE]
        .assign(grids=villages)
        .groupby("township_code")["grids"]
        .sum()
    )
    counted = [
        by_village.sum()
        if level == DISTRICT
        else by_township.get(township, 0)
        if level == TOWNSHIP
        else village
        for level, township, village in zip(
            rows["level"], rows["township_code"], villages, strict=True
        )
    ]
    return pd.Series(counted, index=rows.index).astype("Int64")


def assessment(
    connection: duckdb.DuckDBPyConnection, rules: Rules, period: Period, business_date: date
) -> pd.DataFrame:
    """One row per township, each followed by its villages, then the district total, with
    the figures of ``period`` as known on ``business_date``."""
    alerts, cases = _items(connection, rules, period, business_date)
    for frame in (alerts, cases):
        for name in ("township_code", "village_code"):
            frame[name] = frame[name].fillna("").astype(str)
    areas = sql.query(connection, "assessment/assessment_areas")
    # Areas of the registry, and any area an alert or a case names that it no longer has.
    named = pd.concat(
        [areas, alerts[["township_code", "village_code"]], cases[["township_code", "village_code"]]]
    ).drop_duplicates(["township_code", "village_code"])
    township_names = areas.groupby("township_code")["township_name"].min()
    village_names = areas.set_index(["township_code", "village_code"])["village_name"]

    villages = named[["township_code", "village_code"]].merge(
        _figures(alerts, cases, ["township_code", "village_code"]),
        on=["township_code", "village_code"],
        how="left",
    )
    townships = (
        named[["township_code"]]
        .drop_duplicates()
        .merge(_figures(alerts, cases, ["township_code"]), on="township_code", how="left")
    )
    district = _figures(alerts, cases, [])
    villages["level"], townships["level"], district["level"] = VILLAGE, TOWNSHIP, DISTRICT
    townships["village_code"] = None
    district["township_code"] = district["village_code"] = None
    rows = pd.concat([townships, villages, district], ignore_index=True)
    rows["township_name"] = rows["township_code"].map(township_names)
    rows["village_name"] = [
        village_names.get((township, village)) if level == VILLAGE else None
        for level, township, village in zip(
            rows["level"], rows["township_code"], rows["village_code"], strict=True
        )
    ]
    # Townships in code order, each followed by its villages; the district last.
    rows["_order"] = [
        (level == DISTRICT, township or "", level == VILLAGE, village or "")
        for level, township, village in zip(
            rows["level"], rows["township_code"], rows["village_code"], strict=True
        )
    ]
    rows = rows.sort_values("_order", kind="stable").drop(columns="_order")
    for name in (*ALERT_COUNTS, *CASE_COUNTS):
        rows[name] = rows[name].fillna(0).astype(int)
    rows["median_working_days_to_verify"] = rows["median_working_days_to_verify"].astype("Float64")
    rows["grids_not_reported"] = _not_reported(
        rows, grids_not_reported(connection, rules, period, business_date)
    )
    return rows[COLUMNS].reset_index(drop=True)


def overdue_cases(connection: duckdb.DuckDBPyConnection, business_date: date) -> pd.DataFrame:
    """Per village with overdue assistance cases: how many and the longest overdue in days,
    for the township heads; no household named."""
    ensure_assistance_schema(connection)
    return sql.query(connection, "assessment/overdue_cases", {"business_date": business_date})


def cases_by_status(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many cases have each status after the run, every status present (zeros too)."""
    ensure_assistance_schema(connection)
    counted = sql.query(connection, "assessment/cases_by_status")
    found = dict(zip(counted["status"], counted["cases"], strict=True))
    return {status.value: int(found.get(status.value, 0)) for status in CaseStatus}
