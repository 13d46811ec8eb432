"""A rerun of a day whose inputs have not changed keeps what it would compute again.

A data engineer reruns a date after a fault, or a scheduler retries it: when every
delivery in force, the returned workbooks, the rules, the feed registry, the SQL steps
and the settings are what the last complete run of that date saw, and that date is
still the newest with alerts, the alert lifecycle would rebuild exactly the same state
and the township workbooks would be the same bytes. The rerun then keeps the alerts and
the workbooks that are still intact in the outbox, and writes again only what tells of
this run (the CSVs, the manifest with its ``unchanged`` deliveries, the report, the
review tables). Anything else runs in full.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline.alerts.calendar import calendar_version
from pipeline.ingest import STAGING_VERSION, FeedPlan
from pipeline.paths import CONFIG_DIR, SQL_DIR
from pipeline.runs import RaisedDay, RunFolder, read_complete, read_raised
from pipeline.settings import ENV_PREFIX, Settings
from pipeline.vocabulary import IN_FORCE
from pipeline.warehouse.ledger import connect_read_only

TOWNSHIP_FOLDERS = ("townships/", "comparisons/")


def inputs_digest(settings: Settings, business_date: date, plans: dict[str, FeedPlan]) -> str:
    """Everything a day's alerts and workbooks depend on, as one digest."""
    digest = hashlib.sha256(
        f"{STAGING_VERSION}|{calendar_version()}|{business_date.isoformat()}".encode()
    )

    def add(value: Any) -> None:
        digest.update(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))
        digest.update(b"\x1e")

    for feed in sorted(plans):
        plan = plans[feed]
        add([feed, plan.unavailable])
        for delivery in plan.deliveries:
            # loaded today or by an earlier run: the same rows are in force either way.
            in_force = delivery.status in IN_FORCE
            add([delivery.file, delivery.date, delivery.sha256, in_force, delivery.reason])
    for folder in (CONFIG_DIR, SQL_DIR):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                add(
                    [
                        path.relative_to(folder).as_posix(),
                        hashlib.sha256(path.read_bytes()).hexdigest(),
                    ]
                )
    feedback = settings.inbox / "feedback"
    # Every file there: one not applied is still listed with why.
    for path in sorted(feedback.iterdir()) if feedback.is_dir() else []:
        if path.is_file():
            add([path.name, hashlib.sha256(path.read_bytes()).hexdigest()])
    add(settings.values)
    add(sorted((name, value) for name, value in os.environ.items() if name.startswith(ENV_PREFIX)))
    return digest.hexdigest()


def kept_day(settings: Settings, business_date: date, digest: str) -> RaisedDay | None:
    """What a rerun with the same inputs may keep (the last complete run's alert report
    and township files), or None when it must run in full."""
    folder = RunFolder.of(settings.home, business_date)
    manifest = settings.home.outbox(business_date) / "manifest.json"
    if read_complete(folder) != digest or not manifest.is_file():
        return None
    raised = read_raised(folder)
    if raised is None or _newest_alert_date(settings) != business_date:
        return None
    outputs: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8")).get("outputs", {})
    township_files = {
        name: sha256 for name, sha256 in outputs.items() if name.startswith(TOWNSHIP_FOLDERS)
    }
    if not _intact(settings.home.outbox(business_date), township_files):
        return None
    return replace(raised, kept_township_files=township_files)


def _newest_alert_date(settings: Settings) -> date | None:
    connection = connect_read_only(settings.home)
    if connection is None:
        return None
    with connection:
        try:
            row = connection.execute("select max(as_of_date) from alerts.runs").fetchone()
        except duckdb.CatalogException:
            return None
    return row[0] if row else None


def _intact(outbox: Path, files: dict[str, str]) -> bool:
    """Every township file as the last run wrote it, and no other."""
    present = {
        path.relative_to(outbox).as_posix()
        for folder in TOWNSHIP_FOLDERS
        if (outbox / folder).is_dir()
        for path in (outbox / folder).iterdir()
        if path.is_file()
    }
    if present != set(files):
        return False
    return all(
        hashlib.sha256((outbox / name).read_bytes()).hexdigest() == sha256
        for name, sha256 in files.items()
    )
