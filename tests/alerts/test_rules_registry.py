"""The categories are those of config/rules.yaml: adding one is a YAML entry and a SQL file.

A category is its entry under ``categories:`` (label, feeds, departments, help, its own
thresholds) and its step ``sql/signals/sig_<code>.sql``; the thresholds of a category the
code knows are typed, another's are scalars or lists of them, bound as ``$<code>__<key>``
(docs/warning-rules.md, "Adding a category"). Here a copy of the project's config/ and
sql/ gets a category of its own, and a day's run raises it without a change of code.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pytest

from pipeline import paths, sql
from pipeline.alerts.rules import (
    Disaster,
    RulesConfigError,
    Water,
    WaterUnsafe,
    load_rules,
)
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import PROJECT_DIR, household_row, member_row, person_id, write_delivery

D = date(2026, 3, 10)

LARGE_HOUSEHOLD = """
  large_household:
    feeds: [households]
    label: 大家庭
    departments: [区乡村振兴局]
    near_line_raises: false
    help: [入户走访]
    thresholds:
      min_size: 6
      household_types: [一般农户]
"""

# From a staging table, with the columns every signal step gives.
SIG_LARGE_HOUSEHOLD = """-- A bureau's own category: households of at least min_size people of the listed types.
select
    household_id,
    'large_household' as category,
    'yellow' as base_grade,
    delivery_date as evidence_date,
    '区乡村振兴局农户信息：家庭人口' || household_size || '人（阈值：'
    || $large_household__min_size || '人）' as reason
from staging.cur_households
where household_size >= $large_household__min_size
    and list_contains($large_household__household_types, household_type)
"""


def project_copy(root: Path) -> Path:
    """config/ and sql/ of the project, copied under ``root``."""
    for folder in ("config", "sql"):
        shutil.copytree(PROJECT_DIR / folder, root / folder)
    return root


def with_text(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_categories_are_the_files_in_its_order_each_with_its_sql_step():
    rules = load_rules()
    assert rules.category_codes == tuple(rules.categories)
    assert rules.category_codes[:2] == ("medical_burden", "medical_uninsured")
    for code, category in rules.categories.items():
        assert category.code == code
        assert (sql.SQL_DIR / f"signals/sig_{code}.sql").is_file()
    assert rules.thresholds(WaterUnsafe).red_open_days == 15
    assert rules.thresholds(Disaster) is rules.categories["disaster"].thresholds
    assert rules.regional.thresholds(Water).households == 50


def test_a_new_category_is_raised_in_a_days_run_without_a_change_of_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry
):
    project = project_copy(tmp_path / "project")
    rules_file = project / "config" / "rules.yaml"
    rules_file.write_text(rules_file.read_text(encoding="utf-8") + LARGE_HOUSEHOLD, "utf-8")
    (project / "sql" / "signals" / "sig_large_household.sql").write_text(
        SIG_LARGE_HOUSEHOLD, encoding="utf-8"
    )
    # What PIPELINE_PROJECT_DIR does for an installed copy: the rules and the SQL steps
    # are read from the project's folders.
    monkeypatch.setattr(paths, "CONFIG_DIR", project / "config")
    monkeypatch.setattr(sql, "SQL_DIR", project / "sql")
    monkeypatch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)

    rules = load_rules()
    assert rules.category_codes[-1] == "large_household"
    assert rules.categories["large_household"].thresholds == {
        "min_size": 6,
        "household_types": ("一般农户",),
    }
    inbox = tmp_path / "inbox"
    households = [
        household_row(1, size=7, income=200_000),  # raised
        household_row(2, size=5, income=200_000),  # too small
        household_row(3, size=8, income=200_000, kind="脱贫户"),  # another type
    ]
    write_delivery(inbox, registry["households"], D, households)
    write_delivery(
        inbox,
        registry["members"],
        D,
        [member_row(number, person_id(number), relation="户主") for number in (1, 2, 3)],
    )

    result = run_day(load_settings(tmp_path / "home", inbox), D)

    with (result.outbox / "alerts.csv").open(encoding="utf-8-sig", newline="") as file:
        raised = [row for row in csv.DictReader(file) if row["category"] == "large_household"]
    assert [(row["household_id"], row["grade"]) for row in raised] == [
        ("3417021012010001", "yellow")
    ]
    assert raised[0]["reasons"] == (
        "【大家庭】区乡村振兴局农户信息：家庭人口7人（阈值：6人）。建议帮扶：入户走访"
    )


def test_a_category_without_its_sql_file_is_refused_naming_the_file(tmp_path: Path):
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        (PROJECT_DIR / "config" / "rules.yaml").read_text(encoding="utf-8") + LARGE_HOUSEHOLD,
        encoding="utf-8",
    )
    with pytest.raises(RulesConfigError) as error:
        load_rules(rules_file)
    message = str(error.value)
    assert str(rules_file) in message
    assert "categories.large_household" in message
    assert str(sql.SQL_DIR / "signals" / "sig_large_household.sql") in message


def test_a_regional_rule_without_its_sql_file_is_refused_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    project = project_copy(tmp_path)
    (project / "sql" / "regional" / "reg_water.sql").unlink()
    monkeypatch.setattr(sql, "SQL_DIR", project / "sql")
    with pytest.raises(RulesConfigError, match=r"regional\.rules\.water: .*reg_water\.sql"):
        load_rules(project / "config" / "rules.yaml")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "      red_open_days: 15",
            "      red_open_dayz: 15",
            "categories.water_unsafe.thresholds.red_open_dayz",
        ),
        (
            "    help: [危房改造]\n",
            "    help: [危房改造]\n    thresholds: {min_grade: C级}\n",
            "categories.housing_unsafe.thresholds.min_grade",
        ),
        (
            "        villages: 3",
            "        village: 3",
            "regional.rules.villages.thresholds.village",
        ),
    ],
    ids=["typo", "key-of-a-category-without-thresholds", "regional-typo"],
)
def test_an_unknown_threshold_of_a_known_entry_is_refused_naming_the_field(
    tmp_path: Path, old: str, new: str, field: str
):
    copy = tmp_path / "rules.yaml"
    shutil.copy(PROJECT_DIR / "config" / "rules.yaml", copy)
    with pytest.raises(RulesConfigError) as error:
        load_rules(with_text(copy, old, new))
    assert str(copy) in str(error.value)
    assert f"{field}: Extra inputs are not permitted" in str(error.value)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("    thresholds: {window: {days: 3}}\n", "window: a threshold is a number"),
        ("    thresholds: {Min-Size: 3}\n", "categories.large_household.thresholds.Min-Size"),
    ],
    ids=["nested", "badly-named"],
)
def test_a_new_categorys_thresholds_are_scalars_or_lists_under_plain_names(
    tmp_path: Path, entry: str, expected: str
):
    copy = tmp_path / "rules.yaml"
    shutil.copy(PROJECT_DIR / "config" / "rules.yaml", copy)
    block = LARGE_HOUSEHOLD.split("    thresholds:")[0] + entry
    copy.write_text(copy.read_text(encoding="utf-8") + block, encoding="utf-8")
    with pytest.raises(RulesConfigError, match=expected):
        load_rules(copy)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  housing_unsafe:\n", "  labourer:\n", "are names of sections"),
        ("quiet_categories: [housing_unsafe,", "quiet_categories: [housing,", "unknown categories"),
    ],
    ids=["a-section-name", "quiet-category"],
)
def test_category_codes_are_checked(tmp_path: Path, old: str, new: str, expected: str):
    copy = tmp_path / "rules.yaml"
    shutil.copy(PROJECT_DIR / "config" / "rules.yaml", copy)
    with pytest.raises(RulesConfigError, match=expected):
        load_rules(with_text(copy, old, new))
