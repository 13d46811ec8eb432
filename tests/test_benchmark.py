"""The benchmark command works end to end at a small size and reports what it promises:
every stage's time and peak memory, a rerun, and the floor of reading the same inputs.
(The figures themselves are for people to read, never asserted against a time.)"""

from __future__ import annotations

import json
from datetime import date

from pipeline.benchmark import report
from pipeline.cli import main
from pipeline.timings import PARTS, STAGES


def test_the_benchmark_prints_each_stage_the_rerun_and_the_floor(tmp_path, capsys):
    figures_file = tmp_path / "figures.json"
    status = main(
        [
            "benchmark",
            "--households",
            "150",
            "--runs",
            "1",
            "--workdir",
            str(tmp_path / "bench"),
            "--date",
            "2026-03-01",
            "--json",
            str(figures_file),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    for stage in STAGES:
        assert f"\n{stage} " in printed
    assert "读取下限" in printed
    assert "全流程 / 下限" in printed
    assert "同日重跑" in printed
    (run,) = json.loads(figures_file.read_text(encoding="utf-8"))
    # Every stage, and the record linkage (the district has rows that lost their ID number).
    assert set(run["stages"]) == {*STAGES, *PARTS}
    assert "其中 linkage" in printed
    assert all(stage["seconds"] > 0 for stage in run["stages"].values())
    assert run["peak_bytes"] > 0
    # The daily job's processes were watched together (pandas and DuckDB alone take more
    # than 100 MB).
    assert run["tree_peak_bytes"] > 100 * 1024 * 1024
    assert "所有进程合计" in printed
    assert all(run["floor_by_format"][name] > 0 for name in ("csv", "xlsx", "sql"))
    assert 0 < run["rerun_seconds"] < run["seconds"]
    assert run["rows_read"] > 1000
    # The claims view read alone, and the memory it took by its first chunk.
    assert run["claims_backend"] == "sqlite"
    assert run["claims_rows"] > 0
    assert 0 < run["claims_first_chunk_bytes"] <= run["claims_peak_bytes"]
    assert "理赔视图单独读取" in printed
    # The what-if verb on the day just run, timed (the monitoring line 1,000 yuan higher).
    assert run["whatif_seconds"] > 0
    assert "规则试算" in printed
    # The district is kept for the next benchmark of the same size.
    assert (tmp_path / "bench" / "district-150" / "district.json").is_file()


def test_the_report_takes_medians_and_the_ratio_to_the_floor():
    from pipeline.benchmark import RunFigures

    def run(seconds: float, floor: float) -> RunFigures:
        return RunFigures(
            seconds=seconds,
            peak_bytes=100 * 1024 * 1024,
            stages={"reading": {"seconds": seconds / 2, "peak_bytes": 0}},
            rerun_seconds=seconds / 10,
            floor_seconds=floor,
            floor_by_format={"csv": floor},
        )

    text = report(1000, [run(30, 10), run(40, 10), run(90, 10)])
    assert "全流程（首次运行）    40.0 秒" in text
    assert "全流程 / 下限         4.0 倍" in text
    assert "为首次的 10%" in text


def test_the_report_gives_the_claims_views_memory_by_its_first_chunk():
    from pipeline.benchmark import RunFigures

    figures = RunFigures(
        seconds=30,
        peak_bytes=0,
        stages={},
        rerun_seconds=3,
        floor_seconds=10,
        claims_backend="postgresql",
        claims_rows=1_000_000,
        claims_seconds=5.0,
        claims_first_chunk_bytes=492 * 1024 * 1024,
        claims_peak_bytes=892 * 1024 * 1024,
    )
    assert (
        "理赔视图单独读取      1,000,000 行，5.0 秒（postgresql，每块 250,000 行）；"
        "内存：首块到达时 +492 MB，峰值 +892 MB"
    ) in report(1000, [figures])


def test_claims_are_copied_to_a_database_without_the_view_and_never_replaced(tmp_path):
    import sqlalchemy as sa

    from pipeline.benchmark import copy_claims
    from tests.feeds.test_sql_source import FrontEnd, settlement

    D = date(2026, 3, 1)
    source = f"sqlite:///{tmp_path / 'generated.sqlite'}"
    FrontEnd(source).post(*(settlement(f"S{n:03d}", n, D, "10.00") for n in range(30)))
    target = f"sqlite:///{tmp_path / 'server.sqlite'}"
    said: list[str] = []

    copy_claims(source, target, said.append)
    FrontEnd(source).post(settlement("S999", 1, D, "10.00"))  # the server keeps its view
    copy_claims(source, target, said.append)

    with sa.create_engine(target).connect() as connection:
        serials = connection.execute(sa.text('select "JSLSH" from "V_JSMX"')).scalars().all()
    assert sorted(serials) == [f"S{n:03d}" for n in range(30)]
    (copied,) = said
    assert "30 行" in copied
