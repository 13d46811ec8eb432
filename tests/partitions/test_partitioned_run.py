"""A district run in partitions gives, file for file, the outbox of the district run
whole: alerts, workbooks, regional warnings, comparisons, returned workbooks, report
(two days: the second applies a returned workbook and carries the first day's alerts)."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import openpyxl
import pandas as pd
import pytest
import yaml

from fpwarn_demo import generate_district
from pipeline.cli import main
from pipeline.dispatch.township_workbook import DETAIL_SHEET
from pipeline.feeds.registry import load_registry
from pipeline.partitions.config import parse_partitions
from pipeline.partitions.run import PartitionError
from pipeline.partitions.warehouse import partition_file
from pipeline.settings import SettingsError, load_settings
from pipeline.steps import run_day
from tests.conftest import home_for, outbox_files

DAYS = (date(2026, 3, 1), date(2026, 3, 2))


def township_codes(settings) -> list[str]:
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        return [
            row[0]
            for row in connection.execute(
                "select distinct township_code from staging.cur_households order by 1"
            ).fetchall()
        ]


def declare(settings, partitions: dict[str, list[str]]):
    config = settings.home.config_file
    values = yaml.safe_load(config.read_text(encoding="utf-8"))
    values["partitions"] = partitions
    config.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    return load_settings(settings.home.root, settings.inbox)


def return_workbook(book_path, other_alert, inbox) -> None:
    """A township fills in its workbook: two verified rows and one row pasted in from
    another township's workbook (which its partition does not hold)."""
    book = openpyxl.load_workbook(book_path)
    sheet = book[DETAIL_SHEET]
    for row, result in ((2, "属实-已落实帮扶"), (3, "不属实")):
        sheet.cell(row=row, column=17, value=result)
        sheet.cell(row=row, column=18, value="李网格")
        sheet.cell(row=row, column=19, value=DAYS[0])
        sheet.cell(row=row, column=20, value="经入户核实" if result == "不属实" else None)
    sheet.cell(row=4, column=1, value=other_alert)
    sheet.cell(row=4, column=17, value="不属实")
    sheet.cell(row=4, column=18, value="李网格")
    sheet.cell(row=4, column=19, value=DAYS[0])
    returned = inbox / "feedback" / book_path.name
    returned.parent.mkdir(exist_ok=True)
    book.save(returned)


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("partitions")
    summary = generate_district(root / "inbox", households=400, start=DAYS[0], end=DAYS[-1], seed=5)
    whole = home_for(root, summary.claims_url, summary.inbox, "whole")
    parted = home_for(root, summary.claims_url, summary.inbox, "parted")
    results = {"whole": {}, "parted": {}}
    with pytest.MonkeyPatch.context() as patch:
        # The report too: its trend and township figures read every partition's tables.
        patch.setenv("PIPELINE_DAILY_REPORT", "true")
        results["whole"][DAYS[0]] = run_day(whole, DAYS[0])
        codes = township_codes(whole)
        assert len(codes) >= 3
        # One partition a township; the last one also holds the rest.
        partitions = {f"part-{index}": [code] for index, code in enumerate(codes[:2])}
        partitions["rest"] = codes[2:]
        parted = declare(parted, partitions)
        results["parted"][DAYS[0]] = run_day(parted, DAYS[0])
        # The same day step by step on the command line: every feed's ingest, then load.
        verbs = declare(home_for(root, summary.claims_url, summary.inbox, "verbs"), partitions)
        for feed in load_registry():
            assert command(verbs, "ingest", "--feed", feed) == 0
        assert command(verbs, "load") == 0
        results["load"] = outbox_files(verbs.home.outbox(DAYS[0]))
        rerun = root / "parted-rerun"
        shutil.copytree(parted.home.root, rerun)
        books = sorted(whole.home.outbox(DAYS[0]).joinpath("townships").glob("*.xlsx"))
        other = pd.read_excel(books[0], sheet_name=DETAIL_SHEET, dtype=str)["预警编号"].iloc[0]
        return_workbook(books[-1], other, summary.inbox)
        # The returned workbook applied at once by the feedback verb, or by a rerun of the day.
        assert command(verbs, "feedback") == 0
        results["feedback"] = verbs.home.outbox(DAYS[0])
        results["rerun"] = run_day(load_settings(rerun, summary.inbox), DAYS[0]).outbox
        for day in DAYS[1:]:
            results["whole"][day] = run_day(whole, day)
            results["parted"][day] = run_day(parted, day)
    return {"whole": whole, "parted": parted, "results": results, "codes": codes, "root": root}


def command(settings, verb: str, *args: str) -> int:
    """A verb of ``python -m pipeline`` for the first day, in this process."""
    return main(
        [verb, *args, "--inbox", str(settings.inbox), "--home", str(settings.home.root),
         "--date", DAYS[0].isoformat()]
    )  # fmt: skip


def test_the_load_verb_raises_by_partition_as_run_does(district):
    assert district["results"]["load"] == outbox_files(
        district["results"]["parted"][DAYS[0]].outbox
    )
    assert any(partition_file(district["parted"].home, "rest").parent.iterdir())


def test_the_feedback_verb_applies_returns_by_partition_as_run_does(district):
    applied, rerun = district["results"]["feedback"], district["results"]["rerun"]
    manifest = json.loads((applied / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["feedback"]["rows_applied"] == 2
    # The manifest tells of the feeds as loaded (feedback) or unchanged (rerun); the rest
    # of the outbox is the same, file for file.
    expected = json.loads((rerun / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["alerts"], manifest["feedback"]) == (expected["alerts"], expected["feedback"])
    told = ("manifest.json", "report.html", "report.pdf")
    assert {name: digest for name, digest in outbox_files(applied).items() if name not in told} == {
        name: digest for name, digest in outbox_files(rerun).items() if name not in told
    }


def test_every_outbox_file_equals_the_unpartitioned_run(district):
    for day in DAYS:
        whole = outbox_files(district["results"]["whole"][day].outbox)
        parted = outbox_files(district["results"]["parted"][day].outbox)
        assert "report.html" in whole
        assert any(name.startswith("townships/") for name in whole)
        assert parted == whole, day


def test_a_returned_workbook_is_applied_by_its_townships_partition(district):
    manifest = district["results"]["parted"][DAYS[1]].manifest
    assert manifest["feedback"]["rows_applied"] == 2
    # The pasted row names an alert of another partition: rejected, as when run whole.
    assert manifest["feedback"]["rows_rejected"] == 1
    assert manifest == district["results"]["whole"][DAYS[1]].manifest


def test_each_partition_holds_only_its_own_townships(district):
    parted = district["parted"]
    seen = []
    for partition in parted.partitions:
        path = partition_file(parted.home, partition.name)
        with duckdb.connect(str(path), read_only=True) as connection:
            codes = {
                row[0]
                for row in connection.execute(
                    "select distinct township_code from alerts.alerts"
                ).fetchall()
            }
        assert codes, partition.name
        assert all(partition.owns(code) for code in codes), partition.name
        seen.extend(codes)
    assert sorted(seen) == sorted(set(seen))


def test_a_township_in_no_partition_stops_the_run_before_any_alert(district, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(district["parted"].home.root, home)
    settings = declare(
        load_settings(home, district["parted"].inbox),
        {"only": [district["codes"][0]]},
    )
    shutil.rmtree(settings.home.outbox(DAYS[-1]))
    with pytest.raises(PartitionError, match=district["codes"][1]) as raised:
        run_day(settings, DAYS[-1])
    assert "不属于任何分区" in str(raised.value)
    assert not (settings.home.outbox(DAYS[-1]) / "manifest.json").exists()


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"a": ["341702"], "b": ["341702101"]}, "lies inside 341702"),
        ({"a": [341702101]}, "quoted code prefix"),
        ({"North": ["341702101"]}, "lower-case"),
        ({"a": []}, "list of code prefixes"),
        (["341702101"], "mapping"),
    ],
)
def test_a_partition_list_that_cannot_be_used_is_refused_with_its_reason(declared, message):
    with pytest.raises(SettingsError, match=message):
        parse_partitions(declared)
