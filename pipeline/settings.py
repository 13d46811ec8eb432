"""Settings in one place: embedded defaults, then ``HOME/config.yaml``, then the environment.

A setting ``name`` is read from the environment as ``PIPELINE_<NAME>`` (e.g.
``PIPELINE_MED_CLAIMS_URL``), else from the ``HOME/config.yaml`` key ``name``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.paths import Home

ENV_PREFIX = "PIPELINE_"


class SettingsError(ValueError):
    """A configuration file that cannot be used."""


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
        return str(value).strip().lower() not in ("false", "no", "off", "0")


def load_settings(home: Path, inbox: Path) -> Settings:
    """Settings for a run; ``HOME`` is created when missing."""
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
    return Settings(home=layout, inbox=inbox.resolve(), values=values)
