"""网格员月报 (docs/feeds.md, "The grid reports"): each bad row's quarantine reason, the
routing of grid_report alerts to the village head, and the group grids that did not
report by the deadline on both sides of it (docs/assistance.md, "Assessment")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.alerts.rules import load_rules
from pipeline.assessment.figures import Period, grid_months_not_reported
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.settings import Settings, load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery

TOWN, VILLAGE = "341702001", "341702001001"
H1, H2 = f"{VILLAGE}0001", f"{VILLAGE}0002"
G1, G2, G3, G4 = (f"{VILLAGE}G0{n}" for n in range(1, 5))


def household(household_id: str, grid: str, sequence: int) -> list[object]:
    return [
        household_id, f"户主{sequence}", person_id(sequence), TOWN, "测试镇", VILLAGE, "测试村",
        "一组", grid, "脱贫户", None, None, None, 1, 20_000, "13800000000",
    ]  # fmt: skip


def member(household_id: str, sequence: int) -> list[object]:
    return [
        household_id, f"户主{sequence}", person_id(sequence), "户主", "男", "普通劳动力",
        "健康", None, "非在校生", "未务工",
    ]  # fmt: skip


GRIDS = [
    [TOWN, "乡镇级", "341702", "测试镇网格", "乡镇长", "13900000000"],
    [VILLAGE, "村级", TOWN, "测试村网格", "村网格长", "13900000001"],
    *([grid, "组级", VILLAGE, f"第{n}组", f"网格员{n}", "13900000002"] for n, grid in
      enumerate((G1, G2, G3, G4), start=1)),
]  # fmt: skip


def report(grid: str, household_id: str | None, when: date, kind: str) -> list[object]:
    return [grid, household_id, when, kind, "说明", "网格员"]


@pytest.fixture
def district(tmp_path: Path) -> tuple[dict[str, FeedSpec], Path, Settings]:
    registry = load_registry()
    inbox = tmp_path / "inbox"
    start = date(2026, 9, 1)
    write_delivery(inbox, registry["grids"], start, GRIDS)
    write_delivery(
        inbox, registry["households"], start, [household(H1, G1, 1), household(H2, G2, 2)]
    )
    write_delivery(inbox, registry["members"], start, [member(H1, 1), member(H2, 2)])
    return registry, inbox, load_settings(tmp_path / "home", inbox)


def test_bad_rows_are_quarantined_each_with_its_reason(
    district: tuple[dict[str, FeedSpec], Path, Settings],
) -> None:
    registry, inbox, settings = district
    day = date(2026, 10, 12)
    write_delivery(
        inbox,
        registry["grid_reports"],
        day,
        [
            report(G1, H1, date(2026, 10, 11), "重大疾病"),  # fine
            report(G1, H1, date(2026, 10, 11), "生病"),
            report(G1, H1, date(2026, 10, 13), "意外事故"),
            report(G1, None, date(2026, 10, 11), "家庭变故"),
            report(G1, H2, date(2026, 10, 11), "其他"),
            report(G1, "3417020010019999", date(2026, 10, 11), "其他"),
            report(G3, None, date(2026, 10, 11), "无异常"),  # fine
        ],
    )
    result = run_day(settings, day)
    feed = result.manifest["feeds"]["grid_reports"]
    assert (feed["rows_loaded"], feed["rows_quarantined"]) == (2, 5)
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        reasons = dict(
            connection.execute(
                "select row, reason from meta.quarantine where feed = 'grid_reports'"
            ).fetchall()
        )
        routed = connection.execute(
            "select grid_id, category, grade from alerts.alerts where category = 'grid_report'"
        ).fetchall()
    assert reasons == {
        "2": "情况类型取值不在约定范围：生病",
        "3": "上报日期晚于本批数据日期",
        "4": "情况类型不是“无异常”时户编号必填",
        "5": "该户在农户信息中属于其他网格（网格编号与户编号不符）",
        "6": "户编号不在农户信息快照中",
    }
    # What the grid worker raised goes to the village head: the alert's grid is the village.
    assert routed == [(VILLAGE, "grid_report", "red")]


@pytest.mark.parametrize(
    ("day", "missing"),
    [
        (date(2026, 10, 4), []),  # September's reports are not due yet
        (date(2026, 10, 5), [G2, G3]),  # due today: G4's came today, G2's not yet
        (date(2026, 10, 6), [G2, G3]),  # G2's came a day late: still not reported in time
    ],
)
def test_grids_not_reported_on_both_sides_of_the_due_day(
    district: tuple[dict[str, FeedSpec], Path, Settings], day: date, missing: list[str]
) -> None:
    registry, inbox, settings = district
    spec = registry["grid_reports"]
    # G1: one 无异常 row before the deadline; G2: late; G3: nothing; G4: on the due day.
    write_delivery(inbox, spec, date(2026, 9, 28), [report(G1, None, date(2026, 9, 28), "无异常")])
    write_delivery(inbox, spec, date(2026, 10, 5), [report(G4, None, date(2026, 9, 30), "无异常")])
    write_delivery(inbox, spec, date(2026, 10, 6), [report(G2, H2, date(2026, 9, 29), "其他")])
    run_day(settings, day)
    rules = load_rules()
    assert rules.assessment.grid_reports_due_day == 5
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        found = grid_months_not_reported(
            connection, rules, Period(date(2026, 10, 1), date(2026, 10, 31)), day
        )
    assert found is not None
    assert found["grid_id"].tolist() == missing
    assert set(found["report_month"]) <= {"2026-09"}
    assert set(found["township_code"]) <= {TOWN}
