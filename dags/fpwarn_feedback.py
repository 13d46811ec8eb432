"""The DAG ``fpwarn_feedback``: wiring only; its documentation is the docstring of the DAG
function, which the Airflow UI shows."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from fpwarn_shared import DEFAULT_ARGS, OUTBOX, WAREHOUSE_POOL


@dag(
    dag_id="fpwarn_feedback",
    description="防止返贫动态监测：乡镇核实结果回收",
    schedule="0 8-20 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["fpwarn", "feedback"],
    params={
        "inbox": Param(None, type=["null", "string"], description="default: PIPELINE_INBOX"),
        "home": Param(None, type=["null", "string"], description="default: PIPELINE_HOME"),
    },
)
def fpwarn_feedback() -> None:
    """Returned township workbooks: applied as they arrive in INBOX/feedback/.

    Every hour during the working day, the alerts of the latest business date are
    raised again with the returned workbooks (verified alerts close, rejected rows
    are listed) and that date's outbox is written anew. Only wiring here; the steps
    live in ``pipeline.steps``.
    """

    @task.short_circuit(pool=WAREHOUSE_POOL)
    def latest_day() -> str | None:
        from pipeline import steps

        params = get_current_context()["params"]
        return steps.latest_business_date(steps.settings_for(params["inbox"], params["home"]))

    @task(pool=WAREHOUSE_POOL)
    def apply_returns(day: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        business = steps.open_day(day, params["inbox"], params["home"])
        steps.raise_alerts(business)
        return str(business.runs.alert_report)

    @task(pool=WAREHOUSE_POOL, outlets=[OUTBOX])
    def publish(day: str, alerts: str) -> str:
        from pipeline import steps

        params = get_current_context()["params"]
        return str(steps.publish(steps.open_day(day, params["inbox"], params["home"])).outbox)

    day = latest_day()
    publish(day, apply_returns(day))


fpwarn_feedback()
