"""A rerun of a day whose inputs have not changed keeps its alerts and township workbooks
and writes the same outbox; any change to what the day depends on runs it in full."""

from __future__ import annotations

import json
import shutil
from datetime import date

import openpyxl
import pytest

from fpwarn_demo import generate_district
from pipeline.dispatch.publish import DayResult
from pipeline.dispatch.township_workbook import DETAIL_SHEET
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import home_for, outbox_files

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)
KEPT = "输入与上次运行相同，沿用预警与核实表"
RAISED = "研判预警"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun")
    summary = generate_district(root / "inbox", households=300, start=D1, end=D2, seed=3)
    settings = home_for(root, summary.claims_url, summary.inbox)
    run_day(settings, D1)
    run_day(settings, D2)
    return root


@pytest.fixture
def district(ran, tmp_path):
    """A copy of the district after both days (inbox and HOME), for one test to change."""
    shutil.copytree(ran, tmp_path / "copy")
    # Its config still names the first copy's claims database, which no test changes.
    settings = load_settings(tmp_path / "copy" / "home", tmp_path / "copy" / "inbox")
    manifest = json.loads((settings.home.outbox(D2) / "manifest.json").read_text("utf-8"))
    return settings, DayResult(D2, settings.home.outbox(D2), manifest)


def rerun(settings, day):
    told: list[str] = []
    return run_day(settings, day, progress=told.append), told


def test_an_unchanged_day_keeps_its_workbooks_and_writes_the_same_outbox(district):
    settings, first = district
    files = outbox_files(first.outbox)
    written = {path: path.stat().st_mtime_ns for path in first.outbox.glob("townships/*.xlsx")}
    assert written

    again, told = rerun(settings, D2)

    assert KEPT in told
    assert RAISED not in told
    kept = outbox_files(again.outbox)
    assert kept.pop("manifest.json") != files.pop("manifest.json")  # statuses: below
    assert kept == files
    assert {path: path.stat().st_mtime_ns for path in written} == written
    # The manifest tells of this run: every delivery in force was loaded before.
    statuses = {info["status"] for info in again.manifest["feeds"].values()}
    assert "loaded" not in statuses
    assert "unchanged" in statuses
    assert again.manifest["alerts"] == first.manifest["alerts"]


def test_a_township_workbook_gone_from_the_outbox_is_written_again(district):
    settings, first = district
    files = outbox_files(first.outbox)
    removed = sorted(first.outbox.glob("townships/*.xlsx"))[0]
    removed.unlink()

    again, told = rerun(settings, D2)

    assert RAISED in told
    assert removed.is_file()
    rewritten = outbox_files(again.outbox)
    del rewritten["manifest.json"], files["manifest.json"]
    assert rewritten == files


def test_a_returned_workbook_makes_the_rerun_raise_again(district):
    settings, first = district
    book_path = sorted(first.outbox.glob("townships/*.xlsx"))[0]
    book = openpyxl.load_workbook(book_path)
    sheet = book[DETAIL_SHEET]
    alert_id = sheet.cell(row=2, column=1).value
    for column, value in ((17, "属实-已落实帮扶"), (18, "李网格"), (19, D2)):
        sheet.cell(row=2, column=column, value=value)
    (settings.inbox / "feedback").mkdir()
    book.save(settings.inbox / "feedback" / book_path.name)

    again, told = rerun(settings, D2)

    assert RAISED in told
    assert again.manifest["feedback"]["rows_applied"] == 1
    assert alert_id not in (again.outbox / "alerts.csv").read_text(encoding="utf-8-sig")


def test_an_earlier_day_rerun_after_a_later_one_runs_in_full(district, tmp_path):
    settings, _ = district
    # The first day is not the newest with alerts any more: its lifecycle must be rebuilt.
    _, told = rerun(settings, D1)
    assert RAISED in told


def test_changed_rules_make_the_rerun_raise_again(district, monkeypatch, tmp_path):
    settings, _ = district
    monkeypatch.setenv("PIPELINE_DAILY_REPORT", "true")  # a setting the day depends on
    _, told = rerun(settings, D2)
    assert RAISED in told
    _, told = rerun(settings, D2)
    assert KEPT in told
    shutil.rmtree(settings.home.run_dir(D2))
    _, told = rerun(settings, D2)
    assert RAISED in told
