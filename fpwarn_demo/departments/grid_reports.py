"""网格员月报: each township's workbook of its group grids' monthly reports.

Every month, on day ``DELIVERY_DAY`` (before the 5th, the deadline of
``assessment.grid_reports_due_day``), each township sends the previous month's rows: a
group grid with nothing to report sends one 无异常 row without a household. A few grids
forget (``FORGETFUL_SHARE``): the assessment lists them as not reported. The draws come
from their own stream (``<seed>/grid_reports``), so no other feed's bytes change.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from fpwarn_demo.population import District
from fpwarn_demo.shared import Row

DELIVERY_DAY = 3
FORGETFUL_SHARE = 0.05


class GridReports:
    def __init__(self, district: District, seed: int) -> None:
        self.district = district
        self.rng = random.Random(f"{seed}/grid_reports")
        self.group_grids = [grid for grid in district.grids if grid.level == "组级"]

    def rows(self, day: date) -> list[Row]:
        """The rows delivered on ``day``: the previous month's reports on DELIVERY_DAY."""
        if day.day != DELIVERY_DAY:
            return []
        last = day.replace(day=1) - timedelta(days=1)
        rows: list[Row] = []
        for grid in self.group_grids:
            if self.rng.random() < FORGETFUL_SHARE:
                continue
            rows.append(
                {
                    "grid_id": grid.grid_id,
                    "household_id": None,
                    "report_date": last - timedelta(days=self.rng.randint(0, 3)),
                    "situation_type": "无异常",
                    "description": "本月走访无异常",
                    "reporter": grid.worker,
                }
            )
        return rows
