"""The Great Expectations suites: their conventions, and what their failures do."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from pipeline.validation import expectations
from pipeline.validation.contract import apply_contract
from tests.conftest import person_id

TODAY = date(2026, 3, 1)


def test_every_feed_has_a_suite_whose_expectations_say_why(registry):
    for spec in registry.values():
        document = expectations.load_suite_document(spec.suite_path)
        assert document["name"] == spec.expectation_suite
        assert document["expectations"], spec.feed
        for expectation in document["expectations"]:
            meta = expectation["meta"]
            assert meta.get("why"), (spec.feed, expectation["type"])
            if "quarantine_reason" not in meta:
                assert meta.get("message"), (spec.feed, expectation["type"])
                assert expectation["severity"] in {"critical", "warning", "info"}


def test_every_suite_column_is_a_field_or_a_derived_column(registry):
    for spec in registry.values():
        known = set(spec.by_field) | set(spec.derived)
        known |= {f"{column.field}__sex" for column in spec.columns if column.type == "id_number"}
        for expectation in expectations.load_suite_document(spec.suite_path)["expectations"]:
            kwargs = expectation["kwargs"]
            columns = [
                kwargs.get("column"),
                kwargs.get("column_A"),
                kwargs.get("column_B"),
                *kwargs.get("column_list", []),
            ]
            assert {column for column in columns if column} <= known, (
                spec.feed,
                expectation["type"],
            )


def members_frame(registry, rows):
    raw = pd.DataFrame(
        rows, columns=[column.field for column in registry["members"].columns], dtype="object"
    )
    raw.index = pd.RangeIndex(1, len(raw) + 1)
    return apply_contract(registry["members"], raw, today=TODAY).frame


def member(sequence, sex_written, *, sex_in_id="男", household="3417021012010001"):
    from pipeline.validation.id_numbers import make

    return [
        household,
        f"成员{sequence}",
        make("341702", date(1990, 1, 1), sequence * 2, sex_in_id),
        "之子",
        sex_written,
        "普通劳动力",
        "健康",
        None,
        "非在校生",
        "未务工",
    ]


def test_row_level_failure_quarantines_with_the_suite_reason(registry):
    frame = members_frame(
        registry, [member(1, "男"), member(2, "女"), member(3, "男", sex_in_id="女")]
    )

    outcome = expectations.validate(registry["members"].suite_path, frame)

    assert outcome.rejected is None
    assert list(outcome.row_reasons) == [
        "",
        "性别与身份证号不符（第17位奇数为男、偶数为女）",
        "性别与身份证号不符（第17位奇数为男、偶数为女）",
    ]


def test_a_feed_suddenly_mostly_empty_is_rejected_as_a_batch(registry):
    rows = [member(index, "男") for index in range(30)]
    for row in rows[:10]:
        row[2] = None  # a third of the ID numbers gone
    outcome = expectations.validate(registry["members"].suite_path, members_frame(registry, rows))
    assert outcome.rejected == "批次校验未通过：身份证号超过20%为空或无法识别，疑似导出格式变化"


def test_a_key_that_is_no_longer_unique_is_rejected(registry):
    rows = [member(index % 20, "男") for index in range(30)]
    outcome = expectations.validate(registry["members"].suite_path, members_frame(registry, rows))
    assert outcome.rejected is not None
    assert "主键（身份证号）重复超过10%" in outcome.rejected


@pytest.mark.parametrize("size", [3, 19])
def test_proportions_are_not_judged_on_a_handful_of_rows(registry, size):
    rows = [member(index, "男") for index in range(size)]
    rows[0][2] = None
    rows[1][2] = None
    outcome = expectations.validate(registry["members"].suite_path, members_frame(registry, rows))
    assert outcome.rejected is None


def test_medical_amounts_must_add_up(registry):
    spec = registry["med_claims"]
    rows = [
        [
            "S1",
            person_id(1),
            "甲",
            "2026-03-01",
            "住院",
            "医院",
            "",
            "1000",
            "600",
            "0",
            "0",
            "400",
            "0",
            "",
        ],
        [
            "S2",
            person_id(2),
            "乙",
            "2026-03-01",
            "住院",
            "医院",
            "",
            "1000",
            "600",
            "0",
            "0",
            "400.01",
            "0",
            "",
        ],
        [
            "S3",
            person_id(3),
            "丙",
            "2026-03-01",
            "住院",
            "医院",
            "",
            "1000",
            "600",
            "0",
            "0",
            "399.5",
            "0",
            "",
        ],
    ]
    raw = pd.DataFrame(rows, columns=[column.field for column in spec.columns], dtype="object")
    frame = apply_contract(spec, raw, today=TODAY).frame
    outcome = expectations.validate(spec.suite_path, frame)
    assert list(outcome.row_reasons) == [
        "",
        "",
        "个人自付（GRZF）与 总额−统筹−大病−救助 相差超过0.01元",
    ]


def test_a_flag_loads_the_delivery_and_tells_the_bureau(registry, deliver, settings):
    from pipeline.steps import run_day
    from tests.conftest import household_row

    households = [household_row(index, size=3) for index in range(1, 25)]
    deliver("households", TODAY, households)

    result = run_day(settings, TODAY)

    info = result.manifest["feeds"]["households"]
    assert (info["status"], info["rows_loaded"]) == ("loaded", 24)
    assert (
        "批次校验提示：联系电话超过一半为空，网格员联系农户会有困难"
        in info["deliveries"][0]["notes"]
    )
    assert any("联系电话超过一半为空" in warning for warning in result.manifest["warnings"])


def write_suite(path, *expectations_of_suite):
    path.write_text(
        json.dumps({"name": path.stem, "expectations": list(expectations_of_suite)}),
        encoding="utf-8",
    )
    return path


def test_a_whole_delivery_check_across_columns_sees_the_real_values(tmp_path):
    """Codes stand for values only where a check compares a column with itself."""
    suite = write_suite(
        tmp_path / "across.json",
        {
            "type": "expect_select_column_values_to_be_unique_within_record",
            "kwargs": {"column_list": ["first", "second"]},
            "meta": {"why": "test", "message": "同一行两列相同"},
            "severity": "critical",
        },
    )
    distinct = pd.DataFrame({"first": ["x", "z"], "second": ["y", "w"]})
    assert expectations.validate_delivery(suite, distinct).rejected is None
    same = pd.DataFrame({"first": ["x", "z"], "second": ["x", "w"]})
    assert expectations.validate_delivery(suite, same).rejected == "批次校验未通过：同一行两列相同"


def test_a_check_of_the_tables_columns_sees_every_column(tmp_path):
    suite = write_suite(
        tmp_path / "columns.json",
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": ["first", "second"], "exact_match": True},
            "meta": {"why": "test", "message": "列不符"},
            "severity": "warning",
        },
    )
    frame = pd.DataFrame({"first": ["x"], "second": ["y"]})
    assert expectations.validate_delivery(suite, frame).flags == []
    extra = frame.assign(third=["a"])
    assert expectations.validate_delivery(suite, extra).flags == ["批次校验提示：列不符"]
