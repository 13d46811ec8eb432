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

MARKER_SUFFIX = ".ok"


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


def find_deliveries(inbox: Path, spec: FeedSpec, up_to: date) -> list[Delivery]:
    """Every data file of a feed dated up to ``up_to``, oldest first (markers not checked)."""
    folder = inbox / spec.feed
    if not folder.is_dir():
        return []
    pattern = re.compile(
        rf"^{re.escape(spec.feed)}_(\d{{8}})\.{spec.file_extension}$", re.IGNORECASE
    )
    found = []
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if not match or not path.is_file():
            continue
        try:
            dated = datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        if dated <= up_to:
            found.append(Delivery(spec.feed, path, dated))
    return sorted(found, key=lambda delivery: delivery.business_date)
