"""Reading one returned file: why a file cannot be applied, formula cells, filler rows."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipeline.dispatch.township_workbook import DETAIL_COLUMNS, DETAIL_SHEET
from pipeline.feedback.returns import RowsWithoutAlert, read_returned, read_returns

ALERT = "3417021012010001-income_below_line-20260301"
NAME = "341702101_梅村镇_20260301.xlsx"


def workbook(*rows: list[object]) -> openpyxl.Workbook:
    """A township workbook's detail sheet holding ``rows`` (values from column A on)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = DETAIL_SHEET
    sheet.append([column.header for column in DETAIL_COLUMNS])
    for row in rows:
        sheet.append(row)
    return book


def verified(alert_id: str | None, result: object = "不属实") -> list[object]:
    return [alert_id, *([None] * 15), result, "李网格", date(2026, 3, 1), None]


def saved(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def returned(tmp_path: Path, data: bytes, name: str = NAME):
    path = tmp_path / "feedback" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return read_returned(path)


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "无法打开工作簿：文件是空的（0 字节），请重新上传", id="empty"),
        pytest.param(
            "预警编号,核实结果\n".encode(),
            "无法打开工作簿：不是 XLSX 文件（可能只改了扩展名），请另存为 .xlsx 后重新上传",
            id="csv-renamed",
        ),
        pytest.param(
            OLE2,
            "无法打开工作簿：实际是旧版 .xls 或 WPS .et 文件（只改了扩展名），请另存为 .xlsx 后重新上传",
            id="xls-renamed",
        ),
        pytest.param(
            OLE2 + "EncryptedPackage".encode("utf-16-le"),
            "无法打开工作簿：工作簿已加密（设置了打开密码），请取消密码后重新上传",
            id="encrypted",
        ),
        pytest.param(
            saved(workbook(verified(ALERT)))[:2000],
            "无法打开工作簿：文件不完整（可能没有上传完），请重新上传",
            id="truncated",
        ),
    ],
)
def test_a_file_named_xlsx_that_cannot_be_opened_says_what_it_is(tmp_path, data, reason):
    assert returned(tmp_path, data).problem == reason


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("341702101_梅村镇.et", "不是 XLSX 文件（.et），请另存为 .xlsx 后重新上传"),
        ("341702101_梅村镇.XLS", "不是 XLSX 文件（.xls），请另存为 .xlsx 后重新上传"),
        ("341702101_梅村镇.pdf", "不是 XLSX 文件（.pdf），只读取填好的核实表（.xlsx）"),
        ("341702101_梅村镇", "不是 XLSX 文件（无扩展名），只读取填好的核实表（.xlsx）"),
    ],
)
def test_a_file_of_another_type_is_not_read(tmp_path, name, reason):
    read = returned(tmp_path, saved(workbook(verified(ALERT))), name)
    assert (read.township_code, read.rows, read.problem) == ("341702101", (), reason)


def test_the_folder_lists_every_file_but_lock_and_hidden_files(tmp_path):
    folder = tmp_path / "feedback"
    for name in ("b.XLSX", "a.et", "~$b.XLSX", ".DS_Store"):
        returned(tmp_path, b"x", name)
    (folder / "子文件夹").mkdir()
    assert [workbook.file for workbook in read_returns(tmp_path)] == ["a.et", "b.XLSX", "子文件夹"]
    assert read_returns(tmp_path)[2].problem == (
        "是文件夹，其中的文件不会读取：请把核实表直接放在 feedback 文件夹中"
    )


def test_a_changed_header_is_named(tmp_path):
    book = workbook(verified(ALERT))
    book[DETAIL_SHEET]["Q1"] = "结果"
    assert returned(tmp_path, saved(book)).problem == "表头被改动，缺少预警编号或核实栏目"


def _with_cell(data: bytes, cell: str) -> bytes:
    """The workbook with its cell Q2 replaced by ``cell`` as another program writes it."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                start = text.index('<c r="Q2"')
                end = text.index("</c>", start) + len("</c>")
                content = (text[:start] + cell + text[end:]).encode()
            archive.writestr(entry, content)
    return target.getvalue()


@pytest.mark.parametrize(
    ("cell", "result", "uncalculated"),
    [
        pytest.param('<c r="Q2"><f>IF(TRUE,"不属实","")</f><v /></c>', "", ("核实结果",), id="openpyxl"),
        pytest.param('<c r="Q2"><f>IF(TRUE,"不属实","")</f></c>', "", ("核实结果",), id="no-value"),
        pytest.param(
            '<c r="Q2" t="str"><f>IF(TRUE,"不属实","")</f><v>不属实</v></c>', "不属实", (), id="excel"
        ),
        pytest.param(
            '<c r="Q2" t="str"><f>IF(FALSE,"不属实","")</f><v></v></c>', "", (), id="excel-empty-text"
        ),
    ],
)  # fmt: skip
def test_a_formula_is_read_by_its_calculated_value(tmp_path, cell, result, uncalculated):
    data = _with_cell(saved(workbook(verified(ALERT, "placeholder"))), cell)
    (row,) = returned(tmp_path, data).rows
    assert (row.result, row.uncalculated) == (result, uncalculated)


def _filler(tmp_path: Path, rows: int) -> Path:
    book = workbook(verified(ALERT))
    sheet = book[DETAIL_SHEET]
    for number in range(3, rows + 3):
        sheet.cell(row=number, column=17, value="不属实")
        sheet.cell(row=number, column=18, value="李网格")
    path = tmp_path / "feedback" / f"341702101_{rows}.xlsx"
    path.parent.mkdir(exist_ok=True)
    book.save(path)
    return path


def _peak_reading(path: Path) -> tuple[object, int]:
    tracemalloc.start()
    try:
        read = read_returned(path)
        return read, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_filler_rows_are_counted_in_memory_bounded_by_the_rows(tmp_path):
    small, small_peak = _peak_reading(_filler(tmp_path, 2_000))
    large, large_peak = _peak_reading(_filler(tmp_path, 20_000))
    assert [row.alert_id for row in large.rows] == [ALERT]
    assert large.without_alert == RowsWithoutAlert(count=20_000, first=3, last=20_002)
    assert small.without_alert == RowsWithoutAlert(count=2_000, first=3, last=2_002)
    # openpyxl's read-only reader keeps about 80 bytes for every row it has read: Excel's
    # 1,048,576 rows take about 100 MB. A row kept each would take several times that.
    assert (large_peak - small_peak) / 18_000 < 150


def _zipped(*members: tuple[str, bytes]) -> bytes:
    """A workbook with the given parts added or replaced."""
    data, names = saved(workbook(verified(ALERT))), {name for name, _ in members}
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for entry in source.infolist():
            if entry.filename not in names:
                archive.writestr(entry, source.read(entry))
        for name, content in members:
            archive.writestr(name, content)
    return target.getvalue()


def _sheet(rows: str) -> tuple[str, bytes]:
    namespace = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    return "xl/worksheets/sheet1.xml", (
        f'<worksheet xmlns="{namespace}"><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


@pytest.mark.parametrize(
    ("members", "reason"),  # made when the test runs: the parts are large
    [
        pytest.param(
            lambda: [("xl/media/image1.png", bytes(257 << 20))],
            "无法打开工作簿：解压后超过 256 MB，远大于下发的核实表，"
            "请删除表格下方和右侧多余的行和列后重新上传",
            id="unpacks-too-large",
        ),
        pytest.param(
            lambda: [_sheet('<row r="1"/>' * 1_048_577)],
            "工作表超过 Excel 的最大行数（1,048,576 行），不是 Excel 或 WPS 保存的核实表",
            id="too-many-rows",
        ),
        pytest.param(
            lambda: [_sheet('<row r="2">' + '<c t="n"><v>1</v></c>' * 16_385 + "</row>")],
            "工作表有一行超过 Excel 的最大列数（16,384 列），不是 Excel 或 WPS 保存的核实表",
            id="too-many-cells-in-a-row",
        ),
    ],
)
def test_a_workbook_excel_could_not_have_saved_is_refused_before_it_is_read(
    tmp_path, members, reason
):
    assert returned(tmp_path, _zipped(*members())).problem == reason
