"""The run's manifest (``outputs.md``): what each feed delivered, what was done with it."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from pipeline.feeds.registry import FeedSpec
from pipeline.ingest import DeliveryResult, FeedPlan

SHOWN_STATUSES = {"loaded", "incomplete", "rejected"}
COUNTS = ("rows_read", "rows_loaded", "rows_quarantined")


def _entry(delivery: DeliveryResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file": delivery.file,
        "date": delivery.date,
        "sha256": delivery.sha256,
        "marker_rows": delivery.marker_rows,
        "status": delivery.status,
        "reason": delivery.reason,
        "rows_read": delivery.rows_read,
        "rows_loaded": delivery.rows_loaded,
        "rows_quarantined": delivery.rows_quarantined,
    }
    if delivery.rows_rejected:
        entry["rows_rejected"] = delivery.rows_rejected
    if delivery.encoding:
        entry["encoding"] = delivery.encoding
    if delivery.notes:
        entry["notes"] = delivery.notes
    return entry


def feed_status(
    plan: FeedPlan | None, business_date: date, last_loaded: date | None
) -> tuple[str, str]:
    """A feed's status and reason by the rule of ``outputs.md``."""
    deliveries = plan.deliveries if plan else []
    today = [delivery for delivery in deliveries if delivery.date == business_date.isoformat()]
    if today:
        delivery = today[-1]
        reason = delivery.reason or {
            "loaded": "本日交付已读取",
            "unchanged": "本日交付此前已读取，内容未变",
        }.get(delivery.status, "")
        return delivery.status, reason
    late = [delivery.date for delivery in deliveries if delivery.status == "loaded"]
    if late:
        return "loaded", f"本日无交付；读取了迟到的交付（{'、'.join(late)}）"
    if plan and plan.unavailable:
        if last_loaded is not None:
            return "unchanged", f"{plan.unavailable}；沿用 {last_loaded.isoformat()} 及以前的数据"
        return "missing", plan.unavailable
    if deliveries:
        since = f"沿用 {last_loaded.isoformat()} 的交付" if last_loaded else "此前的交付均未能读取"
        return "unchanged", f"本日无新交付，{since}"
    return "missing", "从未收到交付"


def build_manifest(
    business_date: date,
    registry: dict[str, FeedSpec],
    plans: dict[str, FeedPlan],
    connection: duckdb.DuckDBPyConnection,
) -> dict[str, Any]:
    last_loaded = dict(
        connection.execute(
            "select feed, max(delivery_date) from meta.deliveries group by feed"
        ).fetchall()
    )
    feeds: dict[str, Any] = {}
    warnings: list[str] = []
    for feed, spec in registry.items():
        plan = plans.get(feed)
        deliveries = plan.deliveries if plan else []
        status, reason = feed_status(plan, business_date, last_loaded.get(feed))
        shown = [
            delivery
            for delivery in deliveries
            if delivery.status in SHOWN_STATUSES or delivery.date == business_date.isoformat()
        ]
        read = [delivery for delivery in deliveries if delivery.status == "loaded"]
        feeds[feed] = {
            "title": spec.title,
            "status": status,
            "reason": reason,
            **{count: sum(getattr(delivery, count) for delivery in read) for count in COUNTS},
            "deliveries": [_entry(delivery) for delivery in shown],
        }
        for delivery in read:
            warnings.extend(f"{spec.title}（{delivery.file}）：{note}" for note in delivery.notes)
        newest = last_loaded.get(feed)
        if spec.max_silence_days and newest is not None:
            silent_days = (business_date - newest).days
            if silent_days > spec.max_silence_days:
                warnings.append(
                    f"{spec.title}（{feed}）已 {silent_days} 天没有新的完整交付（约定周期 {spec.max_silence_days} 天）"
                )
    return {
        "business_date": business_date.isoformat(),
        "feeds": feeds,
        "outputs": {},
        "warnings": warnings,
    }
