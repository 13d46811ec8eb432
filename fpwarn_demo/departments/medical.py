"""区医疗保障局: 城乡居民医保参保状态 (med_enrollment), who is insured this year. Its claims come
from its front-end database (``medical_claims``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import fpwarn_demo.names as names
from fpwarn_demo.cases import Cases
from fpwarn_demo.population import District
from fpwarn_demo.shared import PROTECTED, Row


@dataclass
class Enrolment:
    """The insured on a date. Each person's enrolment is drawn once, for every list."""

    district: District
    seed: int
    cases: Cases
    _enrolment: dict[str, tuple[str, str | None, str]] = field(default_factory=dict, init=False)

    def rows(self, day: date) -> list[Row]:
        rng = random.Random(f"{self.seed}/med_enrollment/{day:%Y%m}")
        rows: list[Row] = []
        for household in self.district.households:
            for person in household.members:
                if not person.listed_on(day):
                    continue
                facts = self._enrolment.get(person.id_number)
                if facts is None:
                    status = rng.choices(
                        ("正常参保", "未参保", "暂停参保", "终止参保", ""), (965, 15, 7, 8, 5)
                    )[0]
                    if household.is_monitored:
                        # Quiet background: every monitored member is insured, except planted cases.
                        status = self.cases.enrolment.get(person.id_number, "正常参保")
                    subsidy: str | None = "无" if rng.random() < 0.9 else None
                    if household.kind != "一般农户":
                        subsidy = rng.choice(("全额资助", "定额资助", "定额资助"))
                    place = names.DISTRICT_NAME
                    if rng.random() < 0.04:
                        place = rng.choice(names.OTHER_COUNTY_NAMES)
                    facts = (status, subsidy, place)
                    self._enrolment[person.id_number] = facts
                if not facts[0]:
                    continue  # not on the bureau's list at all
                rows.append(
                    {
                        "id_number": person.id_number,
                        "name": person.name,
                        "insurance_year": day.year,
                        "insurance_status": facts[0],
                        "subsidy_type": facts[1],
                        "insured_place": facts[2],
                        PROTECTED: household.household_id in self.cases.reserved
                        or (household.is_monitored and facts[0] != "正常参保"),
                    }
                )
        return rows
