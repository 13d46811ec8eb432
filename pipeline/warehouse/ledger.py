"""Read-only questions to the warehouse, safe while other feeds ingest in parallel."""

from __future__ import annotations

import time
from datetime import date

import duckdb

from pipeline.paths import Home


def connect_read_only(
    home: Home, *, attempts: int = 20, pause_s: float = 0.5
) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection, or None before the first load. Waits while a writer holds the lock."""
    if not home.warehouse.is_file():
        return None
    for attempt in range(attempts):
        try:
            return duckdb.connect(str(home.warehouse), read_only=True)
        except duckdb.IOException:
            if attempt == attempts - 1:
                raise
            time.sleep(pause_s)
    return None


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
    return row[0] if row else None
