"""Value normalisers, table-driven: every form of docs/feeds.md, "What is normalised"."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.validation import normalize


def one(function, value, *args):
    values, reasons = function(pd.Series([value], dtype="object"), *args)
    return values.iloc[0], reasons.iloc[0]


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-05",
        "2026/3/5",
        "2026/03/05",
        "20260305",
        "2026年3月5日",
        " 2026-03-05 ",
        "２０２６－０３－０５",
        46086,
        46086.0,
        "46086",
        date(2026, 3, 5),
        datetime(2026, 3, 5, 14, 30),
        "2026-03-05 00:00:00",
    ],
)
def test_every_listed_date_form(value):
    parsed, reason = one(normalize.normalize_date, value, "变动日期")
    assert pd.Timestamp(parsed).date() == date(2026, 3, 5)
    assert pd.isna(reason)


@pytest.mark.parametrize("value", ["2026-02-30", "2026/13/1", "昨天", "12", 3.5])
def test_dates_that_do_not_parse_say_so(value):
    parsed, reason = one(normalize.normalize_date, value, "变动日期")
    assert pd.isna(parsed)
    assert reason == f"变动日期无法解析为日期：{value}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12,345.60", 12345.6),
        ("3200元", 3200.0),
        ("3,200 元", 3200.0),
        ("¥88.5", 88.5),
        (12.5, 12.5),
        ("-5.00", -5.0),
        ("０.５", 0.5),
        (" 100 ", 100.0),
    ],
)
def test_amount_forms(value, expected):
    parsed, reason = one(normalize.normalize_amount, value, "月工资")
    assert parsed == expected
    assert pd.isna(reason)


@pytest.mark.parametrize("value", ["约3000", "3000-4000", "十元", "1.2.3"])
def test_amounts_that_do_not_parse_say_so(value):
    parsed, reason = one(normalize.normalize_amount, value, "月工资")
    assert pd.isna(parsed)
    assert reason == f"月工资无法解析为金额：{value}"


def test_missing_values_are_missing_without_a_reason():
    for function, args in [
        (normalize.normalize_amount, ("金额",)),
        (normalize.normalize_date, ("日期",)),
        (normalize.normalize_enum, (["是", "否"], "授权")),
        (normalize.normalize_string, ()),
    ]:
        values, reasons = function(pd.Series(["", None, "  "], dtype="object"), *args)
        assert values.isna().all()
        assert reasons.isna().all()


@pytest.mark.parametrize(
    ("value", "expected"), [("低保", "低保"), (" 特困 供养 ", "特困供养"), ("Ｃ级", "C级")]
)
def test_enums_compare_after_nfkc_without_spaces(value, expected):
    parsed, reason = one(normalize.normalize_enum, value, ["低保", "特困供养", "C级"], "救助类别")
    assert parsed == expected
    assert pd.isna(reason)


def test_enum_outside_the_list_names_the_value():
    _, reason = one(normalize.normalize_enum, "低保户", ["低保", "特困供养"], "救助类别")
    assert reason == "救助类别取值不在约定范围：低保户"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" 张　三 ", "张三"), ("李 四", "李四"), ("Tom  Lee", "Tom Lee"), ("王（小）明", "王(小)明")],
)
def test_names_lose_stray_spaces_and_full_width_punctuation(value, expected):
    assert one(normalize.normalize_string, value)[0] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 3417 0210 1201 ", "341702101201"),
        (341702101201.0, "341702101201"),
        ("３４１７０２", "341702"),
        ("341702101201g03", "341702101201G03"),
    ],
)
def test_codes_lose_every_space(value, expected):
    assert one(normalize.normalize_code, value, "村代码")[0] == expected


def test_a_code_too_long_for_a_float_is_refused():
    value, reason = one(normalize.normalize_code, 3.417021012011234e17, "户编号")
    assert pd.isna(value)
    assert reason == "户编号以数值形式送达，末几位已丢失"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (" 户编号 ", "户编号"),
        ("户 编 号", "户编号"),
        ("上年家庭纯收入（元）", "上年家庭纯收入(元)"),
    ],
)
def test_header_keys(header, expected):
    assert normalize.header_key(header) == expected


def test_header_with_a_unit_in_full_width_parentheses_matches_the_bare_name():
    assert "上年家庭纯收入" in normalize.header_keys("上年家庭纯收入（元）")


def test_integers():
    values, reasons = normalize.normalize_integer(
        pd.Series(["3", 4.0, "3.5", "三"], dtype="object"), "家庭人口数"
    )
    assert list(values[:2]) == [3, 4]
    assert list(reasons[2:]) == ["家庭人口数应为整数：3.5", "家庭人口数不是整数：三"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.integers(min_value=-(10**12), max_value=10**12).map(lambda cents: cents / 100),
            st.integers(min_value=-(10**9), max_value=10**9),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_a_column_of_numbers_reads_as_each_number_alone(numbers):
    """Amounts that came as numbers take the column-wise path: it must agree, value for
    value and reason for reason, with judging each number alone."""
    column = pd.Series(numbers, dtype="object")
    typed, reasons = normalize.normalize_amount(column, "金额")
    for position, value in enumerate(numbers):
        alone_typed, alone_reason = normalize.normalize_amount(
            pd.Series([value, "x"], dtype="object"), "金额"
        )
        assert same(typed.iloc[position], alone_typed.iloc[0])
        assert same(reasons.iloc[position], alone_reason.iloc[0])


def same(first: object, second: object) -> bool:
    return bool(pd.isna(first) and pd.isna(second)) or first == second


def test_codes_lose_the_same_spaces_whichever_way_they_are_read():
    """An all-ASCII column takes Arrow's path, a column with one Chinese value Python's:
    the same code must come out of both (a key judged per chunk depends on it)."""
    ascii_codes = ["ab c\t1\x0b", " ", None, "x\r\ny", "k\x1f2\x1c"]
    typed, reasons = normalize.normalize_code(pd.Series(ascii_codes, dtype="object"), "编码")
    mixed, _ = normalize.normalize_code(pd.Series([*ascii_codes, "村"], dtype="object"), "编码")
    assert typed.tolist()[:1] + typed.tolist()[3:] == ["ABC1", "XY", "K2"]
    assert typed.isna().tolist() == [False, True, True, False, False]
    assert typed.fillna("-").tolist() == mixed.fillna("-").tolist()[:-1]
    assert reasons.isna().all()
