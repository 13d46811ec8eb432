"""Which townships each partition of a partitioned deployment holds.

Declared in ``HOME/config.yaml`` (or ``PIPELINE_PARTITIONS`` as JSON)::

    partitions:
      north: ["340102001", "340102002"]   # townships, by code
      feixi: ["340123"]                   # a whole county, by its 6-digit prefix

A partition owns every village and township whose code starts with one of its
prefixes. Prefixes are digit strings and no prefix may start another one, so a
household belongs to at most one partition; that every registered household
belongs to one is checked against the warehouse before a run raises any alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.settings import Settings, SettingsError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PREFIX = re.compile(r"^[0-9]{2,12}$")


@dataclass(frozen=True)
class Partition:
    name: str
    prefixes: tuple[str, ...]

    def owns(self, code: str | None) -> bool:
        """Whether a village or township code lies in this partition."""
        return code is not None and any(str(code).startswith(prefix) for prefix in self.prefixes)


def load_partitions(settings: Settings) -> list[Partition]:
    """The declared partitions in their declared order; an empty list when the deployment
    is not partitioned (validated with the settings when they were loaded)."""
    return settings.partitions


def parse_partitions(declared: Any) -> list[Partition]:
    if not isinstance(declared, dict) or not declared:
        raise SettingsError(
            "partitions: expected a mapping of partition name to a list of township or "
            "county code prefixes"
        )
    partitions = []
    for name, prefixes in declared.items():
        if not isinstance(name, str) or not NAME.match(name):
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
            if not isinstance(prefix, str) or not PREFIX.match(prefix):
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


def owner_of(partitions: list[Partition], code: str | None) -> Partition | None:
    for partition in partitions:
        if partition.owns(code):
            return partition
    return None
