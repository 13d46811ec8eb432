"""The helpers every outbox writer goes through: formulas, file names, sizes."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipeline.outbox import atomic_write_bytes, csv_bytes
from pipeline.safe_text import (
    CELL_MAX_CHARS,
    DEPARTMENT_TEXT_MAX_CHARS,
    clip_text,
    install_department_text,
    put_cell,
    township_file_name,
)

DAY = date(2026, 3, 5)


def read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_text_field_never_starts_a_formula(start):
    frame = pd.DataFrame({"name": [f"{start}1+1", "张三"], "figure": [-5, 3]})
    rows = read_back(csv_bytes(frame))
    assert rows[1] == [f"'{start}1+1".replace("\r", "\n"), "-5"]
    assert rows[2] == ["张三", "3"]


def test_a_carriage_return_never_starts_a_row():
    """Excel ends a row at a bare CR; the field after it would be read as a new row."""
    frame = pd.DataFrame({"name": ["张三\r=1+1", "\r\n@SUM(1)"], "n": [1, 2]})
    data = csv_bytes(frame)
    assert b"\r" not in data
    assert read_back(data)[1:] == [["张三\n=1+1", "1"], ["'\n@SUM(1)", "2"]]


def test_numbers_dates_and_missing_values_are_left_alone():
    frame = pd.DataFrame(
        {
            "amount": [-1.5, None],
            "count": pd.array([-2, None], dtype="Int64"),
            "day": [date(2026, 3, 1), None],
            "text": pd.array(["-", None], dtype="string"),
        }
    )
    assert read_back(csv_bytes(frame))[1:] == [["-1.5", "-2", "2026-03-01", "'-"], ["", "", "", ""]]
    assert frame.loc[0, "text"] == "-"  # the caller's frame is not changed


def test_ordinary_text_gives_the_same_bytes_as_before():
    frame = pd.DataFrame({"reason": ["【因病】区医疗保障局：…", "a-b"], "n": [1, 2]})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    assert csv_bytes(frame) == buffer.getvalue().encode("utf-8-sig")


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://x.example/","x")', "=1+1", "#N/A", "-1+1", "@A1"]
)
def test_a_workbook_cell_of_text_is_text(value, tmp_path):
    book = openpyxl.Workbook()
    put_cell(book.active, 1, 1, value)
    put_cell(book.active, 1, 2, -3)
    book.save(tmp_path / "book.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "book.xlsx").active
    assert (sheet["A1"].data_type, sheet["A1"].value) == ("s", value)
    assert (sheet["B1"].data_type, sheet["B1"].value) == ("n", -3)


def test_a_workbook_cell_holds_what_excel_keeps_and_says_it_was_cut(tmp_path):
    book = openpyxl.Workbook()
    put_cell(book.active, 1, 1, "长" * 100_000)
    put_cell(book.active, 2, 1, "a\x00b\x07c")  # characters a workbook cannot carry
    book.save(tmp_path / "book.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "book.xlsx").active
    assert len(sheet["A1"].value) <= CELL_MAX_CHARS
    assert sheet["A1"].value.endswith("…（已截断，原文 100000 字）")
    assert sheet["A2"].value == "abc"


def test_clip_text_says_how_long_the_text_was():
    assert clip_text("短文本", 10) == "短文本"
    assert clip_text("一二三四五", 2) == "一二…（已截断，原文 5 字）"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "城关小卖部",
        "商" * DEPARTMENT_TEXT_MAX_CHARS,
        "商" * (DEPARTMENT_TEXT_MAX_CHARS + 1),
    ],
)
def test_the_sql_macro_cuts_as_clip_text_does(text):
    with duckdb.connect() as connection:
        install_department_text(connection)
        (cut,) = connection.execute("select department_text($text)", {"text": text}).fetchone()
    assert cut == (None if text is None else clip_text(text, DEPARTMENT_TEXT_MAX_CHARS))


@pytest.mark.parametrize(
    "name",
    [
        "../../faults-escape:*?",
        "a/b\\c",
        "..",
        "乡:镇*?",
        "乡\x00镇",
        "长" * 300,
        "x" * 300,
        "<>|\"'",
        "",
    ],
)
def test_a_file_name_from_data_stays_in_its_folder(name, tmp_path):
    file_name = township_file_name("341702101", name, DAY)
    assert file_name.startswith("341702101_")
    assert file_name.endswith("_20260305.xlsx")
    assert len(file_name.encode("utf-8")) < 200
    for forbidden in ("/", "\\", ":", "*", "?", "\x00", "..", "<", ">", "|", '"'):
        assert forbidden not in file_name
    folder = tmp_path / "townships"
    atomic_write_bytes(folder / file_name, b"x")
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == [file_name]
    assert (folder / file_name).is_file()


def test_an_ordinary_name_is_kept():
    assert township_file_name("341702101", "梅村镇", DAY) == "341702101_梅村镇_20260305.xlsx"
    assert township_file_name("341702101", "数据比对", DAY) == "341702101_数据比对_20260305.xlsx"


@pytest.mark.parametrize("code", ["34170210", "3417021011", "../341702", "34170210X", ""])
def test_a_township_code_must_be_nine_digits(code):
    with pytest.raises(ValueError, match="9 digits"):
        township_file_name(code, "梅村镇", DAY)


def test_the_returned_workbook_is_matched_by_the_code_prefix(tmp_path):
    """pipeline/feedback/returns.py takes the township from the name's first 9 digits."""
    from pipeline.feedback.returns import read_returned

    path = tmp_path / township_file_name("341702101", "../../x:*?" + "长" * 300, DAY)
    openpyxl.Workbook().save(path)
    assert read_returned(Path(path)).township_code == "341702101"
