"""ID numbers (GB 11643-1999): normalising and judging, with property-based tests."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.validation import id_numbers
from pipeline.validation.id_numbers import (
    ID_BIRTH_DATE,
    ID_CHARACTERS,
    ID_CHECK_DIGIT,
    ID_LENGTH,
    ID_NUMERIC,
    IdNumber,
    check_digit,
    parse,
    parse_series,
)

TODAY = date(2026, 3, 1)
areas = st.sampled_from(["341702", "340102", "110101", "441900"])
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
sexes = st.sampled_from(["男", "女"])
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    return id_numbers.make(draw(areas), draw(births), draw(sequences), draw(sexes))


def test_known_number_with_x_check_digit():
    # The GB 11643-1999 worked example.
    assert check_digit("11010519491231002") == "X"
    assert parse("11010519491231002x", today=TODAY) == IdNumber(
        "11010519491231002X", date(1949, 12, 31), "女"
    )


@given(valid_numbers())
def test_valid_numbers_are_accepted_with_birth_and_sex(number):
    parsed = parse(number, today=TODAY)
    assert isinstance(parsed, IdNumber)
    assert parsed.value == number
    assert parsed.birth_date.strftime("%Y%m%d") == number[6:14]
    assert parsed.sex == ("男" if int(number[16]) % 2 else "女")


@given(valid_numbers(), st.sampled_from(["full_width", "spaces", "lower_x", "tab_and_space"]))
def test_cosmetic_variants_normalise_to_the_same_number(number, variant):
    text = {
        "full_width": number.translate(FULL_WIDTH),
        "spaces": f" {number[:6]} {number[6:14]} {number[14:]} ",
        "lower_x": number.lower(),
        "tab_and_space": f"\t{number}\u3000",
    }[variant]
    parsed = parse(text, today=TODAY)
    assert isinstance(parsed, IdNumber)
    assert parsed.value == number


@given(
    st.sampled_from(["341702", "340102"]),
    st.dates(date(1900, 1, 1), date(1999, 12, 31)),
    sequences,
    sexes,
)
def test_fifteen_digit_numbers_become_eighteen(area, birth, sequence, sex):
    eighteen = id_numbers.make(area, birth, sequence, sex)
    fifteen = eighteen[:6] + eighteen[8:17]
    assert parse(fifteen, today=TODAY) == parse(eighteen, today=TODAY)


@given(valid_numbers(), st.sampled_from("0123456789X"))
def test_any_other_check_character_is_refused(number, wrong):
    if wrong == number[-1]:
        return
    assert parse(number[:17] + wrong, today=TODAY) == ID_CHECK_DIGIT


@given(valid_numbers())
def test_numbers_that_went_through_a_float_are_never_trusted(number):
    as_float = float(number[:17] + "0")
    assert parse(as_float, today=TODAY) == ID_NUMERIC
    assert parse(f"{as_float:.8E}", today=TODAY) == ID_NUMERIC
    assert parse(repr(as_float), today=TODAY) == ID_NUMERIC


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("34170219800230123X", ID_BIRTH_DATE),  # 30 February
        ("341702198013011234", ID_BIRTH_DATE),  # month 13
        ("341702203001011234", ID_BIRTH_DATE),  # born after the business date
        ("34170219800101123", ID_LENGTH),  # 17 digits
        ("3417021980010112345", ID_LENGTH),  # 19 digits
        ("34170219800101123A", ID_CHARACTERS),
        ("3.41702198E+17", ID_NUMERIC),
    ],
)
def test_specific_reasons(text, reason):
    assert parse(text, today=TODAY) == reason


@settings(max_examples=60)
@given(
    st.lists(
        st.one_of(
            valid_numbers(),
            valid_numbers().map(str.lower),
            valid_numbers().map(lambda number: number[:17] + ("0" if number[-1] != "0" else "1")),
            valid_numbers().map(lambda number: number.translate(FULL_WIDTH)),
            st.text(alphabet="0123456789Xx .", max_size=20),
            st.floats(min_value=1e17, max_value=9e17),
            st.none(),
        ),
        max_size=30,
    )
)
def test_column_parse_agrees_with_one_by_one(values):
    numbers, reasons = parse_series(pd.Series(values, dtype="object"), today=TODAY)
    for value, number, reason in zip(values, numbers, reasons, strict=True):
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        expected = parse(value, today=TODAY)
        if isinstance(expected, IdNumber):
            assert (number, reason) == (expected.value, pd.NA) or (
                number == expected.value and pd.isna(reason)
            )
        else:
            assert pd.isna(number)
            assert reason == expected
