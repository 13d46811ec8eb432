"""Risk elimination candidates (风险消除), one condition at a time on both of its sides."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline.alerts.lifecycle import ensure_schema
from pipeline.alerts.rules import load_rules
from pipeline.elimination.candidates import elimination_candidates, is_list_day

D = date(2026, 4, 1)  # the list is made on the 1st; the 2026 monitoring line is carried from 2021
RULES = load_rules()
LINE = RULES.monitoring_line_for(D.year)[0]  # type: ignore[index]


@dataclass(frozen=True)
class Household:
    """A 监测户 that meets every condition unless a case changes one."""

    household_type: str = "监测户"
    risk_status: str | None = "未消除"
    monitoring_since: str | None = "202509"  # 6 months before D
    income_per_capita_yuan: float = LINE
    labourers: tuple[tuple[int, str], ...] = ((45, "普通劳动力"),)
    alerts: tuple[tuple[str, str, date], ...] = ()  # category, status, last updated
    extra_people: tuple[tuple[int, str], ...] = field(default=((70, "无劳动力"),))


def build(household: Household, path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path))
    connection.execute("create schema signals")
    ensure_schema(connection)
    households = pd.DataFrame(
        [
            {
                "household_id": "H1",
                "township_code": "341702101",
                "township_name": "清溪乡",
                "village_code": "341702101201",
                "village_name": "湖门村",
                "grid_id": "341702101201G01",
                "household_type": household.household_type,
                "monitoring_type": "边缘易致贫户",
                "risk_status": household.risk_status,
                "monitoring_since": household.monitoring_since,
                "income_per_capita_yuan": household.income_per_capita_yuan,
            }
        ]
    ).astype({"risk_status": "string", "monitoring_since": "string"})
    people = pd.DataFrame(
        [
            {
                "id_number": f"P{index}",
                "household_id": "H1",
                "age_years": age,
                "labour_skill": skill,
                # As signals/int_people decides it (its ages are tested in tests/signals).
                "is_labourer": RULES.labourer.min_age <= age <= RULES.labourer.max_age
                and skill in RULES.labourer.skills,
            }
            for index, (age, skill) in enumerate((*household.labourers, *household.extra_people))
        ],
        columns=["id_number", "household_id", "age_years", "labour_skill", "is_labourer"],
    )
    connection.register("households", households)
    connection.execute("create table signals.int_households as select * from households")
    connection.register("people", people)
    connection.execute("create table signals.int_people as select * from people")
    for index, (category, status, updated) in enumerate(household.alerts):
        connection.execute(
            "insert into alerts.alerts (alert_id, household_id, category, grade, status, "
            "first_raised, last_updated, verify_by, reasons) values "
            "($id, 'H1', $category, 'yellow', $status, $updated, $updated, $updated, '…')",
            {"id": f"A{index}", "category": category, "status": status, "updated": updated},
        )
    return connection


BASE = Household()
CASES = [
    ("meets every condition", BASE, True),
    ("identified 5 months ago", replace(BASE, monitoring_since="202510"), False),
    ("identified as a full date 6 months ago", replace(BASE, monitoring_since="2025-09-15"), True),
    ("income just under the line", replace(BASE, income_per_capita_yuan=LINE - 0.01), False),
    ("an open alert", replace(BASE, alerts=(("medical_burden", "open", D),)), False),
    ("an escalated alert", replace(BASE, alerts=(("unemployment", "escalated", D),)), False),
    ("a closed medical alert", replace(BASE, alerts=(("medical_burden", "closed", D),)), True),
    (
        "a housing finding 5 months ago",
        replace(BASE, alerts=(("housing_unsafe", "closed", D - timedelta(days=150)),)),
        False,
    ),
    (
        "a water finding 7 months ago",
        replace(BASE, alerts=(("water_unsafe", "closed", D - timedelta(days=215)),)),
        True,
    ),
    (
        "an insurance finding last month",
        replace(BASE, alerts=(("medical_uninsured", "closed", D - timedelta(days=30)),)),
        False,
    ),
    ("no labourer at all", replace(BASE, labourers=()), False),
    ("only a labourer too old", replace(BASE, labourers=((66, "普通劳动力"),)), False),
    ("risk already eliminated", replace(BASE, risk_status="已消除"), False),
    ("a 脱贫户, not a 监测户", replace(BASE, household_type="脱贫户"), False),
]


@pytest.mark.parametrize(("household", "listed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_condition_on_both_sides(household, listed, tmp_path):
    with build(household, tmp_path / "warehouse.duckdb") as connection:
        frame = elimination_candidates(connection, RULES, D)
    assert (list(frame["household_id"]) == ["H1"]) is listed


def test_the_evidence_says_why_for_each_condition(tmp_path):
    with build(BASE, tmp_path / "warehouse.duckdb") as connection:
        frame = elimination_candidates(connection, RULES, D)
    evidence = frame.loc[0, "evidence"]
    assert "2025年09月识别为监测户，已7个月" in evidence
    assert f"不低于监测范围{LINE:.0f}元" in evidence
    assert "无未关闭预警" in evidence
    assert "住房安全" in evidence
    assert "有劳动力1人" in evidence
    assert frame.loc[0, "labourers"] == 1


def test_the_list_is_monthly():
    assert is_list_day(RULES, date(2026, 4, 1))
    assert not is_list_day(RULES, date(2026, 4, 2))
