"""Resident ID numbers (公民身份号码, GB 11643-1999): normalising and checking.

A number is normalised before it is judged: NFKC (full-width digits become
half-width), spaces removed, ``x`` upper-cased, 15-digit numbers converted to
18 digits (century 19, check digit computed). Then it is valid only with
18 characters, a real birth date and the right check digit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)

ID_CHECK_DIGIT = "身份证号校验位错误"
ID_BIRTH_DATE = "身份证号中的出生日期不存在"
ID_LENGTH = "身份证号位数错误（应为15位或18位）"
ID_CHARACTERS = "身份证号含有数字和X以外的字符"
ID_NUMERIC = "身份证号以数值形式送达（科学计数法或小数），末几位已丢失，无法使用"

_SPACES = re.compile(r"\s+")
_SCIENTIFIC_OR_FLOAT = re.compile(r"^\d+(\.\d*)?[eE][+-]?\d+$|^\d+\.\d+$")


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    sex: str  # 男 or 女, from the 17th digit (odd = 男)


def clean(raw: str) -> str:
    """NFKC, no spaces, upper-case X: the form in which an ID number is judged."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw)).upper()


def parse(raw: object, *, today: date | None = None) -> IdNumber | str:
    """The valid ID number in ``raw``, or the reason (Chinese) it cannot be trusted."""
    if not isinstance(raw, str):
        return ID_NUMERIC
    text = clean(raw)
    if _SCIENTIFIC_OR_FLOAT.match(text):
        return ID_NUMERIC
    if not re.fullmatch(r"[0-9X]+", text):
        return ID_CHARACTERS
    if len(text) == 15:
        if not text.isdigit():
            return ID_CHARACTERS
        first17 = text[:6] + "19" + text[6:]
        text = first17 + check_digit(first17)
    if len(text) != 18:
        return ID_LENGTH
    if not text[:17].isdigit():
        return ID_CHARACTERS
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return ID_BIRTH_DATE
    if birth < EARLIEST_BIRTH or birth > (today or date.today()):
        return ID_BIRTH_DATE
    if check_digit(text[:17]) != text[17]:
        return ID_CHECK_DIGIT
    return IdNumber(text, birth, "男" if int(text[16]) % 2 else "女")


def parse_series(values: pd.Series, *, today: date | None = None) -> tuple[pd.Series, pd.Series]:
    """Vectorised ``parse`` for a column: (normalised numbers, reasons).

    Rows that fail get a missing number and their reason; valid rows a missing
    reason. Missing input stays missing with no reason (``required`` is judged
    elsewhere). The common case, an 18-character string already clean, is checked
    with array arithmetic; only the rest goes through ``parse`` one by one.
    """
    numbers = pd.Series(pd.NA, index=values.index, dtype="object")
    reasons = pd.Series(pd.NA, index=values.index, dtype="object")
    present = values.notna()
    if not present.any():
        return numbers, reasons
    text = values[present]
    if pd.api.types.infer_dtype(text, skipna=True) == "string":
        strings = text.astype("str")
    else:
        strings = text[text.map(lambda value: isinstance(value, str))].astype("str")
    fast = strings.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).astype(bool)
    fast_index = fast[fast].index
    if len(fast_index):
        clean_numbers = strings[fast]
        characters = _characters(clean_numbers)
        digits = (characters[:, :17] - ord("0")).astype(np.int64)
        expected = np.frombuffer(CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)[
            (digits @ np.array(WEIGHTS)) % 11
        ]
        births = _births(digits)
        limit = np.datetime64(today or date.today(), "D")
        good_birth = ~np.isnat(births) & (births >= np.datetime64(EARLIEST_BIRTH, "D"))
        good_birth &= births <= limit
        good_check = expected == characters[:, 17]
        ok = good_birth & good_check
        numbers.loc[fast_index[ok]] = clean_numbers[ok].astype("object")
        reasons.loc[fast_index[~good_birth]] = ID_BIRTH_DATE
        reasons.loc[fast_index[good_birth & ~good_check]] = ID_CHECK_DIGIT
    slow_index = text.index.difference(fast_index)
    for index in slow_index:
        result = parse(text.at[index], today=today)
        if isinstance(result, IdNumber):
            numbers.at[index] = result.value
        else:
            reasons.at[index] = result
    return numbers, reasons


def _characters(numbers: pd.Series) -> np.ndarray:
    """18-character ASCII strings as a matrix of their bytes, one row each, straight from
    the Arrow buffers (no Python string is made)."""
    array = pa.array(numbers)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, 18)


def _births(digits: np.ndarray) -> np.ndarray:
    """The birth dates in the 7th to 14th digits, NaT where no such day exists."""
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10:12] @ np.array([10, 1])
    day = digits[:, 12:14] @ np.array([10, 1])
    valid_month = (month >= 1) & (month <= 12)
    first = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]")
    first = first + np.where(valid_month, month - 1, 0).astype("timedelta64[M]")
    days_in_month = ((first + np.timedelta64(1, "M")).astype("datetime64[D]")) - first.astype(
        "datetime64[D]"
    )
    valid = valid_month & (day >= 1) & (day <= days_in_month.astype(np.int64))
    births = first.astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    return np.where(valid, births, np.datetime64("NaT"))


def make(area_code: str, birth: date, sequence: int, sex: str) -> str:
    """A valid 18-digit number: for the demo district and for tests."""
    if not 0 <= sequence < 1000:
        raise ValueError("sequence is three digits")
    order = sequence - sequence % 2 + (1 if sex == "男" else 0)
    if order > 999:
        order -= 2
    first17 = f"{area_code}{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)
