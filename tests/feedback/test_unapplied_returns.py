"""What a township and the bureau see of returned files that are not (all) applied: every
file in INBOX/feedback/ is either applied or rejected with its reason, in manifest.json and
in feedback_rejections.csv; formula results nobody calculated and filler rows are listed."""

from __future__ import annotations

from datetime import date

import openpyxl
import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline.dispatch.township_workbook import DETAIL_SHEET
from pipeline.steps import run_day
from tests.conftest import home_for

D1, D2, D3 = (date(2026, 3, day) for day in (1, 2, 3))
FILLER_ROWS = 20_000
FORMULA_RESULT = '=IF(TRUE,"不属实","")'  # saved by openpyxl: no calculated value


def rejections(result) -> pd.DataFrame:
    return pd.read_csv(
        result.outbox / "feedback_rejections.csv", encoding="utf-8-sig", dtype=str
    ).fillna("")


def open_alert_ids(result) -> set[str]:
    return set(
        pd.read_csv(result.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)["alert_id"]
    )


def verify(sheet, row: int, result: object = "属实-已落实帮扶") -> None:
    sheet.cell(row=row, column=17, value=result)
    sheet.cell(row=row, column=18, value="李网格")
    sheet.cell(row=row, column=19, value=D1)


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    root = tmp_path_factory.mktemp("unapplied")
    summary = generate_district(root / "inbox", households=600, start=D1, end=D3, seed=11)
    settings = home_for(root, summary.claims_url, summary.inbox)
    run_day(settings, D1)
    books = sorted(settings.home.outbox(D1).glob("townships/*.xlsx"))
    sent = max(books, key=lambda path: openpyxl.load_workbook(path)[DETAIL_SHEET].max_row)
    code, stem = sent.name.split("_", 1)[0], sent.stem
    detail = openpyxl.load_workbook(sent)[DETAIL_SHEET]
    ids = {row: detail.cell(row=row, column=1).value for row in range(2, 9)}
    assert all(ids.values())
    folder = summary.inbox / "feedback"
    folder.mkdir()

    def filled(row: int, result: object = "属实-已落实帮扶"):
        book = openpyxl.load_workbook(sent)
        verify(book[DETAIL_SHEET], row, result)
        return book

    # Saved with the extension in capitals, as some systems do: applied.
    filled(2).save(folder / f"{stem}.XLSX")
    # A WPS workbook and a legacy one (an .et holding a good workbook is still not read).
    filled(3).save(folder / f"{stem}.et")
    (folder / f"{stem}.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    # Files named .xlsx that cannot be applied.
    (folder / f"{code}_不是工作簿.xlsx").write_bytes(b"not a workbook")
    no_sheet = filled(4)
    del no_sheet[DETAIL_SHEET]
    no_sheet.save(folder / f"{code}_删了明细.xlsx")
    filled(4).save(folder / "核实表.xlsx")
    # A result written as a formula that nothing calculated, with and without the rest.
    formula = filled(5, FORMULA_RESULT)
    formula[DETAIL_SHEET].cell(row=6, column=17, value=FORMULA_RESULT)
    formula.save(folder / f"{code}_公式.xlsx")
    # A result dragged down 20,000 rows below the alerts, and one row naming an alert.
    filler = filled(7, "已核实")
    sheet = filler[DETAIL_SHEET]
    first_filler = sheet.max_row + 1
    for row in range(first_filler, first_filler + FILLER_ROWS):
        sheet.cell(row=row, column=17, value="不属实")
        sheet.cell(row=row, column=18, value="李网格")
    filler.save(folder / f"{code}_下拉.xlsx")

    results = {"D2": run_day(settings, D2), "D3": run_day(settings, D3)}
    return {
        "results": results,
        "ids": ids,
        "code": code,
        "stem": stem,
        "first_filler": first_filler,
    }


def test_every_returned_file_is_applied_or_rejected_with_its_reason(returned):
    stem, code = returned["stem"], returned["code"]
    feedback = returned["results"]["D2"].manifest["feedback"]
    assert feedback["files"] == {
        f"{stem}.XLSX": "applied",
        f"{stem}.et": "rejected",
        f"{stem}.xls": "rejected",
        f"{code}_不是工作簿.xlsx": "rejected",
        f"{code}_删了明细.xlsx": "rejected",
        "核实表.xlsx": "rejected",
        f"{code}_公式.xlsx": "applied",
        f"{code}_下拉.xlsx": "applied",
    }
    assert feedback["rejected_files"] == {
        f"{stem}.et": "不是 XLSX 文件（.et），请另存为 .xlsx 后重新上传",
        f"{stem}.xls": "不是 XLSX 文件（.xls），请另存为 .xlsx 后重新上传",
        f"{code}_不是工作簿.xlsx": "无法打开工作簿：不是 XLSX 文件（可能只改了扩展名），"
        "请另存为 .xlsx 后重新上传",
        f"{code}_删了明细.xlsx": "找不到工作表“预警明细”，请用下发的核实表填写，"
        "不要删除或改名该工作表",
        "核实表.xlsx": "文件名应以乡镇代码（9 位数字）开头，用下发时的文件名即可，请改名后重新上传",
    }
    lines = rejections(returned["results"]["D2"])
    whole_files = lines[lines["row"] == ""].set_index("file")["reason"]
    for file, reason in feedback["rejected_files"].items():
        assert whole_files[file] == reason


def test_an_xlsx_in_capitals_is_applied_and_only_it(returned):
    result, ids = returned["results"]["D2"], returned["ids"]
    still_open = open_alert_ids(result)
    assert ids[2] not in still_open
    # Rows 3 and 4 were verified only in files that were rejected.
    assert {ids[3], ids[4], ids[5], ids[6], ids[7]} <= still_open
    assert result.manifest["feedback"]["rows_applied"] == 1


def test_a_formula_result_without_a_value_is_listed(returned):
    lines = rejections(returned["results"]["D2"])
    formula = lines[lines["file"] == f"{returned['code']}_公式.xlsx"]
    reason = "核实结果是公式，没有计算结果，请直接填写或从下拉列表中选择，不要用公式"
    assert formula[["row", "alert_id", "reason"]].values.tolist() == [
        ["5", returned["ids"][5], reason],
        ["6", returned["ids"][6], reason],
    ]


def test_filler_rows_are_one_line_and_rows_naming_an_alert_keep_theirs(returned):
    result = returned["results"]["D2"]
    lines = rejections(result)
    filler = lines[lines["file"] == f"{returned['code']}_下拉.xlsx"]
    first = returned["first_filler"]
    assert filler[["row", "alert_id", "reason"]].values.tolist() == [
        ["7", returned["ids"][7], "核实结果应从下拉列表中选择（属实-已纳入监测、属实-已落实帮扶、不属实、风险已消除）"],
        ["", "", f"第 {first}–{first + FILLER_ROWS - 1} 行：未填写预警编号的行 20,000 行，已忽略"],
    ]  # fmt: skip
    # Two formula rows, one wrong result and the filler rows changed nothing.
    assert result.manifest["feedback"]["rows_rejected"] == 2 + 1 + FILLER_ROWS


def test_the_next_run_changes_nothing_and_lists_the_rejected_files_again(returned):
    first, again = returned["results"]["D2"], returned["results"]["D3"]
    files = again.manifest["feedback"]["files"]
    assert {file for file, status in files.items() if status == "unchanged"} == {
        f"{returned['stem']}.XLSX",
        f"{returned['code']}_公式.xlsx",
        f"{returned['code']}_下拉.xlsx",
    }
    assert (
        again.manifest["feedback"]["rejected_files"]
        == (first.manifest["feedback"]["rejected_files"])
    )
    assert again.manifest["feedback"]["rows_applied"] == 0
    assert set(rejections(again)["row"]) == {""}
