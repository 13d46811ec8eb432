"""The warning rules of ``config/rules.yaml``: thresholds, windows, grades, deadlines.

Parsed into frozen objects and validated when loaded; a mistake names the file
and the field. Every number here is configuration, never a constant in code.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.alerts.calendar import WorkingCalendar
from pipeline.feeds.registry import SAFE_LOADER
from pipeline.paths import CONFIG_DIR
from pipeline.vocabulary import GRADES

CATEGORIES = (
    "medical_burden",
    "medical_uninsured",
    "education_dropout",
    "housing_unsafe",
    "water_unsafe",
    "assistance_stopped",
    "sudden_hardship",
    "unemployment",
    "labour_death",
    "business_failure",
    "disaster",
    "income_below_line",
    "eligibility_review",
)


class RulesConfigError(ValueError):
    """A rules file that cannot be used; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Labourer(_Frozen):
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    skills: tuple[str, ...] = Field(min_length=1)


class MedicalBurden(_Frozen):
    window_days: int = Field(ge=1)
    share_of_rural_income_monitored: float = Field(gt=0)
    share_of_rural_income_other: float = Field(gt=0)
    inpatient_self_paid_monitored_yuan: float = Field(gt=0)
    inpatient_self_paid_other_yuan: float = Field(gt=0)


class EducationDropout(_Frozen):
    statuses: tuple[str, ...] = Field(min_length=1)
    compulsory_stages: tuple[str, ...] = Field(min_length=1)
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)


class WaterUnsafe(_Frozen):
    min_open_days: int = Field(ge=0)
    red_open_days: int = Field(ge=0)
    duration_types: tuple[str, ...]
    immediate_types: tuple[str, ...]


class Disaster(_Frozen):
    window_days: int = Field(ge=1)
    alert_severities: tuple[str, ...] = Field(min_length=1)
    red_severities: tuple[str, ...]


class EligibilityReview(_Frozen):
    vehicle_types: tuple[str, ...]
    company_types: tuple[str, ...]
    registered_capital_10k_yuan: float = Field(gt=0)


class Regional(_Frozen):
    window_days: int = Field(ge=1)
    village_share: float = Field(gt=0, le=1)
    village_households: int = Field(ge=1)
    disaster_severities: tuple[str, ...] = Field(min_length=1)
    water_households: int = Field(ge=1)
    township_villages: int = Field(ge=1)
    unemployment_statuses: tuple[str, ...] = Field(min_length=1)
    unemployment_recent_days: int = Field(ge=1)
    unemployment_baseline_days: int = Field(ge=1)
    unemployment_factor: float = Field(gt=0)
    unemployment_min_registrations: int = Field(ge=1)


class Elimination(_Frozen):
    monitored_months: int = Field(ge=0)
    quiet_months: int = Field(ge=0)
    quiet_categories: tuple[str, ...]
    day_of_month: int = Field(ge=1, le=28)


class Comparison(_Frozen):
    recent_days: int = Field(ge=1)
    vehicle_statuses: tuple[str, ...] = Field(min_length=1)
    business_statuses: tuple[str, ...] = Field(min_length=1)


class Category(_Frozen):
    feeds: tuple[str, ...] = Field(min_length=1)
    label: str = Field(min_length=1)
    departments: tuple[str, ...] = Field(min_length=1)
    near_line_raises: bool
    help: tuple[str, ...] = Field(min_length=1)


class Rules(_Frozen):
    monitoring_line: dict[int, float] = Field(min_length=1)
    rural_income_per_capita: dict[int, float] = Field(min_length=1)
    recent_days: int = Field(ge=1)
    near_line_factor: float = Field(ge=1)
    labourer: Labourer
    medical_burden: MedicalBurden
    education_dropout: EducationDropout
    water_unsafe: WaterUnsafe
    disaster: Disaster
    eligibility_review: EligibilityReview
    regional: Regional
    elimination: Elimination
    comparison: Comparison
    # Validated below to hold every grade.
    verify_within_working_days: dict[str, int]
    # Days added to or corrected in the official calendar: dates, or ranges
    # "2027-10-01..2027-10-07" (expanded when loaded).
    holidays: tuple[date, ...] = ()
    makeup_working_days: tuple[date, ...] = ()
    calendar_years_in_rules: tuple[int, ...] = ()
    suppression_after_not_true_days: int = Field(ge=0)
    categories: dict[str, Category]

    @model_validator(mode="after")
    def _complete(self) -> Rules:
        missing = [code for code in CATEGORIES if code not in self.categories]
        unknown = [code for code in self.categories if code not in CATEGORIES]
        if missing or unknown:
            raise ValueError(f"categories: missing {missing}, unknown {unknown}")
        stray = [code for code in self.elimination.quiet_categories if code not in CATEGORIES]
        if stray:
            raise ValueError(f"elimination.quiet_categories: unknown categories {stray}")
        if set(self.verify_within_working_days) != set(GRADES):
            raise ValueError("verify_within_working_days needs red, orange and yellow")
        both = sorted(set(self.holidays) & set(self.makeup_working_days))
        if both:
            raise ValueError(
                "holidays and makeup_working_days both list "
                f"{[day.isoformat() for day in both]}: a day is one or the other"
            )
        return self

    @field_validator("holidays", "makeup_working_days", mode="before")
    @classmethod
    def _expand_ranges(cls, entries: Any) -> Any:
        """A range "2027-10-01..2027-10-07" is every day from the first to the last."""
        if not isinstance(entries, list | tuple):
            return entries
        days: list[Any] = []
        for entry in entries:
            if isinstance(entry, str) and ".." in entry:
                first_text, _, last_text = entry.partition("..")
                try:
                    first = date.fromisoformat(first_text.strip())
                    last = date.fromisoformat(last_text.strip())
                except ValueError as error:
                    raise ValueError(f"{entry!r}: a range is YYYY-MM-DD..YYYY-MM-DD") from error
                if last < first:
                    raise ValueError(f"{entry!r}: the range ends before it starts")
                days.extend(first + timedelta(days=n) for n in range((last - first).days + 1))
            else:
                days.append(entry)
        return days

    def value_for_year(self, table: dict[int, float], year: int) -> tuple[float, int] | None:
        """The value for ``year``, or the latest earlier year's (with the year used)."""
        earlier = [known for known in table if known <= year]
        if not earlier:
            return None
        used = max(earlier)
        return table[used], used

    def monitoring_line_for(self, year: int) -> tuple[float, int] | None:
        return self.value_for_year(self.monitoring_line, year)

    def rural_income_for(self, year: int) -> tuple[float, int] | None:
        return self.value_for_year(self.rural_income_per_capita, year)

    def working_calendar(self) -> WorkingCalendar:
        """The official calendar with this file's corrections; a new one per run, as it
        collects the years it had to count Monday-Friday."""
        return WorkingCalendar(
            frozenset(self.holidays),
            frozenset(self.makeup_working_days),
            frozenset(self.calendar_years_in_rules),
        )


def load_rules(path: Path = CONFIG_DIR / "rules.yaml") -> Rules:
    """Parse and validate the rules; errors name the file and the field."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        raise RulesConfigError(f"{path}: not valid YAML: {error}") from error
    try:
        return Rules.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(file)'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise RulesConfigError(f"{path}: {problems}") from error
