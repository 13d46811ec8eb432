"""How each department's feed stood on a business date: one row per feed.

Used for the BI table ``fpwarn_feed_health`` and by the report page, so it knows nothing
of SQLAlchemy: the warehouse (DuckDB) and the run's manifest in, a DataFrame out.

*Last good delivery* is the newest delivery dated on or before the business date that
the ledger (``meta.deliveries``) held by then and that the warehouse uses: a snapshot with
at least one loaded row (an empty or wholly quarantined snapshot does not replace the
state in force, see ``current_view_sql``), or an increment that loaded rows or was empty
on purpose ("nothing changed"). Rejected and incomplete deliveries never reach the
ledger, so they never count.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

from pipeline import sql
from pipeline.feeds.registry import FeedSpec, load_registry

TOP_REASONS = 3  # the text column stays readable in a BI table cell

COLUMNS = [
    "business_date",
    "feed",
    "title",
    "owner",
    "delivered",
    "status",
    "reason",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "top_quarantine_reasons",
    "last_good_delivery",
    "days_since_last_good",
]
INTEGER_COLUMNS = [
    "delivered",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "days_since_last_good",
]


def feed_health(
    connection: duckdb.DuckDBPyConnection,
    business_date: date,
    manifest: dict[str, Any],
    registry: dict[str, FeedSpec] | None = None,
) -> pd.DataFrame:
    """One row per feed of ``manifest`` (the dict ``build_manifest`` returns for
    ``business_date``), in the manifest's order.

    ``delivered`` is 1 when a delivery dated the business date is in the ledger;
    ``last_good_delivery`` and ``days_since_last_good`` are empty when the feed never
    delivered anything usable; ``top_quarantine_reasons`` lists at most three reasons of
    the day's quarantine, most frequent first (``身份证号校验位错误 12；…``). Dates are
    ``datetime.date``, counts nullable integers.
    """
    stated = manifest.get("business_date")
    if stated is not None and stated != business_date.isoformat():
        # Another day's manifest would mix two days in one row.
        raise ValueError(f"清单的业务日期为 {stated}，与 {business_date.isoformat()} 不符")
    registry = registry if registry is not None else load_registry()
    increments = sorted(feed for feed, spec in registry.items() if spec.kind == "increment")
    result = sql.execute(
        connection,
        "review/feed_health",
        {"business_date": business_date, "increment_feeds": increments},
    )
    names = [column[0] for column in result.description or []]
    ledger = {row[0]: dict(zip(names, row, strict=True)) for row in result.fetchall()}
    records = []
    for feed, entry in manifest["feeds"].items():
        spec = registry.get(feed)
        known = ledger.get(feed, {})
        records.append(
            {
                "business_date": business_date,
                "feed": feed,
                "title": entry.get("title") or (spec.title if spec else None),
                "owner": spec.owner if spec else None,
                "delivered": int(bool(known.get("delivered"))),
                "status": entry.get("status"),
                "reason": entry.get("reason") or None,
                "rows_read": entry.get("rows_read"),
                "rows_loaded": entry.get("rows_loaded"),
                "rows_quarantined": entry.get("rows_quarantined"),
                "top_quarantine_reasons": known.get("top_quarantine_reasons"),
                "last_good_delivery": known.get("last_good_delivery"),
                "days_since_last_good": known.get("days_since_last_good"),
            }
        )
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    return frame.astype(dict.fromkeys(INTEGER_COLUMNS, "Int64"))
