"""The DuckDB files of a partitioned run.

The district warehouse (``HOME/warehouse/warehouse.duckdb``) is loaded once, by the one
writer, as in an unpartitioned run. Each partition then has a file of its own,
``HOME/partitions/<name>/warehouse.duckdb``, that attaches the district warehouse
read-only as ``district`` and sees its feeds through views of the same names
(``staging.cur_<feed>``, ``staging.stg_<feed>``, ``meta.*``), cut to the partition's
townships: a feed with a village or township code by that code, a feed that references
another (members → households) by the rows it references. People's records (claims,
vehicles, enrolment…) are not cut: each partition joins them to its own households.
Signals, alerts, regional warnings and comparisons are the partition's own tables, built
by the same SQL steps as in an unpartitioned run, so many partitions run side by side.

The merge reads every partition's tables through ``union all`` views in an in-memory
database, under the same names again, so the district's files come from the same
queries as an unpartitioned run's.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline import sql
from pipeline.feeds.registry import FeedSpec
from pipeline.partitions.config import Partition
from pipeline.paths import Home
from pipeline.warehouse.ledger import WarehouseBusy, _open, quiet
from pipeline.warehouse.statements import quote

# The schemas a partition computes; everything else it reads from the district.
COMPUTED_SCHEMAS = ("signals", "alerts", "assistance", "regional", "comparisons")
# What a partition reads whole from the district: its bookkeeping, the leads as linked.
SHARED_SCHEMAS = ("meta", "linkage")
AREA_COLUMNS = ("village_code", "township_code")
DISTRICT = "district"


def literal(path: Path) -> str:
    """A file path as an SQL string literal (ATTACH takes no bound parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


def partition_file(home: Home, partition: str) -> Path:
    return home.root / "partitions" / partition / "warehouse.duckdb"


def _attach_district(connection: duckdb.DuckDBPyConnection, home: Home) -> None:
    try:
        connection.execute(
            f"attach if not exists {literal(home.warehouse)} as {DISTRICT} (read_only)"
        )
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusy(
                f"数仓 {home.warehouse} 正被另一个进程写入，分区暂无法读取；请稍后重试"
            ) from error
        raise


def _district_objects(connection: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = $catalog and table_schema = $schema order by table_name",
            {"catalog": DISTRICT, "schema": schema},
        ).fetchall()
    ]


def _cut(spec: FeedSpec, split: dict[str, FeedSpec], kind: str) -> str | None:
    """The condition that keeps a feed's rows of this partition, or None for every row."""
    area = [column.field for column in spec.columns if column.field in AREA_COLUMNS]
    if area:
        code = f"coalesce({', '.join(quote(field) for field in area)})"
        return f"exists (select 1 from scope.prefixes where starts_with({code}, prefix))"
    for reference in spec.references:
        # A name as said is no key to cut by (a lead's township): such a feed is not cut.
        if reference.match == "exact" and reference.feed in split:
            target = f"staging.{quote(kind + reference.feed)}"
            return f"{quote(reference.field)} in (select {quote(reference.target)} from {target})"
    return None


def _create_views(
    connection: duckdb.DuckDBPyConnection, partition: Partition, registry: dict[str, FeedSpec]
) -> None:
    connection.execute("create schema if not exists scope")
    connection.execute("create or replace table scope.prefixes (prefix varchar not null)")
    connection.executemany(
        "insert into scope.prefixes values (?)", [[prefix] for prefix in partition.prefixes]
    )
    connection.execute("create schema if not exists staging")
    # A feed is split by its own area column, or through the feed it references once that
    # one is split: in the order of the references.
    split: dict[str, FeedSpec] = {}
    conditions: dict[str, dict[str, str | None]] = {}
    for spec in sorted(registry.values(), key=lambda item: len(item.references)):
        conditions[spec.feed] = {kind: _cut(spec, split, kind) for kind in ("stg_", "cur_")}
        if conditions[spec.feed]["cur_"] is not None:
            split[spec.feed] = spec
    names = {kind + feed: (feed, kind) for feed in registry for kind in ("stg_", "cur_")}
    objects = _district_objects(connection, "staging")
    # Views that others read first: a cut view may read the cut households.
    objects.sort(key=lambda name: len(registry[names[name][0]].references) if name in names else 0)
    for name in objects:
        condition = conditions[names[name][0]][names[name][1]] if name in names else None
        where = f" where {condition}" if condition else ""
        connection.execute(
            f"create or replace view staging.{quote(name)} as "
            f"select * from {DISTRICT}.staging.{quote(name)}{where}"
        )
    # The bookkeeping, and the leads as linked once for the whole district, read as they are.
    for schema in SHARED_SCHEMAS:
        connection.execute(f"create schema if not exists {schema}")
        for name in _district_objects(connection, schema):
            connection.execute(
                f"create or replace view {schema}.{quote(name)} as "
                f"select * from {DISTRICT}.{schema}.{quote(name)}"
            )


def connect_partition(
    home: Home, partition: Partition, registry: dict[str, FeedSpec], *, wait_s: float = 120.0
) -> duckdb.DuckDBPyConnection:
    """A partition's own file for writing, the district warehouse attached read-only and
    seen through the partition's views."""
    path = partition_file(home, partition.name)
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    connection = _open(path, read_only=False, wait_s=wait_s)
    try:
        _attach_district(connection, home)
        _create_views(connection, partition, registry)
    except BaseException:
        connection.close()
        raise
    return connection


def connect_merged(home: Home, partitions: list[Partition]) -> duckdb.DuckDBPyConnection:
    """An in-memory database in which the partitions' tables read as one district's."""
    connection = quiet(duckdb.connect())
    try:
        _attach_district(connection, home)
        for schema in ("staging", *SHARED_SCHEMAS):
            connection.execute(f"create schema {schema}")
            for name in _district_objects(connection, schema):
                connection.execute(
                    f"create view {schema}.{quote(name)} as "
                    f"select * from {DISTRICT}.{schema}.{quote(name)}"
                )
        aliases = []
        for index, partition in enumerate(partitions):
            alias = f"part_{index}"
            path = partition_file(home, partition.name)
            connection.execute(f"attach {literal(path)} as {alias} (read_only)")
            aliases.append(alias)
        tables: dict[tuple[str, str], list[str]] = {}
        for alias in aliases:
            for schema, name in connection.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = $catalog and table_schema in "
                "(select unnest($schemas::varchar[])) and table_type = 'BASE TABLE'",
                {"catalog": alias, "schemas": list(COMPUTED_SCHEMAS)},
            ).fetchall():
                tables.setdefault((schema, name), []).append(alias)
        for schema in COMPUTED_SCHEMAS:
            connection.execute(f"create schema {schema}")
        for (schema, name), holders in sorted(tables.items()):
            union = "\nunion all by name\n".join(
                f"select * from {alias}.{schema}.{quote(name)}" for alias in holders
            )
            connection.execute(f"create view {schema}.{quote(name)} as {union}")
        if ("alerts", "alerts") in tables:
            # "open" over the district's alerts, as in an unpartitioned warehouse.
            sql.script(connection, "alerts/open")
    except BaseException:
        connection.close()
        raise
    return connection


def uncovered_townships(
    home: Home, partitions: list[Partition]
) -> list[tuple[str, str | None, int]]:
    """Townships of the registry in force that no partition owns: (code, name, households)."""
    connection = quiet(duckdb.connect())
    try:
        _attach_district(connection, home)
        connection.execute("create schema scope")
        connection.execute("create table scope.prefixes (prefix varchar not null)")
        connection.executemany(
            "insert into scope.prefixes values (?)",
            [[prefix] for partition in partitions for prefix in partition.prefixes],
        )
        return [
            (str(code), name, int(households))
            for code, name, households in sql.execute(
                connection, "partitions/uncovered_townships"
            ).fetchall()
        ]
    finally:
        connection.close()
