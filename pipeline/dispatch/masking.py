"""Masking of personal numbers in what leaves the bureau for the townships."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")


def mask_id_number(value: object) -> str:
    """``341702********123X``: the area code and the last four characters stay."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip()
    if len(text) < 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value: object) -> str:
    """``138****5678`` for a mobile; any other number keeps only its last four digits."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip()
    if re.fullmatch(r"1\d{10}", text):
        return text[:3] + "****" + text[-4:]
    digits = len(_DIGITS.findall(text))
    if digits <= 4:
        return "*" * len(text)
    kept = 0
    masked = []
    for character in reversed(text):
        if character.isdigit() and kept < 4:
            masked.append(character)
            kept += 1
        elif character.isdigit():
            masked.append("*")
        else:
            masked.append(character)
    return "".join(reversed(masked))


def mask_text(text: str) -> str:
    """Free text (reasons) with any ID or mobile number in it masked."""
    text = re.sub(
        r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)",
        lambda match: match.group(1) + "*" * 8 + match.group(2),
        text,
    )
    text = re.sub(
        r"(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)",
        lambda match: match.group(1) + "*" * 6 + match.group(2),
        text,
    )
    return re.sub(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)", r"\1****\2", text)
