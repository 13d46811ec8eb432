"""The DAG ``fpwarn_daily``: wiring only; its documentation is the docstring of the DAG
function, which the Airflow UI shows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pendulum
from airflow.sdk import (
    Context,
    Param,
    PokeReturnValue,
    dag,
    get_current_context,
    task,
    task_group,
)
from airflow.sdk.exceptions import AirflowSkipException
from fpwarn_shared import DEFAULT_ARGS, OUTBOX, WAREHOUSE_POOL

CLAIMS_CONNECTION = "fpwarn_med_claims"

log = logging.getLogger(__name__)


def claims_connection() -> dict[str, str]:
    """The claims database of the Airflow connection ``fpwarn_med_claims``, when there is one
    (``AIRFLOW_CONN_FPWARN_MED_CLAIMS`` is its environment form)."""
    from airflow.sdk import Connection

    from pipeline.feeds.sql_source import url_from_connection

    try:
        connection = Connection.get(CLAIMS_CONNECTION)
    except Exception:  # not defined: HOME/config.yaml or PIPELINE_MED_CLAIMS_URL apply
        return {}
    url = url_from_connection(
        connection.conn_type,
        host=connection.host,
        login=connection.login,
        password=connection.password,
        port=connection.port,
        schema=connection.schema,
        extra=connection.extra_dejson,
    )
    return {"med_claims_url": url}


def run_date(context: Context) -> datetime:
    """The run's logical date; a manual run may have none (Airflow 3), and then the time
    it was triggered for (``run_after``) stands in."""
    return context.get("logical_date") or context["dag_run"].run_after


@dag(
    dag_id="fpwarn_daily",
    description="防止返贫动态监测：部门数据入库、分类分级预警、乡镇核实表",
    schedule="30 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    # Day D's alerts build on day D-1's: one scheduled run at a time (previous_run_finished
    # holds back the runs of a backfill, which Airflow does not count here).
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fpwarn", "daily"],
    params={
        # format date: the trigger form offers a date picker, and Airflow refuses a run
        # whose business_date is no date (2026-02-30) before it starts.
        "business_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="业务日期",
            description="要处理的业务日期（YYYY-MM-DD）；留空则为运行日期（北京时间）的前一天",
        ),
        "inbox": Param(None, type=["null", "string"], description="default: PIPELINE_INBOX"),
        "home": Param(None, type=["null", "string"], description="default: PIPELINE_HOME"),
    },
)
def fpwarn_daily() -> None:
    """The daily early-warning run: every feed in parallel, then warehouse, alerts, outbox.

    This file only wires steps of ``pipeline.steps``; nothing is read or computed when
    it is imported. The 06:30 run processes the business date before its logical date
    (China time) unless the ``business_date`` param says otherwise; a manual run without a
    logical date (Airflow 3) goes by its ``run_after`` instead. INBOX and HOME come
    from the params or the workers' ``PIPELINE_INBOX`` / ``PIPELINE_HOME``. A run starts
    its work once the run before it has ended, backfills included.

    Per feed (one mapped task group, labelled with the feed's name): ``await_delivery``
    waits for a daily feed until its deadline and is *skipped* with the late department
    named when the deadline passes; ``ingest`` runs either way, so a missing feed is
    reported in the manifest and the run goes on with what arrived. The steps that open
    the DuckDB warehouse share the one-slot pool ``fpwarn_warehouse`` with the feedback
    DAG (config/airflow/pools.json). A partitioned deployment (``partitions`` in
    HOME/config.yaml) raises its alerts in one ``raise_partition`` task per partition, side by
    side, and ``publish`` merges them; otherwise ``signals_and_alerts`` does it in one task. Faults that pass (a database refusing connections,
    the warehouse busy) are retried with backoff; anything else fails at once.
    """

    @task.sensor(
        mode="reschedule",
        poke_interval=timedelta(seconds=30).total_seconds(),
        timeout=timedelta(hours=12).total_seconds(),
    )
    def previous_run_finished() -> PokeReturnValue:
        """Day D's alerts build on day D-1's, and its claims window on D-1's pull: a run
        starts once the run before it (by logical date) has ended. max_active_runs does
        this for scheduled runs; a backfill runs up to ten at once unless held here."""
        context = get_current_context()
        ti = context["ti"]
        # get_previous_dagrun finds nothing for a run without a logical date (a manual run
        # in Airflow 3): the run before it is found by the time it was triggered instead.
        previous = ti.get_previous_ti(logical_date=run_date(context))
        state = ti.get_dagrun_state(ti.dag_id, previous.run_id) if previous else None
        running = state in ("queued", "running")
        if running and previous:
            log.info("等待前一次运行（%s）结束：每日预警以前一日的结果为基础", previous.run_id)
        return PokeReturnValue(is_done=not running)

    @task
    def business_date() -> str:
        from pipeline import steps

        context = get_current_context()
        return steps.business_date(context["params"]["business_date"], run_date(context))

    @task
    def feeds() -> list[str]:
        from pipeline import steps

        return steps.feeds()

    @task_group
    def feed(feed: str, day: str) -> None:
        @task.sensor(
            mode="reschedule",
            poke_interval=timedelta(minutes=5).total_seconds(),
            # A backstop only: the feed's own deadline ends the wait first.
            timeout=timedelta(hours=12).total_seconds(),
            soft_fail=True,
            map_index_template="{{ feed }}",
        )
        def await_delivery(feed: str, day: str) -> PokeReturnValue:
            from pipeline import steps

            context = get_current_context()
            context["feed"] = feed  # type: ignore[typeddict-unknown-key]
            params = context["params"]
            arrival = steps.await_delivery(
                steps.open_day(day, params["inbox"], params["home"]), feed
            )
            if arrival["state"] == "overdue":
                raise AirflowSkipException(arrival["message"])
            return PokeReturnValue(
                is_done=arrival["state"] != "waiting", xcom_value=arrival["state"]
            )

        @task(trigger_rule="none_failed", map_index_template="{{ feed }}")
        def ingest(feed: str, day: str) -> str:
            from pipeline import steps

            context = get_current_context()
            context["feed"] = feed  # type: ignore[typeddict-unknown-key]
            params = context["params"]
            business = steps.open_day(day, params["inbox"], params["home"], claims_connection())
            return str(steps.ingest(business, feed, retry_transient=True))

        await_delivery(feed, day) >> ingest(feed, day)

    @task(pool=WAREHOUSE_POOL)
    def build_warehouse(day: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        business = steps.open_day(day, params["inbox"], params["home"])
        steps.load_warehouse(business)
        return str(business.settings.home.warehouse)

    @task(pool=WAREHOUSE_POOL)
    def signals_and_alerts(day: str, warehouse: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        business = steps.open_day(day, params["inbox"], params["home"])
        if business.partitions:
            raise AirflowSkipException("分区部署：预警由各分区的 raise_partition 任务研判")
        steps.raise_alerts(business)
        return str(business.runs.alert_report)

    # In the warehouse pool: it links the day's leads in the district warehouse.
    @task(pool=WAREHOUSE_POOL)
    def partitions(day: str, warehouse: str) -> list[str]:
        from pipeline import steps

        params = get_current_context()["params"]
        return steps.check_partitions(steps.open_day(day, params["inbox"], params["home"]))

    # Not in the warehouse pool: a partition writes its own file and only reads the
    # district warehouse, so partitions run side by side on as many workers as there are.
    @task(map_index_template="{{ partition }}")
    def raise_partition(partition: str, day: str) -> str:
        from pipeline import steps

        context = get_current_context()
        context["partition"] = partition  # type: ignore[typeddict-unknown-key]
        params = context["params"]
        business = steps.open_day(day, params["inbox"], params["home"])
        return str(steps.raise_partition(business, partition))

    @task(pool=WAREHOUSE_POOL, outlets=[OUTBOX], trigger_rule="none_failed")
    def publish(day: str) -> str:
        """The outbox; in a partitioned deployment, the merge of the partitions."""
        from pipeline import steps

        params = get_current_context()["params"]
        return str(steps.publish(steps.open_day(day, params["inbox"], params["home"])).outbox)

    day = business_date()
    feed_names = feeds()
    previous_run_finished() >> [day, feed_names]
    every_feed = feed.partial(day=day).expand(feed=feed_names)
    warehouse = build_warehouse(day)
    every_feed >> warehouse
    # Unpartitioned, signals_and_alerts runs and the partitions list is empty; partitioned,
    # it skips itself and one raise_partition runs per partition.
    district = signals_and_alerts(day, warehouse)
    each_partition = raise_partition.partial(day=day).expand(partition=partitions(day, warehouse))
    [district, each_partition] >> publish(day)


fpwarn_daily()
