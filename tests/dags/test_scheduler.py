"""The daily DAG under a real Airflow: scheduler, DAG processor and API server as separate
processes, LocalExecutor, PostgreSQL metadata. Feed tasks run in parallel processes, the
warehouse tasks take their pool, a date range is backfilled (its runs triggered through
the CLI with their conf), and the outbox equals the command line's byte for byte. This catches what
``dag.test()`` cannot: DuckDB lock conflicts between processes, a pool that does not
exist, serialisation of the DAG, runs of a backfill racing each other.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fpwarn_demo import generate_district
from pipeline.feeds.registry import load_registry
from pipeline.steps import run_day
from tests.conftest import PROJECT_DIR, home_for, outbox_files, require_service

pytestmark = [pytest.mark.services, pytest.mark.slow]

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    env: dict[str, str]
    metadata: sa.Engine
    logs: Path

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stderr[-3000:]}"
        return done.stdout

    def query(self, sql: str, **values: object) -> list[sa.Row]:
        with self.metadata.connect() as connection:
            return list(connection.execute(sa.text(sql), values))

    def wait_for_runs(self, count: int, timeout_s: float = 600) -> list[sa.Row]:
        """Wait until ``count`` runs of the daily DAG have ended; they must all succeed."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            runs = self.query(
                "select run_id, state, start_date, end_date from dag_run "
                "where dag_id = 'fpwarn_daily' order by logical_date"
            )
            if len(runs) >= count and all(run.state in ("success", "failed") for run in runs):
                failed = [run.run_id for run in runs if run.state != "success"]
                assert not failed, f"failed runs {failed}; logs in {self.logs}"
                return runs
            time.sleep(3)
        raise AssertionError(f"runs not finished after {timeout_s} s; logs in {self.logs}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    server = require_service("FPWARN_TEST_POSTGRES_URL", f"{POSTGRES}/postgres")
    database = f"fpwarn_airflow_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'create database "{database}"'))
    root = tmp_path_factory.mktemp("airflow-real")
    port = free_port()
    url = f"{POSTGRES}/{database}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(root / "home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": url,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex,
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        # Only the runs the test asks for: no scheduled run of "today" in between.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    logs = root / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    metadata = sa.create_engine(url)
    try:
        cluster = Cluster(env, metadata, logs)
        cluster.cli("db", "migrate")
        cluster.cli("pools", "import", str(PROJECT_DIR / "config" / "airflow" / "pools.json"))
        for component in (["api-server", "--port", str(port)], ["scheduler"], ["dag-processor"]):
            log = (logs / f"{component[0]}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [AIRFLOW, *component],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 120
        while len(cluster.query("select dag_id from dag where not is_paused")) < 2:
            assert time.monotonic() < deadline, f"DAGs not parsed; logs in {logs}"
            assert all(process.poll() is None for process in processes), f"see {logs}"
            time.sleep(1)
        yield cluster
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        metadata.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop database if exists "{database}" with (force)'))
        admin.dispose()


def china_morning(day: date) -> str:
    """The logical date of the scheduled run that processes ``day``."""
    return f"{day + timedelta(days=1):%Y-%m-%d}T06:30:00+08:00"


def test_a_backfill_runs_day_by_day_and_gives_the_outbox_of_the_command_line(tmp_path, cluster):
    days = [date(2026, 3, 1), date(2026, 3, 2)]
    summary = generate_district(
        tmp_path / "inbox", households=300, start=days[0], end=days[-1], seed=11
    )
    cli = home_for(tmp_path, summary.claims_url, summary.inbox, "cli")
    for day in days:
        run_day(cli, day)
    airflow = home_for(tmp_path, summary.claims_url, summary.inbox, "airflow")
    conf = json.dumps({"inbox": str(summary.inbox), "home": str(airflow.home.root)})

    # Both days triggered at once from the CLI, as a backfill: Airflow would run them side
    # by side (a backfill ignores the DAG's max_active_runs); the DAG must not let it.
    cluster.cli(
        "backfill", "create", "--dag-id", "fpwarn_daily", "--dag-run-conf", conf,
        "--from-date", china_morning(days[0]), "--to-date", china_morning(days[-1]),
    )  # fmt: skip
    runs = cluster.wait_for_runs(len(days))

    for day in days:
        assert outbox_files(airflow.home.outbox(day)) == outbox_files(cli.home.outbox(day)), day
    tasks = cluster.query(
        "select run_id, task_id, start_date, end_date, pool from task_instance "
        "where dag_id = 'fpwarn_daily'"
    )
    # The later run started its work only after the earlier one had ended.
    later_ingests = [
        t.start_date for t in tasks if t.run_id == runs[1].run_id and t.task_id == "feed.ingest"
    ]
    assert min(later_ingests) >= runs[0].end_date
    # Feed tasks ran in parallel processes: some overlapped in time.
    ingests = sorted(
        (t.start_date, t.end_date)
        for t in tasks
        if t.run_id == runs[0].run_id and t.task_id == "feed.ingest"
    )
    assert len(ingests) == len(load_registry())
    assert any(
        start < previous_end for (_, previous_end), (start, _) in itertools.pairwise(ingests)
    )
    # The warehouse tasks took the pool, so none of them overlapped.
    pooled = sorted((t.start_date, t.end_date) for t in tasks if t.pool == "fpwarn_warehouse")
    # build_warehouse, signals_and_alerts, partitions (it links the leads), publish.
    assert len(pooled) == 4 * len(days)
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(pooled))
