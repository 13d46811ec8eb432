"""Regional warnings (防止规模性返贫) against docs/warning-rules.md, "Regional warnings", both
sides of each threshold.

Each case builds the few warehouse tables the rules read (the registry's households and
people, the alerts, the disaster, water and employment feeds) in a fresh DuckDB file and
asks ``update_regional`` for the business date D.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipeline.alerts.rules import load_rules
from pipeline.paths import SQL_DIR
from pipeline.regional.warnings import regional_warnings, update_regional
from tests.conftest import person_id

D = date(2026, 3, 10)
RULES = load_rules()
TOWNSHIP = "341702101"


def village(number: int) -> str:
    return f"{TOWNSHIP}{200 + number}"


def ago(days: int) -> date:
    return D - timedelta(days=days)


class World:
    """A district of villages of ``size`` households each, and what happened in it."""

    def __init__(self, villages: dict[int, int]) -> None:
        self.households: list[dict[str, Any]] = []
        self.people: list[dict[str, Any]] = []
        for number, size in villages.items():
            for index in range(size):
                household = f"{village(number)}{index:04d}"
                self.households.append(
                    {
                        "household_id": household,
                        "township_code": TOWNSHIP,
                        "township_name": "清溪乡",
                        "village_code": village(number),
                        "village_name": f"第{number}村",
                    }
                )
                self.people.append(
                    {"id_number": person_id(len(self.people) + 1), "household_id": household}
                )
        self.alerts: list[dict[str, Any]] = []
        self.disasters: list[dict[str, Any]] = []
        self.water: list[dict[str, Any]] = []
        self.employment: list[dict[str, Any]] = []

    def alert(self, number: int, count: int, category: str = "medical_burden", raised: date = D):
        members = [h for h in self.households if h["village_code"] == village(number)]
        for household in members[:count]:
            self.alerts.append(
                {
                    "alert_id": f"{household['household_id']}-{category}-{raised:%Y%m%d}",
                    "household_id": household["household_id"],
                    "category": category,
                    "grade": "yellow",
                    "status": "new",
                    "first_raised": raised,
                    "last_updated": raised,
                    "verify_by": D + timedelta(days=20),
                    "reasons": "…",
                    "township_code": TOWNSHIP,
                    "village_code": village(number),
                }
            )
        return self

    def disaster(self, severity: str, occurred: date = D, number: int | None = 1):
        self.disasters.append(
            {
                "event_id": f"YJ{len(self.disasters):04d}",
                "disaster_type": "洪涝",
                "township_code": TOWNSHIP,
                "village_code": village(number) if number else None,
                "occurrence_date": occurred,
                "households_affected": 30,
                "direct_loss_10k_yuan": 120.5,
                "severity": severity,
            }
        )
        return self

    def water_problem(self, affected: int, restored: date | None = None, number: int = 1):
        self.water.append(
            {
                "problem_id": f"SW{len(self.water):04d}",
                "village_code": village(number),
                "project_name": "集中供水工程",
                "problem_type": "停水",
                "start_date": ago(5),
                "restored_date": restored,
                "households_affected": affected,
            }
        )
        return self

    def registrations(self, recent: int, baseline: int):
        """``recent`` registrations in the last 30 days, ``baseline`` in the 90 before."""
        dates = [ago(1 + i % 29) for i in range(recent)] + [
            ago(31 + i % 89) for i in range(baseline)
        ]
        for index, changed in enumerate(dates):
            self.employment.append(
                {
                    "id_number": self.people[index % len(self.people)]["id_number"],
                    "employment_status": "返乡未就业" if index % 2 else "失业登记",
                    "change_date": changed,
                }
            )
        return self

    def warehouse(self, path: Path) -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect(str(path))
        connection.execute("create schema signals; create schema staging")
        connection.execute((SQL_DIR / "alerts" / "schema.sql").read_text(encoding="utf-8"))
        tables = {
            "signals.int_households": (self.households, {}),
            "signals.int_people": (self.people, {}),
            "staging.cur_disaster_events": (self.disasters, {"village_code": "varchar"}),
            "staging.cur_water_supply": (self.water, {"restored_date": "date"}),
            "staging.cur_hrss_employment": (self.employment, {}),
        }
        empty = {
            "staging.cur_disaster_events": "event_id varchar, disaster_type varchar, township_code varchar, village_code varchar, occurrence_date date, households_affected bigint, direct_loss_10k_yuan double, severity varchar",
            "staging.cur_water_supply": "problem_id varchar, village_code varchar, project_name varchar, problem_type varchar, start_date date, restored_date date, households_affected bigint",
            "staging.cur_hrss_employment": "id_number varchar, employment_status varchar, change_date date",
        }
        for name, (rows, casts) in tables.items():
            if rows:
                frame = pd.DataFrame(rows)
                connection.register("rows", frame)
                listed = ", ".join(
                    f"cast({column} as {casts[column]}) as {column}" if column in casts else column
                    for column in frame.columns
                )
                connection.execute(f"create table {name} as select {listed} from rows")
                connection.unregister("rows")
            else:
                connection.execute(f"create table {name} ({empty[name]})")
        if self.alerts:
            connection.register("rows", pd.DataFrame(self.alerts))
            connection.execute("insert into alerts.alerts by name select * from rows")
            connection.unregister("rows")
        return connection


def raised(world: World, tmp_path: Path) -> set[tuple[str, str, str]]:
    with world.warehouse(tmp_path / "warehouse.duckdb") as connection:
        update_regional(connection, RULES, D)
        frame = regional_warnings(connection, D)
    return {(row.scope_code, row.rule, row.category) for row in frame.itertuples()}


CASES = [
    # A village of 50: five new alerts of one category are 10 %; four are not.
    (
        "concentration: 10 % of the village",
        World({1: 50}).alert(1, 5),
        {(village(1), "concentration", "medical_burden")},
    ),
    ("concentration: just under 10 %", World({1: 50}).alert(1, 4), set()),
    # A village of 200: ten households reach the count before the share.
    (
        "concentration: 10 households",
        World({1: 200}).alert(1, 10),
        {(village(1), "concentration", "medical_burden")},
    ),
    ("concentration: 9 households", World({1: 200}).alert(1, 9), set()),
    (
        "concentration: counted per category",
        World({1: 50}).alert(1, 3).alert(1, 3, "unemployment"),
        set(),
    ),
    (
        "concentration: within 7 days",
        World({1: 50}).alert(1, 5, raised=ago(6)),
        {(village(1), "concentration", "medical_burden")},
    ),
    ("concentration: older than 7 days", World({1: 50}).alert(1, 5, raised=ago(7)), set()),
    ("disaster: 较大", World({1: 20}).disaster("较大"), {(village(1), "disaster", "disaster")}),
    ("disaster: 一般", World({1: 20}).disaster("一般"), set()),
    ("disaster: 重大 a month ago", World({1: 20}).disaster("重大", ago(30)), set()),
    (
        "disaster: 重大 within the window",
        World({1: 20}).disaster("重大", ago(29)),
        {(village(1), "disaster", "disaster")},
    ),
    (
        "disaster: township-wide",
        World({1: 20}).disaster("特别重大", number=None),
        {(TOWNSHIP, "disaster", "disaster")},
    ),
    (
        "water: 50 households",
        World({1: 20}).water_problem(50),
        {(village(1), "water", "water_unsafe")},
    ),
    ("water: 49 households", World({1: 20}).water_problem(49), set()),
    ("water: restored on D", World({1: 20}).water_problem(80, restored=D), set()),
    (
        "water: restored after D",
        World({1: 20}).water_problem(80, restored=D + timedelta(days=1)),
        {(village(1), "water", "water_unsafe")},
    ),
    (
        "villages: three warned villages in a township",
        World({1: 20, 2: 20, 3: 20})
        .water_problem(60, number=1)
        .water_problem(60, number=2)
        .water_problem(60, number=3),
        {(village(n), "water", "water_unsafe") for n in (1, 2, 3)} | {(TOWNSHIP, "villages", "")},
    ),
    (
        "villages: two are not enough",
        World({1: 20, 2: 20, 3: 20}).water_problem(60, number=1).water_problem(60, number=2),
        {(village(n), "water", "water_unsafe") for n in (1, 2)},
    ),
    # 90 days of 12 registrations are 4 per 30 days: more than 8 in the last 30 is a wave.
    (
        "unemployment: 9 against 4 a month",
        World({1: 40}).registrations(9, 12),
        {(TOWNSHIP, "unemployment", "unemployment")},
    ),
    ("unemployment: 8 against 4 a month", World({1: 40}).registrations(8, 12), set()),
    ("unemployment: a few after a quiet quarter", World({1: 40}).registrations(4, 0), set()),
    (
        "unemployment: five after a quiet quarter",
        World({1: 40}).registrations(5, 0),
        {(TOWNSHIP, "unemployment", "unemployment")},
    ),
]


@pytest.mark.parametrize(
    ("world", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_each_rule_on_both_sides_of_its_threshold(world, expected, tmp_path):
    assert raised(world, tmp_path) == expected


def test_a_warning_is_raised_once_kept_up_to_date_and_closed(tmp_path):
    world = World({1: 20}).water_problem(60)
    with world.warehouse(tmp_path / "warehouse.duckdb") as connection:
        update_regional(connection, RULES, D - timedelta(days=1))
        first = regional_warnings(connection, D - timedelta(days=1))
        assert list(first["status"]) == ["new"]
        update_regional(connection, RULES, D)
        second = regional_warnings(connection, D)
        assert list(second["regional_id"]) == list(first["regional_id"])
        assert list(second["status"]) == ["open"]
        # The reason says how long the problem has lasted: newer evidence, same warning.
        assert second.loc[0, "last_updated"] == pd.Timestamp(D)
        assert "已5天" in second.loc[0, "reason"]
        # A rerun of D gives D's warnings again, from the state of the day before.
        update_regional(connection, RULES, D)
        pd.testing.assert_frame_equal(regional_warnings(connection, D), second)
        connection.execute("update staging.cur_water_supply set restored_date = $d", {"d": D})
        update_regional(connection, RULES, D + timedelta(days=1))
        third = regional_warnings(connection, D + timedelta(days=1))
        assert list(third["status"]) == ["closed"]
        assert "条件不再满足" in third.loc[0, "reason"]
        update_regional(connection, RULES, D + timedelta(days=2))
        assert regional_warnings(connection, D + timedelta(days=2)).empty
