"""Returned township workbooks: the grid's verification results, read as they were filled in.

Returned workbooks go to ``INBOX/feedback/`` under any name that starts with the
township code (the name the pipeline gave them is fine). Only rows with
something filled in are read; judging them needs the alerts and happens in the
alert lifecycle (``pipeline/alerts/lifecycle.py``).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl

from pipeline.dispatch.workbooks import DETAIL_SHEET
from pipeline.validation.normalize import header_key, parse_date_text

FEEDBACK_FOLDER = "feedback"
FILLED_IN = {"核实结果": "result", "核实人": "verifier", "核实日期": "verified_on", "备注": "note"}


@dataclass(frozen=True)
class ReturnedRow:
    row: int  # the sheet row, as Excel numbers it
    alert_id: str
    result: str
    verifier: str
    verified_on: object  # a date cell, or the text the worker typed
    note: str


@dataclass(frozen=True)
class ReturnedWorkbook:
    file: str
    sha256: str
    township_code: str | None
    rows: tuple[ReturnedRow, ...]
    problem: str | None = None  # the whole workbook could not be read


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def read_returned(path: Path) -> ReturnedWorkbook:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    match = re.match(r"(\d{9})", path.name)
    township = match.group(1) if match else None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except Exception as error:
        return ReturnedWorkbook(
            path.name, digest, township, (), f"无法打开工作簿（{type(error).__name__}）"
        )
    if DETAIL_SHEET not in book.sheetnames:
        return ReturnedWorkbook(path.name, digest, township, (), f"找不到工作表“{DETAIL_SHEET}”")
    rows = book[DETAIL_SHEET].iter_rows(values_only=True)
    header = [header_key(cell) if cell is not None else "" for cell in next(rows, ())]
    positions = {name: header.index(name) for name in ("预警编号", *FILLED_IN) if name in header}
    if len(positions) != 1 + len(FILLED_IN):
        return ReturnedWorkbook(
            path.name, digest, township, (), "表头被改动，缺少预警编号或核实栏目"
        )
    returned = []
    for number, cells in enumerate(rows, 2):
        values = {
            name: cells[position] if position < len(cells) else None
            for name, position in positions.items()
        }
        if all(_text(values[name]) == "" for name in FILLED_IN):
            continue  # not verified yet
        verified_on = values["核实日期"]
        returned.append(
            ReturnedRow(
                row=number,
                alert_id=_text(values["预警编号"]),
                result=_text(values["核实结果"]),
                verifier=_text(values["核实人"]),
                verified_on=verified_on.date()
                if isinstance(verified_on, datetime)
                else verified_on,
                note=_text(values["备注"]),
            )
        )
    return ReturnedWorkbook(path.name, digest, township, tuple(returned))


def read_returns(inbox: Path) -> list[ReturnedWorkbook]:
    """Every returned workbook in ``INBOX/feedback/``, by name."""
    folder = inbox / FEEDBACK_FOLDER
    if not folder.is_dir():
        return []
    return [
        read_returned(path)
        for path in sorted(folder.glob("*.xlsx"))
        if not path.name.startswith("~$")
    ]


def verification_date(value: object) -> date | None:
    """The date a worker entered: a date cell, or text in one of the usual forms."""
    if isinstance(value, date):
        return value
    text = _text(value)
    return parse_date_text(text) if text else None
