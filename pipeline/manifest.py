"""The run's manifest (docs/outputs.md, "manifest.json"): what each feed delivered, and
what was done with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline.feeds.registry import FeedSpec
from pipeline.ingest import DeliveryResult, FeedPlan
from pipeline.vocabulary import DeliveryStatus

SHOWN_STATUSES = {DeliveryStatus.LOADED, DeliveryStatus.INCOMPLETE, DeliveryStatus.REJECTED}
COUNTS = ("rows_read", "rows_loaded", "rows_quarantined")
# The registry every alert is linked through, and what a day without it in force misses.
REGISTRY_FEEDS = {
    "households": "本日无法将任何人员关联到农户，未产生任何预警",
    "members": (
        "各部门数据中的人员无法关联到农户，按人员研判的预警（就学、就业、医疗、经营、"
        "劳动力死亡等）本日均未产生"
    ),
}
WHY_NOT_READ = {
    DeliveryStatus.REJECTED: "本日交付已拒收",
    DeliveryStatus.INCOMPLETE: "本日交付不完整",
}


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
    if delivery.rows_recovered:
        entry["rows_recovered"] = delivery.rows_recovered
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
    """A feed's status and reason by the rule of docs/outputs.md, "manifest.json"."""
    deliveries = plan.deliveries if plan else []
    today = [delivery for delivery in deliveries if delivery.date == business_date.isoformat()]
    if today:
        delivery = today[-1]
        said: dict[str, str] = {
            DeliveryStatus.LOADED: "本日交付已读取",
            DeliveryStatus.UNCHANGED: "本日交付此前已读取，内容未变",
        }
        reason = delivery.reason or said.get(delivery.status, "")
        return delivery.status, reason
    late = [delivery.date for delivery in deliveries if delivery.status == DeliveryStatus.LOADED]
    if late:
        return DeliveryStatus.LOADED, f"本日无交付；读取了迟到的交付（{'、'.join(late)}）"
    if plan and plan.unavailable:
        if last_loaded is not None:
            return (
                DeliveryStatus.UNCHANGED,
                f"{plan.unavailable}；沿用 {last_loaded.isoformat()} 及以前的数据",
            )
        return DeliveryStatus.MISSING, plan.unavailable
    if deliveries:
        since = f"沿用 {last_loaded.isoformat()} 的交付" if last_loaded else "此前的交付均未能读取"
        return DeliveryStatus.UNCHANGED, f"本日无新交付，{since}"
    return DeliveryStatus.MISSING, "从未收到交付"


def registry_warnings(
    registry: dict[str, FeedSpec], feeds: dict[str, Any], in_force: dict[str, date]
) -> list[str]:
    """What a day whose household registry could not be read cannot do, for the top of the
    manifest and the report: ``feeds`` is the manifest's, ``in_force`` the date of each
    snapshot in force (the newest delivery with rows loaded)."""
    warnings = []
    for feed, consequence in REGISTRY_FEEDS.items():
        if feed not in registry or feed not in feeds:
            continue
        title, info = registry[feed].title, feeds[feed]
        since = in_force.get(feed)
        if since is None:
            if info["status"] == DeliveryStatus.LOADED:
                why = (
                    f"读取的交付中没有可入库的行（读取 {info['rows_read']} 行，"
                    f"隔离 {info['rows_quarantined']} 行，见 quarantine.csv）"
                )
            elif info["status"] in WHY_NOT_READ:
                why = f"{WHY_NOT_READ[info['status']]}（{info['reason']}）"
            else:
                why = info["reason"]
            warnings.append(
                f"{title}（{feed}）没有可用的数据，{consequence}。原因：{why}。"
                "请尽快重新交付后重新运行本日"
            )
        elif info["status"] == DeliveryStatus.REJECTED:
            warnings.append(
                f"{title}（{feed}）本日交付已拒收，本日预警仍按 {since.isoformat()} 的{title}"
                f"研判，其后的变动未纳入。原因：{info['reason']}。请尽快重新交付"
            )
    return warnings


def inbox_warnings(inbox: Path, registry: dict[str, FeedSpec]) -> list[str]:
    """An inbox without a single feed's folder: most likely a share that did not mount."""
    folders = [spec.feed for spec in registry.values() if spec.is_file_feed]
    if not folders or any((inbox / feed).is_dir() for feed in folders):
        return []
    return [
        f"收件箱 {inbox} 中没有任何部门的文件夹，所有文件数据均按未交付处理：若是收件箱未挂载成功，"
        "请恢复后重新运行本日"
    ]


def build_manifest(
    business_date: date,
    registry: dict[str, FeedSpec],
    plans: dict[str, FeedPlan],
    connection: duckdb.DuckDBPyConnection,
    inbox: Path | None = None,
) -> dict[str, Any]:
    """The manifest of docs/outputs.md; ``critical_warnings`` (only when there are any)
    leads it with what makes the day's alerts incomplete, repeated first in ``warnings``."""
    last_loaded = dict(
        connection.execute(
            "select feed, max(delivery_date) from meta.deliveries group by feed"
        ).fetchall()
    )
    # The snapshot in force, as the warehouse's current views choose it.
    in_force = dict(
        connection.execute(
            "select feed, max(delivery_date) from meta.deliveries where rows_loaded > 0 "
            "group by feed"
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
        read = [delivery for delivery in deliveries if delivery.status == DeliveryStatus.LOADED]
        feeds[feed] = {
            "title": spec.title,
            "status": status,
            "reason": reason,
            **{count: sum(getattr(delivery, count) for delivery in read) for count in COUNTS},
            "deliveries": [_entry(delivery) for delivery in shown],
        }
        recovered = sum(delivery.rows_recovered for delivery in read)
        if recovered:
            # A part of rows_quarantined (pipeline/linkage/rows.py): counted once.
            feeds[feed]["rows_recovered"] = recovered
        for delivery in read:
            warnings.extend(f"{spec.title}（{delivery.file}）：{note}" for note in delivery.notes)
        warnings.extend(
            f"{spec.title}：文件夹 {feed}/ 中的 {stray['file']} 不是有效的交付，未读取："
            f"{stray['reason']}"
            for stray in (plan.strays if plan else [])
        )
        newest = last_loaded.get(feed)
        if spec.max_silence_days and newest is not None:
            silent_days = (business_date - newest).days
            if silent_days > spec.max_silence_days:
                warnings.append(
                    f"{spec.title}（{feed}）已 {silent_days} 天没有新的完整交付（约定周期 {spec.max_silence_days} 天）"
                )
    critical = [
        *(inbox_warnings(inbox, registry) if inbox is not None else []),
        *registry_warnings(registry, feeds, in_force),
    ]
    return {
        "business_date": business_date.isoformat(),
        **({"critical_warnings": critical} if critical else {}),
        "feeds": feeds,
        "outputs": {},
        "warnings": [*critical, *warnings],
    }
