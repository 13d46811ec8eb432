"""Read-only questions to the warehouse, safe while other feeds ingest in parallel."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import duckdb

from pipeline.paths import Home


# DuckDB draws a progress bar on the terminal for queries of more than two seconds (a
# district of a million households has them): not for a scheduler's log or a user's terminal.
def quiet(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    connection.execute("set enable_progress_bar = false")
    return connection


class WarehouseBusy(BlockingIOError):
    """Another process holds the warehouse's lock for longer than we wait: transient,
    worth a retry (DuckDB lets one process write, or several only read)."""


class WarehouseCorrupt(RuntimeError):
    """The warehouse file is damaged: no retry mends it. The message names the file and
    how to rebuild it from the staged deliveries."""


# DuckDB's words for a damaged file, and ours.
_DAMAGE = {
    "not a valid duckdb database file": "不是有效的 DuckDB 数据库文件",
    "could not read enough bytes": "文件不完整，可能被截断",
    "corrupt database file": "数据块校验和不符",
}


def damaged_warehouse(error: BaseException, path: Path) -> WarehouseCorrupt | None:
    """``error`` as a :class:`WarehouseCorrupt` naming ``path``, when it is DuckDB finding
    a database file damaged (opening it, or reading a block of it later); else None."""
    if not isinstance(error, duckdb.Error):
        return None
    text = str(error).lower()
    damage = next((ours for theirs, ours in _DAMAGE.items() if theirs in text), None)
    if damage is None:
        return None
    named = re.search(r'file "([^"]+)"', str(error))  # DuckDB names the file when it can
    if named:
        if not named.group(1).endswith(".duckdb"):
            return None  # a staged Parquet file, say: not the warehouse
        path = Path(named.group(1))
    return WarehouseCorrupt(
        f"数仓文件 {path} 已损坏（{damage}），无法读取：请将它改名保留，再按 README"
        "「数仓文件损坏时」的步骤从第一个业务日期起逐日重跑，由 HOME/staging 中已暂存的交付重建数仓"
    )


def _open(
    path: Path, *, read_only: bool, wait_s: float, pause_s: float = 0.5
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return quiet(duckdb.connect(str(path), read_only=read_only))
        except duckdb.Error as error:
            damaged = damaged_warehouse(error, path)
            if damaged is not None:
                raise damaged from error
            if not isinstance(error, duckdb.IOException) or "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"数仓 {path} 正被另一个进程使用（DuckDB 同一时间只允许一个进程写入），"
                    f"等待 {wait_s:.0f} 秒后仍未释放；请稍后重试"
                ) from error
            time.sleep(pause_s)


def connect_writer(home: Home, *, wait_s: float = 120.0) -> duckdb.DuckDBPyConnection:
    """The read-write connection; waits while another process holds the lock."""
    home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return _open(home.warehouse, read_only=False, wait_s=wait_s)


def connect_read_only(home: Home, *, wait_s: float = 60.0) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection, or None before the first load. Waits while a writer holds the lock."""
    if not home.warehouse.is_file():
        return None
    return _open(home.warehouse, read_only=True, wait_s=wait_s)


def last_delivery_before(home: Home, feed: str, business_date: date) -> date | None:
    """The newest delivery date of ``feed`` loaded before ``business_date``."""
    connection = connect_read_only(home)
    if connection is None:
        return None
    with connection:
        try:
            row = connection.execute(
                "select max(delivery_date) from meta.deliveries where feed = $feed and delivery_date < $date",
                {"feed": feed, "date": business_date},
            ).fetchone()
        except duckdb.CatalogException:
            return None
        except duckdb.Error as error:
            damaged = damaged_warehouse(error, home.warehouse)
            if damaged is not None:
                raise damaged from error
            raise
    return row[0] if row else None
