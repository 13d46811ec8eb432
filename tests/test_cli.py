"""``python -m pipeline``: exit status and the one line on standard error."""

from __future__ import annotations

import os
import subprocess
import sys

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
    assert "missing 15" in done.stdout
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
    assert len(done.stdout.splitlines()) == 15


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
    assert "341702101_清溪乡_20260301.xlsx: applied" in done.stdout
    assert "0 alerts closed by verification, 1 returned rows changed nothing" in done.stdout
    rejections = (
        tmp_path / "home" / "outbox" / "2026-03-01" / "feedback_rejections.csv"
    ).read_text(encoding="utf-8-sig")
    assert "无法打开工作簿" in rejections
