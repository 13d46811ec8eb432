"""A case's life on a hand-built registry (docs/assistance.md, "The assistance ledger"): its
one-month deadline on both sides, overdue cases for the township head, closing when the
registry marks the household 已消除 (never without a labourer, never on a registry that
still shows it as before the verification), and a rerun of a date reproducing it."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipeline.assistance.model import add_months
from pipeline.dispatch.township_workbook import (
    DETAIL_SHEET,
    LEDGER_SHEET,
    SUMMARY_SHEET,
    detail_column,
)
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import household_row, member_row, person_id, warehouse_contents, write_delivery

VERIFIED = date(2026, 1, 31)  # due 2026-02-28: the day clamped to February's last
NEXT = date(2026, 2, 1)
DUE, AFTER = date(2026, 2, 28), date(2026, 3, 1)
ELIMINATED, AT_RISK_AGAIN, ELIMINATED_AGAIN = (date(2026, 3, day) for day in (2, 3, 4))
TOWNSHIP = "341702101"
LABOURER, NO_LABOURER, LAGGING = 1, 2, 3


def household(number: int, *, kind: str, risk: str | None, income: float) -> list[object]:
    row = household_row(number, kind=kind, income=income)
    row[11] = risk  # 风险状态
    return row


def member(number: int, *, labourer: bool) -> list[object]:
    row = member_row(number, person_id(100 + number))
    if not labourer:
        row[5] = "丧失劳动力"
    return row


def deliver_registry(inbox, registry, day: date, households: list[list[object]]) -> None:
    write_delivery(inbox, registry["households"], day, households)
    write_delivery(
        inbox,
        registry["members"],
        day,
        [member(number, labourer=number != NO_LABOURER) for number in (1, 2, 3)],
    )


@pytest.fixture(scope="module")
def life(tmp_path_factory, registry):
    root = tmp_path_factory.mktemp("cases")
    inbox = root / "inbox"
    inbox.mkdir()
    settings = load_settings(root / "home", inbox)
    low = 8000  # 4,000 yuan a head, under the monitoring line: income_below_line
    deliver_registry(
        inbox,
        registry,
        VERIFIED,
        [
            household(LABOURER, kind="一般农户", risk=None, income=low),
            household(NO_LABOURER, kind="一般农户", risk=None, income=low),
            household(LAGGING, kind="监测户", risk="已消除", income=low),
        ],
    )
    results = {VERIFIED: run_day(settings, VERIFIED)}
    sent = next((results[VERIFIED].outbox / "townships").glob(f"{TOWNSHIP}_*.xlsx"))
    book = openpyxl.load_workbook(sent)
    sheet = book[DETAIL_SHEET]
    for row in range(2, sheet.max_row + 1):
        for header, value in (
            ("核实结果", "属实-已纳入监测"),
            ("核实人", "李网格"),
            ("核实日期", VERIFIED),
        ):
            sheet.cell(row=row, column=detail_column(header), value=value)
    (inbox / "feedback").mkdir()
    book.save(inbox / "feedback" / sent.name)
    for day in (NEXT, DUE, AFTER):
        results[day] = run_day(settings, day)
    high = 60000
    deliver_registry(
        inbox,
        registry,
        ELIMINATED,
        [
            household(LABOURER, kind="监测户", risk="已消除", income=high),
            household(NO_LABOURER, kind="监测户", risk="已消除", income=high),
            household(LAGGING, kind="监测户", risk="已消除", income=high),
        ],
    )
    results[ELIMINATED] = run_day(settings, ELIMINATED)
    states = {}
    for day, risk in ((AT_RISK_AGAIN, "未消除"), (ELIMINATED_AGAIN, "已消除")):
        deliver_registry(
            inbox,
            registry,
            day,
            [
                household(LABOURER, kind="监测户", risk="已消除", income=high),
                household(NO_LABOURER, kind="监测户", risk="已消除", income=high),
                household(LAGGING, kind="监测户", risk=risk, income=high),
            ],
        )
        results[day] = run_day(settings, day)
    states["before"] = warehouse_contents(settings.home.warehouse)
    # The last date again, in full (its inputs unchanged would keep the day as it was).
    shutil.rmtree(settings.home.run_dir(ELIMINATED_AGAIN))
    run_day(settings, ELIMINATED_AGAIN)
    states["after"] = warehouse_contents(settings.home.warehouse)
    return {"settings": settings, "results": results, "states": states}


def case_id(number: int) -> str:
    return f"C341702101201{number:04d}-{VERIFIED:%Y%m%d}"


def listed(life, day: date) -> pd.DataFrame:
    return pd.read_csv(
        life["results"][day].outbox / "assistance.csv", encoding="utf-8-sig", dtype=str
    ).set_index("case_id")


def events(life, case: str) -> list[tuple[date, str]]:
    with duckdb.connect(str(life["settings"].home.warehouse), read_only=True) as connection:
        return connection.execute(
            "select event_date, event from assistance.events where case_id = ? "
            "order by event_date, sequence",
            [case],
        ).fetchall()


def test_months_are_calendar_months_with_the_day_clamped():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 3, 15), 1) == date(2026, 4, 15)
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


def test_a_confirmed_household_gets_a_case_due_a_month_after_the_verification(life):
    cases = listed(life, NEXT)
    assert list(cases.index) == [case_id(number) for number in (1, 2, 3)]
    assert set(cases["confirmed_date"]) == {"2026-01-31"}
    assert set(cases["due_by"]) == {"2026-02-28"}
    assert set(cases["categories"]) == {"收入低于监测线"}
    assert set(cases["status"]) == {"awaiting"}


def test_a_township_with_cases_and_no_open_alert_gets_its_workbook(life):
    outbox = life["results"][NEXT].outbox
    assert (outbox / "alerts.csv").read_text(encoding="utf-8-sig").count("\n") == 1
    book = openpyxl.load_workbook(next((outbox / "townships").glob(f"{TOWNSHIP}_*.xlsx")))
    assert book.sheetnames == [SUMMARY_SHEET, DETAIL_SHEET, LEDGER_SHEET]
    assert book[DETAIL_SHEET].max_row == 1
    assert [row[0] for row in book[LEDGER_SHEET].iter_rows(min_row=2, values_only=True)] == [
        case_id(number) for number in (1, 2, 3)
    ]


def test_on_its_due_date_a_case_still_awaits_and_the_day_after_it_is_overdue(life):
    on_the_day, after = listed(life, DUE), listed(life, AFTER)
    assert set(on_the_day["status"]) == {"awaiting"}
    assert set(on_the_day["days_overdue"]) == {"0"}
    assert set(after["status"]) == {"overdue"}
    assert set(after["days_overdue"]) == {"1"}
    assert (AFTER, "overdue") in events(life, case_id(LABOURER))
    assert life["results"][AFTER].manifest["assistance"]["overdue"] == 3


def test_overdue_cases_are_listed_for_the_township_head(life):
    book = openpyxl.load_workbook(
        next((life["results"][AFTER].outbox / "townships").glob(f"{TOWNSHIP}_*.xlsx"))
    )
    rows = [row for row in book[SUMMARY_SHEET].iter_rows(values_only=True) if any(row)]
    titles = [row[0] for row in rows]
    assert "逾期未落实帮扶（请乡镇网格长督办）：3 户" in titles
    header = titles.index("台账编号")
    assert [row[0] for row in rows[header + 1 :]] == [case_id(number) for number in (1, 2, 3)]
    assert rows[header + 1][6] == 1  # days overdue
    before = openpyxl.load_workbook(
        next((life["results"][DUE].outbox / "townships").glob(f"{TOWNSHIP}_*.xlsx"))
    )
    lines = [row[0] for row in before[SUMMARY_SHEET].iter_rows(values_only=True) if row[0]]
    assert "逾期未落实帮扶（请乡镇网格长督办）：0 户" in lines


def test_the_registry_marking_a_household_eliminated_closes_its_case(life):
    cases = listed(life, ELIMINATED)
    closed = cases.loc[case_id(LABOURER)]
    assert (closed["status"], closed["closed_date"]) == ("closed", "2026-03-02")
    assert (ELIMINATED, "closed") in events(life, case_id(LABOURER))
    # Closed cases leave the ledger sheet; assistance.csv keeps listing them a while.
    book = openpyxl.load_workbook(
        next((life["results"][ELIMINATED].outbox / "townships").glob(f"{TOWNSHIP}_*.xlsx"))
    )
    ids = [row[0] for row in book[LEDGER_SHEET].iter_rows(min_row=2, values_only=True)]
    assert case_id(LABOURER) not in ids
    assert life["results"][ELIMINATED].manifest["assistance"]["closed_recently"] == 1


def test_a_household_without_a_labourer_is_never_closed(life):
    for day in (ELIMINATED, ELIMINATED_AGAIN):
        assert listed(life, day).loc[case_id(NO_LABOURER), "status"] == "overdue"


def test_a_registry_that_still_shows_the_old_state_closes_nothing(life):
    # Already 已消除 when it was confirmed: the registry had not caught up with the grid.
    assert listed(life, ELIMINATED).loc[case_id(LAGGING), "status"] == "overdue"
    assert listed(life, AT_RISK_AGAIN).loc[case_id(LAGGING), "status"] == "overdue"
    assert listed(life, ELIMINATED_AGAIN).loc[case_id(LAGGING), "status"] == "closed"


def test_a_rerun_of_a_date_reproduces_the_same_cases_and_events(life):
    before, after = life["states"]["before"], life["states"]["after"]
    assert before["assistance.events"]
    assert {name: rows for name, rows in after.items() if name.startswith("assistance.")} == {
        name: rows for name, rows in before.items() if name.startswith("assistance.")
    }
