"""The township workbook opens in a real spreadsheet program: LibreOffice Calc, headless."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest

from fpwarn_demo import generate_district
from pipeline.dispatch.township_workbook import DETAIL_SHEET, SUMMARY_SHEET
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
    run_day(settings, date(2026, 3, 1))
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
    assert list(reread) == [SUMMARY_SHEET, DETAIL_SHEET]
    assert reread[DETAIL_SHEET] == original[DETAIL_SHEET]
    assert reread[SUMMARY_SHEET][0] == original[SUMMARY_SHEET][0]
    assert len(reread[DETAIL_SHEET]) > 1
