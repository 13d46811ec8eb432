"""``python -m pipeline``: exit status and the one line on standard error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pandas as pd

from pipeline.feeds.registry import load_registry
from tests.conftest import PROJECT_DIR


def pipeline(*args, cwd=PROJECT_DIR):
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("PIPELINE_")
    }
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env=environment,
    )


def test_run_on_an_empty_inbox_succeeds_and_creates_home(tmp_path):
    (tmp_path / "inbox").mkdir()
    done = pipeline(
        "run",
        "--inbox",
        str(tmp_path / "inbox"),
        "--home",
        str(tmp_path / "home"),
        "--date",
        "2026-03-01",
    )
    assert done.returncode == 0, done.stderr
    assert f"missing {len(load_registry())}" in done.stdout
    assert (tmp_path / "home" / "outbox" / "2026-03-01" / "manifest.json").is_file()


def test_a_day_that_cannot_be_processed_says_why_in_one_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("med_claims_url: [unclosed\n", encoding="utf-8")
    done = pipeline("run", "--inbox", str(tmp_path), "--home", str(home), "--date", "2026-03-01")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "config.yaml: not valid YAML" in errors[0]


def test_feeds_lists_the_registry():
    done = pipeline("feeds")
    assert done.returncode == 0
    assert "med_claims" in done.stdout
    assert "V_JSMX" not in done.stdout
    assert len(done.stdout.splitlines()) == len(load_registry())


def test_feed_steps_then_load_equal_the_whole_run(tmp_path):
    from datetime import date

    from pipeline.feeds.registry import load_registry
    from tests.conftest import person_id, write_delivery

    registry = load_registry()
    for name in ("stepwise", "whole"):
        write_delivery(
            tmp_path / name / "inbox",
            registry["police_hukou"],
            date(2026, 3, 1),
            [
                [person_id(1), "甲", "迁出", "2026-03-01", ""],
                ["bad", "乙", "迁出", "2026-03-01", ""],
            ],
        )
    stepwise, whole = tmp_path / "stepwise", tmp_path / "whole"
    for feed in ("police_hukou", "hrss_employment"):
        done = pipeline(
            "ingest",
            "--feed",
            feed,
            "--inbox",
            str(stepwise / "inbox"),
            "--home",
            str(stepwise / "home"),
            "--date",
            "2026-03-01",
        )
        assert done.returncode == 0, done.stderr
    done = pipeline(
        "load",
        "--inbox",
        str(stepwise / "inbox"),
        "--home",
        str(stepwise / "home"),
        "--date",
        "2026-03-01",
    )
    assert done.returncode == 0, done.stderr
    done = pipeline(
        "run",
        "--inbox",
        str(whole / "inbox"),
        "--home",
        str(whole / "home"),
        "--date",
        "2026-03-01",
    )
    assert done.returncode == 0, done.stderr

    outbox = "home/outbox/2026-03-01/quarantine.csv"
    assert (stepwise / outbox).read_bytes() == (whole / outbox).read_bytes()
    assert "身份证号" in (stepwise / outbox).read_text(encoding="utf-8-sig")


def test_feedback_verb_reports_what_it_applied(tmp_path):
    (tmp_path / "inbox" / "feedback").mkdir(parents=True)
    (tmp_path / "inbox" / "feedback" / "341702101_清溪乡_20260301.xlsx").write_bytes(
        b"not a workbook"
    )
    done = pipeline(
        "run",
        "--inbox",
        str(tmp_path / "inbox"),
        "--home",
        str(tmp_path / "home"),
        "--date",
        "2026-03-01",
    )
    assert done.returncode == 0, done.stderr

    done = pipeline(
        "feedback",
        "--inbox",
        str(tmp_path / "inbox"),
        "--home",
        str(tmp_path / "home"),
        "--date",
        "2026-03-01",
    )

    assert done.returncode == 0, done.stderr
    assert "341702101_清溪乡_20260301.xlsx: rejected" in done.stdout
    # A file that could not be opened holds no rows: it is listed as rejected, with why.
    assert "0 alerts closed by verification, 0 returned rows changed nothing" in done.stdout
    rejections = (
        tmp_path / "home" / "outbox" / "2026-03-01" / "feedback_rejections.csv"
    ).read_text(encoding="utf-8-sig")
    assert "无法打开工作簿" in rejections


def test_summary_prints_the_days_figures_from_its_outbox(tmp_path):
    from fpwarn_demo import generate_district

    summary = generate_district(
        tmp_path / "inbox", households=300, start=date(2026, 3, 1), end=date(2026, 3, 2)
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(f"med_claims_url: {summary.claims_url}\n", encoding="utf-8")
    done = pipeline(
        "run", "--inbox", str(summary.inbox), "--home", str(home),
        "--date", "2026-03-01", "--until", "2026-03-02", "--summary",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.index("2026-03-01: feeds") < done.stdout.index("2026-03-02: feeds")

    shown = pipeline("summary", "--home", str(home), "--date", "2026-03-02")

    assert shown.returncode == 0, shown.stderr
    alerts = pd.read_csv(
        home / "outbox" / "2026-03-02" / "alerts.csv", encoding="utf-8-sig", dtype=str
    )
    headline = next(line for line in shown.stdout.splitlines() if line.startswith("│"))
    figures = [int(cell) for cell in headline.strip("│ ").replace("│", " ").split()]
    assert figures[:4] == [
        len(alerts),
        (alerts["status"] == "new").sum(),
        (alerts["status"] == "escalated").sum(),
        alerts["household_id"].nunique(),
    ]
    assert figures[4:] == [
        (alerts["grade"] == grade).sum() for grade in ("red", "orange", "yellow")
    ]
    assert "部门数据" in shown.stdout
    assert "防止返贫动态监测 2026-03-02" in done.stdout  # --summary printed the last day
    missing = pipeline("summary", "--home", str(home), "--date", "2026-03-09")
    assert missing.returncode == 2
    assert "2026-03-09 尚未运行" in missing.stderr


def test_a_review_database_that_refuses_leaves_the_outbox_complete_and_says_so(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    # Nothing listens on port 1: the BI tool's database is down.
    (home / "config.yaml").write_text(
        "review_db_url: postgresql+psycopg://reviewer:secret@127.0.0.1:1/bi\n", encoding="utf-8"
    )
    (tmp_path / "inbox").mkdir()
    done = pipeline(
        "run", "--inbox", str(tmp_path / "inbox"), "--home", str(home), "--date", "2026-03-02"
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "ReviewDatabaseUnavailable" in errors[0]
    assert "outbox 已完整写出" in errors[0]
    assert "secret" not in done.stderr
    outbox = home / "outbox" / "2026-03-02"
    manifest = json.loads((outbox / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["outputs"]) <= {path.name for path in outbox.iterdir()} | {
        f"townships/{path.name}" for path in (outbox / "townships").glob("*")
    } | {f"comparisons/{path.name}" for path in (outbox / "comparisons").glob("*")}


def test_the_daily_report_can_be_turned_off(tmp_path):
    (tmp_path / "inbox").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("daily_report: false\n", encoding="utf-8")
    done = pipeline(
        "run", "--inbox", str(tmp_path / "inbox"), "--home", str(home), "--date", "2026-03-02"
    )
    assert done.returncode == 0, done.stderr
    outbox = home / "outbox" / "2026-03-02"
    assert (outbox / "alerts.csv").is_file()
    assert not (outbox / "report.html").exists()


def test_a_missing_inbox_stops_the_run_in_one_line(tmp_path):
    """A share that did not mount: not a day of fifteen missing feeds, but no day at all."""
    inbox, home = tmp_path / "mnt" / "inbox", tmp_path / "home"
    done = pipeline("run", "--inbox", str(inbox), "--home", str(home), "--date", "2026-03-01")
    assert done.returncode == 2
    assert done.stdout == ""
    # Only the error (the progress display may leave a blank line behind).
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        f"error: 收件箱 {inbox} 不存在（挂载失败或路径有误？）：本日未处理，"
        "各部门的交付无从读取；恢复后重新运行该日期即可"
    ]
    assert not (home / "outbox").exists()
    log = (home / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert f"inbox {inbox} is missing or not a folder: the day is not processed" in log


def test_demo_without_the_demo_extra_says_how_to_install_it_in_one_line(tmp_path):
    """The generator is the extra fpwarn_demo: where it is not installed (as in the
    production image), the verb says so instead of a traceback."""
    script = (
        "import sys; sys.modules['fpwarn_demo'] = None; from pipeline.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    inbox = tmp_path / "inbox"
    dates = ["--start", "2026-03-01", "--end", "2026-03-01"]
    done = subprocess.run(
        [sys.executable, "-c", script, "demo", "--inbox", str(inbox), *dates],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=300,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("error: ")
    assert "pip install -e '.[demo]'" in errors[0]
    assert not inbox.exists()
