"""考核评估 on a hand-built month: alerts verified on time, late and never, cases in place on
time, late and never, the median working days across the National Day holiday, and the
monthly files on their day only (docs/assistance.md, "Assessment")."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipeline import sql
from pipeline.alerts.lifecycle import ensure_schema
from pipeline.alerts.rules import load_rules
from pipeline.assessment import (
    Period,
    assessment,
    ensure_assistance_schema,
    monthly_assessment_files,
    previous_month,
    running_period,
)
from pipeline.assessment.figures import cases_by_status, overdue_cases, working_days_between

RULES = load_rules()
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
TABLE_DAY = date(2026, 11, 1)  # assessment.day_of_month: the 1st

T1, T2 = "341702101", "341702102"
V11, V12, V21 = f"{T1}201", f"{T1}202", f"{T2}201"
AREAS = (
    (T1, "清溪乡", V11, "湖门村"),
    (T1, "清溪乡", V12, "石桥村"),
    (T2, "梅村镇", V21, "柳塘村"),
)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


# alert_id, village, first_raised, verify_by, status, closed_date, close_cause
ALERTS = (
    # Raised the day before National Day, due 2026-10-12, verified on 10-09: on time, after
    # 2 working days (10-08, 10-09), not the 7 of a Monday-Friday count.
    ("A1", V11, d(9, 30), d(10, 12), "closed", d(10, 9), "核实：属实-已纳入监测"),
    # Due 10-13, verified 10-20: late, after 9 working days (the Saturday 10-10 is one).
    ("A2", V11, d(10, 8), d(10, 13), "closed", d(10, 20), "核实：不属实"),
    # Due 10-20, still open: overdue.
    ("A3", V12, d(10, 14), d(10, 20), "escalated", None, None),
    # Due 10-30, verified only on 11-01: overdue at the end of October.
    ("A4", V21, d(10, 16), d(10, 30), "closed", d(11, 1), "核实：风险已消除"),
    # Evidence withdrawn before its deadline: nothing left to verify, not counted.
    ("A5", V21, d(10, 9), d(10, 15), "closed", d(10, 10), "证据撤回"),
    # Evidence withdrawn after its deadline had passed: it was overdue.
    ("A6", V21, d(10, 9), d(10, 15), "closed", d(10, 20), "证据撤回"),
    # Due outside October: not this month's.
    ("A7", V11, d(10, 26), d(11, 5), "open", None, None),
    ("A8", V11, d(9, 20), d(9, 30), "closed", d(9, 29), "核实：不属实"),
)
# case_id, village, confirmed_date, due_by, status, in_place_date, closed_date
CASES = (
    ("C1", V11, d(9, 10), d(10, 10), "in_place", d(10, 9), None),
    ("C2", V12, d(9, 15), d(10, 15), "in_place", d(10, 25), None),
    ("C3", V21, d(9, 20), d(10, 20), "overdue", None, None),
    ("C4", V21, d(9, 30), d(10, 31), "in_place", d(11, 1), None),
    # Closed (已消除) before its deadline without help in place: not counted.
    ("C5", V11, d(9, 20), d(10, 20), "closed", None, d(10, 18)),
    ("C6", V11, d(10, 10), d(11, 10), "awaiting", None, None),
)


def warehouse(path: Path, alerts=ALERTS, cases=CASES) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(path))
    connection.execute("create schema staging")
    households = pd.DataFrame(
        [
            {
                "household_id": f"H{index}",
                "township_code": township,
                "township_name": township_name,
                "village_code": village,
                "village_name": village_name,
            }
            for index, (township, township_name, village, village_name) in enumerate(AREAS)
        ]
    )
    connection.register("households", households)
    connection.execute("create table staging.cur_households as select * from households")
    ensure_schema(connection)
    sql.script(connection, "assistance/schema")
    for alert_id, village, first, due, status, closed, cause in alerts:
        connection.execute(
            "insert into alerts.alerts (alert_id, household_id, category, grade, status, "
            "first_raised, last_updated, verify_by, reasons, township_code, village_code, "
            "closed_date, close_cause, close_result) values ($id, $household, 'medical_burden', "
            "'red', $status, $first, $first, $due, '…', $township, $village, $closed, $cause, "
            "$result)",
            {
                "id": alert_id,
                "household": f"H-{alert_id}",
                "status": status,
                "first": first,
                "due": due,
                "township": village[:9],
                "village": village,
                "closed": closed,
                "cause": cause,
                "result": cause.removeprefix("核实：")
                if cause and cause.startswith("核实")
                else None,
            },
        )
    for case_id, village, confirmed, due, status, in_place, closed in cases:
        connection.execute(
            "insert into assistance.cases (case_id, household_id, township_code, village_code, "
            "categories, confirmed_date, due_by, status, in_place_date, closed_date) values "
            "($id, $household, $township, $village, 'medical_burden', $confirmed, $due, $status, "
            "$in_place, $closed)",
            {
                "id": case_id,
                "household": f"H-{case_id}",
                "township": village[:9],
                "village": village,
                "confirmed": confirmed,
                "due": due,
                "status": status,
                "in_place": in_place,
                "closed": closed,
            },
        )
    return connection


@pytest.fixture
def month(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    with warehouse(tmp_path / "warehouse.duckdb") as connection:
        yield connection


def rows_by_area(table: pd.DataFrame) -> dict[tuple[str, str | None], dict[str, object]]:
    return {
        (row["level"], row["village_code"] or row["township_code"]): row
        for row in table.astype(object).where(table.notna(), None).to_dict("records")
    }


FIGURES = (
    "alerts_due",
    "alerts_verified_on_time",
    "alerts_verified_late",
    "alerts_overdue",
    "median_working_days_to_verify",
    "cases_due",
    "cases_in_place_on_time",
    "cases_in_place_late",
    "cases_overdue",
)


def test_the_month_counts_on_time_late_and_overdue_per_village_township_and_district(month):
    table = assessment(month, RULES, OCTOBER, TABLE_DAY)
    rows = rows_by_area(table)
    figures = {area: tuple(row[name] for name in FIGURES) for area, row in rows.items()}
    assert figures == {
        ("village", V11): (2, 1, 1, 0, 5.5, 1, 1, 0, 0),
        ("village", V12): (1, 0, 0, 1, None, 1, 0, 1, 0),
        ("township", T1): (3, 1, 1, 1, 5.5, 2, 1, 1, 0),
        ("village", V21): (2, 0, 0, 2, None, 2, 0, 0, 2),
        ("township", T2): (2, 0, 0, 2, None, 2, 0, 0, 2),
        ("district", None): (5, 1, 1, 3, 5.5, 4, 1, 1, 2),
    }
    # Townships in code order, each followed by its villages, the district last; names
    # from the registry.
    names = table[["level", "township_name", "village_name"]].astype(object)
    assert list(names.where(names.notna(), None).itertuples(index=False, name=None)) == [
        ("township", "清溪乡", None),
        ("village", "清溪乡", "湖门村"),
        ("village", "清溪乡", "石桥村"),
        ("township", "梅村镇", None),
        ("village", "梅村镇", "柳塘村"),
        ("district", None, None),
    ]
    # The grid-report feed does not exist yet: the column is there, empty.
    assert table["grids_not_reported"].isna().all()


def test_time_to_verify_is_counted_in_official_working_days():
    calendar = RULES.working_calendar()
    starts = pd.Series([d(9, 30), d(10, 8), d(10, 9)])
    ends = pd.Series([d(10, 9), d(10, 20), None])
    assert working_days_between(calendar, starts, ends).tolist() == [2, 9, pd.NA]
    # Monday to Friday would have said 7 and 8: the holiday and the make-up Saturday count.
    weekdays = [
        len(pd.bdate_range(start, end)) - 1 for start, end in zip(starts[:2], ends[:2], strict=True)
    ]
    assert weekdays == [7, 8]
    # A deadline is the same count: the 4th working day after 09-30 is 10-12.
    assert calendar.add_working_days(d(9, 30), 4) == d(10, 12)


def test_an_alert_due_on_the_business_date_is_not_late_yet(month):
    day = d(10, 20)  # A3 is due today and still open; A2 was verified late today
    table = rows_by_area(assessment(month, RULES, running_period(RULES, day), day))
    district = table[("district", None)]
    assert (district["alerts_verified_late"], district["alerts_overdue"]) == (1, 1)  # A2; A6
    assert district["alerts_due"] == 4  # A1, A2, A6 and A8 (due 09-30); not A3, not yet
    # C3 and C5 are due today: C3 not in place yet, C5 closed without help: neither counted.
    assert district["cases_due"] == 2  # C1 on time, C2 overdue on 10-20 (in place 10-25)
    assert (district["cases_in_place_on_time"], district["cases_overdue"]) == (1, 1)


def test_the_running_period_ends_on_the_business_date():
    period = running_period(RULES, d(11, 1))
    assert (period.first, period.last) == (d(10, 3), d(11, 1))  # running_days: 30
    assert previous_month(d(11, 1)) == OCTOBER
    assert previous_month(date(2026, 1, 1)) == Period(date(2025, 12, 1), date(2025, 12, 31))


def read_csv(path: Path) -> pd.DataFrame:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str)


def test_the_previous_months_files_are_written_on_the_table_day_only(month, tmp_path):
    outbox = tmp_path / "outbox"
    assert monthly_assessment_files(month, RULES, d(11, 2), outbox) == {}
    assert monthly_assessment_files(month, RULES, d(10, 31), outbox) == {}
    assert not outbox.exists()

    written = monthly_assessment_files(month, RULES, TABLE_DAY, outbox)
    assert list(written) == ["assessment_202610.csv", "assessment_202610.xlsx"]
    assert sorted(path.name for path in outbox.iterdir()) == list(written)
    table = read_csv(outbox / "assessment_202610.csv")
    assert set(table["period_first"]) == {"2026-10-01"}
    assert set(table["period_last"]) == {"2026-10-31"}
    assert list(zip(table["level"], table["township_code"].fillna(""), strict=True)) == [
        ("township", T1),
        ("village", T1),
        ("village", T1),
        ("township", T2),
        ("village", T2),
        ("district", ""),
    ]
    district = table.iloc[-1]
    assert (district["alerts_due"], district["alerts_overdue"], district["cases_overdue"]) == (
        "5",
        "3",
        "2",
    )
    assert district["median_working_days_to_verify"] == "5.5"

    sheet = load_workbook(outbox / "assessment_202610.xlsx").active
    assert sheet.title == "考核评估"
    assert "2026年10月" in sheet["A1"].value
    headers = [cell.value for cell in sheet[3]]
    assert headers[:5] == ["层级", "乡镇代码", "乡镇", "村代码", "村"]
    assert {
        "按期核实",
        "逾期核实",
        "逾期未核实",
        "期限内落实",
        "逾期未落实",
        "未报送月报网格数",
    } <= set(headers)
    levels = [sheet.cell(row, 1).value for row in range(4, sheet.max_row + 1)]
    assert levels == ["乡镇", "村", "村", "乡镇", "村", "全区"]
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"

    # The same warehouse gives the same bytes.
    again = monthly_assessment_files(month, RULES, TABLE_DAY, tmp_path / "again")
    assert again == written


def test_a_name_that_looks_like_a_formula_stays_text(tmp_path):
    with warehouse(tmp_path / "warehouse.duckdb") as connection:
        connection.execute(
            "update staging.cur_households set village_name = '=1+1' where village_code = $v",
            {"v": V12},
        )
        monthly_assessment_files(connection, RULES, TABLE_DAY, tmp_path / "outbox")
    sheet = load_workbook(tmp_path / "outbox" / "assessment_202610.xlsx").active
    cell = next(cell for row in sheet.iter_rows() for cell in row if cell.value == "=1+1")
    assert cell.data_type == "s"


def test_a_day_without_cases_or_any_assistance_table(tmp_path):
    """A warehouse from before the ledger: the assistance schema is made, empty."""
    connection = warehouse(tmp_path / "warehouse.duckdb", cases=())
    connection.execute("drop schema assistance cascade")
    with connection:
        table = rows_by_area(assessment(connection, RULES, OCTOBER, TABLE_DAY))
        assert table[("district", None)]["cases_due"] == 0
        assert table[("district", None)]["alerts_due"] == 5
        assert overdue_cases(connection, TABLE_DAY).empty
        assert cases_by_status(connection) == dict.fromkeys(
            ("awaiting", "in_place", "overdue", "closed"), 0
        )


def test_an_empty_district_has_a_district_row_of_zeros(tmp_path):
    with warehouse(tmp_path / "warehouse.duckdb", alerts=(), cases=()) as connection:
        connection.execute("delete from staging.cur_households")
        table = assessment(connection, RULES, OCTOBER, TABLE_DAY)
    assert list(table["level"]) == ["district"]
    assert table.iloc[0]["alerts_due"] == 0
    assert pd.isna(table.iloc[0]["median_working_days_to_verify"])


def test_overdue_cases_are_counted_per_village_for_the_township_heads(month):
    rows = overdue_cases(month, TABLE_DAY).to_dict("records")
    assert rows == [
        {
            "township_code": T2,
            "township_name": "梅村镇",
            "village_code": V21,
            "village_name": "柳塘村",
            "overdue_cases": 1,
            "most_days_overdue": 12,  # due 10-20
        }
    ]
    assert cases_by_status(month) == {"awaiting": 1, "in_place": 3, "overdue": 1, "closed": 1}


def test_the_schema_is_left_alone_where_it_exists(month):
    ensure_assistance_schema(month)
    assert month.execute("select count(*) from assistance.cases").fetchone() == (len(CASES),)


def test_the_summary_shows_the_cases_and_the_latest_months_table(month, tmp_path):
    from rich.console import Console

    from pipeline.report.summary import print_summary

    outboxes = tmp_path / "outbox"
    monthly_assessment_files(month, RULES, TABLE_DAY, outboxes / TABLE_DAY.isoformat())
    day = outboxes / "2026-11-03"
    day.mkdir()
    (day / "manifest.json").write_text('{"business_date": "2026-11-03", "feeds": {}}')
    statuses = ["awaiting", "in_place", "in_place", "overdue", "closed"]
    pd.DataFrame({"case_id": range(len(statuses)), "status": statuses}).to_csv(
        day / "assistance.csv", index=False, encoding="utf-8-sig"
    )
    console = Console(record=True, width=120)
    print_summary(day, console)
    shown = console.export_text()
    assert "帮扶台账" in shown
    assert re.search(r"│\s+1 │\s+2 │\s+1 │\s+1 │", shown)  # 待落实 已落实 逾期未落实 已销号
    assert "考核评估 2026年10月（2026-11-01 输出）" in shown
    assert re.search(r"全区\s+│\s+5 │\s+1 │\s+1 │\s+3 │\s+5.5 │\s+4 │\s+1 │\s+1 │\s+2 │", shown)
    # An earlier day knows no later month's table.
    earlier = outboxes / "2026-10-31"
    earlier.mkdir()
    (earlier / "manifest.json").write_text('{"business_date": "2026-10-31", "feeds": {}}')
    console = Console(record=True, width=120)
    print_summary(earlier, console)
    assert "考核评估" not in console.export_text()


def test_the_grid_report_hook_fills_its_column_once_it_exists(month, monkeypatch):
    """Until the grid-report feed exists the column is empty; its hook's rows are summed per
    township and for the district."""
    from pipeline.assessment import figures as module

    monkeypatch.setattr(
        module,
        "grids_not_reported",
        lambda *_: pd.DataFrame({"village_code": [V11, V21], "grids": [2, 1]}),
    )
    table = rows_by_area(assessment(month, RULES, OCTOBER, TABLE_DAY))
    assert {area: row["grids_not_reported"] for area, row in table.items()} == {
        ("village", V11): 2,
        ("village", V12): 0,
        ("township", T1): 2,
        ("village", V21): 1,
        ("township", T2): 1,
        ("district", None): 3,
    }
