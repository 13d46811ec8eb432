"""Department text made harmless in the files users open: spreadsheets, CSVs, file names.

Names, addresses and remarks arrive from departments as they were typed, and go out to
townships and the bureau in workbooks and CSVs opened in Excel or WPS. Whatever they hold,
a value is shown as the text it is: never evaluated as a formula, never a path, never so
long that a spreadsheet cuts it (and with it the suggested help at the end of a reason).
Every writer of a workbook or a CSV for users goes through here, and every file name
taken from data; ordinary values pass unchanged.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import duckdb
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

from pipeline import sql

# What makes Excel or WPS read a CSV field as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel keeps at most this many characters in a cell and silently drops the rest.
CELL_MAX_CHARS = 32_767
# Department text in a reason (a business name, a remark): the SQL macro of
# sql/signals/department_text.sql cuts each such field at this length ...
DEPARTMENT_TEXT_MAX_CHARS = 200
# ... and the evidence of a reason as a whole (rows of many businesses, say) is cut at
# this length, before the suggested help is added after it.
REASON_EVIDENCE_MAX_CHARS = 4_000
# The part of a file name taken from data, in bytes of UTF-8: with the code, the date and
# the temporary name of the atomic writer the name stays far below the 255 bytes allowed.
FILE_LABEL_MAX_BYTES = 120
TOWNSHIP_CODE = re.compile(r"\d{9}")
# Letters and digits of any script stay in a file name, and these few marks; anything
# else (separators, "..", ":*?", control characters, NUL) becomes "_".
_FILE_NAME_MARKS = frozenset("-()（）·")


def clip_text(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters, saying so and how long it was."""
    if len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}{cut_note(len(text))}"


def cut_note(length: int) -> str:
    """What a cut text ends with (sql/signals/department_text.sql says the same)."""
    return f"…（已截断，原文 {length} 字）"


def install_department_text(connection: duckdb.DuckDBPyConnection) -> None:
    """The SQL macro ``department_text(value)`` that the signal and regional steps apply
    to department text before it enters a reason; a temporary macro, on this connection."""
    sql.script(connection, "signals/department_text")


# ------------------------------------------------------------------ CSV


def csv_field(value: str) -> str:
    """A CSV text field that no spreadsheet evaluates: a leading quote before a formula
    (OWASP), and no bare carriage return, which Excel takes for the end of a row (a
    writer ending its lines with a line feed leaves it unquoted), so that the text after
    it would start a row of its own."""
    if value.startswith(FORMULA_STARTS):
        value = f"'{value}"
    return value.replace("\r\n", "\n").replace("\r", "\n")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text fields made safe for a CSV (``csv_field``); numeric
    columns are left alone (a negative number stays a number). The frame itself when
    nothing needed it."""
    safe = frame
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        try:
            risky = values.str.startswith(FORMULA_STARTS, na=False) | values.str.contains(
                "\r", regex=False, na=False
            )
        except AttributeError:
            continue  # no text in it (dates, say)
        risky = risky.astype(bool)
        if not risky.any():
            continue
        if safe is frame:
            safe = frame.copy()
        safe.iloc[:, position] = values.where(~risky, values[risky].map(csv_field))
    return safe


# ------------------------------------------------------------------ workbooks


def cell_text(text: str) -> str:
    """Text a workbook cell can hold whole: characters XML cannot carry removed, and cut
    to what Excel keeps, saying so."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) <= CELL_MAX_CHARS:
        return text
    return clip_text(text, CELL_MAX_CHARS - len(cut_note(len(text))))


def put_cell(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` into a cell; text is always a text cell (never a formula or an
    error value, whatever it starts with) that Excel shows whole or says was cut."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = cell_text(value)
        # openpyxl takes text starting with "=" for a formula and "#N/A" for an error.
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


# ------------------------------------------------------------------ file names


def file_label(text: str) -> str:
    """The part of a file name taken from data: letters, digits and a few marks, at most
    ``FILE_LABEL_MAX_BYTES`` of UTF-8."""
    cleaned = "".join(
        character if character.isalnum() or character in _FILE_NAME_MARKS else "_"
        for character in text
    )
    cleaned = re.sub("_+", "_", cleaned).strip("_")
    encoded = cleaned.encode("utf-8")[:FILE_LABEL_MAX_BYTES]
    return encoded.decode("utf-8", errors="ignore").rstrip("_")


def township_file_name(
    township_code: str, label: str, business_date: date, suffix: str = ".xlsx"
) -> str:
    """``<township code>_<label>_<YYYYMMDD><suffix>``, a plain name inside its folder.

    Returned workbooks are matched by the leading township code, so it comes first and
    whole; it was validated as 9 digits when its registry row was loaded, and anything
    else here is refused rather than written somewhere unexpected."""
    if not TOWNSHIP_CODE.fullmatch(township_code):
        raise ValueError(f"township code is not 9 digits: {township_code[:20]!r}")
    cleaned = file_label(label)
    middle = f"_{cleaned}" if cleaned else ""
    return f"{township_code}{middle}_{business_date:%Y%m%d}{suffix}"
