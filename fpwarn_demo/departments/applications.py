"""村委会（乡镇录入）: 农户自主申报 (applications), households' own applications, keyed in
by the township."""

from __future__ import annotations

import random
from datetime import date

import fpwarn_demo.names as names
from fpwarn_demo.changes import Changes
from fpwarn_demo.population import Person, random_date
from fpwarn_demo.shared import Row, change_date

REASONS = (
    "因病",
    "因残",
    "因学",
    "因灾",
    "因意外事故",
    "缺劳动力",
    "因失业",
    "产业失败",
    "住房安全",
    "饮水安全",
    "其他",
)
REASON_WEIGHTS = (30, 8, 8, 5, 8, 8, 12, 6, 6, 3, 6)


class Applications:
    """农户自主申报 of a date: mostly households neither 脱贫户 nor monitored, some people
    from outside the registry, some without a signed authorisation."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def rows(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        changes = self.changes
        rows: list[Row] = []
        villages = changes.district.villages
        sequence = 0
        for index in range(count * 5):
            if len(rows) >= count:
                break
            # The first delivery always shows both hard cases of the contract.
            outsider = (first and index == 0) or rng.random() < 0.15
            if outsider:
                village = rng.choice(villages)
                birth = random_date(rng, date(1955, 1, 1), date(2000, 12, 28))
                sex = "男" if rng.random() < 0.6 else "女"
                person = Person(
                    changes.district.new_id(rng, birth, sex),
                    names.person_name(rng, sex, birth),
                    sex,
                    birth,
                )
                household_id = ""
            else:
                found = next(changes.pick(rng, changes.adults, day), None)
                if found is None or not 18 <= found.age_on(day) <= 75:
                    continue
                person = found
                household = person.household
                assert household is not None
                if household.kind == "脱贫户" or household.is_monitored:
                    continue
                village = household.village
                household_id = household.household_id
            sequence += 1
            signed = "否" if (first and index == 1) or rng.random() < 0.1 else "是"
            rows.append(
                {
                    "application_id": f"SQ{day:%Y%m%d}{sequence:04d}",
                    "household_id": household_id,
                    "applicant_id_number": person.id_number,
                    "applicant_name": person.name,
                    "village_code": village.code,
                    "application_date": change_date(rng, day),
                    "reason": rng.choices(REASONS, REASON_WEIGHTS)[0],
                    "has_signed_authorisation": signed,
                }
            )
        return rows
