"""Deliveries read a chunk of rows at a time: the chunk size changes nothing a user sees,
neither the rows read nor what is quarantined or rejected."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import pipeline.feeds.readers as readers
from pipeline.feeds.inbox import write_marker
from pipeline.feeds.readers import ReadError, read_csv_chunks, read_xlsx_chunks, whole
from pipeline.ingest import DeliveryResult, FeedPlan, ingest_feed
from pipeline.settings import load_settings
from tests.conftest import person_id, write_delivery

D1 = date(2026, 3, 1)
WHOLE = 1_000_000  # one chunk for every delivery here
READERS = {"hrss_employment": read_csv_chunks, "housing_safety": read_xlsx_chunks}
MISSING_IDS = "批次校验未通过：身份证号超过20%为空或无法识别，疑似导出格式变化"


def data_row(feed: str, sequence: int, *, id_number: str | None = None) -> list[object]:
    """A valid row of ``feed`` (hrss_employment: CSV, housing_safety: XLSX), column order."""
    id_number = person_id(sequence) if id_number is None else id_number
    if feed == "hrss_employment":
        return [id_number, f"测试{sequence}", "失业登记", "", "", "2026-03-01"]
    return [id_number, f"户主{sequence}", "梅村村一组", "C级", "2026-02-01", "未改造"]


def cells(table: readers.RawTable) -> tuple[object, ...]:
    """What a table tells: row numbers, values and cells as arrived (missing as None),
    labels, notes and encoding."""

    def rows(frame: pd.DataFrame) -> list[list[object]]:
        return frame.astype(object).where(frame.notna(), None).to_numpy().tolist()

    return (
        list(table.values.index),
        list(table.values.columns),
        rows(table.values),
        list(table.original.columns),
        rows(table.original),
        table.labels(table.values.index),
        table.notes,
        table.encoding_read,
    )


def ingest(tmp_path: Path, monkeypatch, feed_spec, chunk_rows: int) -> DeliveryResult:
    """The delivery in ``tmp_path/inbox`` ingested into a HOME of its own, read
    ``chunk_rows`` rows at a time."""
    monkeypatch.setattr(readers, "CHUNK_ROWS", chunk_rows)
    settings = load_settings(tmp_path / f"home_{chunk_rows}", tmp_path / "inbox")
    plan = FeedPlan.from_json(ingest_feed(feed_spec, settings, D1).read_text(encoding="utf-8"))
    (delivery,) = plan.deliveries
    return delivery


def staged(delivery: DeliveryResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    assert delivery.staged is not None
    folder = Path(delivery.staged)
    return pd.read_parquet(folder / "rows.parquet"), pd.read_parquet(folder / "quarantine.parquet")


@pytest.mark.parametrize("feed", ["hrss_employment", "housing_safety"])
def test_blank_rows_and_footers_read_the_same_in_chunks_of_any_size(tmp_path, registry, feed):
    spec = registry[feed]
    blank: list[object] = [None] * 7
    # A data row whose first cell reads like a footer: data, wherever the chunks end.
    footer_like = ["合计", "某某", *data_row(feed, 9)[2:], "中间"]
    rows = [
        [*data_row(feed, 1), "甲"],
        [*data_row(feed, 2), None],
        blank,
        [*data_row(feed, 3), None],
        footer_like,
        blank,
        blank,
        [*data_row(feed, 4), None],
        [*data_row(feed, 5), "乙"],
    ]
    footer = [
        ["合计", "5条", None, None, None, None, None],
        blank,
        ["制表人：李四    审核人：王五    日期：2026年3月5日", None, None, None, None, None, None],
        blank,
    ]
    header = [column.name for column in spec.columns] + ["备注"]
    # The CSV comes in GBK, though the feed declares UTF-8 (XLSX has no encoding).
    encoding = "gbk" if spec.format == "csv" else None
    path = write_delivery(tmp_path, spec, D1, rows, header=header, footer=footer, encoding=encoding)
    read = READERS[feed]

    at_once = whole(read(spec, path, chunk_rows=WHOLE))

    assert list(at_once.values.index) == [1, 2, 3, 4, 5, 6]
    assert at_once.values["name" if feed == "hrss_employment" else "head_name"].tolist() == [
        data_row(feed, n)[1] for n in (1, 2, 3)
    ] + ["某某"] + [data_row(feed, n)[1] for n in (4, 5)]
    assert "表头中有合同外的列，已忽略：备注" in at_once.notes
    if feed == "hrss_employment":
        assert at_once.encoding_read == "gbk"
        assert "文件编码与约定不符：约定 UTF-8，实际按 GBK 读取" in at_once.notes
    # Every row (the 合计 data row, each footer line) ends a chunk for one of these sizes.
    for chunk_rows in range(1, len(rows) + len(footer) + 2):
        chunks = list(read(spec, path, chunk_rows=chunk_rows))
        if chunk_rows <= 3:
            assert len(chunks) > 1
        assert cells(whole(chunks)) == cells(at_once), f"chunk_rows={chunk_rows}"


def csv_lines(spec, lines: list[str]) -> bytes:
    header = ",".join(column.name for column in spec.columns)
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def hrss_line(sequence: int, extra: str = "") -> str:
    return ",".join(data_row("hrss_employment", sequence)) + extra


def test_later_row_with_extra_empty_cells_reads_the_same_in_chunks(registry):
    spec = registry["hrss_employment"]
    lines = [hrss_line(n) for n in range(1, 5)] + [hrss_line(5, ",,"), hrss_line(6)]
    data = csv_lines(spec, [*lines, "", "合计,6人,,,,,,", "制表人：李四,,,,,,,"])

    at_once = whole(read_csv_chunks(spec, data, chunk_rows=WHOLE))

    assert list(at_once.values.index) == [1, 2, 3, 4, 5, 6]
    assert at_once.values.loc[5, "name"] == "测试5"
    for chunk_rows in range(1, 12):
        chunks = read_csv_chunks(spec, data, chunk_rows=chunk_rows)
        assert cells(whole(chunks)) == cells(at_once), f"chunk_rows={chunk_rows}"


def test_later_row_with_an_extra_value_is_unreadable_with_its_row_number(registry):
    spec = registry["hrss_employment"]
    lines = [hrss_line(n) for n in range(1, 6)] + [hrss_line(6, ",,x"), hrss_line(7)]
    data = csv_lines(spec, lines)

    # The header is line 1: the sixth data row is line 7.
    for chunk_rows in [*range(1, 10), WHOLE]:
        with pytest.raises(ReadError, match=r"^第7行的字段数多于表头$"):
            whole(read_csv_chunks(spec, data, chunk_rows=chunk_rows))


def test_a_quote_left_open_is_named_by_its_line_whatever_the_chunk_size(registry):
    spec = registry["hrss_employment"]
    sixth = data_row("hrss_employment", 6)
    sixth[1] = '"' + str(sixth[1])  # opens a quote no later line closes
    lines = [hrss_line(n) for n in range(1, 6)] + [",".join(map(str, sixth)), hrss_line(7)]
    data = csv_lines(spec, lines)

    for chunk_rows in [*range(1, 10), WHOLE]:
        with pytest.raises(
            ReadError, match=r"^第7行的引号未闭合，其后直到文件末尾都被读成了一个值$"
        ):
            whole(read_csv_chunks(spec, data, chunk_rows=chunk_rows))


def test_unreadable_delivery_is_reported_the_same_whatever_the_chunk_size(
    tmp_path, registry, monkeypatch
):
    spec = registry["hrss_employment"]
    path = write_delivery(
        tmp_path / "inbox", spec, D1, [data_row(spec.feed, n) for n in range(1, 8)]
    )
    path.write_bytes(csv_lines(spec, [hrss_line(n, ",,x" if n == 6 else "") for n in range(1, 8)]))
    write_marker(path, 7)

    results = {}
    for chunk_rows in (2, WHOLE):
        delivery = ingest(tmp_path, monkeypatch, spec, chunk_rows)
        assert (delivery.status, delivery.reason) == ("rejected", "无法读取：第7行的字段数多于表头")
        results[chunk_rows] = {**asdict(delivery), "timings": None}
    assert results[2] == results[WHOLE]


@pytest.mark.parametrize(
    ("feed", "key_names"),
    [("hrss_employment", "身份证号、就业状态、变动日期"), ("housing_safety", "户主身份证号")],
)
def test_key_repeated_across_chunks_is_quarantined_as_read_whole(
    tmp_path, registry, monkeypatch, feed, key_names
):
    spec = registry[feed]
    rows = [data_row(feed, n) for n in range(1, 11)]
    rows[6] = data_row(feed, 2)  # row 7 repeats row 2, three chunks later with 3 rows a chunk
    rows[8] = data_row(feed, 2)  # and row 9 too
    write_delivery(tmp_path / "inbox", spec, D1, rows)
    repeats = [
        ["7", f"与本批第2行重复（{key_names}相同）"],
        ["9", f"与本批第2行重复（{key_names}相同）"],
    ]

    results = {}
    for chunk_rows in (3, 2, WHOLE):
        delivery = ingest(tmp_path, monkeypatch, spec, chunk_rows)
        assert delivery.status == "staged", delivery.reason
        assert (delivery.rows_read, delivery.rows_loaded, delivery.rows_quarantined) == (10, 8, 2)
        rows_staged, quarantine = staged(delivery)
        assert quarantine[["row", "reason"]].to_numpy().tolist() == repeats
        assert rows_staged["source_row"].tolist() == [1, 2, 3, 4, 5, 6, 8, 10]
        results[chunk_rows] = rows_staged, quarantine

    for chunk_rows in (3, 2):
        pd.testing.assert_frame_equal(results[chunk_rows][0], results[WHOLE][0])
        pd.testing.assert_frame_equal(results[chunk_rows][1], results[WHOLE][1])


def hrss_rows_missing_ids(count: int, missing: set[int]) -> list[list[object]]:
    """``count`` rows, those numbered in ``missing`` without a usable ID number (blank or
    not an ID number: both count as missing for the delivery check), each on a date of its
    own (else they would repeat one another's key of ID number, status and date)."""
    rows = []
    for n in range(1, count + 1):
        row = data_row("hrss_employment", n)
        if n in missing:
            row[0] = "" if n % 2 else "12345"
            row[5] = f"2026-02-{n:02d}"
        rows.append(row)
    return rows


@pytest.mark.parametrize("chunk_rows", [25, WHOLE])
def test_missing_ids_in_one_chunk_do_not_reject_a_delivery_that_has_few(
    tmp_path, registry, monkeypatch, chunk_rows
):
    spec = registry["hrss_employment"]
    path = write_delivery(
        tmp_path / "inbox", spec, D1, hrss_rows_missing_ids(50, missing={1, 2, 3, 4, 5, 6})
    )
    # Judged on the first chunk alone (24 rows, 6 missing: 25 %), it would be rejected.
    monkeypatch.setattr(readers, "CHUNK_ROWS", 25)
    first = next(readers.read_file_chunks(spec, path.read_bytes()))
    assert len(first) >= 20
    assert first.values["id_number"].isin(["", "12345"]).mean() > 0.2

    delivery = ingest(tmp_path, monkeypatch, spec, chunk_rows)

    assert delivery.status == "staged", delivery.reason
    assert (delivery.rows_read, delivery.rows_loaded, delivery.rows_quarantined) == (50, 44, 6)


@pytest.mark.parametrize("chunk_rows", [3, WHOLE])
def test_a_delivery_with_too_many_missing_ids_is_rejected_in_small_chunks(
    tmp_path, registry, monkeypatch, chunk_rows
):
    spec = registry["hrss_employment"]
    # 6 of 25 (24 %), at most one in any chunk of 3 rows (too few rows to judge alone).
    rows = hrss_rows_missing_ids(25, missing={3, 7, 11, 15, 19, 23})
    write_delivery(tmp_path / "inbox", spec, D1, rows)

    delivery = ingest(tmp_path, monkeypatch, spec, chunk_rows)

    assert (delivery.status, delivery.reason) == ("rejected", MISSING_IDS)
    assert delivery.rows_rejected == 25
    assert (delivery.rows_read, delivery.rows_loaded, delivery.rows_quarantined) == (0, 0, 0)
    assert delivery.staged is None


@pytest.mark.parametrize("chunk_rows", [2, WHOLE])
@pytest.mark.parametrize(
    ("marker_rows", "status", "reason"),
    [(7, "staged", ""), (5, "rejected", "数据行数 7 与 .ok 标记 rows=5 不符，整批拒收")],
)
def test_marker_row_count_is_checked_on_the_whole_delivery(
    tmp_path, registry, monkeypatch, chunk_rows, marker_rows, status, reason
):
    spec = registry["hrss_employment"]
    footer = [["合计", "7人", "", "", "", ""], ["制表人：李四", "", "", "", "", ""]]
    rows = [data_row(spec.feed, n) for n in range(1, 8)]
    write_delivery(tmp_path / "inbox", spec, D1, rows, footer=footer, marker_rows=marker_rows)

    delivery = ingest(tmp_path, monkeypatch, spec, chunk_rows)

    assert (delivery.status, delivery.reason) == (status, reason)
    if status == "staged":
        assert (delivery.rows_read, delivery.rows_loaded, delivery.rows_rejected) == (7, 7, 0)
    else:
        assert (delivery.rows_rejected, delivery.rows_read, delivery.staged) == (7, 0, None)
