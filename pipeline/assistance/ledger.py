"""Returned ledger rows: the 帮扶台账 sheet of a township workbook, filled in by the grid.

A returned workbook's ledger rows are applied as its verification rows are (the alert
lifecycle, ``pipeline/alerts/lifecycle.py``): only in a workbook applied in this run
(a workbook returned twice changes nothing), each row checked, a bad row listed in
feedback_rejections.csv with its reason and changing nothing else. A row may name the
case's contact (or another one: a change of contact) and record one measure; a row the
same as a measure already recorded (the sheet lists them, so a returned workbook carries
them back) changes nothing. docs/assistance.md, "The assistance ledger" lists the rules.
"""

from __future__ import annotations

from pipeline.assistance.model import Case, CaseRun, Measure
from pipeline.dispatch.township_workbook import LEDGER_SHEET
from pipeline.feedback.returns import LedgerRow, ReturnedWorkbook, verification_date
from pipeline.vocabulary import ReturnStatus

UNKNOWN_CASE = "台账编号不存在"
OTHER_TOWNSHIPS_CASE = "该台账不属于本乡镇"
NO_CONTACT = "未填写帮扶联系人"
NO_MEASURE_TYPE = "未选择帮扶措施类别"
UNKNOWN_MEASURE_TYPE = "帮扶措施类别不在下拉列表中，请从下拉列表中选择"
NO_DATE = "未填写落实日期"
NOT_A_DATE = "落实日期不是日期"
FUTURE_DATE = "落实日期晚于今天"


def before_confirmation(case: Case) -> str:
    return f"落实日期早于确认日期（{case.confirmed_date.isoformat()}）"


def case_closed(case: Case) -> str:
    closed = case.closed_date.isoformat() if case.closed_date else ""
    return f"帮扶台账已于{closed}销号（{case.close_cause}），本行未作改动"


def uncalculated(row: LedgerRow) -> str:
    return (
        f"{'、'.join(row.uncalculated)}是公式，没有计算结果，"
        "请直接填写或从下拉列表中选择，不要用公式"
    )


def _reject(
    run: CaseRun,
    workbook: ReturnedWorkbook,
    reason: str,
    *,
    row: int | None = None,
    case_id: str | None = None,
    rows: int = 1,
) -> None:
    """One line of feedback_rejections.csv, on the ledger sheet."""
    run.report.feedback_rejected.append(
        {
            "township_code": workbook.township_code,
            "file": workbook.file,
            "sheet": LEDGER_SHEET,
            "row": row,
            "alert_id": None,
            "case_id": case_id,
            "reason": reason,
            "rows": rows,
        }
    )
    run.count("ledger_rows_rejected", rows)


def _measure_given(row: LedgerRow) -> bool:
    return bool(row.measure_type or row.measure or row.put_in_place_on not in (None, ""))


def _same_as_recorded(run: CaseRun, case: Case, row: LedgerRow) -> bool:
    """The row repeats a measure already recorded for the case (contact included)."""
    on = verification_date(row.put_in_place_on)
    if not _measure_given(row) or on is None:
        return False
    return any(
        measure.same_as(row.measure_type, row.measure, on, row.contact)
        for measure in run.measures.get(case.case_id, [])
    )


def _same_contact(case: Case, row: LedgerRow) -> bool:
    """A contact alone, the case's own (the case's row comes back as it was sent)."""
    return (
        not _measure_given(row)
        and not row.uncalculated
        and bool(row.contact)
        and row.contact == case.contact
        and row.contact_unit in ("", case.contact_unit or "")
    )


def judge_row(run: CaseRun, workbook: ReturnedWorkbook, row: LedgerRow) -> tuple[Case | None, str]:
    """The case a returned row changes, or why it changes nothing ("" when it repeats
    what is recorded: nothing to say)."""
    case = run.cases.get(row.case_id)
    if case is None:
        return None, UNKNOWN_CASE
    if case.township_code != workbook.township_code:
        return None, OTHER_TOWNSHIPS_CASE
    if _same_as_recorded(run, case, row) or _same_contact(case, row):
        return None, ""
    if not case.is_open:
        return None, case_closed(case)
    if row.uncalculated:
        return None, uncalculated(row)
    if not row.contact:
        return None, NO_CONTACT
    if not _measure_given(row):
        return case, ""  # a contact alone: named, changed, or the same as before
    if not row.measure_type:
        return None, NO_MEASURE_TYPE
    if row.measure_type not in run.rules.assistance.measure_types:
        return None, UNKNOWN_MEASURE_TYPE
    if row.put_in_place_on in (None, ""):
        return None, NO_DATE
    on = verification_date(row.put_in_place_on)
    if on is None:
        return None, NOT_A_DATE
    if on > run.business_date:
        return None, FUTURE_DATE
    if on < case.confirmed_date:
        return None, before_confirmation(case)
    return case, ""


def _apply_row(run: CaseRun, workbook: ReturnedWorkbook, case: Case, row: LedgerRow) -> bool:
    """The contact and the measure of an accepted row; whether anything changed."""
    on = verification_date(row.put_in_place_on) if _measure_given(row) else None
    before = (case.contact, case.contact_unit)
    run.name_contact(case, row.contact, row.contact_unit or None, on or run.business_date)
    changed = (case.contact, case.contact_unit) != before
    if on is None:
        return changed
    recorded = run.measures.setdefault(case.case_id, [])
    measure = Measure(
        case_id=case.case_id,
        sequence=len(recorded),
        measure_type=row.measure_type,
        content=row.measure or None,
        put_in_place_date=on,
        contact=row.contact,
        recorded_date=run.business_date,
        file=workbook.file,
        contact_unit=row.contact_unit or None,
    )
    recorded.append(measure)
    run.new_measures.append(measure)
    run.count("measures_recorded")
    content = f"：{row.measure}" if row.measure else ""
    run.event(
        case,
        "measure",
        f"帮扶措施：{row.measure_type}{content}（{on.isoformat()}）；帮扶联系人：{row.contact}；"
        f"{workbook.file} 第 {row.row} 行",
    )
    return True


def _reject_rows_without_case(run: CaseRun, workbook: ReturnedWorkbook) -> None:
    """Rows filled in without a case id, in one line (as on the verification sheet)."""
    skipped = workbook.ledger_without_case
    if skipped is None:
        return
    if skipped.count == 1:
        _reject(run, workbook, f"第 {skipped.first} 行：未填写台账编号，已忽略", row=skipped.first)
    else:
        _reject(
            run,
            workbook,
            f"第 {skipped.first}–{skipped.last} 行：未填写台账编号的行 {skipped.count:,} 行，已忽略",
            rows=skipped.count,
        )


def apply_ledger(run: CaseRun, returns: list[ReturnedWorkbook]) -> None:
    """The ledger rows of the workbooks the alert lifecycle applied in this run."""
    for workbook in returns:
        if run.report.feedback_files.get(workbook.file) != ReturnStatus.APPLIED:
            continue  # applied before, rejected whole, or a second copy in the folder
        if workbook.ledger_problem:
            _reject(run, workbook, workbook.ledger_problem, rows=0)
            continue
        for row in workbook.ledger:
            case, reason = judge_row(run, workbook, row)
            if case is None:
                if reason:
                    _reject(run, workbook, reason, row=row.row, case_id=row.case_id)
                else:
                    run.count("ledger_rows_unchanged")
                continue
            if _apply_row(run, workbook, case, row):
                run.count("ledger_rows_applied")
            else:
                run.count("ledger_rows_unchanged")
        _reject_rows_without_case(run, workbook)
