"""The assistance ledger down the grid and back (docs/assistance.md, "The assistance
ledger"): a township confirms alerts, the next day's workbook lists their cases on the
帮扶台账 sheet, a grid worker fills it in with openpyxl (good rows, a copied row, a change
of contact, every kind of bad row), and the next runs apply exactly what is right. The
district runs whole and in partitions, with the same outbox."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, timedelta

import duckdb
import openpyxl
import pandas as pd
import pytest
import yaml

from fpwarn_demo import generate_district
from pipeline.dispatch.township_workbook import (
    DETAIL_SHEET,
    LEDGER_COLUMNS,
    LEDGER_SHEET,
    detail_column,
    ledger_column,
)
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import home_for, outbox_files, warehouse_contents

D1, D2, D3, D4, D5 = (date(2026, 3, day) for day in range(1, 6))
HEADERS = [column.header for column in LEDGER_COLUMNS]


def township_book(outbox, code: str):
    return next((outbox / "townships").glob(f"{code}_*.xlsx"))


def confirm(book_path, rows: int, inbox) -> list[str]:
    """The grid confirms the alerts of the first ``rows`` households of a workbook."""
    book = openpyxl.load_workbook(book_path)
    sheet = book[DETAIL_SHEET]
    households, confirmed = set(), []
    for row in range(2, sheet.max_row + 1):
        household = sheet.cell(row=row, column=detail_column("户编号")).value
        if household in households:
            continue
        households.add(household)
        confirmed.append(household)
        for header, value in (
            ("核实结果", "属实-已纳入监测"),
            ("核实人", "李网格"),
            ("核实日期", D2),
        ):
            sheet.cell(row=row, column=detail_column(header), value=value)
        if len(confirmed) == rows:
            break
    (inbox / "feedback").mkdir(exist_ok=True)
    book.save(inbox / "feedback" / book_path.name)
    return confirmed


def ledger(path) -> list[dict[str, object]]:
    """The 帮扶台账 sheet's rows by header, with their row number."""
    sheet = openpyxl.load_workbook(path)[LEDGER_SHEET]
    rows = []
    for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), 2):
        if any(value is not None for value in values):
            rows.append({"row": number, **dict(zip(HEADERS, values, strict=True))})
    return rows


def fill(sheet, row: int, case_id: str | None = None, **values: object) -> None:
    """One row of the ledger as a grid worker fills it in (a new row copies the case id)."""
    if case_id is not None:
        sheet.cell(row=row, column=ledger_column("台账编号"), value=case_id)
    for header, value in values.items():
        sheet.cell(row=row, column=ledger_column(header), value=value)


def measure(contact, unit, kind, content, on) -> dict[str, object]:
    return {
        "帮扶联系人": contact,
        "联系人单位": unit,
        "帮扶措施类别": kind,
        "措施内容": content,
        "落实日期": on,
    }


def assistance_tables(settings) -> dict[str, list]:
    contents = warehouse_contents(settings.home.warehouse)
    return {name: rows for name, rows in contents.items() if name.startswith("assistance.")}


def declare_partitions(settings, codes: list[str]):
    values = yaml.safe_load(settings.home.config_file.read_text(encoding="utf-8"))
    values["partitions"] = {f"part-{n}": [code] for n, code in enumerate(codes[:2])}
    values["partitions"]["rest"] = codes[2:]
    settings.home.config_file.write_text(yaml.safe_dump(values, allow_unicode=True), "utf-8")
    return load_settings(settings.home.root, settings.inbox)


@pytest.fixture(scope="module")
def trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("ledger")
    summary = generate_district(root / "inbox", households=300, start=D1, end=D5, seed=7)
    inbox = summary.inbox
    whole = home_for(root, summary.claims_url, inbox, "whole")
    parted = home_for(root, summary.claims_url, inbox, "parted")
    results: dict[str, dict[date, object]] = {"whole": {}, "parted": {}}

    def run(day):
        results["whole"][day] = run_day(whole, day)
        results["parted"][day] = run_day(parted, day)
        return results["whole"][day]

    results["whole"][D1] = run_day(whole, D1)
    with duckdb.connect(str(whole.home.warehouse), read_only=True) as connection:
        codes = [
            row[0]
            for row in connection.execute(
                "select distinct township_code from staging.cur_households order by 1"
            ).fetchall()
        ]
    # One partition a township, the last one with the rest.
    parted = declare_partitions(parted, codes)
    results["parted"][D1] = run_day(parted, D1)
    outbox = run(D2).outbox
    # Township A confirms three households, township B one.
    town_a, town_b = codes[1], codes[0]
    confirmed_a = confirm(township_book(outbox, town_a), 3, inbox)
    confirm(township_book(outbox, town_b), 1, inbox)
    run(D3)

    # Round 1: the workbook of D3, filled in on the 帮扶台账 sheet.
    sent_d3 = township_book(results["whole"][D3].outbox, town_a)
    listed_d3 = ledger(sent_d3)
    case_b = ledger(township_book(results["whole"][D3].outbox, town_b))[0]["台账编号"]
    first, second, third = (row["台账编号"] for row in listed_d3)
    book = openpyxl.load_workbook(sent_d3)
    sheet = book[LEDGER_SHEET]
    fill(sheet, 2, **measure("王帮扶", "镇农业站", "产业帮扶", "发放鸡苗200只", D3))
    fill(sheet, 5, first, **measure("王帮扶", "镇农业站", "就业帮扶", "推荐到县内企业务工", D3))
    # A unit typed as a spreadsheet would take it for a formula: it stays text.
    fill(sheet, 3, **{"帮扶联系人": "赵干部", "联系人单位": "@村委会"})
    bad = {
        4: (None, measure("孙干部", None, "送温暖", "慰问", D3)),
        6: (third, measure(None, None, "产业帮扶", "种植", D3)),
        7: (third, measure("孙干部", None, "产业帮扶", "种植", "下周")),
        8: (third, measure("孙干部", None, "产业帮扶", "种植", D4 + timedelta(days=10))),
        9: (third, measure("孙干部", None, "产业帮扶", "种植", D1)),
        10: ("C0000000000000000-20260101", measure("孙干部", None, "产业帮扶", "种植", D3)),
        11: (case_b, measure("孙干部", None, "产业帮扶", "种植", D3)),
        12: (third, measure("孙干部", None, None, "种植", D3)),
    }
    for row, (case_id, values) in bad.items():
        fill(sheet, row, case_id, **values)
    fill(sheet, 13, third)  # a case id and nothing else: ignored
    book.save(inbox / "feedback" / sent_d3.name)
    run(D4)

    # Round 2: the workbook of D4 lists the measures recorded; a change of contact.
    sent_d4 = township_book(results["whole"][D4].outbox, town_a)
    listed_d4 = ledger(sent_d4)
    book = openpyxl.load_workbook(sent_d4)
    row_of_second = next(row["row"] for row in listed_d4 if row["台账编号"] == second)
    fill(
        book[LEDGER_SHEET],
        row_of_second,
        **measure("钱干部", "镇民政办", "公益岗位", "安排护林员岗位", D4),
    )
    book.save(inbox / "feedback" / sent_d4.name)
    # Township B returns its workbook with a header renamed.
    sent_b = township_book(results["whole"][D4].outbox, town_b)
    book = openpyxl.load_workbook(sent_b)
    sheet = book[LEDGER_SHEET]
    sheet.cell(row=1, column=ledger_column("帮扶措施类别"), value="措施类别")
    fill(sheet, 2, **measure("周干部", None, "产业帮扶", "种植", D4))
    book.save(inbox / "feedback" / sent_b.name)
    # The first round's workbook returned again, under another name.
    shutil.copy(inbox / "feedback" / sent_d3.name, inbox / "feedback" / f"{town_a}_again.xlsx")
    run(D5)

    # A rerun of D5 in full reproduces the cases, measures, contacts and events.
    before = assistance_tables(whole)
    files = outbox_files(whole.home.outbox(D5))
    shutil.rmtree(whole.home.run_dir(D5))
    rerun = run_day(whole, D5)
    return {
        "whole": whole,
        "results": results,
        "cases": (first, second, third),
        "case_b": case_b,
        "confirmed_a": confirmed_a,
        "listed_d3": listed_d3,
        "listed_d4": listed_d4,
        "towns": (town_a, town_b),
        "files": (sent_d3.name, sent_d4.name, sent_b.name),
        "before_rerun": before,
        "files_before_rerun": files,
        "rerun": rerun,
    }


def cases(trip) -> dict[str, dict[str, object]]:
    with duckdb.connect(str(trip["whole"].home.warehouse), read_only=True) as connection:
        frame = connection.execute("select * from assistance.cases").df()
    return {row["case_id"]: row for row in frame.to_dict("records")}


def query(trip, statement: str, *values) -> list[tuple]:
    with duckdb.connect(str(trip["whole"].home.warehouse), read_only=True) as connection:
        return connection.execute(statement, list(values)).fetchall()


def rejections(result) -> pd.DataFrame:
    return pd.read_csv(
        result.outbox / "feedback_rejections.csv", encoding="utf-8-sig", dtype=str
    ).fillna("")


def test_confirmed_households_get_one_case_each_on_the_ledger_sheet(trip):
    listed = trip["listed_d3"]
    assert [row["户编号"] for row in listed] == sorted(trip["confirmed_a"])
    row = listed[0]
    assert row["台账编号"] == f"C{row['户编号']}-{D2:%Y%m%d}"
    assert row["确认日期"].date() == D2
    assert row["办结期限"].date() == date(2026, 4, 2)
    assert row["状态"] == "待落实"
    assert "建议帮扶：" in row["确认类别及建议帮扶"]
    # Masked as on the detail sheet.
    assert "********" in row["户主身份证号"]
    assert all(row[header] is None for header in HEADERS[10:])


def test_the_sheet_has_the_measure_types_as_a_drop_down_and_dates_as_dates(trip):
    book = openpyxl.load_workbook(
        township_book(trip["results"]["whole"][D3].outbox, trip["towns"][0])
    )
    sheet = book[LEDGER_SHEET]
    column = openpyxl.utils.get_column_letter(ledger_column("帮扶措施类别"))
    lists = [rule for rule in sheet.data_validations.dataValidation if rule.type == "list"]
    assert len(lists) == 1
    assert str(lists[0].sqref).startswith(f"{column}2:{column}")
    assert lists[0].formula1.strip('"').split(",")[0] == "产业帮扶"
    assert sheet.cell(row=2, column=ledger_column("办结期限")).number_format == "yyyy-mm-dd"
    assert sheet.cell(row=1, column=ledger_column("帮扶联系人")).fill.fgColor.rgb.endswith("E2EFDA")


def test_good_rows_record_measures_and_contacts_and_nothing_else_changes(trip):
    first, second, third = trip["cases"]
    after = cases(trip)
    measures = query(
        trip,
        "select case_id, sequence, measure_type, content, put_in_place_date, contact, recorded_date "
        "from assistance.measures order by case_id, sequence",
    )
    assert measures == [
        (first, 0, "产业帮扶", "发放鸡苗200只", D3, "王帮扶", D4),
        (first, 1, "就业帮扶", "推荐到县内企业务工", D3, "王帮扶", D4),
        (second, 0, "公益岗位", "安排护林员岗位", D4, "钱干部", D5),
    ]
    assert after[first]["status"] == "in_place"
    assert after[first]["in_place_date"].date() == D3
    assert (after[first]["contact"], after[first]["contact_unit"]) == ("王帮扶", "镇农业站")
    # Every row of the third case was bad: it is as it was.
    assert after[third]["status"] == "awaiting"
    assert pd.isna(after[third]["contact"])


def test_another_contact_is_a_change_of_contact_kept_with_its_date(trip):
    _, second, _ = trip["cases"]
    contacts = query(
        trip,
        "select contact, contact_unit, from_date, recorded_date from assistance.contacts "
        "where case_id = ? order by recorded_date",
        second,
    )
    assert contacts == [("赵干部", "@村委会", D4, D4), ("钱干部", "镇民政办", D4, D5)]
    events = query(
        trip,
        "select event_date, event, cause from assistance.events where case_id = ? "
        "order by event_date, sequence",
        second,
    )
    assert [(day, kind) for day, kind, _ in events] == [
        (D3, "opened"),
        (D4, "contact"),
        (D5, "contact"),
        (D5, "measure"),
        (D5, "in_place"),
    ]
    assert events[2][2] == "更换帮扶联系人：赵干部 → 钱干部（镇民政办），自2026-03-04起"
    case = cases(trip)[second]
    assert (case["status"], case["contact"]) == ("in_place", "钱干部")


def test_every_bad_row_is_listed_with_its_reason(trip):
    third = trip["cases"][2]
    lines = rejections(trip["results"]["whole"][D4])
    ledger_lines = lines[lines["sheet"] == LEDGER_SHEET]
    reasons = dict(zip(ledger_lines["row"], ledger_lines["reason"], strict=True))
    assert reasons == {
        "4": "帮扶措施类别不在下拉列表中，请从下拉列表中选择",
        "6": "未填写帮扶联系人",
        "7": "落实日期不是日期",
        "8": "落实日期晚于今天",
        "9": "落实日期早于确认日期（2026-03-02）",
        "10": "台账编号不存在",
        "11": "该台账不属于本乡镇",
        "12": "未选择帮扶措施类别",
    }
    assert set(ledger_lines["file"]) == {trip["files"][0]}
    assert set(ledger_lines["case_id"]) == {third, "C0000000000000000-20260101", trip["case_b"]}
    assert set(ledger_lines["alert_id"]) == {""}
    assert (lines["sheet"] != "").all()
    manifest = trip["results"]["whole"][D4].manifest
    assert manifest["assistance"]["ledger_rows_applied"] == 3
    assert manifest["assistance"]["ledger_rows_rejected"] == 8
    assert manifest["assistance"]["measures_recorded"] == 2
    assert manifest["feedback"]["rows_applied"] == 3
    assert manifest["feedback"]["rows_rejected"] == 8


def test_a_sheet_with_edited_headers_is_rejected_with_one_line(trip):
    lines = rejections(trip["results"]["whole"][D5])
    assert lines.to_dict("records") == [
        {
            "township_code": trip["towns"][1],
            "file": trip["files"][2],
            "sheet": LEDGER_SHEET,
            "row": "",
            "alert_id": "",
            "case_id": "",
            "reason": "工作表“帮扶台账”的表头被改动，缺少台账编号或填写栏目"
            "（帮扶联系人、联系人单位、帮扶措施类别、措施内容、落实日期），该表未读取，"
            "请用下发的表格填写",
        }
    ]
    assert query(trip, "select count(*) from assistance.measures where contact = '周干部'") == [
        (0,)
    ]


def test_what_the_grid_typed_goes_back_as_text(trip):
    _, second, _ = trip["cases"]
    sent = township_book(trip["results"]["whole"][D4].outbox, trip["towns"][0])
    sheet = openpyxl.load_workbook(sent)[LEDGER_SHEET]
    row = next(row["row"] for row in trip["listed_d4"] if row["台账编号"] == second)
    cell = sheet.cell(row=row, column=ledger_column("联系人单位"))
    assert (cell.value, cell.data_type) == ("@村委会", "s")


def test_recorded_measures_come_back_and_change_nothing(trip):
    first, _, _ = trip["cases"]
    listed = [row for row in trip["listed_d4"] if row["台账编号"] == first]
    # The case's row with its contact, then one row per measure recorded.
    assert [row["帮扶措施类别"] for row in listed] == [None, "产业帮扶", "就业帮扶"]
    assert {row["帮扶联系人"] for row in listed} == {"王帮扶"}
    assert listed[0]["状态"] == "已落实"
    manifest = trip["results"]["whole"][D5].manifest
    assert manifest["assistance"]["ledger_rows_applied"] == 1
    assert manifest["assistance"]["measures_recorded"] == 1


def test_a_workbook_returned_twice_changes_nothing(trip):
    files = trip["results"]["whole"][D5].manifest["feedback"]["files"]
    assert files[trip["files"][0]] == "unchanged"
    assert files[f"{trip['towns'][0]}_again.xlsx"] == "unchanged"
    first, _, _ = trip["cases"]
    assert query(trip, "select count(*) from assistance.measures where case_id = ?", first) == [
        (2,)
    ]


def test_assistance_csv_lists_the_cases_with_their_measures(trip):
    path = trip["results"]["whole"][D5].outbox / "assistance.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str).fillna("")
    assert list(frame.columns) == [
        "case_id",
        "household_id",
        "township_code",
        "village_code",
        "categories",
        "confirmed_date",
        "due_by",
        "status",
        "contact_named",
        "measures",
        "in_place_date",
        "closed_date",
        "days_overdue",
    ]
    first, second, third = trip["cases"]
    rows = frame.set_index("case_id")
    assert len(rows) == 4
    assert rows.loc[first, "measures"] == (
        "产业帮扶：发放鸡苗200只（2026-03-03）；就业帮扶：推荐到县内企业务工（2026-03-03）"
    )
    assert (rows.loc[first, "contact_named"], rows.loc[third, "contact_named"]) == ("是", "否")
    assert rows.loc[third, ["status", "due_by", "days_overdue"]].tolist() == [
        "awaiting",
        "2026-04-02",
        "0",
    ]
    assert rows.loc[second, "in_place_date"] == "2026-03-04"
    manifest = trip["results"]["whole"][D5].manifest["assistance"]
    assert {name: manifest[name] for name in ("open", "awaiting", "in_place", "overdue")} == {
        "open": 4,
        "awaiting": 2,
        "in_place": 2,
        "overdue": 0,
    }


def test_the_review_table_holds_the_cases_of_the_date(trip):
    path = trip["whole"].home.root / "review" / "review.sqlite"
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "select case_id, status, measures, as_of_date from fpwarn_assistance_cases "
            "order by case_id"
        ).fetchall()
    first, second, third = trip["cases"]
    published = {row[0]: row[1:] for row in rows}
    assert published[first] == ("in_place", 2, D5.isoformat())
    assert published[second] == ("in_place", 1, D5.isoformat())
    assert published[third] == ("awaiting", 0, D5.isoformat())
    assert len(published) == 4


def test_a_rerun_of_a_date_reproduces_the_same_cases_and_events(trip):
    assert trip["before_rerun"]["assistance.events"]
    assert assistance_tables(trip["whole"]) == trip["before_rerun"]
    again = outbox_files(trip["rerun"].outbox)
    # The manifest tells of this run (its deliveries were loaded before); nothing else differs.
    assert again.pop("manifest.json") != trip["files_before_rerun"]["manifest.json"]
    assert again == {
        name: digest
        for name, digest in trip["files_before_rerun"].items()
        if name != "manifest.json"
    }


def test_a_partitioned_run_gives_the_same_outbox(trip):
    for day in (D2, D3, D4):
        whole = outbox_files(trip["results"]["whole"][day].outbox)
        parted = outbox_files(trip["results"]["parted"][day].outbox)
        assert parted == whole, day
        assert trip["results"]["parted"][day].manifest == trip["results"]["whole"][day].manifest
    # D5's whole outbox was rewritten by the rerun: compared as it was first written.
    assert outbox_files(trip["results"]["parted"][D5].outbox) == trip["files_before_rerun"]
