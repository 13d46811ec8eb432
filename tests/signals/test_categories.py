"""Every warning category against docs/warning-rules.md, "Categories", one table per category.

Each row of a table is a small world: one to three households with their members and
the department rows under test, and the base grade that page gives each household
(``None``: not raised). The rows of one category are delivered together for business
date D, each world in its own township and villages so that none sees another's data;
``run_day`` loads them once and ``build_signals`` is asked for ``signals.sig_<category>``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.alerts.rules import Rules, load_rules
from pipeline.feeds.registry import load_registry
from pipeline.paths import CONFIG_DIR
from pipeline.settings import Settings, load_settings
from pipeline.signals.build import build_signals
from pipeline.steps import run_day
from tests.conftest import person_id, write_delivery
from tests.feeds.test_sql_source import FrontEnd

D = date(2026, 3, 10)  # the business date; rural income of 2025 = the 2023 value, 21144 yuan
ADULT = date(1980, 5, 17)  # the default birth date: an adult of 45


def ago(days: int) -> date:
    return D - timedelta(days=days)


TEN_DAYS_AGO = ago(10)


def aged(years: int, *, last_day: bool = False) -> date:
    """Birth date of someone who turns ``years`` on D, or (``last_day``) turns ``years + 1`` tomorrow."""
    birthday = D.replace(year=D.year - years)
    return birthday + timedelta(days=1) if last_day else birthday


# ---------------------------------------------------------------- worlds


@dataclass(frozen=True)
class Person:
    key: str
    relation: str = "户主"
    birth: date = ADULT
    skill: str = "普通劳动力"


@dataclass(frozen=True)
class Home:
    key: str
    kind: str  # 脱贫户, 一般农户, 监测户 (风险状态 empty), 监测户/未消除, 监测户/已消除
    members: tuple[Person, ...]
    income: float | None = None  # 上年家庭纯收入; default 20000 per person: far from the line
    size: int | None = None  # 家庭人口数; default the members listed
    village: int = 1


def home(
    key: str,
    kind: str,
    *members: Person,
    income: float | None = None,
    size: int | None = None,
    village: int = 1,
) -> Home:
    return Home(key, kind, members, income, size, village)


@dataclass(frozen=True)
class Case:
    homes: tuple[Home, ...]
    # Department rows per feed, in the feed's column order. "@p" is person p's ID number,
    # "@p.name" their name, "@p.float" their ID number as an Excel float, "@town" the
    # world's township code, "@v1"/"@v2" its village codes, "#x" a code unique to the world.
    rows: dict[str, list[Any]]
    expect: dict[str, str | None]  # household key -> base grade (None: not raised)
    reason: tuple[str, ...] = ()  # text every raised household's reason contains
    scenario: str = "main"  # worlds of the same category and scenario share one run
    quarantined: int = 0  # rows of this world quarantined on purpose (docs/feeds.md)


def case(
    id: str,
    homes: Home | tuple[Home, ...],
    rows: dict[str, list[Any]],
    expect: dict[str, str | None],
    **options: Any,
) -> Any:
    homes = homes if isinstance(homes, tuple) else (homes,)
    return pytest.param(Case(homes, rows, expect, **options), id=id)


# ---------------------------------------------------------------- department rows


def claim(
    serial: str,
    person: str,
    when: date,
    self_paid: str,
    visit: str = "普通门诊",
    *,
    reversal_of: str | None = None,
) -> dict[str, Any]:
    """A V_JSMX settlement whose amounts add up: total = 2 × self-paid, pooled = self-paid."""
    paid = Decimal(self_paid)
    return {
        "JSLSH": serial,
        "SFZH": f"@{person}",
        "XM": f"@{person}.name",
        "JSRQ": when,
        "JZLX": visit,
        "YLJGMC": "贵池区人民医院",
        "ZDMC": "肺炎",
        "ZFY": 2 * paid,
        "TCZF": paid,
        "DBZF": Decimal("0"),
        "JZZF": Decimal("0"),
        "GRZF": paid,
        "CXBZ": "1" if reversal_of else "0",
        "YJSLSH": reversal_of,
    }


def reversal(serial: str, person: str, when: date, self_paid: str, of: str) -> dict[str, Any]:
    return claim(serial, person, when, f"-{self_paid}", reversal_of=of)


def enrolled(person: str, year: int, status: str = "正常参保") -> list[Any]:
    return [f"@{person}", f"@{person}.name", year, status, "无", "贵池区"]


def student(person: str, stage: str, status: str, when: date) -> list[Any]:
    return [f"@{person}", f"@{person}.name", "城关学校", stage, "", status, when, ""]


def house(person: str, grade: str, renovation: str) -> list[Any]:
    return [f"@{person}", f"@{person}.name", "城关镇某村1号", grade, ago(30), renovation]


def water(serial: str, kind: str, start: date, restored: date | None = None, village: str = "@v1"):
    return [serial, village, "城关供水站", kind, start, restored, 40]


def assistance(person: str, kind: str, change: str, when: date, stop_reason: str = "") -> list[Any]:
    return [f"@{person}", f"@{person}.name", kind, change, when, 500, stop_reason]


def employment(person: str, status: str, when: date) -> list[Any]:
    return [f"@{person}", f"@{person}.name", status, "", "", when]


def hukou(person: str, change: str, when: date) -> list[Any]:
    return [f"@{person}", f"@{person}.name", change, when, ""]


def entity(
    serial: str,
    person: str,
    kind: str,
    status: str,
    when: date = TEN_DAYS_AGO,
    capital: float | None = None,
    name: str = "城关小卖部",
) -> list[Any]:
    return [serial, name, kind, f"@{person}", f"@{person}.name", capital, status, when]


def vehicle(serial: str, person: str, kind: str, usage: str, status: str) -> list[Any]:
    return [serial, f"@{person}", f"@{person}.name", kind, usage, date(2020, 5, 1), status]


def event(serial: str, severity: str, when: date, village: str | None = "@v1") -> list[Any]:
    return [serial, "洪涝", "@town", village, when, 30, 12.5, severity]


def head(key: str, **options: Any) -> Person:
    return Person(key, **options)


def spouse(key: str, **options: Any) -> Person:
    return Person(key, "配偶", **options)


def child(key: str, birth: date, skill: str = "无劳动力") -> Person:
    return Person(key, "之子", birth, skill)


# ---------------------------------------------------------------- tables

# Thresholds for D in 2026: rural income 21144 (2023, the latest earlier year):
# monitored 50 % = 10572.00, others 100 % = 21144.00; inpatient 5000 / 20000.
RICH = 100_000
MEDICAL_BURDEN = [
    case(
        "50%-reached-monitored-orange-other-not",
        (
            home("monitored", "脱贫户", head("a"), income=RICH),
            home("other", "一般农户", head("b"), income=RICH),
        ),
        {
            "med_claims": [
                claim("#S1", "a", ago(10), "10572.00"),
                claim("#S2", "b", ago(10), "10572.00"),
            ]
        },
        {"monitored": "orange", "other": None},
        reason=("区医疗保障局", "10572.00", str(ago(10))),
    ),
    case(
        "just-below-50%-monitored",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "10571.99")]},
        {"monitored": None},
    ),
    case(
        "100%-reached-other",
        home("other", "一般农户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "21144.00")]},
        {"other": "orange"},
    ),
    case(
        "just-below-100%-other",
        home("other", "一般农户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "21143.99")]},
        {"other": None},
    ),
    case(
        "50%-by-monitoring-status",
        (
            home("risk-empty", "监测户", head("a"), income=RICH),
            home("risk-open", "监测户/未消除", head("b"), income=RICH),
            home("risk-cleared", "监测户/已消除", head("c"), income=RICH),
        ),
        {
            "med_claims": [
                claim("#S1", "a", ago(10), "10572.00"),
                claim("#S2", "b", ago(10), "10572.00"),
                claim("#S3", "c", ago(10), "10572.00"),
            ]
        },
        {"risk-empty": "orange", "risk-open": "orange", "risk-cleared": None},
    ),
    case(
        "members-summed-per-household",
        home("monitored", "脱贫户", head("a"), spouse("b"), income=RICH),
        {
            "med_claims": [
                claim("#S1", "a", ago(100), "5286.00"),
                claim("#S2", "b", ago(10), "5286.00"),
            ]
        },
        {"monitored": "orange"},
    ),
    case(
        "inpatient-5000-monitored-orange-other-not",
        (
            home("monitored", "脱贫户", head("a"), income=RICH),
            home("other", "一般农户", head("b"), income=RICH),
        ),
        {
            "med_claims": [
                claim("#S1", "a", ago(10), "5000.00", "住院"),
                claim("#S2", "b", ago(10), "5000.00", "住院"),
            ]
        },
        {"monitored": "orange", "other": None},
    ),
    case(
        "inpatient-4999.99-monitored",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "4999.99", "住院")]},
        {"monitored": None},
    ),
    case(
        "outpatient-5000-is-not-inpatient",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "5000.00", "门诊慢特病")]},
        {"monitored": None},
    ),
    case(
        "inpatient-20000-other",
        home("other", "一般农户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "20000.00", "住院")]},
        {"other": "orange"},
    ),
    case(
        "inpatient-19999.99-other",
        home("other", "一般农户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "19999.99", "住院")]},
        {"other": None},
    ),
    case(
        "window-first-day-counts-in-sum",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {
            "med_claims": [
                claim("#S1", "a", ago(364), "5286.00"),
                claim("#S2", "a", ago(0), "5286.00"),
            ]
        },
        {"monitored": "orange"},
    ),
    case(
        "window-one-day-too-old-in-sum",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {
            "med_claims": [
                claim("#S1", "a", ago(365), "5286.00"),
                claim("#S2", "a", ago(0), "5286.00"),
            ]
        },
        {"monitored": None},
    ),
    case(
        "window-first-day-inpatient",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(364), "5000.00", "住院")]},
        {"monitored": "orange"},
    ),
    case(
        "window-one-day-too-old-inpatient",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(365), "5000.00", "住院")]},
        {"monitored": None},
    ),
    case(
        "reversed-inpatient-counts-for-nothing",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {
            "med_claims": [
                claim("#S1", "a", ago(20), "6000.00", "住院"),
                reversal("#S2", "a", ago(10), "6000.00", of="#S1"),
            ]
        },
        {"monitored": None},
    ),
    case(
        "reversed-settlement-leaves-the-sum",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {
            "med_claims": [
                claim("#S1", "a", ago(30), "6000.00"),
                claim("#S2", "a", ago(20), "6000.00"),
                reversal("#S3", "a", ago(10), "6000.00", of="#S2"),
            ]
        },
        {"monitored": None},
    ),
    case(
        "reversal-cancels-only-its-own-settlement",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {
            "med_claims": [
                claim("#S1", "a", ago(30), "6000.00", "住院"),
                claim("#S2", "a", ago(20), "3000.00"),
                reversal("#S3", "a", ago(10), "3000.00", of="#S2"),
            ]
        },
        {"monitored": "orange"},
    ),
    case(
        "red-when-cost-exceeds-annual-income",
        home("monitored", "脱贫户", head("a"), income=12_000),
        {"med_claims": [claim("#S1", "a", ago(10), "12000.01")]},
        {"monitored": "red"},
        reason=("超过家庭上年纯收入", "12000.00"),
    ),
    case(
        "cost-equal-to-annual-income-stays-orange",
        home("monitored", "脱贫户", head("a"), income=12_000),
        {"med_claims": [claim("#S1", "a", ago(10), "12000.00")]},
        {"monitored": "orange"},
    ),
    case(
        "red-other-inpatient-above-income",
        home("other", "一般农户", head("a"), income=19_999),
        {"med_claims": [claim("#S1", "a", ago(10), "20000.00", "住院")]},
        {"other": "red"},
    ),
]

STATUS_IDS = {"未参保": "not-enrolled", "暂停参保": "suspended", "终止参保": "terminated"}
MEDICAL_UNINSURED = [
    case(
        "insured-this-year",
        home("monitored", "脱贫户", head("a")),
        {"med_enrollment": [enrolled("a", 2026)]},
        {"monitored": None},
    ),
    case(
        "member-missing-from-the-list",
        home("monitored", "脱贫户", head("a"), spouse("b")),
        {"med_enrollment": [enrolled("a", 2026)]},
        {"monitored": "orange"},
        reason=("区医疗保障局", "2026", "配偶"),
    ),
    *(
        case(
            f"status-{STATUS_IDS[status]}",
            home("monitored", "脱贫户", head("a")),
            {"med_enrollment": [enrolled("a", 2026, status)]},
            {"monitored": "orange"},
            reason=(status,),
        )
        for status in ("未参保", "暂停参保", "终止参保")
    ),
    case(
        "insured-only-last-year",
        home("monitored", "脱贫户", head("a")),
        {"med_enrollment": [enrolled("a", 2025)]},
        {"monitored": "orange"},
    ),
    case(
        "monitored-households-only",
        (
            home("ordinary", "一般农户", head("a")),
            home("risk-cleared", "监测户/已消除", head("b")),
            home("risk-empty", "监测户", head("c")),
            home("risk-open", "监测户/未消除", head("d")),
        ),
        {"med_enrollment": []},
        {"ordinary": None, "risk-cleared": None, "risk-empty": "orange", "risk-open": "orange"},
    ),
    case(
        "quarantined-row-is-reported-not-alerted",
        home("monitored", "脱贫户", head("a")),
        {"med_enrollment": [["@a.float", "@a.name", 2026, "正常参保", "无", "贵池区"]]},
        {"monitored": None},
        quarantined=1,
    ),
    case(
        "no-list-for-the-year-yet",
        home("monitored", "脱贫户", head("a")),
        {"med_enrollment": [enrolled("a", 2025)]},
        {"monitored": None},
        scenario="list-of-2026-not-arrived",
    ),
]

EDUCATION_DROPOUT = [
    case(
        "primary-dropped-out",
        home("h", "脱贫户", head("a"), child("kid", aged(12))),
        {"edu_students": [student("kid", "小学", "辍学", ago(10))]},
        {"h": "red"},
        reason=("区教育局", "辍学", str(ago(10))),
    ),
    case(
        "junior-secondary-suspended",
        home("h", "脱贫户", head("a"), child("kid", aged(14))),
        {"edu_students": [student("kid", "初中", "休学", ago(10))]},
        {"h": "red"},
    ),
    case(
        "compulsory-stage-counts-at-any-age",
        home("h", "脱贫户", head("a"), child("kid", aged(17))),
        {"edu_students": [student("kid", "初中", "辍学", ago(10))]},
        {"h": "red"},
    ),
    case(
        "senior-secondary-aged-15",
        home("h", "脱贫户", head("a"), child("kid", aged(15, last_day=True))),
        {"edu_students": [student("kid", "高中", "辍学", ago(10))]},
        {"h": "red"},
    ),
    case(
        "senior-secondary-aged-16",
        home("h", "脱贫户", head("a"), child("kid", aged(16))),
        {"edu_students": [student("kid", "高中", "辍学", ago(10))]},
        {"h": None},
    ),
    case(
        "preschool-aged-6",
        home("h", "脱贫户", head("a"), child("kid", aged(6))),
        {"edu_students": [student("kid", "学前", "辍学", ago(10))]},
        {"h": "red"},
    ),
    case(
        "preschool-aged-5",
        home("h", "脱贫户", head("a"), child("kid", aged(5, last_day=True))),
        {"edu_students": [student("kid", "学前", "辍学", ago(10))]},
        {"h": None},
    ),
    case(
        "transferred-out-is-no-dropout",
        home("h", "脱贫户", head("a"), child("kid", aged(12))),
        {"edu_students": [student("kid", "小学", "转出", ago(10))]},
        {"h": None},
    ),
    case(
        "newest-status-back-at-school",
        home("h", "脱贫户", head("a"), child("kid", aged(12))),
        {
            "edu_students": [
                student("kid", "小学", "辍学", ago(30)),
                student("kid", "小学", "在读", ago(10)),
            ]
        },
        {"h": None},
    ),
    case(
        "newest-status-dropped-out",
        home("h", "脱贫户", head("a"), child("kid", aged(12))),
        {
            "edu_students": [
                student("kid", "小学", "在读", ago(30)),
                student("kid", "小学", "辍学", ago(10)),
            ]
        },
        {"h": "red"},
    ),
    case(
        "recent-day-90",
        home("h", "脱贫户", head("a"), child("kid", aged(12))),
        {"edu_students": [student("kid", "小学", "辍学", ago(89))]},
        {"h": "red"},
    ),
    case(
        "recent-day-91",
        home("h", "脱贫户", head("a"), child("kid", aged(12))),
        {"edu_students": [student("kid", "小学", "辍学", ago(90))]},
        {"h": None},
    ),
    case(
        "unmonitored-household-too",
        home("h", "一般农户", head("a"), child("kid", aged(12))),
        {"edu_students": [student("kid", "小学", "辍学", ago(10))]},
        {"h": "red"},
    ),
]

HOUSING_UNSAFE = [
    case(
        "grade-D-not-renovated",
        home("h", "脱贫户", head("a")),
        {"housing_safety": [house("a", "D级", "未改造")]},
        {"h": "red"},
        reason=("区住房和城乡建设局", "D级", str(ago(30))),
    ),
    case(
        "grade-C-renovating",
        home("h", "脱贫户", head("a")),
        {"housing_safety": [house("a", "C级", "改造中")]},
        {"h": "orange"},
    ),
    case(
        "grade-C-not-renovated",
        home("h", "脱贫户", head("a")),
        {"housing_safety": [house("a", "C级", "未改造")]},
        {"h": "orange"},
    ),
    case(
        "grade-D-renovated",
        home("h", "脱贫户", head("a")),
        {"housing_safety": [house("a", "D级", "已改造")]},
        {"h": None},
    ),
    case(
        "grade-C-renovated",
        home("h", "脱贫户", head("a")),
        {"housing_safety": [house("a", "C级", "已改造")]},
        {"h": None},
    ),
    case(
        "grade-B-not-renovated",
        home("h", "脱贫户", head("a")),
        {"housing_safety": [house("a", "B级", "未改造")]},
        {"h": None},
    ),
    case(
        "house-of-a-member-not-the-head",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"housing_safety": [house("b", "D级", "未改造")]},
        {"h": None},
    ),
    case(
        "unmonitored-household-too",
        home("h", "一般农户", head("a")),
        {"housing_safety": [house("a", "D级", "未改造")]},
        {"h": "red"},
    ),
]

WATER_UNSAFE = [
    case(
        "outage-3-days-monitored-only",
        (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
        {"water_supply": [water("#W1", "停水", ago(3))]},
        {"monitored": "orange", "other": None},
        reason=("区水利局", "停水", str(ago(3))),
    ),
    case(
        "outage-2-days",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "停水", ago(2))]},
        {"h": None},
    ),
    case(
        "low-volume-3-days",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水量不足", ago(3))]},
        {"h": "orange"},
    ),
    case(
        "source-dry-3-days",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水源枯竭", ago(3))]},
        {"h": "orange"},
    ),
    case(
        "source-dry-2-days",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水源枯竭", ago(2))]},
        {"h": None},
    ),
    case(
        "outage-14-days",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "停水", ago(14))]},
        {"h": "orange"},
    ),
    case(
        "outage-15-days-red",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "停水", ago(15))]},
        {"h": "red"},
    ),
    case(
        "bad-quality-same-day",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水质不达标", ago(0))]},
        {"h": "orange"},
    ),
    case(
        "bad-quality-14-days",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水质不达标", ago(14))]},
        {"h": "orange"},
    ),
    case(
        "bad-quality-15-days-red",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水质不达标", ago(15))]},
        {"h": "red"},
    ),
    case(
        "restored-after-D-still-open",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "停水", ago(20), D + timedelta(days=1))]},
        {"h": "red"},
    ),
    case(
        "restored-on-D",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "停水", ago(20), D)]},
        {"h": None},
    ),
    case(
        "restored-before-D",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水质不达标", ago(20), ago(1))]},
        {"h": None},
    ),
    # A problem reported and restored on the same day comes as two rows with one 问题编号:
    # the later row updates the problem, in force; nothing is quarantined.
    case(
        "reported-and-restored-same-day",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水质不达标", D), water("#W1", "水质不达标", D, D)]},
        {"h": None},
    ),
    case(
        "restored-same-day-beside-a-lasting-outage",
        home("h", "脱贫户", head("a")),
        {
            "water_supply": [
                water("#W1", "停水", ago(5)),
                water("#W2", "水质不达标", D),
                water("#W2", "水质不达标", D, D),
            ]
        },
        {"h": "orange"},
        reason=("停水",),
    ),
    case(
        "exact-copy-of-a-row-is-a-duplicate",
        home("h", "脱贫户", head("a")),
        {"water_supply": [water("#W1", "水质不达标", D), water("#W1", "水质不达标", D)]},
        {"h": "orange"},
        quarantined=1,
    ),
    case(
        "problem-in-another-village",
        (home("v1", "脱贫户", head("a")), home("v2", "脱贫户", head("b"), village=2)),
        {"water_supply": [water("#W1", "停水", ago(5), village="@v2")]},
        {"v1": None, "v2": "orange"},
    ),
    case(
        "by-monitoring-status",
        (
            home("risk-empty", "监测户", head("a")),
            home("risk-open", "监测户/未消除", head("b")),
            home("risk-cleared", "监测户/已消除", head("c")),
        ),
        {"water_supply": [water("#W1", "停水", ago(5))]},
        {"risk-empty": "orange", "risk-open": "orange", "risk-cleared": None},
    ),
]

NEAR = 8_999.99  # per capita just below 1.5 × 6000
ASSISTANCE_STOPPED = [
    case(
        "dibao-stopped-day-90",
        home("h", "脱贫户", head("a")),
        {"civil_assistance": [assistance("a", "低保", "停保", ago(89), "家庭收入超标")]},
        {"h": "orange"},
        reason=("区民政局", str(ago(89)), "低保", "家庭收入超标"),
    ),
    case(
        "dibao-stopped-day-91",
        home("h", "脱贫户", head("a")),
        {"civil_assistance": [assistance("a", "低保", "停保", ago(90))]},
        {"h": None},
    ),
    case(
        "tekun-stopped",
        home("h", "脱贫户", head("a")),
        {"civil_assistance": [assistance("a", "特困供养", "停保", ago(10))]},
        {"h": "orange"},
    ),
    case(
        "temporary-aid-stopped-not-counted",
        home("h", "脱贫户", head("a")),
        {"civil_assistance": [assistance("a", "临时救助", "停保", ago(10))]},
        {"h": None},
    ),
    case(
        "disability-allowance-stopped-not-counted",
        home("h", "脱贫户", head("a")),
        {"civil_assistance": [assistance("a", "残疾人两项补贴", "停保", ago(10))]},
        {"h": None},
    ),
    case(
        "unmonitored-only-near-the-line",
        (
            home("near", "一般农户", head("a"), income=NEAR),
            home("at-1.5x", "一般农户", head("b"), income=9_000),
            home("cleared-near", "监测户/已消除", head("c"), income=NEAR),
            home("cleared", "监测户/已消除", head("d")),
            home("risk-empty", "监测户", head("e")),
        ),
        {"civil_assistance": [assistance(person, "低保", "停保", ago(10)) for person in "abcde"]},
        {
            "near": "orange",
            "at-1.5x": None,
            "cleared-near": "orange",
            "cleared": None,
            "risk-empty": "orange",
        },
    ),
    case(
        "granted-again-after-the-stop",
        home("h", "脱贫户", head("a")),
        {
            "civil_assistance": [
                assistance("a", "低保", "停保", ago(20)),
                assistance("a", "低保", "新增", ago(5)),
            ]
        },
        {"h": None},
    ),
    case(
        "stopped-after-a-grant",
        home("h", "脱贫户", head("a")),
        {
            "civil_assistance": [
                assistance("a", "低保", "新增", ago(30)),
                assistance("a", "低保", "停保", ago(5)),
            ]
        },
        {"h": "orange"},
    ),
    case(
        "newest-change-per-assistance-category",
        home("h", "脱贫户", head("a")),
        {
            "civil_assistance": [
                assistance("a", "低保", "停保", ago(10)),
                assistance("a", "特困供养", "新增", ago(5)),
            ]
        },
        {"h": "orange"},
    ),
]

SUDDEN_HARDSHIP = [
    case(
        "temporary-aid-new",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "临时救助", "新增", ago(10))]},
        {"h": "yellow"},
        reason=("区民政局", "临时救助", str(ago(10))),
    ),
    case(
        "disability-allowance-new",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "残疾人两项补贴", "新增", ago(10))]},
        {"h": "yellow"},
    ),
    case(
        "dibao-new-orange",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "低保", "新增", ago(10))]},
        {"h": "orange"},
    ),
    case(
        "tekun-new-orange",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "特困供养", "新增", ago(10))]},
        {"h": "orange"},
    ),
    case(
        "unmonitored-households-only",
        (
            home("poor", "脱贫户", head("a")),
            home("risk-empty", "监测户", head("b")),
            home("risk-open", "监测户/未消除", head("c")),
            home("risk-cleared", "监测户/已消除", head("d")),
        ),
        {"civil_assistance": [assistance(p, "临时救助", "新增", ago(10)) for p in "abcd"]},
        {"poor": None, "risk-empty": None, "risk-open": None, "risk-cleared": "yellow"},
    ),
    case(
        "recent-day-90",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "临时救助", "新增", ago(89))]},
        {"h": "yellow"},
    ),
    case(
        "recent-day-91",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "临时救助", "新增", ago(90))]},
        {"h": None},
    ),
    case(
        "stopped-since-the-grant",
        home("h", "一般农户", head("a")),
        {
            "civil_assistance": [
                assistance("a", "低保", "新增", ago(30)),
                assistance("a", "低保", "停保", ago(10)),
            ]
        },
        {"h": None},
    ),
    case(
        "adjustment-is-not-new",
        home("h", "一般农户", head("a")),
        {"civil_assistance": [assistance("a", "低保", "调整", ago(10))]},
        {"h": None},
    ),
]

UNEMPLOYMENT = [
    case(
        "unemployed-one-of-two-labourers",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "yellow"},
        reason=("区人力资源和社会保障局", "失业登记", str(ago(10))),
    ),
    case(
        "returned-jobless-only-labourer",
        home("h", "脱贫户", head("a"), spouse("b", skill="弱劳动力或半劳动力")),
        {"hrss_employment": [employment("a", "返乡未就业", ago(10))]},
        {"h": "orange"},
    ),
    case(
        "unmonitored-household-too",
        home("h", "一般农户", head("a"), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "yellow"},
    ),
    case(
        "aged-16",
        home("h", "脱贫户", head("a"), child("kid", aged(16), "普通劳动力")),
        {"hrss_employment": [employment("kid", "返乡未就业", ago(10))]},
        {"h": "yellow"},
    ),
    case(
        "aged-15",
        home("h", "脱贫户", head("a"), child("kid", aged(15, last_day=True), "普通劳动力")),
        {"hrss_employment": [employment("kid", "返乡未就业", ago(10))]},
        {"h": None},
    ),
    case(
        "aged-60",
        home("h", "脱贫户", head("a", birth=aged(60, last_day=True)), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "yellow"},
    ),
    case(
        "aged-61",
        home("h", "脱贫户", head("a", birth=aged(61)), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": None},
    ),
    case(
        "skilled-labourer",
        home("h", "脱贫户", head("a", skill="技能劳动力"), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "yellow"},
    ),
    case(
        "weak-labour-is-no-labourer",
        home("h", "脱贫户", head("a", skill="弱劳动力或半劳动力"), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": None},
    ),
    case(
        "recent-day-90",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(89))]},
        {"h": "yellow"},
    ),
    case(
        "recent-day-91",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"hrss_employment": [employment("a", "失业登记", ago(90))]},
        {"h": None},
    ),
    case(
        "newest-status-employed-again",
        home("h", "脱贫户", head("a"), spouse("b")),
        {
            "hrss_employment": [
                employment("a", "失业登记", ago(30)),
                employment("a", "就业登记", ago(10)),
            ]
        },
        {"h": None},
    ),
    case(
        "newest-status-unemployed",
        home("h", "脱贫户", head("a"), spouse("b")),
        {
            "hrss_employment": [
                employment("a", "就业登记", ago(30)),
                employment("a", "失业登记", ago(10)),
            ]
        },
        {"h": "yellow"},
    ),
    case(
        "only-labourer-beside-a-child-of-15",
        home("h", "脱贫户", head("a"), child("kid", aged(15, last_day=True), "普通劳动力")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "orange"},
    ),
    case(
        "not-only-labourer-beside-a-child-of-16",
        home("h", "脱贫户", head("a"), child("kid", aged(16), "普通劳动力")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "yellow"},
    ),
    case(
        "only-labourer-beside-a-father-of-61",
        home("h", "脱贫户", head("a"), Person("dad", "之父", aged(61), "普通劳动力")),
        {"hrss_employment": [employment("a", "失业登记", ago(10))]},
        {"h": "orange"},
    ),
]

LABOUR_DEATH = [
    case(
        "monitored-red-other-orange",
        (
            home("monitored", "脱贫户", head("a"), spouse("b")),
            home("other", "一般农户", head("c"), spouse("d")),
        ),
        {"police_hukou": [hukou("a", "死亡注销", ago(10)), hukou("c", "死亡注销", ago(10))]},
        {"monitored": "red", "other": "orange"},
        reason=("公安分局", "死亡注销", str(ago(10))),
    ),
    case(
        "aged-60-at-death-61-today",
        home("h", "脱贫户", head("a"), spouse("b", birth=date(1965, 3, 1))),
        {"police_hukou": [hukou("b", "死亡注销", date(2026, 2, 28))]},
        {"h": "red"},
    ),
    case(
        "aged-61-at-death",
        home("h", "脱贫户", head("a"), spouse("b", birth=date(1965, 2, 1))),
        {"police_hukou": [hukou("b", "死亡注销", date(2026, 2, 28))]},
        {"h": None},
    ),
    case(
        "aged-16-at-death",
        home("h", "脱贫户", head("a"), child("kid", date(2010, 2, 1), "普通劳动力")),
        {"police_hukou": [hukou("kid", "死亡注销", date(2026, 2, 1))]},
        {"h": "red"},
    ),
    case(
        "aged-15-at-death-16-today",
        home("h", "脱贫户", head("a"), child("kid", date(2010, 2, 20), "普通劳动力")),
        {"police_hukou": [hukou("kid", "死亡注销", date(2026, 2, 10))]},
        {"h": None},
    ),
    case(
        "skilled-labourer",
        home("h", "脱贫户", head("a", skill="技能劳动力")),
        {"police_hukou": [hukou("a", "死亡注销", ago(10))]},
        {"h": "red"},
    ),
    case(
        "lost-labour-is-no-labourer",
        home("h", "脱贫户", head("a"), spouse("b", skill="丧失劳动力")),
        {"police_hukou": [hukou("b", "死亡注销", ago(10))]},
        {"h": None},
    ),
    case(
        "recent-day-90",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"police_hukou": [hukou("a", "死亡注销", ago(89))]},
        {"h": "red"},
    ),
    case(
        "recent-day-91",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"police_hukou": [hukou("a", "死亡注销", ago(90))]},
        {"h": None},
    ),
    case(
        "moved-out-is-no-death",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"police_hukou": [hukou("a", "迁出", ago(10))]},
        {"h": None},
    ),
]

BUSINESS_FAILURE = [
    case(
        "sole-trader-closed-day-90",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "注销", ago(89))]},
        {"h": "yellow"},
        reason=("区市场监督管理局", "城关小卖部", str(ago(89)), "注销"),
    ),
    case(
        "sole-trader-closed-day-91",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "注销", ago(90))]},
        {"h": None},
    ),
    case(
        "cooperative-revoked",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "农民专业合作社", "吊销")]},
        {"h": "yellow"},
    ),
    case(
        "sole-trader-active",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "存续")]},
        {"h": None},
    ),
    case(
        "limited-company-closed-is-no-family-business",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "有限责任公司", "注销")]},
        {"h": None},
    ),
    case(
        "sole-proprietorship-revoked-is-no-family-business",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个人独资企业", "吊销")]},
        {"h": None},
    ),
    case(
        "any-member-any-household",
        (
            home("ordinary", "一般农户", head("a"), spouse("b")),
            home("risk-cleared", "监测户/已消除", head("c")),
        ),
        {
            "market_entities": [
                entity("#B1", "b", "个体工商户", "注销"),
                entity("#B2", "c", "个体工商户", "吊销"),
            ]
        },
        {"ordinary": "yellow", "risk-cleared": "yellow"},
    ),
]

DISASTER = [
    case(
        "major-day-30-monitored-orange-other-yellow",
        (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
        {"disaster_events": [event("#E1", "较大", ago(29))]},
        {"monitored": "orange", "other": "yellow"},
        reason=("区应急管理局", "较大", str(ago(29))),
    ),
    case(
        "major-day-31",
        (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
        {"disaster_events": [event("#E1", "较大", ago(30))]},
        {"monitored": None, "other": None},
    ),
    case(
        "major-on-D",
        home("monitored", "脱贫户", head("a")),
        {"disaster_events": [event("#E1", "较大", ago(0))]},
        {"monitored": "orange"},
    ),
    case(
        "ordinary-severity-is-not-enough",
        (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
        {"disaster_events": [event("#E1", "一般", ago(5))]},
        {"monitored": None, "other": None},
    ),
    case(
        "serious-monitored-red-other-yellow",
        (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
        {"disaster_events": [event("#E1", "重大", ago(5))]},
        {"monitored": "red", "other": "yellow"},
    ),
    case(
        "very-serious-monitored-red-other-yellow",
        (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
        {"disaster_events": [event("#E1", "特别重大", ago(5))]},
        {"monitored": "red", "other": "yellow"},
    ),
    case(
        "serious-by-monitoring-status",
        (
            home("risk-empty", "监测户", head("a")),
            home("risk-open", "监测户/未消除", head("b")),
            home("risk-cleared", "监测户/已消除", head("c")),
        ),
        {"disaster_events": [event("#E1", "重大", ago(5))]},
        {"risk-empty": "red", "risk-open": "red", "risk-cleared": "yellow"},
    ),
    case(
        "township-wide-event-empty-village-code",
        (
            home("monitored-v1", "脱贫户", head("a")),
            home("other-v2", "一般农户", head("b"), village=2),
        ),
        {"disaster_events": [event("#E1", "较大", ago(5), village=None)]},
        {"monitored-v1": "orange", "other-v2": "yellow"},
        reason=("本乡镇",),
    ),
    case(
        "event-in-another-village",
        (home("v1", "脱贫户", head("a")), home("v2", "脱贫户", head("b"), village=2)),
        {"disaster_events": [event("#E1", "较大", ago(5), village="@v2")]},
        {"v1": None, "v2": "orange"},
    ),
]


def grid_report(person: str, kind: str, when: date, text: str = "情况说明") -> list[Any]:
    """A row of 网格员月报 for person's household, from its own grid."""
    return [f"@{person}.grid", f"@{person}.household", when, kind, text, "张网格"]


RED_TYPES = ("重大疾病", "意外事故", "自然灾害")
OTHER_TYPES = ("家庭变故", "失业或收入骤减", "住房安全隐患", "饮水困难", "其他")
GRID_REPORT = [
    *(
        case(
            f"{kind}-monitored-red-other-orange",
            (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
            {"grid_reports": [grid_report("a", kind, ago(3)), grid_report("b", kind, ago(3))]},
            {"monitored": "red", "other": "orange"},
            reason=("网格员上报", str(ago(3)), "张网格", f"“{kind}”", "情况说明"),
        )
        for kind in RED_TYPES
    ),
    *(
        case(
            f"{kind}-orange-monitored-or-not",
            (home("monitored", "脱贫户", head("a")), home("other", "一般农户", head("b"))),
            {"grid_reports": [grid_report("a", kind, ago(3)), grid_report("b", kind, ago(3))]},
            {"monitored": "orange", "other": "orange"},
            reason=(f"“{kind}”",),
        )
        for kind in OTHER_TYPES
    ),
    case(
        "red-by-monitoring-status",
        (
            home("risk-open", "监测户/未消除", head("a")),
            home("risk-cleared", "监测户/已消除", head("b")),
        ),
        {
            "grid_reports": [
                grid_report("a", "重大疾病", ago(1)),
                grid_report("b", "重大疾病", ago(1)),
            ]
        },
        {"risk-open": "red", "risk-cleared": "orange"},
    ),
    case(
        "nothing-to-report-raises-nothing",
        home("monitored", "脱贫户", head("a")),
        {"grid_reports": [["@a.grid", None, ago(2), "无异常", None, "张网格"]]},
        {"monitored": None},
    ),
    case(
        "day-30-raises-day-31-does-not",
        (home("day-30", "脱贫户", head("a")), home("day-31", "脱贫户", head("b"))),
        {
            "grid_reports": [
                grid_report("a", "意外事故", ago(29)),
                grid_report("b", "意外事故", ago(30)),
            ]
        },
        {"day-30": "red", "day-31": None},
    ),
    case(
        "two-reports-one-alert-both-quoted",
        home("monitored", "脱贫户", head("a")),
        {
            "grid_reports": [
                grid_report("a", "其他", ago(8), "甲事"),
                grid_report("a", "重大疾病", ago(2), "乙事"),
            ]
        },
        {"monitored": "red"},
        reason=("甲事", "乙事"),
    ),
    case(
        "bad-rows-quarantined-raise-nothing",
        (home("monitored", "脱贫户", head("a")), home("neighbour", "脱贫户", head("b"), village=2)),
        {
            "grid_reports": [
                ["@a.grid", "@a.household", ago(2), "生病了", "", "张网格"],  # unknown type
                ["@a.grid", "@a.household", D + timedelta(days=1), "重大疾病", "", "张网格"],
                ["@a.grid", None, ago(2), "重大疾病", "", "张网格"],  # no household
                ["@a.grid", "@b.household", ago(2), "重大疾病", "", "张网格"],  # other grid
            ]
        },
        {"monitored": None, "neighbour": None},
        quarantined=4,
    ),
]

INCOME_BELOW_LINE = [
    case(
        "lifted-out-below",
        home("h", "脱贫户", head("a"), spouse("b"), income=11_999.98),
        {},
        {"h": "orange"},
        reason=("区乡村振兴局", "11999.98", "5999.99"),
    ),
    case(
        "lifted-out-at-the-line",
        home("h", "脱贫户", head("a"), spouse("b"), income=12_000),
        {},
        {"h": None},
    ),
    case(
        "ordinary-below",
        home("h", "一般农户", head("a"), income=5_999.99),
        {},
        {"h": "orange"},
    ),
    case(
        "ordinary-at-the-line",
        home("h", "一般农户", head("a"), income=6_000),
        {},
        {"h": None},
    ),
    case(
        "risk-cleared-below-red",
        home("h", "监测户/已消除", head("a"), income=5_999.99),
        {},
        {"h": "red"},
    ),
    case(
        "risk-cleared-at-the-line",
        home("h", "监测户/已消除", head("a"), income=6_000),
        {},
        {"h": None},
    ),
    case(
        "risk-open-or-empty-below",
        (
            home("risk-open", "监测户/未消除", head("a"), income=5_999.99),
            home("risk-empty", "监测户", head("b"), income=5_999.99),
        ),
        {},
        {"risk-open": None, "risk-empty": None},
    ),
    case(
        "per-capita-by-household-size",
        home("h", "脱贫户", head("a"), income=17_999, size=3),
        {},
        {"h": "orange"},
    ),
]

ELIGIBILITY_REVIEW = [
    case(
        "private-car-in-use",
        home("h", "脱贫户", head("a")),
        {"police_vehicles": [vehicle("#P1", "a", "小型轿车", "非营运", "正常")]},
        {"h": "yellow"},
        reason=("公安分局交警大队", "小型轿车"),
    ),
    case(
        "private-suv-of-a-member",
        home("h", "脱贫户", head("a"), spouse("b")),
        {"police_vehicles": [vehicle("#P1", "b", "小型越野客车", "非营运", "正常")]},
        {"h": "yellow"},
    ),
    case(
        "commercial-car",
        home("h", "脱贫户", head("a")),
        {"police_vehicles": [vehicle("#P1", "a", "小型轿车", "营运", "正常")]},
        {"h": None},
    ),
    case(
        "car-deregistered",
        home("h", "脱贫户", head("a")),
        {"police_vehicles": [vehicle("#P1", "a", "小型轿车", "非营运", "注销")]},
        {"h": None},
    ),
    case(
        "car-scrapped",
        home("h", "脱贫户", head("a")),
        {"police_vehicles": [vehicle("#P1", "a", "小型轿车", "非营运", "报废")]},
        {"h": None},
    ),
    case(
        "light-truck-is-not-a-car",
        home("h", "脱贫户", head("a")),
        {"police_vehicles": [vehicle("#P1", "a", "轻型货车", "非营运", "正常")]},
        {"h": None},
    ),
    case(
        "monitored-households-only",
        (
            home("ordinary", "一般农户", head("a")),
            home("risk-cleared", "监测户/已消除", head("b")),
            home("risk-empty", "监测户", head("c")),
            home("risk-open", "监测户/未消除", head("d")),
        ),
        {"police_vehicles": [vehicle(f"#P{p}", p, "小型轿车", "非营运", "正常") for p in "abcd"]},
        {"ordinary": None, "risk-cleared": None, "risk-empty": "yellow", "risk-open": "yellow"},
    ),
    case(
        "limited-company-active",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "有限责任公司", "存续", capital=10)]},
        {"h": "yellow"},
        reason=("区市场监督管理局", "有限责任公司"),
    ),
    case(
        "joint-stock-company-active",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "股份有限公司", "存续", capital=10)]},
        {"h": "yellow"},
    ),
    case(
        "limited-company-closed",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "有限责任公司", "注销", capital=100)]},
        {"h": None},
    ),
    case(
        "limited-company-revoked",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "有限责任公司", "吊销", capital=100)]},
        {"h": None},
    ),
    case(
        "sole-trader-capital-50",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "存续", capital=50)]},
        {"h": "yellow"},
        reason=("注册资本50.0万元",),
    ),
    case(
        "sole-trader-capital-49.9",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "存续", capital=49.9)]},
        {"h": None},
    ),
    case(
        "sole-trader-capital-unknown",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "存续")]},
        {"h": None},
    ),
    case(
        "sole-proprietorship-capital-50",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个人独资企业", "存续", capital=50)]},
        {"h": "yellow"},
    ),
    case(
        "cooperative-capital-50-closed",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "农民专业合作社", "注销", capital=50)]},
        {"h": None},
    ),
    case(
        "company-of-an-unmonitored-household",
        home("h", "一般农户", head("a")),
        {"market_entities": [entity("#B1", "a", "有限责任公司", "存续", capital=100)]},
        {"h": None},
    ),
]

CATEGORIES = {
    "medical_burden": MEDICAL_BURDEN,
    "medical_uninsured": MEDICAL_UNINSURED,
    "education_dropout": EDUCATION_DROPOUT,
    "housing_unsafe": HOUSING_UNSAFE,
    "water_unsafe": WATER_UNSAFE,
    "assistance_stopped": ASSISTANCE_STOPPED,
    "sudden_hardship": SUDDEN_HARDSHIP,
    "unemployment": UNEMPLOYMENT,
    "labour_death": LABOUR_DEATH,
    "business_failure": BUSINESS_FAILURE,
    "disaster": DISASTER,
    "income_below_line": INCOME_BELOW_LINE,
    "eligibility_review": ELIGIBILITY_REVIEW,
    "grid_report": GRID_REPORT,
    # Its table (matched by ID, by linkage above and below the threshold, ambiguous, two
    # leads of one person) is tests/linkage/test_leads.py: it needs names of its own.
    "lead": [],
}


# ---------------------------------------------------------------- running a scenario


@dataclass
class World:
    """Where one case lives: its codes and its people."""

    number: int
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (ID number, name)
    homes: dict[str, str] = field(default_factory=dict)  # person key -> household id

    @property
    def township(self) -> str:
        return f"341702{self.number:03d}"

    def village(self, index: int) -> str:
        return f"{self.township}{index:03d}"

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.startswith("#"):
            return f"{self.number:03d}{value[1:]}".rjust(18, "0")
        if not value.startswith("@"):
            return value
        token = value[1:]
        if token == "town":
            return self.township
        if token in ("v1", "v2"):
            return self.village(int(token[1]))
        key, _, attribute = token.partition(".")
        id_number, name = self.people[key]
        if attribute == "name":
            return name
        if attribute == "float":  # as a spreadsheet cell formatted as a number holds it
            return float(id_number[:17] + "0")
        if attribute == "household":
            return self.homes[key]
        if attribute == "grid":  # the household's 网格编号 in the registry
            return f"{self.homes[key][:12]}G01"
        assert not attribute, value
        return id_number


def kind_of(kind: str) -> tuple[str, str | None, str | None]:
    """户类型, 监测类型, 风险状态 of a ``Home.kind``."""
    household_type, _, risk = kind.partition("/")
    monitoring_type = "脱贫不稳定户" if household_type == "监测户" else None
    return household_type, monitoring_type, risk or None


def run_scenario(cases: list[Case], root: Path) -> tuple[Settings, dict[str, tuple[Case, str]]]:
    """Deliver every case of a scenario for D and run the day; household id -> (case, key)."""
    registry = load_registry()
    inbox, sequence = root / "inbox", itertools.count()
    inbox.mkdir(parents=True)
    feeds: dict[str, list[Any]] = {"households": [], "members": []}
    owners: dict[str, tuple[Case, str]] = {}
    for number, item in enumerate(cases, start=1):
        world = World(number)
        for home_number, household in enumerate(item.homes, start=1):
            village = world.village(household.village)
            household_id = f"{village}{home_number:04d}"
            owners[household_id] = (item, household.key)
            people = []
            for person in household.members:
                assert person.key not in world.people, person.key
                seq = next(sequence)
                assert seq < 500
                world.people[person.key] = (
                    person_id(seq, birth=person.birth),
                    f"测{number}{person.key}",
                )
                people.append(person)
                world.homes[person.key] = household_id
                feeds["members"].append(
                    [
                        household_id,
                        world.people[person.key][1],
                        world.people[person.key][0],
                        person.relation,
                        "男",
                        person.skill,
                        "健康",
                        None,
                        "非在校生",
                        "未务工",
                    ]
                )
            head_key = next(p.key for p in people if p.relation == "户主")
            size = household.size or len(people)
            household_type, monitoring_type, risk = kind_of(household.kind)
            feeds["households"].append(
                [
                    household_id,
                    world.people[head_key][1],
                    world.people[head_key][0],
                    world.township,
                    f"测试{number}镇",
                    village,
                    f"测试{number}-{household.village}村",
                    "一组",
                    f"{village}G01",  # no grids delivered: routed to the village
                    household_type,
                    monitoring_type,
                    risk,
                    "2024-06" if monitoring_type else None,
                    size,
                    20_000 * size if household.income is None else household.income,
                    "13800000000",
                ]
            )
        for feed, rows in item.rows.items():
            resolved = [
                {column: world.resolve(value) for column, value in row.items()}
                if isinstance(row, dict)
                else [world.resolve(value) for value in row]
                for row in rows
            ]
            feeds.setdefault(feed, []).extend(resolved)
    claims = feeds.pop("med_claims", [])
    for feed, rows in feeds.items():
        if rows:
            write_delivery(inbox, registry[feed], D, rows)
    with pytest.MonkeyPatch.context() as patch:
        if claims:
            url = f"sqlite:///{root / 'frontend.sqlite'}"
            FrontEnd(url).post(*claims)
            patch.setenv("PIPELINE_MED_CLAIMS_URL", url)
        else:
            patch.delenv("PIPELINE_MED_CLAIMS_URL", raising=False)
        settings = load_settings(root / "home", inbox)
        result = run_day(settings, D)
    quarantined = {
        feed: info.get("rows_quarantined")
        for feed, info in result.manifest["feeds"].items()
        if info.get("rows_quarantined")
    }
    expected = sum(item.quarantined for item in cases)
    assert sum(quarantined.values()) == expected, quarantined
    for feed in [*feeds, *(["med_claims"] if claims else [])]:
        if feeds.get(feed) or feed == "med_claims":
            assert result.manifest["feeds"][feed]["status"] == "loaded", (
                feed,
                result.manifest["feeds"][feed],
            )
    return settings, owners


def raised(settings: Settings, category: str, rules: Rules) -> dict[str, tuple[str, str]]:
    """``signals.sig_<category>`` for D under ``rules``: household id -> (base grade, reason)."""
    with duckdb.connect(str(settings.home.warehouse)) as connection:
        build_signals(connection, rules, D)
        rows = connection.execute(
            f"select household_id, base_grade, reason from signals.sig_{category}"
        ).fetchall()
    assert len(rows) == len({row[0] for row in rows}), "one row per household"
    return {household_id: (grade, reason) for household_id, grade, reason in rows}


def grades_of(
    item: Case, signals: dict[str, tuple[str, str]], owners: dict[str, tuple[Case, str]]
) -> dict[str, tuple[str, str]]:
    """The case's raised households by key: (base grade, reason)."""
    return {
        owners[household_id][1]: value
        for household_id, value in signals.items()
        if owners[household_id][0] is item
    }


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory):
    """Signals of a category's scenario, computed once for all its cases."""
    runs: dict[tuple[str, str], Any] = {}

    def _outcome(category: str, scenario: str):
        if (category, scenario) not in runs:
            cases = [
                param.values[0]
                for param in CATEGORIES[category]
                if param.values[0].scenario == scenario
            ]
            settings, owners = run_scenario(
                cases, tmp_path_factory.mktemp(f"{category}-{scenario}")
            )
            runs[category, scenario] = (raised(settings, category, load_rules()), owners)
        return runs[category, scenario]

    return _outcome


@pytest.mark.parametrize(
    ("category", "item"),
    [
        pytest.param(category, param.values[0], id=f"{category}:{param.id}")
        for category, table in CATEGORIES.items()
        for param in table
    ],
)
def test_category(category: str, item: Case, outcome) -> None:
    signals, owners = outcome(category, item.scenario)
    found = grades_of(item, signals, owners)
    assert {key: grade for key, (grade, _) in found.items()} == {
        key: grade for key, grade in item.expect.items() if grade is not None
    }
    for key, (_, reason) in found.items():
        for text in item.reason:
            assert text in reason, (key, text, reason)


def test_every_category_has_a_table() -> None:
    assert list(CATEGORIES) == list(load_rules().categories)


# ---------------------------------------------------------------- thresholds are configuration

CONFIGURED = [
    case(
        "medical-share",
        home("monitored", "脱贫户", head("a"), income=RICH),
        {"med_claims": [claim("#S1", "a", ago(10), "9000.00")]},
        {"monitored": None},  # below 50 % of 21144 = 10572
    ),
    case(
        "recent-days",
        home("h", "脱贫户", head("a")),
        {"market_entities": [entity("#B1", "a", "个体工商户", "注销", ago(45))]},
        {"h": "yellow"},  # within 90 days
    ),
    case(
        "monitoring-line",
        home("h", "一般农户", head("a"), income=6_500),
        {},
        {"h": None},  # 6500 is above the 2021 line of 6000
    ),
]
# (case id, category, text of config/rules.yaml, its replacement, grades with the copy)
EDITS = [
    pytest.param(
        "medical-share",
        "medical_burden",
        "share_of_rural_income_monitored: 0.5",
        "share_of_rural_income_monitored: 0.4",  # 8457.60
        {"monitored": "orange"},
        id="medical-share-0.5-to-0.4",
    ),
    pytest.param(
        "recent-days",
        "business_failure",
        "recent_days: 90",
        "recent_days: 30",
        {},
        id="recent-days-90-to-30",
    ),
    pytest.param(
        "monitoring-line",
        "income_below_line",
        "  2021: 6000\n",
        "  2021: 6000\n  2026: 7000\n",
        {"h": "orange"},
        id="monitoring-line-for-2026",
    ),
]


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory):
    cases = [param.values[0] for param in CONFIGURED]
    settings, owners = run_scenario(cases, tmp_path_factory.mktemp("configured"))
    return settings, owners, {param.id: param.values[0] for param in CONFIGURED}


@pytest.mark.parametrize(("name", "category", "old", "new", "with_copy"), EDITS)
def test_a_threshold_changed_in_a_copy_of_the_rules_changes_the_result(
    configured, tmp_path, name, category, old, new, with_copy
) -> None:
    settings, owners, by_name = configured
    item = by_name[name]
    text = (CONFIG_DIR / "rules.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    copy = tmp_path / "rules.yaml"
    copy.write_text(text.replace(old, new), encoding="utf-8")

    shipped = grades_of(item, raised(settings, category, load_rules()), owners)
    changed = grades_of(item, raised(settings, category, load_rules(copy)), owners)

    expected = {key: grade for key, grade in item.expect.items() if grade is not None}
    assert {key: grade for key, (grade, _) in shipped.items()} == expected
    assert {key: grade for key, (grade, _) in changed.items()} == with_copy
    assert with_copy != expected
