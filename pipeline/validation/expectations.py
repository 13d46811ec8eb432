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
datasource fails on DuckDB; see the engineering notes).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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


@cache
def _suite(path: Path, mtime: float) -> Any:
    import great_expectations as gx

    return gx.ExpectationSuite(**load_suite_document(path))


def validate(suite_path: Path, frame: pd.DataFrame) -> SuiteOutcome:
    """Run a feed's suite on its typed frame (any index) and say what follows."""
    positional = frame.reset_index(drop=True)
    # GX handles numpy dtypes best; nullable integers become floats for the checks.
    for name in positional.columns:
        if str(positional[name].dtype) == "Int64":
            positional[name] = positional[name].astype("float64")
    outcome = SuiteOutcome(row_reasons=pd.Series("", index=frame.index, dtype="object"))
    if positional.empty:
        return outcome
    suite = _suite(suite_path, suite_path.stat().st_mtime)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": positional})
    results = batch.validate(suite, result_format={"result_format": "COMPLETE"})
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
