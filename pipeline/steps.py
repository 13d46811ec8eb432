"""The daily job as steps a scheduler runs one by one, each possibly in its own process.

Arguments and results are strings and lists (dates, paths, feed names), never
DataFrames: what passes between Airflow tasks stays small. Every step reads its
inputs from HOME and writes its results there, so a step can be rerun alone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.feeds.arrival import check_arrival
from pipeline.feeds.registry import load_registry
from pipeline.settings import Settings, load_settings

# Under a scheduler every step is a process of its own: the light steps (business date,
# feed list, awaiting a delivery) must not pay for pandas, DuckDB and Great Expectations
# (seconds per process), so the heavy modules are imported by the steps that use them.

CHINA = ZoneInfo("Asia/Shanghai")

log = logging.getLogger(__name__)


class StepError(RuntimeError):
    """A step that cannot run with the arguments it was given."""


def settings_for(inbox: str | None, home: str | None) -> Settings:
    """Explicit paths, else ``PIPELINE_INBOX`` / ``PIPELINE_HOME`` of the worker's environment."""
    inbox = inbox or os.environ.get("PIPELINE_INBOX")
    home = home or os.environ.get("PIPELINE_HOME")
    if not inbox or not home:
        raise StepError(
            "inbox and home are needed: pass them, or set PIPELINE_INBOX and PIPELINE_HOME"
        )
    return load_settings(Path(home), Path(inbox))


def business_date(requested: str | None, run_date: datetime) -> str:
    """The date to process: the one asked for, else the day before ``run_date`` in China
    time (the 06:30 run processes what the departments delivered for yesterday).
    ``run_date`` is the run's logical date, or when it has none (a manual run) the time it
    was triggered for."""
    if requested:
        try:
            return date.fromisoformat(str(requested)).isoformat()
        except ValueError as error:
            raise StepError(f"business_date is not a date (YYYY-MM-DD): {requested!r}") from error
    local = run_date.astimezone(CHINA) if run_date.tzinfo else run_date
    return (local.date() - timedelta(days=1)).isoformat()


def feeds() -> list[str]:
    """The registry's feeds: one ingest task each."""
    return list(load_registry())


def ingest(
    feed: str,
    day: str,
    inbox: str | None = None,
    home: str | None = None,
    overrides: dict[str, str] | None = None,
) -> str:
    """One feed's deliveries for ``day``; a database that refuses raises (worth a retry).

    ``overrides`` are settings the scheduler resolved itself (the claims database URL of
    an Airflow connection); they win over ``HOME/config.yaml``.
    """
    registry = load_registry()
    if feed not in registry:
        raise StepError(f"unknown feed {feed!r}")
    from pipeline.daily import ingest_one

    settings = settings_for(inbox, home)
    if overrides:
        settings = replace(settings, values={**settings.values, **overrides})
    return str(ingest_one(registry[feed], settings, date.fromisoformat(day), retry_transient=True))


def build_warehouse(day: str, inbox: str | None = None, home: str | None = None) -> str:
    """Load what the feeds staged, in one transaction."""
    from pipeline.warehouse import load

    settings = settings_for(inbox, home)
    load.load_run(settings.home, date.fromisoformat(day), load_registry())
    return str(settings.home.warehouse)


def partitions(day: str, inbox: str | None = None, home: str | None = None) -> list[str]:
    """The partitions of a partitioned deployment, one task each (empty when the district
    runs whole); refuses a run in which some registered township is in no partition."""
    from pipeline.partitions.run import check_coverage

    settings = settings_for(inbox, home)
    declared = settings.partitions
    if declared:
        check_coverage(settings, declared)
    return [partition.name for partition in declared]


def is_partitioned(inbox: str | None = None, home: str | None = None) -> bool:
    return bool(settings_for(inbox, home).partitions)


def raise_partition(
    partition: str, day: str, inbox: str | None = None, home: str | None = None
) -> str:
    """One partition's signals, alerts and township files."""
    from pipeline.partitions.run import raise_partition as raise_one

    settings = settings_for(inbox, home)
    declared = settings.partitions
    by_name = {item.name: item for item in declared}
    if partition not in by_name:
        raise StepError(f"unknown partition {partition!r}; declared: {', '.join(by_name)}")
    return str(
        raise_one(settings, date.fromisoformat(day), by_name[partition], declared, load_registry())
    )


def signals_and_alerts(day: str, inbox: str | None = None, home: str | None = None) -> str:
    """Signals, returned workbooks and the alert lifecycle; the report is kept for publishing."""
    from pipeline.daily import raise_alerts
    from pipeline.rerun import write_alert_report

    settings = settings_for(inbox, home)
    business = date.fromisoformat(day)
    outcome = raise_alerts(settings, business, registry=load_registry())
    return str(write_alert_report(settings, business, outcome.signals, outcome.alerts))


def publish(day: str, inbox: str | None = None, home: str | None = None) -> str:
    """The outbox of ``day``: alerts, workbooks, quarantine, manifest."""
    from pipeline.daily import AlertsOutcome, publish_outbox
    from pipeline.rerun import read_alert_report
    from pipeline.warehouse import load

    settings = settings_for(inbox, home)
    business = date.fromisoformat(day)
    registry = load_registry()
    declared = settings.partitions
    if declared:
        from pipeline.partitions.run import merge_partitions

        return str(merge_partitions(settings, business, declared, registry).outbox)
    outcome = AlertsOutcome(*read_alert_report(settings, business))
    plans = load.read_plans(settings.home, business, registry)
    return str(publish_outbox(settings, business, registry, plans, outcome).outbox)


def latest_business_date(inbox: str | None = None, home: str | None = None) -> str | None:
    """The newest business date whose alerts were raised, or None before the first run and
    while a daily run is between loading the warehouse and raising that day's alerts (its
    own raising will apply the returned workbooks)."""
    import duckdb

    from pipeline.warehouse.ledger import connect_read_only

    settings = settings_for(inbox, home)
    if settings.partitions:
        log.info("分区部署：核实结果由每日运行的各分区处理")
        return None
    connection = connect_read_only(settings.home)
    if connection is None:
        return None
    with connection:
        try:
            raised, loaded = connection.execute(
                "select (select max(as_of_date) from alerts.runs), "
                "(select max(loaded_for_date) from meta.deliveries)"
            ).fetchone() or (None, None)
        except duckdb.CatalogException:
            return None
    if raised is None:
        return None
    if loaded is not None and loaded > raised:
        log.info("%s 的日常运行尚未出预警：核实结果留待该运行处理", loaded.isoformat())
        return None
    return str(raised.isoformat())


def await_delivery(
    feed: str, day: str, inbox: str | None = None, home: str | None = None
) -> dict[str, str]:
    """Whether ``feed``'s delivery for ``day`` has arrived, is still awaited or is overdue
    (``state`` and a Chinese ``message`` for the scheduler's log)."""
    registry = load_registry()
    if feed not in registry:
        raise StepError(f"unknown feed {feed!r}")
    settings = settings_for(inbox, home)
    arrival = check_arrival(
        registry[feed], settings.inbox, date.fromisoformat(day), datetime.now(CHINA)
    )
    log.log(logging.WARNING if arrival.state == "overdue" else logging.INFO, arrival.message)
    return {"feed": feed, "state": arrival.state, "message": arrival.message}
