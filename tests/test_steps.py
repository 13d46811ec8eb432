"""The steps as a scheduler runs them in separate processes: the warehouse lock, and the
feedback DAG keeping out of a daily run that is half way."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

import pytest

from fpwarn_demo import generate_district
from pipeline import steps
from pipeline.steps import run_day
from pipeline.warehouse.ledger import WarehouseBusy, connect_read_only, connect_writer
from tests.conftest import home_for

HOLD_THE_LOCK = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.close()
"""


def test_a_writer_waits_for_another_process_and_gives_up_with_a_clear_message(settings):
    settings.home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(settings.home.warehouse), "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy, match=r"正被另一个进程使用.*请稍后重试"):
            connect_writer(settings.home, wait_s=0.5)
        with pytest.raises(WarehouseBusy):
            connect_read_only(settings.home, wait_s=0.5)
        started = time.monotonic()
        # Waiting long enough, the writer gets the warehouse once the other process is done.
        connect_writer(settings.home, wait_s=60).close()
        assert time.monotonic() - started > 1
    finally:
        holder.wait(timeout=30)


def test_the_feedback_dag_keeps_out_of_a_daily_run_between_load_and_alerts(tmp_path):
    day_1, day_2 = date(2026, 3, 1), date(2026, 3, 2)
    summary = generate_district(tmp_path / "inbox", households=200, start=day_1, end=day_2)
    settings = home_for(tmp_path, summary.claims_url, summary.inbox)
    assert steps.latest_business_date(settings) is None  # before the first run

    run_day(settings, day_1)
    assert steps.latest_business_date(settings) == "2026-03-01"

    day = steps.Day.of(settings, day_2)
    for feed in steps.feeds():
        steps.ingest(day, feed)
    steps.load_warehouse(day)
    # Day 2 is loaded, its alerts not yet raised: re-raising day 1 now would see day 2's data.
    assert steps.latest_business_date(settings) is None

    steps.raise_alerts(day)
    assert steps.latest_business_date(settings) == "2026-03-02"
