"""Value normalisers for the types the contracts use, one column at a time.

Each ``normalize_*`` takes a column as it arrived (strings from CSV, Python
objects from XLSX cells or database rows) and returns the typed column and a
column of reasons: missing where the value is fine or absent, a specific
Chinese reason where it cannot be trusted. Work is vectorised for the common
shapes; only the odd values are handled one by one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from pipeline.validation import id_numbers

EXCEL_EPOCH = date(1899, 12, 30)
# Excel serials from 1950 to 2100: anything else in a date column is not a date.
EXCEL_SERIAL_RANGE = (18264, 73051)
MAX_EXACT_FLOAT_INTEGER = 2**53

_WHITESPACE = re.compile(r"\s+")
_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_PARENTHESISED_SUFFIX = re.compile(r"\(.*\)$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def header_key(header: object) -> str:
    """The form in which headers are compared: NFKC, no whitespace."""
    return _WHITESPACE.sub("", nfkc(str(header)))


def header_keys(header: object) -> tuple[str, ...]:
    """A header and, when it carries a parenthesised unit such as ``(元)``, the bare name."""
    key = header_key(header)
    bare = _PARENTHESISED_SUFFIX.sub("", key)
    return (key, bare) if bare and bare != key else (key,)


def _text_column(values: pd.Series) -> pd.Series:
    """Every value as NFKC text with surrounding whitespace removed; empty becomes missing."""

    def convert(value: object) -> object:
        if value is None or value is pd.NA:
            return pd.NA
        if isinstance(value, float):
            if np.isnan(value):
                return pd.NA
            # A whole number in a text column (an XLSX numeric cell holding a code).
            if value.is_integer() and abs(value) < MAX_EXACT_FLOAT_INTEGER:
                return str(int(value))
            return repr(value)
        if isinstance(value, Decimal):
            return format(value, "f")
        text = nfkc(str(value)).strip()
        return text if text else pd.NA

    return values.map(convert).astype("object")


def _no_reasons(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA, index=index, dtype="object")


def normalize_string(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Free text (names, addresses): NFKC, stripped, stray inner spaces collapsed."""
    text = _text_column(values)
    present = text.notna()
    cleaned = text[present].astype(str).str.replace(_WHITESPACE, " ", regex=True)
    cleaned = cleaned.str.replace(_BETWEEN_CJK, "", regex=True)
    text.loc[present] = cleaned
    return text, _no_reasons(values.index)


def normalize_code(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Codes and identifiers: NFKC, every space removed, upper case.

    A 16-digit household code that arrived as a number is still exact; longer
    numbers are not, and are refused rather than guessed.
    """
    reasons = _no_reasons(values.index)
    inexact = values.map(
        lambda value: isinstance(value, float) and abs(value) >= MAX_EXACT_FLOAT_INTEGER
    )
    text = _text_column(values)
    present = text.notna()
    text.loc[present] = (
        text[present].astype(str).str.replace(_WHITESPACE, "", regex=True).str.upper()
    )
    if inexact.any():
        text.loc[inexact] = pd.NA
        reasons.loc[inexact] = f"{label}以数值形式送达，末几位已丢失"
    return text, reasons


def normalize_enum(
    values: pd.Series, allowed: Iterable[str], label: str
) -> tuple[pd.Series, pd.Series]:
    """An enum value, compared after NFKC and without spaces."""
    canonical = {header_key(value): value for value in allowed}
    text = _text_column(values)
    present = text.notna()
    keys = text[present].astype(str).str.replace(_WHITESPACE, "", regex=True)
    mapped = keys.map(canonical)
    result = pd.Series(pd.NA, index=values.index, dtype="object")
    result.loc[mapped.index] = mapped
    reasons = _no_reasons(values.index)
    unknown = mapped.isna()
    if unknown.any():
        bad = keys[unknown]
        reasons.loc[bad.index] = [f"{label}取值不在约定范围：{value}" for value in bad]
    return result, reasons


def normalize_id_number(values: pd.Series, *, today: date) -> tuple[pd.Series, pd.Series]:
    """Resident ID numbers; see ``id_numbers``. Numeric values (floats) are refused."""
    prepared = values.map(
        lambda value: (
            pd.NA
            if value is None or value is pd.NA or (isinstance(value, str) and not value.strip())
            else value
        )
    )
    return id_numbers.parse_series(prepared, today=today)


def _parse_date_text(text: str) -> date | None:
    compact = _WHITESPACE.sub("", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(compact, fmt).date()
        except ValueError:
            continue
    # A timestamp (from a database or an export): the date part.
    try:
        return datetime.fromisoformat(
            compact.replace("T", " ", 1) if "T" in compact else text
        ).date()
    except ValueError:
        pass
    if re.fullmatch(r"\d{5}(\.0+)?", compact):
        return _from_excel_serial(float(compact))
    return None


def _from_excel_serial(serial: float) -> date | None:
    if (
        not float(serial).is_integer()
        or not EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]
    ):
        return None
    return EXCEL_EPOCH + timedelta(days=int(serial))


def normalize_date(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Dates in every listed form: ``2026-03-05``, ``2026/3/5``, ``20260305``,
    ``2026年3月5日``, a date cell, or an Excel serial number."""
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    reasons = _no_reasons(values.index)
    is_text = values.map(lambda value: isinstance(value, str))
    text = values[is_text].map(lambda value: nfkc(value).strip())
    text = text[text != ""]
    pending = text
    for fmt in _DATE_FORMATS[:3]:
        if pending.empty:
            break
        parsed = pd.to_datetime(pending, format=fmt, errors="coerce")
        hit = parsed.notna()
        result.loc[parsed[hit].index] = parsed[hit]
        pending = pending[~hit]
    for index, value in pending.items():
        parsed_date = _parse_date_text(str(value))
        if parsed_date is None:
            reasons.at[index] = f"{label}无法解析为日期：{value}"
        else:
            result.at[index] = pd.Timestamp(parsed_date)
    for index, value in values[~is_text].items():
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, datetime | pd.Timestamp):
            result.at[index] = pd.Timestamp(value).normalize()
        elif isinstance(value, date):
            result.at[index] = pd.Timestamp(value)
        elif isinstance(value, int | float | Decimal) and (
            serial := _from_excel_serial(float(value))
        ):
            result.at[index] = pd.Timestamp(serial)
        else:
            reasons.at[index] = f"{label}无法解析为日期：{value}"
    return result, reasons


_AMOUNT_NOISE = re.compile(r"[,\s元¥￥]|人民币")


def normalize_amount(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    """Amounts in yuan: thousands separators, a trailing ``元``, Decimal from databases."""
    reasons = _no_reasons(values.index)
    as_text = _text_column(values)
    present = as_text.notna()
    cleaned = as_text[present].astype(str).str.replace(_AMOUNT_NOISE, "", regex=True)
    numbers = pd.to_numeric(
        cleaned.where(cleaned.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)")), errors="coerce"
    )
    result = pd.Series(np.nan, index=values.index, dtype="float64")
    result.loc[numbers.index] = numbers
    bad = numbers.isna()
    if bad.any():
        reasons.loc[bad[bad].index] = [
            f"{label}无法解析为金额：{value}" for value in as_text[bad[bad].index]
        ]
    return result.round(2), reasons


def normalize_integer(values: pd.Series, label: str) -> tuple[pd.Series, pd.Series]:
    numbers, reasons = normalize_amount(values, label)
    whole = numbers.isna() | (numbers == numbers.round(0))
    reasons.loc[~whole] = [f"{label}应为整数：{value}" for value in numbers[~whole]]
    numbers = numbers.where(whole)
    reasons = reasons.where(
        reasons.isna(), reasons.str.replace("无法解析为金额", "不是整数", regex=False)
    )
    return numbers.astype("Int64"), reasons


def decimal_or_none(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
