"""The township workbook's contract: what the pipeline sends and what it reads back.

The writer (``pipeline/dispatch/workbooks.py``), the reader of returned workbooks
(``pipeline/feedback/returns.py``) and the alert lifecycle, which applies the results,
all take the sheets, the detail sheet's columns and the verification results from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.utils import get_column_letter

DETAIL_SHEET = "预警明细"
SUMMARY_SHEET = "汇总"
# The drop-down of 核实结果: what a grid worker found on the ground.
VERIFICATION_RESULTS = ("属实-已纳入监测", "属实-已落实帮扶", "不属实", "风险已消除")


@dataclass(frozen=True)
class DetailColumn:
    header: str
    width: int
    # Long text wraps, so that a printed page stays readable.
    wrapped: bool = False
    # Filled in by the grid worker; ``field`` names it on a returned row.
    field: str | None = None


DETAIL_COLUMNS: tuple[DetailColumn, ...] = (
    DetailColumn("预警编号", 21, wrapped=True),
    DetailColumn("村", 8),
    DetailColumn("村级网格长", 8),
    DetailColumn("组级网格", 9, wrapped=True),
    DetailColumn("网格员", 7),
    DetailColumn("户编号", 17),
    DetailColumn("户主姓名", 7),
    DetailColumn("户主身份证号", 19),
    DetailColumn("联系电话", 12),
    DetailColumn("户类型", 7),
    DetailColumn("预警类别", 11, wrapped=True),
    DetailColumn("预警等级", 6),
    DetailColumn("状态", 7),
    DetailColumn("首次预警", 10),
    DetailColumn("核实期限", 10),
    DetailColumn("预警原因及建议帮扶", 50, wrapped=True),
    DetailColumn("核实结果", 15, field="result"),
    DetailColumn("核实人", 7, field="verifier"),
    DetailColumn("核实日期", 10, field="verified_on"),
    DetailColumn("备注", 14, wrapped=True, field="note"),
)
ALERT_ID = DETAIL_COLUMNS[0].header
# The columns the grid fills in, by header: the field each becomes on a returned row.
FILLED_IN: dict[str, str] = {
    column.header: column.field for column in DETAIL_COLUMNS if column.field is not None
}


def detail_column(header: str) -> int:
    """The detail sheet's column (1-based) of ``header``."""
    return next(
        number for number, column in enumerate(DETAIL_COLUMNS, 1) if column.header == header
    )


def detail_letter(header: str) -> str:
    """The detail sheet's column letter of ``header`` (``Q`` for 核实结果)."""
    return get_column_letter(detail_column(header))
