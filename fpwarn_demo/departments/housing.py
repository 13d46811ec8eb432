"""区住房和城乡建设局: 农村房屋安全鉴定 (housing_safety), the monthly appraisal list of every
household's house."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import fpwarn_demo.names as names
from fpwarn_demo.cases import Cases
from fpwarn_demo.population import District, random_date
from fpwarn_demo.shared import PROTECTED, Row


@dataclass
class HousingSafety:
    """The appraisal list on a date. Each house's grade is drawn once, for every list."""

    district: District
    seed: int
    cases: Cases
    _housing: dict[str, tuple[str, date, str]] = field(default_factory=dict, init=False)

    def rows(self, day: date) -> list[Row]:
        rng = random.Random(f"{self.seed}/housing_safety")
        rows: list[Row] = []
        for household in self.district.households:
            facts = self._housing.get(household.household_id)
            if facts is None:
                grade = rng.choices(("A级", "B级", "C级", "D级"), (62, 36.7, 1.0, 0.3))[0]
                appraised = random_date(rng, date(2019, 3, 1), date(day.year - 1, 12, 20))
                status = "无需改造"
                if grade in ("C级", "D级"):
                    # Quiet background: an unsafe house not yet renovated is a planted case only.
                    status = "已改造"
                facts = self.cases.housing.get(household.household_id, (grade, appraised, status))
                self._housing[household.household_id] = facts
            village = household.village
            number = int(household.household_id[-4:])
            rows.append(
                {
                    "head_id_number": household.head.id_number,
                    "head_name": household.head.name,
                    "address": (
                        f"{names.PROVINCE_NAME}{names.CITY_NAME}{names.DISTRICT_NAME}"
                        f"{village.township.name}{village.name}{household.group_name}{number}号"
                    ),
                    "safety_grade": facts[0],
                    "appraisal_date": facts[1],
                    "renovation_status": facts[2],
                    PROTECTED: household.household_id in self.cases.reserved,
                }
            )
        return rows
