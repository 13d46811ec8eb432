"""The benchmark command works end to end at a small size and reports what it promises:
every stage's time and peak memory, a rerun, and the floor of reading the same inputs.
(The figures themselves are for people to read, never asserted against a time.)"""

from __future__ import annotations

import json

from pipeline.benchmark import report
from pipeline.cli import main
from pipeline.timings import STAGES


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
    assert set(run["stages"]) == set(STAGES)
    assert all(stage["seconds"] > 0 for stage in run["stages"].values())
    assert run["peak_bytes"] > 0
    # The daily job's processes were watched together (pandas and DuckDB alone take more
    # than 100 MB).
    assert run["tree_peak_bytes"] > 100 * 1024 * 1024
    assert "所有进程合计" in printed
    assert all(run["floor_by_format"][name] > 0 for name in ("csv", "xlsx", "sql"))
    assert 0 < run["rerun_seconds"] < run["seconds"]
    assert run["rows_read"] > 1000
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
