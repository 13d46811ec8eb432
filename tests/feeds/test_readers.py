"""Readers: headers, encodings, sheets, footers and numeric cells, as senders send them."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.feeds.readers import ReadError, decode, read_csv_chunks, read_xlsx_chunks, whole
from tests.conftest import person_id, write_delivery

D1 = date(2026, 3, 1)


def test_csv_headers_with_spaces_and_full_width_parentheses(tmp_path, registry):
    spec = registry["hrss_employment"]
    header = [" 身份证号 ", "姓 名", "就业状态", "就业地区", "月工资（元）", "变动日期", "备注"]
    path = write_delivery(
        tmp_path,
        spec,
        D1,
        [[person_id(1), "张三", "失业登记", "", "3200", "2026-03-01", "x"]],
        header=header,
    )

    table = whole(read_csv_chunks(spec, path))

    assert list(table.values.columns) == [column.field for column in spec.columns]
    assert table.values.iloc[0]["monthly_wage_yuan"] == "3200"
    assert any("合同外的列" in note and "备注" in note for note in table.notes)


def test_csv_missing_a_required_column_is_unreadable(tmp_path, registry):
    spec = registry["hrss_employment"]
    header = ["身份证号", "姓名", "就业地区", "月工资", "变动日期"]
    path = write_delivery(
        tmp_path, spec, D1, [[person_id(1), "张三", "", "", "2026-03-01"]], header=header
    )
    with pytest.raises(ReadError, match="表头缺少必需的列：就业状态"):
        whole(read_csv_chunks(spec, path))


def test_blank_rows_are_not_data_and_do_not_take_a_number(tmp_path, registry):
    spec = registry["hrss_employment"]
    rows = [
        [person_id(1), "甲", "失业登记", "", "", "2026-03-01"],
        ["", "", "", "", "", ""],
        [person_id(2), "乙", "失业登记", "", "", "2026-03-01"],
    ]
    path = write_delivery(tmp_path, spec, D1, rows)
    path.write_bytes(path.read_bytes().replace(b"\r\n,,,,,\r\n", b"\r\n\r\n,,,,,\r\n"))

    table = whole(read_csv_chunks(spec, path))

    assert len(table) == 2
    assert list(table.values.index) == [1, 2]
    assert table.values.loc[2, "name"] == "乙"


@pytest.mark.parametrize(
    ("declared", "written", "read_as", "noted"),
    [
        ("gbk", "gbk", "gbk", False),
        ("gbk", "utf-8", "utf-8", True),
        ("gbk", "utf-8-sig", "utf-8-sig", True),
        ("gbk", "gb18030", "gb18030", True),  # a rare character GBK lacks
        ("gb18030", "gbk", "gb18030", False),  # GBK is a subset of GB18030
        ("utf-8", "gbk", "gbk", True),
        ("utf-8-sig", "utf-8", "utf-8", False),
    ],
)
def test_encodings(declared, written, read_as, noted):
    text = "姓名,备注\n王䶮,正常\n" if written == "gb18030" else "姓名,备注\n张三,正常\n"
    decoded, actual = decode(text.encode(written), declared)
    assert decoded.lstrip("\ufeff") == text
    assert actual == read_as
    from pipeline.feeds.readers import encoding_note

    assert (encoding_note(declared, actual, decoded) is not None) == noted


def test_undecodable_file_is_unreadable():
    with pytest.raises(ReadError, match="无法按 UTF-8、GBK 或 GB18030 解码"):
        decode(b"\xff\xfe\xfa\xfb\x81\x20", "gbk")


def test_xlsx_named_sheet_footers_and_notes_sheet(tmp_path, registry):
    spec = registry["housing_safety"]
    rows = [
        [person_id(1), "户主甲", "梅村村一组", "C级", date(2026, 2, 1), "未改造"],
        [person_id(2), "户主乙", "梅村村二组", "A级", 46054, "无需改造"],
    ]
    footer = [
        ["合计", "2户", None, None, None, None],
        [None, None, None, None, None, None],
        ["制表人：李四    审核人：王五    日期：2026年3月5日", None, None, None, None, None],
    ]
    path = write_delivery(
        tmp_path, spec, D1, rows, footer=footer, extra_sheets={"说明": [["本表为测试"]]}
    )

    table = whole(read_xlsx_chunks(spec, path))

    assert len(table) == 2
    assert table.values.loc[1, "appraisal_date"] == date(2026, 2, 1)
    assert table.values.loc[2, "appraisal_date"] == 46054.0


def test_xlsx_sheet_must_exist(tmp_path, registry):
    spec = registry["housing_safety"]
    path = write_delivery(tmp_path, spec, D1, [])
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    workbook.active.title = "Sheet1"
    workbook.save(path)
    with pytest.raises(ReadError, match="找不到工作表“鉴定结果”"):
        whole(read_xlsx_chunks(spec, path))


def test_xlsx_numeric_id_cell_stays_a_number_for_the_contract(tmp_path, registry):
    spec = registry["med_enrollment"]
    number = person_id(3)
    path = write_delivery(
        tmp_path, spec, D1, [[float(number), "张三", 2026, "正常参保", "无", "贵池区"]]
    )

    table = whole(read_xlsx_chunks(spec, path))

    assert isinstance(table.values.loc[1, "id_number"], float)


def test_trailing_empty_cells_are_tolerated_but_extra_values_are_not(tmp_path, registry):
    spec = registry["police_hukou"]
    path = write_delivery(tmp_path, spec, D1, [[person_id(1), "甲", "迁出", "2026-03-01", ""]])
    path.write_bytes(path.read_bytes().replace(b"2026-03-01,\r\n", b"2026-03-01,,,\r\n"))
    assert len(whole(read_csv_chunks(spec, path))) == 1

    path.write_bytes(path.read_bytes().replace(b"2026-03-01,,,\r\n", b"2026-03-01,,x,\r\n"))
    with pytest.raises(ReadError, match="第2行的字段数多于表头"):
        whole(read_csv_chunks(spec, path))


def test_a_value_beyond_the_header_is_named_by_its_row_in_the_sheet(tmp_path, registry):
    """Rows above the header count: the message names the row a clerk sees in Excel."""
    import openpyxl

    spec = registry["housing_safety"]
    path = write_delivery(tmp_path, spec, D1, [])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[spec.sheet]
    sheet.insert_rows(1, 2)  # the header now on row 3
    sheet.append([person_id(1), "户主甲", "梅村村一组", "C级", "2026-02-01", "未改造"])
    sheet.append([person_id(2), "户主乙", "梅村村一组", "C级", "2026-02-01", "未改造", "x"])
    workbook.save(path)
    with pytest.raises(ReadError, match=r"^第5行在表头以外的列中有值$"):
        whole(read_xlsx_chunks(spec, path))


def test_a_csv_of_nothing_but_a_full_width_space_is_an_empty_delivery(tmp_path, registry):
    spec = registry["hrss_employment"]
    path = tmp_path / "hrss.csv"
    path.write_bytes("\u3000\r\n".encode("gbk"))
    assert len(whole(read_csv_chunks(spec, path))) == 0


def test_a_workbook_whose_sheet_does_not_unpack_is_damaged(tmp_path, registry):
    import zipfile

    spec = registry["housing_safety"]
    rows = [
        [person_id(n), f"户主{n}", "梅村村一组", "C级", "2026-02-01", "未改造"] for n in range(50)
    ]
    path = write_delivery(tmp_path, spec, D1, rows, marker=False)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
    # Spoil the sheet's compressed bytes; the archive's directory stays whole.
    start = member.header_offset + 30 + len(member.filename) + len(member.extra) + 40
    data[start : start + 60] = bytes(60)
    path.write_bytes(bytes(data))

    with pytest.raises(
        ReadError, match=r"^无法打开 XLSX 文件：文件不完整或已损坏（工作表“鉴定结果”无法解读"
    ):
        whole(read_xlsx_chunks(spec, path))


def test_two_headers_for_one_column_are_refused_however_spelt(tmp_path, registry):
    spec = registry["hrss_employment"]
    header = ["身份证号", "姓名", "就业状态", "就业地区", "月工资", "变动日期", "月工资（元）"]
    path = write_delivery(
        tmp_path,
        spec,
        D1,
        [[person_id(1), "张三", "失业登记", "", "3200", "2026-03-01", "3500"]],
        header=header,
    )
    with pytest.raises(
        ReadError,
        match=r"^表头中第5列“月工资”和第7列“月工资（元）”都是合同中的“月工资”，无法判断应使用哪一列",
    ):
        whole(read_csv_chunks(spec, path))


def test_a_snapshot_of_nothing_but_blanks_has_no_header(tmp_path, registry):
    """An increment of nothing is a day without changes; a snapshot must list what is in
    force, so a file without even a header is a failed export."""
    path = tmp_path / "vehicles.csv"
    path.write_bytes("\u3000\r\n".encode())
    with pytest.raises(ReadError, match=r"^文件只有空白字符，连表头也没有"):
        whole(read_csv_chunks(registry["police_vehicles"], path))
    assert len(whole(read_csv_chunks(registry["hrss_employment"], path))) == 0


def test_utf16_is_known_by_its_byte_order_mark_in_either_order():
    text = "姓名,备注\r\n张三,正常\r\n"
    for written in ("utf-16-le", "utf-16-be"):
        bom = "\ufeff".encode(written)
        decoded, actual = decode(bom + text.encode(written), "gbk")
        assert (decoded.lstrip("\ufeff"), actual) == (text, "utf-16")
