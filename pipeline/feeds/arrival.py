"""Has a feed's delivery for a business date arrived, and is it overdue?

A daily file feed declares a ``deadline``: its delivery for day D is due by that
time (China time) on D+1. The scheduled run waits for it until then; after that
the run goes on without it, and says which department is late. Feeds without a
deadline (monthly, event-driven, the claims database) are never waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pipeline.feeds.inbox import delivery_path
from pipeline.feeds.registry import FeedSpec

CHINA = ZoneInfo("Asia/Shanghai")

ArrivalState = Literal["arrived", "not_awaited", "waiting", "overdue"]


@dataclass(frozen=True)
class Arrival:
    feed: str
    state: ArrivalState
    due: datetime | None
    message: str


def due_time(spec: FeedSpec, business_date: date) -> datetime | None:
    """When the delivery for ``business_date`` is due, or None if it is never awaited."""
    if spec.deadline is None:
        return None
    return datetime.combine(business_date + timedelta(days=1), spec.deadline, tzinfo=CHINA)


def check_arrival(spec: FeedSpec, inbox: Path, business_date: date, now: datetime) -> Arrival:
    """The state of ``spec``'s delivery for ``business_date`` at ``now``.

    A delivery has arrived when its ``.ok`` marker is there: a data file without
    one is still being written (or was abandoned) and is not waited on past the deadline.
    """
    due = due_time(spec, business_date)
    label = f"{spec.owner}《{spec.title}》{business_date.isoformat()}"
    if due is None:
        return Arrival(spec.feed, "not_awaited", None, f"{label}：不设送达时限，按已到数据处理")
    data = delivery_path(inbox, spec, business_date)
    marker = data.with_name(data.name + ".ok")
    if marker.is_file():
        return Arrival(spec.feed, "arrived", due, f"{label}：已送达")
    due_text = due.strftime("%Y-%m-%d %H:%M")
    half = "（数据文件已到，缺少 .ok 完成标记）" if data.is_file() else ""
    if now.astimezone(CHINA) < due:
        return Arrival(spec.feed, "waiting", due, f"{label}：等待送达，时限 {due_text}{half}")
    return Arrival(
        spec.feed,
        "overdue",
        due,
        f"{label}：逾期未送达（时限 {due_text}）{half}，本次运行按未送达处理",
    )


def arrival_size(spec: FeedSpec, inbox: Path, business_date: date) -> int:
    """Bytes a feed's ingest will look at for ``business_date``, to start the largest first;
    a database view counts as the largest (its window is read whole every day)."""
    if not spec.is_file_feed:
        return 1 << 62
    path = delivery_path(inbox, spec, business_date)
    return path.stat().st_size if path.is_file() else 0
