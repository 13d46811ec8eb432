"""The assistance ledger's objects: a case, its measures and contacts, one date's run.

Stored in the tables of ``sql/assistance/schema.sql`` (docs/assistance.md, "The
assistance ledger"); the lifecycle (``cases.py``) and the returned ledger rows
(``ledger.py``) change them through a ``CaseRun``, which keeps every change as an event.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipeline.alerts.lifecycle import AlertReport
from pipeline.alerts.rules import Rules
from pipeline.dispatch.township_workbook import VERIFICATION_RESULTS
from pipeline.vocabulary import CaseStatus

# The verification results that confirm a household at risk and open its case.
CONFIRMED_RESULTS: tuple[str, ...] = tuple(
    result for result in VERIFICATION_RESULTS if result.startswith("属实")
)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's last
    (2026-01-31 + 1 month = 2026-02-28)."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass
class Case:
    """One case as ``assistance.cases`` stores it (the column order of the table)."""

    case_id: str
    household_id: str
    township_code: str | None
    village_code: str | None
    categories: str  # the confirmed categories' codes, joined by ","
    confirmed_date: date
    due_by: date
    status: str
    contact: str | None = None
    contact_unit: str | None = None
    in_place_date: date | None = None
    closed_date: date | None = None
    close_cause: str | None = None
    has_registry_at_risk: bool = False

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def category_codes(self) -> list[str]:
        return [code for code in self.categories.split(",") if code]


@dataclass(frozen=True)
class Measure:
    """One measure as ``assistance.measures`` stores it."""

    case_id: str
    sequence: int
    measure_type: str
    content: str | None
    put_in_place_date: date
    contact: str
    recorded_date: date
    file: str
    contact_unit: str | None = None

    def same_as(self, measure_type: str, content: str | None, on: date, contact: str) -> bool:
        """The same measure (a returned workbook carries the recorded ones back)."""
        return (self.measure_type, self.content or "", self.put_in_place_date, self.contact) == (
            measure_type,
            content or "",
            on,
            contact,
        )


# The day's figures of the ledger, as the manifest's ``assistance`` counts them.
FIGURES = (
    "opened",
    "joined",
    "closed",
    "contacts_named",
    "contacts_changed",
    "measures_recorded",
    "ledger_rows_applied",
    "ledger_rows_unchanged",
    "ledger_rows_rejected",
)


@dataclass
class CaseRun:
    """One business date's changes to the cases: the cases by id, their measures, the
    contacts named and the events in the order they happened."""

    business_date: date
    rules: Rules
    report: AlertReport
    cases: dict[str, Case]
    measures: dict[str, list[Measure]] = field(default_factory=dict)
    # First date each case's first contact serves from (for in_place_date).
    first_contact: dict[str, date] = field(default_factory=dict)
    new_measures: list[Measure] = field(default_factory=list)
    new_contacts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    # The case not closed of each household (one at most).
    open_cases: dict[str, Case] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.open_cases = {case.household_id: case for case in self.cases.values() if case.is_open}

    def event(self, case: Case, kind: str, cause: str) -> None:
        sequence = self.sequences.get(case.case_id, 0)
        self.sequences[case.case_id] = sequence + 1
        self.events.append(
            {
                "case_id": case.case_id,
                "event_date": self.business_date,
                "sequence": sequence,
                "event": kind,
                "cause": cause,
            }
        )

    def count(self, figure: str, by: int = 1) -> None:
        self.figures[figure] += by

    def name_contact(self, case: Case, contact: str, unit: str | None, from_date: date) -> None:
        """A case's contact: named (the first), changed (another person), or its unit
        given anew; kept with its date in ``assistance.contacts`` and as an event."""
        if case.contact == contact and (not unit or unit == case.contact_unit):
            return
        shown = f"{contact}（{unit}）" if unit else contact
        if case.contact is None:
            self.count("contacts_named")
            self.first_contact.setdefault(case.case_id, from_date)
            cause = f"确定帮扶联系人：{shown}，自{from_date.isoformat()}起"
        elif case.contact != contact:
            self.count("contacts_changed")
            cause = f"更换帮扶联系人：{case.contact} → {shown}，自{from_date.isoformat()}起"
        else:
            cause = f"帮扶联系人{contact}的单位更新为{unit}"
        case.contact, case.contact_unit = (
            contact,
            unit or (case.contact_unit if case.contact == contact else None),
        )
        self.new_contacts.append(
            {
                "case_id": case.case_id,
                "contact": contact,
                "contact_unit": case.contact_unit,
                "from_date": from_date,
                "recorded_date": self.business_date,
            }
        )
        self.event(case, "contact", cause)
