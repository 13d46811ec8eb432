"""Great Expectations suites: one JSON suite per feed in ``expectations/``.

Conventions of the suites (checked by ``tests/validation/test_suites.py``):

- every expectation has ``meta.why``: why the check exists;
- a row-level expectation has ``meta.quarantine_reason``: its failing rows go
  to the quarantine with that reason (Chinese, specific);
- any other expectation judges the whole delivery: ``severity: critical``
  rejects it, ``warning`` or ``info`` flags it in the manifest; its
  ``meta.message`` says what is wrong, in Chinese; with ``meta.min_rows`` it
  is only judged on deliveries of at least that many rows.

GX runs on the typed pandas frame while it is in memory anyway (its SQL
datasource fails on DuckDB; docs/feeds.md, "Expectation suites").
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _quiet_great_expectations() -> None:
    """GX sets levels on its own loggers; its chatter is not for the pipeline's log."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.ERROR)


@dataclass
class SuiteOutcome:
    # Per row: the reasons from row-level expectations, "" when none.
    row_reasons: pd.Series
    rejected: str | None = None
    flags: list[str] = field(default_factory=list)


@cache
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_great_expectations()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("deliveries")
    asset = source.add_dataframe_asset("delivery")
    return asset.add_batch_definition_whole_dataframe("whole_delivery")


def load_suite_document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


# The kwargs by which an expectation names the columns it reads.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list", "column_set")


# Expectations that only ask whether values are missing or equal to one another.
_EQUALITY_ONLY = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_column_proportion_of_unique_values_to_be_between",
        "expect_column_unique_value_count_to_be_between",
    }
)


@dataclass(frozen=True)
class _Part:
    """Part of a suite: its row-level expectations (judged chunk by chunk) or the others
    (judged once on the whole delivery), and the columns they read (None: all)."""

    suite: Any
    columns: tuple[str, ...] | None
    # Columns only equality checks read: GX is given each value's code instead (equal
    # values, equal codes; a missing value stays missing), a tenth of the memory that
    # millions of strings take it.
    coded: tuple[str, ...] = ()
    row_level: bool = False


def _columns_of(expectation: dict[str, Any]) -> list[str]:
    kwargs = expectation.get("kwargs") or {}
    named = [kwargs[key] for key in _COLUMN_KWARGS if key in kwargs]
    for key in _COLUMN_LIST_KWARGS:
        named += list(kwargs.get(key) or [])
    return named


def _is_row_level(expectation: dict[str, Any]) -> bool:
    return bool((expectation.get("meta") or {}).get("quarantine_reason"))


@cache
def _parts(path: Path, mtime: float) -> dict[str, _Part]:
    import great_expectations as gx

    document = load_suite_document(path)
    parts = {}
    for name, wanted in (("rows", True), ("delivery", False)):
        chosen = [item for item in document["expectations"] if _is_row_level(item) == wanted]
        columns: list[str] | None = []
        compared: set[str] = set()
        for item in chosen:
            kwargs = item.get("kwargs") or {}
            if (
                columns is None
                or "row_condition" in kwargs
                or item["type"].startswith("expect_table_column")
            ):
                columns = None  # a condition, or the table's columns, may read any column
                continue
            columns += _columns_of(item)
            if item["type"] not in _EQUALITY_ONLY:
                compared.update(_columns_of(item))
        suite = gx.ExpectationSuite(
            **{**document, "name": f"{document['name']}:{name}", "expectations": chosen}
        )
        if columns is None:
            parts[name] = _Part(suite, None, row_level=wanted)
            continue
        read = tuple(dict.fromkeys(columns))
        coded = () if wanted else tuple(column for column in read if column not in compared)
        parts[name] = _Part(suite, read, coded, row_level=wanted)
    return parts


def delivery_columns(suite_path: Path) -> tuple[str, ...] | None:
    """The columns the whole-delivery expectations read (None: all of them)."""
    return _parts(suite_path, suite_path.stat().st_mtime)["delivery"].columns


def validate(suite_path: Path, frame: pd.DataFrame) -> SuiteOutcome:
    """Run a feed's whole suite on its typed frame (any index) and say what follows."""
    outcome = validate_rows(suite_path, frame)
    delivery = validate_delivery(suite_path, frame)
    outcome.rejected, outcome.flags = delivery.rejected, delivery.flags
    return outcome


def validate_rows(suite_path: Path, frame: pd.DataFrame) -> SuiteOutcome:
    """The row-level expectations on some rows of a delivery: each failing row's reasons."""
    return _validate(_parts(suite_path, suite_path.stat().st_mtime)["rows"], frame)


def validate_delivery(suite_path: Path, frame: pd.DataFrame) -> SuiteOutcome:
    """The other expectations on every row of a delivery (at least ``delivery_columns``):
    whether it is rejected, and its flags."""
    return _validate(_parts(suite_path, suite_path.stat().st_mtime)["delivery"], frame)


def _validate(part: _Part, frame: pd.DataFrame) -> SuiteOutcome:
    outcome = SuiteOutcome(row_reasons=pd.Series("", index=frame.index, dtype="object"))
    if frame.empty or not part.suite.expectations:
        return outcome
    # GX hashes every column it is given (twice): it gets only those it reads.
    columns = list(frame.columns) if part.columns is None else list(part.columns)
    given = {}
    for name in columns or list(frame.columns[:1]):
        values = frame[name].reset_index(drop=True)
        if name in part.coded:
            codes, _ = pd.factorize(values, use_na_sentinel=True)
            values = pd.Series(np.where(codes >= 0, codes, np.nan))
        elif str(values.dtype) == "Int64":
            # GX handles numpy dtypes best; nullable integers become floats for the checks.
            values = values.astype("float64")
        given[name] = values
    positional = pd.DataFrame(given)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": positional})
    # The failing rows' positions only where rows are judged one by one.
    detail = "COMPLETE" if part.row_level else "BASIC"
    results = batch.validate(part.suite, result_format={"result_format": detail})
    per_row: dict[int, list[str]] = {}
    for result in results.results:
        if result.success:
            continue
        config = result.expectation_config
        meta = config.meta or {}
        reason = meta.get("quarantine_reason")
        if reason:
            for position in result.result.get("unexpected_index_list") or []:
                per_row.setdefault(int(position), []).append(reason)
            continue
        if len(positional) < int(meta.get("min_rows", 0)):
            continue
        message = meta.get("message") or config.type
        if (
            str(config.severity.value if hasattr(config.severity, "value") else config.severity)
            == "critical"
        ):
            outcome.rejected = outcome.rejected or f"批次校验未通过：{message}"
        else:
            outcome.flags.append(f"批次校验提示：{message}")
    for position, reasons in per_row.items():
        outcome.row_reasons.iat[position] = "；".join(dict.fromkeys(reasons))
    return outcome
