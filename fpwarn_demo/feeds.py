"""Clean rows of every file feed, as each department would send them on a date: which
department (``fpwarn_demo.departments``) makes which feed, and in what order.

Rows are ``shared.Row`` dicts; ``writers`` turns them into cells. The order of the
feeds within a date matters: the population changes as it goes (a death registered by
the police is seen by the feeds after it), and each feed draws from its own seeded
``random.Random``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from fpwarn_demo.cases import Cases
from fpwarn_demo.changes import Changes
from fpwarn_demo.departments.applications import Applications
from fpwarn_demo.departments.civil_affairs import AssistanceChanges
from fpwarn_demo.departments.education import StudentChanges
from fpwarn_demo.departments.emergency import disasters
from fpwarn_demo.departments.grid_reports import GridReports
from fpwarn_demo.departments.housing import HousingSafety
from fpwarn_demo.departments.human_resources import EmploymentChanges
from fpwarn_demo.departments.market_regulation import MarketEntities
from fpwarn_demo.departments.medical import Enrolment
from fpwarn_demo.departments.public_security import HukouChanges, Vehicles
from fpwarn_demo.departments.registry import Registry
from fpwarn_demo.departments.water import WaterProblems
from fpwarn_demo.population import District, Person
from fpwarn_demo.shared import Row, business_dates

# Changes per business date for 100,000 households, in the order they are made each date.
DAILY_VOLUME = {
    "edu_students": 50,
    "civil_assistance": 40,
    "hrss_employment": 80,
    "police_hukou": 30,
    "applications": 10,
}
# Small districts still need enough rows to carry one of each planted defect.
MIN_ROWS_OVER_RANGE = {
    "edu_students": 66,
    "civil_assistance": 66,
    "hrss_employment": 66,
    "police_hukou": 66,
    "applications": 40,
}

# The rows of one increment delivery: (rng, date, how many, first date of the range).
IncrementMaker = Callable[[random.Random, date, int, bool], list[Row]]


@dataclass
class Increments:
    """Every increment delivery of the range, generated day by day in date order.

    The population changes as it goes: deaths and moves take people out of the
    later snapshots, births and arrivals put them in.
    """

    district: District
    start: date
    end: date
    seed: int
    cases: Cases
    rows: dict[str, dict[date, list[Row]]] = field(default_factory=dict)

    def generate(self, rare_people: list[Person]) -> dict[str, dict[date, list[Row]]]:
        days = business_dates(self.start, self.end)
        scale = len(self.district.households) / 100_000
        rngs = {feed: random.Random(f"{self.seed}/{feed}") for feed in DAILY_VOLUME}
        makers = self._makers(rare_people)
        for feed in (*DAILY_VOLUME, "water_supply", "disaster_events", "grid_reports"):
            self.rows[feed] = {}
        grid_reports = GridReports(self.district, self.seed)
        water = WaterProblems(
            self.district, random.Random(f"{self.seed}/water_supply"), scale, len(days)
        )
        events = disasters(
            self.district,
            random.Random(f"{self.seed}/disaster_events"),
            days,
            scale,
            self.cases.flood_village,
        )
        for index, day in enumerate(days):
            weekend = day.weekday() >= 5
            for feed, per_100k in DAILY_VOLUME.items():
                rng = rngs[feed]
                expected = per_100k * scale * (0.35 if weekend else 1.0) * rng.uniform(0.8, 1.2)
                minimum = max(1, math.ceil(MIN_ROWS_OVER_RANGE[feed] / len(days)))
                count = max(minimum, round(expected))
                # Planted rows take the place of background ones: deliveries keep their size.
                count = max(1, count - len(self.cases.increments.get(feed, {}).get(day, [])))
                self.rows[feed][day] = makers[feed](rng, day, count, index == 0)
            for feed, by_day in self.cases.increments.items():
                if feed in ("grid_reports", "leads"):
                    continue  # added with the feed's own rows below
                planted = [dict(row) for row in by_day.get(day, [])]
                rows = self.rows[feed][day]
                for row in planted:
                    rows.insert(rngs[feed].randint(0, len(rows)), row)
            self.rows["water_supply"][day] = water.day(day) + [
                dict(row) for row in self.cases.water.get(day, [])
            ]
            self.rows["disaster_events"][day] = events.get(day, [])
            self.rows["grid_reports"][day] = grid_reports.rows(day) + [
                dict(row) for row in self.cases.increments.get("grid_reports", {}).get(day, [])
            ]
            # 群众反映线索: delivered every day, the planted ones only.
            self.rows.setdefault("leads", {})[day] = [
                dict(row) for row in self.cases.increments.get("leads", {}).get(day, [])
            ]
        return self.rows

    def _makers(self, rare_people: list[Person]) -> dict[str, IncrementMaker]:
        changes = Changes(self.district, self.start, self.cases)
        return {
            "edu_students": StudentChanges(changes).rows,
            "civil_assistance": AssistanceChanges(changes, rare_people).rows,
            "hrss_employment": EmploymentChanges(changes).rows,
            "police_hukou": HukouChanges(changes).rows,
            "applications": Applications(changes).rows,
        }


class Snapshots:
    """Snapshot feeds on a date. Per-household and per-person facts are drawn once."""

    def __init__(self, district: District, seed: int, cases: Cases) -> None:
        registry = Registry(district, cases)
        self.makers: dict[str, Callable[[date], list[Row]]] = {
            "grids": registry.grids,
            "households": registry.households,
            "members": registry.members,
            "housing_safety": HousingSafety(district, seed, cases).rows,
            "med_enrollment": Enrolment(district, seed, cases).rows,
            "market_entities": MarketEntities(district, seed, cases).rows,
            "police_vehicles": Vehicles(district, seed, cases).rows,
        }

    def rows(self, feed: str, day: date) -> list[Row]:
        maker = self.makers.get(feed)
        if maker is None:
            raise ValueError(f"the demo district has no generator for snapshot feed {feed!r}")
        return maker(day)
