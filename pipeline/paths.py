"""Where the project's own files live, and the layout of a pipeline HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# The project's configuration, SQL and suites sit beside the package. An installed
# copy (a container image) can point elsewhere with PIPELINE_PROJECT_DIR.
PROJECT_DIR = Path(os.environ.get("PIPELINE_PROJECT_DIR") or Path(__file__).resolve().parent.parent)
CONFIG_DIR = PROJECT_DIR / "config"
FEEDS_DIR = CONFIG_DIR / "feeds"
EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
SQL_DIR = PROJECT_DIR / "sql"


@dataclass(frozen=True)
class Home:
    """Everything the pipeline keeps: warehouse, staged deliveries, outbox, logs."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "warehouse.duckdb"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def config_file(self) -> Path:
        return self.root / "config.yaml"

    def run_dir(self, business_date: date) -> Path:
        """Per-run plans written by the feed steps and read by the warehouse build."""
        return self.root / "runs" / business_date.isoformat()

    def outbox(self, business_date: date) -> Path:
        return self.root / "outbox" / business_date.isoformat()

    def ensure(self) -> Home:
        # Personal data lives here (staging, warehouse, quarantine): owner and group only.
        for folder in (self.root, self.warehouse.parent, self.staging, self.logs):
            folder.mkdir(mode=0o750, parents=True, exist_ok=True)
        return self
