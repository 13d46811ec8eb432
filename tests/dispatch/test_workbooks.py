"""Township workbooks: only the township's own households, personal numbers masked,
made for the grid workers who fill them in."""

from __future__ import annotations

import re
from datetime import date

import openpyxl
import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline.dispatch.masking import mask_id_number, mask_phone, mask_text
from pipeline.dispatch.workbooks import DETAIL_SHEET, SUMMARY_SHEET, VERIFICATION_RESULTS
from pipeline.steps import run_day
from tests.conftest import home_for

START, END = date(2026, 3, 1), date(2026, 3, 3)
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])|(?<![\d*])\d{15}(?![\d*])")
UNMASKED_MOBILE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("townships")
    summary = generate_district(root / "inbox", households=600, start=START, end=END, seed=11)
    settings = home_for(root, summary.claims_url, summary.inbox)
    results = {day: run_day(settings, day) for day in (START, date(2026, 3, 2), END)}
    return settings, results


def workbooks(result):
    return sorted((result.outbox / "townships").glob("*.xlsx"))


def cells(path):
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if value is not None:
                    yield sheet.title, str(value)


def test_one_workbook_per_township_with_its_own_households_only(district):
    _, results = district
    result = results[END]
    alerts = pd.read_csv(result.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)
    books = workbooks(result)
    assert {path.name.split("_")[0] for path in books} == set(alerts["township_code"])
    for path in books:
        township = path.name.split("_")[0]
        detail = pd.read_excel(path, sheet_name=DETAIL_SHEET, dtype=str)
        expected = alerts[alerts["township_code"] == township]
        assert sorted(detail["预警编号"]) == sorted(expected["alert_id"])
        assert set(detail["户编号"]) == set(expected["household_id"])
        assert all(household.startswith(township) for household in detail["户编号"])
        assert path.name.endswith(f"_{END:%Y%m%d}.xlsx")
        assert f"townships/{path.name}" in result.manifest["outputs"]


def test_no_id_or_phone_number_leaves_unmasked(district):
    _, results = district
    for path in workbooks(results[END]):
        for sheet, value in cells(path):
            assert not UNMASKED_ID.search(value), (path.name, sheet, "an ID number")
            assert not UNMASKED_MOBILE.search(value), (path.name, sheet, "a phone number")


def test_a_households_alerts_stand_together_grouped_by_village(district):
    _, results = district
    for path in workbooks(results[END]):
        detail = pd.read_excel(path, sheet_name=DETAIL_SHEET, dtype=str)
        households = list(detail["户编号"])
        # every household's rows are contiguous, and villages come in order
        runs = [
            household
            for index, household in enumerate(households)
            if index == 0 or households[index - 1] != household
        ]
        assert len(runs) == len(set(households))
        assert households == sorted(households)


def test_what_the_grid_fills_in(district):
    _, results = district
    path = workbooks(results[END])[0]
    book = openpyxl.load_workbook(path)
    sheet = book[DETAIL_SHEET]
    headers = [cell.value for cell in sheet[1]]
    assert headers[-4:] == ["核实结果", "核实人", "核实日期", "备注"]
    lists = [
        validation
        for validation in sheet.data_validations.dataValidation
        if validation.type == "list"
    ]
    assert len(lists) == 1
    assert lists[0].formula1 == '"' + ",".join(VERIFICATION_RESULTS) + '"'
    assert str(lists[0].sqref).startswith("Q2:Q")
    assert sheet.freeze_panes == "B2"
    assert sheet.page_setup.orientation == "landscape"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert book.sheetnames == [SUMMARY_SHEET, DETAIL_SHEET]


def test_grade_is_shown_by_colour_and_text(district):
    _, results = district
    colours = {"红色": "FFC7CE", "橙色": "FFD8A8", "黄色": "FFF2CC"}
    for path in workbooks(results[END]):
        sheet = openpyxl.load_workbook(path)[DETAIL_SHEET]
        grade_column = [cell.value for cell in sheet[1]].index("预警等级") + 1
        for row in range(2, sheet.max_row + 1):
            cell = sheet.cell(row=row, column=grade_column)
            assert cell.fill.fgColor.rgb.endswith(colours[cell.value])


def test_summary_names_who_is_responsible_and_counts_overdue(district):
    _, results = district
    path = workbooks(results[END])[0]
    text = "\n".join(value for sheet, value in cells(path) if sheet == SUMMARY_SHEET)
    assert "乡镇网格长（负责督办）" in text
    assert "村级网格长（负责核实）" in text
    assert "已逾期预警（请乡镇网格长督办）" in text


def test_an_alert_keeps_its_row_identity_across_days(district):
    _, results = district
    ids = {}
    for day in (date(2026, 3, 2), END):
        for path in workbooks(results[day]):
            detail = pd.read_excel(path, sheet_name=DETAIL_SHEET, dtype=str)
            ids[day] = ids.get(day, set()) | set(detail["预警编号"])
    kept = ids[date(2026, 3, 2)] & ids[END]
    assert kept
    alerts = pd.read_csv(results[END].outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)
    assert kept <= set(alerts["alert_id"])


def test_rerun_gives_the_same_cell_values(district):
    settings, results = district
    before = {path.name: list(cells(path)) for path in workbooks(results[END])}
    again = run_day(settings, END)
    assert {path.name: list(cells(path)) for path in workbooks(again)} == before


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (mask_id_number, "34170219800517123X", "341702********123X"),
        (mask_id_number, None, ""),
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "0566-2345678", "****-***5678"),
        (
            mask_text,
            "身份证号34170219800517123X，电话13812345678",
            "身份证号341702********123X，电话138****5678",
        ),
    ],
)
def test_masks(function, value, expected):
    assert function(value) == expected


def test_overdue_alerts_go_to_the_township_head_and_the_district(district):
    settings, _ = district
    later = run_day(settings, date(2026, 3, 9))  # red alerts of 1 March were due on 5 March
    alerts = pd.read_csv(later.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)
    overdue = pd.read_csv(later.outbox / "overdue.csv", encoding="utf-8-sig", dtype=str)
    escalated = alerts[alerts["status"] == "escalated"]
    assert not escalated.empty
    assert sorted(overdue["alert_id"]) == sorted(escalated["alert_id"])
    assert overdue["township_head"].notna().all()
    for path in workbooks(later):
        township = path.name.split("_")[0]
        listed = {value for sheet, value in cells(path) if sheet == SUMMARY_SHEET}
        for alert_id in escalated.loc[escalated["township_code"] == township, "alert_id"]:
            assert alert_id in listed
