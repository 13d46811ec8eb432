"""The feed registry: one declarative YAML file per feed, parsed into frozen objects.

A mistake in a feed file is reported with the file and the field, e.g.
``config/feeds/members.yaml: columns.2.type: Input should be 'string', ...``.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.paths import EXPECTATIONS_DIR, FEEDS_DIR

IDENTIFIER = r"^[a-z][a-z0-9_]*$"

ColumnType = Literal["string", "code", "id_number", "date", "amount", "integer", "enum"]

# Trailing rows that senders add below the data: a 合计 line, a signature line.
DEFAULT_FOOTER_PATTERNS = (
    r"^合\s*计",
    r"^总\s*计",
    r"^小\s*计",
    r"^(制表|填表|填报|审核|复核|负责人|经办人|签字|签章|盖章|单位|日期|备注)",
)

# libyaml's safe loader when PyYAML has it: feeds and rules are read by every step.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FeedConfigError(ValueError):
    """A feed file that cannot be used; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Frozen):
    """One column as the sender delivers it (``name``) and as the warehouse keeps it."""

    name: str = Field(min_length=1)
    field: Annotated[str, Field(pattern=IDENTIFIER)]
    type: ColumnType
    required: bool = False
    values: tuple[str, ...] | None = None
    # Header spellings other senders or older exports have used.
    aliases: tuple[str, ...] = ()
    # Names, ID and phone numbers, addresses: never logged, masked for townships.
    personal: bool = False

    @model_validator(mode="after")
    def _enum_has_values(self) -> Column:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum column needs its list of values")
        if self.type != "enum" and self.values:
            raise ValueError("values are only allowed on an enum column")
        return self


class SqlSource(_Frozen):
    """Where a database feed is read and which window of it each run reads."""

    url_setting: Annotated[str, Field(pattern=IDENTIFIER)]
    view: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    date_column: str
    lookback_days: int = Field(ge=0)
    first_window_days: int = Field(ge=1)


class Reference(_Frozen):
    """Rows whose ``field`` is not a ``target`` of the ``feed`` in force are quarantined."""

    field: Annotated[str, Field(pattern=IDENTIFIER)]
    feed: Annotated[str, Field(pattern=IDENTIFIER)]
    target: Annotated[str, Field(pattern=IDENTIFIER)]
    # Further fields of the row that must equal these fields of that target's row (a grid
    # report's 网格编号 and the household's): a row whose ``field`` is a target but whose
    # ``same`` fields differ is quarantined with ``reason``; a row whose ``field`` is empty
    # is not judged.
    same: dict[
        Annotated[str, Field(pattern=IDENTIFIER)], Annotated[str, Field(pattern=IDENTIFIER)]
    ] = Field(default_factory=dict)
    # How ``field`` is compared with ``target``: as it is, or as a township's name as people
    # say it (no space of any width, 乡, 镇 and 街道 alike: sql/linkage/place_keys.sql). A
    # row a name reference quarantines stays in staging and out of the ``cur_`` view.
    match: Literal["exact", "township_name"] = "exact"
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names_compared_alone(self) -> Reference:
        if self.match != "exact" and self.same:
            raise ValueError("same: only a reference matched exactly compares further fields")
        return self


RESERVED_FIELDS = frozenset(
    {"source_file", "source_row", "delivery_date", "loaded_at", "loaded_for_date"}
)


class FeedSpec(_Frozen):
    """A feed as the registry declares it."""

    feed: Annotated[str, Field(pattern=IDENTIFIER)]
    title: str
    owner: str
    kind: Literal["snapshot", "increment"]
    format: Literal["csv", "xlsx", "sql"]
    encoding: str | None = None
    sheet: str | None = None
    sql: SqlSource | None = None
    # A warning is raised when the newest complete delivery is older than this.
    max_silence_days: int | None = Field(default=None, ge=1)
    # A daily file feed's delivery for day D is due by this China time on D+1; the
    # scheduled run waits for it until then, and reports it overdue after.
    deadline: time | None = None
    key: tuple[str, ...] = Field(min_length=1)
    # What a row repeating an earlier row's key is: a duplicate (quarantined, the first
    # copy loads) or, where the contract says so, an update (both load into the feed's
    # history and the later row, by row order, is in force; only an exact copy of an
    # earlier row is a duplicate).
    repeated_key: Literal["duplicate", "update"] = "duplicate"
    expectation_suite: Annotated[str, Field(pattern=IDENTIFIER)]
    columns: tuple[Column, ...] = Field(min_length=1)
    derived: dict[str, str] = Field(default_factory=dict)
    references: tuple[Reference, ...] = ()
    footer_patterns: tuple[str, ...] = DEFAULT_FOOTER_PATTERNS
    # The column holding the person's name: a row quarantined only for its ID number is
    # proposed as a registry member by that name and what is left of the number.
    person_name: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as error:
            raise ValueError(f"unknown encoding {value!r}") from error
        return value.lower()

    @field_validator("deadline", mode="before")
    @classmethod
    def _deadline_is_quoted(cls, value: object) -> object:
        # YAML reads an unquoted 08:00 as the number 480 (minutes, base 60).
        if value is not None and not isinstance(value, str):
            raise ValueError('write the time in quotes, e.g. deadline: "08:00"')
        return value

    @field_validator("footer_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            re.compile(pattern)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FeedSpec:
        fields = [column.field for column in self.columns]
        if len(set(fields)) != len(fields):
            raise ValueError("two columns share a field name")
        reserved = sorted(RESERVED_FIELDS.intersection(fields))
        if reserved:
            raise ValueError(f"field names reserved for lineage: {reserved}")
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("two columns share a header name")
        unknown = [field for field in self.key if field not in fields]
        if unknown:
            raise ValueError(f"key names fields that are not columns: {unknown}")
        if self.format == "csv" and not self.encoding:
            raise ValueError("a csv feed needs its encoding")
        if self.format == "xlsx" and not self.sheet:
            raise ValueError("an xlsx feed needs its sheet name")
        if self.format == "sql" and self.sql is None:
            raise ValueError("a sql feed needs its sql section")
        for reference in self.references:
            for name in (reference.field, *reference.same):
                if name not in fields:
                    raise ValueError(f"references: {name!r} is not a column")
        if self.format != "sql" and self.sql is not None:
            raise ValueError("only a sql feed has a sql section")
        if self.repeated_key == "update" and self.kind != "increment":
            raise ValueError(
                "repeated_key: update keeps a history of the rows: only an increment feed has one"
            )
        if self.person_name is not None:
            named = self.by_field.get(self.person_name)
            if named is None or named.type != "string":
                raise ValueError(f"person_name: {self.person_name!r} is not a text column")
            if not self.id_number_field:
                raise ValueError("person_name: the feed has no ID number column to recover")
        if self.format == "sql" and self.deadline is not None:
            raise ValueError("deadline: a database feed is read when the run comes, never awaited")
        return self

    @cached_property
    def by_field(self) -> dict[str, Column]:
        return {column.field: column for column in self.columns}

    @property
    def id_number_field(self) -> str | None:
        """The feed's (first) ID number column."""
        return next((column.field for column in self.columns if column.type == "id_number"), None)

    @property
    def is_file_feed(self) -> bool:
        return self.format != "sql"

    @property
    def file_extension(self) -> str:
        return {"csv": "csv", "xlsx": "xlsx", "sql": ""}[self.format]

    @property
    def suite_path(self) -> Path:
        return EXPECTATIONS_DIR / f"{self.expectation_suite}.json"


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(file)"
        lines.append(f"{where}: {problem['msg']}")
    return "; ".join(lines)


def load_feed(path: Path) -> FeedSpec:
    """Parse and validate one feed file; errors name the file and the field."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        raise FeedConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise FeedConfigError(f"{path}: expected a mapping of fields")
    try:
        spec = FeedSpec.model_validate(document)
    except ValidationError as error:
        raise FeedConfigError(f"{path}: {_describe(error)}") from error
    if spec.feed != path.stem:
        raise FeedConfigError(f"{path}: feed: {spec.feed!r} must match the file name")
    if not spec.suite_path.is_file():
        raise FeedConfigError(
            f"{path}: expectation_suite: no suite file {spec.suite_path.name} in expectations/"
        )
    return spec


def load_registry(folder: Path = FEEDS_DIR) -> dict[str, FeedSpec]:
    """Every feed of the project, by name, in file-name order."""
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise FeedConfigError(f"{folder}: no feed files (*.yaml)")
    registry = {spec.feed: spec for spec in map(load_feed, paths)}
    for spec in registry.values():
        for reference in spec.references:
            target = registry.get(reference.feed)
            for wanted in (reference.target, *reference.same.values()):
                if target is None or wanted not in target.by_field:
                    raise FeedConfigError(
                        f"{folder / (spec.feed + '.yaml')}: references: "
                        f"{reference.feed}.{wanted} is not a declared field"
                    )
    return registry
