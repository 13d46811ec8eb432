"""Settings in one place: embedded defaults, then ``HOME/config.yaml``, then the environment.

A setting ``name`` is read from the environment as ``PIPELINE_<NAME>`` (e.g.
``PIPELINE_MED_CLAIMS_URL``), else from the ``HOME/config.yaml`` key ``name``. Both are
validated when loaded, as the feeds and rules are: an unknown (misspelt) key or a value
that cannot be used is refused, naming the file or variable and the key.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.paths import Home

ENV_PREFIX = "PIPELINE_"
# Read from the environment only (where the pipeline finds its folders), never from
# HOME/config.yaml; PIPELINE_TEST_* are the test suite's own.
ENVIRONMENT_ONLY = ("PIPELINE_INBOX", "PIPELINE_HOME", "PIPELINE_PROJECT_DIR")
ENVIRONMENT_IGNORED_PREFIXES = ("PIPELINE_TEST_",)
YES = ("true", "yes", "on", "1")
NO = ("false", "no", "off", "0")


class SettingsError(ValueError):
    """A configuration file that cannot be used."""


def _database_url(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "expected a SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        # The value itself may hold a password: never repeated in the message.
        return "not a SQLAlchemy database URL (dialect+driver://user:password@host/database)"
    return None


def _yes_or_no(value: Any) -> str | None:
    if isinstance(value, bool) or str(value).strip().lower() in (*YES, *NO):
        return None
    return f"expected true or false, not {value!r}"


def _positive_whole_number(value: Any) -> str | None:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        return f"expected a whole number of at least 1, not {value!r}"
    return None


def _partitions_problem(value: Any) -> str | None:
    try:
        _parse_partitions(value)
    except SettingsError as error:
        return str(error)
    return None


def _parse_partitions(value: Any) -> Any:
    if isinstance(value, str):  # PIPELINE_PARTITIONS holds JSON
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise SettingsError(f"not JSON: {error}") from error
    return parse_partitions(value) if value not in (None, "", {}) else []


# ---------------------------------------------------------------- partitions

PARTITION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PARTITION_PREFIX = re.compile(r"^[0-9]{2,12}$")


@dataclass(frozen=True)
class Partition:
    name: str
    prefixes: tuple[str, ...]

    def owns(self, code: str | None) -> bool:
        """Whether a village or township code lies in this partition."""
        return code is not None and any(str(code).startswith(prefix) for prefix in self.prefixes)


def parse_partitions(declared: Any) -> list[Partition]:
    if not isinstance(declared, dict) or not declared:
        raise SettingsError(
            "partitions: expected a mapping of partition name to a list of township or "
            "county code prefixes"
        )
    partitions = []
    for name, prefixes in declared.items():
        if not isinstance(name, str) or not PARTITION_NAME.match(name):
            raise SettingsError(
                f"partitions: name {name!r} must be lower-case letters, digits, - or _ "
                "(it names a folder and an Airflow task)"
            )
        if isinstance(prefixes, str | int):
            prefixes = [prefixes]
        if not isinstance(prefixes, list) or not prefixes:
            raise SettingsError(f"partitions.{name}: expected a list of code prefixes")
        for prefix in prefixes:
            # An unquoted code is read by YAML as a number: still digits, but a leading
            # zero would be lost, so only a string is taken.
            if not isinstance(prefix, str) or not PARTITION_PREFIX.match(prefix):
                raise SettingsError(
                    f"partitions.{name}: {prefix!r} is not a quoted code prefix of 2 to 12 "
                    'digits (write it in quotes, e.g. "340102001")'
                )
        partitions.append(Partition(name, tuple(prefixes)))
    owners = [(prefix, partition.name) for partition in partitions for prefix in partition.prefixes]
    for prefix, owner in owners:
        for other, other_owner in owners:
            if (prefix, owner) != (other, other_owner) and other.startswith(prefix):
                raise SettingsError(
                    f"partitions: {other} ({other_owner}) lies inside {prefix} ({owner}); "
                    "a township must belong to one partition only"
                )
    return partitions


@dataclass(frozen=True)
class Setting:
    """One setting: the check of a value as given (its message, or None), how the value
    is read once checked, and its value when nothing gives one."""

    check: Callable[[Any], str | None]
    parse: Callable[[Any], Any]
    default: Any = None


# Every setting of HOME/config.yaml (and PIPELINE_<NAME>), with its default: the one place
# they are declared. A database feed's URL setting (``sql.url_setting`` in its YAML) is a
# database URL too (``database_url``).
SETTINGS: dict[str, Setting] = {
    "review_db_url": Setting(_database_url, str),
    "daily_report": Setting(_yes_or_no, lambda value: str(value).strip().lower() not in NO, True),
    # None: one worker per core, at most two (``pipeline.steps.ingest_workers``).
    "ingest_workers": Setting(_positive_whole_number, int),
    "partitions": Setting(_partitions_problem, _parse_partitions, ()),
}
DATABASE_URL = Setting(_database_url, str)


def known_settings() -> dict[str, Setting]:
    from pipeline.feeds.registry import load_registry

    urls = {
        spec.sql.url_setting: DATABASE_URL
        for spec in load_registry().values()
        if spec.sql is not None
    }
    return {**SETTINGS, **urls}


def _unknown(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown setting ({hint}known: {', '.join(sorted(known))})"


def validate_settings(
    values: Mapping[str, Any], source: str, environment: Mapping[str, str]
) -> None:
    """Refuse an unknown key or a value that cannot be used, naming where it was."""
    checks = known_settings()
    problems = []
    for key, value in values.items():
        setting = checks.get(str(key))
        if setting is None:
            problems.append(f"{source}: {key}: {_unknown(str(key), list(checks))}")
        elif value is not None and (problem := setting.check(value)):
            problems.append(f"{source}: {key}: {problem}")
    variables = {ENV_PREFIX + name.upper(): name for name in checks}
    for variable, value in sorted(environment.items()):
        if not variable.startswith(ENV_PREFIX) or variable in ENVIRONMENT_ONLY:
            continue
        if variable.startswith(ENVIRONMENT_IGNORED_PREFIXES):
            continue
        name = variables.get(variable)
        if name is None:
            known = [*variables, *ENVIRONMENT_ONLY]
            problems.append(f"environment variable {variable}: {_unknown(variable, known)}")
        elif value and (problem := checks[name].check(value)):
            problems.append(f"environment variable {variable}: {problem}")
    if problems:
        raise SettingsError("; ".join(problems))


@dataclass(frozen=True)
class Settings:
    """The settings of a run. A value comes from ``PIPELINE_<NAME>``, else from
    ``HOME/config.yaml`` (``values``), else from its default in ``SETTINGS``; both
    sources were validated when loaded."""

    home: Home
    inbox: Path
    values: dict[str, Any] = field(default_factory=dict)

    def _given(self, name: str) -> Any:
        from_environment = os.environ.get(ENV_PREFIX + name.upper())
        if from_environment:
            return from_environment
        return self.values.get(name)

    def _value(self, name: str, setting: Setting) -> Any:
        given = self._given(name)
        return setting.default if given is None else setting.parse(given)

    @property
    def review_db_url(self) -> str | None:
        return self._value("review_db_url", SETTINGS["review_db_url"])

    @property
    def daily_report(self) -> bool:
        return bool(self._value("daily_report", SETTINGS["daily_report"]))

    @property
    def ingest_workers(self) -> int | None:
        return self._value("ingest_workers", SETTINGS["ingest_workers"])

    @property
    def partitions(self) -> list[Partition]:
        return list(self._value("partitions", SETTINGS["partitions"]))

    def database_url(self, name: str) -> str | None:
        """The URL of a database feed's ``sql.url_setting``."""
        return self._value(name, DATABASE_URL)


def load_settings(home: Path, inbox: Path) -> Settings:
    """Settings for a run, validated; ``HOME`` is created when missing."""
    layout = Home(home.resolve()).ensure()
    values: dict[str, Any] = {}
    if layout.config_file.is_file():
        try:
            loaded = yaml.safe_load(layout.config_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise SettingsError(f"{layout.config_file}: not valid YAML: {error}") from error
        if not isinstance(loaded, dict):
            raise SettingsError(f"{layout.config_file}: expected a mapping of settings")
        values = loaded
    validate_settings(values, str(layout.config_file), os.environ)
    return Settings(home=layout, inbox=inbox.resolve(), values=values)
