"""Feeds ingest in parallel processes (as Airflow tasks do) without meeting
DuckDB's single-writer lock, and give exactly what one process gives."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import duckdb

from fpwarn_demo import generate_district
from pipeline.alerts.rules import load_rules
from pipeline.dispatch.publish import publish_outbox
from pipeline.feeds.registry import load_registry
from pipeline.settings import load_settings
from pipeline.steps import Day, ingest, run_day
from pipeline.warehouse import load
from tests.conftest import home_for

DAYS = [date(2026, 3, 1), date(2026, 3, 2)]


def ingest_in_child(feed: str, home: str, inbox: str, day: str) -> str:
    settings = load_settings(Path(home), Path(inbox))
    return str(ingest(Day.of(settings, date.fromisoformat(day)), feed))


def warehouse_contents(home: Path) -> dict[str, list[tuple]]:
    registry = load_registry()
    with duckdb.connect(str(home / "warehouse" / "warehouse.duckdb"), read_only=True) as connection:
        contents = {
            feed: connection.execute(
                f"select * exclude (loaded_at) from staging.stg_{feed} order by all"
            ).fetchall()
            for feed in registry
        }
        contents["quarantine"] = connection.execute(
            "select * from meta.quarantine order by all"
        ).fetchall()
        contents["deliveries"] = connection.execute(
            "select * exclude (loaded_at) from meta.deliveries order by all"
        ).fetchall()
    return contents


def test_parallel_feed_steps_equal_one_process(tmp_path):
    summary = generate_district(
        tmp_path / "inbox", households=300, start=DAYS[0], end=DAYS[-1], seed=5
    )
    registry = load_registry()
    homes = {
        name: home_for(tmp_path, summary.claims_url, summary.inbox, name)
        for name in ("serial", "parallel")
    }

    for day in DAYS:
        run_day(homes["serial"], day)

    parallel = homes["parallel"]
    with ProcessPoolExecutor(
        max_workers=4, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        for day in DAYS:
            futures = [
                pool.submit(
                    ingest_in_child,
                    feed,
                    str(parallel.home.root),
                    str(parallel.inbox),
                    day.isoformat(),
                )
                for feed in registry
            ]
            assert all(Path(future.result()).is_file() for future in futures)
            outcome = load.load_run(parallel.home, day, registry)
            publish_outbox(parallel, load_rules(), day, registry, outcome.plans)

    assert warehouse_contents(homes["serial"].home.root) == warehouse_contents(parallel.home.root)
    for day in DAYS:
        serial_outbox, parallel_outbox = homes["serial"].home.outbox(day), parallel.home.outbox(day)
        assert (serial_outbox / "quarantine.csv").read_bytes() == (
            parallel_outbox / "quarantine.csv"
        ).read_bytes()


def test_the_command_lines_feed_workers_give_the_outbox_of_one_process(tmp_path, monkeypatch):
    """run_day reads the feeds in worker processes (ingest_workers, two by default on two
    cores): the outbox and the warehouse equal a run reading them one after another."""
    from tests.conftest import outbox_files

    summary = generate_district(
        tmp_path / "inbox", households=300, start=DAYS[0], end=DAYS[0], seed=5
    )
    homes = {
        name: home_for(tmp_path, summary.claims_url, summary.inbox, name)
        for name in ("serial", "workers")
    }
    for day in DAYS[:1]:
        monkeypatch.setenv("PIPELINE_INGEST_WORKERS", "1")
        serial = run_day(homes["serial"], day)
        monkeypatch.setenv("PIPELINE_INGEST_WORKERS", "2")
        told: list[str] = []
        workers = run_day(homes["workers"], day, progress=told.append)
        assert outbox_files(workers.outbox) == outbox_files(serial.outbox)
        # Every feed is told once, in the order the workers finish.
        assert sum(message.startswith("读取") for message in told) == len(load_registry())
    assert warehouse_contents(homes["serial"].home.root) == warehouse_contents(
        homes["workers"].home.root
    )
