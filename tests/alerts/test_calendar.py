"""Verification deadlines on China's official calendar, with the rules' corrections."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.alerts.rules import RulesConfigError, load_rules
from tests.alerts.test_lifecycle import H1, run, warehouse  # noqa: F401  (fixture)

RULES = Path(__file__).resolve().parents[2] / "config" / "rules.yaml"
DROPOUT = "education_dropout"


def raised_on(connection, day, grade="red", rules=None):
    report, alerts = run(connection, day, (H1, DROPOUT, grade, day, "辍学"), rules=rules)
    return report, alerts[(H1, DROPOUT)].verify_by.date()


@pytest.mark.parametrize(
    ("raised", "grade", "verify_by"),
    [
        # Friday before Spring Festival: the holiday week 02-15..02-23 does not count.
        (date(2026, 2, 13), "red", date(2026, 2, 26)),
        # National Day and Mid-Autumn, 10-01..10-07, and the make-up Saturday 10-10.
        (date(2026, 9, 30), "red", date(2026, 10, 12)),
        # The make-up Saturday 02-14 counts: Fri 13, Sat 14, then Tue 24 and Wed 25.
        (date(2026, 2, 12), "red", date(2026, 2, 25)),
        # An ordinary week: Tue, Wed, Thu, Fri.
        (date(2026, 3, 2), "red", date(2026, 3, 6)),
    ],
)
def test_deadline_counts_the_official_calendar(warehouse, raised, grade, verify_by):  # noqa: F811
    report, deadline = raised_on(warehouse, raised, grade)
    assert deadline == verify_by
    assert report.warnings == []


def rules_with(tmp_path, **entries):
    """The rules in force with some top-level entries replaced, as a bureau would edit them."""
    text = RULES.read_text(encoding="utf-8")
    for key, value in entries.items():
        text = text.replace(f"\n{key}: []\n", f"\n{key}: {value}\n")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def test_a_holiday_range_spanning_a_weekend_is_one_entry(warehouse, tmp_path):  # noqa: F811
    # A local holiday Friday to Monday: after Thu 03-05 come Tue 03-10, Wed, Thu and Fri.
    rules = rules_with(tmp_path, holidays='["2026-03-06..2026-03-09"]')
    assert sorted(rules.holidays) == [date(2026, 3, day) for day in (6, 7, 8, 9)]
    _, deadline = raised_on(warehouse, date(2026, 3, 5), rules=rules)
    assert deadline == date(2026, 3, 13)


def test_the_rules_correct_the_package(warehouse, tmp_path):  # noqa: F811
    # Declared worked: Monday 02-23 of the Spring Festival holiday.
    rules = rules_with(tmp_path, makeup_working_days="[2026-02-23]")
    _, deadline = raised_on(warehouse, date(2026, 2, 13), rules=rules)
    assert deadline == date(2026, 2, 25)


def test_a_year_past_the_calendar_counts_monday_to_friday_and_says_so(warehouse):  # noqa: F811
    report, deadline = raised_on(warehouse, date(2026, 12, 30))
    # Thu 12-31, then Fri 2027-01-01, Mon 01-04, Tue 01-05 (no holiday known for 2027).
    assert deadline == date(2027, 1, 5)
    assert len(report.warnings) == 1
    assert "2027年的法定节假日和调休安排尚未收录" in report.warnings[0]
    assert "周一至周五" in report.warnings[0]


def test_a_year_listed_in_the_rules_needs_no_fallback(warehouse, tmp_path):  # noqa: F811
    rules = rules_with(
        tmp_path,
        holidays='["2027-01-01"]',
        calendar_years_in_rules="[2027]",
    )
    report, deadline = raised_on(warehouse, date(2026, 12, 30), rules=rules)
    assert deadline == date(2027, 1, 6)
    assert report.warnings == []


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            {"holidays": '["2026-03-09..2026-03-06"]'},
            "holidays: Value error, '2026-03-09..2026-03-06': the range ends",
        ),
        ({"holidays": '["2026-03-06..2026-02-30"]'}, "a range is YYYY-MM-DD..YYYY-MM-DD"),
        (
            {"holidays": "[2026-03-06]", "makeup_working_days": "[2026-03-06]"},
            "a day is one or the other",
        ),
    ],
)
def test_a_wrong_calendar_entry_names_the_file_and_field(tmp_path, entries, message):
    with pytest.raises(RulesConfigError) as error:
        rules_with(tmp_path, **entries)
    assert str(tmp_path / "rules.yaml") in str(error.value)
    assert message in str(error.value)
