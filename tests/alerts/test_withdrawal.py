"""A corrected re-delivery that removes all evidence retracts the alert, and a rerun keeps it so."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from pipeline.steps import run_day
from tests.conftest import household_row, member_row, person_id

D1, D2 = date(2026, 3, 2), date(2026, 3, 3)


def appraisal(grade):
    return [
        person_id(1),
        "户主1",
        "梅村村一组",
        grade,
        "2026-02-01",
        "未改造" if grade != "A级" else "无需改造",
    ]


def test_withdrawn_evidence_closes_the_alert_even_after_a_rerun(deliver, settings):
    deliver("households", D1, [household_row(1, size=1)])
    deliver("members", D1, [member_row(1, person_id(1), relation="户主")])
    deliver("housing_safety", D1, [appraisal("C级")])
    first = run_day(settings, D1)
    assert "housing_unsafe" in set(
        pd.read_csv(first.outbox / "alerts.csv", encoding="utf-8-sig")["category"]
    )

    deliver("housing_safety", D1, [appraisal("A级")])  # the bureau corrects its list
    for _ in range(2):  # the run, then a rerun of the same date
        result = run_day(settings, D2)
        alerts = pd.read_csv(result.outbox / "alerts.csv", encoding="utf-8-sig")
        assert "housing_unsafe" not in set(alerts["category"])
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        causes = connection.execute(
            "select event, cause from alerts.events where event = 'closed'"
        ).fetchall()
    assert causes == [("closed", "证据撤回")]
