"""The medical insurance bureau's front-end database: table JSMX and its view.

Column names and the view name come from the registry's ``med_claims`` feed;
the table is dropped and created again on every run, filled in chunks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

import fpwarn_demo.names as names
from fpwarn_demo.cases import Cases
from fpwarn_demo.population import District, Person
from pipeline.alerts.rules import MedicalBurden
from pipeline.feeds.registry import FeedSpec
from pipeline.validation.id_numbers import check_digit

TABLE_NAME = "JSMX"
WINDOW_DAYS = 365
CHUNK = 5000
SHARE = 0.005
REVERSAL_SHARE = 0.012

CLAIM_DEFECTS = (
    "amount_sum",
    "id_check_digit",
    "id_birth_date",
    "id_length",
    "required_missing",
    "enum_invalid",
    "id_15_digit",
    "id_fullwidth",
    "id_spaces",
    "id_lower_x",
)
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@dataclass
class ClaimsResult:
    rows: int = 0
    truth: list[tuple[str, str]] = field(default_factory=list)  # (JSLSH, defect)


def claims_table(spec: FeedSpec, metadata: sa.MetaData) -> sa.Table:
    """JSMX with the registry's column names; types as the bureau's DECIMAL(12,2) system."""
    columns = []
    for column in spec.columns:
        if column.type == "amount":
            kind: sa.types.TypeEngine[Any] = sa.Numeric(12, 2)
        elif column.type == "date":
            kind = sa.Date()
        elif column.type == "enum" and column.values and max(map(len, column.values)) == 1:
            kind = sa.CHAR(1)
        elif column.type == "id_number" or column.field in spec.key or "settlement" in column.field:
            kind = sa.String(32)
        else:
            kind = sa.String(128)
        columns.append(
            sa.Column(column.name, kind, primary_key=column.field in spec.key, nullable=True)
        )
    return sa.Table(TABLE_NAME, metadata, *columns)


def write_claims(
    url: str,
    spec: FeedSpec,
    district: District,
    start: date,
    end: date,
    seed: int,
    cases: Cases | None = None,
) -> ClaimsResult:
    assert spec.sql is not None
    metadata = sa.MetaData()
    table = claims_table(spec, metadata)
    result = ClaimsResult()
    names_by_field = {column.field: column.name for column in spec.columns}
    engine = sa.create_engine(url)
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP VIEW IF EXISTS {quote(spec.sql.view)}"))
            table.drop(connection, checkfirst=True)
            table.create(connection)
            chunk: list[dict[str, object]] = []
            rng = random.Random(f"{seed}/med_claims")
            for row in _claims(district, start, end, rng, result, cases):
                chunk.append({names_by_field[key]: value for key, value in row.items()})
                if len(chunk) >= CHUNK:
                    connection.execute(table.insert(), chunk)
                    chunk = []
            if chunk:
                connection.execute(table.insert(), chunk)
            view = quote(spec.sql.view)
            connection.execute(sa.text(f"CREATE VIEW {view} AS SELECT * FROM {quote(TABLE_NAME)}"))
    finally:
        engine.dispose()
    return result


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _yuan(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _limits(cases: Cases | None, start: date, end: date) -> tuple[dict[bool, int], dict[bool, int]]:
    """Quiet background: per household (by monitored or not) the self-paid cost, in cents,
    that its settlements of the whole range stay under, and the cap of one inpatient
    settlement; both well below the medical burden thresholds of the rules."""
    if cases is None:
        return {True: 400_000, False: 800_000}, {True: 300_000, False: 1_200_000}
    burden = cases.rules.thresholds(MedicalBurden)
    incomes = [cases.rules.rural_income_for(year - 1) for year in (start.year, end.year)]
    rural = min(value[0] for value in incomes if value is not None)
    total = {
        True: round(rural * burden.share_of_rural_income_monitored * 40),
        False: round(rural * burden.share_of_rural_income_other * 40),
    }
    inpatient = {
        True: round(burden.inpatient_self_paid_monitored_yuan * 60),
        False: round(burden.inpatient_self_paid_other_yuan * 60),
    }
    return total, inpatient


def _claims(
    district: District,
    start: date,
    end: date,
    rng: random.Random,
    result: ClaimsResult,
    cases: Cases | None = None,
) -> Iterator[dict[str, object]]:
    first = start - timedelta(days=WINDOW_DAYS)
    span = (end - first).days + 1
    serial = 0
    pending = list(CLAIM_DEFECTS)
    rng.shuffle(pending)
    budgets, inpatient_caps = _limits(cases, start, end)
    spent: dict[str, int] = {}
    reserved = cases.reserved if cases is not None else set()
    for person in district.persons:
        household = person.household
        if household is None or person.joined is not None:
            continue
        if household.household_id in reserved:
            continue
        monitored = household.is_monitored
        age = person.age_on(start)
        rate = 0.8 + (1.4 if age >= 60 else 0) + (1.0 if age < 6 else 0)
        rate += {"长期慢性病": 3.0, "患有大病": 5.0, "残疾": 0.8}.get(person.health, 0)
        for _ in range(_poisson(rng, rate * span / 365)):
            day = first + timedelta(days=rng.randrange(span))
            if person.left is not None and day >= person.left:
                continue
            serial += 1
            row = _settlement(person, day, serial, rng)
            room = budgets[monitored] - spent.get(household.household_id, 0)
            if row["visit_type"] == "住院":
                room = min(room, inpatient_caps[monitored])
            if not _fit(row, room):
                serial -= 1
                continue
            spent[household.household_id] = spent.get(household.household_id, 0) + round(
                row["self_paid_yuan"] * 100  # type: ignore[operator]
            )
            reversed_ = rng.random() < REVERSAL_SHARE
            if not reversed_:
                # Every kind once early on (small districts), then ~0.5 % at random.
                defect, from_pending = None, False
                if pending and rng.random() < 0.05:
                    defect, from_pending = pending.pop(), True
                elif rng.random() < SHARE:
                    defect = rng.choice(CLAIM_DEFECTS)
                if defect is not None:
                    if _apply(defect, row, rng):
                        result.truth.append((str(row["settlement_id"]), defect))
                    elif from_pending:
                        pending.insert(0, defect)
            result.rows += 1
            yield row
            if reversed_:
                serial += 1
                later = min(end, day + timedelta(days=rng.randint(0, 10)))
                reversal = dict(row)
                for key in _AMOUNTS:
                    reversal[key] = -row[key]  # type: ignore[operator]
                reversal.update(
                    settlement_id=_serial(later, serial),
                    settlement_date=later,
                    reversal_flag="1",
                    reversed_settlement_id=row["settlement_id"],
                )
                result.rows += 1
                yield reversal
    if cases is not None:
        yield from _planted(cases, serial, rng, result)


def _fit(row: dict[str, object], room: int) -> bool:
    """Scale a settlement down so that its self-paid part fits ``room`` cents; False when it cannot."""
    self_paid = round(row["self_paid_yuan"] * 100)  # type: ignore[operator]
    if self_paid <= room:
        return True
    if room < 2000:
        return False
    factor = room / self_paid * 0.9
    parts = {
        key: round(row[key] * 100 * Decimal(str(factor)))  # type: ignore[operator]
        for key in _AMOUNTS
        if key != "self_paid_yuan"
    }
    total = parts.pop("total_cost_yuan")
    row["total_cost_yuan"] = _yuan(total)
    for key, cents in parts.items():
        row[key] = _yuan(cents)
    row["self_paid_yuan"] = _yuan(total - sum(parts.values()))
    return True


def _planted(
    cases: Cases, serial: int, rng: random.Random, result: ClaimsResult
) -> Iterator[dict[str, object]]:
    """The planted inpatient settlements: no defects, self-paid exactly as planned."""
    for claim in cases.claims:
        serial += 1
        row = _settlement(claim.person, claim.day, serial, rng)
        household = claim.person.household
        assert household is not None
        village = household.village
        aid = (
            round(claim.self_paid_cents * rng.uniform(0.1, 0.3))
            if household.kind != "一般农户"
            else 0
        )
        pooled = round(claim.self_paid_cents * rng.uniform(1.2, 2.5))
        total = pooled + aid + claim.self_paid_cents
        row.update(
            visit_type="住院",
            institution_name=rng.choice(names.HOSPITALS_INPATIENT).format(
                township=village.township.name, village=village.name
            ),
            diagnosis=rng.choice(names.DIAGNOSES_INPATIENT) or None,
            total_cost_yuan=_yuan(total),
            pooled_fund_paid_yuan=_yuan(pooled),
            critical_illness_paid_yuan=_yuan(0),
            medical_aid_paid_yuan=_yuan(aid),
            self_paid_yuan=_yuan(claim.self_paid_cents),
        )
        result.rows += 1
        yield row


_AMOUNTS = (
    "total_cost_yuan",
    "pooled_fund_paid_yuan",
    "critical_illness_paid_yuan",
    "medical_aid_paid_yuan",
    "self_paid_yuan",
)


def _serial(day: date, serial: int) -> str:
    return f"JS{day:%Y%m%d}{serial:08d}"


def _settlement(person: Person, day: date, serial: int, rng: random.Random) -> dict[str, object]:
    household = person.household
    assert household is not None
    village = household.village
    chronic = person.health in ("长期慢性病", "患有大病")
    inpatient = (
        0.25 if person.health == "患有大病" else (0.1 if person.age_on(day) >= 60 else 0.045)
    )
    roll = rng.random()
    if roll < inpatient:
        visit = "住院"
    elif chronic and roll < inpatient + 0.6:
        visit = "门诊慢特病"
    else:
        visit = "普通门诊"
    aided = household.kind != "一般农户"
    if visit == "住院":
        median = 40000 if person.health == "患有大病" else 9000
        total = round(min(400000, max(800, rng.lognormvariate(math.log(median), 0.8))) * 100)
        pooled = max(0, round((total - 60000) * rng.uniform(0.65, 0.78)))
        rest = total - pooled
        critical = round(max(0, rest - 1500000) * 0.6)
        aid = round((rest - critical) * 0.7) if aided else 0
        hospital = rng.choice(names.HOSPITALS_INPATIENT)
        diagnosis = rng.choice(names.DIAGNOSES_INPATIENT)
    elif visit == "门诊慢特病":
        total = round(min(8000, max(50, rng.lognormvariate(math.log(600), 0.6))) * 100)
        pooled = round(total * 0.65)
        critical = 0
        aid = round((total - pooled) * 0.1) if aided else 0
        hospital = rng.choice(names.HOSPITALS_OUTPATIENT)
        diagnosis = rng.choice(names.DIAGNOSES_CHRONIC)
    else:
        total = round(min(1500, max(15, rng.lognormvariate(math.log(120), 0.7))) * 100)
        pooled = round(total * 0.55)
        critical = aid = 0
        hospital = rng.choice(names.HOSPITALS_OUTPATIENT)
        diagnosis = rng.choice(names.DIAGNOSES_OUTPATIENT)
    hospital = hospital.format(township=village.township.name, village=village.name)
    return {
        "settlement_id": _serial(day, serial),
        "id_number": person.id_number,
        "name": person.name,
        "settlement_date": day,
        "visit_type": visit,
        "institution_name": hospital,
        "diagnosis": diagnosis or None,
        "total_cost_yuan": _yuan(total),
        "pooled_fund_paid_yuan": _yuan(pooled),
        "critical_illness_paid_yuan": _yuan(critical),
        "medical_aid_paid_yuan": _yuan(aid),
        "self_paid_yuan": _yuan(total - pooled - critical - aid),
        "reversal_flag": "0",
        "reversed_settlement_id": None,
    }


def _apply(defect: str, row: dict[str, object], rng: random.Random) -> bool:
    number = str(row["id_number"])
    if defect == "amount_sum":
        row["self_paid_yuan"] = row["self_paid_yuan"] + _yuan(rng.randint(1, 50) * 100)  # type: ignore[operator]
    elif defect == "id_check_digit":
        row["id_number"] = number[:17] + rng.choice([c for c in "0123456789X" if c != number[17]])
    elif defect == "id_birth_date":
        first17 = number[:10] + rng.choice(("1305", "0230", "0431")) + number[14:17]
        row["id_number"] = first17 + check_digit(first17)
    elif defect == "id_length":
        row["id_number"] = number[:17]
    elif defect == "required_missing":
        row["name"] = None
    elif defect == "enum_invalid":
        row["visit_type"] = "急诊"
    elif defect == "id_15_digit":
        if not 1900 <= int(number[6:10]) <= 1999:
            return False
        row["id_number"] = number[:6] + number[8:17]
    elif defect == "id_fullwidth":
        row["id_number"] = number.translate(_FULLWIDTH)
    elif defect == "id_spaces":
        row["id_number"] = f"{number[:6]} {number[6:14]} {number[14:]}"
    elif defect == "id_lower_x":
        if not number.endswith("X"):
            return False
        row["id_number"] = number[:17] + "x"
    else:
        return False
    return True
