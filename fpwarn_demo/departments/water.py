"""区水利局: 农村供水问题台账 (water_supply), drinking-water problems of the village projects."""

from __future__ import annotations

import random
from datetime import date, timedelta

from fpwarn_demo.population import District
from fpwarn_demo.shared import PROTECTED, Row


class WaterProblems:
    """Drinking-water problems per village project; restorations come as later rows.

    The background is quiet: no 水质不达标, and every problem is over by the next
    day's delivery, so none is ever open for the rules' minimum number of days.
    """

    def __init__(self, district: District, rng: random.Random, scale: float, days: int) -> None:
        self.district = district
        self.rng = rng
        self.per_day = max(scale, 12 / days)
        self.open: list[Row] = []

    def day(self, day: date) -> list[Row]:
        rng = self.rng
        rows: list[Row] = []
        for problem in self.open:
            update = dict(problem)
            started = problem["start_date"]
            assert isinstance(started, date)
            update["restored_date"] = max(started, day - timedelta(days=rng.randint(0, 1)))
            # A lost restoration would leave the problem open for ever.
            update[PROTECTED] = True
            rows.append(update)
        self.open = []
        count = int(self.per_day) + (1 if rng.random() < self.per_day % 1 else 0)
        for sequence in range(1, count + 1):
            village = rng.choice(self.district.villages)
            kind = rng.choices(("停水", "水量不足", "水源枯竭"), (60, 30, 10))[0]
            started = day - timedelta(days=rng.choice((0, 0, 0, 1)))
            households = len(village.households)
            opened: Row = {
                "problem_id": f"GS{day:%Y%m%d}{sequence:03d}",
                "village_code": village.code,
                "project_name": village.water_project,
                "problem_type": kind,
                "start_date": started,
                "restored_date": None,
                "households_affected": max(1, round(households * rng.uniform(0.2, 1.0))),
            }
            if rng.random() < 0.35:
                # A short outage, reported when it was already over.
                opened["restored_date"] = day
            else:
                self.open.append(opened)
            rows.append(dict(opened))
        return rows
