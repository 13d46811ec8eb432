"""The monthly assessment table (考核评估) the bureau gets on ``assessment.day_of_month``:
the previous calendar month, a row per township and per village and the district total, as
``assessment_<YYYYMM>.csv`` (UTF-8 with BOM) and ``assessment_<YYYYMM>.xlsx`` (one sheet,
Chinese headers, printable on A4), one file it can forward (docs/assistance.md,
"Assessment")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.alerts.rules import Rules
from pipeline.assessment.figures import (
    AREA,
    COLUMNS,
    DISTRICT,
    FIGURES,
    LEVEL_LABELS,
    TOWNSHIP,
    Period,
    assessment,
    previous_month,
)
from pipeline.dispatch.workbooks import workbook_bytes
from pipeline.outbox import atomic_write_bytes, csv_bytes
from pipeline.safe_text import put_cell

SHEET = "考核评估"
CSV_COLUMNS = ["period_first", "period_last", *COLUMNS]
# Column widths of the sheet, in the order of COLUMNS.
WIDTHS = (6, 11, 12, 14, 12, 9, 8, 8, 9, 11, 10, 9, 8, 9, 10)
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TOWNSHIP_FILL = PatternFill("solid", fgColor="F2F2F2")
DISTRICT_FILL = PatternFill("solid", fgColor="FFF2CC")
BODY_FONT = Font(size=9)
HEADER_ROW = 3


def is_table_day(rules: Rules, business_date: date) -> bool:
    return business_date.day == rules.assessment.day_of_month


def file_stem(period: Period) -> str:
    return f"assessment_{period.first:%Y%m}"


def _sheet(table: pd.DataFrame, period: Period, business_date: date) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    title = put_cell(
        sheet, 1, 1, f"防止返贫监测考核评估 {period.first:%Y年%m月}（{period.label()}）"
    )
    title.font = Font(bold=True, size=14)
    note = put_cell(
        sheet,
        2,
        1,
        f"截至{business_date.isoformat()}；核实期限或帮扶期限在本月的预警和帮扶台账；"
        "用时按国家法定工作日计算；网格员月报尚未接入，未报送月报网格数暂缺。",
    )
    note.font = Font(size=9, color="666666")
    headers = [*AREA.values(), *FIGURES.values()]
    for index, (header, width) in enumerate(zip(headers, WIDTHS, strict=True), 1):
        cell = put_cell(sheet, HEADER_ROW, index, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[HEADER_ROW].height = 32
    for row_number, record in enumerate(table.to_dict("records"), HEADER_ROW + 1):
        level = record["level"]
        for index, column in enumerate(COLUMNS, 1):
            value = record[column]
            if column == "level":
                value = LEVEL_LABELS[level]
            elif value is None or value is pd.NA or (isinstance(value, float) and value != value):
                value = None
            elif column == "median_working_days_to_verify":
                value = float(value)
            elif column in FIGURES:
                value = int(value)
            # Names are department text: always a text cell (safe_text.put_cell).
            cell = put_cell(sheet, row_number, index, value)
            cell.border = BORDER
            cell.font = Font(size=9, bold=level != "village")
            if level == TOWNSHIP:
                cell.fill = TOWNSHIP_FILL
            elif level == DISTRICT:
                cell.fill = DISTRICT_FILL
            if column == "median_working_days_to_verify":
                cell.number_format = "0.0"
    last = HEADER_ROW + max(len(table), 1)
    sheet.freeze_panes = f"F{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(COLUMNS))}{last}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    return workbook


def monthly_assessment_files(
    connection: duckdb.DuckDBPyConnection, rules: Rules, business_date: date, outbox: Path
) -> dict[str, str]:
    """On the table day, the previous month's table as CSV and workbook in the outbox,
    each whole or not at all; their names and digests. Nothing on any other day."""
    if not is_table_day(rules, business_date):
        return {}
    period = previous_month(business_date)
    table = assessment(connection, rules, period, business_date)
    stem = file_stem(period)
    frame = table.assign(period_first=period.first, period_last=period.last)[CSV_COLUMNS]
    workbook = _sheet(table, period, business_date)
    return {
        f"{stem}.csv": atomic_write_bytes(outbox / f"{stem}.csv", csv_bytes(frame)),
        f"{stem}.xlsx": atomic_write_bytes(outbox / f"{stem}.xlsx", workbook_bytes(workbook)),
    }
