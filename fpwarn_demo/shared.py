"""What the departments' rows and the planted cases share: the row type, the dates of a range,
school stages and names, credit codes.

Rows are dicts keyed by the registry's ``field`` names holding typed values
(str, date, int, float yuan, None); ``writers`` turns them into cells in the
column order and header names of the registry. A row may carry ``PROTECTED``
to keep planted defects away from it (the flood the demo is about).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import fpwarn_demo.names as names
from fpwarn_demo.population import Household, Person

PROTECTED = "_protected"
Row = dict[str, object]


def business_dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def snapshot_dates(start: date, end: date) -> list[date]:
    """The first date, then the 1st of every month in the range."""
    return [day for day in business_dates(start, end) if day == start or day.day == 1]


def change_date(rng: random.Random, day: date) -> date:
    """Mostly the business date; some changes are registered 1-5 days late."""
    return day if rng.random() < 0.8 else day - timedelta(days=rng.randint(1, 5))


# -- schools -------------------------------------------------------------------------

STAGES = {
    "学龄前儿童": "学前",
    "小学": "小学",
    "七年级": "初中",
    "八年级": "初中",
    "九年级": "初中",
    "普通高中": "高中",
    "中职": "中职",
    "高职": "高职",
    "本科及以上": "本科及以上",
}


def stage_and_grade(person: Person, day: date) -> tuple[str | None, str]:
    """The school stage (学段) and grade of a pupil on ``day``; no stage for someone not at school."""
    stage = STAGES.get(person.schooling)
    year = day.year if day.month >= 9 else day.year - 1
    age = year - person.birth.year - ((person.birth.month, person.birth.day) > (8, 31))
    if stage == "学前":
        if age < 3:
            return None, ""
        return stage, ("小班", "中班", "大班")[min(age, 5) - 3]
    if stage == "小学":
        return stage, names.chinese_number(max(1, min(6, age - 5))) + "年级"
    if stage == "初中":
        return stage, person.schooling
    if stage == "高中":
        return stage, ("高一", "高二", "高三")[max(0, min(2, age - 15))]
    if stage in ("中职", "高职"):
        return stage, names.chinese_number(
            max(1, min(3, age - 14 if stage == "中职" else age - 17))
        ) + "年级"
    if stage == "本科及以上":
        return stage, ("大一", "大二", "大三", "大四")[max(0, min(3, age - 18))]
    return None, ""


def school_name(rng: random.Random, stage: str, household: Household) -> str:
    """A school of ``stage`` near the household's village."""
    template = rng.choice(names.SCHOOL_TEMPLATES[stage])
    return template.format(
        township=household.village.township.name[:-1], village=household.village.name[:-1]
    )


# -- 统一社会信用代码 -------------------------------------------------------------------

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(rng: random.Random, prefix: str) -> str:
    """A 统一社会信用代码 with its GB 32100 check character."""
    body = prefix + names.DISTRICT_CODE + "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    total = sum(
        CREDIT_CHARS.index(char) * weight for char, weight in zip(body, CREDIT_WEIGHTS, strict=True)
    )
    return body + CREDIT_CHARS[(31 - total % 31) % 31]
