"""Planted cases: households that the warning rules must alert, and the alerts they must get.

The background population is quiet (no rule fires for it); the households chosen
here are changed so that exactly one known rule fires for each of them (two for the
compound cases), and the expected open alerts after the last date are worked out
from docs/warning-rules.md, "Grade adjustments": base grade, then near the line, then
compound risk. Planted rows are protected from row defects and never go into a
delivery that the pipeline must refuse to read.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import fpwarn_demo.names as names
from fpwarn_demo.leads import plant_leads
from fpwarn_demo.population import District, Household, Person, Township, Village
from fpwarn_demo.shared import PROTECTED, Row, credit_code, school_name, stage_and_grade
from pipeline.alerts.rules import GridReport, MedicalBurden, Rules, Water, WaterUnsafe

# Households per planted unit: a 300-household district gets one of each case.
UNIT_HOUSEHOLDS = 300


# The truth grades on its own (from docs/warning-rules.md), not with the code it checks.
ASCENDING = ("yellow", "orange", "red")


def at_least(grade: str, floor: str) -> str:
    return grade if ASCENDING.index(grade) >= ASCENDING.index(floor) else floor


def raised_grade(grade: str) -> str:
    return ASCENDING[min(ASCENDING.index(grade) + 1, len(ASCENDING) - 1)]


def is_labourer(person: Person, day: date, rules: Rules) -> bool:
    return (
        rules.labourer.min_age <= person.age_on(day) <= rules.labourer.max_age
        and person.labour in rules.labourer.skills
    )


@dataclass
class Claim:
    person: Person
    day: date
    self_paid_cents: int


@dataclass
class Cases:
    rules: Rules
    start: date
    end: date
    line: float
    near: float
    # Households whose facts the background must not touch (no events, no claims, no joins).
    reserved: set[str] = field(default_factory=set)
    # Households whose size must not change (reserved, and the flood and water villages).
    frozen: set[str] = field(default_factory=set)
    increments: dict[str, dict[date, list[Row]]] = field(default_factory=dict)
    housing: dict[str, tuple[str, date, str]] = field(default_factory=dict)
    enrolment: dict[str, str] = field(default_factory=dict)
    entities: list[Row] = field(default_factory=list)
    vehicles: list[Row] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    water: dict[date, list[Row]] = field(default_factory=dict)
    flood_village: Village | None = None
    # (household, category) -> base grade
    signals: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[dict[str, object]] = field(default_factory=list)
    households: dict[str, Household] = field(default_factory=dict)
    # The regional warnings (防止规模性返贫) the planted events call for.
    regional: list[dict[str, str]] = field(default_factory=list)
    # The planted leads (群众反映线索) with their true match (fpwarn_demo/leads.py).
    leads: list[dict[str, object]] = field(default_factory=list)

    def add_increment(self, feed: str, day: date, row: Row) -> None:
        row[PROTECTED] = True
        self.increments.setdefault(feed, {}).setdefault(day, []).append(row)

    def signal(self, household: Household, category: str, grade: str, note: str) -> None:
        self.households[household.household_id] = household
        self.signals[(household.household_id, category)] = grade
        self.notes.append(
            {
                "household_id": household.household_id,
                "category": category,
                "base_grade": grade,
                "case": note,
            }
        )

    def per_capita(self, household: Household) -> float:
        """Per-capita income as the registry in force on the last date shows it."""
        snapshot = max(
            day
            for day in (
                self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)
            )
            if day == self.start or day.day == 1
        )
        size = sum(1 for member in household.members if member.listed_on(snapshot))
        return household.income_yuan / max(1, size)

    def expected_alerts(self) -> list[dict[str, str]]:
        """The open alerts after the last date, by docs/warning-rules.md."""
        graded: dict[tuple[str, str], str] = {}
        for (household_id, category), grade in self.signals.items():
            household = self.households[household_id]
            if self.rules.categories[category].near_line_raises and self.per_capita(household) < (
                self.near
            ):
                grade = raised_grade(grade)
            graded[(household_id, category)] = grade
        per_household: dict[str, int] = {}
        for household_id, _ in graded:
            per_household[household_id] = per_household.get(household_id, 0) + 1
        return [
            {
                "household_id": household_id,
                "category": category,
                "grade": at_least(grade, "orange") if per_household[household_id] > 1 else grade,
            }
            for (household_id, category), grade in sorted(graded.items())
        ]


class _NoRoom(Exception):
    """No household is left for a case: tiny districts get fewer cases."""


class _Planter:
    def __init__(
        self,
        district: District,
        start: date,
        end: date,
        rng: random.Random,
        rules: Rules,
        broken: set[tuple[str, date]],
    ) -> None:
        self.district = district
        self.rng = rng
        self.rules = rules
        self.days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
        self.broken = broken
        line = rules.monitoring_line_for(end.year)
        assert line is not None
        self.cases = Cases(rules, start, end, line[0], line[0] * rules.near_line_factor)
        years = {start.year - 1, end.year - 1}
        incomes = [rules.rural_income_for(year) for year in years]
        self.rural_high = max(value[0] for value in incomes if value is not None)
        self.pool = list(district.households)
        rng.shuffle(self.pool)

    # -- choosing and shaping households ------------------------------------------------

    def day_for(self, feed: str) -> date:
        """A business date whose delivery of ``feed`` the pipeline will read."""
        good = [day for day in self.days if (feed, day) not in self.broken] or self.days
        return self.rng.choice(good)

    def pick(
        self, ok: Callable[[Household], bool], villages: Iterable[Village] | None = None
    ) -> Household:
        allowed = None if villages is None else {village.code for village in villages}
        for household in self.pool:
            if household.household_id in self.cases.frozen:
                continue
            if allowed is not None and household.village.code not in allowed:
                continue
            if ok(household):
                self.reserve(household)
                return household
        raise _NoRoom()

    def reserve(self, household: Household) -> None:
        self.cases.reserved.add(household.household_id)
        self.cases.frozen.add(household.household_id)
        self.cases.households[household.household_id] = household

    def shape(
        self, household: Household, kind: str, per_capita: float, risk: str = "未消除"
    ) -> None:
        household.kind = kind
        if kind == "监测户":
            household.monitoring_type = self.rng.choice(("脱贫不稳定户", "边缘易致贫户"))
            household.risk_status = risk
            household.monitoring_since = (
                f"{self.rng.randint(2021, 2024)}{self.rng.randint(1, 12):02d}"
            )
        else:
            household.monitoring_type = household.risk_status = household.monitoring_since = None
        size = len(household.members)
        household.income_yuan = float(round(per_capita * size))

    def comfortable(self) -> float:
        return self.cases.near * self.rng.uniform(1.15, 1.8)

    def near_line(self) -> float:
        return self.rng.uniform(self.cases.line * 1.1, self.cases.near * 0.92)

    def below_line(self) -> float:
        return self.rng.uniform(self.cases.line * 0.45, self.cases.line * 0.9)

    def labourers(self, household: Household) -> list[Person]:
        first, last = self.days[0], self.days[-1]
        at_start = [p for p in household.members if is_labourer(p, first, self.rules)]
        at_end = [p for p in household.members if is_labourer(p, last, self.rules)]
        return at_start if at_start == at_end else []

    def stable_labourers(self, household: Household, count: int | None, minimum: int = 1) -> bool:
        first, last = self.days[0], self.days[-1]
        at_start = [p for p in household.members if is_labourer(p, first, self.rules)]
        at_end = [p for p in household.members if is_labourer(p, last, self.rules)]
        if at_start != at_end:
            return False
        return len(at_start) == count if count is not None else len(at_start) >= minimum

    # -- the cases -------------------------------------------------------------------------

    def plant(self, units: int) -> Cases:
        district = self.district
        self.plant_villages()
        # The unemployment wave: the township with the most households free for cases.
        township = max(
            district.townships,
            key=lambda t: sum(
                1
                for v in t.villages
                for h in v.households
                if h.household_id not in self.cases.frozen
            ),
        )
        self.cases.notes.append(
            {"category": "unemployment", "case": f"失业潮：{township.name}（{township.code}）"}
        )
        self.cases.regional.append({"scope_code": township.code, "rule": "unemployment"})
        for _ in range(units):
            for case in (
                self.medical,
                self.uninsured,
                self.dropout,
                self.housing,
                self.assistance,
                self.hardship,
                lambda: self.unemployment(township),
                self.death,
                self.business,
                self.income,
                self.eligibility,
            ):
                try:
                    case()
                except _NoRoom:
                    continue
        # Last, from a stream of their own, so that no earlier case's draws change.
        self.grid_reports(units, random.Random(self.rng.random()))
        # Leads after them, from a stream of their own too, in households left free.
        days = [day for day in self.days if ("leads", day) not in self.broken] or self.days
        leads_rng = random.Random(self.rng.random())
        plant_leads(self.district, self.cases, days, self.pool, self.reserve, units, leads_rng)
        return self.cases

    def grid_reports(self, units: int, rng: random.Random) -> None:
        """网格员上报 (grid_report): per unit, a monitored household with 重大疾病 (red) and
        another household with 家庭变故 (orange), reported by its group grid worker within
        the category's window before the last date. The households are left to the
        background (not reserved): nothing of grid_report depends on their other rows."""
        window = self.rules.thresholds(GridReport).window_days
        days = self.days[-min(window, len(self.days), 10) :]
        workers = {grid.grid_id: grid.worker for grid in self.district.grids}
        pool = [h for h in self.pool if h.household_id not in self.cases.frozen]
        rng.shuffle(pool)
        chosen: set[str] = set()
        for _ in range(units):
            for monitored, kind, grade, text in (
                (True, "重大疾病", "red", "户主突发脑梗住院 医疗费用较高"),
                (False, "家庭变故", "orange", "主要劳动力离家 家庭收入骤减"),
            ):
                household = next(
                    (
                        h
                        for h in pool
                        if h.household_id not in chosen
                        and h.is_monitored == monitored
                        and h.grid_id in workers
                        and h.head.listed_on(self.days[-1])
                    ),
                    None,
                )
                if household is None:
                    return
                chosen.add(household.household_id)
                day = rng.choice(days)
                self.add_increment_row(
                    "grid_reports",
                    day,
                    {
                        "grid_id": household.grid_id,
                        "household_id": household.household_id,
                        "report_date": day,
                        "situation_type": kind,
                        "description": text,
                        "reporter": workers[household.grid_id],
                    },
                )
                self.cases.signal(household, "grid_report", grade, f"网格员上报{kind}")

    def plant_villages(self) -> None:
        """The 较大 flood in one village, a long 停水 in another, 水质不达标 in a third."""
        villages = list(self.district.villages)
        self.rng.shuffle(villages)

        def monitored(village: Village) -> int:
            return sum(1 for household in village.households if household.is_monitored)

        # Tiny districts keep most of their villages for the other cases.
        wanted = min(3, max(1, len(villages) // 3))
        chosen = [v for v in villages if monitored(v) >= 1 and len(v.households) >= 3][:wanted]
        for village in villages:
            if len(chosen) >= wanted:
                break
            if village not in chosen:
                chosen.append(village)
        flood, outage, quality = [*chosen, None, None][:3]
        assert flood is not None, "a district has at least one village"
        for village in chosen:
            self.cases.frozen.update(household.household_id for household in village.households)
        # The flood village shows every grade: monitored near the line (red), monitored (orange),
        # and not monitored (yellow).
        households = list(flood.households)
        kinds = [
            (h.is_monitored, h.income_yuan / len(h.members) < self.cases.near) for h in households
        ]
        needs = [(True, True), (True, False), (False, False)]
        # Households to reshape: those not monitored, but one (which stays as it is).
        spare = [h for h in households if not h.is_monitored][1:]
        for need in needs:
            if need in kinds or not spare:
                continue
            household = spare.pop(0)
            if need[0]:
                self.shape(household, "脱贫户", self.near_line() if need[1] else self.comfortable())
            else:
                self.shape(household, "一般农户", self.comfortable())
        for household in flood.households:
            self.cases.households[household.household_id] = household
            base = "orange" if household.is_monitored else "yellow"
            self.cases.signal(household, "disaster", base, f"{flood.name}较大洪涝")
        self.cases.flood_village = flood
        self.cases.regional.append({"scope_code": flood.code, "rule": "disaster"})
        first, last = self.days[0], self.days[-1]
        outage_start = first - timedelta(
            days=self.rules.thresholds(WaterUnsafe).red_open_days + self.rng.randint(1, 6)
        )
        if outage is not None:
            # The project also serves a neighbouring village: enough households for a
            # regional warning (防止规模性返贫) besides the households' own alerts.
            served = len(outage.households) + self.rules.regional.thresholds(Water).households
            self.water_problem(outage, "停水", outage_start, first, "长时间停水", served)
            self.cases.regional.append({"scope_code": outage.code, "rule": "water"})
        middle = self.days[len(self.days) // 2]
        quality_start = middle - timedelta(days=self.rng.randint(0, 1))
        if quality is not None:
            self.water_problem(quality, "水质不达标", quality_start, middle, "水质不达标")
        del last

    def water_problem(
        self,
        village: Village,
        kind: str,
        started: date,
        delivered: date,
        note: str,
        served: int | None = None,
    ) -> None:
        rows = self.cases.water.setdefault(delivered, [])
        rows.append(
            {
                "problem_id": f"GS{delivered:%Y%m%d}{900 + len(rows):03d}",
                "village_code": village.code,
                "project_name": village.water_project,
                "problem_type": kind,
                "start_date": started,
                "restored_date": None,
                "households_affected": served or len(village.households),
                PROTECTED: True,
            }
        )
        open_days = (self.days[-1] - started).days
        grade = "red" if open_days >= self.rules.thresholds(WaterUnsafe).red_open_days else "orange"
        for household in village.households:
            self.cases.households[household.household_id] = household
            if household.is_monitored:
                self.cases.signal(household, "water_unsafe", grade, f"{village.name}{note}")

    def medical(self) -> None:
        burden = self.rules.thresholds(MedicalBurden)
        household = self.pick(lambda h: len(h.members) >= 2)
        self.shape(household, "脱贫户", self.comfortable())
        patient = self.rng.choice(household.members)
        cost = burden.inpatient_self_paid_monitored_yuan * self.rng.uniform(1.15, 1.5)
        self.claim(patient, cost)
        self.cases.signal(household, "medical_burden", "orange", "脱贫户单次住院自付超过监测户标准")
        household = self.pick(lambda h: len(h.members) <= 2)
        self.shape(household, "一般农户", self.cases.near * self.rng.uniform(1.1, 1.3))
        patient = household.head
        patient.health = "患有大病"
        if patient.labour in self.rules.labourer.skills:
            patient.labour = "弱劳动力或半劳动力"
        total = max(
            household.income_yuan * self.rng.uniform(1.15, 1.4),
            self.rural_high * burden.share_of_rural_income_other * 1.1,
        )
        self.claim(patient, total * 0.55)
        self.claim(patient, total * 0.45)
        self.cases.signal(household, "medical_burden", "red", "一般农户大病自付超过家庭纯收入")

    def claim(self, person: Person, yuan: float) -> None:
        day = self.days[0] - timedelta(days=self.rng.randint(5, 60))
        self.cases.claims.append(Claim(person, day, round(yuan * 100)))

    def uninsured(self) -> None:
        household = self.pick(lambda h: len(h.members) >= 2)
        self.shape(household, "监测户", self.comfortable())
        person = self.rng.choice(household.members[1:])
        self.cases.enrolment[person.id_number] = self.rng.choice(("未参保", "终止参保"))
        self.cases.signal(household, "medical_uninsured", "orange", "监测户成员未参保")

    def dropout(self) -> None:
        first, last = self.days[0], self.days[-1]

        def child(h: Household) -> Person | None:
            for person in h.members:
                if (
                    person.schooling in ("小学", "七年级", "八年级", "九年级")
                    and 9 <= person.age_on(first) <= 14
                    and last.month not in (7, 8)
                ):
                    return person
            return None

        household = self.pick(lambda h: child(h) is not None)
        student = child(household)
        assert student is not None
        day = self.day_for("edu_students")
        stage, grade = stage_and_grade(student, day)
        assert stage is not None
        self.add_increment_row(
            "edu_students",
            day,
            {
                "student_id_number": student.id_number,
                "student_name": student.name,
                "school_name": school_name(self.rng, stage, household),
                "stage": stage,
                "grade_name": grade,
                "status": self.rng.choice(("辍学", "休学")),
                "change_date": day,
                "aid_type": "",
            },
        )
        self.cases.signal(household, "education_dropout", "red", "义务教育阶段学生辍学")

    def add_increment_row(self, feed: str, day: date, row: Row) -> None:
        self.cases.add_increment(feed, day, row)

    def housing(self, household: Household | None = None, grade: str | None = None) -> None:
        targets = [(household, grade)] if household is not None else [(None, "C级"), (None, "D级")]
        for target, safety in targets:
            if target is None:
                target = self.pick(lambda h: True)
            assert safety is not None
            appraised = self.days[0] - timedelta(days=self.rng.randint(60, 700))
            status = "未改造" if safety == "C级" else self.rng.choice(("未改造", "改造中"))
            self.cases.housing[target.household_id] = (safety, appraised, status)
            base = "red" if safety == "D级" else "orange"
            self.cases.signal(target, "housing_unsafe", base, f"户主住房{safety}{status}")

    def civil(self, person: Person, kind: str, change: str) -> None:
        day = self.day_for("civil_assistance")
        amount: float | None = None
        reason = ""
        if change == "停保":
            reason = self.rng.choice(("家庭收入超过低保标准", "不再符合条件"))
        elif kind == "低保":
            amount = float(self.rng.randrange(300, 900, 10))
        else:
            amount = float(self.rng.randrange(1000, 5000, 100))
        self.add_increment_row(
            "civil_assistance",
            day,
            {
                "id_number": person.id_number,
                "name": person.name,
                "assistance_type": kind,
                "change_type": change,
                "change_date": day,
                "monthly_amount_yuan": amount,
                "stop_reason": reason,
            },
        )

    def assistance(self) -> None:
        household = self.pick(lambda h: True)
        self.shape(household, "脱贫户", self.comfortable())
        self.civil(household.head, "低保", "停保")
        self.cases.signal(household, "assistance_stopped", "orange", "脱贫户低保停保")
        household = self.pick(lambda h: True)
        self.shape(household, "一般农户", self.near_line())
        self.civil(household.head, "低保", "停保")
        self.cases.signal(household, "assistance_stopped", "orange", "边缘户（近监测线）低保停保")

    def hardship(self) -> None:
        household = self.pick(lambda h: True)
        self.shape(household, "一般农户", self.comfortable())
        self.civil(self.rng.choice(household.members), "临时救助", "新增")
        self.cases.signal(household, "sudden_hardship", "yellow", "一般农户新增临时救助")
        household = self.pick(lambda h: True)
        self.shape(household, "一般农户", self.comfortable())
        self.civil(household.head, "低保", "新增")
        self.cases.signal(household, "sudden_hardship", "orange", "一般农户新增低保")

    def jobless(self, household: Household, person: Person) -> None:
        day = self.day_for("hrss_employment")
        status = self.rng.choice(("失业登记", "返乡未就业"))
        self.add_increment_row(
            "hrss_employment",
            day,
            {
                "id_number": person.id_number,
                "name": person.name,
                "employment_status": status,
                "work_region": self.rng.choice(names.WORK_REGIONS_LOCAL)
                if status == "失业登记"
                else "",
                "monthly_wage_yuan": None,
                "change_date": day,
            },
        )

    def unemployment(self, township: Township) -> None:
        villages = township.villages
        household = self.pick(lambda h: self.stable_labourers(h, None, 1), villages)
        self.shape(household, "一般农户", self.comfortable())
        worker, *others = self.labourers(household)
        for other in others:
            # The others of the family can hardly work: he is the only labourer.
            other.labour = "弱劳动力或半劳动力"
        self.jobless(household, worker)
        self.cases.signal(household, "unemployment", "orange", "家中唯一劳动力失业")
        for note in ("多劳动力家庭一人失业", "近监测线家庭一人失业", "复合风险：失业且住房C级"):
            household = self.pick(lambda h: self.stable_labourers(h, None, 2), villages)
            near = note.startswith("近")
            self.shape(household, "一般农户", self.near_line() if near else self.comfortable())
            self.jobless(household, self.rng.choice(self.labourers(household)))
            self.cases.signal(household, "unemployment", "yellow", note)
            if note.startswith("复合"):
                self.housing(household, "C级")

    def death(self) -> None:
        for kind in ("脱贫户", "一般农户"):

            def ok(h: Household) -> bool:
                return any(
                    p.relation != "户主"
                    and p.age_on(self.days[-1]) <= 58
                    and is_labourer(p, self.days[0], self.rules)
                    for p in h.members
                )

            household = self.pick(ok)
            self.shape(household, kind, self.comfortable())
            day = self.day_for("police_hukou")
            person = next(
                p
                for p in household.members
                if p.relation != "户主"
                and p.age_on(self.days[-1]) <= 58
                and is_labourer(p, self.days[0], self.rules)
            )
            person.left = day + timedelta(days=1)
            self.add_increment_row(
                "police_hukou",
                day,
                {
                    "id_number": person.id_number,
                    "name": person.name,
                    "change_type": "死亡注销",
                    "change_date": day,
                    "remark": self.rng.choice(("交通事故死亡", "工伤事故死亡", "突发疾病死亡")),
                },
            )
            grade = "red" if kind == "脱贫户" else "orange"
            self.cases.signal(household, "labour_death", grade, f"{kind}劳动力死亡")

    def entity(self, person: Person, kind: str, status: str, changed: date, capital: float) -> None:
        prefix = {"个体工商户": "92", "农民专业合作社": "93"}.get(kind, "91")
        household = person.household
        assert household is not None
        place = household.village.name[:-1]
        if kind == "个体工商户":
            name = f"贵池区{place}{person.name}{self.rng.choice(names.SHOP_KINDS)}"
        else:
            name = f"池州市{self.rng.choice(names.COMPANY_WORDS)}{place}{self.rng.choice(names.COMPANY_TRADES)}有限公司"
        founded = random_date_between(
            self.rng, date(2012, 1, 1), self.days[0] - timedelta(days=400)
        )
        self.cases.entities.append(
            {
                "credit_code": credit_code(self.rng, prefix),
                "entity_name": name,
                "entity_type": kind,
                "operator_id_number": person.id_number,
                "operator_name": person.name,
                "registered_capital_10k_yuan": capital,
                "registration_status": status,
                "status_change_date": changed if status != "存续" else founded,
                "_founded": founded,
                PROTECTED: True,
            }
        )

    def business(self) -> None:
        for near in (False, True):

            def adult(h: Household) -> Person | None:
                return next((p for p in h.members if 25 <= p.age_on(self.days[0]) <= 60), None)

            household = self.pick(lambda h: adult(h) is not None)
            self.shape(household, "一般农户", self.near_line() if near else self.comfortable())
            person = adult(household)
            assert person is not None
            changed = self.days[0] - timedelta(days=self.rng.randint(3, 40))
            self.entity(person, "个体工商户", self.rng.choice(("注销", "吊销")), changed, 3.0)
            note = "近监测线家庭个体工商户注销" if near else "个体工商户注销"
            self.cases.signal(household, "business_failure", "yellow", note)

    def income(self) -> None:
        household = self.pick(lambda h: True)
        self.shape(household, "一般农户", self.below_line())
        self.cases.signal(household, "income_below_line", "orange", "一般农户人均收入低于监测线")
        household = self.pick(lambda h: True)
        self.shape(household, "监测户", self.below_line(), risk="已消除")
        self.cases.signal(household, "income_below_line", "red", "已消除风险监测户返贫")

    def eligibility(self) -> None:
        def adult(h: Household) -> Person | None:
            return next((p for p in h.members if 25 <= p.age_on(self.days[0]) <= 60), None)

        household = self.pick(lambda h: adult(h) is not None)
        self.shape(household, "脱贫户", self.comfortable())
        owner = adult(household)
        assert owner is not None
        self.cases.vehicles.append(
            {
                "plate_number": "皖R"
                + "".join(self.rng.choice("ABCDEFGHJKLMN0123456789") for _ in range(5)),
                "owner_id_number": owner.id_number,
                "owner_name": owner.name,
                "vehicle_type": self.rng.choice(("小型轿车", "小型越野客车")),
                "usage": "非营运",
                "first_registration_date": self.days[0]
                - timedelta(days=self.rng.randint(100, 900)),
                "vehicle_status": "正常",
                PROTECTED: True,
            }
        )
        self.cases.signal(household, "eligibility_review", "yellow", "脱贫户成员名下小型轿车")
        household = self.pick(lambda h: adult(h) is not None)
        self.shape(household, "监测户", self.comfortable())
        owner = adult(household)
        assert owner is not None
        self.entity(
            owner, "有限责任公司", "存续", self.days[0], float(self.rng.choice((50, 100, 200)))
        )
        self.cases.signal(household, "eligibility_review", "yellow", "监测户成员经营存续有限公司")


def random_date_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def plant_cases(
    district: District,
    start: date,
    end: date,
    rng: random.Random,
    rules: Rules,
    broken: set[tuple[str, date]],
) -> Cases:
    units = max(1, round(math.sqrt(len(district.households) / UNIT_HOUSEHOLDS)))
    return _Planter(district, start, end, rng, rules, broken).plant(units)
