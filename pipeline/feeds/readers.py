"""Readers: a delivery as it arrived, as a table of data rows with their row numbers.

Readers never judge values; they find the header, map it to the registry's
fields, drop what is not data (blank rows, trailing 合计 and signature rows)
and number the data rows from 1, the way the ``.ok`` marker counts them.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.feeds.registry import FeedSpec
from pipeline.validation.normalize import header_key, header_keys

UTF8_FAMILY = {"utf-8", "utf_8", "utf8", "utf-8-sig", "utf_8_sig"}
CHINESE_FAMILY = ("gbk", "gb18030")


class ReadError(ValueError):
    """A delivery that cannot be read at all; it is rejected with this reason (Chinese)."""


@dataclass
class RawTable:
    """Data rows as they arrived: one column per registry field, values untouched."""

    values: pd.DataFrame
    # The row as it arrived, headers as the sender wrote them: kept for the quarantine.
    original: pd.DataFrame
    encoding_read: str | None = None
    notes: list[str] = field(default_factory=list)
    # The field naming a row in quarantine.csv when there are no row numbers (a view's key).
    label_field: str | None = None

    def __len__(self) -> int:
        return len(self.values)

    def labels(self, index: pd.Index) -> list[str]:
        """How the rows at ``index`` are named in quarantine.csv: the data row number, or
        the key for a database view."""
        if self.label_field is None:
            return [str(row) for row in index]
        keys = self.values.loc[index, self.label_field]
        return ["" if value is None else str(value).strip() for value in keys]

    def raw_json(self, index: pd.Index) -> list[str]:
        """The rows at ``index`` as JSON objects keyed by the sender's headers."""
        rows = self.original.loc[index]
        return [
            json.dumps({key: jsonable(value) for key, value in row.items()}, ensure_ascii=False)
            for _, row in rows.iterrows()
        ]


def jsonable(value: object) -> object:
    """A cell as JSON can hold it, for the quarantine's ``raw``."""
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    ):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def decode(data: bytes, declared: str) -> tuple[str, str]:
    """Text of a CSV file and the encoding it really had (see ``_encoding_of``)."""
    encoding = _encoding_of(data, declared)
    return data.decode(encoding), encoding


def encoding_note(declared: str, actual: str, text: str | bytes) -> str | None:
    """A note for the manifest when the file was not in its declared encoding."""
    if declared in UTF8_FAMILY and actual in UTF8_FAMILY:
        return None
    if text.isascii():
        return None
    if declared == "gb18030" and actual == "gbk":
        return None  # GBK is a subset of GB18030
    if declared == actual:
        return None
    return f"文件编码与约定不符：约定 {declared.upper()}，实际按 {actual.upper()} 读取"


def _map_headers(spec: FeedSpec, headers: Sequence[object]) -> tuple[dict[int, str], list[str]]:
    """Position of each registry field in the header row; unknown headers for the notes."""
    wanted: dict[str, str] = {}
    for column in spec.columns:
        for name in (column.name, *column.aliases):
            wanted[header_key(name)] = column.field
    positions: dict[int, str] = {}
    unknown = []
    for position, header in enumerate(headers):
        if header is None or not str(header).strip():
            continue
        found = next((wanted[key] for key in header_keys(header) if key in wanted), None)
        if found is None or found in positions.values():
            unknown.append(str(header).strip())
        else:
            positions[position] = found
    missing = [column for column in spec.columns if column.field not in positions.values()]
    missing_required = [column.name for column in missing if column.required]
    if missing_required:
        raise ReadError(f"表头缺少必需的列：{'、'.join(missing_required)}")
    return positions, unknown


def _is_blank(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _blank_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows with no value in any cell (blank lines, rows of empty cells)."""
    blank = pd.Series(True, index=frame.index)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position][blank]
        if column.empty:
            break
        if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
            empty = column.isna() | column.fillna("").str.strip().eq("")
        else:
            empty = column.map(
                lambda cell: cell is None or (isinstance(cell, str) and not cell.strip())
            )
        blank.loc[empty.index] = empty.astype(bool)
    return blank


def _is_footer(cells: Sequence[object], patterns: Sequence[re.Pattern[str]]) -> bool:
    first = next((cell for cell in cells if cell is not None and str(cell).strip()), None)
    if first is None:
        return False
    text = header_key(first)
    return any(pattern.search(text) for pattern in patterns)


# Rows per table handed to validation: a large delivery is read, validated and staged a
# chunk at a time, so memory follows the chunk rather than the file.
CHUNK_ROWS = 250_000


class _Tables:
    """Data rows as tables of at most about ``CHUNK_ROWS`` rows, numbered on from 1 across
    the chunks, from bodies of cells as arrived (columns by position under ``header``)."""

    def __init__(self, spec: FeedSpec, header: Sequence[object]) -> None:
        self.spec = spec
        self.positions, unknown = _map_headers(spec, header)
        self.patterns = [re.compile(pattern) for pattern in spec.footer_patterns]
        self.original_headers = _unique(
            [
                str(cell).strip() if cell is not None else f"列{i + 1}"
                for i, cell in enumerate(header)
            ]
        )
        self.notes = [f"表头中有合同外的列，已忽略：{'、'.join(unknown)}"] if unknown else []

    def tables(self, bodies: Iterator[pd.DataFrame], *, skip: int = 0) -> Iterator[RawTable]:
        """One table per body; ``skip`` data rows already handed over are not again."""
        next_row, made = 1, False
        carried: pd.DataFrame | None = None
        bodies = iter(bodies)
        body = next(bodies, None)
        while body is not None:
            following = next(bodies, None)
            body = body.loc[~_blank_rows(body)]
            if carried is not None:
                body = pd.concat([carried, body])
            # Summary and signature lines close the sheet; only trailing ones are not data,
            # so those at a chunk's end wait for the next chunk to say which they are.
            end = len(body)
            while end and _is_footer(body.iloc[end - 1].tolist(), self.patterns):
                end -= 1
            carried = body.iloc[end:] if following is not None else None
            body = body.iloc[:end]
            if skip:
                dropped = min(skip, len(body))
                body, skip, next_row = body.iloc[dropped:], skip - dropped, next_row + dropped
            if len(body) or (following is None and not made):
                yield self._table(body, next_row)
                next_row, made = next_row + len(body), True
            body = following
        if not made:
            yield self._table(pd.DataFrame(columns=range(len(self.original_headers))), next_row)

    def _table(self, body: pd.DataFrame, first_row: int) -> RawTable:
        index = pd.RangeIndex(first_row, first_row + len(body), name="row")
        # Cells as objects (pandas would otherwise look at every cell to infer Arrow text).
        original = pd.DataFrame(
            {
                name: body.iloc[:, position].to_numpy(dtype=object)
                for position, name in enumerate(self.original_headers)
            },
            index=index,
            dtype=object,
            copy=False,
        )
        values = pd.DataFrame(index=index)
        for position, field_name in self.positions.items():
            values[field_name] = original.iloc[:, position]
        for column in self.spec.columns:
            if column.field not in values:
                values[column.field] = pd.Series(pd.NA, index=index, dtype="object")
        values = values[[column.field for column in self.spec.columns]]
        return RawTable(values=values, original=original, notes=self.notes)


def _body(rows: list[list[Any]], width: int) -> pd.DataFrame:
    """Cells by position, rows cut or padded to ``width``."""
    columns = list(zip(*(row[:width] + [None] * (width - len(row)) for row in rows), strict=True))
    if not columns:
        return pd.DataFrame(columns=range(width), dtype="object")
    return pd.DataFrame(
        {position: np.array(cells, dtype=object) for position, cells in enumerate(columns)},
        dtype=object,
        copy=False,
    )


def _batched_bodies(rows: Iterable[list[Any]], width: int, size: int) -> Iterator[pd.DataFrame]:
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield _body(batch, width)


def whole(tables: Iterable[RawTable]) -> RawTable:
    """The chunks of one delivery as one table."""
    parts = list(tables)
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return RawTable(
        values=pd.concat([part.values for part in parts]),
        original=pd.concat([part.original for part in parts]),
        encoding_read=first.encoding_read,
        notes=first.notes,
        label_field=first.label_field,
    )


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for header in headers:
        count = seen.get(header, 0)
        seen[header] = count + 1
        result.append(header if count == 0 else f"{header}#{count + 1}")
    return result


def _encoding_of(data: bytes, declared: str) -> str:
    """The encoding the bytes really have, judged without keeping the text.

    Valid UTF-8 is a strong signal (GBK text almost never is), so it is tried
    first whatever was declared; then GBK and GB18030 in declared order.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8"] + ([declared] if declared not in UTF8_FAMILY else [])
        candidates += [encoding for encoding in CHINESE_FAMILY if encoding not in candidates]
    block = 16 * 1024 * 1024
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            for start in range(0, len(data), block):
                decoder.decode(data[start : start + block])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            if encoding == "utf-8-sig":
                raise ReadError("文件无法按 UTF-8、GBK 或 GB18030 解码") from None
            continue
        return encoding
    raise ReadError("文件无法按 UTF-8、GBK 或 GB18030 解码")


def read_csv_chunks(
    spec: FeedSpec, data: bytes | Path, chunk_rows: int | None = None
) -> Iterator[RawTable]:
    """A CSV delivery in its declared encoding, or in the one it really has, a chunk of
    rows at a time."""
    assert spec.encoding is not None
    data = data.read_bytes() if isinstance(data, Path) else data
    actual = _encoding_of(data, spec.encoding)
    note = encoding_note(spec.encoding, actual, data)
    for table in _csv_tables(spec, data, actual, chunk_rows or CHUNK_ROWS):
        table.encoding_read = actual
        if note and note not in table.notes:
            table.notes = [note, *table.notes]
        yield table


def _csv_tables(spec: FeedSpec, data: bytes, encoding: str, size: int) -> Iterator[RawTable]:
    content = data[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else data
    # Blank (a full-width space is blank too, once decoded: only a short file can be).
    if not content.strip() or (len(content) < 4096 and not content.decode(encoding).strip()):
        # Nothing changed that day: no header, no rows.
        yield from _Tables(spec, [column.name for column in spec.columns]).tables(iter([]))
        return
    try:
        cells = pd.read_csv(
            io.BytesIO(data),
            encoding=encoding,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
            chunksize=size,
        )
    except pd.errors.EmptyDataError as error:
        raise ReadError("文件为空，没有表头") from error
    handed = 0
    try:
        first = next(cells, None)
        if first is None or first.empty:
            raise ReadError("文件为空，没有表头")
        header = [cell if isinstance(cell, str) else "" for cell in first.iloc[0].tolist()]

        def bodies() -> Iterator[pd.DataFrame]:
            for chunk in itertools.chain([first.iloc[1:]], cells):
                yield chunk.astype("object").set_axis(range(chunk.shape[1]), axis=1)

        for table in _Tables(spec, header).tables(bodies()):
            handed += len(table)
            yield table
    except pd.errors.EmptyDataError as error:
        raise ReadError("文件为空，没有表头") from error
    except pd.errors.ParserError:
        # Some rows are longer than the header: fine when the extra cells are empty. Read
        # again by the csv module, on from the rows already handed over.
        header, rows = _rows_with_trailing_blanks(data.decode(encoding))
        rest = _batched_bodies(rows, len(header), size)
        yield from _Tables(spec, header).tables(rest, skip=handed)


def read_csv(spec: FeedSpec, data: bytes | Path) -> RawTable:
    """A CSV delivery, whole (``read_csv_chunks`` reads it a chunk at a time)."""
    return whole(read_csv_chunks(spec, data))


def _rows_with_trailing_blanks(text: str) -> tuple[list[str], list[list[Any]]]:
    records = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    if not records:
        raise ReadError("文件为空，没有表头")
    header, rows = records[0], records[1:]
    for number, row in enumerate(rows, 2):
        if len(row) > len(header) and not _is_blank(row[len(header) :]):
            raise ReadError(f"第{number}行的字段数多于表头")
    return header, rows


def read_xlsx_chunks(
    spec: FeedSpec, data: bytes | Path, chunk_rows: int | None = None
) -> Iterator[RawTable]:
    """The registry's sheet of an XLSX delivery, a chunk of rows at a time; other sheets
    (说明) are ignored."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        if isinstance(data, Path):
            workbook = CalamineWorkbook.from_path(str(data))
        else:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, OSError, ValueError) as error:
        raise ReadError(f"无法打开 XLSX 文件：{type(error).__name__}") from error
    assert spec.sheet is not None
    names = {header_key(name): name for name in workbook.sheet_names}
    sheet_name = names.get(header_key(spec.sheet))
    if sheet_name is None:
        raise ReadError(f"找不到工作表“{spec.sheet}”（现有：{'、'.join(workbook.sheet_names)}）")
    sheet = workbook.get_sheet_by_name(sheet_name)
    # Rows come from the sheet's first row but its first used column: the empty columns
    # before it are padded, so that positions (and unnamed headers' 列N) are the sheet's.
    number, left = 0, (sheet.start[1] if sheet.start else 0)
    rows = sheet.iter_rows()
    header: list[Any] | None = None
    for row in rows:
        number += 1
        cells = [None] * left + [None if cell == "" else cell for cell in row]
        if not _is_blank(cells):
            header = cells
            break
    if header is None:
        raise ReadError(f"工作表“{spec.sheet}”为空，没有表头")
    while header and header[-1] is None:
        header = header[:-1]

    def bodies() -> Iterator[pd.DataFrame]:
        nonlocal number
        while batch := list(itertools.islice(rows, chunk_rows or CHUNK_ROWS)):
            yield _sheet_body(batch, left, len(header), number + 1)
            number += len(batch)

    yield from _Tables(spec, header).tables(bodies())


def _sheet_body(rows: list[list[Any]], left: int, width: int, first: int) -> pd.DataFrame:
    """Sheet rows (numbered from ``first``) as cells by position under a header of
    ``width`` cells, an empty cell as None; a value beyond the header is an error."""
    columns = list(itertools.zip_longest(*rows, fillvalue=""))
    body = {}
    for position in range(width):
        at = position - left
        if 0 <= at < len(columns):
            cells = np.array(columns[at], dtype=object)
            cells[cells == ""] = None
        else:
            cells = np.full(len(rows), None, dtype=object)
        body[position] = cells
    for at in range(max(width - left, 0), len(columns)):
        cells = np.array(columns[at], dtype=object)
        for offset in np.flatnonzero(cells != ""):
            if not _is_blank([cells[offset]]):
                raise ReadError(f"第{first + offset}行在表头以外的列中有值")
    return pd.DataFrame(body, index=pd.RangeIndex(len(rows)), dtype=object, copy=False)


def read_xlsx(spec: FeedSpec, data: bytes | Path) -> RawTable:
    """An XLSX delivery, whole (``read_xlsx_chunks`` reads it a chunk at a time)."""
    return whole(read_xlsx_chunks(spec, data))


def read_file_chunks(spec: FeedSpec, data: bytes) -> Iterator[RawTable]:
    """A delivery's bytes (the very bytes whose digest was checked) as tables of rows."""
    if spec.format == "csv":
        return read_csv_chunks(spec, data)
    if spec.format == "xlsx":
        return read_xlsx_chunks(spec, data)
    raise ValueError(f"{spec.feed} is not a file feed")


def read_file(spec: FeedSpec, data: bytes) -> RawTable:
    """A delivery's bytes as one table."""
    return whole(read_file_chunks(spec, data))


def table_from_query(spec: FeedSpec, frame: pd.DataFrame) -> RawTable:
    """Rows read from a database view, labelled by their key (the view has no row numbers)."""
    body = frame.astype("object").set_axis(range(frame.shape[1]), axis=1).reset_index(drop=True)
    table = next(_Tables(spec, list(frame.columns)).tables(iter([body])))
    table.label_field = spec.key[0]
    return table
