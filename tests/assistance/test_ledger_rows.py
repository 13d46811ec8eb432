"""Returned ledger rows judged one by one (docs/assistance.md, "The assistance ledger"): the
kinds the round trip does not reach, on cases built in memory."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.alerts.lifecycle import AlertReport
from pipeline.alerts.rules import load_rules
from pipeline.assistance.ledger import apply_ledger
from pipeline.assistance.model import Case, CaseRun, Measure
from pipeline.dispatch.township_workbook import LEDGER_SHEET
from pipeline.feedback.returns import LedgerRow, ReturnedWorkbook, RowsWithoutAlert
from pipeline.vocabulary import ReturnStatus

TODAY = date(2026, 3, 10)
TOWNSHIP = "341702101"
FILE = f"{TOWNSHIP}_梅村镇_20260309.xlsx"


def case(case_id: str, **changes: object) -> Case:
    values: dict[str, object] = {
        "case_id": case_id,
        "household_id": "3417021012010001",
        "township_code": TOWNSHIP,
        "village_code": "341702101201",
        "categories": "income_below_line",
        "confirmed_date": date(2026, 3, 2),
        "due_by": date(2026, 4, 2),
        "status": "awaiting",
        **changes,
    }
    return Case(**values)


def row(number: int, case_id: str, **values: object) -> LedgerRow:
    fields: dict[str, object] = {
        "contact": "",
        "contact_unit": "",
        "measure_type": "",
        "measure": "",
        "put_in_place_on": None,
        **values,
    }
    return LedgerRow(row=number, case_id=case_id, **fields)


def applied(cases: list[Case], rows: list[LedgerRow], **workbook: object) -> CaseRun:
    report = AlertReport(feedback_files={FILE: ReturnStatus.APPLIED})
    run = CaseRun(TODAY, load_rules(), report, {item.case_id: item for item in cases})
    run.measures["C1"] = [
        Measure("C1", 0, "产业帮扶", "发放鸡苗", date(2026, 3, 3), "王帮扶", TODAY, FILE)
    ]
    returned = ReturnedWorkbook(FILE, "digest", TOWNSHIP, (), ledger=tuple(rows), **workbook)
    apply_ledger(run, [returned])
    return run


def reasons(run: CaseRun) -> list[tuple[int | None, str]]:
    assert {line["sheet"] for line in run.report.feedback_rejected} <= {LEDGER_SHEET}
    return [(line["row"], line["reason"]) for line in run.report.feedback_rejected]


def test_a_closed_cases_new_row_is_rejected_and_its_old_rows_are_not_listed():
    closed = case(
        "C1",
        status="closed",
        contact="王帮扶",
        closed_date=date(2026, 3, 8),
        close_cause="农户信息风险状态为已消除",
    )
    run = applied(
        [closed],
        [
            row(2, "C1", contact="王帮扶"),  # the case's row as it was sent
            row(3, "C1", contact="王帮扶", measure_type="产业帮扶", measure="发放鸡苗",
                put_in_place_on=date(2026, 3, 3)),  # a measure recorded
            row(4, "C1", contact="王帮扶", measure_type="就业帮扶", put_in_place_on=TODAY),
        ],
    )  # fmt: skip
    assert reasons(run) == [
        (4, "帮扶台账已于2026-03-08销号（农户信息风险状态为已消除），本行未作改动")
    ]
    assert run.figures["ledger_rows_unchanged"] == 2
    assert run.events == []


def test_a_formula_nobody_calculated_is_rejected():
    run = applied([case("C2")], [row(2, "C2", contact="王帮扶", uncalculated=("帮扶措施类别",))])
    assert reasons(run) == [
        (2, "帮扶措施类别是公式，没有计算结果，请直接填写或从下拉列表中选择，不要用公式")
    ]


def test_a_measure_without_content_and_a_units_update_are_recorded():
    run = applied(
        [case("C2", contact="王帮扶", contact_unit=None)],
        [
            row(2, "C2", contact="王帮扶", contact_unit="镇农业站"),
            row(3, "C2", contact="王帮扶", measure_type="其他", put_in_place_on="2026-03-09"),
        ],
    )
    assert reasons(run) == []
    assert [measure.content for measure in run.new_measures] == [None]
    assert [measure.put_in_place_date for measure in run.new_measures] == [date(2026, 3, 9)]
    assert [event["event"] for event in run.events] == ["contact", "measure"]
    assert run.events[0]["cause"] == "帮扶联系人王帮扶的单位更新为镇农业站"
    assert run.figures["contacts_changed"] == 0


@pytest.mark.parametrize(
    ("without_case", "line"),
    [
        (RowsWithoutAlert(1, 7, 7), (7, "第 7 行：未填写台账编号，已忽略")),
        (
            RowsWithoutAlert(5000, 7, 5006),
            (None, "第 7–5006 行：未填写台账编号的行 5,000 行，已忽略"),
        ),
    ],
)
def test_rows_filled_in_without_a_case_id_are_one_line(without_case, line):
    run = applied([case("C2")], [], ledger_without_case=without_case)
    assert reasons(run) == [line]
    assert run.figures["ledger_rows_rejected"] == without_case.count


def test_a_workbook_not_applied_in_this_run_changes_nothing():
    report = AlertReport(feedback_files={FILE: ReturnStatus.UNCHANGED})
    run = CaseRun(TODAY, load_rules(), report, {"C2": case("C2")})
    returned = ReturnedWorkbook(
        FILE, "digest", TOWNSHIP, (), ledger=(row(2, "C2", contact="赵干部"),)
    )
    apply_ledger(run, [returned])
    assert run.events == []
    assert report.feedback_rejected == []
