"""Trying candidate rules on a date (docs/warning-rules.md, "Trying new rules"): exactly the
alerts the candidate would add, drop or regrade, and nothing changed in the warehouse, the
outbox or the review tables."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from pipeline.alerts.rules import RulesConfigError
from pipeline.cli import main
from pipeline.steps import run_day
from pipeline.whatif.compare import WhatIfError, what_if
from tests.conftest import PROJECT_DIR, household_row, member_row, outbox_files, person_id
from tests.signals.test_categories import (
    RICH,
    D,
    ago,
    case,
    claim,
    employment,
    head,
    home,
    run_scenario,
    spouse,
)

RULES = PROJECT_DIR / "config" / "rules.yaml"
HOLD_THE_LOCK = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(60)
"""


def candidate(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the rules in force with one text replaced (it must occur once)."""
    text = RULES.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "candidate.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def incomes(deliver, settings):
    """Five households of two people, per capita 5,000 / 6,500 / 6,999 / 7,000 / 8,000 yuan
    (an 一般农户 below the line is 疑似应纳未纳)."""
    per_capita = {1: 5_000, 2: 6_500, 3: 6_999, 4: 7_000, 5: 8_000}
    deliver(
        "households",
        D,
        [household_row(n, head=person_id(n), size=2, income=2 * v) for n, v in per_capita.items()],
    )
    deliver(
        "members",
        D,
        [member_row(n, person_id(n), relation="户主") for n in per_capita]
        + [member_row(n, person_id(100 + n), relation="之子") for n in per_capita],
    )
    run_day(settings, D)
    return settings


def test_the_monitoring_line_raised_by_1000_adds_exactly_the_households_between_the_lines(
    incomes, tmp_path
):
    result = what_if(incomes, candidate(tmp_path, "  2021: 6000", "  2021: 7000"), D)

    assert sorted(result.in_force.alerts["household_id"]) == ["3417021012010001"]
    added = result.changes[result.changes["change"] == "added"]
    assert sorted(added["household_id"]) == ["3417021012010002", "3417021012010003"]
    assert set(added["category"]) == {"income_below_line"}
    assert (result.changes["change"] == "added").all()
    # The reason under the candidate names the new line; ID numbers are masked.
    assert added["reason_candidate"].str.contains("7000元").all()
    assert added["head_id_number"].str.contains(r"\*{8}").all()
    assert result.rules_changed == ["monitoring_line: 6000.0 → 7000.0"]
    row = result.by_category.set_index(["category", "grade"]).loc[("income_below_line", "orange")]
    assert (row["in_force"], row["candidate"], row["added"]) == (1, 3, 2)


def test_an_identical_file_reports_no_change(incomes, tmp_path):
    same = tmp_path / "same.yaml"
    same.write_bytes(RULES.read_bytes())

    result = what_if(incomes, same, D)

    assert result.changes.empty
    assert result.rules_changed == []
    assert result.regional_changes.empty
    assert result.elimination_changes.empty
    assert len(result.in_force.alerts) == len(result.candidate.alerts) == 1


def test_a_medical_threshold_lowered_adds_and_regrades_the_right_households(tmp_path):
    cases = [
        case(
            "world",
            (
                # 一般农户: 15,000 self-paid is under 100 % of the rural income (21,144).
                home("other", "一般农户", head("a"), income=RICH),
                # 脱贫户 out of work (yellow), 8,000 self-paid: under 50 % (10,572).
                home("monitored", "脱贫户", head("b"), spouse("c")),
                # Nothing of either: stays as it is.
                home("quiet", "脱贫户", head("d")),
            ),
            {
                "med_claims": [
                    claim("#S1", "a", ago(10), "15000.00"),
                    claim("#S2", "b", ago(10), "8000.00"),
                ],
                "hrss_employment": [employment("b", "失业登记", ago(10))],
            },
            {},
        ).values[0]
    ]
    settings, owners = run_scenario(cases, tmp_path / "world")
    household = {key: household_id for household_id, (_, key) in owners.items()}
    lowered = candidate(
        tmp_path,
        "      share_of_rural_income_monitored: 0.5\n      share_of_rural_income_other: 1.0",
        "      share_of_rural_income_monitored: 0.3\n      share_of_rural_income_other: 0.5",
    )

    result = what_if(settings, lowered, D)

    changes = {
        (row.household_id, row.category): (row.change, row.grade_in_force, row.grade_candidate)
        for row in result.changes.itertuples()
    }
    assert changes == {
        (household["other"], "medical_burden"): ("added", "", "orange"),
        (household["monitored"], "medical_burden"): ("added", "", "orange"),
        # Two risks at once: the unemployment alert rises to orange (compound risk).
        (household["monitored"], "unemployment"): ("regraded", "yellow", "orange"),
    }


def test_the_verb_changes_nothing_in_the_warehouse_the_outbox_or_the_review_tables(
    incomes, tmp_path, capsys
):
    home, inbox = incomes.home, incomes.inbox
    review = next((home.root / "review").glob("*.sqlite"))
    before = (digest(home.warehouse), outbox_files(home.outbox(D)), digest(review))
    out = tmp_path / "out"

    status = main(
        [
            "whatif",
            "--inbox", str(inbox),
            "--home", str(home.root),
            "--date", D.isoformat(),
            "--rules", str(candidate(tmp_path, "  2021: 6000", "  2021: 7000")),
            "--out", str(out),
        ]
    )  # fmt: skip

    assert status == 0
    assert (digest(home.warehouse), outbox_files(home.outbox(D)), digest(review)) == before
    printed = capsys.readouterr().out
    assert "新增 2" in printed
    page = (out / f"whatif_{D}_candidate.html").read_text(encoding="utf-8")
    assert 'data-household="3417021012010002"' in page
    assert person_id(2) not in page  # masked
    assert (out / f"whatif_{D}_candidate.xlsx").is_file()


def test_a_candidate_that_does_not_validate_names_file_and_field_and_writes_nothing(
    incomes, tmp_path, capsys
):
    bad = candidate(tmp_path, "      red_open_days: 15", "      red_open_dayz: 15")

    with pytest.raises(RulesConfigError, match=r"candidate\.yaml: .*red_open_dayz"):
        what_if(incomes, bad, D)
    status = main(
        ["whatif", "--inbox", str(incomes.inbox), "--home", str(incomes.home.root),
         "--date", D.isoformat(), "--rules", str(bad), "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert status == 2
    assert "red_open_dayz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_date_the_warehouse_has_not_run_is_one_line(incomes, tmp_path):
    same = tmp_path / "same.yaml"
    same.write_bytes(RULES.read_bytes())
    with pytest.raises(WhatIfError, match=r"^2026-03-11 尚未运行"):
        what_if(incomes, same, date(2026, 3, 11))


def test_a_home_held_by_a_running_job_is_one_line(incomes, tmp_path):
    same = tmp_path / "same.yaml"
    same.write_bytes(RULES.read_bytes())
    holder = subprocess.Popen(  # a daily run's writer, in another process
        [sys.executable, "-c", HOLD_THE_LOCK, str(incomes.home.warehouse)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WhatIfError, match="正被运行中的任务写入，只读也无法打开"):
            what_if(incomes, same, D)
    finally:
        holder.kill()
        holder.wait(timeout=30)
