"""One alert workbook per township, for its grid workers to verify and return.

The 预警明细 sheet lists the township's open alerts, one household's alerts
together, grouped by village, with the 村级 head and each household's 组级
grid worker; the grade shows as colour and text; ID and phone numbers are
masked; the last four columns are for the verification result. The 汇总 sheet
gives the counts, who is responsible, and the overdue alerts for the township
head. A township with assistance cases not closed also gets the 帮扶台账 sheet, its
cases and the measures recorded, with columns for the grid to fill in, and the 汇总
sheet lists its overdue cases (docs/assistance.md, "The assistance ledger"). A
township with leads of the day whose person the linkage could not find (群众反映线索,
ambiguous or below the match threshold) gets the 线索核查 sheet, for its villages to locate
the person on the ground; a township with such a lead and nothing else to send gets its
workbook for it (docs/outputs.md, "Township workbooks"). A township's workbook holds that
township's households and leads only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from pipeline import sql
from pipeline.alerts.rules import Rules
from pipeline.assistance.outputs import township_cases
from pipeline.dispatch.masking import mask_id_number, mask_phone, mask_text
from pipeline.dispatch.township_workbook import (
    DETAIL_COLUMNS,
    DETAIL_SHEET,
    FILLED_IN,
    LEAD_COLUMNS,
    LEAD_SHEET,
    LEDGER_COLUMNS,
    LEDGER_FILLED_IN,
    LEDGER_SHEET,
    SUMMARY_SHEET,
    VERIFICATION_RESULTS,
    DetailColumn,
    detail_column,
    detail_letter,
    ledger_column,
)
from pipeline.linkage.leads import has_lead_matches
from pipeline.outbox import atomic_write_bytes
from pipeline.safe_text import put_cell, township_file_name
from pipeline.vocabulary import GRADE_LABELS, GRADES, CaseStatus

# Columns of the detail sheet styled apart: the grade as colour, the date a worker enters.
GRADE_COLUMN = detail_column("预警等级")
DATE_COLUMN = detail_column("核实日期")

GRADE_FILL = {"red": "FFC7CE", "orange": "FFD8A8", "yellow": "FFF2CC"}
STATUS_TEXT = {"new": "新预警", "open": "待核实", "escalated": "已逾期"}
# Fixed document times: the same alerts give the same file.
DOCUMENT_TIME = datetime(2020, 1, 1)
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
BODY_FONT = Font(size=9)
FILL_IN_FILL = PatternFill("solid", fgColor="E2EFDA")
# The tallest row Excel accepts, in points: a taller one makes it report the file damaged.
MAX_ROW_HEIGHT = 409.0
# Rows below the 帮扶台账 sheet's last that keep its drop-down and date check: a grid worker
# adds a measure by copying a case's row below the others.
LEDGER_SPARE_ROWS = 200
# The first row of the 线索核查 sheet: what the village does with a lead, and that the sheet
# is not returned (a person found comes back through the grid's monthly report).
LEAD_INSTRUCTION = (
    "以下是今日群众反映线索（信访、12317、媒体、舆情、自主申报）中，未能在登记农户中确定当事人的线索"
    "（没有人员达到匹配概率阈值，或有几名人员都达到、无法确定是哪一位）。请村级网格长组织网格员，"
    "根据当事人姓名、村、联系电话和内容摘要实地找到当事人，核实反映的情况；候选人是登记农户中"
    "可能是当事人的人员，供查找时参考。当事人属于已登记农户的，由该户所在组级网格在网格员月报中"
    "填写该户户编号上报（情况类型按实际选择，情况说明中写明线索编号），报送后即进入预警核实。"
    "本表不需要填写，也不需要交回。"
)


@dataclass(frozen=True)
class TownshipWorkbook:
    township_code: str
    township_name: str
    path: Path
    sha256: str
    alerts: int
    cases: int = 0
    leads: int = 0


def workbook_name(township_code: str, township_name: str, business_date: date) -> str:
    """``<code>_<name>_<YYYYMMDD>.xlsx``, the name cleaned of anything a path could take."""
    return township_file_name(township_code, township_name, business_date)


def _style_header(
    sheet: Worksheet, row: int, headers: Iterable[str], filled_in: Iterable[str] = FILLED_IN
) -> None:
    green = set(filled_in)
    for column, header in enumerate(headers, 1):
        cell = put_cell(sheet, row, column, header)
        cell.font = Font(bold=True)
        cell.fill = FILL_IN_FILL if header in green else HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER


def _print_setup(sheet: Worksheet, title_rows: str | None = None) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    if title_rows:
        sheet.print_title_rows = title_rows


def _display_width(text: str) -> int:
    """Columns a text needs: a Chinese character takes two."""
    return sum(1 if character.isascii() else 2 for character in text)


def _row_height(values: list[object], columns: tuple[DetailColumn, ...] = DETAIL_COLUMNS) -> float:
    """Spreadsheet programs do not grow rows of wrapped text on their own: 12 points a line."""
    lines = 1
    for column, value in zip(columns, values, strict=True):
        if column.wrapped and isinstance(value, str) and value:
            lines = max(lines, -(-_display_width(value) // max(column.width - 1, 1)))
    return min(12.0 * lines + 2, MAX_ROW_HEIGHT)


def _detail_sheet(sheet: Worksheet, alerts: pd.DataFrame, rules: Rules) -> None:
    sheet.title = DETAIL_SHEET
    _style_header(sheet, 1, [column.header for column in DETAIL_COLUMNS])
    for number, declared in enumerate(DETAIL_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(number)].width = declared.width
    sheet.freeze_panes = "B2"
    sheet.row_dimensions[1].height = 30
    styles: dict[tuple[int, str, bool], StyleArray] = {}
    for row_number, alert in enumerate(alerts.itertuples(index=False), 2):
        values = [
            alert.alert_id,
            alert.village_name or alert.village_code,
            alert.village_head or "",
            alert.grid_name or alert.grid_id,
            alert.grid_worker or "",
            alert.household_id,
            alert.head_name or "",
            mask_id_number(alert.head_id_number),
            mask_phone(alert.household_phone),
            alert.household_type or "",
            rules.categories[alert.category].label,
            GRADE_LABELS[alert.grade],
            STATUS_TEXT[alert.status],
            alert.first_raised,
            alert.verify_by,
            mask_text(alert.reasons),
            None,
            None,
            None,
            None,
        ]
        sheet.row_dimensions[row_number].height = _row_height(values)
        for column, value in enumerate(values, 1):
            cell = put_cell(sheet, row_number, column, value)
            dated = isinstance(value, date) or column == DATE_COLUMN
            key = (column, alert.grade if column == GRADE_COLUMN else "", dated)
            if key in styles:
                # A cell styled like one before takes its style whole: setting fonts and
                # borders one by one made styling most of the dispatch step's time.
                cell._style = copy(styles[key])
                continue
            cell.border = BORDER
            cell.font = BODY_FONT
            # Long text wraps so that a printed page stays readable.
            wrapped = DETAIL_COLUMNS[column - 1].wrapped
            cell.alignment = Alignment(vertical="top", wrap_text=wrapped)
            if dated:
                cell.number_format = "yyyy-mm-dd"
            if column == GRADE_COLUMN:
                cell.fill = PatternFill("solid", fgColor=GRADE_FILL[alert.grade])
                cell.font = Font(size=9, bold=True)
            styles[key] = copy(cell._style)
    last = max(len(alerts) + 1, 2)
    results = DataValidation(
        type="list",
        formula1='"' + ",".join(VERIFICATION_RESULTS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="核实结果",
        error="请从下拉列表中选择核实结果",
    )
    results_column = detail_letter("核实结果")
    results.add(f"{results_column}2:{results_column}{last}")
    sheet.add_data_validation(results)
    _date_check(sheet, "核实日期", detail_letter("核实日期"), last)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(DETAIL_COLUMNS))}{last}"
    _print_setup(sheet, "1:1")


def _date_check(sheet: Worksheet, title: str, column: str, last: int) -> None:
    """A date (after 2000-01-01) or nothing in ``column`` from row 2 to ``last``."""
    dates = DataValidation(
        type="date",
        operator="greaterThan",
        formula1="36526",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error="请填写日期，例如 2026-03-05",
    )
    dates.add(f"{column}2:{column}{last}")
    sheet.add_data_validation(dates)


def _summary_sheet(
    sheet: Worksheet,
    township: str,
    business_date: date,
    alerts: pd.DataFrame,
    head: dict[str, str],
    rules: Rules,
    cases: pd.DataFrame | None = None,
    leads: int = 0,
) -> None:
    sheet.title = SUMMARY_SHEET
    put_cell(
        sheet, 1, 1, f"{township}防止返贫监测预警核实汇总（{business_date.isoformat()}）"
    ).font = Font(bold=True, size=14)
    put_cell(
        sheet,
        2,
        1,
        f"乡镇网格长（负责督办）：{head.get('township_head', '未登记')}  {mask_phone(head.get('township_head_phone'))}"
        f"    在办预警 {len(alerts)} 条，涉及 {alerts['household_id'].nunique()} 户，"
        f"已逾期 {int((alerts['status'] == 'escalated').sum())} 条",
    )
    row = 4
    put_cell(sheet, row, 1, "按村统计").font = Font(bold=True)
    row += 1
    headers = ["村", "村级网格长（负责核实）", "联系电话", *GRADE_LABELS.values(), "合计", "已逾期"]
    _style_header(sheet, row, headers)
    for (village, head_name, phone), group in alerts.groupby(
        ["village_name", "village_head", "village_head_phone"], dropna=False, sort=False
    ):
        row += 1
        counts = group["grade"].value_counts()
        values = [
            village,
            head_name or "未登记",
            mask_phone(phone),
            *(int(counts.get(grade, 0)) for grade in GRADES),
            len(group),
            int((group["status"] == "escalated").sum()),
        ]
        for column, value in enumerate(values, 1):
            put_cell(sheet, row, column, value).border = BORDER
    row += 2
    put_cell(sheet, row, 1, "按类别统计").font = Font(bold=True)
    row += 1
    _style_header(sheet, row, ["预警类别", "建议帮扶", *GRADE_LABELS.values(), "合计"])
    for category, group in alerts.groupby("category", sort=True):
        row += 1
        counts = group["grade"].value_counts()
        spec = rules.categories[str(category)]
        values = [
            spec.label,
            "、".join(spec.help),
            *(int(counts.get(grade, 0)) for grade in GRADES),
            len(group),
        ]
        for column, value in enumerate(values, 1):
            put_cell(sheet, row, column, value).border = BORDER
    overdue = alerts[alerts["status"] == "escalated"]
    row += 2
    put_cell(sheet, row, 1, f"已逾期预警（请乡镇网格长督办）：{len(overdue)} 条").font = Font(
        bold=True
    )
    if not overdue.empty:
        row += 1
        _style_header(
            sheet,
            row,
            [
                "预警编号",
                "村",
                "户编号",
                "户主姓名",
                "预警类别",
                "预警等级",
                "核实期限",
                "组级网格员",
            ],
        )
        for alert in overdue.itertuples(index=False):
            row += 1
            values = [
                alert.alert_id,
                alert.village_name,
                alert.household_id,
                alert.head_name,
                rules.categories[alert.category].label,
                GRADE_LABELS[alert.grade],
                alert.verify_by,
                alert.grid_worker,
            ]
            for column, value in enumerate(values, 1):
                cell = put_cell(sheet, row, column, value)
                cell.border = BORDER
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
    if cases is not None and not cases.empty:
        row = _overdue_cases(sheet, row + 2, cases, rules)
    if leads:
        put_cell(
            sheet,
            row + 2,
            1,
            f"群众反映线索待实地查找当事人：{leads} 条，详见“{LEAD_SHEET}”工作表",
        ).font = Font(bold=True)
    for column, width in enumerate((34, 22, 14, 18, 14, 14, 12, 12), 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    _print_setup(sheet)


def _overdue_cases(sheet: Worksheet, row: int, cases: pd.DataFrame, rules: Rules) -> int:
    """The 汇总 sheet's lines on the township's assistance cases, from ``row``: how many
    await help, are in place or overdue, and the overdue ones for the township head;
    returns the last row written."""
    counts = cases["status"].value_counts()
    put_cell(
        sheet,
        row,
        1,
        f"帮扶台账：在办 {len(cases)} 户（"
        + "，".join(
            f"{state.label} {int(counts.get(state.value, 0))} 户"
            for state in (CaseStatus.AWAITING, CaseStatus.IN_PLACE, CaseStatus.OVERDUE)
        )
        + f"），详见“{LEDGER_SHEET}”工作表",
    ).font = Font(bold=True)
    overdue = cases[cases["status"] == CaseStatus.OVERDUE]
    row += 1
    put_cell(sheet, row, 1, f"逾期未落实帮扶（请乡镇网格长督办）：{len(overdue)} 户").font = Font(
        bold=True
    )
    if overdue.empty:
        return row
    row += 1
    _style_header(
        sheet,
        row,
        ["台账编号", "村", "户编号", "户主姓名", "确认类别", "办结期限", "逾期天数", "村级网格长"],
    )
    for case in overdue.itertuples(index=False):
        row += 1
        values = [
            case.case_id,
            case.village_name or case.village_code,
            case.household_id,
            case.head_name or "",
            "、".join(_labels(rules, case.categories)),
            case.due_by,
            int(case.days_overdue),
            case.village_head or "未登记",
        ]
        for column, value in enumerate(values, 1):
            cell = put_cell(sheet, row, column, value)
            cell.border = BORDER
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    return row


def _labels(rules: Rules, codes: str) -> list[str]:
    return [
        rules.categories[code].label if code in rules.categories else code
        for code in codes.split(",")
        if code
    ]


def _with_help(rules: Rules, codes: str) -> str:
    """The confirmed categories with their suggested help (缺什么补什么)."""
    return "；".join(
        f"{rules.categories[code].label}（建议帮扶：{'、'.join(rules.categories[code].help)}）"
        if code in rules.categories
        else code
        for code in codes.split(",")
        if code
    )


def _ledger_sheet(
    sheet: Worksheet, cases: pd.DataFrame, measures: pd.DataFrame, rules: Rules
) -> None:
    """帮扶台账: one row per case, its contact filled in when it has one, then one row per
    measure recorded, in the fill-in columns; a copied row records one more measure."""
    sheet.title = LEDGER_SHEET
    _style_header(sheet, 1, [column.header for column in LEDGER_COLUMNS], LEDGER_FILLED_IN)
    for number, declared in enumerate(LEDGER_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(number)].width = declared.width
    sheet.freeze_panes = "B2"
    sheet.row_dimensions[1].height = 30
    recorded: dict[str, list[tuple[object, ...]]] = {}
    for measure in measures.itertuples(index=False):
        recorded.setdefault(str(measure.case_id), []).append(
            (
                measure.contact,
                measure.contact_unit,
                measure.measure_type,
                measure.content,
                measure.put_in_place_date,
            )
        )
    status_column = ledger_column("状态")
    date_column = ledger_column("落实日期")
    styles: dict[tuple[int, bool, bool], StyleArray] = {}
    row_number = 1
    for case in cases.itertuples(index=False):
        described = [
            case.case_id,
            case.village_name or case.village_code,
            case.household_id,
            case.head_name or "",
            mask_id_number(case.head_id_number),
            mask_phone(case.household_phone),
            _with_help(rules, case.categories),
            case.confirmed_date,
            case.due_by,
            CaseStatus(case.status).label,
        ]
        overdue = case.status == CaseStatus.OVERDUE
        contact = (case.contact, case.contact_unit, None, None, None)
        for filled in (contact, *recorded.get(str(case.case_id), [])):
            row_number += 1
            values = [*described, *(_present(value) for value in filled)]
            sheet.row_dimensions[row_number].height = _row_height(values, LEDGER_COLUMNS)
            for column, value in enumerate(values, 1):
                cell = put_cell(sheet, row_number, column, value)
                dated = isinstance(value, date) or column == date_column
                key = (column, overdue and column == status_column, dated)
                if key in styles:
                    cell._style = copy(styles[key])
                    continue
                cell.border = BORDER
                cell.font = BODY_FONT
                wrapped = LEDGER_COLUMNS[column - 1].wrapped
                cell.alignment = Alignment(vertical="top", wrap_text=wrapped)
                if dated:
                    cell.number_format = "yyyy-mm-dd"
                if key[1]:
                    cell.fill = PatternFill("solid", fgColor=GRADE_FILL["red"])
                    cell.font = Font(size=9, bold=True)
                styles[key] = copy(cell._style)
    last = max(row_number, 2)
    checked = last + LEDGER_SPARE_ROWS
    types = DataValidation(
        type="list",
        formula1='"' + ",".join(rules.assistance.measure_types) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="帮扶措施类别",
        error="请从下拉列表中选择帮扶措施类别",
    )
    types_column = get_column_letter(ledger_column("帮扶措施类别"))
    types.add(f"{types_column}2:{types_column}{checked}")
    sheet.add_data_validation(types)
    _date_check(sheet, "落实日期", get_column_letter(date_column), checked)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(LEDGER_COLUMNS))}{last}"
    _print_setup(sheet, "1:1")


def _present(value: object) -> object:
    """A recorded value as a cell shows it: nothing for a missing one."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    return value


def _plain(value: object) -> str:
    """A value as the text of a cell: nothing for a missing one."""
    present = _present(value)
    return "" if present is None else str(present)


def _said(value: object) -> str:
    """A lead's text as a cell shows it, any ID or mobile number in it masked."""
    return mask_text(_plain(value))


def _lead_sheet(sheet: Worksheet, leads: pd.DataFrame) -> None:
    """线索核查: what to do first, then one row per lead of the township whose person was
    not found, as the caller gave it (ID and phone masked), with why and the candidates.
    Nothing on it is read back (docs/outputs.md, "Township workbooks")."""
    sheet.title = LEAD_SHEET
    for number, declared in enumerate(LEAD_COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(number)].width = declared.width
    last_column = get_column_letter(len(LEAD_COLUMNS))
    note = put_cell(sheet, 1, 1, LEAD_INSTRUCTION)
    note.font = Font(size=10, bold=True)
    note.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.merge_cells(f"A1:{last_column}1")
    # Its lines across the merged width, and one more: a line cut off would hide what to do.
    lines = -(-_display_width(LEAD_INSTRUCTION) // sum(column.width for column in LEAD_COLUMNS))
    sheet.row_dimensions[1].height = min(13.0 * (lines + 1) + 4, MAX_ROW_HEIGHT)
    _style_header(sheet, 2, [column.header for column in LEAD_COLUMNS], ())
    sheet.row_dimensions[2].height = 30
    sheet.freeze_panes = "B3"
    styles: dict[tuple[int, bool], StyleArray] = {}
    for row_number, lead in enumerate(leads.itertuples(index=False), 3):
        values: list[object] = [
            _plain(lead.lead_id),
            _plain(lead.source),
            _present(lead.registered_on),
            _said(lead.person_name),
            mask_id_number(_present(lead.id_text)),
            _said(lead.village_said),
            mask_phone(_present(lead.phone)),
            _said(lead.summary),
            _plain(lead.reason),
            _said(lead.candidates) or "无",
        ]
        sheet.row_dimensions[row_number].height = _row_height(values, LEAD_COLUMNS)
        for column, value in enumerate(values, 1):
            cell = put_cell(sheet, row_number, column, value)
            key = (column, isinstance(value, date))
            if key in styles:
                cell._style = copy(styles[key])
                continue
            cell.border = BORDER
            cell.font = BODY_FONT
            cell.alignment = Alignment(vertical="top", wrap_text=LEAD_COLUMNS[column - 1].wrapped)
            if key[1]:
                cell.number_format = "yyyy-mm-dd"
            styles[key] = copy(cell._style)
    sheet.auto_filter.ref = f"A2:{last_column}{max(len(leads) + 2, 3)}"
    _print_setup(sheet, "2:2")


def township_leads(connection: duckdb.DuckDBPyConnection, business_date: date) -> pd.DataFrame:
    """The leads of ``business_date`` for the 线索核查 sheets: those of the townships whose
    households the connection holds (a partition's own), ambiguous or unmatched; none when
    the warehouse never linked leads (no ``linkage.lead_matches``)."""
    if not has_lead_matches(connection):
        return pd.DataFrame(columns=["township_code", "township_name"])
    leads = sql.query(connection, "dispatch/township_leads", {"business_date": business_date})
    leads["registered_on"] = pd.to_datetime(leads["registered_on"]).dt.date
    return leads


def _dates(frame: pd.DataFrame) -> pd.DataFrame:
    for name in ("first_raised", "last_updated", "verify_by"):
        frame[name] = pd.to_datetime(frame[name]).dt.date
    return frame


def workbook_bytes(workbook: Workbook) -> bytes:
    """The workbook as an XLSX file whose bytes depend on its content only: the same
    alerts give the same file and digest, whoever runs the day and whenever."""
    workbook.properties.creator = "区乡村振兴局防止返贫监测预警"
    workbook.properties.created = workbook.properties.modified = DOCUMENT_TIME
    draft = io.BytesIO()
    # ExcelWriter, not Workbook.save, which stamps the time of saving as "modified".
    with ZipFile(draft, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    final = io.BytesIO()
    # Zip entries carry their own write times; fix them too.
    with ZipFile(draft) as source, ZipFile(final, "w", ZIP_DEFLATED) as target:
        for entry in source.infolist():
            stamped = ZipInfo(entry.filename, date_time=DOCUMENT_TIME.timetuple()[:6])
            stamped.compress_type = ZIP_DEFLATED
            target.writestr(stamped, source.read(entry))
    return final.getvalue()


def write_township_workbooks(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date, folder: Path
) -> list[TownshipWorkbook]:
    """One workbook per township with at least one open alert, assistance case not
    closed or lead of the day to locate, written atomically."""
    alerts = _dates(sql.query(connection, "dispatch/township_alerts"))
    cases, measures = township_cases(connection, business_date)
    leads = township_leads(connection, business_date)
    heads = {
        row["township_code"]: row
        for row in sql.query(connection, "dispatch/township_heads").to_dict("records")
    }
    written = []
    codes = sorted(
        {
            str(code)
            for code in (
                *alerts["township_code"],
                *cases["township_code"],
                *leads["township_code"],
            )
            if code == code
        }
    )
    for code in codes:
        township_alerts = alerts[alerts["township_code"] == code]
        open_cases = cases[cases["township_code"] == code]
        to_locate = leads[leads["township_code"] == code]
        name = next(
            (
                str(value)
                for value in (
                    *township_alerts["township_name"],
                    *open_cases["township_name"],
                    *to_locate["township_name"],
                )
                if isinstance(value, str)
            ),
            code,
        )
        workbook = Workbook()
        _summary_sheet(
            workbook.active,
            name,
            business_date,
            township_alerts,
            heads.get(code, {}),
            rules,
            open_cases,
            len(to_locate),
        )
        _detail_sheet(workbook.create_sheet(), township_alerts, rules)
        if not open_cases.empty:
            case_ids = set(open_cases["case_id"])
            _ledger_sheet(
                workbook.create_sheet(),
                open_cases,
                measures[measures["case_id"].isin(case_ids)],
                rules,
            )
        if not to_locate.empty:
            _lead_sheet(workbook.create_sheet(), to_locate)
        path = folder / workbook_name(code, name, business_date)
        digest = atomic_write_bytes(path, workbook_bytes(workbook))
        written.append(
            TownshipWorkbook(
                code,
                name,
                path,
                digest,
                len(township_alerts),
                len(open_cases),
                len(to_locate),
            )
        )
    return written


def overdue_alerts(connection: duckdb.DuckDBPyConnection, business_date: date) -> pd.DataFrame:
    """The district's list of overdue alerts, with the township head who follows each up."""
    return sql.query(connection, "dispatch/overdue_alerts", {"business_date": business_date})
