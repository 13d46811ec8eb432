"""Linking department rows to households through members' ID numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd

from pipeline.steps import run_day
from tests.conftest import household_row, member_row, person_id

D = date(2026, 3, 2)


def test_people_in_no_household_are_counted_per_feed_and_ignored(deliver, settings):
    deliver("households", D, [household_row(1, head=person_id(1), size=1)])
    deliver("members", D, [member_row(1, person_id(1))])
    deliver(
        "hrss_employment",
        D,
        [
            [person_id(1), "甲", "失业登记", "", "", "2026-03-02"],
            [person_id(50), "外乡人", "失业登记", "", "", "2026-03-02"],
            [person_id(51), "外乡人", "返乡未就业", "", "", "2026-03-02"],
        ],
    )

    result = run_day(settings, D)

    assert result.manifest["feeds"]["hrss_employment"]["people_not_in_registry"] == 2
    alerts = pd.read_csv(result.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)
    assert list(zip(alerts["household_id"], alerts["category"], strict=True)) == [
        ("3417021012010001", "unemployment")
    ]


def test_a_head_listed_in_another_household_is_a_finding_not_a_crash(deliver, settings):
    shared = person_id(7)
    deliver(
        "households",
        D,
        [household_row(1, head=shared, size=1), household_row(2, head=person_id(8), size=1)],
    )
    deliver("members", D, [member_row(1, person_id(9)), member_row(2, shared)])

    result = run_day(settings, D)

    assert any(
        "户主身份证号同时登记为另一户的家庭成员" in warning
        for warning in result.manifest["warnings"]
    )
