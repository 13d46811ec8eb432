"""Files for users appear whole or not at all: written under a temporary name, then renamed."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pandas as pd

from pipeline.safe_text import csv_safe


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> str:
    """Write ``data`` to ``path`` atomically; returns its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Created with its final mode: a file of personal data is never readable by others.
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644 if mode is None else mode
    )
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    if mode is not None:
        temporary.chmod(mode)  # the umask may have taken bits away; never added any
    os.replace(temporary, path)
    return hashlib.sha256(data).hexdigest()


def atomic_write_text(
    path: Path, text: str, *, encoding: str = "utf-8", mode: int | None = None
) -> str:
    return atomic_write_bytes(path, text.encode(encoding), mode=mode)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A CSV for users: UTF-8 with BOM, so that Excel opens it; no text field of it is
    taken for a formula (``csv_safe``)."""
    buffer = io.StringIO()
    csv_safe(frame).to_csv(buffer, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    return buffer.getvalue().encode("utf-8-sig")
