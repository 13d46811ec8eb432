"""The loop down the grid and back: a township workbook filled in by a grid worker,
mistakes included, returned, and applied by the next day's run."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import openpyxl
import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline.dispatch.township_workbook import DETAIL_SHEET
from pipeline.steps import run_day
from tests.conftest import home_for

D1, D2, D3, D4 = (date(2026, 3, day) for day in (1, 2, 3, 4))


def open_alerts(result):
    return pd.read_csv(result.outbox / "alerts.csv", encoding="utf-8-sig", dtype=str).set_index(
        "alert_id"
    )


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    summary = generate_district(root / "inbox", households=600, start=D1, end=D4, seed=11)
    # The control district gets the same deliveries and no returned workbook.
    shutil.copytree(summary.inbox, root / "control_inbox")
    homes = {
        name: home_for(root, summary.claims_url, inbox, name)
        for name, inbox in (("returned", summary.inbox), ("control", root / "control_inbox"))
    }
    for day in (D1, D2):
        run_day(homes["returned"], day)
        run_day(homes["control"], day)
    outbox = homes["returned"].home.outbox(D2) / "townships"
    books = sorted(outbox.glob("*.xlsx"))
    workbook_path = books[0]
    other_township_alert = pd.read_excel(books[1], sheet_name=DETAIL_SHEET, dtype=str)[
        "预警编号"
    ].iloc[0]

    # The grid worker fills in the workbook, with mistakes.
    book = openpyxl.load_workbook(workbook_path)
    sheet = book[DETAIL_SHEET]
    ids = [sheet.cell(row=row, column=1).value for row in range(2, sheet.max_row + 1)]
    assert len(ids) >= 7
    entries = {
        2: ("属实-已落实帮扶", "李网格", D2, ""),  # valid
        3: ("不属实", "李网格", D2, "经入户核实，家庭收入稳定"),  # valid
        4: ("已核实", "李网格", D2, ""),  # not one of the allowed results
        5: ("属实-已纳入监测", None, D2, ""),  # no verifier
        6: ("风险已消除", "李网格", date(2026, 3, 20), ""),  # a date in the future
        7: ("风险已消除", "李网格", "昨天", ""),  # not a date
    }
    for row, (result, verifier, verified_on, note) in entries.items():
        sheet.cell(row=row, column=17, value=result)
        sheet.cell(row=row, column=18, value=verifier)
        sheet.cell(row=row, column=19, value=verified_on)
        sheet.cell(row=row, column=20, value=note or None)
    # A row pasted in from another township's workbook.
    sheet.cell(row=8, column=1, value=other_township_alert)
    sheet.cell(row=8, column=17, value="不属实")
    sheet.cell(row=8, column=18, value="李网格")
    sheet.cell(row=8, column=19, value=D2)
    returned = summary.inbox / "feedback" / workbook_path.name
    returned.parent.mkdir(exist_ok=True)
    book.save(returned)

    results = {"returned": run_day(homes["returned"], D3), "control": run_day(homes["control"], D3)}
    # The same workbook returned twice (another copy under another name).
    shutil.copy(returned, returned.with_name("again_" + returned.name))
    results["again"] = run_day(homes["returned"], D4)
    results["control_d4"] = run_day(homes["control"], D4)
    return {"homes": homes, "ids": ids, "results": results, "other": other_township_alert}


def test_valid_rows_close_their_alerts_and_nothing_else_changes(loop):
    returned, control = (
        open_alerts(loop["results"]["returned"]),
        open_alerts(loop["results"]["control"]),
    )
    closed = {loop["ids"][0], loop["ids"][1]}
    assert closed.isdisjoint(returned.index)
    assert closed <= set(control.index)
    assert set(control.index) - closed == set(returned.index)
    pd.testing.assert_frame_equal(returned, control.drop(index=list(closed)))
    assert loop["results"]["returned"].manifest["feedback"]["rows_applied"] == 2
    # Every file was applied: the manifest's feedback section is as it always was.
    assert "rejected_files" not in loop["results"]["returned"].manifest["feedback"]


def test_invalid_rows_are_reported_with_row_and_reason(loop):
    rejections = pd.read_csv(
        loop["results"]["returned"].outbox / "feedback_rejections.csv",
        encoding="utf-8-sig",
        dtype=str,
    )
    reasons = dict(zip(rejections["row"], rejections["reason"], strict=True))
    assert reasons["4"].startswith("核实结果应从下拉列表中选择")
    assert reasons["5"] == "未填写核实人"
    assert reasons["6"] == "核实日期晚于今天"
    assert reasons["7"] == "核实日期不是日期"
    assert reasons["8"] == "该预警不属于本乡镇"
    assert set(reasons) == {"4", "5", "6", "7", "8"}
    assert loop["other"] in set(open_alerts(loop["results"]["returned"]).index)


def test_closing_is_an_event_saying_who_when_and_what(loop):
    settings = loop["homes"]["returned"]
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        event = connection.execute(
            "select event_date, event, cause from alerts.events where alert_id = ? and event = 'closed'",
            [loop["ids"][1]],
        ).fetchone()
    assert event[0] == D3
    assert (
        event[2]
        == "核实结果：不属实；核实人：李网格；核实日期：2026-03-02；备注：经入户核实，家庭收入稳定"
    )


def test_a_workbook_returned_twice_changes_nothing_the_second_time(loop):
    again, control = loop["results"]["again"], loop["results"]["control_d4"]
    assert again.manifest["feedback"]["rows_applied"] == 0
    files = again.manifest["feedback"]["files"]
    assert set(files.values()) == {"unchanged"}
    closed = {loop["ids"][0], loop["ids"][1]}
    assert set(open_alerts(control).index) - closed == set(open_alerts(again).index)


def test_not_true_rests_the_household_and_category(loop):
    # The 不属实 alert's signal still fires on the next days: no new alert for 90 days.
    again = open_alerts(loop["results"]["again"])
    control = open_alerts(loop["results"]["control_d4"])
    not_true = control.loc[loop["ids"][1]]
    same = again[
        (again["household_id"] == not_true["household_id"])
        & (again["category"] == not_true["category"])
    ]
    assert same.empty
