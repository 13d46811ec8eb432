"""Value normalisers for the column types of docs/feeds.md, "What is normalised".

Each ``normalize_*`` takes a column as it arrived (strings from CSV, Python
objects from XLSX cells or database rows) and returns the typed column and a
column of reasons: missing where the value is fine or absent, a specific
Chinese reason where it cannot be trusted.

Columns repeat their values a great deal (dates, enums, amounts, codes), so
every value is judged once per distinct value and the verdicts are spread
back over the rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.validation import id_numbers

EXCEL_EPOCH = date(1899, 12, 30)
# Excel serials from 1950 to 2100: anything else in a date column is not a date.
EXCEL_SERIAL_RANGE = (18264, 73051)
MAX_EXACT_FLOAT_INTEGER = 2**53

_WHITESPACE = re.compile(r"\s+")
_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_PARENTHESISED_SUFFIX = re.compile(r"\(.*\)$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")
_AMOUNT_NOISE = re.compile(r"[,\s元¥￥]|人民币")
_AMOUNT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
# No amount in these feeds comes near 10^12 yuan; a larger number is an ID pasted in the wrong column.
MAX_AMOUNT = 1e12

Verdict = tuple[Any, str | None]  # (typed value or None, reason or None)


def nfkc(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def header_key(header: object) -> str:
    """The form in which headers are compared: NFKC, no whitespace."""
    return _WHITESPACE.sub("", nfkc(str(header)))


def header_keys(header: object) -> tuple[str, ...]:
    """A header and, when it carries a parenthesised unit such as ``(元)``, the name without
    the unit and the name with the unit but without the parentheses (``直接经济损失万元``)."""
    key = header_key(header)
    bare = _PARENTHESISED_SUFFIX.sub("", key)
    unwrapped = key.replace("(", "").replace(")", "")
    return tuple(dict.fromkeys(candidate for candidate in (key, bare, unwrapped) if candidate))


def is_missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
    )


def as_text(value: object) -> str | None:
    """A cell as NFKC text with surrounding whitespace removed; None when empty."""
    if is_missing(value):
        return None
    if isinstance(value, float):
        # A whole number in a text column (an XLSX numeric cell holding a code).
        if value.is_integer() and abs(value) < MAX_EXACT_FLOAT_INTEGER:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    text = nfkc(str(value)).strip()
    return text or None


def per_distinct(
    values: pd.Series, judge: Callable[[Any], Verdict], dtype: str = "object"
) -> tuple[pd.Series, pd.Series]:
    """Judge each distinct value once; missing values stay missing without a reason."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    verdicts = [judge(value) for value in uniques]
    missing: Any = (
        np.datetime64("NaT")
        if dtype.startswith("datetime64")
        else (np.nan if dtype == "float64" else None)
    )
    typed = np.array(
        [verdict[0] if verdict[0] is not None else missing for verdict in verdicts] + [missing],
        dtype=dtype,
    )
    reasons = np.array([verdict[1] for verdict in verdicts] + [None], dtype="object")
    typed_series = pd.Series(typed[codes], index=values.index, dtype=dtype)
    reason_series = pd.Series(reasons[codes], index=values.index, dtype="object")
    if dtype == "object":
        typed_series = typed_series.where(typed_series.notna(), pd.NA)
    return typed_series, reason_series.where(reason_series.notna(), pd.NA)


def normalize_string(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Free text (names, addresses): NFKC, stripped, stray inner spaces collapsed."""

    def judge(value: object) -> Verdict:
        text = as_text(value)
        if text is None:
            return None, None
        return _BETWEEN_CJK.sub("", _WHITESPACE.sub(" ", text)), None

    return per_distinct(values, judge)


def _ascii_text(values: pd.Series) -> pd.Series | None:
    """An all-ASCII text column as Arrow strings, for the vectorised path; else None."""
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    text = values.astype("string[pyarrow]")
    return text if bool(text.str.isascii().all()) else None


def normalize_code(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Codes and identifiers: NFKC, every space removed, upper case.

    A 16-digit household code that arrived as a number is still exact; longer
    numbers are not, and are refused rather than guessed.
    """
    ascii_text = _ascii_text(values)
    if ascii_text is not None:
        # Keys such as settlement serials are all distinct: no per-value work for them.
        # Arrow's own regex (RE2): the ASCII characters Python's \s takes, spelled out.
        spaceless = pc.replace_substring_regex(pa.array(ascii_text), r"[ \t\n\r\f\v\x1c-\x1f]+", "")
        cleaned = pd.Series(pc.utf8_upper(spaceless), index=values.index, dtype="str")
        cleaned = cleaned.where(cleaned != "").astype("object")
        return cleaned.where(cleaned.notna(), pd.NA), pd.Series(
            pd.NA, index=values.index, dtype="object"
        )

    def judge(value: object) -> Verdict:
        if (
            isinstance(value, float)
            and not np.isnan(value)
            and abs(value) >= MAX_EXACT_FLOAT_INTEGER
        ):
            return None, f"{label}以数值形式送达，末几位已丢失"
        text = as_text(value)
        return (None, None) if text is None else (_WHITESPACE.sub("", text).upper(), None)

    return per_distinct(values, judge)


def normalize_enum(
    values: pd.Series, allowed: Iterable[str], label: str
) -> tuple[pd.Series, pd.Series]:
    """An enum value, compared after NFKC and without spaces."""
    canonical = {header_key(value): value for value in allowed}

    def judge(value: object) -> Verdict:
        text = as_text(value)
        if text is None:
            return None, None
        key = _WHITESPACE.sub("", text)
        found = canonical.get(key)
        return (found, None) if found is not None else (None, f"{label}取值不在约定范围：{key}")

    return per_distinct(values, judge)


def normalize_id_number(values: pd.Series, *, today: date) -> tuple[pd.Series, pd.Series]:
    """Resident ID numbers; see ``id_numbers``. Numeric values (floats) are refused."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        blank = values.isna() | (values.astype("object").fillna("").str.strip() == "")
        return id_numbers.parse_series(values.where(~blank, pd.NA), today=today)
    prepared = values.map(
        lambda value: (
            pd.NA if is_missing(value) or (isinstance(value, str) and not value.strip()) else value
        )
    )
    return id_numbers.parse_series(prepared, today=today)


def _from_excel_serial(serial: float) -> date | None:
    """An Excel serial day number (the time of day, if any, is dropped)."""
    if not EXCEL_SERIAL_RANGE[0] <= serial < EXCEL_SERIAL_RANGE[1] + 1:
        return None
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_date_text(text: str) -> date | None:
    compact = _WHITESPACE.sub("", text)
    if compact.isdigit() and len(compact) != 8:
        return _from_excel_serial(float(compact)) if len(compact) == 5 else None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(compact, fmt).date()
        except ValueError:
            continue
    # A timestamp (from a database or an export): the date part.
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    if re.fullmatch(r"\d{5}(\.0+)?", compact):
        return _from_excel_serial(float(compact))
    return None


def normalize_date(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Dates in every listed form: ``2026-03-05``, ``2026/3/5``, ``20260305``,
    ``2026年3月5日``, a date cell, or an Excel serial number."""

    def judge(value: object) -> Verdict:
        parsed: date | None
        if isinstance(value, datetime | pd.Timestamp):
            parsed = value.date()
        elif isinstance(value, date):
            parsed = value
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            # A numeric cell: an Excel serial, or the 20260305 form typed as a number.
            number = float(value)
            whole = number.is_integer() and 19000101 <= number <= 21001231
            parsed = parse_date_text(str(int(number))) if whole else _from_excel_serial(number)
        else:
            text = as_text(value)
            if text is None:
                return None, None
            parsed = parse_date_text(text)
        if parsed is None:
            return None, f"{label}无法解析为日期：{value}"
        return np.datetime64(parsed, "s"), None

    return per_distinct(values, judge, "datetime64[s]")


def _amount(value: object) -> float | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return round(float(value), 2)
    text = as_text(value)
    if text is None:
        return None
    cleaned = _AMOUNT_NOISE.sub("", text)
    return round(float(cleaned), 2) if _AMOUNT.fullmatch(cleaned) else None


def normalize_amount(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Amounts in yuan: thousands separators, a trailing ``元``, Decimal from databases."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("floating", "integer"):
        # Numbers from a database or numeric cells: those already in fen and in range
        # (nearly all) are taken as they are; the rest are judged one by one.
        numbers = values.astype("float64")
        plain = (np.round(numbers, 2) == numbers) & (numbers.abs() < MAX_AMOUNT)
        typed = pd.Series(np.nan, index=values.index, dtype="float64")
        reasons = pd.Series(pd.NA, index=values.index, dtype="object")
        typed[plain] = numbers[plain]
        rest = ~plain & numbers.notna()
        if rest.any():
            typed[rest], reasons[rest] = _judge_amounts(values[rest], label)
        return typed, reasons
    return _judge_amounts(values, label)


def _judge_amounts(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    def judge(value: object) -> Verdict:
        amount = _amount(value)
        if amount is None and as_text(value) is not None:
            return None, f"{label}无法解析为金额：{as_text(value)}"
        if amount is not None and abs(amount) >= MAX_AMOUNT:
            return None, f"{label}数值超出合理范围"
        return amount, None

    return per_distinct(values, judge, "float64")


def normalize_integer(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    def judge(value: object) -> Verdict:
        amount = _amount(value)
        if amount is None:
            text = as_text(value)
            return (None, None) if text is None else (None, f"{label}不是整数：{text}")
        if not float(amount).is_integer():
            return None, f"{label}应为整数：{amount}"
        if abs(amount) >= MAX_AMOUNT:
            return None, f"{label}数值超出合理范围"
        return amount, None

    numbers, reasons = per_distinct(values, judge, "float64")
    return numbers.astype("Int64"), reasons
