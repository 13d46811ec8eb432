"""The daily job on a generated district with every defect docs/feeds.md lists:
nothing read is lost or counted twice, and exactly the planted rows are quarantined."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import date

import duckdb
import pandas as pd
import pytest

from fpwarn_demo import generate_district
from pipeline.feeds.registry import load_registry
from pipeline.steps import run_day
from tests.conftest import home_for

START, END = date(2026, 3, 1), date(2026, 3, 4)

# The reason a planted defect must be quarantined with (a prefix of it).
EXPECTED_REASON = {
    "id_check_digit": "身份证号校验位错误",
    "id_birth_date": "身份证号中的出生日期不存在",
    "id_length": "身份证号位数错误",
    "id_numeric": "身份证号以数值形式送达",
    "required_missing": "必填项缺失：",
    "enum_invalid": "取值不在约定范围：",
    "date_invalid": "无法解析为日期：",
    "amount_invalid": "无法解析为金额：",
    "duplicate_key": "与本批",
    "sex_mismatch": "性别与身份证号不符",
    "amount_sum": "个人自付（GRZF）",
    "unknown_household": "户编号不在农户信息快照中",
}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("district")
    summary = generate_district(root / "inbox", households=600, start=START, end=END, seed=11)
    settings = home_for(root, summary.claims_url, root / "inbox")
    handler = logging.FileHandler(root / "captured.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        results = [
            run_day(settings, START.fromordinal(START.toordinal() + offset)) for offset in range(4)
        ]
        rerun = run_day(settings, END)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(previous)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    return {
        "summary": summary,
        "settings": settings,
        "results": results,
        "rerun": rerun,
        "truth": truth,
        "log": (root / "captured.log").read_text(encoding="utf-8"),
    }


def all_quarantine(district):
    frames = [
        pd.read_csv(result.outbox / "quarantine.csv", encoding="utf-8-sig", dtype=str)
        for result in district["results"]
    ]
    return pd.concat(frames, ignore_index=True)


def test_every_delivery_balances(district):
    for result in district["results"]:
        for feed, info in result.manifest["feeds"].items():
            assert info["rows_read"] == info["rows_loaded"] + info["rows_quarantined"], feed
            for delivery in info["deliveries"]:
                assert (
                    delivery["rows_read"] == delivery["rows_loaded"] + delivery["rows_quarantined"]
                ), delivery
                if delivery["status"] in ("loaded", "unchanged"):
                    assert (
                        delivery["rows_read"] == delivery["marker_rows"] or feed == "med_claims"
                    ), delivery


def test_warehouse_holds_exactly_what_the_manifests_say_was_loaded(district):
    settings = district["settings"]
    loaded = Counter()
    quarantined = Counter()
    recovered = Counter()
    for result in district["results"]:
        for feed, info in result.manifest["feeds"].items():
            loaded[feed] += info["rows_loaded"]
            quarantined[feed] += info["rows_quarantined"]
            # Quarantined rows that lost only their ID number and were matched to a member
            # are in staging too, under the member's number (docs/outputs.md).
            recovered[feed] += info.get("rows_recovered", 0)
    registry = load_registry()
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        for feed in loaded:
            if feed == "med_claims":
                continue  # merged on its key across overlapping windows
            rows = connection.execute(f"select count(*) from staging.stg_{feed}").fetchone()[0]
            # Rows pointing at nothing in force (a member of a household unknown to the
            # registry, a lead of a township the district does not have) stay in staging,
            # quarantined and out of the cur_ view, until what they point at arrives.
            orphans = connection.execute(
                "select count(*) from meta.quarantine where feed = ? and list_contains(?, reason)",
                [feed, [reference.reason for reference in registry[feed].references]],
            ).fetchone()[0]
            assert rows - orphans == loaded[feed] + recovered[feed], feed
            kept = connection.execute(
                "select count(*) from meta.quarantine where feed = ?", [feed]
            ).fetchone()[0]
            assert kept == quarantined[feed], feed


def test_exactly_the_planted_rows_are_quarantined_with_their_reason(district):
    quarantine = all_quarantine(district)
    planted = [row for row in district["truth"]["rows"] if row["defect"] in EXPECTED_REASON]
    expected = {(row["feed"], row["file"], str(row["row"])): row["defect"] for row in planted}
    found = {}
    # Leads planted with a township the district does not have are quarantined too (their
    # truth is in "leads", by 线索编号, not in "rows").
    planted_leads = {
        str(lead["lead_id"])
        for lead in district["truth"]["leads"]
        if "quarantined" in lead["expected_status"]
    }
    quarantined_leads = set()
    for record in quarantine.itertuples():
        if record.feed == "leads" and json.loads(record.raw)["线索编号"] in planted_leads:
            assert record.reason == "乡镇名称不在本区农户信息中", record
            quarantined_leads.add(json.loads(record.raw)["线索编号"])
            continue
        file = record.file.split(" ")[0] if record.feed == "med_claims" else record.file
        found[(record.feed, file, record.row)] = record.reason
    assert quarantined_leads == planted_leads
    unreadable = {"no_marker", "wrong_row_count", "bad_digest"}
    skipped = {
        (item["feed"], item["file"])
        for item in district["truth"]["deliveries"]
        if item["defect"] in unreadable
    }
    expected = {key: defect for key, defect in expected.items() if (key[0], key[1]) not in skipped}
    assert set(found) == set(expected), {
        "not quarantined": sorted(set(expected) - set(found))[:10],
        "quarantined but not planted": sorted(
            (key, found[key]) for key in set(found) - set(expected)
        )[:10],
    }
    for key, defect in expected.items():
        assert EXPECTED_REASON[defect] in found[key], (key, defect, found[key])


def test_normalisable_values_are_loaded_not_quarantined(district):
    quarantine = all_quarantine(district)
    quarantined = set(zip(quarantine["feed"], quarantine["file"], quarantine["row"], strict=True))
    normalisable = [
        row for row in district["truth"]["rows"] if row["defect"] not in EXPECTED_REASON
    ]
    assert normalisable
    for row in normalisable:
        assert (row["feed"], row["file"], str(row["row"])) not in quarantined, row


def test_delivery_defects_are_reported(district):
    statuses = {}
    for result in district["results"]:
        for feed, info in result.manifest["feeds"].items():
            for delivery in info["deliveries"]:
                statuses[(feed, delivery["file"])] = delivery
    expected_status = {
        "no_marker": "incomplete",
        "wrong_row_count": "rejected",
        "bad_digest": "rejected",
        "wrong_encoding": "loaded",
        "header_variant": "loaded",
    }
    for item in district["truth"]["deliveries"]:
        delivery = statuses[(item["feed"], item["file"])]
        assert delivery["status"] == expected_status[item["defect"]], item
        if item["defect"] == "wrong_encoding":
            assert delivery["encoding"].startswith("utf-8")


def test_a_rerun_counts_nothing_twice(district):
    rerun, last = district["rerun"], district["results"][-1]
    for feed, info in rerun.manifest["feeds"].items():
        assert info["rows_loaded"] == 0, feed
        assert info["status"] in ("unchanged", "missing", "incomplete", "rejected"), (
            feed,
            info["status"],
        )
    assert (rerun.outbox / "quarantine.csv").read_bytes() == (
        last.outbox / "quarantine.csv"
    ).read_bytes()


def test_no_personal_data_in_the_logs(district):
    log = district["log"]
    assert "loaded" in log  # the log did capture the run
    inbox = district["summary"].inbox
    members = pd.read_csv(next((inbox / "members").glob("*.csv")), encoding="utf-8-sig", dtype=str)
    ids = set(members["身份证号"].dropna().str.strip())
    names = {name for name in members["姓名"].dropna().str.strip() if len(name) >= 2}
    assert not [value for value in ids if value and value in log]
    assert not [name for name in names if name in log]
    grids = pd.read_csv(next((inbox / "grids").glob("*.csv")), encoding="utf-8", dtype=str)
    phones = set(grids["联系电话"].dropna().str.strip())
    assert phones
    assert not [phone for phone in phones if phone in log]
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", log), "a mobile number reached the log"
