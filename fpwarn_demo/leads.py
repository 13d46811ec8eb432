"""Planted leads (群众反映线索): people named as callers name them, with their true match.

A lead names a person by what a caller says: a name, a township, a village, sometimes an ID
number or part of one (config/feeds/leads.yaml). The pipeline matches it to a registered
member (docs/warning-rules.md, "群众反映线索"): by a registered member's full ID number, else
by record linkage with one candidate at or above ``lead.match_probability``. The leads
planted here have a known true match (or none), recorded in the truth file's ``leads`` so
that the linkage's precision and recall can be measured (``fpwarn_demo.linkage_quality``).

Per planted unit, one lead of each kind (``KINDS``), on a business date of the range:

- ``id_full``: a registered member's full, valid ID number: matched, raises ``lead``;
- ``name_typo``: the name with one wrong character (not a homophone), no ID number;
- ``name_homophone``: the name with one character of the same pinyin (``names.HOMOPHONES``),
  no ID number. A name one character off agrees "close", not "exact", and with the
  township and village alone it stays below the threshold: unmatched, raises nothing;
- ``place_said``: the exact name with the place said three ways: 乡 for 镇 (or 镇 for 乡), a
  full-width space in the township, the village without its 村 (in a village whose name
  does not end in 村村: 桃村 is the key of 桃村村, and 桃村 said is 桃). The linkage
  compares places as keys without suffixes and spaces: matched, raises ``lead``;
- ``id_partial``: the exact name with the first 6 or the first 10 digits of the ID number:
  matched, raises ``lead``;
- ``namesake``: the person of ``id_full`` has a namesake in the same village, in another
  household (planted by renaming a woman married into the village). Said with no ID number
  the lead is ambiguous and raises nothing; said with the first 10 digits (the two were
  born in different years) it is matched to the right one, or ambiguous when the model is
  not sure enough: either way the household is already raised by the ``id_full`` lead
  (same 来源, so the same grade), so the expected alerts do not depend on it;
- ``not_registered``: somebody of no household of the registry (true match none), named in
  a real village: unmatched;
- ``township_unknown``: a registered member said in a township the district does not
  have: quarantined (乡镇名称不在本区农户信息中), never linked, raises nothing.

The people are taken from households free of every other case, reserved (their registry
rows carry no defects, the background does not touch them), of names that no one else in
the district has (but the planted namesake): an exact name agreeing on township and village
is a sure match, and it must be the only one. The names a lead says instead (a typo, a
homophone, an unregistered person) are no registered member's.

What a lead comes to is worked out here from docs/warning-rules.md and the model's levels
(exact, close, else), not by running the linkage it checks.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import fpwarn_demo.names as names
from fpwarn_demo.population import District, Household, Person, Village
from pipeline.alerts.rules import Rules


class Cases(Protocol):
    """What planting leads needs of ``fpwarn_demo.cases.Cases`` (which calls it)."""

    rules: Rules
    frozen: set[str]
    households: dict[str, Household]
    leads: list[dict[str, object]]

    def add_increment(self, feed: str, day: date, row: dict[str, object]) -> None: ...

    def signal(self, household: Household, category: str, grade: str, note: str) -> None: ...


FEED = "leads"
KINDS = (
    "id_full",
    "name_typo",
    "name_homophone",
    "place_said",
    "id_partial",
    "namesake",
    "not_registered",
    "township_unknown",
)
SOURCES = ("信访", "12317", "媒体", "舆情", "自主申报")
# config/rules.yaml, categories.lead.thresholds: the grade each 来源 raises.
SOURCE_GRADES = {
    "信访": "grade_petition",
    "12317": "grade_hotline",
    "媒体": "grade_media",
    "舆情": "grade_opinion",
    "自主申报": "grade_self_declared",
}
ASCENDING = ("yellow", "orange", "red")
SUMMARIES = {
    "信访": (
        "来访反映家中老人住院费用高 生活困难",
        "来信反映房屋漏雨无钱维修",
        "反映家中无劳动力收入",
    ),
    "12317": ("来电反映务工受伤后无收入", "来电反映孩子上学费用困难", "来电反映家人患病需长期服药"),
    "媒体": ("报道其家庭因病致困", "报道其家中房屋受损"),
    "舆情": ("网帖反映其家中遭灾后生活困难", "短视频反映其家庭收入骤降"),
    "自主申报": ("本人申报家庭收入骤降", "本人申报家中主要劳动力患病"),
}
# The relations of women married into a household: their surname is their own family's.
MARRIED_IN = ("配偶", "之儿媳", "之母")
RARE = set("".join(names.RARE_GIVEN_NAMES))
# Common characters of given names, for a wrong character that is not a homophone.
NAME_CHARACTERS = sorted({char for given in names.GIVEN_NAMES.values() for char in "".join(given)})


def township_key(name: str) -> str:
    """The key a township is compared by (sql/linkage/place_keys.sql): no spaces, no suffix."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    return re.sub(r"(乡|镇|街道|街道办事处)$", "", text) or text


def village_key(name: str) -> str:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    return re.sub(r"(村民委员会|村委会|社区居委会|社区|村)$", "", text) or text


@dataclass
class Lead:
    """One planted lead: its row and its truth."""

    lead_id: str
    day: date
    source: str
    kind: str
    variant: str
    name: str
    id_text: str | None
    township_said: str
    village_said: str
    phone: str | None
    summary: str
    person: Person | None
    # What the linkage may make of it (docs/warning-rules.md, "群众反映线索").
    expected: tuple[str, ...]
    # Whether it raises ``lead`` for its person's household on its own.
    raises: bool

    def row(self) -> dict[str, object]:
        return {
            "lead_id": self.lead_id,
            "source": self.source,
            "registered_on": self.day,
            "person_name": self.name,
            "id_text": self.id_text,
            "township_said": self.township_said,
            "village_said": self.village_said,
            "phone": self.phone,
            "summary": self.summary,
        }

    def truth(self) -> dict[str, object]:
        household = self.person.household if self.person is not None else None
        return {
            "lead_id": self.lead_id,
            "date": self.day.isoformat(),
            "source": self.source,
            "kind": self.kind,
            "variant": self.variant,
            "id_number": self.person.id_number if self.person is not None else None,
            "household_id": household.household_id if household is not None else None,
            "expected_status": list(self.expected),
        }


class _NoPerson(Exception):
    """No free household has a person for this lead: a tiny district gets fewer leads."""


class LeadPlanter:
    def __init__(
        self,
        district: District,
        cases: Cases,
        days: list[date],
        pool: list[Household],
        reserve: Callable[[Household], None],
        rng: random.Random,
    ) -> None:
        self.district = district
        self.cases = cases
        self.rng = rng
        self.reserve = reserve
        self.days = days
        # Households no other case touched, in an order of this planter's own.
        self.free = [
            h
            for h in pool
            if h.household_id not in cases.frozen and h.household_id not in cases.households
        ]
        rng.shuffle(self.free)
        # Scanned from here on; those before it were taken, had nobody eligible (dropped
        # for good: eligibility does not change) or are ``passed`` over by an ``ok`` that
        # turned them down, kept in order. Each household is looked at once for
        # eligibility, so a city of a million households plants in linear time.
        self.cursor = 0
        self.passed: list[tuple[Household, list[Person]]] = []
        # Households taken by a lead (as a person's, or a namesake's), skipped from then on.
        self.taken: set[str] = set()
        self.counts = Counter(person.name for person in district.persons)
        self.township_keys = {township_key(t.name) for t in district.townships}
        self.numbers: Counter[date] = Counter()
        self.leads: list[Lead] = []

    # -- people ---------------------------------------------------------------------------

    def eligible(self, person: Person) -> bool:
        """An adult listed all through the range, of a name nobody else has."""
        first, last = self.days[0], self.days[-1]
        return (
            person.joined is None
            and person.left is None
            and person.age_on(first) >= 18
            and person.age_on(last) <= 85
            and not RARE & set(person.name)
            and self.counts[person.name] == 1
        )

    def person(self, ok: Callable[[Person], bool] = lambda person: True) -> Person:
        """A person for a lead, eligible and ``ok``, of the first free household in the
        planter's order that has one, now reserved."""
        for index, (household, eligible) in enumerate(self.passed):
            if household.household_id in self.taken:
                continue
            found = [p for p in eligible if ok(p)]
            if found:
                del self.passed[index]
                return self._take(household, found)
        while self.cursor < len(self.free):
            household = self.free[self.cursor]
            self.cursor += 1
            if household.household_id in self.taken:
                continue
            eligible = [p for p in household.members if self.eligible(p)]
            if not eligible:
                continue
            found = [p for p in eligible if ok(p)]
            if found:
                return self._take(household, found)
            self.passed.append((household, eligible))
        raise _NoPerson()

    def _take(self, household: Household, found: list[Person]) -> Person:
        self.taken.add(household.household_id)
        self.reserve(household)
        return self.rng.choice(found)

    def unregistered_name(self, name: str) -> bool:
        return self.counts[name] == 0

    # -- leads ----------------------------------------------------------------------------

    def add(
        self,
        kind: str,
        variant: str,
        person: Person | None,
        expected: tuple[str, ...],
        *,
        name: str | None = None,
        id_text: str | None = None,
        township: str | None = None,
        village: str | None = None,
        place: Village | None = None,
        source: str | None = None,
        day: date | None = None,
    ) -> Lead:
        home = person.household if person is not None else None
        where = place if place is not None else (home.village if home is not None else None)
        assert where is not None
        day = day or self.rng.choice(self.days)
        source = source or self.rng.choice(SOURCES)
        self.numbers[day] += 1
        phone = home.phone if home is not None and self.rng.random() < 0.8 else None
        lead = Lead(
            lead_id=f"XS{day:%Y%m%d}{self.numbers[day]:03d}",
            day=day,
            source=source,
            kind=kind,
            variant=variant,
            name=name if name is not None else (person.name if person is not None else ""),
            id_text=id_text,
            township_said=township if township is not None else where.township.name,
            village_said=village if village is not None else where.name,
            phone=phone or names.mobile(self.rng),
            summary=self.rng.choice(SUMMARIES[source]),
            person=person,
            expected=expected,
            raises=expected == ("matched",),
        )
        self.leads.append(lead)
        return lead

    def unit(self) -> None:
        for plant in (
            self.known_person_and_namesake,
            self.typo,
            self.homophone,
            self.places,
            self.partial_ids,
            self.not_registered,
            self.township_unknown,
        ):
            try:
                plant()
            except _NoPerson:
                continue

    def known_person_and_namesake(self) -> None:
        """``id_full``, and the two ``namesake`` leads of the same person."""

        def married_in(person: Person) -> bool:
            return person.sex == "女" and person.relation in MARRIED_IN

        def has_namesake(person: Person) -> bool:
            return self.namesake_for(person) is not None

        person = self.person(lambda p: married_in(p) and has_namesake(p))
        namesake = self.namesake_for(person)
        assert namesake is not None
        assert namesake.household is not None
        self.taken.add(namesake.household.household_id)
        self.reserve(namesake.household)
        self.counts[namesake.name] -= 1
        namesake.name = person.name
        self.counts[person.name] += 1
        known = self.add("id_full", "完整身份证号", person, ("matched",), id_text=person.id_number)
        self.add("namesake", "同村同名，无身份证号", person, ("ambiguous",))
        self.add(
            "namesake",
            "同村同名，身份证号前10位",
            person,
            ("matched", "ambiguous"),
            id_text=person.id_number[:10],
            source=known.source,
        )

    def namesake_for(self, person: Person) -> Person | None:
        """A woman married into another free household of the village, born another year."""
        assert person.household is not None
        village = person.household.village
        for household in self.free:
            if (
                household.village is not village
                or household is person.household
                or household.household_id in self.taken
            ):
                continue
            for other in household.members:
                if (
                    other.sex == "女"
                    and other.relation in MARRIED_IN
                    and other.birth.year != person.birth.year
                    and other.joined is None
                    and other.left is None
                    and not RARE & set(other.name)
                ):
                    return other
        return None

    def changed_name(self, person: Person, homophone: bool) -> str | None:
        """The name with one character swapped, said by no registered member: a homophone
        anywhere (张 heard as 章), or a wrong character of the given name."""
        positions = list(range(0 if homophone else 1, len(person.name)))
        self.rng.shuffle(positions)
        for position in positions:
            char = person.name[position]
            if homophone:
                options = list(names.HOMOPHONES.get(char, ""))
            else:
                heard = set(names.HOMOPHONES.get(char, "")) | {char}
                options = [c for c in NAME_CHARACTERS if c not in heard]
            self.rng.shuffle(options)
            for option in options:
                said = person.name[:position] + option + person.name[position + 1 :]
                if self.unregistered_name(said):
                    return said
        return None

    def typo(self) -> None:
        person = self.person(lambda p: self.changed_name(p, homophone=False) is not None)
        said = self.changed_name(person, homophone=False)
        self.add("name_typo", "姓名错一字", person, ("unmatched",), name=said)

    def homophone(self) -> None:
        person = self.person(lambda p: self.changed_name(p, homophone=True) is not None)
        said = self.changed_name(person, homophone=True)
        self.add("name_homophone", "姓名同音字", person, ("unmatched",), name=said)

    def places(self) -> None:
        person = self.person()
        assert person.household is not None
        township = person.household.village.township.name
        swapped = township[:-1] + {"镇": "乡", "乡": "镇"}.get(township[-1], "乡")
        self.add("place_said", "乡镇说成乡或镇", person, ("matched",), township=swapped)
        person = self.person()
        assert person.household is not None
        township = person.household.village.township.name
        spaced = township[:-1] + "\u3000" + township[-1]
        self.add("place_said", "乡镇名中有全角空格", person, ("matched",), township=spaced)

        def plain_village(p: Person) -> bool:
            # 桃村村 said without its 村 would be 桃村, whose key is 桃, not 桃村.
            assert p.household is not None
            name = p.household.village.name
            return village_key(name[:-1]) == village_key(name)

        person = self.person(plain_village)
        assert person.household is not None
        village = person.household.village.name[:-1]
        self.add("place_said", "村名缺“村”字", person, ("matched",), village=village)

    def partial_ids(self) -> None:
        for digits in (6, 10):
            person = self.person()
            self.add(
                "id_partial",
                f"身份证号前{digits}位",
                person,
                ("matched",),
                id_text=person.id_number[:digits],
            )

    def not_registered(self) -> None:
        village = self.rng.choice(self.district.villages)
        for _ in range(200):
            sex = self.rng.choice(("男", "女"))
            birth = date(self.rng.randint(1950, 2000), self.rng.randint(1, 12), 1)
            said = names.person_name(self.rng, sex, birth)
            if self.unregistered_name(said):
                break
        else:
            return
        self.add("not_registered", "户籍外人员", None, ("unmatched",), name=said, place=village)

    def township_unknown(self) -> None:
        person = self.person()
        # A real township's name of the region that is not this district's.
        unknown = [
            name for name in names.TOWNSHIP_NAMES if township_key(name) not in self.township_keys
        ]
        if not unknown:  # a district of more townships than the list has
            made = (a + b + "镇" for a in "桃杨龙荷新光白石高双" for b in "园桥泉花华明沙门")
            unknown = [next(name for name in made if township_key(name) not in self.township_keys)]
        said = self.rng.choice(unknown)
        self.add("township_unknown", "乡镇名称不存在", person, ("quarantined",), township=said)

    # -- the truth ------------------------------------------------------------------------

    def raised(self, grades: dict[str, object]) -> dict[str, tuple[Household, str]]:
        """The households the leads raise ``lead`` for, with the grade of their 来源."""
        raised: dict[str, tuple[Household, str]] = {}
        for lead in self.leads:
            if not lead.raises or lead.person is None or lead.person.household is None:
                continue
            household = lead.person.household
            grade = str(grades.get(SOURCE_GRADES[lead.source], "orange"))
            before = raised.get(household.household_id)
            if before is not None and ASCENDING.index(before[1]) >= ASCENDING.index(grade):
                continue
            raised[household.household_id] = (household, grade)
        return raised


def plant_leads(
    district: District,
    cases: Cases,
    days: list[date],
    pool: list[Household],
    reserve: Callable[[Household], None],
    units: int,
    rng: random.Random,
) -> None:
    """Plant ``units`` leads of each kind: their rows in ``cases.increments["leads"]``, their
    truth in ``cases.leads`` and the ``lead`` alerts they raise in ``cases.signals``."""
    category = cases.rules.categories.get("lead")
    if category is None:
        return  # rules without the category: nothing would match a lead to anyone
    planter = LeadPlanter(district, cases, days, pool, reserve, rng)
    for _ in range(units):
        planter.unit()
    planter.leads.sort(key=lambda lead: lead.lead_id)
    for lead in planter.leads:
        cases.add_increment(FEED, lead.day, lead.row())
        cases.leads.append(lead.truth())
    grades = dict(category.thresholds) if isinstance(category.thresholds, dict) else {}
    for household, grade in planter.raised(grades).values():
        said = [
            lead.variant
            for lead in planter.leads
            if lead.raises and lead.person is not None and lead.person.household is household
        ]
        cases.signal(household, "lead", grade, "群众反映线索：" + "、".join(said))
