"""区人力资源和社会保障局: 就业失业登记 (hrss_employment), employment and unemployment
registrations."""

from __future__ import annotations

import random
from datetime import date

import fpwarn_demo.names as names
from fpwarn_demo.changes import Changes
from fpwarn_demo.population import Person
from fpwarn_demo.shared import Row, change_date


def work_region(rng: random.Random, person: Person) -> str:
    """Where someone in work works, as their work status says."""
    if person.work == "省外务工":
        return rng.choice(names.WORK_REGIONS_OUTSIDE)
    if person.work == "省内县外务工":
        return rng.choice(names.WORK_REGIONS_PROVINCE)
    return rng.choice(names.WORK_REGIONS_LOCAL)


class EmploymentChanges:
    """就业失业登记 of a date. A labourer out of work is a planted case only."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def rows(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        changes = self.changes
        rows: list[Row] = []
        for person in changes.pick(rng, changes.adults, day):
            if len(rows) >= count:
                break
            if not 16 <= person.age_on(day) <= 60 or person.schooling != "非在校生":
                continue
            status = rng.choices(
                ("就业登记", "灵活就业", "失业登记", "返乡未就业"), (40, 25, 20, 15)
            )[0]
            if (
                status in ("失业登记", "返乡未就业")
                and person.labour in changes.cases.rules.labourer.skills
            ):
                # Quiet background: a labourer out of work is a planted case only.
                status = rng.choice(("就业登记", "灵活就业"))
            changed = change_date(rng, day)
            if not changes.fresh_key(("hrss", person.id_number, status, changed)):
                continue
            region, wage = "", None
            if status in ("就业登记", "灵活就业"):
                region = work_region(rng, person)
                wage = float(rng.randrange(2600, 9000, 100))
            elif status == "失业登记":
                region = rng.choice(names.WORK_REGIONS_LOCAL)
            rows.append(
                {
                    "id_number": person.id_number,
                    "name": person.name,
                    "employment_status": status,
                    "work_region": region,
                    "monthly_wage_yuan": wage,
                    "change_date": changed,
                }
            )
        return rows
