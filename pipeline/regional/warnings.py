"""Regional warnings (防止规模性返贫) for the district: raised once, kept up to date, closed.

Each rule is one SQL step in ``sql/regional/`` giving the villages or townships whose
condition holds on the business date, with the figure that crossed the threshold. A
warning keeps its id while its condition holds day after day (newer figures update it)
and is closed the first day it no longer holds. The state of each date is kept in
``alerts.regional_snapshots``; a date is computed from the state of the date before it,
so a rerun of a date gives the same warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Rules
from pipeline.safe_text import REASON_EVIDENCE_MAX_CHARS, clip_text, install_department_text
from pipeline.signals.build import run_step

VILLAGE_STEPS = ("reg_village_concentration", "reg_disaster", "reg_water")
TOWNSHIP_STEPS = ("reg_township_villages", "reg_township_unemployment")

RULE_LABELS = {
    "concentration": "新增预警集中",
    "disaster": "较大及以上灾害",
    "water": "大范围饮水安全问题",
    "villages": "多个村出现规模性返贫风险",
    "unemployment": "返乡未就业和失业登记激增",
}
SCOPE_LABELS = {"village": "村", "township": "乡镇"}

COLUMNS = [
    "regional_id",
    "scope",
    "scope_code",
    "township_code",
    "village_code",
    "scope_name",
    "rule",
    "category",
    "status",
    "first_raised",
    "last_updated",
    "figure",
    "reason",
]


@dataclass
class RegionalReport:
    new: int = 0
    open: int = 0
    closed: int = 0


def regional_values(rules: Rules, business_date: date) -> dict[str, Any]:
    settings = rules.regional
    return {
        "business_date": business_date,
        "regional_window_days": settings.window_days,
        "village_share": settings.village_share,
        "village_households": settings.village_households,
        "disaster_severities": list(settings.disaster_severities),
        "disaster_window_days": rules.disaster.window_days,
        "water_households": settings.water_households,
        "township_villages": settings.township_villages,
        "unemployment_statuses": list(settings.unemployment_statuses),
        "unemployment_recent_days": settings.unemployment_recent_days,
        "unemployment_baseline_days": settings.unemployment_baseline_days,
        "unemployment_factor": settings.unemployment_factor,
        "unemployment_min_registrations": settings.unemployment_min_registrations,
    }


def _reason(row: dict[str, Any], rules: Rules) -> str:
    where = f"【{SCOPE_LABELS[row['scope']]}·{row['scope_name']}】{RULE_LABELS[row['rule']]}："
    # The evidence is cut, never the threshold after it.
    detail = clip_text(str(row["detail"]), REASON_EVIDENCE_MAX_CHARS)
    settings = rules.regional
    if row["rule"] == "concentration":
        label = rules.categories[row["category"]].label
        share = row["figure"] / row["scope_households"] if row["scope_households"] else 0
        return (
            f"{where}近{settings.window_days}天新增「{label}」预警{row['figure']}户，"
            f"占全村{row['scope_households']}户的{share:.0%}"
            f"（阈值：{settings.village_households}户或{settings.village_share:.0%}）"
        )
    if row["rule"] == "water":
        return f"{where}{detail}（阈值：影响{settings.water_households}户）"
    if row["rule"] == "villages":
        return (
            f"{where}{row['figure']}个村同时处于规模性返贫预警（{detail}）"
            f"（阈值：{settings.township_villages}个村）"
        )
    if row["rule"] == "unemployment":
        return f"{where}{detail}，超过其{settings.unemployment_factor:g}倍"
    return f"{where}{detail}"


def _conditions(connection: duckdb.DuckDBPyConnection, rules: Rules, day: date) -> pd.DataFrame:
    """Every condition that holds on ``day``, one row per scope, rule and category."""
    values = regional_values(rules, day)
    connection.execute("create schema if not exists regional")
    install_department_text(connection)
    for step in VILLAGE_STEPS:
        run_step(connection, step, values, schema="regional")
    union = " union all ".join(f"select * from regional.{step}" for step in VILLAGE_STEPS)
    connection.execute(
        f"create or replace table regional.village_conditions as "
        f"select * from ({union}) where scope = 'village'"
    )
    for step in TOWNSHIP_STEPS:
        run_step(connection, step, values, schema="regional")
    every = " union all ".join(
        f"select * from regional.{step}" for step in (*VILLAGE_STEPS, *TOWNSHIP_STEPS)
    )
    frame = connection.execute(f"select * from ({every}) order by all").df()
    frame["category"] = frame["category"].astype(object).where(frame["category"].notna(), "")
    # Two disasters or water problems in one village are one warning with both in evidence.
    grouped = frame.groupby(["scope", "scope_code", "rule", "category"], sort=True, dropna=False)
    return grouped.agg(
        township_code=("township_code", "first"),
        village_code=("village_code", "first"),
        scope_name=("scope_name", "first"),
        figure=("figure", "sum"),
        scope_households=("scope_households", "max"),
        detail=("detail", lambda details: "；".join(str(d) for d in details if d is not None)),
    ).reset_index()


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    sql.script(connection, "regional/schema")


def update_regional(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> RegionalReport:
    """The regional warnings of ``business_date`` from the state of the date before it."""
    ensure_schema(connection)
    previous = connection.execute(
        "select * from alerts.regional_snapshots where status in ('new', 'open') "
        "and as_of_date = (select max(as_of_date) from alerts.regional_snapshots "
        "                  where as_of_date < $day)",
        {"day": business_date},
    ).df()
    known = {
        (row["scope_code"], row["rule"], row["category"]): row
        for row in previous.to_dict("records")
    }
    rows = []
    for row in _conditions(connection, rules, business_date).to_dict("records"):
        key = (row["scope_code"], row["rule"], row["category"])
        reason = _reason(row, rules)
        earlier = known.pop(key, None)
        if earlier is None:
            suffix = f"-{row['category']}" if row["rule"] == "concentration" else ""
            regional_id = f"{row['scope_code']}-{row['rule']}{suffix}-{business_date:%Y%m%d}"
            first_raised, last_updated, status = business_date, business_date, "new"
        else:
            regional_id, first_raised = earlier["regional_id"], earlier["first_raised"]
            changed = earlier["reason"] != reason
            last_updated = business_date if changed else earlier["last_updated"]
            status = "open"
        rows.append(
            {
                "regional_id": regional_id,
                "scope": row["scope"],
                "scope_code": row["scope_code"],
                "township_code": row["township_code"],
                "village_code": row["village_code"],
                "scope_name": row["scope_name"],
                "rule": row["rule"],
                "category": row["category"],
                "status": status,
                "first_raised": first_raised,
                "last_updated": last_updated,
                "figure": int(row["figure"]),
                "reason": reason,
            }
        )
    for ended in known.values():
        rows.append(
            {
                **{column: ended[column] for column in COLUMNS},
                "status": "closed",
                "last_updated": business_date,
                "reason": f"{ended['reason']}。{business_date:%Y-%m-%d}起条件不再满足，预警解除",
            }
        )
    today = pd.DataFrame(rows, columns=COLUMNS)
    today.insert(0, "as_of_date", business_date)
    connection.execute(
        "delete from alerts.regional_snapshots where as_of_date = $day", {"day": business_date}
    )
    connection.register("regional_today", today)
    try:
        connection.execute(
            "insert into alerts.regional_snapshots by name select * from regional_today"
        )
    finally:
        connection.unregister("regional_today")
    counts = today["status"].value_counts()
    return RegionalReport(
        new=int(counts.get("new", 0)),
        open=int(counts.get("open", 0)),
        closed=int(counts.get("closed", 0)),
    )


def regional_warnings(connection: duckdb.DuckDBPyConnection, business_date: date) -> pd.DataFrame:
    """The regional warnings of ``business_date`` (new, open, and those closed that day)."""
    ensure_schema(connection)
    return connection.execute(
        "select * exclude (as_of_date) from alerts.regional_snapshots where as_of_date = $day "
        "order by scope desc, township_code, village_code, rule, category",
        {"day": business_date},
    ).df()[COLUMNS]
