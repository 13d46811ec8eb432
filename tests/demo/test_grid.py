"""The demo's grid: township workbooks the pipeline wrote, filled in by the contract's
headers, returned to INBOX/feedback/ and applied by the next run; the same seed gives the
same returned files, byte for byte.

A small district (300 households) is generated once for the module and run on a few
dates that jump a month (2026-03-01 to 03-04, then 04-02, 04-03 and 04-07), so that cases
confirmed in early March are due, and some overdue, by April: one short run shows the
ledger in every status.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from fpwarn_demo import generate_district
from fpwarn_demo.__main__ import main
from fpwarn_demo.grid import (
    DETAIL_READ,
    LEDGER_READ,
    UNLISTED_MEASURES,
    fill_workbook,
    is_working_day,
    return_workbooks,
    run_days,
)
from pipeline.alerts.rules import load_rules
from pipeline.dispatch.township_workbook import (
    ALERT_ID,
    CASE_ID,
    DETAIL_COLUMNS,
    DETAIL_SHEET,
    FILLED_IN,
    LEDGER_COLUMNS,
    LEDGER_FILLED_IN,
    LEDGER_SHEET,
    VERIFICATION_RESULTS,
)
from pipeline.validation.normalize import parse_date_text
from tests.conftest import home_for

HOUSEHOLDS = 300
SEED = 7
START, END = date(2026, 3, 1), date(2026, 4, 7)
RUN_DATES = (
    date(2026, 3, 1),
    date(2026, 3, 2),
    date(2026, 3, 3),
    date(2026, 3, 4),
    date(2026, 4, 2),
    date(2026, 4, 3),
    date(2026, 4, 7),
)
# The day whose returns are looked at, and the run that applies them.
RETURNED_ON, APPLIED_ON = date(2026, 4, 3), date(2026, 4, 7)
VERIFICATION = {field: header for header, field in FILLED_IN.items()}
LEDGER = {field: header for header, field in LEDGER_FILLED_IN.items()}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("grid")
    summary = generate_district(
        root / "inbox", households=HOUSEHOLDS, start=START, end=END, seed=SEED
    )
    settings = home_for(root, summary.claims_url, summary.inbox)
    # The returns of RETURNED_ON, kept before the next run's grid adds its own.
    run_days(summary.inbox, settings.home.root, RUN_DATES[:-1], SEED)
    kept = root / "returned"
    shutil.copytree(summary.inbox / "feedback", kept)
    run_days(summary.inbox, settings.home.root, RUN_DATES[-1:], SEED)
    return {"inbox": summary.inbox, "outbox": settings.home.root / "outbox", "kept": kept}


def _returned_on(folder: Path, day: date) -> list[Path]:
    return sorted(folder.glob(f"*_{day:%Y%m%d}.xlsx"))


def _columns(sheet: Worksheet, key: str) -> dict[str, int]:
    """The sheet's columns by header (its first row holding ``key``)."""
    for row in sheet.iter_rows(min_row=1, max_row=5):
        found = {str(cell.value).strip(): cell.column for cell in row if cell.value is not None}
        if key in found:
            return found
    raise AssertionError(f"no header row with {key} on {sheet.title}")


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date_text(str(value)) if value not in (None, "") else None


def _read(path: Path, sheet: str, key: str) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(path)
    found = book[sheet]
    columns = _columns(found, key)
    first = min(row[0].row for row in found.iter_rows(max_row=5) if key in [c.value for c in row])
    return [
        {header: found.cell(number, column).value for header, column in columns.items()}
        for number in range(first + 1, found.max_row + 1)
        if found.cell(number, columns[key]).value
    ]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_grid_fills_the_detail_sheet_by_its_headers(district):
    returned = _returned_on(district["kept"], RETURNED_ON)
    assert returned, "no township returned its workbook"
    outbox = district["outbox"] / RETURNED_ON.isoformat() / "townships"
    filled = blank = 0
    for path in returned:
        sent = {row[ALERT_ID]: row for row in _read(outbox / path.name, DETAIL_SHEET, ALERT_ID)}
        rows = _read(path, DETAIL_SHEET, ALERT_ID)
        assert {row[ALERT_ID] for row in rows} == set(sent)
        for row in rows:
            original = sent[row[ALERT_ID]]
            # Only the columns to fill in were touched.
            for column in DETAIL_COLUMNS:
                if column.field is None:
                    assert row[column.header] == original[column.header], column.header
            if row[VERIFICATION["result"]] is None:
                blank += 1
                assert all(row[header] is None for header in FILLED_IN)
                continue
            filled += 1
            assert row[VERIFICATION["result"]] in VERIFICATION_RESULTS
            assert row[VERIFICATION["verifier"]]
            verified_on = _date(row[VERIFICATION["verified_on"]])
            assert verified_on is not None
            assert _date(row["首次预警"]) <= verified_on <= RETURNED_ON
    assert filled
    assert blank


def test_the_outbox_workbooks_are_left_as_the_pipeline_wrote_them(district):
    manifest = json.loads(
        (district["outbox"] / RETURNED_ON.isoformat() / "manifest.json").read_text("utf-8")
    )
    outbox = district["outbox"] / RETURNED_ON.isoformat()
    for path in _returned_on(district["kept"], RETURNED_ON):
        sent = outbox / "townships" / path.name
        assert _digest(sent) == manifest["outputs"][f"townships/{path.name}"]
        assert _digest(sent) != _digest(path)


def test_the_next_run_applies_the_returned_workbooks(district):
    returned = _returned_on(district["kept"], RETURNED_ON)
    manifest = json.loads(
        (district["outbox"] / APPLIED_ON.isoformat() / "manifest.json").read_text("utf-8")
    )
    assert {path.name: manifest["feedback"]["files"].get(path.name) for path in returned} == {
        path.name: "applied" for path in returned
    }
    verified = {
        row[ALERT_ID]
        for path in returned
        for row in _read(path, DETAIL_SHEET, ALERT_ID)
        if row[VERIFICATION["result"]]
    }
    assert manifest["feedback"]["rows_applied"] >= len(verified) > 0
    before = {row["alert_id"] for row in _csv(district["outbox"] / "2026-04-03" / "alerts.csv")}
    after = {row["alert_id"] for row in _csv(district["outbox"] / "2026-04-07" / "alerts.csv")}
    assert verified <= before
    assert not verified & after
    assert len(before - after) >= len(verified)  # the list lost what was verified


def test_workbooks_come_back_on_working_days_at_most_once_a_township(district):
    returned = sorted((district["inbox"] / "feedback").iterdir())
    assert returned
    days = [datetime.strptime(path.stem.rsplit("_", 1)[1], "%Y%m%d").date() for path in returned]
    assert all(is_working_day(day) for day in days)
    assert set(days) <= set(RUN_DATES)
    townships_and_days = [
        (path.name.split("_")[0], day) for path, day in zip(returned, days, strict=True)
    ]
    assert len(set(townships_and_days)) == len(townships_and_days)


def test_the_same_seed_gives_the_same_returned_files(district, tmp_path):
    townships = district["outbox"] / RETURNED_ON.isoformat() / "townships"
    measure_types = load_rules().assistance.measure_types
    for attempt in ("again", "once_more"):
        return_workbooks(townships, tmp_path / attempt, RETURNED_ON, measure_types, SEED)
        again = sorted((tmp_path / attempt / "feedback").iterdir())
        assert [path.name for path in again] == [
            path.name for path in _returned_on(district["kept"], RETURNED_ON)
        ]
        for path in again:
            assert path.read_bytes() == (district["kept"] / path.name).read_bytes()
    other = tmp_path / "other_seed"
    return_workbooks(townships, other, RETURNED_ON, measure_types, SEED + 1)
    assert {path.name: _digest(path) for path in (other / "feedback").glob("*.xlsx")} != {
        path.name: _digest(path) for path in _returned_on(district["kept"], RETURNED_ON)
    }


def test_nothing_is_returned_on_a_day_off(district, tmp_path):
    townships = district["outbox"] / "2026-03-01" / "townships"  # a Sunday
    assert not is_working_day(date(2026, 3, 1))
    measure_types = load_rules().assistance.measure_types
    assert return_workbooks(townships, tmp_path, date(2026, 3, 1), measure_types, SEED) == []
    assert not (tmp_path / "feedback").exists()


# -- 帮扶台账 -------------------------------------------------------------------------------


def _ledger_case(number: int, confirmed: date, due: date) -> list[object]:
    values: dict[str, object] = {
        CASE_ID: f"C{number:05d}",
        "村": "桃园村",
        "户编号": f"34170210120100{number:02d}",
        "户主姓名": "王建国",
        "确认类别及建议帮扶": "住房安全（建议帮扶：危房改造）",
        "确认日期": confirmed,
        "办结期限": due,
        "状态": "待落实",
    }
    return [values.get(column.header) for column in LEDGER_COLUMNS]


def _with_ledger(path: Path, rows: list[list[object]]) -> None:
    """A workbook holding a 帮扶台账 sheet of ``rows`` as the contract lays it out."""
    book = Workbook()
    book.active.title = DETAIL_SHEET
    book.active.append([column.header for column in DETAIL_COLUMNS])
    ledger = book.create_sheet(LEDGER_SHEET)
    ledger.append([column.header for column in LEDGER_COLUMNS])
    for row in rows:
        ledger.append(row)
    book.save(path)


def test_the_grid_keeps_the_ledger_by_its_headers(tmp_path):
    """Cases confirmed a month and more before the day: most get a contact and a measure
    within the month, some after it, some none; a few rows carry a grid's mistakes; some
    copied rows add a second measure; a case with a measure recorded may change contact."""
    day = date(2026, 4, 20)
    measure_types = load_rules().assistance.measure_types
    cases = [_ledger_case(n, date(2026, 3, 2), date(2026, 4, 2)) for n in range(200)]
    recorded = []
    for n in range(200, 300):
        row = _ledger_case(n, date(2026, 2, 2), date(2026, 3, 2))
        row[[c.header for c in LEDGER_COLUMNS].index(LEDGER["contact"])] = "周原联系人"
        row[[c.header for c in LEDGER_COLUMNS].index(LEDGER["contact_unit"])] = "桃园村村民委员会"
        row[[c.header for c in LEDGER_COLUMNS].index(LEDGER["measure_type"])] = measure_types[0]
        row[[c.header for c in LEDGER_COLUMNS].index(LEDGER["measure"])] = "已有的措施"
        row[[c.header for c in LEDGER_COLUMNS].index(LEDGER["put_in_place_on"])] = date(2026, 2, 9)
        recorded.append(row)
    source = tmp_path / "341702101_清溪乡_20260420.xlsx"
    _with_ledger(source, cases + recorded)
    target = tmp_path / "feedback" / source.name
    target.parent.mkdir()
    result = fill_workbook(source, target, day, measure_types, SEED)
    assert result is not None
    assert result.verified == 0
    rows = _read(target, LEDGER_SHEET, CASE_ID)
    by_case: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_case.setdefault(str(row[CASE_ID]), []).append(row)
    assert len(by_case) == 300
    late = on_time = never = second = changed = mistakes = 0
    for number, (_case_id, case_rows) in enumerate(by_case.items()):
        filled = [row for row in case_rows if row[LEDGER["put_in_place_on"]] is not None]
        new = [row for row in filled if row[LEDGER["contact"]] != "周原联系人"]
        if number < 200:
            if not filled:
                never += 1
                continue
            second += len(filled) > 1
        else:
            assert case_rows[0][LEDGER["measure"]] == "已有的措施"  # history stays as it was
            if new:
                changed += 1
                assert len(new) == 1
        for row in new:
            confirmed, due = _date(row["确认日期"]), _date(row["办结期限"])
            put = _date(row[LEDGER["put_in_place_on"]])
            wrong = (
                row[LEDGER["measure_type"]] in UNLISTED_MEASURES
                or not row[LEDGER["contact"]]
                or put > day
            )
            if wrong:
                mistakes += 1
                continue
            assert row[LEDGER["measure_type"]] in measure_types
            assert row[LEDGER["contact_unit"]]
            assert row[LEDGER["measure"]]
            assert confirmed <= put <= day
            if number < 200 and row is filled[0]:
                late += put > due
                on_time += put <= due
    assert on_time > late > 0
    assert never > 0
    assert second > 0
    assert changed > 0
    assert 0 < mistakes == result.mistakes <= 0.15 * result.ledger_rows
    # What the suggestion calls for (危房改造) is what most workers pick.
    picked = [rows[0][LEDGER["measure_type"]] for rows in list(by_case.values())[:200]]
    assert picked.count("住房安全保障") > len(picked) / 2


def test_a_short_run_shows_cases_in_every_status(district):
    """The grid fills the 帮扶台账 sheet the pipeline writes; a month after the first
    confirmations assistance.csv holds cases in place, still awaiting and overdue."""
    statuses = {
        row["status"]
        for row in _csv(district["outbox"] / APPLIED_ON.isoformat() / "assistance.csv")
    }
    assert {"awaiting", "in_place", "overdue"} <= statuses


def test_the_headers_the_grid_reads_are_the_contract_s():
    assert set(DETAIL_READ) <= {column.header for column in DETAIL_COLUMNS}
    assert set(LEDGER_READ) <= {column.header for column in LEDGER_COLUMNS}


def test_the_command_refuses_an_end_before_the_start(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "run",
                "--inbox",
                str(tmp_path / "inbox"),
                "--home",
                str(tmp_path / "home"),
                "--start",
                "2026-03-02",
                "--end",
                "2026-03-01",
            ]
        )
    assert stopped.value.code == 2
