"""The demo district's planted cases: exactly those households are alerted, with the
grades the rules give them (docs/warning-rules.md, "Grade adjustments": base grade, near
the line, compound risk).

The truth follows docs/warning-rules.md. Known disagreement of sig_medical_uninsured.sql
with the rule "a member whose row was quarantined is reported, not alerted"
(docs/warning-rules.md, "Categories", says which rows the SQL matches): the SQL only
recognises a quarantined enrolment row by its name and the first 14 digits of its ID
number, so a row quarantined for a missing 姓名 or an impossible birth date in the ID
still makes its (insured) member "不在参保名单中" and alerts the household."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline.alerts.rules import load_rules
from pipeline.steps import run_day
from tests.conftest import home_for

START, END = date(2026, 3, 1), date(2026, 3, 4)


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("alerts")
    summary = generate_district(root / "inbox", households=600, start=START, end=END, seed=11)
    settings = home_for(root, summary.claims_url, root / "inbox")
    day, result, outboxes = START, None, {}
    while day <= END:
        result = run_day(settings, day)
        outboxes[day] = result.outbox
        day += timedelta(days=1)
    assert result is not None
    alerts = pd.read_csv(result.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    return {"alerts": alerts, "truth": truth, "outboxes": outboxes}


def test_the_flood_the_water_outage_and_the_unemployment_wave_raise_regional_warnings(district):
    raised = set()
    for outbox in district["outboxes"].values():
        regional = pd.read_csv(outbox / "regional_alerts.csv", encoding="utf-8-sig", dtype=str)
        raised |= set(zip(regional["scope_code"], regional["rule"], strict=True))
    expected = {(case["scope_code"], case["rule"]) for case in district["truth"]["regional"]}
    assert {rule for _, rule in expected} == {"disaster", "water", "unemployment"}
    assert expected <= raised


def test_the_first_of_the_month_lists_households_ready_for_risk_elimination(district):
    outboxes = district["outboxes"]
    first = pd.read_csv(
        outboxes[START] / "elimination_candidates.csv", encoding="utf-8-sig", dtype=str
    )
    assert len(first) > 0
    assert (first["labourers"].astype(int) >= 1).all()
    alerted = pd.read_csv(outboxes[START] / "alerts.csv", encoding="utf-8-sig", dtype=str)
    assert not set(first["household_id"]) & set(alerted["household_id"])
    # A monthly list: not made on the other days.
    assert not (outboxes[START + timedelta(days=1)] / "elimination_candidates.csv").exists()


def test_every_category_is_planted(district):
    planted = {entry["category"] for entry in district["truth"]["alerts"]}
    categories = set(load_rules().categories)
    assert planted == categories, sorted(categories - planted)
    grades = {(entry["category"], entry["grade"]) for entry in district["truth"]["alerts"]}
    for category, grade in (
        ("housing_unsafe", "orange"),
        ("housing_unsafe", "red"),
        ("medical_burden", "orange"),
        ("medical_burden", "red"),
        ("income_below_line", "orange"),
        ("income_below_line", "red"),
        ("labour_death", "orange"),
        ("labour_death", "red"),
        ("sudden_hardship", "yellow"),
        ("sudden_hardship", "orange"),
        ("unemployment", "yellow"),
        ("unemployment", "orange"),
        ("water_unsafe", "orange"),
        ("water_unsafe", "red"),
        ("disaster", "yellow"),
        ("disaster", "orange"),
        ("disaster", "red"),
    ):
        assert (category, grade) in grades, (category, grade)


def test_exactly_the_planted_households_are_alerted_with_their_grades(district):
    alerts, truth = district["alerts"], district["truth"]
    found = set(zip(alerts["household_id"], alerts["category"], alerts["grade"], strict=True))
    expected = {
        (entry["household_id"], entry["category"], entry["grade"]) for entry in truth["alerts"]
    }
    if found == expected:
        return
    reasons = {
        (row.household_id, row.category): row.reasons for row in alerts.itertuples(index=False)
    }
    planted = {
        (case.get("household_id"), case["category"]): case["case"] for case in truth["cases"]
    }
    lines = []
    for key in sorted(found - expected):
        lines.append(f"alerted but not expected: {key} — {reasons[key[:2]][:160]}")
    for key in sorted(expected - found):
        lines.append(f"expected but not alerted as such: {key} — planted: {planted.get(key[:2])}")
    pytest.fail(f"{len(lines)} differences between alerts.csv and truth.json:\n" + "\n".join(lines))


def test_applications_with_and_without_authorisation_are_compared_as_the_rule_says(district):
    frames = [
        pd.read_csv(outbox / "comparisons.csv", encoding="utf-8-sig", dtype=str)
        for outbox in district["outboxes"].values()
    ]
    comparisons = pd.concat(frames, ignore_index=True)
    unauthorised = comparisons[comparisons["finding"] == "authorisation_missing"]
    assert len(unauthorised) > 0
    # An application without authorisation has that one row and nothing looked up.
    lone = comparisons[comparisons["application_id"].isin(unauthorised["application_id"])]
    assert list(lone["finding"].unique()) == ["authorisation_missing"]
    assert lone["household_id"].isna().all()
    found = comparisons[~comparisons["finding"].isin(["none", "authorisation_missing"])]
    assert len(found) > 0
