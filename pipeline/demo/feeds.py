"""Clean rows of every file feed, as each department would send them on a date.

Rows are dicts keyed by the registry's ``field`` names holding typed values
(str, date, int, float yuan, None); ``writers`` turns them into cells in the
column order and header names of the registry. A row may carry ``PROTECTED``
to keep planted defects away from it (the flood the demo is about).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from pipeline.demo import names
from pipeline.demo.cases import Cases
from pipeline.demo.population import District, Household, Person, Village, random_date

PROTECTED = "_protected"
# Draws from a pool before giving up on finding someone eligible (small districts run dry).
_MAX_DRAWS = 2000
Row = dict[str, object]

# Changes per business date for 100,000 households.
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


def business_dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def snapshot_dates(start: date, end: date) -> list[date]:
    """The first date, then the 1st of every month in the range."""
    return [day for day in business_dates(start, end) if day == start or day.day == 1]


def change_date(rng: random.Random, day: date) -> date:
    """Mostly the business date; some changes are registered 1-5 days late."""
    return day if rng.random() < 0.8 else day - timedelta(days=rng.randint(1, 5))


def _age(person: Person, day: date) -> int:
    return person.age_on(day)


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
    _used_keys: set[tuple[object, ...]] = field(default_factory=set)
    # One birth per mother within a range.
    _mothers: set[Person] = field(default_factory=set)

    def generate(self, rare_people: list[Person]) -> dict[str, dict[date, list[Row]]]:
        days = business_dates(self.start, self.end)
        scale = len(self.district.households) / 100_000
        self._rare = rare_people
        self._rng = {feed: random.Random(f"{self.seed}/{feed}") for feed in DAILY_VOLUME}
        self._schoolable = [p for p in self.district.persons if p.schooling != "非在校生"]
        self._adults = [p for p in self.district.persons if 16 <= _age(p, self.start) <= 75]
        self._civil_pool, weights = self._civil_candidates()
        self._civil_weights = list(itertools.accumulate(weights))
        for feed in (*DAILY_VOLUME, "water_supply", "disaster_events"):
            self.rows[feed] = {}
        water = _Water(self.district, random.Random(f"{self.seed}/water_supply"), scale, len(days))
        disasters = _disasters(
            self.district,
            random.Random(f"{self.seed}/disaster_events"),
            days,
            scale,
            self.cases.flood_village,
        )
        for index, day in enumerate(days):
            weekend = day.weekday() >= 5
            for feed, per_100k in DAILY_VOLUME.items():
                rng = self._rng[feed]
                expected = per_100k * scale * (0.35 if weekend else 1.0) * rng.uniform(0.8, 1.2)
                minimum = max(1, math.ceil(MIN_ROWS_OVER_RANGE[feed] / len(days)))
                count = max(minimum, round(expected))
                # Planted rows take the place of background ones: deliveries keep their size.
                count = max(1, count - len(self.cases.increments.get(feed, {}).get(day, [])))
                maker = getattr(self, "_" + feed)
                self.rows[feed][day] = maker(rng, day, count, first=index == 0)
            for feed, by_day in self.cases.increments.items():
                planted = [dict(row) for row in by_day.get(day, [])]
                rows = self.rows[feed][day]
                for row in planted:
                    rows.insert(self._rng[feed].randint(0, len(rows)), row)
            self.rows["water_supply"][day] = water.day(day) + [
                dict(row) for row in self.cases.water.get(day, [])
            ]
            self.rows["disaster_events"][day] = disasters.get(day, [])
        return self.rows

    # -- helpers -----------------------------------------------------------------

    def _alive(self, person: Person, day: date) -> bool:
        return person.left is None and (person.joined is None or person.joined <= day)

    def _frozen(self, person: Person) -> bool:
        """Planted households and the flood and water villages keep their size."""
        household = person.household
        return household is not None and household.household_id in self.cases.frozen

    def _listed(self, household: Household, day: date) -> int:
        return sum(1 for member in household.members if self._alive(member, day))

    def _near_line(self, household: Household, day: date) -> bool:
        size = max(1, self._listed(household, day))
        return household.income_yuan / size < self.cases.near

    def _may_grow(self, household: Household, day: date) -> bool:
        """A new member must not take the household below the line (or near it, when not monitored)."""
        floor = self.cases.line if household.is_monitored else self.cases.near
        return household.income_yuan / (self._listed(household, day) + 1) >= floor

    def _fresh_key(self, key: tuple[object, ...]) -> bool:
        """Keys repeat neither within a delivery nor across the range (no accidental duplicates)."""
        if key in self._used_keys:
            return False
        self._used_keys.add(key)
        return True

    def _pick(
        self,
        rng: random.Random,
        pool: list[Person],
        day: date,
        cum_weights: list[float] | None = None,
    ) -> Iterator[Person]:
        """Living people from ``pool``, drawn at random; stops after a bounded number of tries."""
        if not pool:
            return
        for _ in range(_MAX_DRAWS):
            if cum_weights:
                person = rng.choices(pool, cum_weights=cum_weights)[0]
            else:
                person = rng.choice(pool)
            household = person.household
            if household is not None and household.household_id in self.cases.reserved:
                continue
            if self._alive(person, day):
                yield person

    # -- 学籍变动 ---------------------------------------------------------------

    def _edu_students(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        rows: list[Row] = []
        summer = day.month in (6, 7)
        for person in self._pick(rng, self._schoolable, day):
            if len(rows) >= count:
                break
            stage, grade = _stage_and_grade(person, day)
            if stage is None:
                continue
            status = rng.choices(
                ("在读", "转入", "转出", "休学", "辍学", "毕业"),
                (
                    35,
                    18,
                    18,
                    10,
                    6 if stage in ("初中", "高中", "中职") else 2,
                    40 if summer else 6,
                ),
            )[0]
            if status in ("休学", "辍学") and (
                stage in ("学前", "小学", "初中") or _age(person, day) < 16
            ):
                # Quiet background: leaving compulsory education is a planted case only.
                status = rng.choice(("在读", "转入", "转出"))
            changed = change_date(rng, day)
            if not self._fresh_key(("edu", person.id_number, status, changed)):
                continue
            household = person.household
            assert household is not None
            aid = ""
            if household.kind != "一般农户" or rng.random() < 0.08:
                aid = rng.choice(_AID_BY_STAGE[stage])
            rows.append(
                {
                    "student_id_number": person.id_number,
                    "student_name": person.name,
                    "school_name": _school(rng, stage, household),
                    "stage": stage,
                    "grade_name": grade,
                    "status": status,
                    "change_date": changed,
                    "aid_type": aid,
                }
            )
        return rows

    # -- 社会救助变动 -------------------------------------------------------------

    def _civil_candidates(self) -> tuple[list[Person], list[float]]:
        pool, weights = [], []
        for person in self.district.persons:
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

    def _civil_assistance(
        self, rng: random.Random, day: date, count: int, first: bool
    ) -> list[Row]:
        rows: list[Row] = []
        # Names that only GB18030 can carry: the first delivery always has one.
        rare = [
            p
            for p in self._rare
            if p.household is None or p.household.household_id not in self.cases.reserved
        ]
        forced = [p for p in rare if self._alive(p, day)][:1] if first else []
        if not first and rare and rng.random() < 0.3:
            forced = [rng.choice(rare)]
        candidates = self._pick(rng, self._civil_pool, day, self._civil_weights)
        for person in [*forced, *candidates]:
            if len(rows) >= count:
                break
            if not self._alive(person, day):
                continue
            kind = rng.choices(("低保", "临时救助", "特困供养", "残疾人两项补贴"), (40, 30, 8, 22))[
                0
            ]
            if kind == "残疾人两项补贴" and person.health != "残疾":
                kind = "低保"
            if kind == "特困供养" and _age(person, day) < 60:
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
            if change == "停保" and (household.is_monitored or self._near_line(household, day)):
                change = "调整"
            changed = change_date(rng, day)
            if not self._fresh_key(("civil", person.id_number, kind, change, changed)):
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

    # -- 就业失业登记 -------------------------------------------------------------

    def _hrss_employment(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        rows: list[Row] = []
        for person in self._pick(rng, self._adults, day):
            if len(rows) >= count:
                break
            if not 16 <= _age(person, day) <= 60 or person.schooling != "非在校生":
                continue
            status = rng.choices(
                ("就业登记", "灵活就业", "失业登记", "返乡未就业"), (40, 25, 20, 15)
            )[0]
            if (
                status in ("失业登记", "返乡未就业")
                and person.labour in self.cases.rules.labourer.skills
            ):
                # Quiet background: a labourer out of work is a planted case only.
                status = rng.choice(("就业登记", "灵活就业"))
            changed = change_date(rng, day)
            if not self._fresh_key(("hrss", person.id_number, status, changed)):
                continue
            region, wage = "", None
            if status in ("就业登记", "灵活就业"):
                region = _work_region(rng, person)
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

    # -- 户籍变动 ---------------------------------------------------------------

    def _police_hukou(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        rows: list[Row] = []
        for _ in range(count * 5):
            if len(rows) >= count:
                break
            kind = rng.choices(("死亡注销", "出生登记", "迁出", "迁入"), (35, 25, 20, 20))[0]
            changed = change_date(rng, day)
            made = getattr(self, _HUKOU_MAKERS[kind])(rng, day, changed)
            if made is None:
                continue
            person, remark = made
            if not self._fresh_key(("hukou", person.id_number, kind, changed)):
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

    def _hukou_death(
        self, rng: random.Random, day: date, changed: date
    ) -> tuple[Person, str] | None:
        working_age = rng.random() < 0.2
        for person in self._pick(rng, self._adults, day):
            age = _age(person, day)
            if person.relation == "户主" or person.joined is not None:
                continue
            if self._frozen(person):
                continue
            if (
                working_age
                and 25 <= age <= 58
                and person.labour not in self.cases.rules.labourer.skills
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

    def _hukou_birth(
        self, rng: random.Random, day: date, changed: date
    ) -> tuple[Person, str] | None:
        for mother in self._pick(rng, self._adults, day):
            if mother.sex != "女" or not 21 <= _age(mother, day) <= 40:
                continue
            if mother.relation not in ("配偶", "之儿媳", "户主") or mother in self._mothers:
                continue
            household = mother.household
            assert household is not None
            if self._frozen(mother) or not self._may_grow(household, day):
                continue
            self._mothers.add(mother)
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
                self.district.new_id(rng, birth, sex),
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
            self.district.persons.append(baby)
            return baby, rng.choice(("随母落户", "随父落户", ""))
        return None

    def _hukou_out(self, rng: random.Random, day: date, changed: date) -> tuple[Person, str] | None:
        for person in self._pick(rng, self._adults, day):
            if person.relation not in ("之子", "之女", "之孙子", "之孙女", "之兄弟姐妹"):
                continue
            if not 18 <= _age(person, day) <= 45 or person.joined is not None:
                continue
            if self._frozen(person):
                continue
            # Still in the snapshot of this date; gone from the next one.
            person.left = day + timedelta(days=1)
            place = rng.choice(names.WORK_REGIONS_PROVINCE + names.WORK_REGIONS_OUTSIDE)
            return person, rng.choice((f"迁往{place}", "婚迁", f"购房迁往{place}", "升学迁出"))
        return None

    def _hukou_in(self, rng: random.Random, day: date, changed: date) -> tuple[Person, str] | None:
        for groom in self._pick(rng, self._adults, day):
            if groom.relation != "之子" or not 22 <= _age(groom, day) <= 40:
                continue
            household = groom.household
            assert household is not None
            if any(member.relation == "之儿媳" for member in household.members):
                continue
            if self._frozen(groom) or not self._may_grow(household, day):
                continue
            birth = random_date(
                rng, date(groom.birth.year - 3, 1, 1), date(groom.birth.year + 3, 12, 28)
            )
            area = rng.choice(names.OTHER_AREA_CODES)
            bride = Person(
                self.district.new_id(rng, birth, "女", area),
                names.person_name(rng, "女", birth),
                "女",
                birth,
                "之儿媳",
                labour="普通劳动力",
                household=household,
                joined=day,
            )
            household.members.append(bride)
            self.district.persons.append(bride)
            return bride, rng.choice(("婚迁入", "婚迁入", "投靠亲属"))
        return None

    # -- 农户自主申报 -------------------------------------------------------------

    def _applications(self, rng: random.Random, day: date, count: int, first: bool) -> list[Row]:
        rows: list[Row] = []
        villages = self.district.villages
        sequence = 0
        for index in range(count * 5):
            if len(rows) >= count:
                break
            # The first delivery always shows both hard cases of the contract.
            outsider = (first and index == 0) or rng.random() < 0.15
            if outsider:
                village = rng.choice(villages)
                birth = random_date(rng, date(1955, 1, 1), date(2000, 12, 28))
                sex = "男" if rng.random() < 0.6 else "女"
                person = Person(
                    self.district.new_id(rng, birth, sex),
                    names.person_name(rng, sex, birth),
                    sex,
                    birth,
                )
                household_id = ""
            else:
                found = next(self._pick(rng, self._adults, day), None)
                if found is None or not 18 <= _age(found, day) <= 75:
                    continue
                person = found
                household = person.household
                assert household is not None
                if household.kind == "脱贫户" or household.is_monitored:
                    continue
                village = household.village
                household_id = household.household_id
            sequence += 1
            signed = "否" if (first and index == 1) or rng.random() < 0.1 else "是"
            rows.append(
                {
                    "application_id": f"SQ{day:%Y%m%d}{sequence:04d}",
                    "household_id": household_id,
                    "applicant_id_number": person.id_number,
                    "applicant_name": person.name,
                    "village_code": village.code,
                    "application_date": change_date(rng, day),
                    "reason": rng.choices(
                        (
                            "因病",
                            "因残",
                            "因学",
                            "因灾",
                            "因意外事故",
                            "缺劳动力",
                            "因失业",
                            "产业失败",
                            "住房安全",
                            "饮水安全",
                            "其他",
                        ),
                        (30, 8, 8, 5, 8, 8, 12, 6, 6, 3, 6),
                    )[0],
                    "has_signed_authorisation": signed,
                }
            )
        return rows


_HUKOU_MAKERS = {
    "死亡注销": "_hukou_death",
    "出生登记": "_hukou_birth",
    "迁出": "_hukou_out",
    "迁入": "_hukou_in",
}

_AID_BY_STAGE = {
    "学前": ("学前教育资助", "免保教费"),
    "小学": ("营养改善计划", "家庭经济困难学生生活补助"),
    "初中": ("营养改善计划", "家庭经济困难学生生活补助"),
    "高中": ("国家助学金", "免学费"),
    "中职": ("国家助学金", "免学费", "雨露计划"),
    "高职": ("国家助学金", "雨露计划", "生源地信用助学贷款"),
    "本科及以上": ("国家助学金", "生源地信用助学贷款"),
}

_STAGES = {
    "学龄前儿童": "学前",
    "小学": "小学",
    "七年级": "初中",
    "八年级": "初中",
    "九年级": "初中",
    "普通高中": "高中",
    "中职": "中职",
    "高职": "高职",
    "本科及以上": "本科及以上",
}


def _stage_and_grade(person: Person, day: date) -> tuple[str | None, str]:
    stage = _STAGES.get(person.schooling)
    year = day.year if day.month >= 9 else day.year - 1
    age = year - person.birth.year - ((person.birth.month, person.birth.day) > (8, 31))
    if stage == "学前":
        if age < 3:
            return None, ""
        return stage, ("小班", "中班", "大班")[min(age, 5) - 3]
    if stage == "小学":
        return stage, names.chinese_number(max(1, min(6, age - 5))) + "年级"
    if stage == "初中":
        return stage, person.schooling
    if stage == "高中":
        return stage, ("高一", "高二", "高三")[max(0, min(2, age - 15))]
    if stage in ("中职", "高职"):
        return stage, names.chinese_number(
            max(1, min(3, age - 14 if stage == "中职" else age - 17))
        ) + "年级"
    if stage == "本科及以上":
        return stage, ("大一", "大二", "大三", "大四")[max(0, min(3, age - 18))]
    return None, ""


def _school(rng: random.Random, stage: str, household: Household) -> str:
    template = rng.choice(names.SCHOOL_TEMPLATES[stage])
    return template.format(
        township=household.village.township.name[:-1], village=household.village.name[:-1]
    )


def _work_region(rng: random.Random, person: Person) -> str:
    if person.work == "省外务工":
        return rng.choice(names.WORK_REGIONS_OUTSIDE)
    if person.work == "省内县外务工":
        return rng.choice(names.WORK_REGIONS_PROVINCE)
    return rng.choice(names.WORK_REGIONS_LOCAL)


class _Water:
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


def _disasters(
    district: District,
    rng: random.Random,
    days: list[date],
    scale: float,
    flood_village: Village | None = None,
) -> dict[date, list[Row]]:
    """One 较大 flood in one village (the planted one), one 一般 event, and a few more 一般 ones."""
    by_day: dict[date, list[Row]] = {}
    villages = district.villages

    def add(day: date, row: Row) -> None:
        rows = by_day.setdefault(day, [])
        row["event_id"] = f"YJ{day:%Y%m%d}{len(rows) + 1:02d}"
        rows.append(row)

    flood_day = days[min(1, len(days) - 1)]
    village = rng.choice(villages)
    if flood_village is not None:
        village = flood_village
    affected = max(1, round(len(village.households) * rng.uniform(0.4, 0.8)))
    add(
        flood_day,
        {
            "disaster_type": "洪涝",
            "township_code": village.township.code,
            "village_code": village.code,
            "occurrence_date": flood_day - timedelta(days=rng.randint(0, 1)),
            "households_affected": affected,
            "direct_loss_10k_yuan": round(rng.uniform(80, 300), 1),
            "severity": "较大",
            PROTECTED: True,
        },
    )
    township = rng.choice(district.townships)
    hail_day = days[min(2, len(days) - 1)] if len(days) > 2 else days[0]
    add(
        hail_day,
        {
            "disaster_type": "风雹",
            "township_code": township.code,
            "village_code": "",
            "occurrence_date": hail_day,
            "households_affected": rng.randint(5, 40),
            "direct_loss_10k_yuan": round(rng.uniform(5, 40), 1),
            "severity": "一般",
            PROTECTED: True,
        },
    )
    for _ in range(round(len(days) * scale * 0.3)):
        day = rng.choice(days)
        village = rng.choice(villages)
        kind = rng.choices(("火灾", "地质灾害", "风雹", "低温冷冻", "干旱"), (40, 20, 20, 10, 10))[
            0
        ]
        single = kind == "火灾"
        add(
            day,
            {
                "disaster_type": kind,
                "township_code": village.township.code,
                "village_code": village.code,
                "occurrence_date": day - timedelta(days=rng.randint(0, 2)),
                "households_affected": 1 if single else rng.randint(2, 30),
                "direct_loss_10k_yuan": round(rng.uniform(1, 20 if single else 60), 1),
                "severity": "一般",
            },
        )
    return by_day


# -- snapshots ---------------------------------------------------------------------


@dataclass
class Snapshots:
    """Snapshot feeds on a date. Per-household and per-person facts are drawn once."""

    district: District
    seed: int
    cases: Cases
    _housing: dict[str, tuple[str, date, str]] = field(default_factory=dict)
    _enrolment: dict[str, tuple[str, str | None, str]] = field(default_factory=dict)
    _entities: list[Row] | None = None
    _vehicles: list[Row] | None = None

    def rows(self, feed: str, day: date) -> list[Row]:
        maker = getattr(self, "_" + feed, None)
        if maker is None:
            raise ValueError(f"the demo district has no generator for snapshot feed {feed!r}")
        return maker(day)

    def _grids(self, day: date) -> list[Row]:
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

    def _households(self, day: date) -> list[Row]:
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

    def _members(self, day: date) -> list[Row]:
        rows: list[Row] = [
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
        return rows

    def _housing_safety(self, day: date) -> list[Row]:
        rng = random.Random(f"{self.seed}/housing_safety")
        rows: list[Row] = []
        for household in self.district.households:
            facts = self._housing.get(household.household_id)
            if facts is None:
                grade = rng.choices(("A级", "B级", "C级", "D级"), (62, 36.7, 1.0, 0.3))[0]
                appraised = random_date(rng, date(2019, 3, 1), date(day.year - 1, 12, 20))
                status = "无需改造"
                if grade in ("C级", "D级"):
                    # Quiet background: an unsafe house not yet renovated is a planted case only.
                    status = "已改造"
                facts = self.cases.housing.get(household.household_id, (grade, appraised, status))
                self._housing[household.household_id] = facts
            village = household.village
            number = int(household.household_id[-4:])
            rows.append(
                {
                    "head_id_number": household.head.id_number,
                    "head_name": household.head.name,
                    "address": (
                        f"{names.PROVINCE_NAME}{names.CITY_NAME}{names.DISTRICT_NAME}"
                        f"{village.township.name}{village.name}{household.group_name}{number}号"
                    ),
                    "safety_grade": facts[0],
                    "appraisal_date": facts[1],
                    "renovation_status": facts[2],
                    PROTECTED: household.household_id in self.cases.reserved,
                }
            )
        return rows

    def _med_enrollment(self, day: date) -> list[Row]:
        rng = random.Random(f"{self.seed}/med_enrollment/{day:%Y%m}")
        rows: list[Row] = []
        for household in self.district.households:
            for person in household.members:
                if not person.listed_on(day):
                    continue
                facts = self._enrolment.get(person.id_number)
                if facts is None:
                    status = rng.choices(
                        ("正常参保", "未参保", "暂停参保", "终止参保", ""), (965, 15, 7, 8, 5)
                    )[0]
                    if household.is_monitored:
                        # Quiet background: every monitored member is insured, except planted cases.
                        status = self.cases.enrolment.get(person.id_number, "正常参保")
                    subsidy: str | None = "无" if rng.random() < 0.9 else None
                    if household.kind != "一般农户":
                        subsidy = rng.choice(("全额资助", "定额资助", "定额资助"))
                    place = names.DISTRICT_NAME
                    if rng.random() < 0.04:
                        place = rng.choice(names.OTHER_COUNTY_NAMES)
                    facts = (status, subsidy, place)
                    self._enrolment[person.id_number] = facts
                if not facts[0]:
                    continue  # not on the bureau's list at all
                rows.append(
                    {
                        "id_number": person.id_number,
                        "name": person.name,
                        "insurance_year": day.year,
                        "insurance_status": facts[0],
                        "subsidy_type": facts[1],
                        "insured_place": facts[2],
                        PROTECTED: household.household_id in self.cases.reserved
                        or (household.is_monitored and facts[0] != "正常参保"),
                    }
                )
        return rows

    def _market_entities(self, day: date) -> list[Row]:
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

    def _police_vehicles(self, day: date) -> list[Row]:
        if self._vehicles is None:
            self._vehicles = _vehicles(
                self.district, random.Random(f"{self.seed}/police_vehicles"), self.cases
            )
        # Every vehicle was registered before the range; kept as a snapshot of all of them.
        return [dict(vehicle) for vehicle in self._vehicles]


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(rng: random.Random, prefix: str) -> str:
    """A 统一社会信用代码 with its GB 32100 check character."""
    body = prefix + names.DISTRICT_CODE + "".join(rng.choice(_CREDIT_CHARS) for _ in range(9))
    total = sum(
        _CREDIT_CHARS.index(char) * weight
        for char, weight in zip(body, _CREDIT_WEIGHTS, strict=True)
    )
    return body + _CREDIT_CHARS[(31 - total % 31) % 31]


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


_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


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
        plate = "皖R" + "".join(rng.choice(_PLATE_CHARS) for _ in range(5))
        while plate in plates:
            plate = "皖R" + "".join(rng.choice(_PLATE_CHARS) for _ in range(5))
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
