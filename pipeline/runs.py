"""The hand-off files of a business date under ``HOME/runs/<date>/``.

The steps of a day may run in separate processes (Airflow tasks), so what one step
tells the next goes through these files, never through memory:

- ``feeds/<feed>.json``: a feed's plan, written by its ingest step and completed by the
  warehouse load (``pipeline.ingest.FeedPlan``);
- ``alerts.json``: what raising the alerts reported (signals, alert figures, returned
  workbooks), with the digest of the inputs it saw and, for a rerun that kept the day's
  alerts, the township files it kept; read by the publish step;
- ``partitions/<name>.json``: one partition's report in a partitioned deployment;
- ``inputs.json``: the digest of the inputs of the last *complete* run of the date,
  written once its outbox is whole (``pipeline.rerun`` compares a rerun against it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.outbox import atomic_write_text
from pipeline.paths import Home

if TYPE_CHECKING:  # the ingest step writes plans here and need not import DuckDB's steps
    from pipeline.alerts.lifecycle import AlertReport
    from pipeline.signals.build import SignalReport


@dataclass(frozen=True)
class RunFolder:
    """``HOME/runs/<date>/`` and the files in it."""

    root: Path

    @classmethod
    def of(cls, home: Home, business_date: date) -> RunFolder:
        return cls(home.run_dir(business_date))

    def feed_plan(self, feed: str) -> Path:
        return self.root / "feeds" / f"{feed}.json"

    @property
    def alert_report(self) -> Path:
        return self.root / "alerts.json"

    @property
    def inputs(self) -> Path:
        return self.root / "inputs.json"

    def partition_report(self, partition: str) -> Path:
        return self.root / "partitions" / f"{partition}.json"


@dataclass
class RaisedDay:
    """What raising the alerts of a date reported, for the publish step.

    ``digest``: the inputs it saw (None when it was not computed: a partitioned day);
    ``kept_township_files``: set when a rerun with unchanged inputs kept the alerts and
    the township files of the last complete run (names and sha256, as in the manifest).
    """

    signals: SignalReport
    alerts: AlertReport
    digest: str | None = None
    kept_township_files: dict[str, str] | None = field(default=None)


def write_raised(folder: RunFolder, raised: RaisedDay) -> Path:
    atomic_write_text(folder.alert_report, json.dumps(asdict(raised), ensure_ascii=False))
    return folder.alert_report


def read_raised(folder: RunFolder) -> RaisedDay | None:
    """The date's alert report, or None when its alerts were not raised yet."""
    from pipeline.alerts.lifecycle import AlertReport
    from pipeline.signals.build import SignalReport

    if not folder.alert_report.is_file():
        return None
    report = json.loads(folder.alert_report.read_text(encoding="utf-8"))
    return RaisedDay(
        SignalReport(**report["signals"]),
        AlertReport(**report["alerts"]),
        report.get("digest"),
        report.get("kept_township_files"),
    )


def write_complete(folder: RunFolder, digest: str) -> None:
    """The date's outbox is whole: a rerun with these inputs may keep its alerts."""
    atomic_write_text(folder.inputs, json.dumps({"digest": digest}))


def read_complete(folder: RunFolder) -> str | None:
    """The digest of the last complete run's inputs, if that run is complete."""
    if not folder.inputs.is_file():
        return None
    return str(json.loads(folder.inputs.read_text(encoding="utf-8")).get("digest"))


def start_raising(folder: RunFolder) -> None:
    """Raising the date's alerts has started: until its outbox is complete there is
    nothing a rerun may keep, and no alert report for ``publish`` to read."""
    folder.inputs.unlink(missing_ok=True)
    folder.alert_report.unlink(missing_ok=True)


def write_partition_report(folder: RunFolder, partition: str, report: dict[str, Any]) -> Path:
    path = folder.partition_report(partition)
    atomic_write_text(path, json.dumps(report, ensure_ascii=False, indent=1))
    return path


def read_partition_report(folder: RunFolder, partition: str) -> dict[str, Any] | None:
    path = folder.partition_report(partition)
    if not path.is_file():
        return None
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report
