"""The day's outbox, written from the warehouse: each file whole or not at all.

District files (alerts.csv, overdue.csv, the feedback rejections, regional warnings,
comparisons, on their days the elimination list and the previous month's assessment), the
township workbooks and comparison workbooks, the quarantine, the manifest, the report and,
once the outbox is complete, the review tables of the BI tool. docs/outputs.md describes every file.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlalchemy as sa

from pipeline.alerts.lifecycle import AlertReport, open_alerts
from pipeline.alerts.raising import AlertsOutcome
from pipeline.alerts.rules import Rules
from pipeline.assessment import monthly_assessment_files, precision_warnings
from pipeline.assistance.outputs import ASSISTANCE_CSV, assistance_figures, listed_cases
from pipeline.comparisons import (
    comparison_findings,
    write_comparison_workbooks,
    write_comparisons_csv,
)
from pipeline.dispatch.workbooks import overdue_alerts, write_township_workbooks
from pipeline.elimination.candidates import elimination_candidates, is_list_day
from pipeline.feeds.registry import FeedSpec
from pipeline.ingest import FeedPlan
from pipeline.linkage.leads import unmatched_leads
from pipeline.linkage.rows import linkage_candidates
from pipeline.manifest import build_manifest
from pipeline.outbox import atomic_write_bytes, atomic_write_text, csv_bytes
from pipeline.regional.warnings import regional_warnings
from pipeline.report.figures import daily_figures
from pipeline.report.page import write_report_beside
from pipeline.review.feed_health import feed_health
from pipeline.review.publish import publish_review_tables, review_url, safe_url
from pipeline.settings import Settings
from pipeline.timings import stage
from pipeline.vocabulary import ReturnStatus
from pipeline.warehouse import load
from pipeline.warehouse.ledger import connect_read_only

log = logging.getLogger(__name__)

QUARANTINE_MODE = 0o640  # personal data for the data engineers: owner and group only


@dataclass(frozen=True)
class DayResult:
    business_date: date
    outbox: Path
    manifest: dict[str, Any]


def publish_township_files(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
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
    written = write_township_workbooks(connection, rules, business_date, folder)
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
    rules: Rules,
    business_date: date,
    outbox: Path,
    report: AlertReport,
) -> tuple[dict[str, str], pd.DataFrame]:
    """alerts.csv, overdue.csv, the feedback rejections and the district's files; and the
    day's comparison findings, for the townships' comparison workbooks."""
    rejected = pd.DataFrame(
        report.feedback_rejected,
        columns=["township_code", "file", "sheet", "row", "alert_id", "case_id", "reason"],
    ).astype({"row": "Int64"})
    files = {
        "alerts.csv": open_alerts(connection),
        # docs/assistance.md, "The assistance ledger".
        ASSISTANCE_CSV: listed_cases(connection, rules, business_date),
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
    unmatched = unmatched_leads(connection, business_date)
    if unmatched is not None:
        # docs/outputs.md, "leads_unmatched.csv": names and phones as callers gave them, for
        # the bureau's staff only (owner and group, as the quarantine).
        outputs["leads_unmatched.csv"] = atomic_write_bytes(
            outbox / "leads_unmatched.csv", csv_bytes(unmatched), mode=QUARANTINE_MODE
        )
    candidates = linkage_candidates(connection, business_date)
    if candidates is not None:
        # docs/outputs.md, "linkage_candidates.csv": the data engineer's, as the quarantine.
        outputs["linkage_candidates.csv"] = atomic_write_bytes(
            outbox / "linkage_candidates.csv", csv_bytes(candidates), mode=QUARANTINE_MODE
        )
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
        # Verification rows and ledger rows (帮扶台账) that changed something.
        "rows_applied": alerts.alerts.verified
        + alerts.alerts.assistance.get("ledger_rows_applied", 0),
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
    rules: Rules,
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
                    connection, rules, business_date, outbox, alerts.alerts
                )
                outputs.update(district_files)
                # On its day, the previous month's assessment (docs/assistance.md, "Assessment").
                outputs.update(monthly_assessment_files(connection, rules, business_date, outbox))
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
                # A rule to recalibrate (docs/assistance.md, "Rule precision").
                manifest["warnings"].extend(precision_warnings(connection, rules, business_date))
                _add_district_summary(manifest, outbox)
                manifest["assistance"] = assistance_figures(outbox / ASSISTANCE_CSV, alerts.alerts)
        # daily_report: false (HOME/config.yaml or PIPELINE_DAILY_REPORT) skips the
        # report's two seconds of drawing, for a deployment that has no use for it.
        if alerts is not None and settings.daily_report:
            with stage("report"):
                health = feed_health(connection, business_date, manifest, registry)
                figures = daily_figures(
                    connection,
                    rules,
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
                        connection, rules, business_date, outbox, findings=findings
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
            _publish_review(settings, rules, business_date, manifest, connect)
    return DayResult(business_date, outbox, manifest)


class ReviewDatabaseUnavailable(ConnectionError):
    """The BI tool's database refused: transient, worth a retry; the outbox is complete."""


def _publish_review(
    settings: Settings,
    rules: Rules,
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
        publish_review_tables(connection, business_date, manifest, url, rules)
    except sa.exc.OperationalError as error:
        raise ReviewDatabaseUnavailable(
            f"审阅库 {safe_url(url)} 不可用（{type(error.orig).__name__}）；"
            f"{business_date} 的 outbox 已完整写出，审阅表稍后重发即可"
        ) from error
    finally:
        connection.close()
