"""Leads (群众反映线索) matched to registered members, table by table (docs/warning-rules.md,
"群众反映线索"): by ID number, by record linkage above and below the threshold, ambiguous,
a township that does not exist, and two leads of one person on one day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipeline import sql
from pipeline.feeds.registry import load_registry
from pipeline.settings import load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery

D = date(2026, 3, 10)

# (household, name, birth, village index) per member; township 1 is 青山镇, 2 is 白水乡.
TOWNSHIPS = {1: ("341702101", "青山镇"), 2: ("341702102", "白水乡")}
VILLAGES = {
    1: (1, "桃园村"),
    2: (1, "柳河村"),
    3: (2, "石桥村"),
}
PEOPLE = [
    # key, household, name, birth, village
    ("zhang", "h1", "张建国", date(1968, 4, 2), 1),
    ("zhang_wife", "h1", "李秀英", date(1970, 8, 9), 1),
    ("wang", "h2", "王小明", date(1985, 1, 20), 1),
    ("liu_a", "h3", "刘伟", date(1979, 3, 3), 2),
    ("liu_b", "h4", "刘伟", date(1990, 6, 6), 2),
    ("zhao", "h5", "赵桂兰", date(1955, 12, 1), 3),
    ("sun", "h6", "孙立平", date(1972, 5, 5), 3),
]
IDS = {key: person_id(number, birth=birth) for number, (key, _, _, birth, _) in enumerate(PEOPLE)}


def household_id(key: str) -> str:
    return f"3417021010010{int(key[1:]):03d}"


def village(index: int) -> tuple[str, str, str, str]:
    """township code, township name, village code, village name."""
    township, name = VILLAGES[index]
    code, township_name = TOWNSHIPS[township]
    return code, township_name, f"{code}{index:03d}", name


def lead(
    lead_id: str,
    source: str,
    name: str,
    id_text: str | None,
    township: str,
    village_said: str,
    summary: str,
) -> list[Any]:
    return [
        lead_id,
        source,
        D.isoformat(),
        name,
        id_text,
        township,
        village_said,
        "13912345678",
        summary,
    ]


# lead rows, and what each should come to: (status, household key or None)
LEADS: list[tuple[list[Any], str, str | None]] = [
    (
        lead("XF1", "信访", "张建国", IDS["zhang"], "青山镇", "桃园村", "反映家中老人住院费用高"),
        "matched",
        "h1",
    ),
    (lead("XF2", "12317", "张建国", None, "青山乡", "桃园", "反映务工受伤"), "matched", "h1"),
    (
        lead("XF3", "媒体", "王晓明", IDS["wang"][:10], "青山　镇", "桃园村", "报道家中房屋漏雨"),
        "matched",
        "h2",
    ),
    (lead("XF4", "舆情", "刘伟", None, "青山镇", "柳河村", "网帖反映孩子辍学"), "ambiguous", None),
    (lead("XF5", "自主申报", "孙丽萍", None, "白水镇", "", "自述收入骤降"), "unmatched", None),
    (
        # A township the district does not have: bad input, quarantined with its reason.
        lead("XF6", "信访", "赵桂兰", None, "黑山镇", "石桥村", "反映房屋倒塌"),
        "quarantined",
        None,
    ),
    # A first-generation (15-digit) number: the area, the birth date without its century, the
    # order; and an 18-digit one with a wrong check digit. Either names one member by ID.
    (
        lead("XF7", "12317", "孙立平", IDS["sun"][:6] + IDS["sun"][8:17], "", "", "反映因病致贫"),
        "matched",
        "h6",
    ),
    (
        lead(
            "XF8",
            "信访",
            "刘伟",
            IDS["liu_b"][:17] + str((int(IDS["liu_b"][17].replace("X", "0")) + 1) % 10),
            "青山镇",
            "柳河村",
            "反映孩子上学难",
        ),
        "matched",
        "h4",
    ),
]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("leads")
    registry = load_registry()
    inbox = root / "inbox"
    households: dict[str, list[Any]] = {}
    members = []
    for key, home, name, _, index in PEOPLE:
        township_code, township_name, village_code, village_name = village(index)
        members.append(
            [
                household_id(home),
                name,
                IDS[key],
                "户主" if home not in households else "配偶",
                "男",
                "普通劳动力",
                "健康",
                None,
                "非在校生",
                "未务工",
            ]
        )
        households.setdefault(
            home,
            [
                household_id(home),
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
                2,
                40000,
                "13800000000",
            ],
        )
    write_delivery(inbox, registry["households"], D, list(households.values()))
    write_delivery(inbox, registry["members"], D, members)
    write_delivery(inbox, registry["leads"], D, [row for row, _, _ in LEADS])
    settings = load_settings(root / "home", inbox)
    run_day(settings, D)
    return root


def _query(root: Path, text: str) -> pd.DataFrame:
    with duckdb.connect(
        str(load_settings(root / "home", root / "inbox").home.warehouse), read_only=True
    ) as connection:
        return connection.execute(text).df()


@pytest.mark.parametrize(("row", "status", "home"), LEADS, ids=[row[0] for row, _, _ in LEADS])
def test_lead_is_matched_or_listed(
    day: Path, row: list[Any], status: str, home: str | None
) -> None:
    matches = _query(day, "select * from signals.int_lead_matches").set_index("lead_id")
    if status == "quarantined":
        assert row[0] not in matches.index
        quarantine = pd.read_csv(
            next((day / "home").rglob("quarantine.csv")), encoding="utf-8-sig", dtype=str
        )
        reasons = quarantine[quarantine["feed"] == "leads"]["reason"].tolist()
        assert reasons == ["乡镇名称不在本区农户信息中"]
        return
    found = matches.loc[row[0]]
    assert found["status"] == status, found.to_dict()
    if row[0] in ("XF1", "XF7", "XF8"):
        assert found["matched_by"] == "id_number"
    if home is None:
        assert pd.isna(found["household_id"])
    else:
        assert found["household_id"] == household_id(home)


def test_two_leads_of_one_person_raise_one_alert_with_both(day: Path) -> None:
    signals = _query(day, "select * from signals.sig_lead").set_index("household_id")
    reason = signals.loc[household_id("h1"), "reason"]
    assert "XF1" in reason
    assert "XF2" in reason
    for text in ("按身份证号匹配", "按姓名和村匹配", "匹配概率"):
        assert text in reason
    assert signals.loc[household_id("h1"), "base_grade"] == "orange"
    alerts = _query(day, "select household_id, category from alerts.alerts where category = 'lead'")
    assert sorted(alerts["household_id"]) == sorted(
        [household_id(home) for home in ("h1", "h2", "h4", "h6")]
    )


def test_unmatched_leads_are_listed_for_the_bureau(day: Path) -> None:
    listed = pd.read_csv(
        next((day / "home").rglob("leads_unmatched.csv")), encoding="utf-8-sig", dtype=str
    )
    assert sorted(listed["线索编号"]) == ["XF4", "XF5"]
    ambiguous = listed.set_index("线索编号").loc["XF4", "候选人"]
    assert ambiguous.count("刘伟") == 2
    assert IDS["liu_a"] not in ambiguous  # masked


@pytest.mark.parametrize(
    ("said", "key"),
    [("青山 镇", "青山"), ("青山　乡", "青山"), ("青山镇", "青山"), ("镇", "镇"), (None, None)],
)
def test_township_names_as_callers_say_them(said: str | None, key: str | None) -> None:
    with duckdb.connect() as connection:
        sql.script(connection, "linkage/place_keys")
        assert connection.execute("select township_key($v)", {"v": said}).fetchone() == (key,)


@pytest.mark.parametrize(
    ("said", "key"),
    [("桃园村", "桃园"), ("桃园", "桃园"), ("桃 园村委会", "桃园"), ("村", "村"), ("", None)],
)
def test_village_names_as_callers_say_them(said: str | None, key: str | None) -> None:
    with duckdb.connect() as connection:
        sql.script(connection, "linkage/place_keys")
        assert connection.execute("select village_key($v)", {"v": said}).fetchone() == (key,)
