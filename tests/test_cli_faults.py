"""``python -m pipeline`` when HOME or its warehouse cannot be used: exit status 2 and one
line on standard error that names the path and what to do, never a stack of frames."""

from __future__ import annotations

import os
import shutil
from datetime import date

import pytest

from fpwarn_demo import generate_district
from pipeline.steps import run_day
from tests.conftest import home_for, outbox_files
from tests.test_cli import pipeline

D1, D2 = date(2026, 3, 1), date(2026, 3, 2)


def stderr_lines(done) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_a_home_that_is_a_file_says_so_in_one_line(tmp_path):
    (tmp_path / "inbox").mkdir()
    home = tmp_path / "home"
    home.write_text("not a folder\n", encoding="utf-8")

    done = pipeline(
        "run", "--inbox", str(tmp_path / "inbox"), "--home", str(home), "--date", "2026-03-01"
    )

    assert done.returncode == 2
    assert stderr_lines(done) == [
        f"error: HOME {home} 是一个文件，而不是文件夹："
        "请用 --home（或 PIPELINE_HOME）指定一个文件夹（不存在时会自动创建）"
    ]


def test_a_folder_of_home_that_is_a_file_is_named(tmp_path):
    (tmp_path / "inbox").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "staging").write_text("", encoding="utf-8")

    done = pipeline(
        "run", "--inbox", str(tmp_path / "inbox"), "--home", str(home), "--date", "2026-03-01"
    )

    assert done.returncode == 2
    assert stderr_lines(done) == [
        f"error: HOME {home} 中的 staging 是一个文件，流水线要在那里建文件夹：请将这个文件移走或改名"
    ]


def random_bytes(path):
    path.write_bytes(os.urandom(100_000))


def truncated(path):
    os.truncate(path, 4096)


def blocks_overwritten(path):
    # The header intact, every block after it garbage: DuckDB's checksums find it.
    with path.open("r+b") as file:
        file.seek(8192)
        file.write(os.urandom(path.stat().st_size - 8192))


@pytest.fixture(scope="module")
def first_day(tmp_path_factory):
    """A HOME after its first day, the claims view configured: a feed worker then opens
    the warehouse too (for the last date loaded) before the load does."""
    from tests.feeds.test_sql_source import FrontEnd

    root = tmp_path_factory.mktemp("first_day")
    (root / "inbox").mkdir()
    (root / "home").mkdir()
    claims = f"sqlite:///{root / 'frontend.sqlite'}"
    FrontEnd(claims)
    (root / "home" / "config.yaml").write_text(f"med_claims_url: {claims}\n", encoding="utf-8")
    done = pipeline(
        "run", "--inbox", str(root / "inbox"), "--home", str(root / "home"), "--date", "2026-03-01"
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        pytest.param(random_bytes, "不是有效的 DuckDB 数据库文件", id="random-bytes"),
        pytest.param(truncated, "文件不完整，可能被截断", id="truncated"),
        pytest.param(blocks_overwritten, "数据块校验和不符", id="blocks-overwritten"),
    ],
)
def test_a_damaged_warehouse_says_which_file_and_how_to_rebuild_it(
    first_day, tmp_path, damage, said
):
    shutil.copytree(first_day, tmp_path, dirs_exist_ok=True)
    inbox, home = tmp_path / "inbox", tmp_path / "home"
    arguments = ("run", "--inbox", str(inbox), "--home", str(home))
    warehouse = home / "warehouse" / "warehouse.duckdb"
    damage(warehouse)
    kept = warehouse.read_bytes()

    done = pipeline(*arguments, "--date", "2026-03-02")

    assert done.returncode == 2
    assert stderr_lines(done) == [
        f"error: 数仓文件 {warehouse} 已损坏（{said}），无法读取：请将它改名保留，"
        "再按 README「数仓文件损坏时」的步骤从第一个业务日期起逐日重跑，"
        "由 HOME/staging 中已暂存的交付重建数仓"
    ]
    assert warehouse.read_bytes() == kept  # left for the engineer to keep


def test_moving_a_damaged_warehouse_aside_and_rerunning_the_dates_rebuilds_it(tmp_path):
    """README「数仓文件损坏时」: every day's outbox comes out as it was."""
    summary = generate_district(tmp_path / "inbox", households=120, start=D1, end=D2, seed=5)
    settings = home_for(tmp_path, summary.claims_url, summary.inbox)
    outboxes = [run_day(settings, day).outbox for day in (D1, D2)]
    before = [outbox_files(outbox) for outbox in outboxes]
    warehouse = settings.home.warehouse
    truncated(warehouse)
    warehouse.rename(warehouse.with_name("warehouse.duckdb.damaged"))

    for day in (D1, D2):
        run_day(settings, day)

    assert [outbox_files(outbox) for outbox in outboxes] == before
