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
from pipeline.alerts.rules import CHANNELS, DEFAULT_CHANNEL, Rules
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
from pipeline.feeds.registry import load_registry
from pipeline.linkage.leads import has_lead_matches
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
    # 发现渠道 (docs/warning-rules.md, "Categories"): per channel of the rules, the alerts
    # raised on the date and those open, and the leads of the date matched to a registered
    # member (None for a channel no lead is found through) — CHANNEL_COLUMNS.
    channels: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The date's leads per source with its channel, by what the linkage decided
    # (LEAD_COLUMNS); None for a warehouse that never linked leads.
    lead_sources: pd.DataFrame | None = None
    # Whether the grids' monthly reports were ever delivered: without them nothing says
    # which grids did not report (``grids_not_reported`` is then empty).
    grid_reports_loaded: bool = False


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


CHANNEL_COLUMNS = ["channel", "raised", "open", "leads_matched"]
LEAD_COLUMNS = [
    "source",
    "channel",
    "leads",
    "matched",
    "matched_by_id_number",
    "matched_by_linkage",
    "ambiguous",
    "unmatched",
    "quarantined",
]
# The category raised from the leads (``sql/signals/sig_lead.sql``), and the channel of
# the leads when the rules have no such category.
LEAD_CATEGORY = "lead"
LEAD_CHANNEL = "群众反映线索"


def _source_order() -> list[str]:
    """The leads' sources in the order of the feed's contract (信访, 12317, …)."""
    spec = load_registry().get("leads")
    column = spec.by_field.get("source") if spec is not None else None
    return list(column.values or ()) if column is not None else []


def lead_sources(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> pd.DataFrame | None:
    """The date's leads per source (every source of the feed's contract, a source without
    leads with zeros) and the channel each is found through; None when the warehouse has no
    ``linkage.lead_matches`` (it never linked leads)."""
    if not has_lead_matches(connection):
        return None
    counts = _sql(connection, "channel_leads", {"business_date": business_date})
    sources = [*_source_order(), *counts["source"]]
    frame = (
        pd.DataFrame({"source": list(dict.fromkeys(sources))})
        .merge(counts, on="source", how="left")
        .fillna(0)
    )
    category = rules.categories.get(LEAD_CATEGORY)
    frame.insert(
        1,
        "channel",
        [
            category.channel_of_source(source) if category is not None else LEAD_CHANNEL
            for source in frame["source"]
        ],
    )
    numbers = LEAD_COLUMNS[2:]
    frame[numbers] = frame[numbers].astype(int)
    return frame[LEAD_COLUMNS]


def channel_figures(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    sources: pd.DataFrame | None,
) -> pd.DataFrame:
    """Per channel, in the policy's order: the alerts raised on the date and those open
    (each category counted under its ``channel``), and the matched leads of the date
    (``leads_matched``: a household's lead alert may hold several leads of several
    sources, so leads are counted, not alerts; None for a channel of no lead)."""
    counts = _sql(connection, "channel_alerts", {"business_date": business_date})
    counts["channel"] = counts["category"].map(
        lambda code: rules.categories[code].channel if code in rules.categories else DEFAULT_CHANNEL
    )
    alerts = counts.groupby("channel")[["raised", "open"]].sum()
    category = rules.categories.get(LEAD_CATEGORY)
    lead_channels = (
        {category.channel, *category.source_channels.values()} if category else {LEAD_CHANNEL}
    )
    matched = sources.groupby("channel")["matched"].sum() if sources is not None else None
    leads: list[int | None] = [
        int(matched.get(channel, 0))
        if matched is not None and (channel in lead_channels or channel in matched.index)
        else None
        for channel in CHANNELS
    ]
    return pd.DataFrame(
        {
            "channel": list(CHANNELS),
            "raised": [int(alerts["raised"].get(channel, 0)) for channel in CHANNELS],
            "open": [int(alerts["open"].get(channel, 0)) for channel in CHANNELS],
            "leads_matched": pd.Series(leads, dtype=object),
        },
        columns=CHANNEL_COLUMNS,
    )


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
    sources = lead_sources(connection, rules, business_date)
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
        channels=channel_figures(connection, rules, business_date, sources),
        lead_sources=sources,
        grid_reports_loaded=not_reported is not None,
    )
