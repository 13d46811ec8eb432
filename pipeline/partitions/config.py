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

# What a partition is, and the parsing of the setting, live with the settings (one place
# for every setting); the rest of the partitioned run uses them from here.
from pipeline.settings import Partition, parse_partitions

__all__ = ["Partition", "owner_of", "parse_partitions"]


def owner_of(partitions: list[Partition], code: str | None) -> Partition | None:
    for partition in partitions:
        if partition.owns(code):
            return partition
    return None
