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


def _partitions(value: Any) -> str | None:
    from pipeline.partitions.config import parse_partitions

    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            return f"not JSON: {error}"
    try:
        parse_partitions(value)
    except SettingsError as error:
        return str(error)
    return None


# Every setting of HOME/config.yaml, with the check of its value. A database feed's URL
# setting (``sql.url_setting`` in its YAML) is a database URL too.
KNOWN_SETTINGS: dict[str, Callable[[Any], str | None]] = {
    "review_db_url": _database_url,
    "daily_report": _yes_or_no,
    "ingest_workers": _positive_whole_number,
    "partitions": _partitions,
}


def known_settings() -> dict[str, Callable[[Any], str | None]]:
    from pipeline.feeds.registry import load_registry

    urls = {
        spec.sql.url_setting: _database_url
        for spec in load_registry().values()
        if spec.sql is not None
    }
    return {**KNOWN_SETTINGS, **urls}


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
        check = checks.get(str(key))
        if check is None:
            problems.append(f"{source}: {key}: {_unknown(str(key), list(checks))}")
        elif value is not None and (problem := check(value)):
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
        elif value and (problem := checks[name](value)):
            problems.append(f"environment variable {variable}: {problem}")
    if problems:
        raise SettingsError("; ".join(problems))


@dataclass(frozen=True)
class Settings:
    home: Home
    inbox: Path
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        from_environment = os.environ.get(ENV_PREFIX + name.upper())
        if from_environment:
            return from_environment
        return self.values.get(name)

    def enabled(self, name: str, default: bool = True) -> bool:
        """A yes/no setting (``false``, ``no``, ``off`` or ``0`` say no)."""
        value = self.get(name)
        if value is None:
            return default
        return str(value).strip().lower() not in NO


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
