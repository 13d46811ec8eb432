"""The day, composed: the one place that says what a business date's run does, in order.

    ingest (one step per feed) → load_warehouse → raise_alerts → publish

``run_day`` calls these steps in that order in one process (``python -m pipeline
run``); the CLI verbs ``ingest``, ``load`` and ``feedback`` call some of them; the
Airflow DAGs call each as a task of its own. Each step takes the frozen ``Day`` (the
settings, the date, the feed registry, the rules and the partitions, loaded once) and
hands its results to the next through ``HOME/runs/<date>/`` (``pipeline.runs``), so any
step can run in another process, or again alone.

``raise_alerts`` raises the district's alerts, or each partition's in a partitioned
deployment; for the district it keeps the alerts and township workbooks of the last
complete run of the date when none of the inputs changed (``pipeline.rerun``), whoever
runs it. ``publish`` writes the outbox from what ``raise_alerts`` reported (merging the
partitions when there are some).

Adding a step to the day is adding a function here and calling it from ``run_day`` (and
wiring a task for it in ``dags/fpwarn_daily.py``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pipeline import timings
from pipeline.alerts.rules import Rules, load_rules
from pipeline.feeds.arrival import arrival_size, check_arrival
from pipeline.feeds.inbox import InboxMissing, require_inbox
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.partitions.config import Partition
from pipeline.runs import RunFolder
from pipeline.settings import Settings, load_settings

# Under a scheduler every step is a process of its own: the light steps (business date,
# feed list, awaiting a delivery) must not pay for pandas, DuckDB and Great Expectations
# (seconds per process), so the heavy modules are imported by the steps that use them.
if TYPE_CHECKING:
    from pipeline.dispatch.publish import DayResult
    from pipeline.ingest import FeedPlan

CHINA = ZoneInfo("Asia/Shanghai")

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class StepError(RuntimeError):
    """A step that cannot run with the arguments it was given."""


@dataclass(frozen=True)
class Day:
    """One business date of one deployment: everything its steps read, loaded once."""

    settings: Settings
    business_date: date
    registry: dict[str, FeedSpec]
    rules: Rules
    partitions: tuple[Partition, ...]

    @classmethod
    def of(
        cls,
        settings: Settings,
        business_date: date,
        registry: dict[str, FeedSpec] | None = None,
        rules: Rules | None = None,
    ) -> Day:
        return cls(
            settings,
            business_date,
            registry if registry is not None else load_registry(),
            rules if rules is not None else load_rules(),
            tuple(settings.partitions),
        )

    @property
    def runs(self) -> RunFolder:
        return RunFolder.of(self.settings.home, self.business_date)

    @property
    def outbox(self) -> Path:
        return self.settings.home.outbox(self.business_date)

    def spec(self, feed: str) -> FeedSpec:
        if feed not in self.registry:
            raise StepError(f"unknown feed {feed!r}; known: {', '.join(self.registry)}")
        return self.registry[feed]

    def partition(self, name: str) -> Partition:
        for partition in self.partitions:
            if partition.name == name:
                return partition
        declared = ", ".join(partition.name for partition in self.partitions)
        raise StepError(f"unknown partition {name!r}; declared: {declared or '(none)'}")


def settings_for(
    inbox: str | Path | None, home: str | Path | None, overrides: dict[str, str] | None = None
) -> Settings:
    """Explicit paths, else ``PIPELINE_INBOX`` / ``PIPELINE_HOME`` of the worker's
    environment. ``overrides`` are settings the scheduler resolved itself (the claims
    database of an Airflow connection); they win over ``HOME/config.yaml``."""
    inbox = inbox or os.environ.get("PIPELINE_INBOX")
    home = home or os.environ.get("PIPELINE_HOME")
    if not inbox or not home:
        raise StepError(
            "inbox and home are needed: pass them, or set PIPELINE_INBOX and PIPELINE_HOME"
        )
    settings = load_settings(Path(home), Path(inbox))
    if overrides:
        settings = replace(settings, values={**settings.values, **overrides})
    return settings


def open_day(
    business_date: str | date,
    inbox: str | Path | None = None,
    home: str | Path | None = None,
    overrides: dict[str, str] | None = None,
) -> Day:
    """The ``Day`` of a scheduler task: its date as text, its folders from the params or
    the environment."""
    day = business_date if isinstance(business_date, date) else _parse_date(business_date)
    return Day.of(settings_for(inbox, home, overrides), day)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError as error:
        raise StepError(f"business_date is not a date (YYYY-MM-DD): {text!r}") from error


# -- the scheduler's light steps ---------------------------------------------------------


def business_date(requested: str | None, run_date: datetime) -> str:
    """The date to process: the one asked for, else the day before ``run_date`` in China
    time (the 06:30 run processes what the departments delivered for yesterday).
    ``run_date`` is the run's logical date, or when it has none (a manual run) the time it
    was triggered for."""
    if requested:
        return _parse_date(requested).isoformat()
    local = run_date.astimezone(CHINA) if run_date.tzinfo else run_date
    return (local.date() - timedelta(days=1)).isoformat()


def feeds() -> list[str]:
    """The registry's feeds: one ingest task each."""
    return list(load_registry())


def await_delivery(day: Day, feed: str) -> dict[str, str]:
    """Whether ``feed``'s delivery for the day has arrived, is still awaited or is overdue
    (``state`` and a Chinese ``message`` for the scheduler's log)."""
    arrival = check_arrival(
        day.spec(feed), day.settings.inbox, day.business_date, datetime.now(CHINA)
    )
    log.log(logging.WARNING if arrival.state == "overdue" else logging.INFO, arrival.message)
    return {"feed": feed, "state": arrival.state, "message": arrival.message}


# -- ingest ------------------------------------------------------------------------------


def ingest(day: Day, feed: str, *, retry_transient: bool = False) -> Path:
    """One feed's deliveries for the day, staged, with its plan in ``HOME/runs/<date>/``.

    A fault in one feed is reported in its plan and never stops the day. With
    ``retry_transient`` (a scheduler's task) a database that cannot be reached raises
    instead, so the task is retried with backoff. A file feed without the inbox folder
    raises ``InboxMissing``: that is no department's fault, and no day to go on with.
    """
    return _ingest(day.spec(feed), day.settings, day.business_date, retry_transient)


def _ingest(spec: FeedSpec, settings: Settings, business_date: date, retry_transient: bool) -> Path:
    from pipeline.feeds.sql_source import SourceUnavailable
    from pipeline.ingest import FeedPlan, ingest_feed
    from pipeline.outbox import atomic_write_text
    from pipeline.warehouse.ledger import WarehouseCorrupt

    feed = spec.feed
    if spec.is_file_feed:
        _require_inbox(settings)
    try:
        return ingest_feed(spec, settings, business_date)
    except SourceUnavailable as error:
        if retry_transient:
            raise
        log.warning("%s: source unavailable: %s", feed, error)
        reason = str(error)
    except WarehouseCorrupt:
        raise  # the whole day stops, with the one line that says how to rebuild
    except Exception as error:
        # The message may quote a value from the data: the log gets the type and the stack.
        log.error(
            "%s: ingest failed with %s\n%s",
            feed,
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        reason = f"读取时发生内部错误（{type(error).__name__}），详见日志"
    plan = FeedPlan(feed, business_date.isoformat(), [], unavailable=reason)
    path = RunFolder.of(settings.home, business_date).feed_plan(feed)
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


def ingest_workers(settings: Settings, feeds: int) -> int:
    """Feeds read side by side by ``run_day``: ``ingest_workers`` (HOME/config.yaml or
    PIPELINE_INGEST_WORKERS), by default one per core, at most two (each worker holds a
    feed's rows in memory). Under Airflow every feed is a task of its own anyway."""
    workers = settings.ingest_workers or min(2, os.cpu_count() or 1)
    return max(1, min(workers, feeds))


def ingest_all(day: Day, progress: Progress | None = None) -> None:
    """Every feed's ingest: side by side in worker processes, largest delivery first (the
    feed steps share nothing but HOME, and each writes only its own files), or one after
    another with one worker."""
    tell = progress or _silent
    _require_inbox(day.settings)
    workers = ingest_workers(day.settings, len(day.registry))
    if workers == 1:
        for spec in day.registry.values():
            tell(f"读取 {spec.title}")
            ingest(day, spec.feed)
        return
    ordered = sorted(
        day.registry.values(),
        key=lambda spec: -arrival_size(spec, day.settings.inbox, day.business_date),
    )
    # fork: the workers start with this process's imports (pandas, DuckDB) in place.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {
            pool.submit(_ingest_in_worker, spec, day.settings, day.business_date): spec
            for spec in ordered
        }
        for future in as_completed(futures):
            timings.merge_from_worker(future.result())
            tell(f"读取 {futures[future].title}")


def _ingest_in_worker(
    spec: FeedSpec, settings: Settings, business_date: date
) -> dict[str, timings.Figure]:
    # What a worker needs, and no more, crosses to it (the rules stay here).
    recorder = timings.restart_in_worker()
    _ingest(spec, settings, business_date, retry_transient=False)
    return recorder.figures if recorder is not None else {}


# -- warehouse ---------------------------------------------------------------------------


def load_warehouse(day: Day) -> dict[str, FeedPlan]:
    """Load what the feed steps staged, in one transaction; returns the plans as loaded."""
    from pipeline.warehouse import load

    with timings.stage("warehouse"):
        return load.load_run(
            day.settings.home, day.business_date, day.registry, day.rules.linkage
        ).plans


# -- signals and alerts ------------------------------------------------------------------


def check_partitions(day: Day) -> list[str]:
    """The partitions' names, one task each (empty when the district runs whole), the day's
    leads linked for them; refuses a deployment in which some registered township is in no
    partition."""
    from pipeline.partitions.run import check_coverage

    if day.partitions:
        check_coverage(day.settings, list(day.partitions))
        link_leads(day)
    return [partition.name for partition in day.partitions]


def link_leads(day: Day) -> None:
    """A partitioned run's leads, linked once against the whole district's registry (a
    partition sees only its own members) before the partitions raise their alerts."""
    if "lead" not in day.rules.categories:
        return
    from pipeline.signals.build import link_district_leads
    from pipeline.warehouse import load

    with timings.stage("signals"), load.connect(day.settings.home) as connection:
        link_district_leads(connection, day.rules, day.business_date)


def raise_alerts(day: Day, progress: Progress | None = None) -> None:
    """Signals, the returned workbooks and the alert lifecycle over the warehouse as
    loaded: each partition's in a partitioned deployment, else the district's, where a
    rerun whose inputs are unchanged keeps the alerts and workbooks of its last complete
    run. What it did is handed to ``publish`` in ``HOME/runs/<date>/``."""
    tell = progress or _silent
    if day.partitions:
        # Under Airflow each partition is a task of its own (raise_partition).
        check_partitions(day)
        for partition in day.partitions:
            tell(f"研判预警（分区 {partition.name}）")
            raise_partition(day, partition.name)
        return
    from pipeline import rerun
    from pipeline.alerts.raising import raise_alerts_in
    from pipeline.feedback.returns import read_returns
    from pipeline.runs import RaisedDay, start_raising, write_raised
    from pipeline.warehouse import load

    plans = load.read_plans(day.settings.home, day.business_date, day.registry)
    digest = rerun.inputs_digest(day.settings, day.business_date, plans)
    kept = rerun.kept_day(day.settings, day.business_date, digest)
    start_raising(day.runs)
    if kept is not None:
        tell("输入与上次运行相同，沿用预警与核实表")
        log.info(
            "%s: inputs unchanged since its last run; alerts and workbooks kept",
            day.business_date,
        )
        write_raised(day.runs, replace(kept, digest=digest))
        return
    tell("研判预警")
    returns = read_returns(day.settings.inbox)
    with load.connect(day.settings.home) as connection:
        outcome = raise_alerts_in(connection, day.rules, day.business_date, returns, day.registry)
    write_raised(day.runs, RaisedDay(outcome.signals, outcome.alerts, digest))


def raise_partition(day: Day, partition: str) -> Path:
    """One partition's signals, alerts and township files; returns its report's path."""
    from pipeline.partitions.run import raise_partition as raise_one

    return raise_one(
        day.settings,
        day.rules,
        day.business_date,
        day.partition(partition),
        list(day.partitions),
        day.registry,
    )


# -- outbox ------------------------------------------------------------------------------


def publish(day: Day, progress: Progress | None = None) -> DayResult:
    """The day's outbox: alerts, workbooks, quarantine, manifest, report, review tables;
    in a partitioned deployment, the merge of the partitions. Marks the date complete
    (a rerun with the same inputs may keep its alerts)."""
    from pipeline.alerts.raising import AlertsOutcome
    from pipeline.dispatch.publish import publish_outbox
    from pipeline.runs import read_raised, write_complete
    from pipeline.warehouse import load

    tell = progress or _silent
    if day.partitions:
        tell("合并分区，输出日报")
        from pipeline.partitions.run import merge_partitions

        return merge_partitions(
            day.settings, day.rules, day.business_date, list(day.partitions), day.registry
        )
    tell("输出核实表与日报")
    raised = read_raised(day.runs)
    if raised is None:
        raise StepError(f"{day.business_date} 的预警尚未研判：请先运行 raise_alerts")
    plans = load.read_plans(day.settings.home, day.business_date, day.registry)
    result = publish_outbox(
        day.settings,
        day.rules,
        day.business_date,
        day.registry,
        plans,
        AlertsOutcome(raised.signals, raised.alerts),
        township_files=raised.kept_township_files,
    )
    if raised.digest is not None:
        write_complete(day.runs, raised.digest)
    return result


# -- the whole day -----------------------------------------------------------------------


def run_day(
    settings: Settings,
    business_date: date,
    registry: dict[str, FeedSpec] | None = None,
    progress: Progress | None = None,
) -> DayResult:
    """The whole daily job for ``business_date`` in this process; ``progress`` hears
    what it is doing."""
    day = Day.of(settings, business_date, registry)
    tell = progress or _silent
    started = time.perf_counter()
    ingest_all(day, tell)
    ingested = time.perf_counter()
    tell("入库")
    load_warehouse(day)
    loaded = time.perf_counter()
    raise_alerts(day, tell)
    alerted = time.perf_counter()
    result = publish(day, tell)
    log.info(
        "business date %s done in %.1f s (ingest %.1f s, warehouse load %.1f s, "
        "signals and alerts %.1f s, outbox %.1f s): %s",
        business_date,
        time.perf_counter() - started,
        ingested - started,
        loaded - ingested,
        alerted - loaded,
        time.perf_counter() - alerted,
        result.outbox,
    )
    return result


def latest_business_date(settings: Settings) -> str | None:
    """The newest business date whose alerts were raised, or None before the first run and
    while a daily run is between loading the warehouse and raising that day's alerts (its
    own raising will apply the returned workbooks)."""
    import duckdb

    from pipeline.warehouse.ledger import connect_read_only

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


def _silent(_: str) -> None:
    pass
