"""The warning rules of ``config/rules.yaml``: categories, thresholds, windows, grades, deadlines.

Parsed into frozen objects and validated when loaded; a mistake names the file and the
field. Every number here is configuration, never a constant in code.

**A category is its entry and its SQL step.** The categories are the entries under
``categories:``, in the file's order: label, feeds, departments, near_line_raises, help,
channel (发现渠道) and its own ``thresholds``; its step is ``sql/signals/sig_<code>.sql``,
which must exist when the rules are loaded. A regional rule is likewise an entry under
``regional.rules`` (label, scope, thresholds) and its step ``sql/regional/reg_<code>.sql``.
Adding either is a YAML entry and a SQL file, no code.

**Thresholds typed by code.** Every entry is validated as one member of a tagged union
whose tag is the entry's code (its key, copied into the entry first): a code the code
knows (``CATEGORY_THRESHOLDS``, ``REGIONAL_THRESHOLDS``) has a frozen model that refuses
an unknown key, so a typo names its field; any other code gets the open member, whose
thresholds are scalars or lists of scalars, untyped. The tag pydantic adds to an error's
location is left out of the message. Code reads a known category's thresholds typed,
``rules.thresholds(WaterUnsafe).red_open_days``.

**Parameters named after their place.** ``Rules.parameters(D)`` gives every value a SQL
step may bind as ``$name``: the value's path in the file joined with ``__``, the
``categories``, ``rules`` and ``thresholds`` levels left out (codes name the entries):
``$medical_burden__window_days``, ``$labourer__min_age``, ``$regional__water__households``,
``$elimination__quiet_months``, ``$recent_days``. The tables by year become the value for
D: ``$monitoring_line`` (with ``$line_year``, the year it is from) and ``$rural_income``
(the year before D); and ``$business_date``. Lists are bound as lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, Union, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline import paths, sql
from pipeline.alerts.calendar import WorkingCalendar
from pipeline.feeds.registry import SAFE_LOADER
from pipeline.vocabulary import GRADES

# A code or a threshold key: also part of a table name and of a $name, so lower-case words
# joined by single underscores (a double one separates the parts of a $name).
CODE_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
# The separator of the parts of a $name.
SEPARATOR = "__"
# The tag of the open member of an entry's union (no code can be spelled so).
OPEN = "(open)"


class RulesConfigError(ValueError):
    """A rules file that cannot be used; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Labourer(_Frozen):
    min_age: int = Field(ge=0)
    max_age: int = Field(ge=0)
    skills: tuple[str, ...] = Field(min_length=1)


# ------------------------------------------------------------------ category thresholds


class NoThresholds(_Frozen):
    """A known category whose step uses no threshold of its own."""


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


class GridReport(_Frozen):
    # A report older than this many days (上报日期 to the business date) no longer raises.
    window_days: int = Field(ge=1)
    # Red for these 情况类型 in a monitored household; orange otherwise.
    red_types: tuple[str, ...]


class EligibilityReview(_Frozen):
    vehicle_types: tuple[str, ...]
    company_types: tuple[str, ...]
    registered_capital_10k_yuan: float = Field(gt=0)


# The categories the code knows, with the model of their thresholds. A category of the
# file that is not here (a bureau's own) has open thresholds.
CATEGORY_THRESHOLDS: dict[str, type[_Frozen]] = {
    "medical_burden": MedicalBurden,
    "medical_uninsured": NoThresholds,
    "education_dropout": EducationDropout,
    "housing_unsafe": NoThresholds,
    "water_unsafe": WaterUnsafe,
    "assistance_stopped": NoThresholds,
    "sudden_hardship": NoThresholds,
    "unemployment": NoThresholds,
    "labour_death": NoThresholds,
    "business_failure": NoThresholds,
    "disaster": Disaster,
    "income_below_line": NoThresholds,
    "eligibility_review": EligibilityReview,
    "grid_report": GridReport,
}


# ------------------------------------------------------------------ regional thresholds


class Concentration(_Frozen):
    households: int = Field(ge=1)
    share: float = Field(gt=0, le=1)


class RegionalDisaster(_Frozen):
    severities: tuple[str, ...] = Field(min_length=1)


class Water(_Frozen):
    households: int = Field(ge=1)


class TownshipVillages(_Frozen):
    villages: int = Field(ge=1)


class UnemploymentWave(_Frozen):
    statuses: tuple[str, ...] = Field(min_length=1)
    recent_days: int = Field(ge=1)
    baseline_days: int = Field(ge=1)
    factor: float = Field(gt=0)
    min_registrations: int = Field(ge=1)


REGIONAL_THRESHOLDS: dict[str, type[_Frozen]] = {
    "concentration": Concentration,
    "disaster": RegionalDisaster,
    "water": Water,
    "villages": TownshipVillages,
    "unemployment": UnemploymentWave,
}


# ------------------------------------------------------------------ open thresholds

SCALARS = (bool, int, float, str, date)


def _scalars(thresholds: dict[str, Any]) -> dict[str, Any]:
    """An open entry's thresholds: scalars, or lists of scalars (kept as tuples)."""
    checked: dict[str, Any] = {}
    for key, value in thresholds.items():
        if isinstance(value, list | tuple) and all(isinstance(item, SCALARS) for item in value):
            checked[key] = tuple(value)
        elif isinstance(value, SCALARS):
            checked[key] = value
        else:
            raise ValueError(f"{key}: a threshold is a number, a text, a date or a list of them")
    return checked


OpenThresholds = Annotated[dict[Code, Any], AfterValidator(_scalars)]

# ------------------------------------------------------------------ entries

T = TypeVar("T")

# 发现渠道: the ways the policy names for a household at risk to be found, the report's
# section "发现渠道" (docs/warning-rules.md, "Categories"). A category's ``channel``.
Channel = Literal["部门筛查预警", "基层干部排查", "群众反映线索", "农户自主申报"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
# The channel of a category whose entry names none (a rules file older than the key):
# the department data, the channel of most categories.
DEFAULT_CHANNEL: Channel = "部门筛查预警"


class _Entry(_Frozen):
    """An entry of a mapping of the file (a category, a regional rule): its key is its code."""

    code: Code
    label: str = Field(min_length=1)

    @field_validator("thresholds", mode="before", check_fields=False)
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class Category(_Entry, Generic[T]):
    feeds: tuple[str, ...] = Field(min_length=1)
    departments: tuple[str, ...] = Field(min_length=1)
    near_line_raises: bool
    help: tuple[str, ...] = Field(min_length=1)
    # Whom its alerts go to: the household's group grid (组级网格员), or its village head
    # (村级网格长), e.g. for what the group grid worker reported himself.
    route_to: Literal["grid", "village"] = "grid"
    # Through which channel its alerts are found (发现渠道, one of CHANNELS).
    channel: Channel = DEFAULT_CHANNEL
    # For a category raised from leads (``lead``): the channel of the leads of a 来源 found
    # through another channel than the category's (自主申报: 农户自主申报).
    source_channels: dict[str, Channel] = Field(default_factory=dict)
    thresholds: T = Field(default_factory=dict, validate_default=True)

    @field_validator("source_channels", mode="before")
    @classmethod
    def _sources_as_text(cls, sources: Any) -> Any:
        # 12317 unquoted in YAML is a number; the feed's 来源 is its text.
        if isinstance(sources, dict):
            return {str(source): channel for source, channel in sources.items()}
        return sources

    @field_validator("source_channels")
    @classmethod
    def _sources_named(cls, sources: dict[str, Channel]) -> dict[str, Channel]:
        if any(not source.strip() for source in sources):
            raise ValueError("a lead source (来源) may not be empty")
        return sources

    def channel_of_source(self, source: str) -> Channel:
        """The channel of this category's leads of ``source``."""
        return self.source_channels.get(source, self.channel)

    @property
    def step(self) -> str:
        """Its SQL step, ``sql/signals/sig_<code>.sql``."""
        return f"signals/sig_{self.code}"

    @property
    def table(self) -> str:
        """The table its step makes."""
        return f"signals.sig_{self.code}"


class RegionalRule(_Entry, Generic[T]):
    # village: evaluated first, its village rows make ``regional.village_conditions``;
    # township: evaluated after, may read them.
    scope: Literal["village", "township"]
    thresholds: T = Field(default_factory=dict, validate_default=True)

    @property
    def step(self) -> str:
        """Its SQL step, ``sql/regional/reg_<code>.sql``."""
        return f"regional/reg_{self.code}"

    @property
    def table(self) -> str:
        """The table its step makes."""
        return f"regional.reg_{self.code}"


def _by_code(entry: Any, known: Mapping[str, type[_Frozen]]) -> Any:
    """``entry`` with the thresholds model of its code, or with open thresholds."""

    def code_or_open(value: Any) -> str:
        code = value.get("code") if isinstance(value, dict) else getattr(value, "code", None)
        return code if isinstance(code, str) and code in known else OPEN

    members = [Annotated[entry[model], Tag(code)] for code, model in known.items()]
    members.append(Annotated[entry[OpenThresholds], Tag(OPEN)])
    return Annotated[Union[tuple(members)], Discriminator(code_or_open)]  # noqa: UP007


if TYPE_CHECKING:
    CategoryEntry = Category[Any]
    RegionalEntry = RegionalRule[Any]
else:
    CategoryEntry = _by_code(Category, CATEGORY_THRESHOLDS)
    RegionalEntry = _by_code(RegionalRule, REGIONAL_THRESHOLDS)


def _with_codes(entries: Any) -> Any:
    """Each entry of a mapping given its key as its ``code``."""
    if not isinstance(entries, dict):
        return entries
    coded = {}
    for code, entry in entries.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{code}: an entry is a mapping (label, thresholds, …)")
        if entry.get("code", code) != code:
            raise ValueError(f"{code}: its code is its key, not {entry['code']!r}")
        coded[code] = {**entry, "code": code}
    return coded


M = TypeVar("M", bound=BaseModel)


def _typed(entries: Mapping[str, Any], model: type[M]) -> M:
    """The thresholds of the one entry whose model is ``model``."""
    found = [entry.thresholds for entry in entries.values() if isinstance(entry.thresholds, model)]
    if len(found) != 1:
        raise KeyError(f"{len(found)} entries have the thresholds {model.__name__}")
    return found[0]


class Regional(_Frozen):
    window_days: int = Field(ge=1)
    rules: dict[str, RegionalEntry] = Field(min_length=1)

    _codes = field_validator("rules", mode="before")(_with_codes)

    def thresholds(self, model: type[M]) -> M:
        """A known rule's thresholds, typed: ``rules.regional.thresholds(Water).households``."""
        return _typed(self.rules, model)

    def in_scope(self, scope: str) -> list[RegionalRule[Any]]:
        return [rule for rule in self.rules.values() if rule.scope == scope]


class Elimination(_Frozen):
    monitored_months: int = Field(ge=0)
    quiet_months: int = Field(ge=0)
    quiet_categories: tuple[str, ...]
    day_of_month: int = Field(ge=1, le=28)


class Comparison(_Frozen):
    recent_days: int = Field(ge=1)
    vehicle_statuses: tuple[str, ...] = Field(min_length=1)
    business_statuses: tuple[str, ...] = Field(min_length=1)


class Assistance(_Frozen):
    """The assistance ledger (帮扶台账): a confirmed household's case."""

    # A case is due this many calendar months after the verification that confirmed it.
    due_months: int = Field(ge=1)
    # assistance.csv lists a closed case for this many days after it closed.
    listed_after_closing_days: int = Field(ge=0)
    # The drop-down of 帮扶措施类别 on the township workbook's 帮扶台账 sheet.
    measure_types: tuple[str, ...] = Field(min_length=1)

    @field_validator("measure_types")
    @classmethod
    def _fit_a_drop_down(cls, types: tuple[str, ...]) -> tuple[str, ...]:
        # A list drop-down is one quoted, comma-separated formula of at most 255 characters.
        bad = [name for name in types if any(mark in name for mark in ',"') or not name.strip()]
        if bad:
            raise ValueError(f"a measure type may not be empty or hold a comma or a quote: {bad}")
        if len(",".join(types)) > 255:
            raise ValueError("the measure types together exceed the 255 characters of a drop-down")
        if len(set(types)) != len(types):
            raise ValueError("a measure type is listed twice")
        return types


class Assessment(_Frozen):
    """考核评估: the running figures of the daily report and the monthly table."""

    # The monthly table of the previous calendar month is made on this day of the month.
    day_of_month: int = Field(ge=1, le=28)
    # The daily report's running figures cover this many days up to the business date.
    running_days: int = Field(ge=1)
    # A group grid's monthly report (网格员月报) for a month is due by this day of the next
    # month; a grid without a row for the month delivered by then has not reported.
    grid_reports_due_day: int = Field(default=5, ge=1, le=28)


class Precision(_Frozen):
    """What verification teaches: a category found true too rarely is flagged."""

    window_days: int = Field(ge=1)
    # Flagged only with at least this many verified alerts in the window ...
    min_verified: int = Field(ge=1)
    # ... and a share found true below this.
    floor: float = Field(gt=0, lt=1)


class Linkage(_Frozen):
    """Rows that lost their ID number (docs/warning-rules.md, "Rows that lost their ID
    number"): a row quarantined only for its ID number, proposed as a registry member."""

    # A proposal at or above this probability is used for the alerts, if ``use_for_alerts``.
    row_match_probability: float = Field(default=0.99, gt=0, le=1)
    use_for_alerts: bool = True


class Rules(_Frozen):
    monitoring_line: dict[int, float] = Field(min_length=1)
    rural_income_per_capita: dict[int, float] = Field(min_length=1)
    recent_days: int = Field(ge=1)
    near_line_factor: float = Field(ge=1)
    labourer: Labourer
    regional: Regional
    elimination: Elimination
    comparison: Comparison
    assistance: Assistance
    assessment: Assessment
    precision: Precision
    linkage: Linkage = Linkage()
    # Validated below to hold every grade.
    verify_within_working_days: dict[str, int]
    # Days added to or corrected in the official calendar: dates, or ranges
    # "2027-10-01..2027-10-07" (expanded when loaded).
    holidays: tuple[date, ...] = ()
    makeup_working_days: tuple[date, ...] = ()
    calendar_years_in_rules: tuple[int, ...] = ()
    suppression_after_not_true_days: int = Field(ge=0)
    # In the file's order, which is the order of the signal steps and of signals.raised.
    categories: dict[str, CategoryEntry] = Field(min_length=1)

    _codes = field_validator("categories", mode="before")(_with_codes)

    @model_validator(mode="after")
    def _complete(self) -> Rules:
        # A category's $names start with its code: none may be a section's.
        clashing = [code for code in self.categories if code in type(self).model_fields]
        if clashing:
            raise ValueError(f"categories: {clashing} are names of sections of the file")
        stray = [code for code in self.elimination.quiet_categories if code not in self.categories]
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

    @property
    def category_codes(self) -> tuple[str, ...]:
        """The categories, in the file's order."""
        return tuple(self.categories)

    def thresholds(self, model: type[M]) -> M:
        """A known category's thresholds, typed: ``rules.thresholds(WaterUnsafe).red_open_days``."""
        return _typed(self.categories, model)

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

    def configured_values(self) -> dict[str, Any]:
        """Every value of the file as the ``$name`` a SQL step binds it by (see the module's
        docstring), but the tables by year, which ``parameters`` gives for a date."""
        sections = {
            name: getattr(self, name) for name in type(self).model_fields if name not in YEAR_TABLES
        }
        return _named((), sections)

    def parameters(self, business_date: date) -> tuple[dict[str, Any], list[str]]:
        """Every value a SQL step may bind for ``business_date``, and warnings about the
        values carried forward from an earlier year."""
        warnings = []
        line = self.monitoring_line_for(business_date.year)
        if line is None:
            raise ValueError(
                f"monitoring_line: no value for {business_date.year} or any earlier year"
            )
        if line[1] != business_date.year:
            warnings.append(
                f"{business_date.year}年未配置监测范围，沿用{line[1]}年的{line[0]:.0f}元"
            )
        income = self.rural_income_for(business_date.year - 1)
        if income is None:
            raise ValueError(
                f"rural_income_per_capita: no value for {business_date.year - 1} or earlier"
            )
        if income[1] != business_date.year - 1:
            warnings.append(
                f"{business_date.year - 1}年未配置农村居民人均可支配收入，沿用{income[1]}年的{income[0]:.0f}元"
            )
        values = {
            **self.configured_values(),
            "business_date": business_date,
            "monitoring_line": line[0],
            "line_year": line[1],
            "rural_income": income[0],
        }
        return values, warnings

    def working_calendar(self) -> WorkingCalendar:
        """The official calendar with this file's corrections; a new one per run, as it
        collects the years it had to count Monday-Friday."""
        return WorkingCalendar(
            frozenset(self.holidays),
            frozenset(self.makeup_working_days),
            frozenset(self.calendar_years_in_rules),
        )


# Bound for the business date (``$monitoring_line``, ``$line_year``, ``$rural_income``).
YEAR_TABLES = ("monitoring_line", "rural_income_per_capita")


def _named(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``value`` at ``path`` of the file as ``{$name: value}``: a section spread into its
    values, an entry into its thresholds; a mapping of entries (``categories``,
    ``regional.rules``) adds no part to the names, as the entries' codes name them."""
    if isinstance(value, Category | RegionalRule):
        return _named(path, value.thresholds)
    if isinstance(value, BaseModel):
        value = {key: getattr(value, key) for key in type(value).model_fields}
    if isinstance(value, Mapping):
        named: dict[str, Any] = {}
        for key, item in value.items():
            entries = isinstance(item, Mapping) and any(
                isinstance(entry, Category | RegionalRule) for entry in item.values()
            )
            named.update(_named(path if entries else (*path, str(key)), item))
        return named
    return {SEPARATOR.join(path): list(value) if isinstance(value, tuple) else value}


def _location(loc: tuple[int | str, ...]) -> str:
    """An error's place in the file, without the tag of an entry's union."""
    parts = list(loc)
    for entries, at in ((("categories",), 2), (("regional", "rules"), 3)):
        if tuple(parts[: len(entries)]) == entries and len(parts) > at:
            del parts[at]
    return ".".join(str(part) for part in parts) or "(file)"


def sql_file(step: str) -> Path:
    """Where the SQL runner reads ``step`` from (``pipeline/sql.py``)."""
    return sql.SQL_DIR / f"{step}.sql"


def _missing_steps(rules: Rules) -> list[str]:
    entries: list[tuple[str, Category[Any] | RegionalRule[Any]]] = [
        *((f"categories.{code}", entry) for code, entry in rules.categories.items()),
        *((f"regional.rules.{code}", entry) for code, entry in rules.regional.rules.items()),
    ]
    return [
        f"{where}: its SQL step {sql_file(entry.step)} does not exist"
        for where, entry in entries
        if not sql_file(entry.step).is_file()
    ]


def load_rules(path: Path | None = None) -> Rules:
    """Parse and validate the rules (``config/rules.yaml`` of the project unless ``path``),
    and check that every category's and regional rule's SQL step exists; errors name the
    file and the field."""
    path = path or paths.CONFIG_DIR / "rules.yaml"
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        raise RulesConfigError(f"{path}: not valid YAML: {error}") from error
    try:
        rules = Rules.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{_location(problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        raise RulesConfigError(f"{path}: {problems}") from error
    missing = _missing_steps(rules)
    if missing:
        raise RulesConfigError(f"{path}: {'; '.join(missing)}")
    return rules
