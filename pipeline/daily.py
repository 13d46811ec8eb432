"""The daily job, step by step, without a scheduler: ingest → warehouse → outbox.

Each step is a function the Airflow DAG calls as its own task; ``run_day``
calls them in order for ``python -m pipeline run``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlalchemy as sa

from pipeline import rerun, timings
from pipeline.alerts.lifecycle import AlertReport, open_alerts, update_alerts
from pipeline.alerts.rules import Rules, load_rules
from pipeline.comparisons import (
    build_comparisons,
    comparison_findings,
    write_comparison_workbooks,
    write_comparisons_csv,
)
from pipeline.dispatch.workbooks import overdue_alerts, write_township_workbooks
from pipeline.elimination.candidates import elimination_candidates, is_list_day
from pipeline.feedback.returns import ReturnedWorkbook, read_returns
from pipeline.feeds.arrival import arrival_size
from pipeline.feeds.inbox import InboxMissing, require_inbox
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.feeds.sql_source import SourceUnavailable
from pipeline.ingest import FeedPlan, ingest_feed, plan_path
from pipeline.manifest import build_manifest
from pipeline.outbox import atomic_write_bytes, atomic_write_text, csv_bytes
from pipeline.regional.warnings import regional_warnings, update_regional
from pipeline.report.figures import daily_figures
from pipeline.report.page import write_report_beside
from pipeline.review.feed_health import feed_health
from pipeline.review.publish import publish_review_tables, review_url, safe_url
from pipeline.settings import Settings
from pipeline.signals.build import SignalReport, build_signals
from pipeline.timings import stage
from pipeline.vocabulary import ReturnStatus
from pipeline.warehouse import load
from pipeline.warehouse.ledger import WarehouseCorrupt, connect_read_only

log = logging.getLogger(__name__)

QUARANTINE_MODE = 0o640  # personal data for the data engineers: owner and group only


@dataclass(frozen=True)
class AlertsOutcome:
    signals: SignalReport
    alerts: AlertReport


@dataclass(frozen=True)
class DayResult:
    business_date: date
    outbox: Path
    manifest: dict[str, Any]


def ingest_one(
    spec: FeedSpec, settings: Settings, business_date: date, *, retry_transient: bool = False
) -> Path:
    """Ingest a feed; a fault in one feed is reported in its plan, never stops the day.

    With ``retry_transient`` a database that cannot be reached raises instead,
    so that a scheduler can retry the task with backoff. A file feed without the inbox
    folder raises ``InboxMissing``: that is no department's fault, and no day to go on with.
    """
    if spec.is_file_feed:
        _require_inbox(settings)
    try:
        return ingest_feed(spec, settings, business_date)
    except SourceUnavailable as error:
        if retry_transient:
            raise
        log.warning("%s: source unavailable: %s", spec.feed, error)
        reason = str(error)
    except WarehouseCorrupt:
        raise  # the whole day stops, with the one line that says how to rebuild
    except Exception as error:
        # The message may quote a value from the data; the log gets the type and the stack only.
        log.error(
            "%s: ingest failed with %s\n%s",
            spec.feed,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        reason = f"读取时发生内部错误（{type(error).__name__}），详见日志"
    plan = FeedPlan(spec.feed, business_date.isoformat(), [], unavailable=reason)
    path = plan_path(settings.home, spec.feed, business_date)
    atomic_write_text(path, plan.to_json())
    return path


def _require_inbox(settings: Settings) -> None:
    try:
        require_inbox(settings.inbox)
    except InboxMissing:
        # For HOME/logs/pipeline.log only (the terminal shows warnings and up): on the
        # command line the error itself is the one line on standard error.
        log.info("inbox %s is missing or not a folder: the day is not processed", settings.inbox)
        raise


def raise_alerts(
    settings: Settings,
    business_date: date,
    rules: Rules | None = None,
    registry: dict[str, FeedSpec] | None = None,
) -> AlertsOutcome:
    """Signals and the alert lifecycle for ``business_date``, in one warehouse transaction."""
    return raise_alerts_in(
        load.connect(settings.home),
        rules or load_rules(),
        business_date,
        read_returns(settings.inbox),
        registry,
    )


def raise_alerts_in(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    returns: list[ReturnedWorkbook],
    registry: dict[str, FeedSpec] | None = None,
    *,
    checks: bool = True,
) -> AlertsOutcome:
    """Signals, alerts, regional warnings and comparisons in one transaction of
    ``connection`` (the district warehouse, or a partition's), which it closes."""
    try:
        connection.begin()
        with stage("signals"):
            signals = build_signals(connection, rules, business_date, registry, checks=checks)
        with stage("alerts"):
            alerts = update_alerts(connection, rules, business_date, returns)
            update_regional(connection, rules, business_date)
            build_comparisons(connection, rules, business_date, in_transaction=True)
            connection.commit()
    finally:
        connection.close()
    return AlertsOutcome(signals, alerts)


def publish_township_files(
    connection: duckdb.DuckDBPyConnection,
    business_date: date,
    outbox: Path,
    owns: Callable[[str], bool] = lambda _: True,
    findings: pd.DataFrame | None = None,
) -> dict[str, str]:
    """The township workbooks and the comparison workbooks of the townships ``owns``
    accepts (a partition writes its own); a workbook of theirs left from an earlier run of
    the date with nothing to say any more is removed, so the folder holds this run's files.
    ``findings``: the day's comparison findings when the caller has read them already."""
    folder = outbox / "townships"
    written = write_township_workbooks(connection, load_rules(), business_date, folder)
    keep = {workbook.path.name for workbook in written}
    for stale in folder.glob("*.xlsx") if folder.is_dir() else []:
        if stale.name not in keep and owns(stale.name.split("_", 1)[0]):
            stale.unlink()
    outputs = {f"townships/{workbook.path.name}": workbook.sha256 for workbook in written}
    if findings is None:
        findings = comparison_findings(connection, business_date)
    for path in write_comparison_workbooks(
        findings, business_date, outbox / "comparisons", owns=owns
    ):
        outputs[f"comparisons/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return outputs


def _publish_alert_files(
    connection: duckdb.DuckDBPyConnection,
    business_date: date,
    outbox: Path,
    report: AlertReport,
) -> tuple[dict[str, str], pd.DataFrame]:
    """alerts.csv, overdue.csv, the feedback rejections and the district's files; and the
    day's comparison findings, for the townships' comparison workbooks."""
    rejected = pd.DataFrame(
        report.feedback_rejected, columns=["township_code", "file", "row", "alert_id", "reason"]
    ).astype({"row": "Int64"})
    rules = load_rules()
    files = {
        "alerts.csv": open_alerts(connection),
        "overdue.csv": overdue_alerts(connection, business_date),
        "feedback_rejections.csv": rejected,
        "regional_alerts.csv": regional_warnings(connection, business_date),
    }
    if is_list_day(rules, business_date):
        files["elimination_candidates.csv"] = elimination_candidates(
            connection, rules, business_date
        )
    outputs = {
        name: atomic_write_bytes(outbox / name, csv_bytes(frame)) for name, frame in files.items()
    }
    findings = comparison_findings(connection, business_date)
    outputs["comparisons.csv"] = write_comparisons_csv(findings, outbox / "comparisons.csv")
    return outputs, findings


def _in_outbox_order(outputs: dict[str, str]) -> dict[str, str]:
    """The manifest's list of files: the quarantine first, then the district's files by
    name, then those in folders, then the report."""
    first: dict[str, str] = {name: outputs[name] for name in ("quarantine.csv",) if name in outputs}
    last: dict[str, str] = {
        name: outputs[name] for name in ("report.html", "report.pdf") if name in outputs
    }
    middle = sorted(
        (item for item in outputs.items() if item[0] not in first and item[0] not in last),
        key=lambda item: ("/" in item[0], item[0]),
    )
    return {**first, **dict(middle), **last}


ALERT_FIGURES = (
    "verified",
    "raised",
    "updated",
    "regraded",
    "escalated",
    "withdrawn",
    "suppressed",
)


def _add_district_summary(manifest: dict[str, Any], outbox: Path) -> None:
    """Regional warnings, comparisons and (on its day) the elimination list, counted from
    the files."""
    regional = pd.read_csv(outbox / "regional_alerts.csv", encoding="utf-8-sig", dtype=str)
    manifest["regional_alerts"] = {
        status: int((regional["status"] == status).sum()) for status in ("new", "open", "closed")
    }
    comparisons = pd.read_csv(outbox / "comparisons.csv", encoding="utf-8-sig", dtype=str)
    manifest["comparisons"] = {
        "applications": int(comparisons["application_id"].nunique()),
        "authorisation_missing": int((comparisons["finding"] == "authorisation_missing").sum()),
        "findings": int((~comparisons["finding"].isin(["none", "authorisation_missing"])).sum()),
    }
    candidates = outbox / "elimination_candidates.csv"
    if candidates.is_file():
        manifest["elimination_candidates"] = len(pd.read_csv(candidates, encoding="utf-8-sig"))


def _add_alert_summary(manifest: dict[str, Any], alerts: AlertsOutcome) -> None:
    manifest["warnings"].extend([*alerts.signals.warnings, *alerts.alerts.warnings])
    for feed, count in alerts.signals.people_not_in_registry.items():
        if feed in manifest["feeds"]:
            manifest["feeds"][feed]["people_not_in_registry"] = count
    manifest["alerts"] = {name: getattr(alerts.alerts, name) for name in ALERT_FIGURES}
    files, rejected = alerts.alerts.feedback_files, alerts.alerts.feedback_rejected
    manifest["feedback"] = {
        "files": files,
        "rows_applied": alerts.alerts.verified,
        # A line may stand for no row (a file not applied) or many (filler rows).
        "rows_rejected": sum(line.get("rows", 1) for line in rejected),
    }
    # Why each file was not applied: its one line (partition reports carry the lines too).
    not_applied = {
        line["file"]: line["reason"]
        for line in rejected
        if files.get(line["file"]) == ReturnStatus.REJECTED
    }
    if not_applied:
        manifest["feedback"]["rejected_files"] = not_applied


def publish_outbox(
    settings: Settings,
    business_date: date,
    registry: dict[str, FeedSpec],
    plans: dict[str, FeedPlan],
    alerts: AlertsOutcome | None = None,
    *,
    connect: Callable[[], duckdb.DuckDBPyConnection] | None = None,
    township_files: dict[str, str] | None = None,
) -> DayResult:
    """Write the day's outbox files from the warehouse, each whole or not at all.

    A partitioned run passes ``connect`` (the partitions read as one district) and the
    township files its partitions wrote."""
    opener = connect or (lambda: load.connect(settings.home))
    outbox = settings.home.outbox(business_date)
    with stage("dispatch"):
        quarantine = load.quarantine_for(settings.home, business_date)
        outputs = {
            "quarantine.csv": atomic_write_bytes(
                outbox / "quarantine.csv", csv_bytes(quarantine), mode=QUARANTINE_MODE
            )
        }
    connection = opener()
    report: Callable[[], dict[str, str]] | None = None
    try:
        with stage("dispatch"):
            findings = None
            if alerts is not None:
                district_files, findings = _publish_alert_files(
                    connection, business_date, outbox, alerts.alerts
                )
                outputs.update(district_files)
            manifest = build_manifest(
                business_date, registry, plans, connection, inbox=settings.inbox
            )
            if manifest.get("critical_warnings"):
                # The manifest says which feed and why (its reasons may quote the data).
                log.warning(
                    "%s: the household registry or the inbox is missing, the day's alerts are "
                    "incomplete: see critical_warnings in %s",
                    business_date,
                    outbox / "manifest.json",
                )
            if alerts is not None:
                _add_alert_summary(manifest, alerts)
                _add_district_summary(manifest, outbox)
        # daily_report: false (HOME/config.yaml or PIPELINE_DAILY_REPORT) skips the
        # report's two seconds of drawing, for a deployment that has no use for it.
        if alerts is not None and settings.daily_report:
            with stage("report"):
                health = feed_health(connection, business_date, manifest, registry)
                figures = daily_figures(
                    connection,
                    load_rules(),
                    business_date,
                    health,
                    manifest["warnings"],
                    critical=manifest.get("critical_warnings", []),
                )
                # Drawn on another core while the township workbooks are written.
                report = write_report_beside(figures, outbox)
        with stage("dispatch"):
            if alerts is not None:
                if township_files is None:
                    township_files = publish_township_files(
                        connection, business_date, outbox, findings=findings
                    )
                outputs.update(township_files)
    finally:
        connection.close()
        if report is not None:
            with stage("report"):
                outputs.update(report())
    outputs = _in_outbox_order(outputs)
    manifest["outputs"] = outputs
    with stage("dispatch"):
        atomic_write_text(
            outbox / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        )
        load.record_run(settings.home, business_date, manifest)
    if alerts is not None:
        with stage("report"):
            _publish_review(settings, business_date, manifest, connect)
    return DayResult(business_date, outbox, manifest)


class ReviewDatabaseUnavailable(ConnectionError):
    """The BI tool's database refused: transient, worth a retry; the outbox is complete."""


def _publish_review(
    settings: Settings,
    business_date: date,
    manifest: dict[str, Any],
    connect: Callable[[], duckdb.DuckDBPyConnection] | None = None,
) -> None:
    """The review tables for the BI tool, once the outbox is complete (a database that is
    down must not cost the townships their workbooks)."""
    url = review_url(settings)
    connection = connect() if connect else connect_read_only(settings.home)
    if connection is None:
        return
    try:
        publish_review_tables(connection, business_date, manifest, url)
    except sa.exc.OperationalError as error:
        raise ReviewDatabaseUnavailable(
            f"审阅库 {safe_url(url)} 不可用（{type(error.orig).__name__}）；"
            f"{business_date} 的 outbox 已完整写出，审阅表稍后重发即可"
        ) from error
    finally:
        connection.close()


def ingest_workers(settings: Settings, feeds: int) -> int:
    """Feeds read side by side by the command line: ``ingest_workers`` (HOME/config.yaml
    or PIPELINE_INGEST_WORKERS), by default one per core, at most two (each worker holds
    a feed's rows in memory). Under Airflow every feed is a task of its own anyway."""
    workers = settings.ingest_workers or min(2, os.cpu_count() or 1)
    return max(1, min(workers, feeds))


def _ingest_in_worker(
    spec: FeedSpec, settings: Settings, business_date: date
) -> tuple[Path, dict[str, timings.Figure]]:
    recorder = timings.restart_in_worker()
    path = ingest_one(spec, settings, business_date)
    return path, (recorder.figures if recorder is not None else {})


def ingest_in_parallel(
    registry: dict[str, FeedSpec],
    settings: Settings,
    business_date: date,
    workers: int,
    tell: Callable[[str], None],
) -> None:
    """Every feed's ingest, ``workers`` at a time in child processes, largest first (the
    feed steps share nothing but HOME, and each writes only its own files)."""
    ordered = sorted(
        registry.values(),
        key=lambda spec: -arrival_size(spec, settings.inbox, business_date),
    )
    # fork: the workers start with this process's imports (pandas, DuckDB) in place.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {
            pool.submit(_ingest_in_worker, spec, settings, business_date): spec for spec in ordered
        }
        for future in as_completed(futures):
            _, figures = future.result()
            timings.merge_from_worker(figures)
            tell(f"读取 {futures[future].title}")


def raise_and_publish(
    settings: Settings,
    business_date: date,
    registry: dict[str, FeedSpec],
    plans: dict[str, FeedPlan],
    progress: Callable[[str], None] | None = None,
) -> tuple[DayResult, float]:
    """Signals, alerts and the outbox over the warehouse as loaded: by partition when the
    deployment declares partitions, else for the district (keeping the alerts and
    workbooks of a rerun whose inputs are unchanged). ``run``, ``load`` and ``feedback``
    all end here. Returns the day and when its alerts were raised (``perf_counter``)."""
    tell = progress or (lambda _: None)
    partitions = settings.partitions
    if partitions:
        # A partitioned deployment (partitions in HOME/config.yaml) runs its partitions one
        # after another here; under Airflow each is a task of its own.
        from pipeline.partitions.run import check_coverage, merge_partitions, raise_partition

        check_coverage(settings, partitions)
        for partition in partitions:
            tell(f"研判预警（分区 {partition.name}）")
            raise_partition(settings, business_date, partition, partitions, registry)
        alerted = time.perf_counter()
        tell("合并分区，输出日报")
        return merge_partitions(settings, business_date, partitions, registry), alerted
    digest = rerun.inputs_digest(settings, business_date, plans)
    kept = rerun.kept_day(settings, business_date, digest)
    rerun.forget(settings, business_date)  # until this run is complete
    if kept is not None:
        tell("输入与上次运行相同，沿用预警与核实表")
        log.info(
            "%s: inputs unchanged since its last run; alerts and workbooks kept", business_date
        )
        alerts = AlertsOutcome(kept.signals, kept.alerts)
    else:
        tell("研判预警")
        alerts = raise_alerts(settings, business_date, registry=registry)
    alerted = time.perf_counter()
    tell("输出核实表与日报")
    result = publish_outbox(
        settings,
        business_date,
        registry,
        plans,
        alerts,
        township_files=kept.township_files if kept is not None else None,
    )
    rerun.remember(settings, business_date, digest, alerts.signals, alerts.alerts)
    return result, alerted


def run_day(
    settings: Settings,
    business_date: date,
    registry: dict[str, FeedSpec] | None = None,
    progress: Callable[[str], None] | None = None,
) -> DayResult:
    """The whole daily job for ``business_date``; ``progress`` hears what it is doing."""
    registry = registry or load_registry()
    tell = progress or (lambda _: None)
    started = time.perf_counter()
    _require_inbox(settings)
    workers = ingest_workers(settings, len(registry))
    if workers > 1:
        ingest_in_parallel(registry, settings, business_date, workers, tell)
    else:
        for spec in registry.values():
            tell(f"读取 {spec.title}")
            ingest_one(spec, settings, business_date)
    ingested = time.perf_counter()
    tell("入库")
    with stage("warehouse"):
        outcome = load.load_run(settings.home, business_date, registry)
    loaded = time.perf_counter()
    result, alerted = raise_and_publish(settings, business_date, registry, outcome.plans, tell)
    log.info(
        "business date %s done in %.1f s (ingest %.1f s, warehouse load %.1f s, signals and alerts %.1f s, "
        "outbox %.1f s): %s",
        business_date,
        time.perf_counter() - started,
        ingested - started,
        loaded - ingested,
        alerted - loaded,
        time.perf_counter() - alerted,
        result.outbox,
    )
    return result
