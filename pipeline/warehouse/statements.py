"""SQL that depends on a feed's declaration, composed from the registry.

Identifiers come from the validated registry (``^[a-z][a-z0-9_]*$``) and are
quoted; values are always bound parameters. Each function returns one statement.
"""

from __future__ import annotations

from pipeline.feeds.registry import FeedSpec, Reference

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


def reference_holds_sql(reference: Reference, registry: dict[str, FeedSpec]) -> str:
    """True for a row of ``staging.stg_<feed> as delivered`` that ``reference`` lets
    through: its field empty, or a target in force (with its ``same`` fields equal). A
    township's name compares keys (the macros of sql/linkage/place_keys.sql, installed in
    the judging connection)."""
    field = f"delivered.{quote(reference.field)}"
    target = registry[reference.feed]
    if reference.match == "township_name":
        return (
            f"(township_key({field}) is null or township_key({field}) in (select "
            f"township_key(target.{quote(reference.target)}) from {current_view(target)} as target))"
        )
    same = "".join(
        f" and target.{quote(theirs)} = delivered.{quote(ours)}"
        for ours, theirs in reference.same.items()
    )
    return (
        f"({field} is null or exists (select 1 from {current_view(target)} as target "
        f"where target.{quote(reference.target)} = {field}{same}))"
    )


def literal(text: str) -> str:
    """A string of the configuration (a feed's name, a reason) as an SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def current_view_sql(spec: FeedSpec, registry: dict[str, FeedSpec]) -> str:
    """The state in force: the newest snapshot that has rows, or the newest row per key of
    an increment; rows pointing at nothing in force (``references``) are left out."""
    table = staging_table(spec)
    conditions = []
    if spec.kind == "snapshot":
        # An empty or wholly quarantined snapshot does not wipe the state in force.
        conditions.append(
            f"delivery_date = (\n    select max(delivery_date) from meta.deliveries\n"
            f"    where feed = '{spec.feed}' and rows_loaded > 0\n)"
        )
    for reference in spec.references:
        if reference.match == "exact":
            conditions.append(reference_holds_sql(reference, registry))
        else:
            # Judged by name at load (the view holds no temporary macro): what it
            # quarantined is left out.
            conditions.append(
                "not exists (select 1 from meta.quarantine as judged "
                f"where judged.feed = {literal(spec.feed)} and judged.reason = {literal(reference.reason)} "
                "and judged.delivery_date = delivered.delivery_date "
                "and judged.file = delivered.source_file "
                "and judged.row = cast(delivered.source_row as varchar))"
            )
    where = ("\nwhere " + "\n    and ".join(conditions)) if conditions else ""
    qualify = ""
    if spec.kind == "increment":
        key = ", ".join(quote(field) for field in spec.key)
        qualify = (
            f"\nqualify row_number() over (\n"
            f"    partition by {key} order by delivery_date desc, source_row desc nulls last\n) = 1"
        )
    return (
        f"create or replace view {current_view(spec)} as\n"
        f"select delivered.* from {table} as delivered{where}{qualify}"
    )


def delete_delivery_sql(spec: FeedSpec) -> str:
    """A re-delivered date replaces everything that date's earlier delivery contributed."""
    return f"delete from {staging_table(spec)} where delivery_date = $delivery_date"


def delete_keys_sql(spec: FeedSpec) -> str:
    """Rows read again from a database view replace (or, quarantined now, remove) the
    earlier copy of the same key."""
    return (
        f"delete from {staging_table(spec)}\n"
        f"where cast({quote(spec.key[0])} as varchar) in ({REREAD_KEYS_SQL.format(key=quote(spec.key[0]))})"
    )


# The keys of a view's rows read again: those staged and those quarantined (by key).
REREAD_KEYS_SQL = (
    "select cast({key} as varchar) from read_parquet($rows_path) "
    "union all select row from read_parquet($quarantine_path)"
)


def insert_delivery_sql(spec: FeedSpec) -> str:
    return (
        f"insert into {staging_table(spec)} by name\n"
        f"select *, $delivery_date::date as delivery_date, $loaded_at::timestamp as loaded_at,\n"
        f"    $loaded_for_date::date as loaded_for_date\n"
        f"from read_parquet($rows_path)"
    )
