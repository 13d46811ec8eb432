"""The delivery protocol of the inbox: ``<inbox>/<feed>/<feed>_<YYYYMMDD>.<ext>`` + ``.ok``.

A delivery is complete only when its marker exists. The marker holds two
lines, ``rows=<N>`` and ``sha256=<hex>``; N counts data rows only.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.feeds.registry import FeedSpec
from pipeline.settings import SettingsError

MARKER_SUFFIX = ".ok"


class InboxMissing(SettingsError):
    """The inbox folder itself is not there (a failed mount, a wrong path): the day cannot
    be processed at all, rather than every department counted as not delivering."""


def require_inbox(inbox: Path) -> None:
    """Refuse to go on without the inbox folder; the message is the one line for stderr."""
    if not inbox.is_dir():
        what = "不是文件夹" if inbox.exists() else "不存在"
        raise InboxMissing(
            f"收件箱 {inbox} {what}（挂载失败或路径有误？）：本日未处理，"
            "各部门的交付无从读取；恢复后重新运行该日期即可"
        )


@dataclass(frozen=True)
class Marker:
    rows: int
    sha256: str


class MarkerError(ValueError):
    """A marker that cannot be read; the delivery is rejected with this reason."""


@dataclass(frozen=True)
class Delivery:
    """One data file of a feed, dated by the business date it covers."""

    feed: str
    path: Path
    business_date: date

    @property
    def marker_path(self) -> Path:
        return self.path.with_name(self.path.name + MARKER_SUFFIX)

    @property
    def is_complete(self) -> bool:
        return self.marker_path.is_file()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_marker(path: Path) -> Marker:
    """Parse a marker file; any other shape is a broken delivery."""
    fields: dict[str, str] = {}
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise MarkerError(f"标记文件格式错误：无法识别的行 {line.strip()[:40]!r}")
        fields[name.strip().lower()] = value.strip()
    try:
        rows = int(fields["rows"])
        digest = fields["sha256"].lower()
    except (KeyError, ValueError) as error:
        raise MarkerError("标记文件格式错误：应包含 rows=<行数> 和 sha256=<摘要> 两行") from error
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise MarkerError("标记文件格式错误：sha256 不是64位十六进制摘要")
    return Marker(rows=rows, sha256=digest)


def write_marker(data_path: Path, rows: int) -> Path:
    """Write the ``.ok`` marker for a finished data file, as senders do (last)."""
    marker = data_path.with_name(data_path.name + MARKER_SUFFIX)
    temporary = marker.with_name(marker.name + ".tmp")
    temporary.write_text(f"rows={rows}\nsha256={sha256_of(data_path)}\n", encoding="utf-8")
    os.replace(temporary, marker)
    return marker


def delivery_path(inbox: Path, spec: FeedSpec, business_date: date) -> Path:
    return inbox / spec.feed / f"{spec.feed}_{business_date:%Y%m%d}.{spec.file_extension}"


def _name_pattern(spec: FeedSpec) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(spec.feed)}_(\d{{8}})\.{spec.file_extension}$", re.IGNORECASE)


def _date_in_name(digits: str) -> date | None:
    try:
        return datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        return None


def find_deliveries(inbox: Path, spec: FeedSpec, up_to: date) -> list[Delivery]:
    """Every data file of a feed dated up to ``up_to``, oldest first (markers not checked)."""
    folder = inbox / spec.feed
    if not folder.is_dir():
        return []
    pattern = _name_pattern(spec)
    found = []
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if not match or not path.is_file():
            continue
        dated = _date_in_name(match.group(1))
        if dated is not None and dated <= up_to:
            found.append(Delivery(spec.feed, path, dated))
    return sorted(found, key=lambda delivery: delivery.business_date)


def stray_files(inbox: Path, spec: FeedSpec) -> list[tuple[str, str]]:
    """Files in a feed's folder that are no delivery, by name, each with why: a misnamed
    file, an impossible date in the name, a marker without its data file. Subfolders and
    hidden files (``.DS_Store``, an NFS ``.nfs…``) are the file system's, not a sender's."""
    folder = inbox / spec.feed
    if not folder.is_dir():
        return []
    pattern = _name_pattern(spec)
    expected = f"{spec.feed}_YYYYMMDD.{spec.file_extension}"
    strays = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or not path.is_file():
            continue
        is_marker = name.endswith(MARKER_SUFFIX)
        data_name = name.removesuffix(MARKER_SUFFIX) if is_marker else name
        match = pattern.match(data_name)
        if match is None:
            strays.append((name, f"文件名不符合约定（应为 {expected} 及其 {MARKER_SUFFIX} 标记）"))
        elif _date_in_name(match.group(1)) is None:
            strays.append((name, f"文件名中的日期 {match.group(1)} 不存在"))
        elif is_marker and not (folder / data_name).is_file():
            strays.append((name, f"只有 {MARKER_SUFFIX} 标记，没有数据文件 {data_name}"))
    return strays
