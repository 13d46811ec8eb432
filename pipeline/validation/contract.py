"""The contract of a feed applied to the rows as read: typed values and row reasons.

Normalise before judging (NFKC, spaces, ``x``), then give every row that cannot
be trusted its specific reasons. Business rules beyond the contract's types
live in the feed's Great Expectations suite (``expectations.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
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
            digit = pd.to_numeric(typed.astype("str").str[16], errors="coerce")
            frame[f"{column.field}__sex"] = digit.map(
                {**dict.fromkeys(range(1, 10, 2), "男"), **dict.fromkeys(range(0, 10, 2), "女")}
            )
    # A derived expression may name the delivery's date as @delivery_date (a date after it
    # is in the future).
    delivery_date = {"delivery_date": np.datetime64(today, "s")}
    for name, expression in spec.derived.items():
        frame[name] = frame.eval(expression, engine="python", local_dict=delivery_date)
    reasons = pd.Series("", index=raw.index, dtype="object")
    found = [failure for failure in failures if not failure.empty]
    if found:
        # One row may fail several columns: its reasons in column order.
        stacked = pd.concat(found).astype(str)
        joined = stacked.groupby(level=0, sort=False).agg("；".join)
        reasons.loc[joined.index] = joined
    return ContractResult(frame=frame, reasons=reasons)


class RepeatedKeys:
    """Rows whose key repeats an earlier row of the same delivery, over all its chunks:
    the first copy loads. In a feed whose later rows update the record
    (``repeated_key: update``) only a row repeating an earlier one whole is a repeat.

    Keys already seen are kept as two 64-bit hashes each with the row that had them
    first (24 bytes a key, not the key's strings). ``numbered`` deliveries (files) name
    the row repeated, by its number; a database view has no row numbers, only the key.
    """

    _SEEDS = ("fpwarn-keys-0001", "fpwarn-keys-0002")

    def __init__(self, spec: FeedSpec, *, numbered: bool = True) -> None:
        self.updates = spec.repeated_key == "update"
        self.key_fields = list(spec.key)
        # The values compared: the key, or the whole row where a later row updates.
        self.keys = [column.field for column in spec.columns] if self.updates else self.key_fields
        self.key_names = "、".join(spec.by_field[field].name for field in spec.key)
        self.numbered = numbered
        self._first = np.empty(0, dtype=np.uint64)
        self._second = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)

    def reasons(self, frame: pd.DataFrame) -> pd.Series:
        """Reasons for the rows of ``frame`` (the next rows of the delivery, in order)
        that repeat a key: "" for the others."""
        reasons = pd.Series("", index=frame.index, dtype="object")
        # A whole row may have empty optional values; a key must be complete.
        complete = frame[self.key_fields].notna().all(axis=1)
        candidates = frame.loc[complete, self.keys]
        if candidates.empty:
            return reasons
        first, second = (
            pd.util.hash_pandas_object(candidates, index=False, hash_key=seed).to_numpy()
            for seed in self._SEEDS
        )
        rows = candidates.index.to_numpy(dtype=np.int64)
        earlier = self._earlier(first, second)
        hashed = pd.DataFrame({"first": first, "second": second})
        within = hashed.duplicated(keep="first").to_numpy()
        first_in_chunk = pd.Series(rows).groupby([first, second], sort=False).transform("first")
        # The row each repeat copies: an earlier chunk's if the key was there, else this one's.
        copied = np.where(earlier >= 0, earlier, first_in_chunk.to_numpy())
        repeated = (earlier >= 0) | within
        new = ~repeated
        self._remember(first[new], second[new], rows[new])
        for row, source in zip(rows[repeated], copied[repeated], strict=True):
            reasons.at[row] = self._reason(source)
        return reasons

    def _reason(self, source: int) -> str:
        if self.updates:
            return (
                f"与本批第{source}行完全相同（重复行）"
                if self.numbered
                else "本次读取中出现完全相同的行，仅保留第一条"
            )
        return (
            f"与本批第{source}行重复（{self.key_names}相同）"
            if self.numbered
            else f"本次读取中{self.key_names}重复，仅保留第一条"
        )

    def _earlier(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """For each key, the row of an earlier chunk that had it, or -1."""
        found = np.full(len(first), -1, dtype=np.int64)
        if not len(self._first):
            return found
        at = np.searchsorted(self._first, first)
        inside = at < len(self._first)
        same = np.zeros(len(first), dtype=bool)
        same[inside] = self._first[at[inside]] == first[inside]
        for position in np.flatnonzero(same):
            # Usually one entry per first hash; the loop also covers the (rare) others.
            index = at[position]
            while index < len(self._first) and self._first[index] == first[position]:
                if self._second[index] == second[position]:
                    found[position] = self._rows[index]
                    break
                index += 1
        return found

    def _remember(self, first: np.ndarray, second: np.ndarray, rows: np.ndarray) -> None:
        merged_first = np.concatenate([self._first, first])
        order = np.argsort(merged_first, kind="stable")
        self._first = merged_first[order]
        self._second = np.concatenate([self._second, second])[order]
        self._rows = np.concatenate([self._rows, rows])[order]
