"""The township workbook's contract: what the pipeline sends and what it reads back.

The writer (``pipeline/dispatch/workbooks.py``), the reader of returned workbooks
(``pipeline/feedback/returns.py``), the alert lifecycle, which applies the results, and
the assistance ledger, which applies the ledger rows, all take the sheets, their columns
and the verification results from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.utils import get_column_letter

DETAIL_SHEET = "预警明细"
SUMMARY_SHEET = "汇总"
# The township's open assistance cases, one row per case and per measure recorded
# (docs/assistance.md, "The assistance ledger").
LEDGER_SHEET = "帮扶台账"
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


LEDGER_COLUMNS: tuple[DetailColumn, ...] = (
    DetailColumn("台账编号", 18, wrapped=True),
    DetailColumn("村", 8),
    DetailColumn("户编号", 17),
    DetailColumn("户主姓名", 7),
    DetailColumn("户主身份证号", 19),
    DetailColumn("联系电话", 12),
    DetailColumn("确认类别及建议帮扶", 36, wrapped=True),
    DetailColumn("确认日期", 10),
    DetailColumn("办结期限", 10),
    DetailColumn("状态", 9),
    DetailColumn("帮扶联系人", 9, field="contact"),
    DetailColumn("联系人单位", 14, wrapped=True, field="contact_unit"),
    DetailColumn("帮扶措施类别", 16, wrapped=True, field="measure_type"),
    DetailColumn("措施内容", 30, wrapped=True, field="measure"),
    DetailColumn("落实日期", 10, field="put_in_place_on"),
)
CASE_ID = LEDGER_COLUMNS[0].header
# The ledger columns the grid fills in, by header: the field each becomes on a returned row.
LEDGER_FILLED_IN: dict[str, str] = {
    column.header: column.field for column in LEDGER_COLUMNS if column.field is not None
}


def ledger_column(header: str) -> int:
    """The ledger sheet's column (1-based) of ``header``."""
    return next(
        number for number, column in enumerate(LEDGER_COLUMNS, 1) if column.header == header
    )


# The township's leads (群众反映线索) of the day whose person the linkage could not find among
# the registered members (docs/outputs.md, "Township workbooks"), for the villages to locate on
# the ground. Nothing is read back from it: a person found in a registered household comes back
# through the grid's monthly report (grid_reports) with the household's 户编号.
LEAD_SHEET = "线索核查"
LEAD_COLUMNS: tuple[DetailColumn, ...] = (
    DetailColumn("线索编号", 14, wrapped=True),
    DetailColumn("来源", 8),
    DetailColumn("登记日期", 10),
    DetailColumn("当事人姓名", 9, wrapped=True),
    DetailColumn("身份证号", 19),
    DetailColumn("村", 10, wrapped=True),
    DetailColumn("联系电话", 13),
    DetailColumn("内容摘要", 36, wrapped=True),
    DetailColumn("未找到原因", 24, wrapped=True),
    DetailColumn("候选人", 40, wrapped=True),
)
