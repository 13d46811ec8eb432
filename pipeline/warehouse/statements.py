"""SQL that depends on a feed's declaration, composed from the registry.

Identifiers come from the validated registry (``^[a-z][a-z0-9_]*$``) and are
quoted; values are always bound parameters. Each function returns one statement.
"""

from __future__ import annotations

from pipeline.feeds.registry import FeedSpec

DUCKDB_TYPES = {
    "string": "varchar",
    "code": "varchar",
    "id_number": "varchar",
    "enum": "varchar",
    "date": "date",
    "amount": "decimal(18, 2)",
    "integer": "bigint",
}
LINEAGE_COLUMNS = {
    "source_file": "varchar",
    "source_row": "bigint",
    "delivery_date": "date",
    "loaded_at": "timestamp",
    "loaded_for_date": "date",
}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def staging_table(spec: FeedSpec) -> str:
    return f"staging.{quote('stg_' + spec.feed)}"


def current_view(spec: FeedSpec) -> str:
    return f"staging.{quote('cur_' + spec.feed)}"


def staging_columns(spec: FeedSpec) -> dict[str, str]:
    columns = {column.field: DUCKDB_TYPES[column.type] for column in spec.columns}
    return {**columns, **LINEAGE_COLUMNS}


def create_staging_table_sql(spec: FeedSpec) -> str:
    """Every loaded delivery of a feed, each row with its lineage."""
    columns = ",\n    ".join(
        f"{quote(name)} {kind}" for name, kind in staging_columns(spec).items()
    )
    return f"create table if not exists {staging_table(spec)} (\n    {columns}\n)"


def add_column_sql(spec: FeedSpec, name: str) -> str:
    """A column added to the feed's declaration after its table was created."""
    return f"alter table {staging_table(spec)} add column if not exists {quote(name)} {staging_columns(spec)[name]}"


def current_view_sql(spec: FeedSpec) -> str:
    """The state in force: the newest snapshot, or the newest row per key of an increment."""
    table = staging_table(spec)
    if spec.kind == "snapshot":
        return (
            f"create or replace view {current_view(spec)} as\n"
            f"select * from {table}\n"
            f"where delivery_date = (\n"
            f"    select max(delivery_date) from meta.deliveries where feed = '{spec.feed}'\n"
            f")"
        )
    key = ", ".join(quote(field) for field in spec.key)
    return (
        f"create or replace view {current_view(spec)} as\n"
        f"select * from {table}\n"
        f"qualify row_number() over (\n"
        f"    partition by {key} order by delivery_date desc, source_row desc nulls last\n"
        f") = 1"
    )


def delete_delivery_sql(spec: FeedSpec) -> str:
    """A re-delivered date replaces everything that date's earlier delivery contributed."""
    return f"delete from {staging_table(spec)} where delivery_date = $delivery_date"


def delete_merged_keys_sql(spec: FeedSpec) -> str:
    """Rows read again from a database view replace the earlier copy of the same key."""
    key = ", ".join(quote(field) for field in spec.key)
    return (
        f"delete from {staging_table(spec)}\n"
        f"where ({key}) in (select ({key}) from read_parquet($rows_path))"
    )


def insert_delivery_sql(spec: FeedSpec) -> str:
    return (
        f"insert into {staging_table(spec)} by name\n"
        f"select *, $delivery_date::date as delivery_date, $loaded_at::timestamp as loaded_at,\n"
        f"    $loaded_for_date::date as loaded_for_date\n"
        f"from read_parquet($rows_path)"
    )
