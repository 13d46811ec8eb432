"""The daily DAG: it imports cleanly, only wires pipeline steps, and a run of it gives
the outbox that ``python -m pipeline run`` gives."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline import steps
from pipeline.feeds.registry import load_registry
from pipeline.steps import CHINA, run_day
from tests.conftest import PROJECT_DIR, home_for, outbox_files


def morning_after(business: date) -> datetime:
    """The scheduled 06:30 China-time run that processes ``business``."""
    return datetime(business.year, business.month, business.day, 6, 30, tzinfo=CHINA) + timedelta(
        days=1
    )


def test_business_date_is_the_day_before_the_run_in_china_time():
    # 06:30 in Shanghai is 22:30 UTC the evening before: still the day before in China time.
    assert steps.business_date(None, datetime(2026, 3, 1, 22, 30, tzinfo=UTC)) == "2026-03-01"
    assert steps.business_date(None, morning_after(date(2026, 3, 1))) == "2026-03-01"
    assert steps.business_date("2026-02-27", morning_after(date(2026, 3, 1))) == "2026-02-27"


def test_a_manual_run_without_a_logical_date_processes_the_day_before_it(
    tmp_path, airflow_db, dagbag
):
    """Airflow 3 triggers a run by hand with no logical date: its run_after (the time it
    was triggered) places it, the day before in China time is processed, and the feedback
    DAG, which never reads a logical date, runs by hand as well."""
    day = date(2026, 3, 1)
    summary = generate_district(tmp_path / "inbox", households=200, start=day, end=day, seed=7)
    settings = home_for(tmp_path, summary.claims_url, summary.inbox)
    conf = {"inbox": str(summary.inbox), "home": str(settings.home.root)}

    run = dagbag.get_dag("fpwarn_daily").test(
        logical_date=None, run_after=morning_after(day) + timedelta(hours=3), run_conf=conf
    )

    assert run.logical_date is None
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances() if ti.map_index < 0}
    assert states["previous_run_finished"] == "success"
    assert states["business_date"] == "success", states
    assert str(run.state) in ("success", "DagRunState.SUCCESS"), states
    manifest = json.loads((settings.home.outbox(day) / "manifest.json").read_text("utf-8"))
    assert manifest["business_date"] == "2026-03-01"

    feedback = dagbag.get_dag("fpwarn_feedback").test(
        logical_date=None, run_after=datetime(2026, 3, 2, 3, tzinfo=UTC), run_conf=conf
    )
    assert str(feedback.state) in ("success", "DagRunState.SUCCESS"), feedback.state


def test_a_manual_run_waits_for_the_run_before_it(tmp_path, airflow_db, dagbag, monkeypatch):
    """The wait found no run before a run without a logical date and let it start at once,
    over a day still being processed; now it waits (here until its timeout, shortened)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import update

    dag = dagbag.get_dag("fpwarn_daily")
    conf = {"inbox": str(tmp_path), "home": str(tmp_path)}
    triggered = datetime(2026, 4, 2, 9, tzinfo=CHINA)
    # The run before it: its tasks marked done rather than run, then put back to running.
    before = dag.test(
        logical_date=triggered - timedelta(days=1), run_conf=conf, mark_success_pattern=".*"
    )
    with create_session() as session:
        session.execute(update(DagRun).where(DagRun.id == before.id).values(state="running"))
    waiting = dag.get_task("previous_run_finished")
    monkeypatch.setattr(waiting, "poke_interval", 1.0)
    monkeypatch.setattr(waiting, "timeout", 3.0)

    run = dag.test(
        logical_date=None,
        run_after=triggered,
        run_conf=conf,
        mark_success_pattern=r"(?!previous_run_finished$).*",
    )

    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances() if ti.map_index < 0}
    assert states["previous_run_finished"] == "failed"  # still waiting when it timed out
    assert states["business_date"] == "upstream_failed"


def test_business_date_is_a_date_param_and_2026_02_30_is_refused(dagbag):
    """The trigger form shows a date picker for a ``format: date`` param, and Airflow
    validates the conf of every run it creates (trigger form, REST API, CLI) against it."""
    from airflow.exceptions import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization

    dag = dagbag.get_dag("fpwarn_daily")
    # What the API server and scheduler hold: the serialised DAG.
    served = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    schema = served.params.get_param("business_date").schema
    assert schema["format"] == "date"
    assert served.params.deep_merge({"business_date": "2026-02-28"}).validate()["business_date"]
    for not_a_date in ("2026-02-30", "2026/03/01", "20260301"):
        with pytest.raises(ParamValidationError, match="business_date"):
            served.params.deep_merge({"business_date": not_a_date}).validate()
    with pytest.raises(ParamValidationError, match="business_date"):
        dag.test(logical_date=None, run_conf={"business_date": "2026-02-30"})
    # Should such a conf reach a worker anyway, the step refuses it with its reason.
    with pytest.raises(steps.StepError, match="2026-02-30"):
        steps.business_date("2026-02-30", morning_after(date(2026, 3, 1)))


def test_dags_import_cleanly_with_owner_tags_and_retries(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"fpwarn_daily", "fpwarn_feedback"}
    for dag_id in dagbag.dag_ids:
        for task in dagbag.get_dag(dag_id).tasks:
            assert task.owner == "区乡村振兴局数据组"
    dag = dagbag.get_dag("fpwarn_daily")
    assert dag is not None
    assert "fpwarn" in dag.tags
    assert str(dag.timezone) in ("Asia/Shanghai", "Timezone('Asia/Shanghai')")
    for task in dag.tasks:
        assert task.owner == "区乡村振兴局数据组"
    assert {task.task_id for task in dag.tasks} == {
        "previous_run_finished",
        "business_date",
        "feeds",
        "feed.await_delivery",
        "feed.ingest",
        "build_warehouse",
        "signals_and_alerts",
        "partitions",
        "raise_partition",
        "publish",
    }
    waiting = dag.get_task("feed.await_delivery")
    assert waiting.mode == "reschedule"  # a late feed holds no worker slot while awaited
    assert waiting.soft_fail
    # A missing or late feed does not stop the day: its ingest runs and reports it.
    assert dag.get_task("feed.ingest").trigger_rule == "none_failed"


def test_each_dag_documents_itself_in_the_ui(dagbag):
    daily, feedback = dagbag.get_dag("fpwarn_daily"), dagbag.get_dag("fpwarn_feedback")
    assert "fpwarn_warehouse" in daily.doc_md
    assert "run_after" in daily.doc_md
    assert "INBOX/feedback/" in feedback.doc_md


def test_only_transient_faults_are_retried(dagbag):
    """A refused database connection or a busy warehouse is retried with backoff;
    anything else (a bug) fails at once; bad data never raises at all."""
    from airflow.sdk import RetryAction

    from pipeline.feeds.sql_source import SourceUnavailable
    from pipeline.warehouse.ledger import WarehouseBusy

    def decide(task, error: BaseException) -> RetryAction:
        return task.retry_policy.evaluate(error, try_number=1, max_tries=4).action

    for dag_id in ("fpwarn_daily", "fpwarn_feedback"):
        for task in dagbag.get_dag(dag_id).tasks:
            assert task.retries == 3, task.task_id
            assert task.retry_exponential_backoff, task.task_id
            assert decide(task, SourceUnavailable("医保库拒绝连接")) == RetryAction.RETRY
            assert decide(task, WarehouseBusy("数仓被占用")) == RetryAction.RETRY
            assert decide(task, KeyError("a bug")) == RetryAction.FAIL
            assert decide(task, ValueError("a bug")) == RetryAction.FAIL


def test_every_warehouse_task_takes_the_declared_one_slot_pool(dagbag):
    """DuckDB admits one writing process; the pool must exist where the DAGs run
    (a missing pool leaves tasks queued forever under a real scheduler)."""
    pools = json.loads((PROJECT_DIR / "config" / "airflow" / "pools.json").read_text("utf-8"))
    warehouse_tasks = {
        # partitions links the day's leads in the district warehouse.
        "fpwarn_daily": {"build_warehouse", "signals_and_alerts", "partitions", "publish"},
        "fpwarn_feedback": {"latest_day", "apply_returns", "publish"},
    }
    for dag_id, task_ids in warehouse_tasks.items():
        dag = dagbag.get_dag(dag_id)
        for task in dag.tasks:
            if task.task_id in task_ids:
                assert task.pool == "fpwarn_warehouse", (dag_id, task.task_id)
            else:
                assert task.pool == "default_pool", (dag_id, task.task_id)
        assert task_ids <= {task.task_id for task in dag.tasks}
    assert pools["fpwarn_warehouse"]["slots"] == 1


def test_dag_files_do_no_work_at_import():
    """Only imports of airflow at module level; pipeline is imported inside tasks."""
    for path in (PROJECT_DIR / "dags").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert not (module or "").startswith("pipeline"), (path.name, module)
            assert not isinstance(node, ast.With), path.name


def test_a_partitioned_dag_run_gives_the_outbox_of_the_command_line(tmp_path, airflow_db, dagbag):
    """The Airflow home is split in three partitions (one task each); the command line
    runs the district whole (the real-scheduler test runs the DAG unpartitioned)."""
    start, day = date(2026, 3, 1), date(2026, 3, 2)
    summary = generate_district(tmp_path / "inbox", households=300, start=start, end=day, seed=7)
    # The water bureau never finished day 2's file: long past its deadline, the run goes on.
    (summary.inbox / "water_supply" / "water_supply_20260302.csv.ok").unlink()
    cli = home_for(tmp_path, summary.claims_url, summary.inbox, "cli")
    airflow = home_for(tmp_path, summary.claims_url, summary.inbox, "airflow")
    for business in (start, day):
        expected = run_day(cli, business)
    townships = sorted(
        pd.read_csv(expected.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)[
            "township_code"
        ].unique()
    )
    assert len(townships) >= 3
    names = [f"township-{code}" for code in townships]
    with airflow.home.config_file.open("a", encoding="utf-8") as config:
        partitions = {name: [code] for name, code in zip(names, townships, strict=True)}
        config.write(f"partitions: {json.dumps(partitions)}\n")  # JSON is YAML
    assert expected.manifest["feeds"]["water_supply"]["status"] == "incomplete"
    dag = dagbag.get_dag("fpwarn_daily")
    for business in (start, day):
        run = dag.test(
            logical_date=morning_after(business),
            run_conf={"inbox": str(summary.inbox), "home": str(airflow.home.root)},
        )
        assert str(run.state) in ("success", "DagRunState.SUCCESS"), run.state
    waits = {
        ti.rendered_map_index: str(ti.state)
        for ti in run.get_task_instances()
        if ti.task_id == "feed.await_delivery"
    }
    assert len(waits) == len(steps.feeds())
    partition_tasks = {
        ti.rendered_map_index: str(ti.state)
        for ti in run.get_task_instances()
        if ti.task_id == "raise_partition"
    }
    assert partition_tasks == dict.fromkeys(names, "success")
    skipped = [ti for ti in run.get_task_instances() if ti.task_id == "signals_and_alerts"]
    assert [str(ti.state) for ti in skipped] == ["skipped"]
    # Overdue daily feeds are shown as skipped waits (their ingest still ran and reported
    # them); the demo's own unfinished delivery of day 2 is one of them.
    registry = load_registry()
    overdue = {
        feed
        for feed, info in expected.manifest["feeds"].items()
        if info["status"] in ("incomplete", "missing") and registry[feed].deadline
    }
    assert "water_supply" in overdue
    assert {feed for feed, state in waits.items() if state == "skipped"} == overdue
    assert {state for feed, state in waits.items() if feed not in overdue} == {"success"}
    for business in (start, day):
        assert outbox_files(airflow.home.outbox(business)) == outbox_files(
            cli.home.outbox(business)
        )


def test_the_feedback_dag_applies_a_returned_workbook(tmp_path, airflow_db, dagbag):
    import openpyxl

    from pipeline.dispatch.township_workbook import DETAIL_SHEET

    day = date(2026, 3, 2)
    summary = generate_district(
        tmp_path / "inbox", households=300, start=date(2026, 3, 1), end=day, seed=7
    )
    settings = home_for(tmp_path, summary.claims_url, summary.inbox)
    run_day(settings, date(2026, 3, 1))
    result = run_day(settings, day)
    workbook = sorted((result.outbox / "townships").glob("*.xlsx"))[0]
    book = openpyxl.load_workbook(workbook)
    sheet = book[DETAIL_SHEET]
    alert_id = sheet.cell(row=2, column=1).value
    for column, value in ((17, "属实-已纳入监测"), (18, "王网格"), (19, day)):
        sheet.cell(row=2, column=column, value=value)
    (summary.inbox / "feedback").mkdir()
    book.save(summary.inbox / "feedback" / workbook.name)

    run = dagbag.get_dag("fpwarn_feedback").test(
        logical_date=datetime(2026, 3, 2, 9, tzinfo=UTC),
        run_conf={"inbox": str(summary.inbox), "home": str(settings.home.root)},
    )

    assert str(run.state) in ("success", "DagRunState.SUCCESS"), run.state
    alerts = pd.read_csv(settings.home.outbox(day) / "alerts.csv", encoding="utf-8-sig", dtype=str)
    assert alert_id not in set(alerts["alert_id"])


def test_the_claims_database_can_be_an_airflow_connection(
    tmp_path, airflow_db, dagbag, monkeypatch
):

    from pipeline.settings import load_settings

    day = date(2026, 3, 1)
    summary = generate_district(tmp_path / "inbox", households=300, start=day, end=day, seed=7)
    database = summary.claims_url.removeprefix("sqlite:///")
    monkeypatch.setenv(
        "AIRFLOW_CONN_FPWARN_MED_CLAIMS", json.dumps({"conn_type": "sqlite", "host": database})
    )
    monkeypatch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)
    home = tmp_path / "home"  # no config.yaml: only the connection says where the claims are
    home.mkdir()
    settings = load_settings(home, summary.inbox)

    run = dagbag.get_dag("fpwarn_daily").test(
        logical_date=morning_after(day),
        run_conf={"inbox": str(summary.inbox), "home": str(home)},
    )

    assert str(run.state) in ("success", "DagRunState.SUCCESS"), run.state
    manifest = json.loads((settings.home.outbox(day) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["feeds"]["med_claims"]["status"] == "loaded"


def test_connection_fields_become_sqlalchemy_urls():
    from pipeline.feeds.sql_source import url_from_connection

    assert (
        url_from_connection(
            "mysql", host="10.1.2.3", login="ybj", password="p@ss", port=3306, schema="qzj"
        )
        == "mysql+pymysql://ybj:p%40ss@10.1.2.3:3306/qzj"
    )
    assert url_from_connection("postgres", host="db", schema="x") == "postgresql+psycopg://db/x"
    assert (
        url_from_connection("sqlite", host="/data/claims.sqlite") == "sqlite:////data/claims.sqlite"
    )
    assert url_from_connection("generic", extra={"sqlalchemy_url": "oracle://x"}) == "oracle://x"
