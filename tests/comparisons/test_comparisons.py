"""The data comparison (数据比对) of applications against docs/warning-rules.md, one case per
finding on both sides of its threshold, and the hard rule of the signed authorisation.

Each case is a small world in its own township: registered households with their members,
the applications received on D and the department rows under test. Every case is
delivered together for D, ``run_day`` loads them once, and ``build_comparisons`` is asked
for D's findings (once per recent window the cases need).
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipeline.alerts.rules import Rules, load_rules
from pipeline.comparisons import (
    COLUMNS,
    SHEET,
    build_comparisons,
    write_comparison_workbooks,
    write_comparisons_csv,
)
from pipeline.feeds.inbox import delivery_path
from pipeline.feeds.registry import load_registry
from pipeline.settings import Settings, load_settings
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery
from tests.feeds.test_sql_source import FrontEnd

D = date(2026, 3, 10)
SHORT_WINDOW = 30  # the claims view only ever loads a year: its window is tested on a shorter one
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])|(?<![\d*])\d{15}(?![\d*])")


def ago(days: int) -> date:
    return D - timedelta(days=days)


# With rules.comparison.recent_days = 365: the oldest day inside the window, the first outside.
LAST_DAY_IN = ago(364)
FIRST_DAY_OUT = ago(365)


def with_window(rules: Rules, days: int) -> Rules:
    return rules.model_copy(
        update={"comparison": rules.comparison.model_copy(update={"recent_days": days})}
    )


# ---------------------------------------------------------------- worlds


@dataclass(frozen=True)
class Household:
    key: str
    members: tuple[tuple[str, str], ...]  # (person key, 与户主关系)


def household(key: str, *members: tuple[str, str]) -> Household:
    return Household(key, members)


def head(key: str) -> tuple[str, str]:
    return key, "户主"


def spouse(key: str) -> tuple[str, str]:
    return key, "配偶"


def son(key: str) -> tuple[str, str]:
    return key, "之子"


@dataclass(frozen=True)
class Application:
    key: str
    applicant: str  # a person key: a registered member, or anyone else
    household: str | None  # the household named on the application (None: left empty)
    signed: bool = True


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one world per case
class Case:
    households: tuple[Household, ...]
    applications: tuple[Application, ...]
    # Department rows per feed, in the feed's column order (claims as V_JSMX dicts):
    # "@p" is person p's ID number, "@p.name" their name, "#x" a code unique to the world.
    rows: dict[str, list[Any]]
    expect: dict[str, set[tuple[str, str | None]]]  # application -> {(finding, person_role)}
    evidence: tuple[str, ...] = ()  # text the evidence of the application's findings holds
    recent_days: int | None = None  # rules.comparison.recent_days (None: as configured)


def case(
    id: str,
    households: Household | tuple[Household, ...],
    applications: Application | tuple[Application, ...],
    rows: dict[str, list[Any]],
    expect: dict[str, set[tuple[str, str | None]]],
    **options: Any,
) -> Any:
    households = households if isinstance(households, tuple) else (households,)
    applications = applications if isinstance(applications, tuple) else (applications,)
    return pytest.param(Case(households, applications, rows, expect, **options), id=id)


def applies(applicant: str = "a", household_key: str | None = "h", *, signed: bool = True):
    """The one application of a case, ``x``."""
    return Application("x", applicant, household_key, signed)


ALONE = household("h", head("a"))
FAMILY = household("h", head("a"), spouse("b"), son("c"))


# ---------------------------------------------------------------- department rows


def vehicle(person: str, status: str = "正常", kind: str = "小型轿车", plate: str = "P1") -> list:
    return [
        f"皖R#{plate}",
        f"@{person}",
        f"@{person}.name",
        kind,
        "非营运",
        date(2020, 5, 1),
        status,
    ]


def entity(
    person: str, kind: str, status: str, capital: float | None = None, code: str = "E1"
) -> list:
    return [
        f"#{code}",
        "兴旺建材经营部",
        kind,
        f"@{person}",
        f"@{person}.name",
        capital,
        status,
        ago(40),
    ]


def assistance(person: str, kind: str, change: str, when: date) -> list:
    return [
        f"@{person}",
        f"@{person}.name",
        kind,
        change,
        when,
        500,
        "收入超标" if change == "停保" else "",
    ]


def enrolled(person: str, year: int, status: str) -> list:
    return [f"@{person}", f"@{person}.name", year, status, "无", "贵池区"]


def house(person: str, grade: str, renovation: str, when: date = LAST_DAY_IN) -> list:
    return [f"@{person}", f"@{person}.name", "城关镇某村1号", grade, when, renovation]


def employment(person: str, status: str, when: date) -> list:
    return [f"@{person}", f"@{person}.name", status, "", "", when]


def hukou(person: str, change: str, when: date) -> list:
    return [f"@{person}", f"@{person}.name", change, when, "张三之妻"]


def claim(serial: str, person: str, when: date, self_paid: str, *, reversal_of: str | None = None):
    """A V_JSMX settlement whose amounts add up: total = 2 × self-paid, pooled = self-paid."""
    paid = Decimal(self_paid)
    return {
        "JSLSH": f"#{serial}",
        "SFZH": f"@{person}",
        "XM": f"@{person}.name",
        "JSRQ": when,
        "JZLX": "住院",
        "YLJGMC": "贵池区人民医院",
        "ZDMC": "肺炎",
        "ZFY": 2 * paid,
        "TCZF": paid,
        "DBZF": Decimal("0"),
        "JZZF": Decimal("0"),
        "GRZF": paid,
        "CXBZ": "1" if reversal_of else "0",
        "YJSLSH": f"#{reversal_of}" if reversal_of else None,
    }


def reversal(serial: str, person: str, when: date, self_paid: str, of: str):
    return claim(serial, person, when, f"-{self_paid}", reversal_of=of)


NONE = {("none", None)}

# ---------------------------------------------------------------- the table

CASES = [
    # vehicles: statuses of rules.comparison.vehicle_statuses (正常)
    case(
        "vehicle-in-use",
        ALONE,
        applies(),
        {"police_vehicles": [vehicle("a")]},
        {"x": {("vehicle", "申请人")}},
        evidence=("公安分局交警大队", "申请人名下小型轿车", "非营运", "正常", "2020-05-01"),
    ),
    case(
        "vehicle-deregistered-or-scrapped",
        ALONE,
        applies(),
        {"police_vehicles": [vehicle("a", "注销"), vehicle("a", "报废", plate="P2")]},
        {"x": NONE},
    ),
    # businesses: rules.comparison.business_statuses (存续), any type
    case(
        "business-in-existence",
        ALONE,
        applies(),
        {"market_entities": [entity("a", "有限责任公司", "存续", capital=88.8)]},
        {"x": {("business", "申请人")}},
        evidence=("区市场监督管理局", "有限责任公司", "存续", "注册资本88.8万元", str(ago(40))),
    ),
    case(
        "sole-trader-in-existence",
        ALONE,
        applies(),
        {"market_entities": [entity("a", "个体工商户", "存续")]},
        {"x": {("business", "申请人")}},
        evidence=("个体工商户",),
    ),
    case(
        "business-closed-or-revoked",
        ALONE,
        applies(),
        {
            "market_entities": [
                entity("a", "有限责任公司", "注销", capital=88.8),
                entity("a", "个体工商户", "吊销", code="E2"),
            ]
        },
        {"x": NONE},
    ),
    # assistance: the newest change per person and type, not 停保
    case(
        "assistance-adjusted-is-current-since-it-began",
        ALONE,
        applies(),
        {
            "civil_assistance": [
                assistance("a", "低保", "新增", ago(400)),
                assistance("a", "低保", "调整", ago(100)),
            ]
        },
        {"x": {("assistance", "申请人")}},
        evidence=("区民政局", f"申请人自{ago(400)}起享受低保", "月救助金额500.00元"),
    ),
    case(
        "assistance-stopped",
        ALONE,
        applies(),
        {
            "civil_assistance": [
                assistance("a", "低保", "新增", ago(400)),
                assistance("a", "低保", "停保", ago(100)),
            ]
        },
        {"x": NONE},
    ),
    case(
        "assistance-granted-again-after-a-stop",
        ALONE,
        applies(),
        {
            "civil_assistance": [
                assistance("a", "特困供养", "新增", ago(400)),
                assistance("a", "特困供养", "停保", ago(200)),
                assistance("a", "特困供养", "新增", ago(50)),
            ]
        },
        {"x": {("assistance", "申请人")}},
        evidence=(f"自{ago(50)}起享受特困供养",),
    ),
    # insurance: the list of D's year, status not 正常参保
    case(
        "not-enrolled-this-year",
        ALONE,
        applies(),
        {"med_enrollment": [enrolled("a", 2026, "未参保")]},
        {"x": {("insurance", "申请人")}},
        evidence=("区医疗保障局2026年度参保名单", "参保状态为未参保"),
    ),
    case(
        "enrolled-this-year-not-last-year",
        ALONE,
        applies(),
        {"med_enrollment": [enrolled("a", 2026, "正常参保"), enrolled("a", 2025, "终止参保")]},
        {"x": NONE},
    ),
    # medical: effective settlements of the recent window
    case(
        "settlement-in-the-window",
        ALONE,
        applies(),
        {"med_claims": [claim("S1", "a", ago(10), "500.00"), claim("S2", "a", ago(5), "250.50")]},
        {"x": {("medical", "申请人")}},
        evidence=("区医疗保障局", "近365天结算2笔", "个人自付合计750.50元", f"最近一笔{ago(5)}"),
    ),
    case(
        "reversed-settlement-counts-for-nothing",
        ALONE,
        applies(),
        {
            "med_claims": [
                claim("S1", "a", ago(10), "800.00"),
                reversal("S2", "a", ago(9), "800.00", of="S1"),
            ]
        },
        {"x": NONE},
    ),
    case(
        "reversed-settlement-left-out-of-the-total",
        ALONE,
        applies(),
        {
            "med_claims": [
                claim("S1", "a", ago(10), "800.00"),
                reversal("S2", "a", ago(9), "800.00", of="S1"),
                claim("S3", "a", ago(8), "300.00"),
            ]
        },
        {"x": {("medical", "申请人")}},
        evidence=("结算1笔", "个人自付合计300.00元"),
    ),
    case(
        "settlement-on-the-last-day-of-the-window",
        ALONE,
        applies(),
        {"med_claims": [claim("S1", "a", ago(SHORT_WINDOW - 1), "120.00")]},
        {"x": {("medical", "申请人")}},
        evidence=(f"近{SHORT_WINDOW}天结算1笔",),
        recent_days=SHORT_WINDOW,
    ),
    case(
        "settlement-just-before-the-window",
        ALONE,
        applies(),
        {"med_claims": [claim("S1", "a", ago(SHORT_WINDOW), "120.00")]},
        {"x": NONE},
        recent_days=SHORT_WINDOW,
    ),
    # housing: C级/D级 not 已改造, appraised in the recent window
    case(
        "unsafe-house-appraised-on-the-last-day-of-the-window",
        ALONE,
        applies(),
        {"housing_safety": [house("a", "C级", "未改造")]},
        {"x": {("housing", "申请人")}},
        evidence=("区住房和城乡建设局", str(LAST_DAY_IN), "C级", "局部危房", "未改造"),
    ),
    case(
        "unsafe-house-appraised-before-the-window",
        ALONE,
        applies(),
        {"housing_safety": [house("a", "D级", "未改造", FIRST_DAY_OUT)]},
        {"x": NONE},
    ),
    case(
        "house-under-renovation-of-a-member",
        FAMILY,
        applies(),
        {"housing_safety": [house("b", "D级", "改造中", ago(30))]},
        {"x": {("housing", "配偶")}},
        evidence=("整栋危房", "改造中"),
    ),
    case(
        "house-renovated-or-safe",
        household("h", head("a"), spouse("b")),
        applies(),
        {"housing_safety": [house("a", "D级", "已改造"), house("b", "B级", "无需改造")]},
        {"x": NONE},
    ),
    # employment: the newest registration, 失业登记/返乡未就业 in the recent window
    case(
        "unemployed-on-the-last-day-of-the-window",
        ALONE,
        applies(),
        {"hrss_employment": [employment("a", "失业登记", LAST_DAY_IN)]},
        {"x": {("unemployment", "申请人")}},
        evidence=("区人力资源和社会保障局", f"申请人于{LAST_DAY_IN}失业登记"),
    ),
    case(
        "unemployed-before-the-window",
        ALONE,
        applies(),
        {"hrss_employment": [employment("a", "失业登记", FIRST_DAY_OUT)]},
        {"x": NONE},
    ),
    case(
        "back-home-without-work",
        FAMILY,
        applies(),
        {"hrss_employment": [employment("c", "返乡未就业", ago(10))]},
        {"x": {("unemployment", "之子")}},
        evidence=(f"之子于{ago(10)}返乡未就业",),
    ),
    case(
        "unemployment-ended-by-a-job",
        ALONE,
        applies(),
        {
            "hrss_employment": [
                employment("a", "失业登记", ago(100)),
                employment("a", "就业登记", ago(10)),
            ]
        },
        {"x": NONE},
    ),
    # death: 死亡注销 in the recent window
    case(
        "death-on-the-last-day-of-the-window",
        FAMILY,
        applies(),
        {"police_hukou": [hukou("b", "死亡注销", LAST_DAY_IN)]},
        {"x": {("death", "配偶")}},
        evidence=("公安分局户籍变动", f"配偶于{LAST_DAY_IN}死亡注销"),
    ),
    case(
        "death-before-the-window-or-moved-out",
        FAMILY,
        applies(),
        {
            "police_hukou": [
                hukou("b", "死亡注销", FIRST_DAY_OUT),
                hukou("c", "迁出", ago(10)),
            ]
        },
        {"x": NONE},
    ),
    # who is compared, and how they are named
    case(
        "members-findings-by-relation",
        FAMILY,
        applies(),
        {
            "police_vehicles": [vehicle("b", kind="小型越野客车")],
            "market_entities": [entity("c", "个体工商户", "存续")],
            "med_enrollment": [enrolled("a", 2026, "暂停参保")],
        },
        {"x": {("vehicle", "配偶"), ("business", "之子"), ("insurance", "申请人")}},
        evidence=("配偶名下小型越野客车", "之子为个体工商户的经营者", "申请人参保状态为暂停参保"),
    ),
    case(
        "applicant-not-in-the-registry",
        (),
        applies("z", None),
        {"police_vehicles": [vehicle("z", kind="摩托车")]},
        {"x": {("vehicle", "申请人")}},
        evidence=("申请人名下摩托车",),
    ),
    case(
        "applicant-found-in-the-registry-when-the-household-is-left-empty",
        FAMILY,
        applies("a", None),
        {"police_vehicles": [vehicle("b")]},
        {"x": {("vehicle", "配偶")}},
    ),
    case(
        "applicant-is-a-member-not-the-head",
        FAMILY,
        applies("b"),
        {"police_vehicles": [vehicle("a"), vehicle("b", plate="P2")]},
        {"x": {("vehicle", "户主"), ("vehicle", "申请人")}},
    ),
    case(
        "someone-elses-data-is-not-the-households",
        (FAMILY, household("k", head("d"))),
        applies(),
        {"police_vehicles": [vehicle("d")], "med_enrollment": [enrolled("d", 2026, "未参保")]},
        {"x": NONE},
    ),
    case(
        "nothing-found-in-a-registered-household",
        FAMILY,
        applies(),
        {"med_enrollment": [enrolled("a", 2026, "正常参保")]},
        {"x": NONE},
        evidence=("已比对申请人及家庭成员共3人", "未发现异常"),
    ),
    case(
        "nothing-found-for-an-applicant-not-in-the-registry",
        (),
        applies("z", None),
        {},
        {"x": NONE},
        evidence=("未在监测信息系统建档", "未发现异常"),
    ),
    case(
        "without-authorisation-nothing-is-compared",
        FAMILY,
        applies(signed=False),
        {
            "police_vehicles": [vehicle("a"), vehicle("b", plate="P2")],
            "market_entities": [entity("c", "有限责任公司", "存续", capital=88.8)],
            "police_hukou": [hukou("b", "死亡注销", ago(10))],
        },
        {"x": {("authorisation_missing", None)}},
        evidence=("未签承诺授权书",),
    ),
    case(
        "two-applications-of-one-household-signed-and-not",
        FAMILY,
        (Application("x", "a", "h"), Application("y", "b", "h", signed=False)),
        {"police_vehicles": [vehicle("c")]},
        {"x": {("vehicle", "之子")}, "y": {("authorisation_missing", None)}},
    ),
]


# ---------------------------------------------------------------- running the table


@dataclass
class World:
    """Where one case lives: its township, its village and its people."""

    number: int
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (ID number, name)
    households: dict[str, str] = field(default_factory=dict)  # key -> household id
    applications: dict[str, str] = field(default_factory=dict)  # key -> application id

    @property
    def township(self) -> str:
        return f"341702{self.number:03d}"

    @property
    def village(self) -> str:
        return f"{self.township}001"

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.startswith("#"):  # a code unique to the world, 18 characters (credit codes)
            return f"{self.number:03d}{value[1:]}".rjust(18, "0")
        if "#" in value:  # a plate number unique to the world
            prefix, _, code = value.partition("#")
            return f"{prefix}{self.number:03d}{code}"
        if not value.startswith("@"):
            return value
        key, _, attribute = value[1:].partition(".")
        id_number, name = self.people[key]
        return name if attribute == "name" else id_number

    def secrets(self, rows: dict[str, list[Any]]) -> set[str]:
        """What must never reach a finding: ID numbers, names, plates, entity names."""
        found = {text for person in self.people.values() for text in person}
        for row in rows.get("police_vehicles", []):
            found.add(self.resolve(row[0]))
        for row in rows.get("market_entities", []):
            found.update({self.resolve(row[0]), row[1]})
        for row in rows.get("police_hukou", []):
            found.add(row[4])  # a remark naming someone
        return found


# 性别, 劳动技能, 健康状况, 残疾等级, 在校生状况, 务工状况 of every member
WORKING_ADULT = ("男", "普通劳动力", "健康", None, "非在校生", "县内务工")


def households_row(world: World, household_id: str, head_key: str, size: int) -> list[Any]:
    id_number, name = world.people[head_key]
    return [
        household_id,
        name,
        id_number,
        world.township,
        f"测试{world.number}镇",
        world.village,
        f"测试{world.number}村",
        "一组",
        f"{world.village}G01",
        "一般农户",
        None,
        None,
        None,
        size,
        60_000,
        "13800000000",
    ]


def deliver_worlds(
    cases: list[Case], inbox: Path, business_date: date = D
) -> tuple[list[World], list[dict[str, Any]]]:
    """Every case's rows for ``business_date`` (claims returned for the front-end server)."""
    registry = load_registry()
    sequence = itertools.count()
    feeds: dict[str, list[Any]] = {"households": [], "members": [], "applications": []}
    worlds = []
    for number, item in enumerate(cases, start=1):
        world = World(number)
        keys = [person for home in item.households for person, _ in home.members]
        keys += [app.applicant for app in item.applications if app.applicant not in keys]
        for key in keys:
            world.people[key] = (person_id(next(sequence)), f"测{number}{key}")
        for index, home in enumerate(item.households, start=1):
            household_id = f"{world.village}{index:04d}"
            world.households[home.key] = household_id
            head_key = next(key for key, relation in home.members if relation == "户主")
            feeds["households"].append(
                households_row(world, household_id, head_key, len(home.members))
            )
            for key, relation in home.members:
                id_number, name = world.people[key]
                feeds["members"].append([household_id, name, id_number, relation, *WORKING_ADULT])
        for index, app in enumerate(item.applications, start=1):
            application_id = f"SQ{business_date:%Y%m%d}{number:03d}{index}"
            world.applications[app.key] = application_id
            id_number, name = world.people[app.applicant]
            feeds["applications"].append(
                [
                    application_id,
                    world.households[app.household] if app.household else None,
                    id_number,
                    name,
                    world.village,
                    ago(2),
                    "因病",
                    "是" if app.signed else "否",
                ]
            )
        for feed, rows in item.rows.items():
            feeds.setdefault(feed, []).extend(
                {column: world.resolve(value) for column, value in row.items()}
                if isinstance(row, dict)
                else [world.resolve(value) for value in row]
                for row in rows
            )
        worlds.append(world)
    claims = feeds.pop("med_claims", [])
    for feed, rows in feeds.items():
        if rows:
            write_delivery(inbox, registry[feed], business_date, rows)
    return worlds, claims


def run(root: Path, cases: list[Case], business_date: date = D) -> tuple[Settings, list[World]]:
    """Deliver the cases and run the day; every delivery must load whole."""
    inbox = root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    worlds, claims = deliver_worlds(cases, inbox, business_date)
    with pytest.MonkeyPatch.context() as patch:
        url = f"sqlite:///{root / 'frontend.sqlite'}"
        if claims:
            FrontEnd(url).post(*claims)
        if claims or (root / "frontend.sqlite").exists():
            patch.setenv("PIPELINE_MED_CLAIMS_URL", url)
        else:
            patch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)
        settings = load_settings(root / "home", inbox)
        result = run_day(settings, business_date)
    for feed, info in result.manifest["feeds"].items():
        assert not info.get("rows_quarantined"), (feed, info)
        assert info["status"] in ("loaded", "unchanged", "missing"), (feed, info)
    return settings, worlds


def compare(settings: Settings, rules: Rules, business_date: date = D) -> pd.DataFrame:
    with duckdb.connect(str(settings.home.warehouse)) as connection:
        return build_comparisons(connection, rules, business_date)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory):
    """Every case delivered for one D; findings per recent window the cases ask for."""
    cases = [param.values[0] for param in CASES]
    settings, worlds = run(tmp_path_factory.mktemp("comparisons"), cases)
    rules = load_rules()
    frames = {SHORT_WINDOW: compare(settings, with_window(rules, SHORT_WINDOW))}
    frames[None] = compare(settings, rules)  # last: the warehouse keeps the configured result
    return settings, dict(zip(cases, worlds, strict=True)), frames


def role(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


@pytest.mark.parametrize("item", CASES)
def test_finding(item: Case, table) -> None:
    _, worlds, frames = table
    world, frame = worlds[item], frames[item.recent_days]
    for key, application_id in world.applications.items():
        rows = frame[frame["application_id"] == application_id]
        assert {
            (finding, role(person))
            for finding, person in zip(rows["finding"], rows["person_role"], strict=True)
        } == item.expect[key]
        # reviewed by the township and village of the world, never anyone else's
        assert set(rows["township_code"]) == {world.township}
        assert set(rows["village_code"]) == {world.village}
        app = next(app for app in item.applications if app.key == key)
        registered = world.households.get(app.household or "") or next(
            (
                world.households[home.key]
                for home in item.households
                if app.applicant in dict(home.members)
            ),
            None,
        )
        households = {role(value) for value in rows["household_id"]}
        assert households == {registered if app.signed else None}
        assert rows["finding_label"].str.len().gt(0).all()
        text = "；".join(rows["evidence"])
        for expected in item.evidence:
            assert expected in text, (expected, text)
        # people are named by role: no ID number, name, plate or entity name, anywhere
        shown = "；".join(str(value) for value in rows.to_numpy().ravel())
        for secret in world.secrets(item.rows):
            assert secret not in shown, secret
        assert not UNMASKED_ID.search(text)


def test_every_application_of_the_day_is_in_the_findings(table) -> None:
    settings, worlds, frames = table
    expected = {app for world in worlds.values() for app in world.applications.values()}
    assert set(frames[None]["application_id"]) == expected
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        stored = connection.execute(
            "select count(*), count(distinct application_id) from comparisons.findings "
            "where business_date = $d",
            {"d": D},
        ).fetchone()
    assert stored == (len(frames[None]), len(expected))


def test_a_rerun_of_the_date_gives_the_same_rows(table) -> None:
    settings, _, frames = table
    again = compare(settings, load_rules())
    pd.testing.assert_frame_equal(again, frames[None])
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        count = connection.execute(
            "select count(*) from comparisons.findings where business_date = $d", {"d": D}
        ).fetchone()
    assert count == (len(frames[None]),)


def test_the_csv_has_the_contract_columns(table, tmp_path: Path) -> None:
    _, _, frames = table
    frame = frames[None]
    path = tmp_path / "comparisons.csv"
    digest = write_comparisons_csv(frame, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert len(digest) == 64
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert tuple(back.columns) == COLUMNS
    assert list(back["application_id"]) == list(frame["application_id"])
    assert list(back["evidence"]) == list(frame["evidence"])


def cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    return [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]


def test_one_workbook_per_township_with_its_own_applications(table, tmp_path: Path) -> None:
    _, worlds, frames = table
    frame = frames[None]
    stale = tmp_path / "townships" / f"341702999_数据比对_{D:%Y%m%d}.xlsx"
    stale.parent.mkdir()
    stale.write_bytes(b"left by an earlier run")
    paths = write_comparison_workbooks(frame, D, tmp_path / "townships")
    assert not stale.exists()
    assert [path.name for path in paths] == sorted(
        f"{world.township}_数据比对_{D:%Y%m%d}.xlsx" for world in worlds.values()
    )
    for path in paths:
        township = path.name.split("_")[0]
        book = openpyxl.load_workbook(path)
        assert book.sheetnames == [SHEET]
        sheet = book[SHEET]
        headers = [cell.value for cell in sheet[1]]
        assert headers == ["申请编号", "村代码", "户编号", "比对对象", "比对结果", "比对情况"]
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:F{max(sheet.max_row, 2)}"
        assert sheet.page_setup.orientation == "landscape"
        assert str(sheet.page_setup.paperSize) == str(sheet.PAPERSIZE_A4)
        assert all(row[5].alignment.wrap_text for row in sheet.iter_rows(min_row=2))
        shown = pd.read_excel(path, sheet_name=SHEET, dtype=str)
        expected = frame[frame["township_code"] == township]
        assert list(shown["申请编号"]) == list(expected["application_id"])
        assert list(shown["比对情况"]) == list(expected["evidence"])
        for value in cells(path):
            assert not UNMASKED_ID.search(value)
    # byte-deterministic: the same findings give the same files
    again = write_comparison_workbooks(frame, D, tmp_path / "again")
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in paths]


def test_workbooks_mask_any_personal_number_that_slipped_into_the_text(tmp_path: Path) -> None:
    id_number = person_id(3)
    frame = pd.DataFrame(
        [
            {
                "application_id": "SQ202603100011",
                "business_date": D,
                "township_code": "341702101",
                "village_code": "341702101201",
                "household_id": "3417021012010001",
                "person_role": "申请人",
                "finding": "vehicle",
                "finding_label": "名下有机动车",
                "evidence": f"所有人{id_number}，电话13812345678",
            }
        ]
    )
    [path] = write_comparison_workbooks(frame, D, tmp_path)
    text = "；".join(cells(path))
    assert id_number not in text
    assert "13812345678" not in text
    assert f"{id_number[:6]}********{id_number[-4:]}" in text
    assert "3417021012010001" in text  # household ids are not personal numbers


# ---------------------------------------------------------------- the authorisation


def warehouse_text(settings: Settings) -> str:
    """Every value of every table in the comparisons schema, as text."""
    with duckdb.connect(str(settings.home.warehouse), read_only=True) as connection:
        tables = connection.execute(
            "select table_name from duckdb_tables() where schema_name = 'comparisons' order by 1"
        ).fetchall()
        assert {name for (name,) in tables} >= {"findings", "int_application_people"}
        values = [
            str(value)
            for (name,) in tables
            # a table name from the catalog, quoted: no outside text reaches the statement
            for row in connection.execute(f'select * from comparisons."{name}"').fetchall()
            for value in row
        ]
    return "；".join(values)


def xlsx_text(path: Path) -> str:
    """The XML inside the workbook, shared strings included."""
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


OWNER = household("h", head("a"), spouse("b"))
CAR_AND_COMPANY = {
    "police_vehicles": [vehicle("a", plate="P8")],
    "market_entities": [entity("a", "有限责任公司", "存续", capital=88.8)],
}


def test_without_authorisation_no_department_data_is_looked_up_stored_or_shown(
    tmp_path: Path,
) -> None:
    unsigned = Case((OWNER,), (applies(signed=False),), CAR_AND_COMPANY, {})
    settings, [world] = run(tmp_path, [unsigned])

    frame = compare(settings, load_rules())

    assert len(frame) == 1
    [row] = frame.to_dict("records")
    assert row["finding"] == "authorisation_missing"
    assert row["finding_label"] == "未签承诺授权书，未进行数据比对"
    assert row["application_id"] == world.applications["x"]
    assert (row["township_code"], row["village_code"]) == (world.township, world.village)
    assert role(row["household_id"]) is None
    assert role(row["person_role"]) is None
    csv_path = tmp_path / "outbox" / "comparisons.csv"
    write_comparisons_csv(frame, csv_path)
    [workbook] = write_comparison_workbooks(frame, D, tmp_path / "outbox" / "townships")
    places = {
        "the returned frame": "；".join(str(value) for value in frame.to_numpy().ravel()),
        "the comparisons schema": warehouse_text(settings),
        "comparisons.csv": csv_path.read_text(encoding="utf-8-sig"),
        "the workbook": "；".join(cells(workbook)) + xlsx_text(workbook),
    }
    details = [
        "小型轿车",
        "非营运",
        "2020-05-01",
        world.resolve("皖R#P8"),
        "有限责任公司",
        "兴旺建材",
        "88.8",
        "存续",
        world.resolve("#E1"),
        world.households["h"],
        *world.people["a"],
        *world.people["b"],
    ]
    for place, text in places.items():
        for detail in details:
            assert detail not in text, (place, detail)

    # The same household with a signed authorisation: the car and the company are found.
    signed = Case((OWNER,), (applies(),), CAR_AND_COMPANY, {})
    tomorrow = D + timedelta(days=1)
    signed_root = tmp_path / "signed"
    settings, [world] = run(signed_root, [signed], tomorrow)

    frame = compare(settings, load_rules(), tomorrow)

    assert sorted(zip(frame["finding"], frame["person_role"], strict=True)) == [
        ("business", "申请人"),
        ("vehicle", "申请人"),
    ]
    evidence = "；".join(frame["evidence"])
    for detail in ("小型轿车", "有限责任公司", "88.8", "存续"):
        assert detail in evidence
    for secret in (world.resolve("皖R#P8"), "兴旺建材", world.resolve("#E1"), *world.people["a"]):
        assert secret not in evidence


def test_a_corrected_delivery_withdrawing_the_authorisation_withdraws_the_comparison(
    tmp_path: Path,
) -> None:
    """The newest copy of an application decides: a corrected delivery that now says 否
    withdraws the comparison of an application its earlier copy had authorised."""
    signed = Case((OWNER,), (applies(),), CAR_AND_COMPANY, {})
    settings, _ = run(tmp_path, [signed])
    assert set(compare(settings, load_rules())["finding"]) == {"vehicle", "business"}

    # The township corrects D's delivery: the applicant had not signed after all.
    unsigned = Case((OWNER,), (applies(signed=False),), CAR_AND_COMPANY, {})
    settings, _ = run(tmp_path, [unsigned])
    frame = compare(settings, load_rules())

    assert list(frame["finding"]) == ["authorisation_missing"]
    assert "小型轿车" not in warehouse_text(settings)


def test_a_late_delivery_is_compared_on_the_day_it_arrives(tmp_path: Path) -> None:
    """Applications are those the day's run loaded: a delivery whose marker came after its
    own day's run is compared on the next day, and a rerun of its own day still has none."""
    yesterday = D - timedelta(days=1)
    late = Case((OWNER,), (applies(),), CAR_AND_COMPANY, {})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    deliver_worlds([late], inbox, yesterday)
    applications = delivery_path(inbox, load_registry()["applications"], yesterday)
    marker = applications.with_name(applications.name + ".ok")
    marker.rename(tmp_path / "held-back.ok")
    settings = load_settings(tmp_path / "home", inbox)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)
        run_day(settings, yesterday)
        assert compare(settings, load_rules(), yesterday).empty

        (tmp_path / "held-back.ok").rename(marker)
        run_day(settings, D)
        frame = compare(settings, load_rules())
        assert set(frame["finding"]) == {"vehicle", "business"}
        assert set(frame["application_id"]) == {f"SQ{yesterday:%Y%m%d}0011"}

        run_day(settings, yesterday)
        assert compare(settings, load_rules(), yesterday).empty
