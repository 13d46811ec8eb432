"""Ingest one feed for a business date: find its deliveries, check them, read,
normalise and validate the new ones, and stage the result as Parquet.

This step never touches the warehouse's write lock: every feed writes only its
own folder under ``HOME/staging/<feed>/`` and its plan under
``HOME/runs/<date>/feeds/<feed>.json``, so feeds ingest in parallel processes.
A staged delivery is keyed by its content digest and the version of its
contract, so reading it again is skipped; whether it was *loaded* is the
warehouse's business (``warehouse/load.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.feeds import inbox as inbox_protocol
from pipeline.feeds import sql_source
from pipeline.feeds.readers import (
    RawTable,
    ReadError,
    quote_cause,
    read_file_chunks,
    table_from_query,
)
from pipeline.feeds.registry import FeedSpec
from pipeline.outbox import atomic_write_text
from pipeline.runs import RunFolder
from pipeline.settings import Settings
from pipeline.timings import stage
from pipeline.validation import expectations
from pipeline.validation.contract import RepeatedKeys, apply_contract
from pipeline.vocabulary import DeliveryStatus

log = logging.getLogger(__name__)

# Bump when reading or validation changes in a way that changes staged rows.
STAGING_VERSION = "1"


@dataclass
class DeliveryResult:
    """What ingest found for one delivery; becomes a manifest entry."""

    feed: str
    file: str
    date: str
    status: str  # staged | incomplete | rejected (the warehouse turns staged into loaded/unchanged)
    reason: str = ""
    sha256: str = ""
    marker_rows: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    # Of the rows quarantined, those only their ID number kept out that record linkage
    # matched to a registry member and the alerts use (pipeline/linkage/rows.py).
    rows_recovered: int = 0
    # Data rows of a delivery rejected whole: not read into the warehouse, not quarantined.
    rows_rejected: int = 0
    encoding: str | None = None
    staged: str | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class FeedPlan:
    feed: str
    business_date: str
    deliveries: list[DeliveryResult]
    # Set when the feed could not be looked at, e.g. a database that is not configured.
    unavailable: str = ""
    # Files in the feed's folder that are no delivery: {"file": name, "reason": why}.
    strays: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> FeedPlan:
        document = json.loads(text)
        deliveries = [DeliveryResult(**item) for item in document.pop("deliveries")]
        return cls(deliveries=deliveries, **document)


def contract_version(spec: FeedSpec) -> str:
    """Digest of everything that decides staged rows: the feed file, its suite, the code."""
    digest = hashlib.sha256(STAGING_VERSION.encode())
    digest.update(spec.model_dump_json().encode())
    digest.update(spec.suite_path.read_bytes())
    return digest.hexdigest()[:12]


def staging_folder(settings: Settings, spec: FeedSpec) -> Path:
    """The feed's staged deliveries, one folder each."""
    return settings.home.staging / spec.feed


def staged_dir(settings: Settings, spec: FeedSpec, delivery_date: date, sha256: str) -> Path:
    """Where a delivery is staged: by its date, its content and its contract's version."""
    return (
        staging_folder(settings, spec)
        / f"{delivery_date:%Y%m%d}_{sha256[:16]}_{contract_version(spec)}"
    )


def ingest_feed(spec: FeedSpec, settings: Settings, business_date: date) -> Path:
    """Ingest one feed for ``business_date``; returns the path of its plan."""
    if spec.is_file_feed:
        plan = _ingest_files(spec, settings, business_date)
    else:
        plan = _ingest_sql(spec, settings, business_date)
    path = RunFolder.of(settings.home, business_date).feed_plan(spec.feed)
    atomic_write_text(path, plan.to_json())
    return path


def _ingest_files(spec: FeedSpec, settings: Settings, business_date: date) -> FeedPlan:
    strays = inbox_protocol.stray_files(settings.inbox, spec)
    if strays:
        # File names are the sender's: the log gets the count, the manifest the names.
        log.warning("%s: %d file(s) in the feed's folder match no delivery", spec.feed, len(strays))
    results = []
    for delivery in inbox_protocol.find_deliveries(settings.inbox, spec, business_date):
        try:
            results.append(_ingest_file(spec, settings, delivery, business_date))
        except Exception as error:
            # One broken delivery never hides the feed's other deliveries. The message
            # may quote a value from the data: the log gets the type and the stack only.
            log.error(
                "%s %s: ingest failed with %s\n%s",
                spec.feed,
                delivery.path.name,
                type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            results.append(
                DeliveryResult(
                    feed=spec.feed,
                    file=delivery.path.name,
                    date=delivery.business_date.isoformat(),
                    status=DeliveryStatus.REJECTED,
                    reason=f"读取时发生内部错误（{type(error).__name__}），详见日志",
                )
            )
    return FeedPlan(
        spec.feed,
        business_date.isoformat(),
        results,
        strays=[{"file": name, "reason": reason} for name, reason in strays],
    )


def _ingest_file(
    spec: FeedSpec, settings: Settings, delivery: inbox_protocol.Delivery, business_date: date
) -> DeliveryResult:
    result = DeliveryResult(
        feed=spec.feed, file=delivery.path.name, date=delivery.business_date.isoformat(), status=""
    )
    if not delivery.is_complete:
        result.status, result.reason = (
            DeliveryStatus.INCOMPLETE,
            "数据文件已到，但缺少 .ok 标记（可能仍在写入），本次未读取",
        )
        return result
    try:
        marker = inbox_protocol.read_marker(delivery.marker_path)
    except inbox_protocol.MarkerError as error:
        result.status, result.reason = DeliveryStatus.REJECTED, str(error)
        return result
    result.marker_rows = marker.rows
    # Hash and read the same bytes: a re-delivery written meanwhile cannot slip in between.
    with stage("reading"):
        data = delivery.path.read_bytes()
        result.sha256 = inbox_protocol.sha256_bytes(data)
    if result.sha256 != marker.sha256:
        result.status = DeliveryStatus.REJECTED
        result.reason = "数据文件的 SHA-256 摘要与 .ok 标记不符（文件不完整或被改动），整批拒收"
        return result
    staged = staged_dir(settings, spec, delivery.business_date, result.sha256)

    def cause(read: DeliveryResult) -> str | None:
        # A quote left open makes several lines one row: name where it opens.
        if spec.format != "csv" or read.encoding is None:
            return None
        return quote_cause(data, read.encoding)

    cached = _cached(staged)
    if cached is not None:
        return _with_marker_check(cached, marker.rows, cause)
    try:
        _stage(
            spec,
            read_file_chunks(spec, data),
            result,
            lambda: staged,
            folder=staging_folder(settings, spec),
            today=delivery.business_date,
        )
    except ReadError as error:
        result.status, result.reason, result.notes = (
            DeliveryStatus.REJECTED,
            f"无法读取：{error}",
            [],
        )
        result.encoding = None
        result.rows_read = result.rows_loaded = result.rows_quarantined = result.rows_rejected = 0
        return result
    return _with_marker_check(result, marker.rows, cause)


def _with_marker_check(
    staged: DeliveryResult,
    marker_rows: int,
    cause: Callable[[DeliveryResult], str | None] | None = None,
) -> DeliveryResult:
    """The delivery as staged, unless its data rows are not as many as its marker says
    (which comes first: a file cut short may fail other checks too); ``cause`` says why
    the rows may be off, when it can tell."""
    staged.marker_rows = marker_rows
    rows = staged.rows_read if staged.status == DeliveryStatus.STAGED else staged.rows_rejected
    if staged.status in (DeliveryStatus.STAGED, DeliveryStatus.REJECTED) and rows != marker_rows:
        return _reject_row_count(staged, rows, marker_rows, cause(staged) if cause else None)
    return staged


def _reject_row_count(
    result: DeliveryResult, rows: int, marker_rows: int, cause: str | None = None
) -> DeliveryResult:
    result.status, result.staged = DeliveryStatus.REJECTED, None
    result.reason = f"数据行数 {rows} 与 .ok 标记 rows={marker_rows} 不符，整批拒收"
    if cause:
        result.reason += f"：{cause}"
    result.rows_rejected, result.rows_read, result.rows_loaded, result.rows_quarantined = (
        rows,
        0,
        0,
        0,
    )
    return result


def _cached(staged: Path) -> DeliveryResult | None:
    summary = staged / "result.json"
    if not summary.is_file():
        return None
    document = json.loads(summary.read_text(encoding="utf-8"))
    return DeliveryResult(**document)


def _stage(
    spec: FeedSpec,
    tables: Iterable[RawTable],
    result: DeliveryResult,
    destination: Callable[[], Path],
    *,
    folder: Path,
    today: date,
) -> None:
    """Validate the rows read and write the staged delivery whole or not at all, in
    ``folder``, under the name ``destination`` gives once every chunk is read (a view's
    digest is known only then); a large delivery comes as chunks, read, validated and
    written one after another."""
    # A folder of its own: two runs staging the same delivery never meet half-way.
    temporary = folder / f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.mkdir(parents=True)
    try:
        _validate_and_stage(spec, _timed_reads(tables, result), result, temporary, today=today)
        staged = destination()
        if result.status == DeliveryStatus.STAGED:
            result.staged = str(staged)
        (temporary / "result.json").write_text(
            json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8"
        )
        shutil.rmtree(staged, ignore_errors=True)
        temporary.rename(staged)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    log.info(
        "%s %s: %s, read %d, loaded %d, quarantined %d",
        spec.feed,
        result.file,
        result.status,
        result.rows_read,
        result.rows_loaded,
        result.rows_quarantined,
    )


def _timed_reads(tables: Iterable[RawTable], result: DeliveryResult) -> Iterator[RawTable]:
    """The chunks as read, their reading timed apart from their validation."""
    chunks = iter(tables)
    read_s = 0.0
    while True:
        started = time.perf_counter()
        with stage("reading"):
            table = next(chunks, None)
        read_s += time.perf_counter() - started
        result.timings["read_s"] = round(read_s, 3)
        if table is None:
            return
        yield table


def _arrow_schemas(spec: FeedSpec) -> tuple[pa.Schema, pa.Schema]:
    """The staged rows' and quarantine's Parquet schemas: the same for every chunk."""
    types = {"date": pa.date32(), "amount": pa.float64(), "integer": pa.int64()}
    rows = pa.schema(
        [
            ("source_file", pa.string()),
            ("source_row", pa.int64()),
            *((column.field, types.get(column.type, pa.string())) for column in spec.columns),
        ]
    )
    quarantine = pa.schema([(name, pa.string()) for name in QUARANTINE_COLUMNS])
    return rows, quarantine


QUARANTINE_COLUMNS = ("feed", "file", "row", "reason", "raw")


def _validate_and_stage(
    spec: FeedSpec,
    tables: Iterable[RawTable],
    result: DeliveryResult,
    folder: Path,
    *,
    today: date,
) -> None:
    """Row by row checks chunk by chunk; the whole-delivery checks (row count, share of
    missing or repeated values) once, on the columns they read, kept from every chunk."""
    validate_s = stage_s = 0.0
    rows_schema, quarantine_schema = _arrow_schemas(spec)
    result.status, result.notes = DeliveryStatus.STAGED, []
    rows_read = rows_quarantined = 0
    repeated_keys = RepeatedKeys(spec, numbered=spec.is_file_feed)
    delivery_columns = expectations.delivery_columns(spec.suite_path)
    kept_for_delivery: list[pd.DataFrame] = []
    with (
        pq.ParquetWriter(folder / "rows.parquet", rows_schema) as rows_file,
        pq.ParquetWriter(folder / "quarantine.parquet", quarantine_schema) as quarantine_file,
    ):
        for table in tables:
            rows_read += len(table)
            with stage("validation"):
                started = time.perf_counter()
                contract = apply_contract(spec, table.values, today=today)
                kept_for_delivery.append(_compact(contract.frame, delivery_columns))
                outcome = expectations.validate_rows(spec.suite_path, contract.frame)
                reasons = _join(contract.reasons, outcome.row_reasons)
                repeats = repeated_keys.reasons(contract.frame[reasons == ""])
                reasons.loc[repeats[repeats != ""].index] = repeats[repeats != ""]
                validate_s += time.perf_counter() - started
                result.encoding = table.encoding_read
                for note in table.notes:
                    if note not in result.notes:
                        result.notes.append(note)
                started = time.perf_counter()
                rows_quarantined += _write_chunk(
                    spec, table, contract.frame, reasons, result.file, rows_file, quarantine_file
                )
                stage_s += time.perf_counter() - started
        with stage("validation"):
            started = time.perf_counter()
            delivery = pd.concat(kept_for_delivery) if kept_for_delivery else pd.DataFrame()
            kept_for_delivery.clear()
            outcome = expectations.validate_delivery(spec.suite_path, delivery)
            validate_s += time.perf_counter() - started
    result.notes += [flag for flag in outcome.flags if flag not in result.notes]
    if outcome.rejected:
        result.status, result.reason = DeliveryStatus.REJECTED, outcome.rejected
    if result.status == DeliveryStatus.REJECTED:
        result.rows_rejected = rows_read
        for name in ("rows.parquet", "quarantine.parquet"):
            (folder / name).unlink()
    else:
        result.rows_read, result.rows_quarantined = rows_read, rows_quarantined
        result.rows_loaded = rows_read - rows_quarantined
    result.timings["validate_s"] = round(validate_s, 3)
    result.timings["stage_s"] = round(stage_s, 3)


def _compact(frame: pd.DataFrame, columns: tuple[str, ...] | None) -> pd.DataFrame:
    """The typed columns the whole-delivery checks read, text held as Arrow strings (a
    third of Python's objects) until the last chunk is in."""
    # A suite whose whole-delivery checks read no column (a row count) still needs the rows.
    kept = frame[list(columns) or list(frame.columns[:1])] if columns is not None else frame
    text = [
        name
        for name in kept.columns
        if kept[name].dtype == object
        and pd.api.types.infer_dtype(kept[name], skipna=True) in ("string", "empty")
    ]
    return kept.astype(dict.fromkeys(text, "str"), copy=True)


def _write_chunk(
    spec: FeedSpec,
    table: RawTable,
    typed: pd.DataFrame,
    reasons: pd.Series,
    file: str,
    rows_file: pq.ParquetWriter,
    quarantine_file: pq.ParquetWriter,
) -> int:
    """A chunk's loadable rows and its quarantine into the staged Parquet files; returns
    the number of rows quarantined."""
    kept = reasons[reasons == ""].index
    rows = typed_for_parquet(spec, typed.loc[kept, [column.field for column in spec.columns]])
    rows.insert(0, "source_row", _source_rows(spec, kept))
    rows.insert(0, "source_file", file)
    rows_file.write_table(pa.Table.from_pandas(rows, schema=rows_file.schema, preserve_index=False))
    bad_index = reasons[reasons != ""].index
    quarantine = pd.DataFrame(
        {
            "feed": spec.feed,
            "file": file,
            "row": table.labels(bad_index),
            "reason": reasons.loc[bad_index].to_numpy(),
            "raw": table.raw_json(bad_index),
        },
        columns=list(QUARANTINE_COLUMNS),
    )
    quarantine_file.write_table(
        pa.Table.from_pandas(quarantine, schema=quarantine_file.schema, preserve_index=False)
    )
    return len(bad_index)


def _query_table(spec: FeedSpec, frame: pd.DataFrame) -> RawTable:
    with stage("reading"):
        return table_from_query(spec, frame)


def _source_rows(spec: FeedSpec, kept: pd.Index) -> pd.Series:
    """Data row numbers of the rows kept; a database view has none (its key is the lineage)."""
    if spec.is_file_feed:
        return pd.Series(kept.to_numpy(), dtype="Int64")
    return pd.Series(pd.NA, index=range(len(kept)), dtype="Int64")


def typed_for_parquet(spec: FeedSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """The contract's typed columns as Arrow takes them: dates as datetime64 (Arrow makes
    them date32), text as Python strings (Arrow's string), numbers as numbers."""
    for column in spec.columns:
        values = rows[column.field]
        if column.type == "date":
            rows[column.field] = pd.to_datetime(values)
        elif column.type in ("amount",):
            rows[column.field] = values.astype("float64")
        elif column.type == "integer":
            rows[column.field] = values.astype("Int64")
    return rows.reset_index(drop=True)


def _join(first: pd.Series, second: pd.Series) -> pd.Series:
    both = first.str.cat(second, sep="；")
    return both.str.strip("；")


def _staged_for(settings: Settings, spec: FeedSpec, business_date: date) -> bool:
    """Whether a reading of ``business_date`` is staged under the feed's contract."""
    folder = staging_folder(settings, spec)
    pattern = f"{business_date:%Y%m%d}_*_{contract_version(spec)}/result.json"
    return folder.is_dir() and any(folder.glob(pattern))


def _ingest_sql(spec: FeedSpec, settings: Settings, business_date: date) -> FeedPlan:
    assert spec.sql is not None
    plan = FeedPlan(spec.feed, business_date.isoformat(), [])
    url = settings.database_url(spec.sql.url_setting)
    if not url:
        plan.unavailable = (
            f"未配置数据库连接 {spec.sql.url_setting}（HOME/config.yaml 或环境变量 "
            f"PIPELINE_{spec.sql.url_setting.upper()}）"
        )
        return plan
    from pipeline.warehouse.ledger import last_delivery_before

    last = last_delivery_before(settings.home, spec.feed, business_date)
    window = sql_source.window_for(spec, business_date, last)
    result = DeliveryResult(
        feed=spec.feed,
        file=f"{spec.sql.view} {window.describe()}",
        date=business_date.isoformat(),
        status="",
    )
    try:
        plan.deliveries.append(_read_view(spec, settings, business_date, str(url), window, result))
    except sql_source.ViewMismatch as error:
        # The database answered: no retry mends this. A view short of columns is a
        # delivery of the wrong shape (rejected); no view at all, no delivery (missing).
        log.warning("%s: %s", spec.feed, error)
        if error.missing_columns:
            plan.deliveries.append(
                DeliveryResult(
                    feed=result.feed,
                    file=result.file,
                    date=result.date,
                    status=DeliveryStatus.REJECTED,
                    reason=str(error),
                )
            )
        else:
            plan.unavailable = str(error)
    return plan


def _read_view(
    spec: FeedSpec,
    settings: Settings,
    business_date: date,
    url: str,
    window: sql_source.Window,
    result: DeliveryResult,
) -> DeliveryResult:
    """The view's rows in ``window`` staged into ``result``, or what this date's last
    reading staged when the rows are unchanged since."""
    digest = sql_source.Digest([column.name for column in spec.columns])
    chunks: Iterable[pd.DataFrame] | None = None
    known: str | None = None
    if _staged_for(settings, spec, business_date):
        # This date was read before: its digest first, and nothing more if it is unchanged.
        started = time.perf_counter()
        with stage("reading"):
            known, frames = sql_source.digest_window(spec, url, window)
        result.timings["digest_s"] = round(time.perf_counter() - started, 3)
        cached = _cached(staged_dir(settings, spec, business_date, known))
        if cached is not None:
            return cached
        if frames is not None:
            # New rows, in one chunk: staged from that reading (else read again).
            chunks, digest = frames, sql_source.Digest.known(known)
    if chunks is None:
        # A first reading of this date (each morning's) is read once, staged as it comes.
        chunks = sql_source.read_window_chunks(spec, url, window, digest=digest)

    def tables() -> Iterator[RawTable]:
        assert chunks is not None
        for frame in chunks:
            yield _query_table(spec, frame)

    def by_digest() -> Path:
        result.sha256 = digest.hexdigest()
        if known is not None and result.sha256 != known:
            log.warning(
                "%s: the view's rows came otherwise the second time (changed, or in another "
                "order); staged as read the second time",
                spec.feed,
            )
        return staged_dir(settings, spec, business_date, result.sha256)

    _stage(
        spec,
        tables(),
        result,
        by_digest,
        folder=staging_folder(settings, spec),
        today=business_date,
    )
    return result
