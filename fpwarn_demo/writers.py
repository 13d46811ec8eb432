"""Cells, CSV and XLSX files as the departments produce them, byte-for-byte repeatable."""

from __future__ import annotations

import csv
import io
import os
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

# Fixed document and zip-entry times: the same arguments give the same bytes.
FIXED_TIME = datetime(2026, 1, 1, 8, 0, 0)
_ZIP_TIME = (2026, 1, 1, 8, 0, 0)
EXCEL_EPOCH = date(1899, 12, 30)

# How each department writes a date in its CSV files; the rest write ISO dates.
DATE_STYLES = {"edu_students": "slash", "civil_assistance": "compact"}


@dataclass(frozen=True, slots=True)
class Raw:
    """A cell value written exactly as given (a planted defect bypasses formatting)."""

    value: object


@dataclass(slots=True)
class DataRow:
    values: list[object]
    defect: str | None = None
    # Never given a defect: the source of a duplicate, the flood the demo is about.
    protected: bool = False
    # An empty line precedes this row in a CSV file.
    blank_before: bool = False


def format_date(day: date, style: str) -> str:
    if style == "slash":
        return f"{day.year}/{day.month}/{day.day}"
    if style == "compact":
        return f"{day:%Y%m%d}"
    if style == "chinese":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def excel_serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def format_amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def csv_cell(value: object, date_style: str) -> str:
    if isinstance(value, Raw):
        return str(value.value)
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value, date_style)
    if isinstance(value, float):
        return format_amount(value)
    return str(value)


def xlsx_cell(value: object) -> object:
    if isinstance(value, Raw):
        return value.value
    if value == "":
        return None
    return value


def csv_bytes(
    header: Sequence[str], rows: Sequence[DataRow], encoding: str, date_style: str
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if row.blank_before:
            buffer.write("\r\n")
        writer.writerow([csv_cell(value, date_style) for value in row.values])
    # strict: a character the declared encoding lacks is a generator bug, not data.
    return buffer.getvalue().encode(encoding)


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[DataRow], encoding: str, date_style: str
) -> None:
    path.write_bytes(csv_bytes(header, rows, encoding, date_style))


class _StableZip(zipfile.ZipFile):
    """A ZipFile whose entries carry a fixed time instead of the clock or file mtimes."""

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        return info

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # type: ignore[no-untyped-def]
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # type: ignore[no-untyped-def]
        info = self._info(arcname or os.path.basename(filename))
        info.file_size = os.path.getsize(filename)
        with open(filename, "rb") as source, self.open(info, "w") as target:
            shutil.copyfileobj(source, target, 1 << 20)


def write_xlsx(
    path: Path,
    sheet: str,
    header: Sequence[str],
    rows: Sequence[DataRow],
    *,
    footer: Sequence[Sequence[object]] = (),
    extra_sheets: Sequence[tuple[str, Sequence[Sequence[object]]]] = (),
) -> None:
    """One data sheet (header in row 1), optional footer lines and extra sheets."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(header))
    for row in rows:
        worksheet.append([xlsx_cell(value) for value in row.values])
    for line in footer:
        worksheet.append(list(line))
    for title, lines in extra_sheets:
        extra = workbook.create_sheet(title)
        for line in lines:
            extra.append(list(line))
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    # openpyxl's save() stamps the clock into the file; drive its writer directly.
    archive = _StableZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(workbook, archive).save()
