"""What verification teaches: the share of a category's verified alerts found true, and the
flag on both sides of the floor and of the minimum count (docs/assistance.md, "Rule
precision")."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa

from pipeline.alerts.lifecycle import ensure_schema
from pipeline.alerts.rules import load_rules
from pipeline.assessment import precision_by_township, precision_warnings
from pipeline.assessment.precision import precision_by_category
from pipeline.review.publish import (
    _INSERTS,
    RULE_PRECISION,
    _apply,
    _precision_rows,
    _Publication,
)

RULES = load_rules()  # precision: window_days 90, min_verified 20, floor 0.3
D = date(2026, 6, 30)
T1, T2 = "341702101", "341702102"


def warehouse(path: Path, results: list[tuple[str, str, str, date]]) -> duckdb.DuckDBPyConnection:
    """Verified alerts: (category, township, result, verification date)."""
    connection = duckdb.connect(str(path))
    connection.execute("create schema staging")
    households = pd.DataFrame(
        {
            "household_id": ["H1", "H2"],
            "township_code": [T1, T2],
            "township_name": ["清溪乡", "梅村镇"],
            "village_code": [f"{T1}201", f"{T2}201"],
            "village_name": ["湖门村", "柳塘村"],
        }
    )
    connection.register("households", households)
    connection.execute("create table staging.cur_households as select * from households")
    ensure_schema(connection)
    for index, (category, township, result, verified_on) in enumerate(results):
        connection.execute(
            "insert into alerts.alerts (alert_id, household_id, category, grade, status, "
            "first_raised, last_updated, verify_by, reasons, township_code, closed_date, "
            "close_cause, close_result) values ($id, 'H', $category, 'orange', 'closed', "
            "$raised, $on, $on, '…', $township, $on, $cause, $result)",
            {
                "id": f"A{index}",
                "category": category,
                "raised": verified_on - timedelta(days=3),
                "on": verified_on,
                "township": township,
                "cause": f"核实：{result}",
                "result": result,
            },
        )
    return connection


def verified(category: str, found_true: int, others: int, *, township: str = T1) -> list:
    """``found_true`` 属实 results (both kinds) and ``others`` not (不属实 and 风险已消除)."""
    true_results = ["属实-已纳入监测", "属实-已落实帮扶"]
    false_results = ["不属实", "风险已消除"]
    return [
        (category, township, true_results[index % 2], D - timedelta(days=index % 80))
        for index in range(found_true)
    ] + [
        (category, township, false_results[index % 2], D - timedelta(days=index % 80))
        for index in range(others)
    ]


@pytest.mark.parametrize(
    ("found_true", "others", "flagged"),
    [
        (5, 15, True),  # 20 verified, 25 % found true: under the floor
        (5, 14, False),  # 19 verified: too few to judge, however low
        (6, 14, False),  # 20 verified, 30 %: at the floor, not under it
        (5, 12, False),  # 17 verified, 29.4 %: under the floor but too few
        (29, 71, True),  # 100 verified, 29 %: just under the floor
        (30, 70, False),  # 100 verified, 30 %
    ],
)
def test_a_category_is_flagged_with_enough_verified_and_a_share_under_the_floor(
    tmp_path: Path, found_true: int, others: int, flagged: bool
):
    results = verified("medical_burden", found_true, others)
    with warehouse(tmp_path / "warehouse.duckdb", results) as connection:
        lines = precision_warnings(connection, RULES, D)
    assert bool(lines) is flagged
    if flagged:
        (line,) = lines
        assert "因病 医疗支出负担" in line
        assert "categories.medical_burden.thresholds" in line
        # Each threshold key with its current value in config/rules.yaml.
        for key, value in (
            ("window_days", "365"),
            ("share_of_rural_income_monitored", "0.5"),
            ("share_of_rural_income_other", "1"),
            ("inpatient_self_paid_monitored_yuan", "5000"),
            ("inpatient_self_paid_other_yuan", "20000"),
        ):
            assert f"{key}={value}" in line
        assert f"核实{found_true + others}条，属实{found_true}条" in line
        assert "阈值不会自动调整" in line


def test_the_count_is_district_wide_and_the_window_by_verification_date(tmp_path: Path):
    # 10 + 10 in two townships (district-wide 20, 20 % true), and old results outside the
    # 90 days, which count for nothing.
    results = [
        *verified("unemployment", 2, 8, township=T1),
        *verified("unemployment", 2, 8, township=T2),
        ("unemployment", T1, "属实-已纳入监测", D - timedelta(days=90)),
        ("unemployment", T1, "不属实", D + timedelta(days=1)),
    ]
    with warehouse(tmp_path / "warehouse.duckdb", results) as connection:
        (line,) = precision_warnings(connection, RULES, D)
        by_township = precision_by_township(connection, RULES, D)
    # A category without thresholds of its own points at its SQL step.
    assert "因失业" in line
    assert "categories.unemployment" in line
    assert "sql/signals/sig_unemployment.sql" in line
    assert by_township.to_dict("records") == [
        {
            "category": "unemployment",
            "category_label": "因失业",
            "township_code": township,
            "township_name": name,
            "verified": 10,
            "found_true": 2,
            "not_true": 4,
            "risk_eliminated": 4,
            "share_found_true": 0.2,
            "is_category_flagged": True,
        }
        for township, name in ((T1, "清溪乡"), (T2, "梅村镇"))
    ]


def test_every_category_is_a_row_of_the_district_table(tmp_path: Path):
    with warehouse(tmp_path / "warehouse.duckdb", verified("disaster", 3, 1)) as connection:
        table = precision_by_category(precision_by_township(connection, RULES, D), RULES)
    assert list(table["category"]) == list(RULES.categories)
    disaster = table.set_index("category").loc["disaster"]
    assert (disaster["verified"], disaster["found_true"], disaster["share_found_true"]) == (
        4,
        3,
        0.75,
    )
    assert not table["is_flagged"].any()
    assert table.set_index("category").loc["housing_unsafe", "verified"] == 0


def test_the_review_table_holds_a_row_per_date_category_and_township(tmp_path: Path):
    results = [*verified("medical_burden", 5, 15), *verified("disaster", 1, 1, township=T2)]
    url = f"sqlite:///{tmp_path / 'review.sqlite'}"
    engine = sa.create_engine(url)
    RULE_PRECISION.create(engine)
    with warehouse(tmp_path / "warehouse.duckdb", results) as connection:
        rows = _precision_rows(connection, RULES, D)
    day = sa.literal(D, sa.Date)
    publication = _Publication(RULE_PRECISION, rows, RULE_PRECISION.c.business_date == day)
    with engine.begin() as target:
        _apply(target, _INSERTS["sqlite"], publication)
    with engine.begin() as target:  # again: nothing changes
        _apply(target, _INSERTS["sqlite"], publication)
    with engine.connect() as source:
        published = [row._asdict() for row in source.execute(sa.select(RULE_PRECISION))]
    engine.dispose()
    assert sorted((row["category"], row["township_code"]) for row in published) == [
        ("disaster", T2),
        ("medical_burden", T1),
    ]
    medical = next(row for row in published if row["category"] == "medical_burden")
    assert medical == {
        "business_date": D,
        "category": "medical_burden",
        "township_code": T1,
        "category_label": "因病 医疗支出负担",
        "township_name": "清溪乡",
        "verified": 20,
        "found_true": 5,
        "not_true": 8,
        "risk_eliminated": 7,
        "share_found_true": 0.25,
        "is_category_flagged": 1,
    }
