"""A run killed (SIGKILL, no clean-up) in the middle of a warehouse transaction, then the
date run again: warehouse and outbox are exactly as after a run nobody interrupted.

The kill happens in a separate process running the same step an Airflow task runs, after
part of the transaction's writes are done, so the DuckDB file is left with its WAL and an
unfinished transaction, as when a worker dies or the machine loses power.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import date

import pytest

from fpwarn_demo import generate_district
from pipeline import steps
from pipeline.steps import run_day
from tests.conftest import PROJECT_DIR, home_for, outbox_files, warehouse_contents

pytestmark = pytest.mark.slow

DAY_1, DAY_2 = date(2026, 3, 1), date(2026, 3, 2)

# Runs one step with a function of the pipeline replaced by one that kills the
# process right after its n-th call returned: the transaction is half done.
KILLED_STEP = """
import os, signal, sys, importlib
module_name, function_name, nth, step, day, inbox, home = sys.argv[1:]
module = importlib.import_module(module_name)
original = getattr(module, function_name)
calls = []

def then_die(*args, **kwargs):
    result = original(*args, **kwargs)
    calls.append(1)
    if len(calls) == int(nth):
        os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(module, function_name, then_die)
from pipeline import steps
getattr(steps, step)(steps.open_day(day, inbox, home))
"""


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupted")
    summary = generate_district(root / "inbox", households=300, start=DAY_1, end=DAY_2, seed=5)
    reference = home_for(root, summary.claims_url, summary.inbox, "uninterrupted")
    for day in (DAY_1, DAY_2):
        run_day(reference, day)
    return root, summary, reference


AFTER = {
    "load_warehouse": ("load_warehouse", "raise_alerts", "publish"),
    "raise_alerts": ("raise_alerts", "publish"),
}


@pytest.mark.parametrize(
    ("step", "module", "function", "nth", "again"),
    [
        # The warehouse build: five deliveries of day 2 loaded, the rest not yet; then the
        # failed task cleared in Airflow (it and the tasks after it run again) ...
        ("load_warehouse", "pipeline.warehouse.load", "_load_delivery", 5, "airflow"),
        # ... or the whole date run again from the command line.
        ("load_warehouse", "pipeline.warehouse.load", "_load_delivery", 5, "cli"),
        # Signals built and the day's alerts written, not yet committed.
        ("raise_alerts", "pipeline.alerts.lifecycle", "_store", 1, "airflow"),
    ],
)
def test_a_run_killed_mid_transaction_and_run_again_equals_an_uninterrupted_one(
    district, step, module, function, nth, again
):
    root, summary, reference = district
    victim = home_for(root, summary.claims_url, summary.inbox, f"killed-in-{step}-{again}")
    run_day(victim, DAY_1)
    inbox, home, day = str(summary.inbox), str(victim.home.root), DAY_2.isoformat()
    business = steps.open_day(day, inbox, home)
    for feed in steps.feeds():
        steps.ingest(business, feed)
    if step == "raise_alerts":
        steps.load_warehouse(business)
    before = warehouse_contents(victim.home.warehouse)

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_STEP, module, function, str(nth), step, day, inbox, home],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # Nothing of the unfinished transaction is visible: the warehouse is as it was.
    assert warehouse_contents(victim.home.warehouse) == before
    assert not victim.home.outbox(DAY_2).exists()

    if again == "cli":
        run_day(victim, DAY_2)
    else:
        for name in AFTER[step]:
            getattr(steps, name)(business)

    assert warehouse_contents(victim.home.warehouse) == warehouse_contents(reference.home.warehouse)
    for business in (DAY_1, DAY_2):
        assert outbox_files(victim.home.outbox(business)) == outbox_files(
            reference.home.outbox(business)
        )
