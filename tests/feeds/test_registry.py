"""The feed registry: every feed declared in configuration, mistakes named by file
and field, and a new feed or a changed format needing no code change."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import pytest
import yaml

from pipeline.feeds import registry as registry_module
from pipeline.feeds.registry import FeedConfigError, load_registry
from pipeline.steps import run_day
from tests.conftest import PROJECT_DIR, person_id, write_delivery

D1 = date(2026, 3, 1)


def test_the_shipped_registry_declares_every_contract_feed(registry):
    assert set(registry) == {
        "applications",
        "civil_assistance",
        "disaster_events",
        "edu_students",
        "grids",
        "grid_reports",
        "households",
        "housing_safety",
        "hrss_employment",
        "leads",
        "market_entities",
        "med_claims",
        "med_enrollment",
        "members",
        "police_hukou",
        "police_vehicles",
        "water_supply",
    }
    assert registry["edu_students"].encoding == "gbk"
    assert registry["households"].sheet == "农户信息"
    assert registry["med_claims"].sql.view == "V_JSMX"
    assert registry["members"].kind == "snapshot"
    assert registry["hrss_employment"].kind == "increment"


@pytest.fixture
def feeds_dir(tmp_path):
    folder = tmp_path / "feeds"
    shutil.copytree(PROJECT_DIR / "config" / "feeds", folder)
    return folder


def edit(path, change):
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("feed", "change", "message"),
    [
        (
            "members",
            lambda d: d["columns"][2].update(type="idcard"),
            "members.yaml: columns.2.type: Input should be",
        ),
        (
            "members",
            lambda d: d.update(kind="daily"),
            "members.yaml: kind: Input should be 'snapshot' or 'increment'",
        ),
        (
            "edu_students",
            lambda d: d.update(encoding="big-five"),
            "edu_students.yaml: encoding: Value error, unknown encoding",
        ),
        (
            "members",
            lambda d: d.update(key=["id"]),
            "members.yaml: (file): Value error, key names fields that are not columns",
        ),
        (
            "grids",
            lambda d: d["columns"][1].pop("values"),
            "grids.yaml: columns.1: Value error, an enum column needs its list of values",
        ),
        (
            "water_supply",
            lambda d: d.update(sheet_name="x"),
            "water_supply.yaml: sheet_name: Extra inputs are not permitted",
        ),
        (
            "water_supply",
            lambda d: d.update(expectation_suite="nosuch"),
            "water_supply.yaml: expectation_suite: no suite file nosuch.json",
        ),
        (
            "water_supply",
            lambda d: d.update(deadline=480),  # what YAML makes of an unquoted 08:00
            'water_supply.yaml: deadline: Value error, write the time in quotes, e.g. deadline: "08:00"',
        ),
        (
            "med_claims",
            lambda d: d.update(deadline="08:00"),
            "med_claims.yaml: (file): Value error, deadline: a database feed is read when the run comes",
        ),
        (
            "members",
            lambda d: d.update(repeated_key="update"),
            "members.yaml: (file): Value error, repeated_key: update keeps a history of the rows",
        ),
        (
            "water_supply",
            lambda d: d.update(repeated_key="replace"),
            "water_supply.yaml: repeated_key: Input should be 'duplicate' or 'update'",
        ),
        (
            "members",
            lambda d: d["references"][0].update(target="nosuch"),
            "members.yaml: references: households.nosuch is not a declared field",
        ),
    ],
)
def test_a_mistake_names_the_file_and_the_field(feeds_dir, feed, change, message):
    edit(feeds_dir / f"{feed}.yaml", change)
    with pytest.raises(FeedConfigError) as caught:
        load_registry(feeds_dir)
    assert message.replace("(file): ", "") in str(caught.value).replace("(file): ", "")
    assert str(feeds_dir / f"{feed}.yaml") in str(caught.value)


def test_renamed_column_and_changed_encoding_are_configuration_only(feeds_dir, settings):
    def change(document):
        document["encoding"] = "gbk"
        document["columns"][2]["name"] = "就业状况"  # the bureau renamed the header

    edit(feeds_dir / "hrss_employment.yaml", change)
    registry = load_registry(feeds_dir)
    spec = registry["hrss_employment"]
    header = [column.name for column in spec.columns]
    write_delivery(
        settings.inbox,
        spec,
        D1,
        [[person_id(1), "张三", "失业登记", "上海", "", "2026-03-01"]],
        header=header,
        encoding="gbk",
    )

    result = run_day(settings, D1, registry)

    info = result.manifest["feeds"]["hrss_employment"]
    assert (info["status"], info["rows_loaded"]) == ("loaded", 1)
    assert not [
        warning for warning in result.manifest["warnings"] if "编码" in warning or "列" in warning
    ]
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        assert connection.execute(
            "select employment_status, work_region from staging.stg_hrss_employment"
        ).fetchall() == [("失业登记", "上海")]


def test_a_new_feed_is_a_yaml_file_and_a_suite(feeds_dir, tmp_path, settings, monkeypatch):
    suites = tmp_path / "expectations"
    shutil.copytree(PROJECT_DIR / "expectations", suites)
    monkeypatch.setattr(registry_module, "EXPECTATIONS_DIR", suites)
    (feeds_dir / "disability_cards.yaml").write_text(
        """
feed: disability_cards
title: 残疾人证办理
owner: 区残联
kind: increment
format: csv
encoding: gb18030
key: [id_number, issue_date]
expectation_suite: disability_cards
columns:
  - {name: 身份证号, field: id_number, type: id_number, required: true, personal: true}
  - {name: 残疾等级, field: disability_grade, type: enum, values: [一级, 二级, 三级, 四级], required: true}
  - {name: 发证日期, field: issue_date, type: date, required: true}
""",
        encoding="utf-8",
    )
    (suites / "disability_cards.json").write_text(
        json.dumps(
            {
                "name": "disability_cards",
                "expectations": [
                    {
                        "type": "expect_column_values_to_not_be_null",
                        "kwargs": {"column": "id_number", "mostly": 0.8},
                        "meta": {"why": "test", "message": "身份证号大量缺失", "min_rows": 20},
                        "severity": "critical",
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    registry = load_registry(feeds_dir)
    write_delivery(
        settings.inbox,
        registry["disability_cards"],
        D1,
        [[person_id(1), "二级", "2026年3月1日"], [person_id(2), "五级", "2026-03-01"]],
    )

    result = run_day(settings, D1, registry)

    info = result.manifest["feeds"]["disability_cards"]
    assert (info["status"], info["rows_loaded"], info["rows_quarantined"]) == ("loaded", 1, 1)
    assert "残疾等级取值不在约定范围：五级" in (result.outbox / "quarantine.csv").read_text(
        encoding="utf-8-sig"
    )


@pytest.mark.parametrize(("rows", "status"), [(2, "rejected"), (3, "staged")])
def test_a_suite_that_only_counts_rows_judges_the_whole_delivery(
    feeds_dir, tmp_path, settings, monkeypatch, rows, status
):
    """A whole-delivery check that reads no column (a row count) still sees every row,
    whatever the chunk size."""
    from pipeline.feeds import readers
    from pipeline.ingest import FeedPlan, ingest_feed

    suites = tmp_path / "expectations"
    shutil.copytree(PROJECT_DIR / "expectations", suites)
    monkeypatch.setattr(registry_module, "EXPECTATIONS_DIR", suites)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    (suites / "hrss_employment.json").write_text(
        json.dumps(
            {
                "name": "hrss_employment",
                "expectations": [
                    {
                        "type": "expect_table_row_count_to_be_between",
                        "kwargs": {"min_value": 3},
                        "meta": {"why": "test", "message": "行数少于3行"},
                        "severity": "critical",
                    }
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    spec = load_registry(feeds_dir)["hrss_employment"]
    write_delivery(
        settings.inbox,
        spec,
        D1,
        [[person_id(n), f"测试{n}", "失业登记", "", "", "2026-03-01"] for n in range(1, rows + 1)],
    )

    plan = FeedPlan.from_json(ingest_feed(spec, settings, D1).read_text(encoding="utf-8"))

    (delivery,) = plan.deliveries
    assert delivery.status == status
    if status == "rejected":
        assert delivery.reason == "批次校验未通过：行数少于3行"
        assert delivery.rows_rejected == rows
