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
            try:
                folder.mkdir(mode=0o750, parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as error:
                raise HomeUnusable(self._blocked(folder)) from error
        return self

    def _blocked(self, folder: Path) -> str:
        # The nearest of the folder and its parents that exists and is not a folder.
        blocker = next(
            (path for path in (folder, *folder.parents) if path.exists() and not path.is_dir()),
            folder,
        )
        choose = "请用 --home（或 PIPELINE_HOME）指定一个文件夹（不存在时会自动创建）"
        if blocker == self.root:
            return f"HOME {self.root} 是一个文件，而不是文件夹：{choose}"
        if blocker.is_relative_to(self.root):
            return (
                f"HOME {self.root} 中的 {blocker.relative_to(self.root)} 是一个文件，"
                "流水线要在那里建文件夹：请将这个文件移走或改名"
            )
        return f"HOME {self.root} 无法创建：{blocker} 是一个文件，而不是文件夹：{choose}"


class HomeUnusable(RuntimeError):
    """HOME, or a folder the pipeline keeps in it, is a file: the message says which."""
