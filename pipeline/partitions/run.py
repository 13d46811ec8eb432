"""A partitioned day: each partition raises its own alerts, one small step merges.

After the district warehouse is loaded (ingest and load are the same as unpartitioned),
``raise_partition`` runs once per partition, in any order or side by side: signals,
returned workbooks of its townships, alerts, assistance cases, regional warnings and
comparisons in its own DuckDB file, then its townships' workbooks straight into the day's
outbox, and a report of what it did (``HOME/runs/<date>/partitions/<name>.json``).
``merge_partitions`` then writes the district's files from all partitions read as one,
and the manifest.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline.alerts.lifecycle import OTHER_TOWNSHIPS_ALERT, UNKNOWN_ALERT, AlertReport
from pipeline.alerts.raising import AlertsOutcome, raise_alerts_in
from pipeline.alerts.rules import Rules
from pipeline.assistance.ledger import OTHER_TOWNSHIPS_CASE, UNKNOWN_CASE
from pipeline.dispatch.publish import (
    ALERT_FIGURES,
    DayResult,
    publish_outbox,
    publish_township_files,
)
from pipeline.feedback.returns import ReturnedWorkbook, read_returns
from pipeline.feeds.registry import FeedSpec
from pipeline.partitions.config import Partition, owner_of
from pipeline.partitions.warehouse import connect_merged, connect_partition, uncovered_townships
from pipeline.runs import RunFolder, read_partition_report, write_partition_report
from pipeline.settings import Settings
from pipeline.signals.build import SignalReport, parameters, signal_checks
from pipeline.warehouse import load

log = logging.getLogger(__name__)


class PartitionError(RuntimeError):
    """A partitioned run that cannot go on as configured (message in Chinese)."""


def check_coverage(settings: Settings, partitions: list[Partition]) -> None:
    """Refuse a run in which some registered households belong to no partition."""
    missing = uncovered_townships(settings.home, partitions)
    if missing:
        listed = "、".join(
            f"{code}（{name or '名称不详'}，{households}户）" for code, name, households in missing
        )
        raise PartitionError(
            f"以下乡镇不属于任何分区，其农户不会产生预警：{listed}；"
            "请在 HOME/config.yaml 的 partitions 中补上"
        )


def returns_for(
    partition: Partition, partitions: list[Partition], returns: list[ReturnedWorkbook]
) -> list[ReturnedWorkbook]:
    """A partition applies its townships' returned workbooks; the first partition also
    takes those of no partition's township, so each is judged (and rejected) once."""
    first = partition == partitions[0]
    return [
        workbook
        for workbook in returns
        if (owner := owner_of(partitions, workbook.township_code)) == partition
        or (owner is None and first)
    ]


def raise_partition(
    settings: Settings,
    rules: Rules,
    business_date: date,
    partition: Partition,
    partitions: list[Partition],
    registry: dict[str, FeedSpec],
) -> Path:
    """One partition's alerts and township files for ``business_date``; returns its report."""
    returns = returns_for(partition, partitions, read_returns(settings.inbox))
    with connect_partition(settings.home, partition, registry) as connection:
        outcome = raise_alerts_in(
            connection, rules, business_date, returns, registry, district=False
        )
        files = publish_township_files(
            connection, rules, business_date, settings.home.outbox(business_date), partition.owns
        )
    report = {
        "partition": partition.name,
        "signals": asdict(outcome.signals),
        "alerts": asdict(outcome.alerts),
        "township_files": files,
    }
    path = write_partition_report(
        RunFolder.of(settings.home, business_date), partition.name, report
    )
    log.info(
        "partition %s, %s: %d signals, %d alerts raised, %d township files",
        partition.name,
        business_date,
        outcome.signals.raised,
        outcome.alerts.raised,
        len(files),
    )
    return path


def _merged_alerts(reports: list[dict[str, Any]]) -> AlertReport:
    merged = AlertReport()
    for report in reports:
        part = AlertReport(**report["alerts"])
        for name in ALERT_FIGURES:
            setattr(merged, name, getattr(merged, name) + getattr(part, name))
        merged.warnings.extend(w for w in part.warnings if w not in merged.warnings)
        merged.feedback_rejected.extend(part.feedback_rejected)
        merged.feedback_files.update(part.feedback_files)
        for name, count in part.assistance.items():
            merged.assistance[name] = merged.assistance.get(name, 0) + count
    # Workbooks are judged in the order of their names, as in an unpartitioned run.
    merged.feedback_rejected.sort(key=lambda row: row["file"])
    merged.feedback_files = dict(sorted(merged.feedback_files.items()))
    return merged


def _reattribute(connection: duckdb.DuckDBPyConnection, alerts: AlertReport) -> None:
    """A returned row naming an alert (or an assistance case) its partition does not hold
    names another partition's (another township's) when the district knows the id."""
    for unknown_reason, other_reason, key, table in (
        (UNKNOWN_ALERT, OTHER_TOWNSHIPS_ALERT, "alert_id", "alerts.alerts"),
        (UNKNOWN_CASE, OTHER_TOWNSHIPS_CASE, "case_id", "assistance.cases"),
    ):
        unknown = [row for row in alerts.feedback_rejected if row["reason"] == unknown_reason]
        if not unknown:
            continue
        # Names from the code above, never from a returned row.
        known = {
            row[0]
            for row in connection.execute(
                f"select {key} from {table} where {key} in (select unnest($ids::varchar[]))",
                {"ids": [row[key] for row in unknown]},
            ).fetchall()
        }
        for row in unknown:
            if row[key] in known:
                row["reason"] = other_reason


def merge_partitions(
    settings: Settings,
    rules: Rules,
    business_date: date,
    partitions: list[Partition],
    registry: dict[str, FeedSpec],
) -> DayResult:
    """The district's outbox from every partition's report and tables."""
    reports = []
    folder = RunFolder.of(settings.home, business_date)
    for partition in partitions:
        report = read_partition_report(folder, partition.name)
        if report is None:
            raise PartitionError(f"分区 {partition.name} 尚未完成 {business_date} 的预警研判")
        reports.append(report)
    _, warnings = parameters(rules, business_date)
    signals = SignalReport(
        warnings=warnings, raised=sum(report["signals"]["raised"] for report in reports)
    )
    alerts = _merged_alerts(reports)
    connection = connect_merged(settings.home, partitions)
    try:
        signal_checks(connection, signals, registry)
        _reattribute(connection, alerts)
    finally:
        connection.close()
    township_files: dict[str, str] = {}
    for report in reports:
        township_files.update(report["township_files"])
    _remove_stale(settings.home.outbox(business_date), township_files)
    plans = load.read_plans(settings.home, business_date, registry)
    return publish_outbox(
        settings,
        rules,
        business_date,
        registry,
        plans,
        AlertsOutcome(signals, alerts),
        connect=lambda: connect_merged(settings.home, partitions),
        township_files=dict(sorted(township_files.items())),
    )


def _remove_stale(outbox: Path, written: dict[str, str]) -> None:
    """Township files of an earlier run of the date that no partition wrote this time (a
    township moved to another partition's list is written by that one)."""
    for folder in ("townships", "comparisons"):
        for path in (outbox / folder).glob("*.xlsx") if (outbox / folder).is_dir() else []:
            if f"{folder}/{path.name}" not in written:
                path.unlink()
