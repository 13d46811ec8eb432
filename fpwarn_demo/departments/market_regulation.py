"""区市场监督管理局: 市场主体登记 (market_entities), the businesses of the district and
who runs them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import fpwarn_demo.names as names
from fpwarn_demo.cases import Cases
from fpwarn_demo.population import District, Person, random_date
from fpwarn_demo.shared import PROTECTED, Row, credit_code


@dataclass
class MarketEntities:
    """市场主体登记 on a date: drawn once; a business closed after the date is still 存续."""

    district: District
    seed: int
    cases: Cases
    _entities: list[Row] | None = field(default=None, init=False)

    def rows(self, day: date) -> list[Row]:
        if self._entities is None:
            self._entities = _entities(
                self.district, random.Random(f"{self.seed}/market_entities"), self.cases
            )
        rows: list[Row] = []
        for entity in self._entities:
            row = {
                key: value
                for key, value in entity.items()
                if key == PROTECTED or not key.startswith("_")
            }
            if row["status_change_date"] > day:  # type: ignore[operator]
                # Closed after this snapshot: still 存续 here, dated by its founding.
                row["registration_status"] = "存续"
                row["status_change_date"] = entity["_founded"]
            rows.append(row)
        return rows


def _entities(district: District, rng: random.Random, cases: Cases) -> list[Row]:
    start = district.start
    entities: list[Row] = []
    used: set[str] = {str(entity["credit_code"]) for entity in cases.entities}
    owners: list[tuple[Person, bool]] = []
    for household in district.households:
        if household.household_id in cases.reserved:
            continue
        if rng.random() < 0.05:
            adults = [p for p in household.members if 25 <= p.age_on(start) <= 65]
            if adults:
                owners.append((rng.choice(adults), True))
    for _ in range(max(5, len(owners) // 2)):
        owners.append((district.outsider(rng, 1960, 1995), False))
    for person, local in owners:
        kind = rng.choices(
            ("个体工商户", "农民专业合作社", "有限责任公司", "股份有限公司", "个人独资企业"),
            (70, 12, 12, 1, 5) if local else (40, 5, 40, 5, 10),
        )[0]
        monitored = local and person.household is not None and person.household.is_monitored
        if monitored and kind in ("有限责任公司", "股份有限公司"):
            # Quiet background: no company in a monitored household (a planted case only).
            kind = "个体工商户"
        prefix = {"个体工商户": "92", "农民专业合作社": "93"}.get(kind, "91")
        code = credit_code(rng, prefix)
        while code in used:
            code = credit_code(rng, prefix)
        used.add(code)
        place = (
            person.household.village.name[:-1]
            if person.household
            else rng.choice(names.COMPANY_WORDS)
        )
        if kind == "个体工商户":
            name = f"贵池区{place}{person.name}{rng.choice(names.SHOP_KINDS)}"
            capital: float | None = rng.choice((None, 1.0, 2.0, 3.0, 5.0, 10.0))
        elif kind == "农民专业合作社":
            name = f"池州市贵池区{place}{rng.choice(names.INDUSTRIES)}专业合作社"
            capital = float(rng.choice((10, 20) if monitored else (10, 20, 50, 100, 200)))
        elif kind == "个人独资企业":
            name = (
                f"池州市{rng.choice(names.COMPANY_WORDS)}{rng.choice(names.COMPANY_TRADES)}经营部"
            )
            capital = float(rng.choice((5, 10, 20, 30)))
        else:
            trade = rng.choice(names.COMPANY_TRADES)
            suffix = "有限公司" if kind == "有限责任公司" else "股份有限公司"
            name = f"池州市{rng.choice(names.COMPANY_WORDS)}{place}{trade}{suffix}"
            capital = float(rng.choice((50, 100, 200, 500, 1000)))
        founded = random_date(rng, date(2008, 1, 1), start - timedelta(days=200))
        status, changed = "存续", founded
        roll = rng.random()
        small = kind in ("个体工商户", "农民专业合作社")
        # Quiet background: a recent failure of a local family business is a planted case only.
        if small and roll < 0.12 and not local:
            # A recent failure of a family business: within 90 days before start, or during the range.
            status = rng.choice(("注销", "注销", "吊销"))
            changed = start - timedelta(days=rng.randint(-30, 80))
        elif roll < 0.2:
            status = rng.choice(("注销", "吊销"))
            changed = random_date(rng, founded, start - timedelta(days=120))
        entities.append(
            {
                "credit_code": code,
                "entity_name": name,
                "entity_type": kind,
                "operator_id_number": person.id_number,
                "operator_name": person.name,
                "registered_capital_10k_yuan": capital,
                "registration_status": status,
                "status_change_date": changed,
                "_founded": founded,
            }
        )
    return [*entities, *(dict(entity) for entity in cases.entities)]
