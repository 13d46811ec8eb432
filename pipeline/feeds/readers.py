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
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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
# Office's compound file (OLE2): a legacy .xls, and also an .xlsx saved with a password.
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


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


def map_headers(spec: FeedSpec, headers: Sequence[object]) -> tuple[dict[int, str], list[str]]:
    """Position of each registry field in the header row; unknown headers for the notes."""
    wanted: dict[str, str] = {}
    for column in spec.columns:
        for name in (column.name, *column.aliases):
            wanted[header_key(name)] = column.field
    positions: dict[int, str] = {}
    taken: dict[str, int] = {}
    unknown = []
    for position, header in enumerate(headers):
        if header is None or not str(header).strip():
            continue
        found = next((wanted[key] for key in header_keys(header) if key in wanted), None)
        if found is None:
            unknown.append(str(header).strip())
        elif found in taken:
            raise ReadError(_twice(spec, found, headers, taken[found], position))
        else:
            positions[position] = found
            taken[found] = position
    missing = [column for column in spec.columns if column.field not in positions.values()]
    missing_required = [column.name for column in missing if column.required]
    if missing_required:
        raise ReadError(f"表头缺少必需的列：{'、'.join(missing_required)}")
    return positions, unknown


def _twice(
    spec: FeedSpec, field_name: str, headers: Sequence[object], first: int, second: int
) -> str:
    """The reason for a header that names one field twice. Either column may hold the right
    values (an ID number column pasted twice, one of them edited): rather than guess, the
    delivery is rejected."""
    name = next(column.name for column in spec.columns if column.field == field_name)
    one, other = str(headers[first]).strip(), str(headers[second]).strip()
    if header_key(one) == header_key(other):
        which = f"“{one}”出现了两次（第{first + 1}列和第{second + 1}列）"
    else:
        which = f"第{first + 1}列“{one}”和第{second + 1}列“{other}”都是合同中的“{name}”"
    return f"表头中{which}，无法判断应使用哪一列，整批拒收（删去多余的一列后重新交付即可）"


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
        self.positions, unknown = map_headers(spec, header)
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
    """The chunks of one delivery as one table (to look at a small delivery whole)."""
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


def _is_utf16_text(data: bytes) -> bool:
    """A UTF-16 byte order mark, then text with a delimiter or a line break (two bytes
    0xFF 0xFE alone could begin anything)."""
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    head = data[:4096].decode("utf-16", errors="ignore")
    return any(mark in head for mark in ",\t\r\n")


def _encoding_of(data: bytes, declared: str) -> str:
    """The encoding the bytes really have, judged without keeping the text.

    A byte order mark settles it (UTF-8 or UTF-16). Otherwise valid UTF-8 is a
    strong signal (GBK text almost never is), so it is tried first whatever was
    declared; then GBK and GB18030 in declared order.
    """
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif _is_utf16_text(data):
        # Excel's "Unicode text": the BOM says UTF-16 and its byte order, nothing to guess.
        candidates = ["utf-16"]
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
            if encoding == "utf-16":
                raise ReadError(
                    "文件开头是 UTF-16 的字节顺序标记，但内容无法按 UTF-16 解码"
                ) from None
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
        if spec.kind == "snapshot":
            # A snapshot lists everything in force: a file without even a header is a
            # failed export, not a day without rows.
            what = "为空（0 字节）" if not data else "只有空白字符"
            raise ReadError(
                f"文件{what}，连表头也没有：全量快照不能是空文件（没有数据时也应有表头行）"
            )
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
    except pd.errors.ParserError as error:
        if "EOF inside string" in str(error):
            raise ReadError(_unclosed_quote(data.decode(encoding))) from None
        # Some rows are longer than the header: fine when the extra cells are empty. Read
        # again by the csv module, on from the rows already handed over.
        header, rows = _rows_with_trailing_blanks(data.decode(encoding))
        rest = _batched_bodies(rows, len(header), size)
        yield from _Tables(spec, header).tables(rest, skip=handed)


@contextmanager
def _field_limit(size: int) -> Iterator[None]:
    """csv's limit on a field's length lifted to ``size`` for a while: a quote left open
    swallows the rest of the file into one field."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, size + 1))
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def _record_lines(text: str) -> Iterator[tuple[int, int]]:
    """The first and last line (from 1) of every record of a CSV text: a record runs over
    several lines when a quote opened on its first line closes only on its last."""
    reader = csv.reader(io.StringIO(text, newline=""))
    previous = 0
    try:
        for _ in reader:
            yield previous + 1, reader.line_num
            previous = reader.line_num
    except csv.Error:
        return


def _unclosed_quote(text: str) -> str:
    """The reason for a CSV that ends inside a quoted value: the line where the quote opens."""
    with _field_limit(len(text)):
        last = deque(_record_lines(text), maxlen=1)
    where = f"第{last[0][0]}行的" if last else ""
    return f"{where}引号未闭合，其后直到文件末尾都被读成了一个值"


def quote_cause(data: bytes, encoding: str) -> str | None:
    """Why a CSV's data rows may be fewer than its marker says: the first record that runs
    over several lines (a quote not closed on its own line), or None."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    with _field_limit(len(text)):
        for first, last in _record_lines(text):
            if last > first:
                return (
                    f"第{first}行的引号直到第{last}行才闭合，第{first}至{last}行被读成了一行"
                    "（引号可能未闭合）"
                )
    return None


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
        try:
            content = data.read_bytes() if isinstance(data, Path) else data
        except OSError:
            raise ReadError(f"无法打开 XLSX 文件：{type(error).__name__}") from error
        raise ReadError(f"无法打开 XLSX 文件：{not_a_workbook(content)}") from error
    assert spec.sheet is not None
    names = {header_key(name): name for name in workbook.sheet_names}
    sheet_name = names.get(header_key(spec.sheet))
    if sheet_name is None:
        raise ReadError(f"找不到工作表“{spec.sheet}”（现有：{'、'.join(workbook.sheet_names)}）")

    def damaged(error: Exception) -> ReadError:
        # The archive opened, but a part of it does not unpack or parse (cut or corrupted).
        return ReadError(
            f"无法打开 XLSX 文件：文件不完整或已损坏（工作表“{spec.sheet}”无法解读："
            f"{type(error).__name__}），请重新导出后交付"
        )

    def next_rows(size: int) -> list[list[Any]]:
        try:
            return list(itertools.islice(rows, size))
        except CalamineError as error:
            raise damaged(error) from error

    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
    except CalamineError as error:
        raise damaged(error) from error
    # Rows come from the sheet's first row but its first used column: the empty columns
    # before it are padded, so that positions (and unnamed headers' 列N) are the sheet's.
    number, left = 0, (sheet.start[1] if sheet.start else 0)
    rows = sheet.iter_rows()
    header: list[Any] | None = None
    while above := next_rows(1):
        number += 1
        cells = [None] * left + [None if cell == "" else cell for cell in above[0]]
        if not _is_blank(cells):
            header = cells
            break
    if header is None:
        raise ReadError(f"工作表“{spec.sheet}”为空，没有表头")
    while header and header[-1] is None:
        header = header[:-1]

    def bodies() -> Iterator[pd.DataFrame]:
        nonlocal number
        while batch := next_rows(chunk_rows or CHUNK_ROWS):
            yield _sheet_body(batch, left, len(header), number + 1)
            number += len(batch)

    yield from _Tables(spec, header).tables(bodies())


def _looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file are text (a CSV, an HTML page) in an encoding a
    department uses; a character cut at the end of ``head`` does not count against it."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\0" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)(errors="strict").decode(head)
        except UnicodeDecodeError:
            continue
        return True
    return False


def not_a_workbook(data: bytes) -> str:
    """Why bytes delivered as an XLSX workbook cannot be opened, in words a sender can act
    on: empty, really a CSV or a web page, cut short, a legacy .xls, or encrypted."""
    if not data:
        return "文件为空（0 字节）"
    if data.startswith(OLE2_SIGNATURE):
        # Streams are named in UTF-16 in the compound file's directory.
        if "EncryptedPackage".encode("utf-16-le") in data:
            return "文件已加密（设有打开密码），请取消密码后重新导出交付"
        if any(name.encode("utf-16-le") in data for name in ("Workbook", "Book")):
            return "是旧版 .xls 文件（Excel 97-2003 格式），请另存为 .xlsx 后重新交付"
        return "不是 XLSX 文件（是其他格式的 Office 文档）"
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "xl/workbook.xml" not in {name.lower() for name in archive.namelist()}:
                    return "不是 XLSX 文件（压缩包中没有 Excel 工作簿）"
                try:
                    broken = archive.testzip() is not None
                except (zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
                    broken = True
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            # The archive's directory is at its end: a file cut short has none.
            return "文件不完整（ZIP 压缩包被截断或已损坏），请重新交付"
        if broken:
            return "文件不完整（压缩包中的部分内容已损坏），请重新交付"
        return "文件已损坏（工作簿结构无法识别），请重新导出后交付"
    head = data[:4096]
    if _looks_like_text(head):
        if re.search(rb"<\s*(html|table)\b", head, re.IGNORECASE):
            return "不是 XLSX 文件（内容是网页表格 HTML，可能是系统导出的“伪 Excel”文件）"
        return "不是 XLSX 文件（内容是文本，可能是改了扩展名的 CSV）"
    return "不是 XLSX 文件（无法识别的文件格式）"


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


def read_file_chunks(spec: FeedSpec, data: bytes) -> Iterator[RawTable]:
    """A delivery's bytes (the very bytes whose digest was checked) as tables of rows."""
    if spec.format == "csv":
        return read_csv_chunks(spec, data)
    if spec.format == "xlsx":
        return read_xlsx_chunks(spec, data)
    raise ValueError(f"{spec.feed} is not a file feed")


def table_from_query(spec: FeedSpec, frame: pd.DataFrame) -> RawTable:
    """Rows read from a database view, labelled by their key (the view has no row numbers)."""
    body = frame.astype("object").set_axis(range(frame.shape[1]), axis=1).reset_index(drop=True)
    table = next(_Tables(spec, list(frame.columns)).tables(iter([body])))
    table.label_field = spec.key[0]
    return table
