"""The daily early-warning run: every feed in parallel, then warehouse, alerts, outbox.

This file only wires steps of ``pipeline.steps``; nothing is read or computed when
it is imported. The 06:30 run processes the business date before its logical date
(China time) unless the ``business_date`` param says otherwise; INBOX and HOME come from the params or
the workers' ``PIPELINE_INBOX`` / ``PIPELINE_HOME``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

OUTBOX = Asset("fpwarn://outbox/daily")

DEFAULT_ARGS = {
    "owner": "区乡村振兴局数据组",
    # Bad data never fails a task (it is quarantined or reported); only faults do.
    "retries": 0,
}


CLAIMS_CONNECTION = "fpwarn_med_claims"


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


@dag(
    dag_id="fpwarn_daily",
    description="防止返贫动态监测：部门数据入库、分类分级预警、乡镇核实表",
    schedule="30 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fpwarn", "daily"],
    params={
        "business_date": Param(
            None, type=["null", "string"], description="YYYY-MM-DD; default: the logical date"
        ),
        "inbox": Param(None, type=["null", "string"], description="default: PIPELINE_INBOX"),
        "home": Param(None, type=["null", "string"], description="default: PIPELINE_HOME"),
    },
)
def fpwarn_daily() -> None:
    @task
    def business_date() -> str:
        from pipeline import steps

        context = get_current_context()
        return steps.business_date(context["params"]["business_date"], context["logical_date"])

    @task
    def feeds() -> list[str]:
        from pipeline import steps

        return steps.feeds()

    @task(retries=3, retry_delay=timedelta(minutes=2), retry_exponential_backoff=True)
    def ingest(feed: str, day: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        return steps.ingest(feed, day, params["inbox"], params["home"], claims_connection())

    @task
    def build_warehouse(day: str, staged: list[str]) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        return steps.build_warehouse(day, params["inbox"], params["home"])

    @task
    def signals_and_alerts(day: str, warehouse: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        return steps.signals_and_alerts(day, params["inbox"], params["home"])

    @task(outlets=[OUTBOX])
    def publish(day: str, alerts: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        return steps.publish(day, params["inbox"], params["home"])

    day = business_date()
    staged = ingest.partial(day=day).expand(feed=feeds())
    warehouse = build_warehouse(day, staged)
    publish(day, signals_and_alerts(day, warehouse))


fpwarn_daily()
