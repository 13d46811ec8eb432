"""``python -m pipeline benchmark``: the daily job at a given size, stage by stage.

Generates a demo district of ``--households`` households (kept under ``--workdir`` and
reused by later benchmarks of the same size), then, ``--runs`` times, each in a fresh
process and a fresh HOME as a new deployment's first morning:

1. the daily job for the business date (every stage's wall time and peak memory);
2. the same date again, every delivery unchanged;
3. the floor: the fastest readers at hand reading the same inputs once and doing
   nothing else (DuckDB's CSV reader, python-calamine for workbooks, the database
   driver's own cursor for the claims view);
4. the claims view read alone through the pipeline's reader: the memory it takes by the
   time its first chunk arrives, and at its peak (``--claims-url`` points it at a
   PostgreSQL or MariaDB server).

It prints the medians, and the ratio of the pipeline's time to the floor's.
"""

from __future__ import annotations

import codecs
import json
import multiprocessing
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.timings import PARTS, STAGES

MB = 1024 * 1024


@dataclass
class RunFigures:
    seconds: float
    peak_bytes: int
    stages: dict[str, dict[str, float]]
    rerun_seconds: float
    floor_seconds: float
    floor_by_format: dict[str, float] = field(default_factory=dict)
    rows_read: int = 0
    # The highest peak of one process reading feeds beside the main one (0: none).
    worker_peak_bytes: int = 0
    # The highest memory of the daily job's processes together (first run and rerun).
    tree_peak_bytes: int = 0
    # The claims view read alone: its database, rows, seconds, and the memory above what
    # the process held before, when the first chunk arrived and at the peak.
    claims_backend: str = ""
    claims_rows: int = 0
    claims_seconds: float = 0.0
    claims_first_chunk_bytes: int = 0
    claims_peak_bytes: int = 0
    # The what-if verb on the day just run, with the monitoring line 1,000 yuan higher.
    whatif_seconds: float = 0.0
    whatif_changes: int = 0


def district_for(
    workdir: Path, households: int, business_date: date, say: Callable[[str], None]
) -> tuple[Path, str]:
    """The benchmark's district of ``households``: generated once, then reused."""
    from fpwarn_demo import generate_district

    folder = workdir / f"district-{households}"
    marker = folder / "district.json"
    if marker.is_file():
        known = json.loads(marker.read_text(encoding="utf-8"))
        if known["business_date"] == business_date.isoformat():
            return folder / "inbox", known["claims_url"]
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    summary = generate_district(
        folder / "inbox", households=households, start=business_date, end=business_date
    )
    say(
        f"生成模拟区县：{summary.households} 户，{summary.members} 人，{summary.townships} 个乡镇，"
        f"用时 {time.perf_counter() - started:.0f} 秒（不计入基准）"
    )
    marker.write_text(
        json.dumps({"business_date": business_date.isoformat(), "claims_url": summary.claims_url}),
        encoding="utf-8",
    )
    return folder / "inbox", summary.claims_url


def _fresh_home(root: Path, claims_url: str) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(f"med_claims_url: {claims_url}\n", encoding="utf-8")
    return root


def _measure(inbox: Path, home: Path, business_date: date) -> dict[str, Any]:
    """One first run and one rerun of ``business_date``, in this (fresh) process."""
    started = time.perf_counter()  # the imports are part of a morning's run
    import logging

    from pipeline import timings
    from pipeline.settings import load_settings
    from pipeline.steps import run_day

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(home, inbox)
    recorder = timings.start()
    result = run_day(settings, business_date)
    seconds = time.perf_counter() - started
    timings.stop()
    started = time.perf_counter()
    run_day(settings, business_date)
    rerun_seconds = time.perf_counter() - started
    whatif_seconds, whatif_changes = _time_whatif(settings, business_date)
    rows = sum(int(feed.get("rows_read") or 0) for feed in result.manifest["feeds"].values())
    return {
        "seconds": seconds,
        "peak_bytes": recorder.overall_peak,
        "worker_peak_bytes": recorder.worker_peak,
        "stages": {name: asdict(figure) for name, figure in recorder.figures.items()},
        "rerun_seconds": rerun_seconds,
        "rows_read": rows,
        "whatif_seconds": whatif_seconds,
        "whatif_changes": whatif_changes,
    }


def _time_whatif(settings: Any, business_date: date) -> tuple[float, int]:
    """The what-if verb's comparison with the monitoring line raised by 1,000 yuan."""
    import yaml

    from pipeline.paths import CONFIG_DIR
    from pipeline.whatif.compare import what_if

    document = yaml.safe_load((CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8"))
    document["monitoring_line"] = {
        year: value + 1000 for year, value in document["monitoring_line"].items()
    }
    candidate = settings.home.root / "candidate_rules.yaml"
    candidate.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    started = time.perf_counter()
    result = what_if(settings, candidate, business_date)
    return time.perf_counter() - started, len(result.changes)


def _in_fresh_process(function: Any, *args: Any, tree: TreeMemory | None = None) -> Any:
    """Run in a new interpreter, as the daily job runs each morning (imports included);
    ``tree`` watches the memory of that process and its children meanwhile."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    # A plain process, not a pool's daemon: the daily job starts feed workers of its own.
    process = context.Process(target=_send_result, args=(sending, function, args))
    process.start()
    sending.close()
    if tree is not None and process.pid is not None:
        tree.watch(process.pid)
    try:
        outcome, value = receiving.recv()
    except EOFError:
        outcome, value = "error", f"进程异常退出（退出码 {process.exitcode}）"
    finally:
        if tree is not None:
            tree.stop()
    process.join()
    if outcome == "error":
        raise RuntimeError(f"基准运行失败：{value}")
    return value


class TreeMemory:
    """The highest memory of a process and all its children together (the daily job, its
    feed workers, the report's drawing), sampled ten times a second: the sum of their
    proportional set sizes, so pages a forked child shares with its parent count once."""

    def __init__(self) -> None:
        self.peak_bytes = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _sample(self, root: int) -> None:
        while not self._stopping.wait(0.1):
            self.peak_bytes = max(self.peak_bytes, sum(map(_pss_bytes, _tree(root))))


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += parents.get(pid, [])
    return found


def _pss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _send_result(sending: Any, function: Any, args: tuple[Any, ...]) -> None:
    try:
        sending.send(("ok", function(*args)))
    except Exception as error:  # the type only: a message may quote data
        sending.send(("error", type(error).__name__))
        raise


def floor(inbox: Path, business_date: date, claims_url: str) -> dict[str, float]:
    """Seconds the fastest readers need to read the inputs of ``business_date`` once."""
    import duckdb
    from python_calamine import CalamineWorkbook

    from pipeline.feeds import inbox as inbox_protocol
    from pipeline.feeds.registry import load_registry
    from pipeline.feeds.sql_source import window_for
    from pipeline.warehouse.ledger import quiet

    seconds: dict[str, float] = {"csv": 0.0, "xlsx": 0.0, "sql": 0.0}
    connection = quiet(duckdb.connect())
    for spec in load_registry().values():
        if spec.format == "sql":
            started = time.perf_counter()
            _read_view(spec, claims_url, window_for(spec, business_date, None))
            seconds["sql"] += time.perf_counter() - started
            continue
        for delivery in inbox_protocol.find_deliveries(inbox, spec, business_date):
            started = time.perf_counter()
            if spec.format == "xlsx":
                CalamineWorkbook.from_path(str(delivery.path)).get_sheet_by_index(0).to_python()
            else:
                _duckdb_csv(connection, delivery.path, spec.encoding or "utf-8")
            seconds[spec.format] += time.perf_counter() - started
    connection.close()
    return seconds


def _duckdb_csv(connection: Any, path: Path, encoding: str) -> None:
    options = "all_varchar = true, null_padding = true, strict_mode = false, ignore_errors = true"
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        connection.execute(
            f"create or replace table floor_csv as from read_csv($path, {options})",
            {"path": str(path)},
        )
        return
    # DuckDB reads UTF-8 only (its encodings extension is a download): decode first.
    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8") as text:
        text.write(path.read_bytes().decode(encoding, errors="replace"))
        text.flush()
        connection.execute(
            f"create or replace table floor_csv as from read_csv($path, {options})",
            {"path": text.name},
        )


def _read_view(spec: Any, url: str, window: Any) -> int:
    """Every row of the view in the window through the driver's own cursor."""
    columns = ", ".join(f'"{column.name}"' for column in spec.columns)
    sql = f'select {columns} from "{spec.sql.view}" where "{spec.sql.date_column}" between ? and ?'
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return len(
                connection.execute(
                    sql, (window.start.isoformat(), window.end.isoformat())
                ).fetchall()
            )
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    # The server's own quoting: MariaDB takes "V_JSMX" for a string, not a name.
    quote = engine.dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in spec.columns)
    sql = (
        f"select {columns} from {quote(spec.sql.view)} "
        f"where {quote(spec.sql.date_column)} between %s and %s"
    )
    try:
        with engine.connect() as connection:
            cursor = connection.connection.cursor()
            cursor.execute(sql, (window.start, window.end))
            return len(cursor.fetchall())
    finally:
        engine.dispose()


def claims_memory(url: str, business_date: date) -> dict[str, Any]:
    """The claims view's first morning (a year of claims) read alone through the pipeline's
    reader, in this fresh process: rows, seconds, and the memory above what the process
    held before reading, by the time the first chunk arrived and at the peak."""
    from pipeline.feeds import sql_source
    from pipeline.feeds.registry import load_registry
    from pipeline.timings import _peak_rss_bytes, _reset_peak

    spec = next(spec for spec in load_registry().values() if spec.format == "sql")
    window = sql_source.window_for(spec, business_date, None)
    _reset_peak()  # the peak so far becomes the memory held now
    before = _peak_rss_bytes()
    started = time.perf_counter()
    rows = first_chunk = 0
    for frame in sql_source.read_window_chunks(spec, url, window):
        if not rows:
            first_chunk = _peak_rss_bytes() - before
        rows += len(frame)
        del frame  # the reader's memory alone: no chunk kept while the next is read
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "first_chunk_bytes": first_chunk,
        "peak_bytes": _peak_rss_bytes() - before,
    }


def copy_claims(source_url: str, target_url: str, say: Callable[[str], None]) -> None:
    """The generated claims copied into the database of ``target_url`` (its table JSMX and
    view V_JSMX), unless it has the view already: a view there is read as it is, never
    replaced."""
    import sqlalchemy as sa

    from fpwarn_demo.departments.medical_claims import TABLE_NAME, claims_table
    from pipeline.feeds.registry import load_registry
    from pipeline.feeds.sql_source import redact

    spec = next(spec for spec in load_registry().values() if spec.format == "sql")
    assert spec.sql is not None
    table = claims_table(spec, sa.MetaData())
    source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    try:
        if sa.inspect(target).has_table(spec.sql.view):
            return
        started = time.perf_counter()
        quote = target.dialect.identifier_preparer.quote
        copied = 0
        with source.connect() as reading, target.begin() as writing:
            table.create(writing)
            rows = reading.execution_options(yield_per=20_000).execute(sa.select(table))
            for chunk in rows.partitions():
                writing.execute(table.insert(), [dict(row._mapping) for row in chunk])
                copied += len(chunk)
            writing.execute(
                sa.text(f"CREATE VIEW {quote(spec.sql.view)} AS SELECT * FROM {quote(TABLE_NAME)}")
            )
        say(
            f"理赔数据已复制到 {redact(target_url)}：{copied} 行，"
            f"用时 {time.perf_counter() - started:.0f} 秒（不计入基准）"
        )
    finally:
        source.dispose()
        target.dispose()


def run_benchmark(
    households: int,
    workdir: Path,
    runs: int,
    business_date: date,
    claims_url: str | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> list[RunFigures]:
    import sqlalchemy as sa

    inbox, generated_url = district_for(workdir, households, business_date, say)
    if claims_url:
        copy_claims(generated_url, claims_url, say)
    url = claims_url or generated_url
    figures = []
    for index in range(runs):
        home = _fresh_home(workdir / f"district-{households}" / "home", url)
        tree = TreeMemory()
        measured = _in_fresh_process(_measure, inbox, home, business_date, tree=tree)
        by_format = _in_fresh_process(floor, inbox, business_date, url)
        claims = _in_fresh_process(claims_memory, url, business_date)
        figures.append(
            RunFigures(
                seconds=measured["seconds"],
                peak_bytes=measured["peak_bytes"],
                stages=measured["stages"],
                rerun_seconds=measured["rerun_seconds"],
                floor_seconds=sum(by_format.values()),
                floor_by_format=by_format,
                rows_read=measured["rows_read"],
                worker_peak_bytes=measured["worker_peak_bytes"],
                tree_peak_bytes=tree.peak_bytes,
                claims_backend=sa.make_url(url).get_backend_name(),
                claims_rows=claims["rows"],
                claims_seconds=claims["seconds"],
                claims_first_chunk_bytes=claims["first_chunk_bytes"],
                claims_peak_bytes=claims["peak_bytes"],
                whatif_seconds=measured["whatif_seconds"],
                whatif_changes=measured["whatif_changes"],
            )
        )
        say(
            f"第 {index + 1}/{runs} 次：全流程 {measured['seconds']:.1f} 秒，"
            f"同日重跑 {measured['rerun_seconds']:.1f} 秒，读取下限 {sum(by_format.values()):.1f} 秒"
        )
    return figures


def report(households: int, figures: list[RunFigures]) -> str:
    """The medians as a table (seconds, MB), then the headline ratios."""

    def median(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    lines = [
        f"基准：{households} 户，{len(figures)} 次运行的中位数；每次读取 {figures[0].rows_read:,} 行",
        f"{'阶段':<12}{'用时(秒)':>10}{'峰值内存(MB)':>14}",
    ]
    for name in STAGES:
        seconds = median([run.stages.get(name, {}).get("seconds", 0.0) for run in figures])
        peak = median(
            [
                max(stage.get("peak_bytes", 0), stage.get("worker_peak_bytes", 0))
                for stage in (run.stages.get(name, {}) for run in figures)
            ]
        )
        lines.append(f"{name:<12}{seconds:>10.1f}{peak / MB:>14.0f}")
    total = median([run.seconds for run in figures])
    for name in PARTS:
        seconds = median([run.stages.get(name, {}).get("seconds", 0.0) for run in figures])
        lines.append(
            f"  其中 {name:<8}{seconds:>8.1f}（已计入所在阶段，占全流程 {100 * seconds / total:.0f}%）"
        )
    workers = median([run.worker_peak_bytes for run in figures])
    if workers:
        lines.append(
            "（reading、validation 在两个读取进程中并行：用时为两进程忙碌时间之和，大于其墙钟时间）"
        )
    floor_total = median([run.floor_seconds for run in figures])
    formats = ", ".join(
        f"{name} {median([run.floor_by_format.get(name, 0.0) for run in figures]):.1f}"
        for name in ("csv", "xlsx", "sql")
    )
    rerun = median([run.rerun_seconds for run in figures])
    lines += [
        f"全流程（首次运行）    {total:.1f} 秒，峰值内存：主进程 {median([run.peak_bytes for run in figures]) / MB:.0f} MB"
        + (f"，每个读取进程 {workers / MB:.0f} MB" if workers else "")
        + f"；所有进程合计 {median([run.tree_peak_bytes for run in figures]) / MB:.0f} MB",
        f"读取下限              {floor_total:.1f} 秒（{formats}）",
        f"全流程 / 下限         {total / floor_total:.1f} 倍",
        f"同日重跑（未变化）    {rerun:.1f} 秒，为首次的 {100 * rerun / total:.0f}%",
        f"规则试算（监测线+1000元） {median([run.whatif_seconds for run in figures]):.1f} 秒，"
        f"变化 {median([run.whatif_changes for run in figures]):.0f} 条",
    ]
    if any(run.claims_rows for run in figures):
        from pipeline.feeds.sql_source import CHUNK_ROWS

        lines.append(
            f"理赔视图单独读取      {median([run.claims_rows for run in figures]):,.0f} 行，"
            f"{median([run.claims_seconds for run in figures]):.1f} 秒"
            f"（{figures[0].claims_backend}，每块 {CHUNK_ROWS:,} 行）；内存：首块到达时 "
            f"+{median([run.claims_first_chunk_bytes for run in figures]) / MB:.0f} MB，"
            f"峰值 +{median([run.claims_peak_bytes for run in figures]) / MB:.0f} MB"
        )
    return "\n".join(lines)
