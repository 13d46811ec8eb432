"""区教育局: 学籍变动 (edu_students), the status changes of the district's pupils and students."""

from __future__ import annotations

import random
from datetime import date

from fpwarn_demo.changes import Changes
from fpwarn_demo.shared import Row, change_date, school_name, stage_and_grade

AID_BY_STAGE = {
    "学前": ("学前教育资助", "免保教费"),
    "小学": ("营养改善计划", "家庭经济困难学生生活补助"),
    "初中": ("营养改善计划", "家庭经济困难学生生活补助"),
    "高中": ("国家助学金", "免学费"),
    "中职": ("国家助学金", "免学费", "雨露计划"),
    "高职": ("国家助学金", "雨露计划", "生源地信用助学贷款"),
    "本科及以上": ("国家助学金", "生源地信用助学贷款"),
}


class StudentChanges:
    """学籍变动 of a date: transfers, graduations, some leaving school (never compulsory)."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.schoolable = [p for p in changes.district.persons if p.schooling != "非在校生"]

    def rows(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        changes = self.changes
        rows: list[Row] = []
        summer = day.month in (6, 7)
        for person in changes.pick(rng, self.schoolable, day):
            if len(rows) >= count:
                break
            stage, grade = stage_and_grade(person, day)
            if stage is None:
                continue
            status = rng.choices(
                ("在读", "转入", "转出", "休学", "辍学", "毕业"),
                (
                    35,
                    18,
                    18,
                    10,
                    6 if stage in ("初中", "高中", "中职") else 2,
                    40 if summer else 6,
                ),
            )[0]
            if status in ("休学", "辍学") and (
                stage in ("学前", "小学", "初中") or person.age_on(day) < 16
            ):
                # Quiet background: leaving compulsory education is a planted case only.
                status = rng.choice(("在读", "转入", "转出"))
            changed = change_date(rng, day)
            if not changes.fresh_key(("edu", person.id_number, status, changed)):
                continue
            household = person.household
            assert household is not None
            aid = ""
            if household.kind != "一般农户" or rng.random() < 0.08:
                aid = rng.choice(AID_BY_STAGE[stage])
            rows.append(
                {
                    "student_id_number": person.id_number,
                    "student_name": person.name,
                    "school_name": school_name(rng, stage, household),
                    "stage": stage,
                    "grade_name": grade,
                    "status": status,
                    "change_date": changed,
                    "aid_type": aid,
                }
            )
        return rows
