"""Returned township workbooks: the grid's verification results, read as they were filled in.

Returned workbooks go to ``INBOX/feedback/`` under any name that starts with the
township code (the name the pipeline gave them is fine). Only rows with
something filled in are read; judging them needs the alerts and happens in the
alert lifecycle (``pipeline/alerts/lifecycle.py``). The rows of the 帮扶台账 sheet, when
the workbook has one, are read the same way and judged by the assistance ledger
(``pipeline/assistance/ledger.py``). Every other file in the folder is returned too,
with the reason it cannot be applied, so that it is listed instead of ignored.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from pipeline.dispatch.township_workbook import (
    ALERT_ID,
    CASE_ID,
    DETAIL_SHEET,
    FILLED_IN,
    LEDGER_FILLED_IN,
    LEDGER_SHEET,
)
from pipeline.validation.normalize import header_key, parse_date_text

FEEDBACK_FOLDER = "feedback"
WORKBOOK_SUFFIX = ".xlsx"
# Excel's and WPS's own limits: a sheet with more rows, or a row with more cells, was made by
# neither. They are checked before openpyxl reads the sheet: its read-only reader keeps about
# 80 bytes for every row it has read and holds a whole row at once, so these limits are what
# bounds the memory and time a returned workbook takes (a crafted one included).
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
# What a workbook may unpack to. A verification sheet takes a few MB; a result filled down
# every row of Excel takes 100–200 MB; openpyxl keeps the shared strings whole.
MAX_UNPACKED_MB = 256
# Files a township may save the workbook as by mistake: saving it again as .xlsx helps.
SPREADSHEET_SUFFIXES = frozenset(
    {".xls", ".et", ".ett", ".xlsm", ".xlsb", ".xlt", ".xltx", ".xltm", ".ods", ".csv"}
)
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et and encrypted workbooks
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream of an encrypted .xlsx

NO_TOWNSHIP_CODE = "文件名应以乡镇代码（9 位数字）开头，用下发时的文件名即可，请改名后重新上传"
NOT_A_FILE = "是文件夹，其中的文件不会读取：请把核实表直接放在 feedback 文件夹中"
EMPTY_FILE = "无法打开工作簿：文件是空的（0 字节），请重新上传"
ENCRYPTED = "无法打开工作簿：工作簿已加密（设置了打开密码），请取消密码后重新上传"
LEGACY_FORMAT = (
    "无法打开工作簿：实际是旧版 .xls 或 WPS .et 文件（只改了扩展名），请另存为 .xlsx 后重新上传"
)
TRUNCATED = "无法打开工作簿：文件不完整（可能没有上传完），请重新上传"
NOT_A_ZIP = "无法打开工作簿：不是 XLSX 文件（可能只改了扩展名），请另存为 .xlsx 后重新上传"
TOO_LARGE = (
    f"无法打开工作簿：解压后超过 {MAX_UNPACKED_MB} MB，远大于下发的核实表，"
    "请删除表格下方和右侧多余的行和列后重新上传"
)
SHEET_MISSING = f"找不到工作表“{DETAIL_SHEET}”，请用下发的核实表填写，不要删除或改名该工作表"
HEADER_CHANGED = "表头被改动，缺少预警编号或核实栏目"
LEDGER_HEADER_CHANGED = (
    f"工作表“{LEDGER_SHEET}”的表头被改动，缺少{CASE_ID}或填写栏目"
    f"（{'、'.join(LEDGER_FILLED_IN)}），该表未读取，请用下发的表格填写"
)
TOO_MANY_ROWS = f"工作表超过 Excel 的最大行数（{MAX_ROWS:,} 行），不是 Excel 或 WPS 保存的核实表"
TOO_MANY_COLUMNS = (
    f"工作表有一行超过 Excel 的最大列数（{MAX_COLUMNS:,} 列），不是 Excel 或 WPS 保存的核实表"
)

# The start tag of a row, a cell or a formula in a worksheet's XML, with or without a
# namespace prefix (``<row r="2">``, ``<x:c r="A2">``, ``<f>``), and the most bytes one takes.
_START_TAG = re.compile(rb"<(?:[\w.-]{1,32}:)?(row|c|f)[\s/>]")
_LONGEST_TAG = 64
_CHUNK = 1 << 16


class _Uncalculated:
    """A formula cell saved without its computed value (no spreadsheet program recalculated it)."""


UNCALCULATED = _Uncalculated()


@dataclass(frozen=True)
class ReturnedRow:
    row: int  # the sheet row, as Excel numbers it
    alert_id: str
    result: str
    verifier: str
    verified_on: object  # a date cell, or the text the worker typed
    note: str
    # Filled-in columns holding a formula without a computed value: what it says is unknown.
    uncalculated: tuple[str, ...] = ()


@dataclass(frozen=True)
class LedgerRow:
    """A row of the 帮扶台账 sheet with something filled in."""

    row: int  # the sheet row, as Excel numbers it
    case_id: str
    contact: str
    contact_unit: str
    measure_type: str
    measure: str
    put_in_place_on: object  # a date cell, or the text the worker typed
    # Filled-in columns holding a formula without a computed value: what it says is unknown.
    uncalculated: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowsWithoutAlert:
    """Rows with something filled in but no alert (or case) number (filler rows), counted,
    not kept."""

    count: int
    first: int
    last: int


@dataclass(frozen=True)
class ReturnedWorkbook:
    file: str
    sha256: str  # empty for a folder
    township_code: str | None
    rows: tuple[ReturnedRow, ...]
    problem: str | None = None  # the whole file could not be read
    without_alert: RowsWithoutAlert | None = None
    # The 帮扶台账 sheet: its rows, or why the sheet cannot be read (a workbook without the
    # sheet, as written before the ledger or for a township without cases, has no rows).
    ledger: tuple[LedgerRow, ...] = ()
    ledger_problem: str | None = None
    ledger_without_case: RowsWithoutAlert | None = None


def _text(value: object) -> str:
    if value is None or value is UNCALCULATED:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _township_code(name: str) -> str | None:
    match = re.match(r"(\d{9})", name)
    return match.group(1) if match else None


def file_sha256(path: Path) -> str:
    """The digest of a file in the folder, read in chunks; empty for a folder."""
    if not path.is_file():
        return ""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def not_xlsx(suffix: str) -> str:
    """Why a file of another type is not applied, and what the township can do."""
    shown = "".join(character for character in suffix.lower()[:16] if character.isprintable())
    if suffix.lower() in SPREADSHEET_SUFFIXES:
        return f"不是 XLSX 文件（{shown}），请另存为 .xlsx 后重新上传"
    return f"不是 XLSX 文件（{shown or '无扩展名'}），只读取填好的核实表（.xlsx）"


def _unopenable(data: bytes, error: Exception) -> str:
    """Why a file named .xlsx could not be opened, from what it really is."""
    if not data:
        return EMPTY_FILE
    if data.startswith(OLE2_SIGNATURE):
        return ENCRYPTED if ENCRYPTED_PACKAGE in data else LEGACY_FORMAT
    if not data.startswith(b"PK"):
        return NOT_A_ZIP
    if isinstance(error, zipfile.BadZipFile):
        return TRUNCATED
    return f"无法打开工作簿：不是 Excel 工作簿（{type(error).__name__}），请另存为 .xlsx 后重新上传"


class _Unreadable(Exception):
    """The workbook cannot be applied; the message says why, for the township."""


def _start_tags(source: IO[bytes]) -> Iterator[bytes]:
    """The names of the row, cell and formula elements that start in a worksheet's XML, in
    order, read in chunks: a tag is taken from a chunk once the bytes after it are there too."""
    tail = b""
    while chunk := source.read(_CHUNK):
        buffer = tail + chunk
        cut = max(len(buffer) - _LONGEST_TAG, 0)
        for match in _START_TAG.finditer(buffer):
            if match.start() >= cut:
                break
            yield match[1]
        tail = buffer[cut:]
    for match in _START_TAG.finditer(tail):
        yield match[1]


def _check_worksheets(archive: zipfile.ZipFile) -> bool:
    """Whether a worksheet holds a formula, from one streaming pass over each worksheet's XML
    that also refuses a sheet Excel could not have saved (more rows or a row with more cells
    than Excel has) before openpyxl reads it. True when no worksheet is where Excel puts
    them: whether there are formulas is then unknown."""
    worksheets = [
        member
        for member in archive.infolist()
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
    ]
    formulas = not worksheets
    for member in worksheets:
        rows = cells = 0
        with archive.open(member) as source:
            for tag in _start_tags(source):
                if tag == b"c":
                    cells += 1
                    if cells > MAX_COLUMNS:
                        raise _Unreadable(TOO_MANY_COLUMNS)
                elif tag == b"row":
                    rows, cells = rows + 1, 0
                    if rows > MAX_ROWS:
                        raise _Unreadable(TOO_MANY_ROWS)
                else:
                    formulas = True
    return formulas


def _open(data: bytes, *, data_only: bool) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)


def _worksheet(book: Any, title: str) -> Any:
    """The worksheet ``title`` (a chart sheet of that name is not one), or None."""
    return next((sheet for sheet in book.worksheets if sheet.title == title), None)


def _detail_sheet(book: Any) -> Any:
    """The 预警明细 worksheet."""
    sheet = _worksheet(book, DETAIL_SHEET)
    if sheet is None:
        raise _Unreadable(SHEET_MISSING)
    return sheet


def _is_formula(value: object) -> bool:
    return isinstance(value, ArrayFormula | DataTableFormula) or (
        isinstance(value, str) and value.startswith("=")
    )


def _sheet_values(
    book: Any, formulas: Any, title: str, low: int, high: int
) -> Generator[tuple[object, ...], None, None]:
    """The values of columns ``low`` to ``high`` of the sheet ``title`` from row 2 on, one
    tuple a row (missing rows too). With ``formulas``, the same workbook read for its formulas, a
    formula cell saved without its computed value reads UNCALCULATED: openpyxl and some
    converters save none (or an empty one); Excel saves an empty text result as an empty
    value of type ``str``."""
    bounds = {"min_row": 2, "max_row": MAX_ROWS + 1, "min_col": low, "max_col": high}
    if formulas is None:
        yield from _worksheet(book, title).iter_rows(**bounds, values_only=True)
        return
    calculated = _worksheet(book, title).iter_rows(**bounds)
    written = _worksheet(formulas, title).iter_rows(**bounds, values_only=True)
    for cells, formula_row in zip(calculated, written, strict=True):
        yield tuple(
            UNCALCULATED
            if cell.value is None and cell.data_type != "str" and _is_formula(formula)
            else cell.value
            for cell, formula in zip(cells, formula_row, strict=True)
        )


def _header(sheet: Any, required: tuple[str, ...], problem: str) -> dict[str, int]:
    """The columns of a sheet by header, from its first row; ``problem`` when one of the
    ``required`` headers is missing."""
    sheet.reset_dimensions()  # the size saved in the file may be wrong: read the whole row
    with closing(sheet.iter_rows(min_row=1, max_row=1, values_only=True)) as rows:
        first = next(rows, ())
    header: dict[str, int] = {}
    for column, value in enumerate(first, 1):
        if value is not None:
            header.setdefault(header_key(value), column)
    if not all(name in header for name in required):
        raise _Unreadable(problem)
    return header


def _is_blank(value: object) -> bool:
    return value is not UNCALCULATED and _text(value) == ""


def _cell_date(value: object) -> object:
    if value is UNCALCULATED:
        return None
    return value.date() if isinstance(value, datetime) else value


def _read_rows(book: Any, formulas: Any) -> tuple[list[ReturnedRow], RowsWithoutAlert | None]:
    """The rows with something filled in, and the filler rows counted: the sheet is streamed,
    only the columns from the alert number to the last filled-in one."""
    header = _header(_detail_sheet(book), (ALERT_ID, *FILLED_IN), HEADER_CHANGED)
    wanted = [header[name] for name in (ALERT_ID, *FILLED_IN)]
    low = min(wanted)
    returned: list[ReturnedRow] = []
    count = first = last = 0
    with closing(_sheet_values(book, formulas, DETAIL_SHEET, low, max(wanted))) as rows:
        for number, cells in enumerate(rows, 2):
            if number > MAX_ROWS:
                raise _Unreadable(TOO_MANY_ROWS)
            values = {name: cells[header[name] - low] for name in (ALERT_ID, *FILLED_IN)}
            if all(_is_blank(values[name]) for name in FILLED_IN):
                continue  # not verified yet
            alert_id = _text(values[ALERT_ID])
            if not alert_id:
                # Filler (a result dragged down a million rows): counted, not kept row by row.
                count, first, last = count + 1, first or number, number
                continue
            returned.append(
                ReturnedRow(
                    row=number,
                    alert_id=alert_id,
                    result=_text(values["核实结果"]),
                    verifier=_text(values["核实人"]),
                    verified_on=_cell_date(values["核实日期"]),
                    note=_text(values["备注"]),
                    uncalculated=tuple(name for name in FILLED_IN if values[name] is UNCALCULATED),
                )
            )
    return returned, RowsWithoutAlert(count, first, last) if count else None


def _read_ledger(book: Any, formulas: Any) -> tuple[list[LedgerRow], RowsWithoutAlert | None]:
    """The 帮扶台账 rows with something filled in (none without the sheet), and the
    filler rows counted, as ``_read_rows`` reads the verification sheet."""
    sheet = _worksheet(book, LEDGER_SHEET)
    if sheet is None:
        return [], None
    names = (CASE_ID, *LEDGER_FILLED_IN)
    header = _header(sheet, names, LEDGER_HEADER_CHANGED)
    wanted = [header[name] for name in names]
    low = min(wanted)
    returned: list[LedgerRow] = []
    count = first = last = 0
    with closing(_sheet_values(book, formulas, LEDGER_SHEET, low, max(wanted))) as rows:
        for number, cells in enumerate(rows, 2):
            if number > MAX_ROWS:
                raise _Unreadable(TOO_MANY_ROWS)
            values = {name: cells[header[name] - low] for name in names}
            if all(_is_blank(values[name]) for name in LEDGER_FILLED_IN):
                continue  # nothing filled in
            case_id = _text(values[CASE_ID])
            if not case_id:
                count, first, last = count + 1, first or number, number
                continue
            fields = {field: values[name] for name, field in LEDGER_FILLED_IN.items()}
            returned.append(
                LedgerRow(
                    row=number,
                    case_id=case_id,
                    contact=_text(fields["contact"]),
                    contact_unit=_text(fields["contact_unit"]),
                    measure_type=_text(fields["measure_type"]),
                    measure=_text(fields["measure"]),
                    put_in_place_on=_cell_date(fields["put_in_place_on"]),
                    uncalculated=tuple(
                        name for name in LEDGER_FILLED_IN if values[name] is UNCALCULATED
                    ),
                )
            )
    return returned, RowsWithoutAlert(count, first, last) if count else None


def _ledger(book: Any, formulas: Any) -> dict[str, Any]:
    """The ledger fields of a returned workbook: a sheet that cannot be read is rejected
    with one line, and its verification rows are applied all the same."""
    try:
        rows, without_case = _read_ledger(book, formulas)
    except _Unreadable as unreadable:
        return {"ledger_problem": str(unreadable)}
    except Exception as error:
        return {
            "ledger_problem": f"无法读取工作表“{LEDGER_SHEET}”（{type(error).__name__}），"
            "请另存为 .xlsx 后重新上传"
        }
    return {"ledger": tuple(rows), "ledger_without_case": without_case}


def _open_checked(data: bytes) -> tuple[Any, bool]:
    """The workbook, opened for its values, and whether it holds formulas; refused before
    openpyxl reads any of it when it unpacks to more than MAX_UNPACKED_MB or a worksheet
    has more rows or cells in a row than Excel (see the limits above)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED_MB << 20:
            raise _Unreadable(TOO_LARGE)  # sizes are enforced by zipfile as it unpacks
        formulas = _check_worksheets(archive)
    return _open(data, data_only=True), formulas


def read_returned(path: Path) -> ReturnedWorkbook:
    """One entry of the folder: a workbook's filled-in rows, or why it cannot be applied."""
    township = _township_code(path.name)
    if not path.is_file():
        return ReturnedWorkbook(path.name, "", township, (), NOT_A_FILE)
    if path.suffix.lower() != WORKBOOK_SUFFIX:
        return ReturnedWorkbook(path.name, file_sha256(path), township, (), not_xlsx(path.suffix))
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if township is None:
        return ReturnedWorkbook(path.name, digest, None, (), NO_TOWNSHIP_CODE)
    try:
        book, has_formulas = _open_checked(data)
    except _Unreadable as unreadable:
        return ReturnedWorkbook(path.name, digest, township, (), str(unreadable))
    except Exception as error:
        return ReturnedWorkbook(path.name, digest, township, (), _unopenable(data, error))
    formulas = None
    try:
        _detail_sheet(book)
        # Formulas need a second reading, for the formulas instead of their saved values.
        formulas = _open(data, data_only=False) if has_formulas else None
        rows, without_alert = _read_rows(book, formulas)
        ledger = _ledger(book, formulas)
    except _Unreadable as unreadable:
        return ReturnedWorkbook(path.name, digest, township, (), str(unreadable))
    except Exception as error:
        return ReturnedWorkbook(
            path.name,
            digest,
            township,
            (),
            f"无法读取工作表“{DETAIL_SHEET}”（{type(error).__name__}），请另存为 .xlsx 后重新上传",
        )
    finally:
        book.close()
        if formulas is not None:
            formulas.close()
    return ReturnedWorkbook(path.name, digest, township, tuple(rows), None, without_alert, **ledger)


def returned_files(inbox: Path) -> list[Path]:
    """Every entry of ``INBOX/feedback/`` a run reports on, by name. Excel's lock files
    (``~$…``) and hidden files (``.DS_Store``, ``._…``) belong to the systems that wrote
    them, not to a township."""
    folder = inbox / FEEDBACK_FOLDER
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if not path.name.startswith(("~$", ".")))


def read_returns(inbox: Path) -> list[ReturnedWorkbook]:
    """Every returned file in ``INBOX/feedback/``, by name."""
    return [read_returned(path) for path in returned_files(inbox)]


def verification_date(value: object) -> date | None:
    """The date a worker entered: a date cell, or text in one of the usual forms."""
    if isinstance(value, date):
        return value
    text = _text(value)
    return parse_date_text(text) if text else None
