"""公安分局: 户籍变动 (police_hukou), deaths, births and moves; its 交警大队: 机动车登记
(police_vehicles), every vehicle registered in the district."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import fpwarn_demo.names as names
from fpwarn_demo.cases import Cases
from fpwarn_demo.changes import Changes
from fpwarn_demo.population import District, Person, random_date
from fpwarn_demo.shared import Row, change_date

# -- 户籍变动 -------------------------------------------------------------------------


class HukouChanges:
    """户籍变动 of a date. The population changes with them: the dead and those who moved
    away leave the later snapshots, babies and brides join them."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        # One birth per mother within a range.
        self.mothers: set[Person] = set()
        self.makers: dict[str, Callable[[random.Random, date, date], tuple[Person, str] | None]] = {
            "死亡注销": self.death,
            "出生登记": self.birth,
            "迁出": self.moved_out,
            "迁入": self.moved_in,
        }

    def rows(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        rows: list[Row] = []
        for _ in range(count * 5):
            if len(rows) >= count:
                break
            kind = rng.choices(("死亡注销", "出生登记", "迁出", "迁入"), (35, 25, 20, 20))[0]
            changed = change_date(rng, day)
            made = self.makers[kind](rng, day, changed)
            if made is None:
                continue
            person, remark = made
            if not self.changes.fresh_key(("hukou", person.id_number, kind, changed)):
                continue
            rows.append(
                {
                    "id_number": person.id_number,
                    "name": person.name,
                    "change_type": kind,
                    "change_date": changed,
                    "remark": remark,
                }
            )
        return rows

    def death(self, rng: random.Random, day: date, changed: date) -> tuple[Person, str] | None:
        changes = self.changes
        working_age = rng.random() < 0.2
        for person in changes.pick(rng, changes.adults, day):
            age = person.age_on(day)
            if person.relation == "户主" or person.joined is not None:
                continue
            if changes.frozen(person):
                continue
            if (
                working_age
                and 25 <= age <= 58
                and person.labour not in changes.cases.rules.labourer.skills
            ):
                remark = rng.choice(("交通事故死亡", "意外溺亡", "突发疾病死亡", "工伤事故死亡"))
            elif not working_age and age >= 65:
                remark = rng.choice(("病故", "病故", "因病死亡", "自然死亡", ""))
            else:
                continue
            # Still in the snapshot of this date; gone from the next one.
            person.left = day + timedelta(days=1)
            return person, remark
        return None

    def birth(self, rng: random.Random, day: date, changed: date) -> tuple[Person, str] | None:
        changes = self.changes
        for mother in changes.pick(rng, changes.adults, day):
            if mother.sex != "女" or not 21 <= mother.age_on(day) <= 40:
                continue
            if mother.relation not in ("配偶", "之儿媳", "户主") or mother in self.mothers:
                continue
            household = mother.household
            assert household is not None
            if changes.frozen(mother) or not changes.may_grow(household, day):
                continue
            self.mothers.add(mother)
            sex = "男" if rng.random() < 0.52 else "女"
            birth = changed - timedelta(days=rng.randint(1, 60))
            grandchild = mother.relation == "之儿媳"
            relation = (
                ("之孙子" if sex == "男" else "之孙女")
                if grandchild
                else ("之子" if sex == "男" else "之女")
            )
            family = household.head.name[0] if household.head.sex == "男" else mother.name[0]
            baby = Person(
                changes.district.new_id(rng, birth, sex),
                names.person_name(rng, sex, birth, family),
                sex,
                birth,
                relation,
                labour="无劳动力",
                schooling="学龄前儿童",
                household=household,
                joined=day,
            )
            household.members.append(baby)
            changes.district.persons.append(baby)
            return baby, rng.choice(("随母落户", "随父落户", ""))
        return None

    def moved_out(self, rng: random.Random, day: date, changed: date) -> tuple[Person, str] | None:
        changes = self.changes
        for person in changes.pick(rng, changes.adults, day):
            if person.relation not in ("之子", "之女", "之孙子", "之孙女", "之兄弟姐妹"):
                continue
            if not 18 <= person.age_on(day) <= 45 or person.joined is not None:
                continue
            if changes.frozen(person):
                continue
            # Still in the snapshot of this date; gone from the next one.
            person.left = day + timedelta(days=1)
            place = rng.choice(names.WORK_REGIONS_PROVINCE + names.WORK_REGIONS_OUTSIDE)
            return person, rng.choice((f"迁往{place}", "婚迁", f"购房迁往{place}", "升学迁出"))
        return None

    def moved_in(self, rng: random.Random, day: date, changed: date) -> tuple[Person, str] | None:
        changes = self.changes
        for groom in changes.pick(rng, changes.adults, day):
            if groom.relation != "之子" or not 22 <= groom.age_on(day) <= 40:
                continue
            household = groom.household
            assert household is not None
            if any(member.relation == "之儿媳" for member in household.members):
                continue
            if changes.frozen(groom) or not changes.may_grow(household, day):
                continue
            birth = random_date(
                rng, date(groom.birth.year - 3, 1, 1), date(groom.birth.year + 3, 12, 28)
            )
            area = rng.choice(names.OTHER_AREA_CODES)
            bride = Person(
                changes.district.new_id(rng, birth, "女", area),
                names.person_name(rng, "女", birth),
                "女",
                birth,
                "之儿媳",
                labour="普通劳动力",
                household=household,
                joined=day,
            )
            household.members.append(bride)
            changes.district.persons.append(bride)
            return bride, rng.choice(("婚迁入", "婚迁入", "投靠亲属"))
        return None


# -- 机动车登记 -----------------------------------------------------------------------

PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass
class Vehicles:
    """机动车登记 (police_vehicles): drawn once, on the first snapshot asked for."""

    district: District
    seed: int
    cases: Cases
    _vehicles: list[Row] | None = field(default=None, init=False)

    def rows(self, day: date) -> list[Row]:
        if self._vehicles is None:
            self._vehicles = _vehicles(
                self.district, random.Random(f"{self.seed}/police_vehicles"), self.cases
            )
        # Every vehicle was registered before the range; kept as a snapshot of all of them.
        return [dict(vehicle) for vehicle in self._vehicles]


def _vehicles(district: District, rng: random.Random, cases: Cases) -> list[Row]:
    start = district.start
    vehicles: list[Row] = []
    plates: set[str] = {str(vehicle["plate_number"]) for vehicle in cases.vehicles}
    owners: list[Person] = []
    for household in district.households:
        if household.household_id in cases.reserved:
            continue
        if rng.random() < 0.18:
            adults = [p for p in household.members if 20 <= p.age_on(start) <= 70]
            if adults:
                owners.append(rng.choice(adults))
    owners.extend(district.outsider(rng, 1965, 2000) for _ in range(max(5, len(owners) // 3)))
    for person in owners:
        kind = rng.choices(
            (
                "摩托车",
                "小型轿车",
                "三轮汽车",
                "轻型货车",
                "小型越野客车",
                "拖拉机",
                "中型货车",
                "重型货车",
            ),
            (30, 30, 10, 10, 8, 6, 4, 2),
        )[0]
        if person.household is not None and person.household.is_monitored:
            # Quiet background: a private car in a monitored household is a planted case only.
            kind = {"小型轿车": "摩托车", "小型越野客车": "三轮汽车"}.get(kind, kind)
        usage = "非营运"
        if kind in ("拖拉机", "三轮汽车"):
            usage = "农用"
        elif kind in ("轻型货车", "中型货车", "重型货车") and rng.random() < 0.6:
            usage = "营运"
        plate = "皖R" + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        while plate in plates:
            plate = "皖R" + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        plates.add(plate)
        vehicles.append(
            {
                "plate_number": plate,
                "owner_id_number": person.id_number,
                "owner_name": person.name,
                "vehicle_type": kind,
                "usage": usage,
                "first_registration_date": random_date(
                    rng, date(2006, 1, 1), start - timedelta(days=30)
                ),
                "vehicle_status": rng.choices(("正常", "注销", "报废"), (90, 5, 5))[0],
            }
        )
    return [*vehicles, *(dict(vehicle) for vehicle in cases.vehicles)]
