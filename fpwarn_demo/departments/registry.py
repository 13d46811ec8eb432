"""区乡村振兴局: the household registry, exported from the national monitoring information
system: 网格及网格员 (grids), 农户基础信息 (households), 家庭成员信息 (members)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpwarn_demo.cases import Cases
from fpwarn_demo.population import District
from fpwarn_demo.shared import PROTECTED, Row


@dataclass
class Registry:
    """The registry's lists on a date: the households and members listed on it."""

    district: District
    cases: Cases

    def grids(self, day: date) -> list[Row]:
        return [
            {
                "grid_id": grid.grid_id,
                "grid_level": grid.level,
                "parent_grid_id": grid.parent_id or "",
                "grid_name": grid.name,
                "worker_name": grid.worker,
                "phone": grid.phone,
            }
            for grid in self.district.grids
        ]

    def households(self, day: date) -> list[Row]:
        rows: list[Row] = []
        for household in self.district.households:
            village = household.village
            size = sum(1 for member in household.members if member.listed_on(day))
            rows.append(
                {
                    "household_id": household.household_id,
                    "head_name": household.head.name,
                    "head_id_number": household.head.id_number,
                    "township_code": village.township.code,
                    "township_name": village.township.name,
                    "village_code": village.code,
                    "village_name": village.name,
                    "villager_group": household.group_name,
                    "grid_id": household.grid_id,
                    "household_type": household.kind,
                    "monitoring_type": household.monitoring_type,
                    "risk_status": household.risk_status,
                    "monitoring_since": household.monitoring_since,
                    "household_size": size,
                    "net_income_last_year_yuan": household.income_yuan,
                    "phone": household.phone,
                    PROTECTED: household.household_id in self.cases.reserved,
                }
            )
        return rows

    def members(self, day: date) -> list[Row]:
        return [
            {
                "household_id": household.household_id,
                "name": person.name,
                "id_number": person.id_number,
                "relation": person.relation,
                "sex": person.sex,
                "labour_skill": person.labour,
                "health": person.health,
                "disability_grade": person.disability,
                "schooling": person.schooling,
                "work_status": person.work,
                PROTECTED: household.household_id in self.cases.reserved,
            }
            for household in self.district.households
            for person in household.members
            if person.listed_on(day)
        ]
