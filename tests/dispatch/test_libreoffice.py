"""The township workbook opens in a real spreadsheet program: LibreOffice Calc, headless."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from fpwarn_demo import generate_district
from pipeline.alerts.rules import load_rules
from pipeline.dispatch.township_workbook import (
    DETAIL_SHEET,
    LEAD_SHEET,
    LEDGER_SHEET,
    SUMMARY_SHEET,
    detail_column,
    ledger_column,
)
from pipeline.steps import run_day
from tests.conftest import home_for


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("LibreOffice (soffice) is not installed; .ci/run installs libreoffice-calc")
    pytest.skip("LibreOffice is not installed here")


def values(path):
    book = openpyxl.load_workbook(path, data_only=True)
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True) if any(row)]
        for sheet in book.worksheets
    }


def test_libreoffice_reads_back_every_value(tmp_path):
    binary = soffice()
    day = date(2026, 3, 2)
    summary = generate_district(
        tmp_path / "inbox", households=300, start=date(2026, 3, 1), end=day, seed=7
    )
    settings = home_for(tmp_path, summary.claims_url, summary.inbox)
    first = run_day(settings, date(2026, 3, 1))
    # An alert confirmed: the next workbook has the 帮扶台账 sheet with its drop-down.
    sent = sorted((first.outbox / "townships").glob("*.xlsx"))[0]
    book = openpyxl.load_workbook(sent)
    for header, value in (("核实结果", "属实-已纳入监测"), ("核实人", "李网格"), ("核实日期", day)):
        book[DETAIL_SHEET].cell(row=2, column=detail_column(header), value=value)
    (summary.inbox / "feedback").mkdir(exist_ok=True)
    book.save(summary.inbox / "feedback" / sent.name)
    result = run_day(settings, day)
    workbook = sorted((result.outbox / "townships").glob("*.xlsx"))[0]
    converted = tmp_path / "converted"

    done = subprocess.run(
        [
            binary,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(converted),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stderr
    original, reread = values(workbook), values(converted / workbook.name)
    # The demo's leads of the day to locate on the ground come last (线索核查).
    assert list(reread) == [SUMMARY_SHEET, DETAIL_SHEET, LEDGER_SHEET, LEAD_SHEET]
    assert reread[LEAD_SHEET] == original[LEAD_SHEET]
    assert reread[DETAIL_SHEET] == original[DETAIL_SHEET]
    assert reread[LEDGER_SHEET] == original[LEDGER_SHEET]
    assert reread[SUMMARY_SHEET][0] == original[SUMMARY_SHEET][0]
    assert len(reread[DETAIL_SHEET]) > 1
    assert len(reread[LEDGER_SHEET]) == 2
    # The measure types' drop-down survives, on the column the grid fills in.
    sheet = openpyxl.load_workbook(converted / workbook.name)[LEDGER_SHEET]
    column = get_column_letter(ledger_column("帮扶措施类别"))
    lists = [rule for rule in sheet.data_validations.dataValidation if rule.type == "list"]
    assert [str(rule.sqref).split(":")[0] for rule in lists] == [f"{column}2"]
    assert lists[0].formula1.strip('"').split(",") == list(load_rules().assistance.measure_types)
