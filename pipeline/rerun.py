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
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline.alerts.calendar import calendar_version
from pipeline.alerts.lifecycle import AlertReport
from pipeline.ingest import STAGING_VERSION, FeedPlan
from pipeline.outbox import atomic_write_text
from pipeline.paths import CONFIG_DIR, SQL_DIR
from pipeline.settings import ENV_PREFIX, Settings
from pipeline.signals.build import SignalReport
from pipeline.vocabulary import IN_FORCE
from pipeline.warehouse.ledger import connect_read_only

TOWNSHIP_FOLDERS = ("townships/", "comparisons/")


@dataclass(frozen=True)
class KeptDay:
    signals: SignalReport
    alerts: AlertReport
    township_files: dict[str, str]


def _inputs_path(settings: Settings, business_date: date) -> Path:
    return settings.home.run_dir(business_date) / "inputs.json"


def _alerts_path(settings: Settings, business_date: date) -> Path:
    return settings.home.run_dir(business_date) / "alerts.json"


def write_alert_report(
    settings: Settings, business_date: date, signals: SignalReport, alerts: AlertReport
) -> Path:
    """What the alert step reported, for the steps after it (and a rerun) to read."""
    path = _alerts_path(settings, business_date)
    atomic_write_text(
        path,
        json.dumps({"signals": asdict(signals), "alerts": asdict(alerts)}, ensure_ascii=False),
    )
    return path


def read_alert_report(settings: Settings, business_date: date) -> tuple[SignalReport, AlertReport]:
    report = json.loads(_alerts_path(settings, business_date).read_text(encoding="utf-8"))
    return SignalReport(**report["signals"]), AlertReport(**report["alerts"])


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


def remember(
    settings: Settings, business_date: date, digest: str, signals: SignalReport, alerts: AlertReport
) -> None:
    """After a complete run: what it saw and what its alert step reported."""
    write_alert_report(settings, business_date, signals, alerts)
    atomic_write_text(_inputs_path(settings, business_date), json.dumps({"digest": digest}))


def forget(settings: Settings, business_date: date) -> None:
    _inputs_path(settings, business_date).unlink(missing_ok=True)


def kept_day(settings: Settings, business_date: date, digest: str) -> KeptDay | None:
    """What a rerun with the same inputs may keep, or None when it must run in full."""
    inputs, alerts, manifest = (
        _inputs_path(settings, business_date),
        _alerts_path(settings, business_date),
        settings.home.outbox(business_date) / "manifest.json",
    )
    if not (inputs.is_file() and alerts.is_file() and manifest.is_file()):
        return None
    if json.loads(inputs.read_text(encoding="utf-8")).get("digest") != digest:
        return None
    if _newest_alert_date(settings) != business_date:
        return None
    outputs: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8")).get("outputs", {})
    township_files = {
        name: sha256 for name, sha256 in outputs.items() if name.startswith(TOWNSHIP_FOLDERS)
    }
    if not _intact(settings.home.outbox(business_date), township_files):
        return None
    return KeptDay(*read_alert_report(settings, business_date), township_files)


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
