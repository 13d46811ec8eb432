"""Signals → alerts in one warehouse transaction: the heart of a day.

The signal steps, the alert lifecycle with the returned workbooks, the assistance
cases, the regional warnings and the data comparison all read and write one DuckDB
connection (the district warehouse, or a partition's) and commit together, so a fault
leaves the alerts as they were the day before.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date

import duckdb

from pipeline.alerts.lifecycle import AlertReport, update_alerts
from pipeline.alerts.rules import Rules
from pipeline.assistance.cases import update_cases
from pipeline.comparisons import build_comparisons
from pipeline.feedback.returns import ReturnedWorkbook
from pipeline.feeds.registry import FeedSpec
from pipeline.regional.warnings import update_regional
from pipeline.signals.build import SignalReport, build_signals
from pipeline.timings import stage


@dataclass(frozen=True)
class AlertsOutcome:
    signals: SignalReport
    alerts: AlertReport


def raise_alerts_in(
    connection: duckdb.DuckDBPyConnection,
    rules: Rules,
    business_date: date,
    returns: list[ReturnedWorkbook],
    registry: dict[str, FeedSpec],
    *,
    district: bool = True,
) -> AlertsOutcome:
    """Signals, alerts, regional warnings and comparisons in one transaction of
    ``connection``; for the whole ``district``, the signals' data-quality checks and the
    linkage of the day's leads too (a partition leaves the checks to the merge, which sees
    every household, and reads the leads as linked for the district). The caller closes
    the connection; a fault rolls the transaction back."""
    connection.begin()
    try:
        with stage("signals"):
            signals = build_signals(
                connection, rules, business_date, registry, checks=district, link_leads=district
            )
        with stage("alerts"):
            alerts = update_alerts(connection, rules, business_date, returns)
        with stage("assistance"):
            # The assistance cases the day's verifications open and its ledger rows fill.
            update_cases(connection, rules, business_date, returns, alerts)
        with stage("alerts"):
            update_regional(connection, rules, business_date)
            build_comparisons(connection, rules, business_date, in_transaction=True)
        connection.commit()
    except BaseException:
        with suppress(duckdb.Error):  # the fault that got us here is the one to report
            connection.rollback()
        raise
    return AlertsOutcome(signals, alerts)
