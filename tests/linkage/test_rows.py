"""Rows that lost their ID number (docs/warning-rules.md, "Rows that lost their ID
number"): a row quarantined only for its ID number is proposed as a registry member, used
for the alerts above the threshold, listed for the data engineer either way, and counted
once in the manifest."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipeline.feeds.registry import load_registry
from pipeline.linkage.rows import known_digits
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery

D = date(2026, 3, 10)
VILLAGE = ("341702101", "青山镇", "341702101001", "桃园村")
PEOPLE = [
    # key, household, name, birth
    ("zhang", "1", "张建国", date(1968, 4, 2)),
    ("wang", "2", "王小明", date(1985, 1, 20)),
    ("liu_a", "3", "刘伟", date(1979, 3, 3)),
    ("liu_b", "4", "刘伟", date(1990, 6, 6)),
    ("sun", "5", "孙立平", date(1972, 5, 5)),
]
IDS = {key: person_id(number, birth=birth) for number, (key, _, _, birth) in enumerate(PEOPLE)}


def household_id(number: str) -> str:
    return f"341702101001{int(number):04d}"


def wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def death(id_text: str, name: str, remark: str = "") -> list[Any]:
    return [id_text, name, "死亡注销", "2026-03-08", remark]


# police_hukou rows, and what linkage_candidates.csv should say of each (None: not listed,
# its quarantine has another reason too).
ROWS: list[tuple[list[Any], str | None, str | None]] = [
    (death(wrong_check_digit(IDS["zhang"]), "张建国"), "recovered", "zhang"),
    # Scientific notation keeps 9 digits: the area and the first digits of the year only.
    (death("3.41702198E+17", "王小明"), "below_threshold", None),
    # Two 刘伟 in the registry: the digits left tell them apart.
    (death(wrong_check_digit(IDS["liu_b"]), "刘伟"), "recovered", "liu_b"),
    # Not in the registry at all.
    (
        death(wrong_check_digit(person_id(400, birth=date(1966, 1, 1))), "钱多多"),
        "no_candidate",
        None,
    ),
    # The same death delivered readable too: the broken copy is not loaded twice.
    (death(IDS["sun"], "孙立平"), None, None),
    (death(wrong_check_digit(IDS["sun"]), "孙立平"), "duplicate", "sun"),
    # Another fault beside the number: quarantined as before, not proposed.
    ([wrong_check_digit(IDS["wang"]), "王小明", "死亡注销", "", ""], None, None),
]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rows")
    registry = load_registry()
    inbox = root / "inbox"
    township_code, township_name, village_code, village_name = VILLAGE
    households, members = [], []
    for key, number, name, _ in PEOPLE:
        households.append(
            [
                household_id(number),
                name,
                IDS[key],
                township_code,
                township_name,
                village_code,
                village_name,
                "一组",
                f"{village_code}G01",
                "脱贫户",
                None,
                None,
                None,
                1,
                40000,
                "13800000000",
            ]
        )
        members.append(
            [
                household_id(number),
                name,
                IDS[key],
                "户主",
                "男",
                "普通劳动力",
                "健康",
                None,
                "非在校生",
                "未务工",
            ]
        )
    # Neighbours in other villages: a registry of a few hundred members, as the model's
    # prior (one over the members) and its u (how often two members agree) expect.
    for number in range(10, 310):
        birth = date(1950 + number % 50, 1 + number % 12, 1 + number % 28)
        code, name = f"341702101001{number:04d}", f"邻居{number}"
        households.append(
            [
                code,
                name,
                person_id(number, birth=birth),
                township_code,
                township_name,
                "341702101002",
                "柳河村",
                "一组",
                "341702101002G01",
                "脱贫户",
                None,
                None,
                None,
                1,
                40000,
                "13800000000",
            ]
        )
        members.append(
            [
                code,
                name,
                person_id(number, birth=birth),
                "户主",
                "男",
                "普通劳动力",
                "健康",
                None,
                "非在校生",
                "未务工",
            ]
        )
    write_delivery(inbox, registry["households"], D, households)
    write_delivery(inbox, registry["members"], D, members)
    write_delivery(inbox, registry["police_hukou"], D, [row for row, _, _ in ROWS])
    run_day(load_settings(root / "home", inbox), D)
    return root


def _outbox(root: Path) -> Path:
    return load_settings(root / "home", root / "inbox").home.outbox(D)


def _candidates(root: Path) -> list[dict[str, str]]:
    text = (_outbox(root) / "linkage_candidates.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


def _warehouse(root: Path, text: str) -> pd.DataFrame:
    path = load_settings(root / "home", root / "inbox").home.warehouse
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(text).df()


@pytest.mark.parametrize(
    ("value", "known"),
    [
        # Excel's float keeps 15 significant digits: the first 14 are trusted.
        (341702196804020012.0, "34170219680402"),
        ("3.41702196804020E+17", "34170219680402"),
        # Text in scientific notation: the mantissa's digits but the last (rounded).
        ("3.41702198E+17", "34170219"),
        ("3.41702198e17", "34170219"),
        # A wrong check digit, a wrong length: the digits as written, up to 17.
        ("341702196804020010", "34170219680402001"),
        ("3417021968040200", "3417021968040200"),
        ("３４１７０２１９６８０４０２００１Ｘ", "34170219680402001"),
        ("34170", None),
        (None, None),
        ("abc", None),
    ],
)
def test_the_digits_of_an_unusable_number_that_can_be_trusted(
    value: object, known: str | None
) -> None:
    assert known_digits(value) == known


SAID = {
    "recovered": "已按姓名和身份证号残余数字匹配到本区成员，用于预警",
    "below_threshold": "没有成员达到匹配概率阈值，仅列出候选人",
    "no_candidate": "本区成员中没有同名或身份证号相近的人",
    "duplicate": "该批次已有此人此项记录，未重复载入",
}


def test_each_row_that_lost_its_id_number_is_listed_with_what_was_done(day: Path) -> None:
    listed = _candidates(day)
    expected = [
        (str(number), SAID[status], household_id(_home(key)) if key else "")
        for number, (_, status, key) in enumerate(ROWS, start=1)
        if status is not None
    ]
    assert [(row["行号"], row["处理结果"], row["户编号"]) for row in listed] == expected
    for row in listed:
        # Every ID number masked: area code and the last four digits only.
        for column in ("送达的身份证号", "匹配到的成员身份证号"):
            assert row[column] == "" or "*" in row[column]
        assert not any(number in json.dumps(row, ensure_ascii=False) for number in IDS.values())
    below = next(row for row in listed if row["姓名"] == "王小明")
    # The candidate the digits left point to is shown, with its probability under 0.99.
    assert household_id("2") in below["候选人"]
    assert float(below["最高匹配概率"]) < 0.99


def _home(key: str | None) -> str:
    return next(number for person, number, _, _ in PEOPLE if person == key)


def test_a_recovered_row_raises_the_alert_and_its_reason_says_how(day: Path) -> None:
    alerts = pd.read_csv(_outbox(day) / "alerts.csv", dtype=str)
    deaths = alerts[alerts["category"] == "labour_death"].set_index("household_id")
    assert household_id("1") in deaths.index
    assert "按姓名和身份证号残余数字匹配到本户成员" in deaths.loc[household_id("1"), "reasons"]
    # The 刘伟 the digits pointed to, not his namesake.
    assert household_id("4") in deaths.index
    assert household_id("3") not in deaths.index
    # The readable row of 孙立平 raises the alert, and says nothing of a match by name.
    assert "按姓名" not in deaths.loc[household_id("5"), "reasons"]
    # Below the threshold: listed only.
    assert household_id("2") not in deaths.index


def test_a_recovered_row_is_counted_once(day: Path) -> None:
    manifest = json.loads((_outbox(day) / "manifest.json").read_text(encoding="utf-8"))
    feed = manifest["feeds"]["police_hukou"]
    assert feed["rows_read"] == len(ROWS)
    assert feed["rows_read"] == feed["rows_loaded"] + feed["rows_quarantined"]
    assert feed["rows_loaded"] == 1  # the readable row of 孙立平
    assert feed["rows_quarantined"] == len(ROWS) - 1
    assert feed["rows_recovered"] == 2
    # Still in quarantine.csv: the department has to correct them.
    quarantine = (_outbox(day) / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert quarantine.count("身份证号校验位错误") == 5
    staged = _warehouse(day, "select source_row from staging.stg_police_hukou order by 1")
    assert staged["source_row"].tolist() == [1, 3, 5]


def test_linkage_leaves_no_thread_behind_to_break_a_fork() -> None:
    """A process that linked rows forks its feed workers and the report's drawing later (the
    next date of a run of several): Splink's database must be gone, threads and all."""
    from pipeline.linkage.leads import score_pairs
    from pipeline.linkage.rows import COLUMNS, settings

    people = pd.DataFrame({"unique_id": [person_id(n) for n in range(300)]})
    people["name"] = [f"成员{n % 50}" for n in range(300)]
    people["known"] = people["unique_id"]
    people["known14"] = people["unique_id"].str[:14]
    rows = people.head(3).assign(unique_id=lambda frame: "row" + frame["unique_id"])
    threads = len(list(Path("/proc/self/task").iterdir()))
    pairs = score_pairs(rows, people, people, settings(len(people), 1 / len(people)), COLUMNS)
    assert len(pairs) >= 3
    assert len(list(Path("/proc/self/task").iterdir())) <= threads
