"""Awaiting a daily feed until its deadline: arrived, still awaited, overdue, never awaited."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from pipeline import steps
from pipeline.feeds.arrival import CHINA, check_arrival, due_time
from tests.conftest import write_delivery

DAY = date(2026, 3, 4)


def china(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=CHINA)


def test_a_daily_feed_is_due_at_its_deadline_the_morning_after(registry):
    water = registry["water_supply"]
    assert water.deadline == time(8, 0)
    assert due_time(water, DAY) == china(8)
    # Monthly, event-driven and database feeds are never awaited.
    for feed in ("households", "disaster_events", "med_claims"):
        assert due_time(registry[feed], DAY) is None


def test_before_the_deadline_a_missing_delivery_is_awaited(registry, tmp_path):
    arrival = check_arrival(registry["water_supply"], tmp_path, DAY, china(7, 59))
    assert arrival.state == "waiting"
    assert arrival.state not in ("arrived", "not_awaited")
    assert (
        arrival.message == "区水利局《农村供水问题台账》2026-03-04：等待送达，时限 2026-03-05 08:00"
    )


def test_after_the_deadline_it_is_overdue_and_the_department_is_named(registry, tmp_path):
    arrival = check_arrival(registry["water_supply"], tmp_path, DAY, china(8, 0))
    assert arrival.state == "overdue"
    assert arrival.state not in ("arrived", "not_awaited")
    assert arrival.message.startswith("区水利局《农村供水问题台账》2026-03-04：逾期未送达")
    assert "本次运行按未送达处理" in arrival.message
    # The scheduler's clock is UTC: 23:30 UTC is 07:30 in China, 00:30 UTC is 08:30.
    water = registry["water_supply"]
    assert (
        check_arrival(water, tmp_path, DAY, datetime(2026, 3, 4, 23, 30, tzinfo=UTC)).state
        == "waiting"
    )
    assert (
        check_arrival(water, tmp_path, DAY, datetime(2026, 3, 5, 0, 30, tzinfo=UTC)).state
        == "overdue"
    )


def test_a_data_file_without_its_marker_has_not_arrived(registry, tmp_path):
    spec = registry["police_hukou"]
    write_delivery(tmp_path, spec, DAY, [], marker=False)
    waiting = check_arrival(spec, tmp_path, DAY, china(6, 30))
    assert waiting.state == "waiting"
    assert "缺少 .ok 完成标记" in waiting.message
    assert check_arrival(spec, tmp_path, DAY, china(9)).state == "overdue"


def test_a_delivery_with_its_marker_has_arrived_even_after_the_deadline(registry, tmp_path):
    spec = registry["edu_students"]
    write_delivery(tmp_path, spec, DAY, [])
    for now in (china(6, 30), china(23), china(9, day=20)):
        arrival = check_arrival(spec, tmp_path, DAY, now)
        assert arrival.state == "arrived"


def test_the_step_reports_state_and_message(registry, tmp_path):
    (tmp_path / "home").mkdir()
    inbox, home = str(tmp_path / "inbox"), str(tmp_path / "home")
    # A backfill of an old date: the deadline passed long ago, nothing is awaited.
    day = steps.open_day("2026-03-04", inbox, home)
    result = steps.await_delivery(day, "hrss_employment")
    assert result["state"] == "overdue"
    assert "区人力资源和社会保障局" in result["message"]
    assert steps.await_delivery(day, "households")["state"] == "not_awaited"
    with pytest.raises(steps.StepError, match="unknown feed"):
        steps.await_delivery(day, "nosuch")
