"""The population as the increment feeds change it, date by date: who is alive and listed,
who may be drawn for a background change, which keys are taken.

Every department that sends changes (``departments``) draws its people through one
``Changes`` of the range, so that deaths and moves of one feed are seen by the others.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from fpwarn_demo.cases import Cases
from fpwarn_demo.population import District, Household, Person

# Draws from a pool before giving up on finding someone eligible (small districts run dry).
MAX_DRAWS = 2000


@dataclass
class Changes:
    district: District
    start: date
    cases: Cases
    # People of working or retired age at the start: the pool of most departments.
    adults: list[Person] = field(init=False)
    _used_keys: set[tuple[object, ...]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.adults = [p for p in self.district.persons if 16 <= p.age_on(self.start) <= 75]

    def alive(self, person: Person, day: date) -> bool:
        return person.left is None and (person.joined is None or person.joined <= day)

    def frozen(self, person: Person) -> bool:
        """Planted households and the flood and water villages keep their size."""
        household = person.household
        return household is not None and household.household_id in self.cases.frozen

    def listed(self, household: Household, day: date) -> int:
        return sum(1 for member in household.members if self.alive(member, day))

    def near_line(self, household: Household, day: date) -> bool:
        size = max(1, self.listed(household, day))
        return household.income_yuan / size < self.cases.near

    def may_grow(self, household: Household, day: date) -> bool:
        """A new member must not take the household below the line (or near it, when not monitored)."""
        floor = self.cases.line if household.is_monitored else self.cases.near
        return household.income_yuan / (self.listed(household, day) + 1) >= floor

    def fresh_key(self, key: tuple[object, ...]) -> bool:
        """Keys repeat neither within a delivery nor across the range (no accidental duplicates)."""
        if key in self._used_keys:
            return False
        self._used_keys.add(key)
        return True

    def pick(
        self,
        rng: random.Random,
        pool: list[Person],
        day: date,
        cum_weights: list[float] | None = None,
    ) -> Iterator[Person]:
        """Living people from ``pool``, drawn at random; stops after a bounded number of tries."""
        if not pool:
            return
        for _ in range(MAX_DRAWS):
            if cum_weights:
                person = rng.choices(pool, cum_weights=cum_weights)[0]
            else:
                person = rng.choice(pool)
            household = person.household
            if household is not None and household.household_id in self.cases.reserved:
                continue
            if self.alive(person, day):
                yield person
