"""The demo district's people: townships, villages, grids, households and members.

Built once per run from a seeded ``random.Random``; the feeds are views of it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import fpwarn_demo.names as names
from pipeline.validation.id_numbers import make

HOUSEHOLDS_PER_TOWNSHIP = 6000
# Per-capita income floors of the quiet background (config/rules.yaml: the 6000 yuan line,
# near it below 1.5 times that): households not monitored stay clear of "near the line",
# monitored ones stay above the line. Only planted cases go lower.
QUIET_PER_CAPITA = 9200.0
MONITORED_PER_CAPITA = 6600.0
GRID_MIN, GRID_MAX = 20, 40


@dataclass(eq=False, slots=True)
class Person:
    id_number: str
    name: str
    sex: str
    birth: date
    relation: str = "其他"
    labour: str = "普通劳动力"
    health: str = "健康"
    disability: str | None = None
    schooling: str = "非在校生"
    work: str = "未务工"
    household: Household | None = None
    # Registered after the first snapshot (birth, moving in): listed from this date on.
    joined: date | None = None
    # Deregistered (death, moving out): no longer listed in snapshots from this date on.
    left: date | None = None

    def age_on(self, day: date) -> int:
        return (
            day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))
        )

    def listed_on(self, day: date) -> bool:
        return (self.joined is None or self.joined <= day) and (
            self.left is None or self.left > day
        )


@dataclass(eq=False, slots=True)
class Household:
    household_id: str
    village: Village
    grid_id: str
    group_name: str
    kind: str
    monitoring_type: str | None
    risk_status: str | None
    monitoring_since: str | None
    income_yuan: float
    phone: str | None
    members: list[Person] = field(default_factory=list)

    @property
    def head(self) -> Person:
        return self.members[0]

    @property
    def is_monitored(self) -> bool:
        return self.kind == "脱贫户" or (self.kind == "监测户" and self.risk_status != "已消除")


@dataclass(eq=False, slots=True)
class Grid:
    grid_id: str
    level: str
    parent_id: str | None
    name: str
    worker: str
    phone: str


@dataclass(eq=False, slots=True)
class Village:
    code: str
    name: str
    township: Township
    households: list[Household] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)

    @property
    def water_project(self) -> str:
        return f"{self.name}集中供水工程"


@dataclass(eq=False, slots=True)
class Township:
    code: str
    name: str
    villages: list[Village] = field(default_factory=list)


@dataclass(eq=False)
class District:
    start: date
    townships: list[Township]
    grids: list[Grid]
    households: list[Household]
    persons: list[Person]
    used_ids: set[str]
    used_household_ids: set[str]

    @property
    def villages(self) -> list[Village]:
        return [village for township in self.townships for village in township.villages]

    def new_id(
        self, rng: random.Random, birth: date, sex: str, area: str = names.DISTRICT_CODE
    ) -> str:
        """A valid ID number that nobody else in the district has."""
        while True:
            number = make(area, birth, rng.randrange(1000), sex)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def outsider(self, rng: random.Random, first_year: int, last_year: int) -> Person:
        """Somebody from another county, who appears in department lists only."""
        sex = "男" if rng.random() < 0.6 else "女"
        birth = random_date(rng, date(first_year, 1, 1), date(last_year, 12, 28))
        area = rng.choice(names.OTHER_AREA_CODES)
        return Person(
            self.new_id(rng, birth, sex, area), names.person_name(rng, sex, birth), sex, birth
        )


def random_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _split(total: int, parts: int, rng: random.Random, minimum: int) -> list[int]:
    """``total`` split into ``parts`` uneven shares of at least ``minimum`` each."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    spare = total - minimum * parts
    raw = [spare * weight / sum(weights) for weight in weights]
    shares = [math.floor(value) for value in raw]
    # Largest remainders first, ties by position: deterministic.
    order = sorted(range(parts), key=lambda index: (shares[index] - raw[index], index))
    for index in order[: spare - sum(shares)]:
        shares[index] += 1
    return [minimum + share for share in shares]


def _grid_sizes(households: int) -> list[int]:
    """Sizes of the 组级 grids of a village: each between GRID_MIN and GRID_MAX."""
    low = math.ceil(households / GRID_MAX)
    high = max(low, households // GRID_MIN)
    count = min(high, max(low, round(households / 30)))
    base, extra = divmod(households, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


def build_district(households: int, start: date, rng: random.Random) -> District:
    if households < GRID_MIN:
        raise ValueError(f"a district needs at least {GRID_MIN} households")
    township_count = max(3, households // HOUSEHOLDS_PER_TOWNSHIP)
    # Tiny districts cannot have three townships of 20+ households each.
    township_count = min(township_count, households // GRID_MIN)
    district = District(start, [], [], [], [], set(), set())
    chief = names.person_name(rng, "男", date(1972, 1, 1))
    district.grids.append(
        Grid(
            names.DISTRICT_CODE,
            "区级",
            None,
            names.DISTRICT_NAME + "网格",
            chief,
            names.mobile(rng),
        )
    )
    used_village_names: set[str] = set()
    township_names = names.township_names(township_count, rng)
    township_sizes = _split(households, township_count, rng, GRID_MIN)
    for t_index, (t_name, t_size) in enumerate(zip(township_names, township_sizes, strict=True)):
        township = Township(f"{names.DISTRICT_CODE}{101 + t_index:03d}", t_name)
        district.townships.append(township)
        district.grids.append(_grid(rng, township.code, "乡镇级", names.DISTRICT_CODE, t_name))
        # 8-20 villages, but never fewer than GRID_MIN households in one.
        village_count = max(1, min(rng.randint(8, 20), t_size // 30))
        for v_index, v_size in enumerate(_split(t_size, village_count, rng, GRID_MIN)):
            village = Village(
                f"{township.code}{201 + v_index:03d}",
                names.village_name(rng, used_village_names),
                township,
            )
            township.villages.append(village)
            district.grids.append(_grid(rng, village.code, "村级", township.code, village.name))
            _populate_village(district, village, v_size, rng)
    return district


def _grid(rng: random.Random, grid_id: str, level: str, parent: str, name: str) -> Grid:
    birth = date(rng.randint(1965, 1990), 1, 1)
    worker = names.person_name(rng, "男" if rng.random() < 0.6 else "女", birth)
    return Grid(grid_id, level, parent, name + "网格", worker, names.mobile(rng))


def _populate_village(district: District, village: Village, size: int, rng: random.Random) -> None:
    number = 0
    for g_index, g_size in enumerate(_grid_sizes(size), start=1):
        group = names.group_name(g_index)
        grid = _grid(
            rng, f"{village.code}G{g_index:02d}", "组级", village.code, village.name + group
        )
        village.grids.append(grid)
        district.grids.append(grid)
        for _ in range(g_size):
            number += 1
            household = _household(district, village, grid.grid_id, group, number, rng)
            village.households.append(household)
            district.households.append(household)
            district.persons.extend(household.members)


def _household(
    district: District, village: Village, grid_id: str, group: str, number: int, rng: random.Random
) -> Household:
    roll = rng.random()
    kind = "脱贫户" if roll < 0.08 else ("监测户" if roll < 0.11 else "一般农户")
    monitoring_type = risk_status = since = None
    if kind == "监测户":
        monitoring_type = rng.choices(
            ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"), (3, 5, 2)
        )[0]
        risk_status = rng.choices(("未消除", "已消除", None), (70, 25, 5))[0]
        months = (district.start.year - 2021) * 12 + district.start.month - 3
        month_index = rng.randint(0, max(0, months))
        since = f"{2021 + month_index // 12}{month_index % 12 + 1:02d}"
    household_id = f"{village.code}{number:04d}"
    district.used_household_ids.add(household_id)
    household = Household(
        household_id,
        village,
        grid_id,
        group,
        kind,
        monitoring_type,
        risk_status,
        since,
        0.0,
        names.mobile(rng) if rng.random() < 0.93 else None,
    )
    household.members = _family(district, household, rng)
    household.income_yuan = _income(household, rng)
    return household


def _income(household: Household, rng: random.Random) -> float:
    """Last year's net income: the background is never below the line, and households
    that are not monitored are not near it either (see ``QUIET_PER_CAPITA``)."""
    median = {"脱贫户": 13000, "监测户": 9500}.get(household.kind, 19000)
    floor = QUIET_PER_CAPITA if not household.is_monitored else MONITORED_PER_CAPITA
    per_capita = min(40000.0, max(floor, rng.lognormvariate(math.log(median), 0.35)))
    total = per_capita * len(household.members)
    # Most registries hold whole yuan; some exports carry fen.
    return round(total, 2) if rng.random() < 0.2 else float(math.ceil(total))


def _family(district: District, household: Household, rng: random.Random) -> list[Person]:
    start = district.start
    latest_birth = start - timedelta(days=90)
    size = rng.choices((1, 2, 3, 4, 5, 6), (10, 22, 22, 23, 14, 9))[0]
    head_sex = "男" if rng.random() < 0.82 else "女"
    head_birth = random_date(rng, date(1940, 1, 1), date(1995, 12, 31))
    family = names.surname(rng)
    members: list[Person] = []

    def add(relation: str, sex: str, birth: date, surname: str | None = None) -> Person:
        person = Person(
            district.new_id(rng, birth, sex),
            names.person_name(rng, sex, birth, surname),
            sex,
            birth,
            relation,
        )
        person.household = household
        _attributes(person, start, rng)
        members.append(person)
        return person

    add("户主", head_sex, head_birth, family)
    father_surname = family
    spouse_chance = 0.9 if head_sex == "男" else 0.35
    if len(members) < size and rng.random() < spouse_chance:
        spouse_sex = "女" if head_sex == "男" else "男"
        offset = rng.randint(-1, 5) * (1 if head_sex == "男" else -1)
        spouse_birth = _shift_years(head_birth, offset, rng)
        spouse = add("配偶", spouse_sex, max(spouse_birth, date(1936, 1, 1)))
        if spouse_sex == "男":
            father_surname = spouse.name[0]
    elder = head_birth.year <= 1968
    if not elder and len(members) < size and head_birth.year >= 1968:
        for relation, sex in (("之父", "男"), ("之母", "女")):
            if len(members) < size and rng.random() < 0.3:
                parent_birth = _shift_years(head_birth, -rng.randint(22, 32), rng)
                if parent_birth.year >= 1936:
                    add(relation, sex, parent_birth, family if sex == "男" else None)
    children: list[Person] = []
    for _ in range(3):
        if len(members) >= size:
            break
        birth = _shift_years(head_birth, rng.randint(22, 34), rng)
        if birth > latest_birth:
            break
        sex = "男" if rng.random() < 0.53 else "女"
        children.append(add("之子" if sex == "男" else "之女", sex, birth, father_surname))
        if elder and sex == "男" and len(members) < size and rng.random() < 0.6:
            add("之儿媳", "女", _shift_years(birth, rng.randint(-3, 2), rng))
            for _ in range(2):
                child_birth = _shift_years(birth, rng.randint(23, 32), rng)
                if len(members) >= size or child_birth > latest_birth:
                    break
                child_sex = "男" if rng.random() < 0.53 else "女"
                relation = "之孙子" if child_sex == "男" else "之孙女"
                add(relation, child_sex, child_birth, father_surname)
    while len(members) < size:
        birth = _shift_years(head_birth, rng.randint(-8, 8), rng)
        sex = "男" if rng.random() < 0.5 else "女"
        add("之兄弟姐妹" if rng.random() < 0.8 else "其他", sex, min(birth, latest_birth), None)
    return members


def _shift_years(day: date, years: int, rng: random.Random) -> date:
    return date(day.year + years, rng.randint(1, 12), rng.randint(1, 28))


def school_status(birth: date, on: date, rng: random.Random) -> str:
    """在校生状况 for someone born on ``birth``, at the school year running on ``on``."""
    year = on.year if on.month >= 9 else on.year - 1
    # Chinese schools take children who are 6 by 31 August.
    age = year - birth.year - ((birth.month, birth.day) > (8, 31))
    if age < 6:
        return "学龄前儿童"
    if age <= 11:
        return "小学"
    if age <= 14:
        return ("七年级", "八年级", "九年级")[age - 12]
    if age <= 17:
        return rng.choices(("普通高中", "中职", "非在校生"), (60, 28, 12))[0]
    if age <= 20:
        return rng.choices(("高职", "本科及以上", "非在校生"), (25, 30, 45))[0]
    if age <= 22:
        return rng.choices(("本科及以上", "非在校生"), (15, 85))[0]
    return "非在校生"


def _attributes(person: Person, start: date, rng: random.Random) -> None:
    age = person.age_on(start)
    person.schooling = school_status(person.birth, start, rng)
    roll = rng.random()
    chronic = 0.03 + (0.12 if age > 50 else 0) + (0.1 if age > 70 else 0)
    serious = 0.008 + (0.02 if age > 50 else 0)
    disabled = 0.03 + (0.02 if age > 60 else 0)
    if roll < disabled:
        person.health = "残疾"
        person.disability = rng.choices(("一级", "二级", "三级", "四级"), (10, 25, 30, 35))[0]
    elif roll < disabled + serious:
        person.health = "患有大病"
    elif roll < disabled + serious + chronic:
        person.health = "长期慢性病"
    in_school = person.schooling not in ("非在校生", "学龄前儿童")
    if age < 16 or in_school:
        person.labour = "无劳动力"
    elif person.health == "残疾":
        person.labour = (
            "丧失劳动力" if person.disability in ("一级", "二级") else "弱劳动力或半劳动力"
        )
    elif person.health == "患有大病":
        person.labour = rng.choice(("丧失劳动力", "弱劳动力或半劳动力"))
    elif age <= 60:
        person.labour = rng.choices(
            ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"),
            (22, 66, 7, 3, 2),
        )[0]
    elif age <= 70:
        person.labour = rng.choices(
            ("普通劳动力", "弱劳动力或半劳动力", "无劳动力", "丧失劳动力"), (20, 50, 25, 5)
        )[0]
    else:
        person.labour = rng.choices(("无劳动力", "弱劳动力或半劳动力", "丧失劳动力"), (60, 25, 15))[
            0
        ]
    if person.labour in ("技能劳动力", "普通劳动力") and 16 <= age <= 60:
        person.work = rng.choices(
            ("县内务工", "省内县外务工", "省外务工", "未务工"), (28, 17, 38, 17)
        )[0]
    elif person.labour == "弱劳动力或半劳动力" and 16 <= age <= 65 and rng.random() < 0.2:
        person.work = "县内务工"
    else:
        person.work = "未务工"


def give_rare_names(district: District, rng: random.Random) -> list[Person]:
    """A few adults whose names need GB18030 (not GBK): 刘䶮, 王㛃."""
    adults = [p for p in district.persons if 25 <= p.age_on(district.start) <= 75]
    count = max(3, len(district.persons) // 1000)
    chosen = rng.sample(adults, min(count, len(adults)))
    for person in chosen:
        person.name = person.name[0] + rng.choice(names.RARE_GIVEN_NAMES)
    return chosen
