"""Working days on China's official calendar, for verification deadlines.

The State Council publishes each year's public holidays and the weekend days worked in
exchange (调休); ``chinesecalendar`` carries them. ``config/rules.yaml`` adds days or
corrects the package (``holidays``, ``makeup_working_days``), and names the years it
lists in full (``calendar_years_in_rules``) for a year the package does not know yet. A
date of any other year falls back to Monday-Friday, and the run says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import chinese_calendar


@cache
def official_years() -> frozenset[int]:
    """The years whose arrangement the installed ``chinesecalendar`` carries."""
    return frozenset(day.year for day in chinese_calendar.holidays)


def calendar_version() -> str:
    """The package's version: a rerun whose calendar changed is not the same run."""
    return str(getattr(chinese_calendar, "__version__", "unknown"))


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    makeup_working_days: frozenset[date] = frozenset()
    years_in_rules: frozenset[int] = frozenset()
    # Years a deadline fell in that neither the package nor the rules know: Monday-Friday.
    years_guessed: set[int] = field(default_factory=set, compare=False, hash=False)

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_working_days:
            return True
        if day in self.holidays:
            return False
        if day.year in official_years():
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self.years_in_rules:
            self.years_guessed.add(day.year)
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        current, counted = start, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current

    def fallback_warnings(self) -> list[str]:
        """What the manifest says of the years counted Monday-Friday."""
        known = max(official_years())
        return [
            f"{year}年的法定节假日和调休安排尚未收录（chinesecalendar {calendar_version()} "
            f"收录至{known}年）：核实期限按周一至周五计算；国务院公布后请升级 chinesecalendar，"
            f"或在 config/rules.yaml 的 holidays、makeup_working_days 中录入并将{year}列入 "
            f"calendar_years_in_rules"
            for year in sorted(self.years_guessed)
        ]
