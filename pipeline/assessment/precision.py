"""What verification teaches: how often each category's alerts were found true.

Each verification result is a label on a rule. Per category and township over the last
``precision.window_days`` days (by verification date): alerts verified, found true (either
属实 result), 不属实, 风险已消除, and the share found true. A category with at least
``precision.min_verified`` verified alerts district-wide whose share found true is below
``precision.floor`` is flagged to the bureau as a rule to recalibrate, naming its thresholds
in config/rules.yaml. Nothing changes a threshold automatically (docs/assistance.md, "Rule
precision").
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel

from pipeline import sql
from pipeline.alerts.rules import Rules

COUNTS = ("verified", "found_true", "not_true", "risk_eliminated")
TOWNSHIP_COLUMNS = [
    "category",
    "category_label",
    "township_code",
    "township_name",
    *COUNTS,
    "share_found_true",
    "is_category_flagged",
]
CATEGORY_COLUMNS = ["category", "category_label", *COUNTS, "share_found_true", "is_flagged"]


def _share(found: int, verified: int) -> float:
    return found / verified if verified else float("nan")


def is_flagged(rules: Rules, verified: int, found_true: int) -> bool:
    """Enough verified alerts, and a share found true under the floor (exact: a share at
    the floor is not under it)."""
    floor = Fraction(str(rules.precision.floor))
    return verified >= rules.precision.min_verified and Fraction(found_true, verified) < floor


def precision_by_township(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> pd.DataFrame:
    """One row per category and township with verified alerts in the window, in the rules'
    order of the categories, with the category's district-wide flag."""
    values, _ = rules.parameters(business_date)
    rows = sql.query(connection, "assessment/rule_precision", values)
    flagged = set(precision_by_category(rows, rules).query("is_flagged")["category"])
    order = {code: index for index, code in enumerate(rules.categories)}
    rows = rows.sort_values(
        ["category", "township_code"],
        key=lambda column: column.map(order) if column.name == "category" else column,
        kind="stable",
    )
    rows["category_label"] = rows["category"].map(_label(rules))
    for name in COUNTS:
        rows[name] = rows[name].astype(int)
    rows["share_found_true"] = [
        _share(found, verified)
        for found, verified in zip(rows["found_true"], rows["verified"], strict=True)
    ]
    rows["is_category_flagged"] = rows["category"].isin(flagged)
    return rows[TOWNSHIP_COLUMNS].reset_index(drop=True)


def _label(rules: Rules) -> dict[str, str]:
    return {code: category.label for code, category in rules.categories.items()}


def precision_by_category(by_township: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One row per category of the rules, district-wide (a category with no verified alert
    has zeros), with its flag."""
    summed = (
        by_township.groupby("category")[list(COUNTS)].sum()
        if not by_township.empty
        else pd.DataFrame(columns=list(COUNTS))
    )
    table = summed.reindex(list(rules.categories)).fillna(0).astype(int)
    table.index.name = "category"
    table = table.reset_index()
    table["category_label"] = table["category"].map(_label(rules))
    table["share_found_true"] = [
        _share(found, verified)
        for found, verified in zip(table["found_true"], table["verified"], strict=True)
    ]
    table["is_flagged"] = [
        is_flagged(rules, verified, found)
        for verified, found in zip(table["verified"], table["found_true"], strict=True)
    ]
    return table[CATEGORY_COLUMNS]


def _value(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def thresholds_text(rules: Rules, code: str) -> str:
    """Where the category's thresholds are in config/rules.yaml, with their values."""
    thresholds = rules.categories[code].thresholds
    values: dict[str, Any] = (
        {key: getattr(thresholds, key) for key in type(thresholds).model_fields}
        if isinstance(thresholds, BaseModel)
        else dict(thresholds)
    )
    if not values:
        return (
            f"config/rules.yaml 中 categories.{code} 没有可调的阈值，"
            f"判定条件见 sql/signals/sig_{code}.sql"
        )
    listed = "、".join(f"{key}={_value(value)}" for key, value in values.items())
    return f"请复核 config/rules.yaml 中的阈值 categories.{code}.thresholds.*（{listed}）"


def flag_lines(table: pd.DataFrame, rules: Rules) -> list[str]:
    """The manifest's and the report's line for each flagged category (``table`` by
    category), in the rules' order."""
    precision = rules.precision
    return [
        f"规则需复核：{row.category_label}（{row.category}）近{precision.window_days}天核实"
        f"{row.verified}条，属实{row.found_true}条，占{row.share_found_true:.1%}，"
        f"低于{precision.floor * 100:g}%（核实满{precision.min_verified}条时评估）；"
        f"{thresholds_text(rules, str(row.category))}；阈值不会自动调整"
        for row in table.itertuples()
        if row.is_flagged
    ]


def precision_warnings(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date
) -> list[str]:
    """The flag lines of ``business_date``, for the manifest's warnings."""
    return flag_lines(
        precision_by_category(precision_by_township(connection, rules, business_date), rules), rules
    )
