"""One data comparison workbook per township, for the village review of the applications.

The 数据比对 sheet lists the township's applications of the day with their findings; the
evidence names people by role only, and every text is masked for ID and phone numbers once
more before it leaves the bureau. A township's workbook holds its own applications only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.dispatch.masking import mask_text
from pipeline.dispatch.workbooks import MAX_ROW_HEIGHT, workbook_bytes
from pipeline.outbox import atomic_write_bytes
from pipeline.safe_text import put_cell, township_file_name

SHEET = "数据比对"
# Header, frame column, width.
SHEET_COLUMNS = (
    ("申请编号", "application_id", 16),
    ("村代码", "village_code", 14),
    ("户编号", "household_id", 18),
    ("比对对象", "person_role", 9),
    ("比对结果", "finding_label", 18),
    ("比对情况", "evidence", 70),
)
WRAPPED = {"finding_label", "evidence"}
THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
BODY_FONT = Font(size=9)


def workbook_name(township_code: str, business_date: date) -> str:
    return township_file_name(township_code, "数据比对", business_date)


def _text(value: object) -> str:
    """A cell's text, masked; an empty cell for a missing value."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return mask_text(str(value))


def _display_width(text: str) -> int:
    """Columns a text needs: a Chinese character takes two."""
    return sum(1 if character.isascii() else 2 for character in text)


def _row_height(values: dict[str, str]) -> float:
    """Spreadsheet programs do not grow rows of wrapped text on their own: 12 points a line."""
    lines = 1
    for _, column, width in SHEET_COLUMNS:
        if column in WRAPPED and values[column]:
            lines = max(lines, -(-_display_width(values[column]) // max(width - 1, 1)))
    return min(12.0 * lines + 2, MAX_ROW_HEIGHT)


def _township_workbook(rows: pd.DataFrame) -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    for index, (header, _, width) in enumerate(SHEET_COLUMNS, 1):
        cell = put_cell(sheet, 1, index, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[1].height = 20
    for row_number, record in enumerate(rows.to_dict("records"), 2):
        values = {column: _text(record.get(column)) for _, column, _ in SHEET_COLUMNS}
        sheet.row_dimensions[row_number].height = _row_height(values)
        for index, (_, column, _) in enumerate(SHEET_COLUMNS, 1):
            cell = put_cell(sheet, row_number, index, values[column] or None)
            cell.border = BORDER
            cell.font = BODY_FONT
            # Long evidence wraps so that a printed page stays readable.
            cell.alignment = Alignment(vertical="top", wrap_text=column in WRAPPED)
    last = max(len(rows) + 1, 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(SHEET_COLUMNS))}{last}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    return workbook


def write_comparison_workbooks(
    frame: pd.DataFrame,
    business_date: date,
    folder: Path,
    owns: Callable[[str], bool] = lambda _: True,
) -> list[Path]:
    """One workbook per township with applications in ``frame``, each written atomically
    and byte-deterministically; a workbook of the same date left by an earlier run for a
    township without applications now is removed. Returns the paths written, sorted."""
    written = []
    if not frame.empty:
        ordered = frame.sort_values(
            ["township_code", "village_code", "application_id"], kind="stable"
        )
        for township_code, rows in ordered.groupby("township_code", sort=True):
            path = folder / workbook_name(str(township_code), business_date)
            atomic_write_bytes(path, workbook_bytes(_township_workbook(rows)))
            written.append(path)
    keep = {path.name for path in written}
    if folder.is_dir():
        for stale in folder.glob(f"*_数据比对_{business_date:%Y%m%d}.xlsx"):
            if stale.name not in keep and owns(stale.name.split("_", 1)[0]):
                stale.unlink()
    return written
