"""The monthly list of 监测户 that may be ready for risk elimination (风险消除).

Made on the configured day of each month from the warehouse as of that business date;
each candidate comes with the evidence for every condition, so the village can judge.
A household without a labourer is never listed: it stays monitored (the opinion keeps
such households under watch once social security is in place).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.alerts.rules import Rules

COLUMNS = [
    "household_id",
    "township_code",
    "township_name",
    "village_code",
    "village_name",
    "grid_id",
    "monitoring_type",
    "monitored_from",
    "months_monitored",
    "income_per_capita_yuan",
    "monitoring_line_yuan",
    "labourers",
    "evidence",
]


def is_list_day(rules: Rules, business_date: date) -> bool:
    return business_date.day == rules.elimination.day_of_month


def elimination_candidates(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> pd.DataFrame:
    """The candidates as of ``business_date``, with the evidence of each condition."""
    # ``$elimination__quiet_months``, ``$labourer__min_age``…: ``Rules.parameters``.
    values, _ = rules.parameters(business_date)
    frame = sql.query(connection, "elimination/elimination_candidates", values)
    quiet = "、".join(rules.categories[code].label for code in rules.elimination.quiet_categories)
    frame["evidence"] = [
        f"{row.monitored_from:%Y年%m月}识别为监测户，已{row.months_monitored}个月"
        f"（要求≥{rules.elimination.monitored_months}个月）；"
        f"家庭人均纯收入{row.income_per_capita_yuan:.2f}元，不低于监测范围{row.monitoring_line_yuan:.0f}元；"
        f"无未关闭预警；近{rules.elimination.quiet_months}个月无{quiet}方面的预警；"
        f"有劳动力{row.labourers}人"
        for row in frame.itertuples()
    ]
    return frame[COLUMNS]
