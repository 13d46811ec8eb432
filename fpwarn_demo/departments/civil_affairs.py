"""区民政局: 社会救助变动 (civil_assistance), changes of 低保, 特困供养, 临时救助 and the
disability allowances."""

from __future__ import annotations

import itertools
import random
from datetime import date

from fpwarn_demo.changes import Changes
from fpwarn_demo.population import Person
from fpwarn_demo.shared import Row, change_date


class AssistanceChanges:
    """社会救助变动 of a date. ``rare`` people (names only GB18030 can carry) go out too."""

    def __init__(self, changes: Changes, rare: list[Person]) -> None:
        self.changes = changes
        self.rare = rare
        self.pool, weights = self._candidates()
        self.cum_weights = list(itertools.accumulate(weights))

    def _candidates(self) -> tuple[list[Person], list[float]]:
        pool, weights = [], []
        for person in self.changes.district.persons:
            household = person.household
            assert household is not None
            per_capita = household.income_yuan / max(1, len(household.members))
            weight = 1.0
            if household.kind != "一般农户":
                weight = 12.0
            elif per_capita < 9000:
                weight = 8.0
            if person.health == "残疾":
                weight *= 3
            pool.append(person)
            weights.append(weight)
        return pool, weights

    def rows(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        changes = self.changes
        cases = changes.cases
        rows: list[Row] = []
        # Names that only GB18030 can carry: the first delivery always has one.
        rare = [
            p
            for p in self.rare
            if p.household is None or p.household.household_id not in cases.reserved
        ]
        forced = [p for p in rare if changes.alive(p, day)][:1] if first else []
        if not first and rare and rng.random() < 0.3:
            forced = [rng.choice(rare)]
        candidates = changes.pick(rng, self.pool, day, self.cum_weights)
        for person in [*forced, *candidates]:
            if len(rows) >= count:
                break
            if not changes.alive(person, day):
                continue
            kind = rng.choices(("低保", "临时救助", "特困供养", "残疾人两项补贴"), (40, 30, 8, 22))[
                0
            ]
            if kind == "残疾人两项补贴" and person.health != "残疾":
                kind = "低保"
            if kind == "特困供养" and person.age_on(day) < 60:
                kind = "临时救助"
            change = (
                "新增"
                if kind == "临时救助"
                else rng.choices(("新增", "停保", "调整"), (50, 25, 25))[0]
            )
            # Quiet background: new assistance only for monitored households (already
            # followed), stops only for households neither monitored nor near the line.
            household = person.household
            assert household is not None
            if change == "新增" and not household.is_monitored:
                if person not in forced:
                    continue
                # The rare name still goes out, with a change that raises nothing.
                kind, change = ("低保" if kind == "临时救助" else kind), "调整"
            if change == "停保" and (household.is_monitored or changes.near_line(household, day)):
                change = "调整"
            changed = change_date(rng, day)
            if not changes.fresh_key(("civil", person.id_number, kind, change, changed)):
                continue
            amount: float | None = None
            reason = ""
            if change == "停保":
                reason = rng.choice(
                    (
                        "家庭收入超过低保标准",
                        "家庭人均收入超标",
                        "不再符合条件",
                        "自愿申请退出",
                        "死亡",
                    )
                )
            elif kind == "低保":
                amount = float(rng.randrange(300, 900, 10))
            elif kind == "特困供养":
                amount = float(rng.randrange(900, 1300, 10))
            elif kind == "临时救助":
                amount = float(rng.randrange(500, 5000, 100))
            else:
                amount = float(rng.choice((80, 90, 100, 120, 150, 160)))
            rows.append(
                {
                    "id_number": person.id_number,
                    "name": person.name,
                    "assistance_type": kind,
                    "change_type": change,
                    "change_date": changed,
                    "monthly_amount_yuan": amount,
                    "stop_reason": reason,
                }
            )
        return rows
