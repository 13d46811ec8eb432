"""The contract of a feed applied to the rows as read: typed values and row reasons.

Normalise before judging (NFKC, spaces, ``x``), then give every row that cannot
be trusted its specific reasons. Business rules beyond the contract's types
live in the feed's Great Expectations suite (``expectations.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from pipeline.feeds.registry import Column, FeedSpec
from pipeline.validation import normalize


@dataclass
class ContractResult:
    # Typed values, one column per registry field, plus ``<id field>__sex`` for the suites.
    frame: pd.DataFrame
    # Per row: the reasons (Chinese) that keep it out of the warehouse; empty when fine.
    reasons: pd.Series


def _normalize_column(
    column: Column, values: pd.Series, today: date
) -> tuple[pd.Series, pd.Series]:
    label = column.name
    match column.type:
        case "string":
            return normalize.normalize_string(values)
        case "code":
            return normalize.normalize_code(values, label)
        case "enum":
            assert column.values is not None
            return normalize.normalize_enum(values, column.values, label)
        case "id_number":
            return normalize.normalize_id_number(values, today=today)
        case "date":
            return normalize.normalize_date(values, label)
        case "amount":
            return normalize.normalize_amount(values, label)
        case "integer":
            return normalize.normalize_integer(values, label)
    raise AssertionError(column.type)


def apply_contract(spec: FeedSpec, raw: pd.DataFrame, *, today: date) -> ContractResult:
    """Typed values and row reasons for the data rows ``raw`` (one column per field)."""
    frame = pd.DataFrame(index=raw.index)
    failures: list[pd.Series] = []
    for column in spec.columns:
        typed, column_reasons = _normalize_column(column, raw[column.field], today)
        frame[column.field] = typed
        failed = column_reasons.notna()
        failures.append(column_reasons[failed])
        if column.required:
            missing = typed.isna() & ~failed
            failures.append(pd.Series(f"必填项缺失：{column.name}", index=missing[missing].index))
        if column.type == "id_number":
            digit = pd.to_numeric(typed.str[16], errors="coerce")
            frame[f"{column.field}__sex"] = digit.map(
                {**dict.fromkeys(range(1, 10, 2), "男"), **dict.fromkeys(range(0, 10, 2), "女")}
            )
    for name, expression in spec.derived.items():
        frame[name] = frame.eval(expression, engine="python")
    reasons = pd.Series("", index=raw.index, dtype="object")
    found = [failure for failure in failures if not failure.empty]
    if found:
        # One row may fail several columns: its reasons in column order.
        stacked = pd.concat(found).astype(str)
        joined = stacked.groupby(level=0, sort=False).agg("；".join)
        reasons.loc[joined.index] = joined
    return ContractResult(frame=frame, reasons=reasons)


def duplicate_reasons(
    spec: FeedSpec, frame: pd.DataFrame, row_labels: pd.Series, *, numbered: bool = True
) -> pd.Series:
    """Rows whose key repeats an earlier row of the same delivery: the first copy loads.

    ``numbered`` deliveries (files) name the row repeated; a database view has no
    row numbers, only the key itself.
    """
    keys = list(spec.key)
    complete = frame[keys].notna().all(axis=1)
    candidates = frame.loc[complete, keys]
    repeated = candidates.duplicated(keep="first")
    reasons = pd.Series("", index=frame.index, dtype="object")
    if not repeated.any():
        return reasons
    first_of = (
        candidates.reset_index()
        .groupby(keys, sort=False, dropna=False)[frame.index.name or "index"]
        .transform("first")
    )
    first_of.index = candidates.index
    key_names = "、".join(spec.by_field[field].name for field in keys)
    for index in repeated[repeated].index:
        if numbered:
            reasons.at[index] = (
                f"与本批第{row_labels.at[first_of.at[index]]}行重复（{key_names}相同）"
            )
        else:
            reasons.at[index] = f"本次读取中{key_names}重复，仅保留第一条"
    return reasons
