"""The daily report's section of the assessment, the assistance cases and the rule precision:
the figures of a hand-built month in report.html and report.pdf, counts only."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.alerts.rules import load_rules
from pipeline.assessment import assessment, precision_by_township
from pipeline.assessment.figures import cases_by_status, overdue_cases
from pipeline.assessment.precision import flag_lines, precision_by_category
from pipeline.report.page import _assessment_lines, report_html, report_pdf
from tests.assessment.test_assessment import OCTOBER, TABLE_DAY, warehouse
from tests.assessment.test_precision import verified
from tests.assessment.test_precision import warehouse as precision_warehouse
from tests.report.test_report import crowded_district

RULES = load_rules()


def quiet_district():
    """The report test's district of many townships, as the page shows it."""
    figures = crowded_district()
    figures.verification = figures.verification.rename(
        columns={"longest_overdue_days": "most_days_overdue"}
    )
    figures.feed_health = pd.DataFrame()
    return figures


def figures_of_the_month(tmp_path: Path):
    with warehouse(tmp_path / "month.duckdb") as connection:
        table = assessment(connection, RULES, OCTOBER, TABLE_DAY)
        cases = cases_by_status(connection)
        overdue = overdue_cases(connection, TABLE_DAY)
    results = [*verified("medical_burden", 5, 15), *verified("disaster", 3, 1)]
    with precision_warehouse(tmp_path / "precision.duckdb", results) as connection:
        precision = precision_by_category(
            precision_by_township(connection, RULES, date(2026, 6, 30)), RULES
        )
    return replace(
        quiet_district(),
        assessment=table[table["level"] != "village"].reset_index(drop=True),
        assessment_period=OCTOBER,
        cases=cases,
        overdue_cases=overdue,
        precision=precision,
        precision_flags=flag_lines(precision, RULES),
        precision_window_days=RULES.precision.window_days,
        precision_floor=RULES.precision.floor,
    )


def text(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", html))


def test_the_report_shows_the_assessment_the_cases_and_the_flags(tmp_path: Path):
    figures = figures_of_the_month(tmp_path)
    html = report_html(figures)
    shown = text(html)
    assert "考核评估（2026-10-01至2026-10-31）" in shown
    # District: 5 alerts due, 1 on time, 1 late, 3 overdue, median 5.5 working days; 4
    # cases due, 1 on time, 1 late, 2 overdue.
    assert "全区5113" + "5.5" + "4112" in shown
    assert "清溪乡3111" + "5.5" + "2110" in shown
    assert "梅村镇2002—2002" in shown
    # The cases by status, and the overdue ones per village, without a household.
    for label, count in (("待落实", 1), ("已落实", 3), ("逾期未落实", 1), ("已销号", 1)):
        assert f"{label}{count}" in shown
    assert "梅村镇柳塘村112" in shown
    assert "H-C3" not in html
    # The precision: the flag naming the category and its thresholds, the chart, the table.
    assert "规则需复核：因病医疗支出负担" in shown
    assert "categories.medical_burden.thresholds" in shown
    assert 'id="chart-precision"><svg' in html
    assert "因病医疗支出负担2058725.0%" in shown
    assert "因灾431075.0%" in shown


def test_a_day_with_nothing_to_assess_still_has_the_section(tmp_path: Path):
    html = report_html(quiet_district())
    shown = text(html)
    assert "本期无应核实预警和应落实帮扶台账" in shown
    assert "无逾期未落实的帮扶台账" in shown
    assert 'id="chart-precision"><svg' in html


def test_the_pdf_has_the_section_on_pages_of_its_own(tmp_path: Path):
    figures = figures_of_the_month(tmp_path)
    lines = _assessment_lines(figures)
    assert any(line.startswith("全区：应核实预警5，按期核实1") for line in lines)
    assert "梅村镇 柳塘村：1户，最长逾期12天" in lines
    assert figures.precision_flags[0] in lines
    assert report_pdf(figures).startswith(b"%PDF")


def test_without_verifications_no_rule_is_to_recalibrate():
    assert _assessment_lines(quiet_district())[-1] == "无需复核的规则"
