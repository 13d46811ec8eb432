"""Regional warnings (防止规模性返贫) for the district: raised once, kept up to date, closed.

The rules are the entries of ``regional.rules`` in the rules file (label, scope,
thresholds), each with its SQL step ``sql/regional/reg_<code>.sql`` giving the villages
or townships whose condition holds on the business date (``rule`` = the code), with the
figure that crossed the threshold. The village rules run first: their village rows are
``regional.village_conditions``, which the township rules may read. A warning keeps its
id while its condition holds day after day (newer figures update it) and is closed the
first day it no longer holds. The state of each date is kept in
``alerts.regional_snapshots``; a date is computed from the state of the date before it,
so a rerun of a date gives the same warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import (
    Concentration,
    Rules,
    TownshipVillages,
    UnemploymentWave,
    Water,
)
from pipeline.safe_text import REASON_EVIDENCE_MAX_CHARS, clip_text, install_department_text

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


def _concentration(row: dict[str, Any], rules: Rules, where: str, detail: str) -> str:
    thresholds = rules.regional.thresholds(Concentration)
    label = rules.categories[row["category"]].label
    share = row["figure"] / row["scope_households"] if row["scope_households"] else 0
    return (
        f"{where}近{rules.regional.window_days}天新增「{label}」预警{row['figure']}户，"
        f"占全村{row['scope_households']}户的{share:.0%}"
        f"（阈值：{thresholds.households}户或{thresholds.share:.0%}）"
    )


def _water(row: dict[str, Any], rules: Rules, where: str, detail: str) -> str:
    return f"{where}{detail}（阈值：影响{rules.regional.thresholds(Water).households}户）"


def _villages(row: dict[str, Any], rules: Rules, where: str, detail: str) -> str:
    return (
        f"{where}{row['figure']}个村同时处于规模性返贫预警（{detail}）"
        f"（阈值：{rules.regional.thresholds(TownshipVillages).villages}个村）"
    )


def _unemployment(row: dict[str, Any], rules: Rules, where: str, detail: str) -> str:
    return f"{where}{detail}，超过其{rules.regional.thresholds(UnemploymentWave).factor:g}倍"


# The rules whose reason needs more than the step's detail (the figures and thresholds),
# by code; any other rule's reason is its detail.
REASONS: dict[str, Callable[[dict[str, Any], Rules, str, str], str]] = {
    "concentration": _concentration,
    "water": _water,
    "villages": _villages,
    "unemployment": _unemployment,
}


def _reason(row: dict[str, Any], rules: Rules) -> str:
    label = rules.regional.rules[row["rule"]].label
    where = f"【{SCOPE_LABELS[row['scope']]}·{row['scope_name']}】{label}："
    # The evidence is cut, never the threshold after it.
    detail = clip_text(str(row["detail"]), REASON_EVIDENCE_MAX_CHARS)
    reason = REASONS.get(row["rule"])
    return reason(row, rules, where, detail) if reason else f"{where}{detail}"


def _conditions(connection: duckdb.DuckDBPyConnection, rules: Rules, day: date) -> pd.DataFrame:
    """Every condition that holds on ``day``, one row per scope, rule and category."""
    # $regional__window_days, $regional__<rule>__<key>, $disaster__window_days…
    values, _ = rules.parameters(day)
    connection.execute("create schema if not exists regional")
    install_department_text(connection)
    village_rules = rules.regional.in_scope("village")
    township_rules = rules.regional.in_scope("township")
    for rule in village_rules:
        sql.materialise(connection, rule.step, rule.table, values)
    union = " union all ".join(f"select * from {rule.table}" for rule in village_rules)
    connection.execute(
        f"create or replace table regional.village_conditions as "
        f"select * from ({union}) where scope = 'village'"
    )
    for rule in township_rules:
        sql.materialise(connection, rule.step, rule.table, values)
    every = " union all ".join(
        f"select * from {rule.table}" for rule in rules.regional.rules.values()
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
